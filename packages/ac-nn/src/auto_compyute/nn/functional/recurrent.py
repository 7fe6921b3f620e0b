"""Recurrences of RNN, LSTM and GRU layers, each one fused ``Op`` over a whole sequence.

The input projection ``x W_ih^T + b`` does not depend on the hidden state, so callers
compute it for all time steps with one matrix product; what remains is the recurrence,
run by a loop over time inside ``forward`` (and a loop backwards in time inside
``backward``), with preallocated buffers and in-place NumPy/CuPy calls. One graph node
per layer and direction keeps long sequences fast and the graph shallow.

Gate order and equations follow PyTorch: LSTM ``i, f, g, o``; GRU ``r, z, n`` with
``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``.
"""

from __future__ import annotations

from auto_compyute import Tensor, zeros
from auto_compyute._core.autograd import Array, Op
from auto_compyute._core.devices import get_array_module

__all__ = [
    "gru_cell",
    "gru_recurrence",
    "lstm_cell",
    "lstm_recurrence",
    "rnn_cell",
    "rnn_recurrence",
]


def _sigmoid_(x: Array, xp: object) -> None:
    """sigmoid(x) in place, as 0.5 tanh(0.5 x) + 0.5 (cannot overflow)."""
    x *= 0.5
    xp.tanh(x, out=x)  # type: ignore[attr-defined]
    x *= 0.5
    x += 0.5


def _steps(length: int, reverse: bool) -> range:
    return range(length - 1, -1, -1) if reverse else range(length)


def _previous_hidden_grad(dgates: Array, out: Array, h0: Array, reverse: bool) -> Array:
    """sum_t dgates[t]^T @ h_{t-1}: the gradient of W_hh, as two large matrix products.

    In time order, the state before step ``t`` is ``out[t - 1]`` (``out[t + 1]`` when
    running in reverse) and ``h0`` before the first step.
    """
    length, batch, width = dgates.shape
    first, rest, prev = (length - 1, slice(0, length - 1), out[1:length]) if reverse else (
        0,
        slice(1, length),
        out[: length - 1],
    )
    dw = dgates[first].T @ h0
    if length > 1:
        hidden = prev.shape[-1]
        dw += dgates[rest].reshape(-1, width).T @ prev.reshape(-1, hidden)
    return dw


class LSTMRecurrence(Op):
    """LSTM over a sequence from precomputed input projections.

    Inputs: ``x_proj`` (T, B, 4H) = x W_ih^T + b_ih + b_hh, ``h0`` and ``c0`` (B, H),
    ``w_hh`` (4H, H). Output (T + 1, B, H): the hidden states h_t in input time order,
    then the final cell state c_T.

    With pre-activations a = x_proj_t + h_{t-1} W_hh^T split into i, f, g, o:
    c_t = σ(f) c_{t-1} + σ(i) tanh(g), h_t = σ(o) tanh(c_t). Backward runs the chain
    rule backwards in time: dc_{t-1} = dc_t σ(f), dh_{t-1} = da_t W_hh, and
    dW_hh = Σ_t da_t^T h_{t-1}.

    NOTE: a primitive for speed: one node and vectorized steps instead of ~15 ops per step.
    """

    def forward(self, x_proj: Array, h0: Array, c0: Array, w_hh: Array, *, reverse: bool) -> Array:
        xp = get_array_module(x_proj)
        length, batch, width = x_proj.shape
        hidden, dtype = width // 4, x_proj.dtype
        out = xp.empty((length + 1, batch, hidden), dtype=dtype)
        gates = xp.empty((length, batch, width), dtype=dtype)  # σ(i), σ(f), tanh(g), σ(o)
        cells = xp.empty((length, batch, hidden), dtype=dtype)  # c_t in time order
        tanh_cells = xp.empty_like(cells)
        scratch = xp.empty((batch, hidden), dtype=dtype)
        # NOTE: all four gates in one contiguous tanh: σ(a) = 0.5 tanh(0.5 a) + 0.5, so
        # per gate column tanh(scale a) * scale + shift with scale 0.5 (1 for g), shift 0.5 (0).
        scale = xp.full(width, 0.5, dtype=dtype)
        scale[2 * hidden : 3 * hidden] = 1
        shift = xp.full(width, 0.5, dtype=dtype)
        shift[2 * hidden : 3 * hidden] = 0
        w_hh_t = xp.ascontiguousarray(w_hh.T)  # NOTE: BLAS is faster on a contiguous operand
        h, c = h0, c0
        for t in _steps(length, reverse):
            a = gates[t]
            xp.matmul(h, w_hh_t, out=a)
            a += x_proj[t]
            a *= scale
            xp.tanh(a, out=a)
            a *= scale
            a += shift
            c_new = cells[t]
            xp.multiply(a[:, hidden : 2 * hidden], c, out=c_new)
            xp.multiply(a[:, :hidden], a[:, 2 * hidden : 3 * hidden], out=scratch)
            c_new += scratch
            xp.tanh(c_new, out=tanh_cells[t])
            h = out[t]
            xp.multiply(a[:, 3 * hidden :], tanh_cells[t], out=h)
            c = c_new
        out[length] = c
        self.gates, self.cells, self.tanh_cells, self.out = gates, cells, tanh_cells, out
        self.h0, self.c0, self.w_hh = h0, c0, w_hh
        return out

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        xp = get_array_module(grad)
        reverse = self.kwargs["reverse"]
        gates, cells, tanh_cells, out = self.gates, self.cells, self.tanh_cells, self.out
        length, batch, width = gates.shape
        hidden = width // 4
        # NOTE: every gate's local derivative at once, vectorized over time, before the loop.
        local = gates * (1 - gates)
        g = gates[:, :, 2 * hidden : 3 * hidden]
        local[:, :, 2 * hidden : 3 * hidden] = 1 - g * g
        tanh_local = 1 - tanh_cells * tanh_cells
        dgates = xp.empty_like(gates)
        dh = xp.zeros((batch, hidden), dtype=grad.dtype)
        dc = grad[length].copy()
        scratch = xp.empty_like(dh)
        steps = list(_steps(length, reverse))
        for k in range(length - 1, -1, -1):
            t = steps[k]
            a, da = gates[t], dgates[t]
            c_prev = cells[steps[k - 1]] if k else self.c0
            dh += grad[t]
            xp.multiply(dh, a[:, 3 * hidden :], out=scratch)
            scratch *= tanh_local[t]
            dc += scratch
            xp.multiply(dc, a[:, 2 * hidden : 3 * hidden], out=da[:, :hidden])
            xp.multiply(dc, c_prev, out=da[:, hidden : 2 * hidden])
            xp.multiply(dc, a[:, :hidden], out=da[:, 2 * hidden : 3 * hidden])
            xp.multiply(dh, tanh_cells[t], out=da[:, 3 * hidden :])
            da *= local[t]
            dc *= a[:, hidden : 2 * hidden]
            if k or self.needs_grad[1]:
                xp.matmul(da, self.w_hh, out=dh)
        needs_x, needs_h0, needs_c0, needs_w = self.needs_grad
        dw = _previous_hidden_grad(dgates, out, self.h0, reverse) if needs_w else None
        return (
            dgates if needs_x else None,
            dh if needs_h0 else None,
            dc if needs_c0 else None,
            dw,
        )


class GRURecurrence(Op):
    """GRU over a sequence from precomputed input projections.

    Inputs: ``x_proj`` (T, B, 3H) = x W_ih^T + b_ih, ``h0`` (B, H), ``w_hh`` (3H, H) and
    optionally ``b_hh`` (3H). Output (T, B, H): the hidden states in input time order.

    With u = h_{t-1} W_hh^T + b_hh: r = σ(x_r + u_r), z = σ(x_z + u_z),
    n = tanh(x_n + r u_n), h_t = (1 - z) n + z h_{t-1}. Backward: dn = dh (1 - z),
    dz = dh (h_{t-1} - n), du_n = dn_pre r, dr = dn_pre u_n, and
    dh_{t-1} = dh z + du W_hh.

    NOTE: a primitive for speed, like ``LSTMRecurrence``.
    """

    def forward(
        self, x_proj: Array, h0: Array, w_hh: Array, b_hh: Array | None = None, *, reverse: bool
    ) -> Array:
        xp = get_array_module(x_proj)
        length, batch, width = x_proj.shape
        hidden, dtype = width // 3, x_proj.dtype
        out = xp.empty((length, batch, hidden), dtype=dtype)
        rz_all = xp.empty((length, batch, 2 * hidden), dtype=dtype)  # σ(r), σ(z)
        n_all = xp.empty((length, batch, hidden), dtype=dtype)
        u_all = xp.empty((length, batch, width), dtype=dtype)  # h_{t-1} W_hh^T + b_hh
        w_hh_t = xp.ascontiguousarray(w_hh.T)
        h = h0
        for t in _steps(length, reverse):
            x, u, rz, n = x_proj[t], u_all[t], rz_all[t], n_all[t]
            xp.matmul(h, w_hh_t, out=u)
            if b_hh is not None:
                u += b_hh
            xp.add(x[:, : 2 * hidden], u[:, : 2 * hidden], out=rz)
            _sigmoid_(rz, xp)
            xp.multiply(rz[:, :hidden], u[:, 2 * hidden :], out=n)
            n += x[:, 2 * hidden :]
            xp.tanh(n, out=n)
            h_new = out[t]
            xp.subtract(h, n, out=h_new)
            h_new *= rz[:, hidden:]
            h_new += n
            h = h_new
        self.rz, self.n, self.u, self.out, self.h0, self.w_hh = rz_all, n_all, u_all, out, h0, w_hh
        return out

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        xp = get_array_module(grad)
        reverse = self.kwargs["reverse"]
        rz_all, n_all, u_all, out, h0 = self.rz, self.n, self.u, self.out, self.h0
        length, batch, hidden = out.shape
        local_rz = rz_all * (1 - rz_all)
        local_n = 1 - n_all * n_all
        # NOTE: h_{t-1} - n_t for every step at once (dz = dh (h_{t-1} - n_t)).
        prev_minus_n = xp.empty_like(n_all)
        first = length - 1 if reverse else 0
        if reverse:
            xp.subtract(out[1:], n_all[:-1], out=prev_minus_n[:-1])
        else:
            xp.subtract(out[:-1], n_all[1:], out=prev_minus_n[1:])
        xp.subtract(h0, n_all[first], out=prev_minus_n[first])
        dgates = xp.empty((length, batch, 3 * hidden), dtype=grad.dtype)
        dhidden = xp.empty_like(dgates)
        dh = xp.zeros((batch, hidden), dtype=grad.dtype)
        carried = xp.empty_like(dh)
        steps = list(_steps(length, reverse))
        for k in range(length - 1, -1, -1):
            t = steps[k]
            rz, da, du = rz_all[t], dgates[t], dhidden[t]
            dh += grad[t]
            xp.multiply(dh, prev_minus_n[t], out=da[:, hidden : 2 * hidden])
            xp.multiply(dh, rz[:, hidden:], out=carried)
            dn = da[:, 2 * hidden :]
            xp.subtract(dh, carried, out=dn)
            dn *= local_n[t]
            xp.multiply(dn, u_all[t, :, 2 * hidden :], out=da[:, :hidden])
            da[:, : 2 * hidden] *= local_rz[t]
            du[:, : 2 * hidden] = da[:, : 2 * hidden]
            xp.multiply(dn, rz[:, :hidden], out=du[:, 2 * hidden :])
            if k or self.needs_grad[1]:
                xp.matmul(du, self.w_hh, out=dh)
                dh += carried
        needs = self.needs_grad
        dw = _previous_hidden_grad(dhidden, out, h0, reverse) if needs[2] else None
        grads = [dgates if needs[0] else None, dh if needs[1] else None, dw]
        if len(needs) == 4:
            grads.append(dhidden.sum(axis=(0, 1)) if needs[3] else None)
        return tuple(grads)


class RNNRecurrence(Op):
    """Elman RNN over a sequence from precomputed input projections.

    Inputs: ``x_proj`` (T, B, H) = x W_ih^T + b_ih + b_hh, ``h0`` (B, H), ``w_hh`` (H, H).
    Output (T, B, H): h_t = act(x_proj_t + h_{t-1} W_hh^T), act = tanh or relu.
    Backward: da_t = dh_t act'(a_t), dh_{t-1} = da_t W_hh, dW_hh = Σ_t da_t^T h_{t-1}.

    NOTE: a primitive for speed, like ``LSTMRecurrence``.
    """

    def forward(self, x_proj: Array, h0: Array, w_hh: Array, *, nonlinearity: str, reverse: bool) -> Array:
        xp = get_array_module(x_proj)
        out = xp.empty_like(x_proj)
        w_hh_t = xp.ascontiguousarray(w_hh.T)
        relu = nonlinearity == "relu"
        h = h0
        for t in _steps(x_proj.shape[0], reverse):
            h_new = out[t]
            xp.matmul(h, w_hh_t, out=h_new)
            h_new += x_proj[t]
            if relu:
                xp.maximum(h_new, 0, out=h_new)
            else:
                xp.tanh(h_new, out=h_new)
            h = h_new
        self.out, self.h0, self.w_hh = out, h0, w_hh
        return out

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        xp = get_array_module(grad)
        reverse, out = self.kwargs["reverse"], self.out
        local = (out > 0).astype(out.dtype) if self.kwargs["nonlinearity"] == "relu" else 1 - out * out
        length, batch, hidden = out.shape
        dpre = xp.empty_like(out)
        dh = xp.zeros((batch, hidden), dtype=grad.dtype)
        steps = list(_steps(length, reverse))
        for k in range(length - 1, -1, -1):
            t = steps[k]
            dh += grad[t]
            da = dpre[t]
            xp.multiply(dh, local[t], out=da)
            if k or self.needs_grad[1]:
                xp.matmul(da, self.w_hh, out=dh)
        needs_x, needs_h0, needs_w = self.needs_grad
        dw = _previous_hidden_grad(dpre, out, self.h0, reverse) if needs_w else None
        return dpre if needs_x else None, dh if needs_h0 else None, dw


def _check(name: str, x_proj: Tensor, states: dict[str, Tensor], weight_hh: Tensor, gates: int) -> int:
    """Validate shapes and dtypes of a recurrence's inputs; return the hidden size."""
    if x_proj.ndim != 3:
        raise ValueError(
            f"{name}: x_proj must have shape (seq_len, batch, {gates} * hidden), got {x_proj.shape}"
        )
    hidden = weight_hh.shape[-1]
    if weight_hh.shape != (gates * hidden, hidden) or x_proj.shape[-1] != gates * hidden:
        raise ValueError(
            f"{name}: weight_hh must have shape ({gates} * hidden, hidden) and x_proj last size "
            f"{gates} * hidden; got weight_hh {weight_hh.shape} and x_proj {x_proj.shape}"
        )
    for key, state in states.items():
        if state.shape != (x_proj.shape[1], hidden):
            raise ValueError(
                f"{name}: {key} must have shape (batch, hidden) = {(x_proj.shape[1], hidden)}, "
                f"got {state.shape}"
            )
    for key, tensor in {"weight_hh": weight_hh, **states}.items():
        if tensor.dtype != x_proj.dtype:
            raise TypeError(
                f"{name}: {key} has dtype {tensor.dtype} but x_proj has dtype {x_proj.dtype}"
            )
    return hidden


def _zeros_state(x_proj: Tensor, hidden: int) -> Tensor:
    return zeros(x_proj.shape[1], hidden, dtype=x_proj.dtype, device=x_proj.device)


def lstm_recurrence(
    x_proj: Tensor,
    h0: Tensor | None,
    c0: Tensor | None,
    weight_hh: Tensor,
    reverse: bool = False,
) -> tuple[Tensor, Tensor, Tensor]:
    """Run the LSTM recurrence over a sequence of precomputed input projections.

    Args:
        x_proj: ``x @ weight_ih.T + bias_ih + bias_hh``, shape (seq_len, batch, 4 * hidden),
            gates in PyTorch's order i, f, g, o.
        h0: Initial hidden state (batch, hidden), or None for zeros.
        c0: Initial cell state (batch, hidden), or None for zeros.
        weight_hh: Hidden-to-hidden weights (4 * hidden, hidden).
        reverse: Run from the last time step to the first (the backward direction of a
            bidirectional layer); outputs stay in input time order.

    Returns:
        ``(output, h_n, c_n)``: all hidden states (seq_len, batch, hidden) and the final
        hidden and cell states (batch, hidden).

    Example:
        >>> x_proj = ac.randn(5, 2, 4 * 3)  # seq_len 5, batch 2, hidden 3
        >>> out, h, c = F.lstm_recurrence(x_proj, None, None, ac.randn(12, 3))
        >>> out.shape, h.shape
        ((5, 2, 3), (2, 3))
    """
    hidden = weight_hh.shape[-1]
    h0 = _zeros_state(x_proj, hidden) if h0 is None else h0
    c0 = _zeros_state(x_proj, hidden) if c0 is None else c0
    _check("lstm_recurrence", x_proj, {"h0": h0, "c0": c0}, weight_hh, 4)
    length = x_proj.shape[0]
    if length == 0:
        raise ValueError("lstm_recurrence: the sequence is empty (seq_len 0)")
    result = LSTMRecurrence.apply(x_proj, h0, c0, weight_hh, reverse=reverse)
    return result[:length], result[0 if reverse else length - 1], result[length]


def gru_recurrence(
    x_proj: Tensor,
    h0: Tensor | None,
    weight_hh: Tensor,
    bias_hh: Tensor | None = None,
    reverse: bool = False,
) -> tuple[Tensor, Tensor]:
    """Run the GRU recurrence over a sequence of precomputed input projections.

    Args:
        x_proj: ``x @ weight_ih.T + bias_ih``, shape (seq_len, batch, 3 * hidden), gates in
            PyTorch's order r, z, n.
        h0: Initial hidden state (batch, hidden), or None for zeros.
        weight_hh: Hidden-to-hidden weights (3 * hidden, hidden).
        bias_hh: Hidden-to-hidden bias (3 * hidden) or None; it cannot be folded into
            ``x_proj`` because ``r`` multiplies its ``n`` part.
        reverse: Run from the last time step to the first; outputs stay in time order.

    Returns:
        ``(output, h_n)``: all hidden states (seq_len, batch, hidden) and the final one.
    """
    hidden = weight_hh.shape[-1]
    h0 = _zeros_state(x_proj, hidden) if h0 is None else h0
    _check("gru_recurrence", x_proj, {"h0": h0}, weight_hh, 3)
    if x_proj.shape[0] == 0:
        raise ValueError("gru_recurrence: the sequence is empty (seq_len 0)")
    if bias_hh is not None and bias_hh.shape != (3 * hidden,):
        raise ValueError(f"gru_recurrence: bias_hh must have shape ({3 * hidden},), got {bias_hh.shape}")
    inputs = (x_proj, h0, weight_hh) if bias_hh is None else (x_proj, h0, weight_hh, bias_hh)
    out = GRURecurrence.apply(*inputs, reverse=reverse)
    return out, out[0 if reverse else x_proj.shape[0] - 1]


def rnn_recurrence(
    x_proj: Tensor,
    h0: Tensor | None,
    weight_hh: Tensor,
    nonlinearity: str = "tanh",
    reverse: bool = False,
) -> tuple[Tensor, Tensor]:
    """Run the Elman RNN recurrence ``h_t = act(x_proj_t + h_{t-1} W_hh^T)``.

    Args:
        x_proj: ``x @ weight_ih.T + bias_ih + bias_hh``, shape (seq_len, batch, hidden).
        h0: Initial hidden state (batch, hidden), or None for zeros.
        weight_hh: Hidden-to-hidden weights (hidden, hidden).
        nonlinearity: ``"tanh"`` or ``"relu"``.
        reverse: Run from the last time step to the first; outputs stay in time order.

    Returns:
        ``(output, h_n)``: all hidden states (seq_len, batch, hidden) and the final one.
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    hidden = weight_hh.shape[-1]
    h0 = _zeros_state(x_proj, hidden) if h0 is None else h0
    _check("rnn_recurrence", x_proj, {"h0": h0}, weight_hh, 1)
    if x_proj.shape[0] == 0:
        raise ValueError("rnn_recurrence: the sequence is empty (seq_len 0)")
    out = RNNRecurrence.apply(x_proj, h0, weight_hh, nonlinearity=nonlinearity, reverse=reverse)
    return out, out[0 if reverse else x_proj.shape[0] - 1]


def _project(x: Tensor, weight: Tensor, *biases: Tensor | None) -> Tensor:
    """x @ weight.T plus the biases that are given."""
    result = x @ weight.T
    for bias in biases:
        if bias is not None:
            result = result + bias
    return result


def _cell_input(name: str, x: Tensor, hx: Tensor | None) -> tuple[Tensor, Tensor | None, bool]:
    """Give a cell's input and state a batch axis if they are unbatched (1-D)."""
    if x.ndim not in (1, 2):
        raise ValueError(f"{name}: input must be 1-D (features) or 2-D (batch, features), got {x.shape}")
    unbatched = x.ndim == 1
    if unbatched:
        x = x.unsqueeze(0)
        hx = None if hx is None else hx.unsqueeze(0)
    return x, hx, unbatched


def lstm_cell(
    input: Tensor,  # noqa: A002  (PyTorch's name)
    hx: Tensor | None,
    cx: Tensor | None,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """One LSTM step: ``(h', c')`` from input (batch, in) and states (batch, hidden).

    Args:
        input: Input (batch, input_size) or (input_size,).
        hx: Hidden state, or None for zeros.
        cx: Cell state, or None for zeros.
        weight_ih: (4 * hidden, input_size); gates i, f, g, o.
        weight_hh: (4 * hidden, hidden).
        bias_ih: (4 * hidden) or None.
        bias_hh: (4 * hidden) or None.

    Returns:
        The next hidden and cell states.
    """
    x, hx, unbatched = _cell_input("lstm_cell", input, hx)
    if unbatched and cx is not None:
        cx = cx.unsqueeze(0)
    x_proj = _project(x, weight_ih, bias_ih, bias_hh).unsqueeze(0)
    _, h, c = lstm_recurrence(x_proj, hx, cx, weight_hh)
    return (h[0], c[0]) if unbatched else (h, c)


def gru_cell(
    input: Tensor,  # noqa: A002
    hx: Tensor | None,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
) -> Tensor:
    """One GRU step: the next hidden state from input (batch, in) and ``hx`` (batch, hidden).

    Args:
        input: Input (batch, input_size) or (input_size,).
        hx: Hidden state, or None for zeros.
        weight_ih: (3 * hidden, input_size); gates r, z, n.
        weight_hh: (3 * hidden, hidden).
        bias_ih: (3 * hidden) or None.
        bias_hh: (3 * hidden) or None.

    Returns:
        The next hidden state.
    """
    x, hx, unbatched = _cell_input("gru_cell", input, hx)
    x_proj = _project(x, weight_ih, bias_ih).unsqueeze(0)
    _, h = gru_recurrence(x_proj, hx, weight_hh, bias_hh)
    return h[0] if unbatched else h


def rnn_cell(
    input: Tensor,  # noqa: A002
    hx: Tensor | None,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
    nonlinearity: str = "tanh",
) -> Tensor:
    """One Elman RNN step: ``act(input W_ih^T + b_ih + hx W_hh^T + b_hh)``.

    Args:
        input: Input (batch, input_size) or (input_size,).
        hx: Hidden state, or None for zeros.
        weight_ih: (hidden, input_size).
        weight_hh: (hidden, hidden).
        bias_ih: (hidden) or None.
        bias_hh: (hidden) or None.
        nonlinearity: ``"tanh"`` or ``"relu"``.

    Returns:
        The next hidden state.
    """
    x, hx, unbatched = _cell_input("rnn_cell", input, hx)
    x_proj = _project(x, weight_ih, bias_ih, bias_hh).unsqueeze(0)
    _, h = rnn_recurrence(x_proj, hx, weight_hh, nonlinearity)
    return h[0] if unbatched else h
