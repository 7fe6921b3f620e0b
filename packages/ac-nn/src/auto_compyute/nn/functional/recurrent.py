"""RNN, LSTM and GRU layers (one direction each), each one fused ``Op`` over a whole sequence.

Forward projects the inputs of all time steps with one matrix product (they do not
depend on the hidden state), then loops over time with preallocated buffers and
in-place NumPy/CuPy calls; backward loops backwards in time and finishes the weight
gradients with one large product each. One graph node per layer and direction keeps
long sequences fast, the graph shallow and the memory small.

Gate order and equations follow PyTorch: LSTM ``i, f, g, o``; GRU ``r, z, n`` with
``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``.

Every layer op takes ``batch_sizes``, the number of sequences still running at each time
step (a batch sorted by decreasing length, as in a ``PackedSequence``): at a step past its
end a sequence keeps its state, so that the final states are those of each sequence's own
last step, in either direction.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any, cast

from auto_compyute import Tensor, zeros
from auto_compyute._core.autograd import Array, Op
from auto_compyute._core.autograd import grad as autograd_grad
from auto_compyute._core.blas import sum_by_product, transpose
from auto_compyute._core.devices import get_array_module
from auto_compyute._core.functions import cat, stack

__all__ = ["gru_cell", "gru_layer", "lstm_cell", "lstm_layer", "rnn_cell", "rnn_layer"]


# NOTE: the number of steps whose gate gradients LSTM's backward gathers before copying
_COPY_STEPS = 8


def _steps(length: int, reverse: bool) -> list[int]:
    """Time indices in processing order."""
    return list(range(length - 1, -1, -1) if reverse else range(length))


def _running(batch_sizes: tuple[int, ...] | None, batch: int) -> list[int] | None:
    """Sequences running at each step, or None when all run at every step."""
    if batch_sizes is None or min(batch_sizes) == batch:
        return None
    return list(batch_sizes)


def _project(xp: Any, x: Array, w_ih: Array, bias: Array | None, out: Array) -> Array:
    """out (T, B, G) = x (T, B, I) @ w_ih^T + bias; returns x as a 2-D (T*B, I) array."""
    length, batch, width = x.shape
    x2d = x.reshape(length * batch, width)
    xp.matmul(x2d, w_ih.T, out=out.reshape(length * batch, out.shape[-1]))
    if bias is not None:
        out += bias
    return x2d


def _previous_hidden_grad(dgates: Array, out: Array, h0: Array, reverse: bool) -> Array:
    """Σ_t dgates_t^T @ h_{t-1}, the gradient of W_hh, as two large matrix products.

    ``dgates`` is (T * B, G), time-major rows (possibly a transposed view); ``out`` holds
    the hidden states (T, B, H) in time order. The state before step ``t`` is ``out[t - 1]``
    (``out[t + 1]`` when running in reverse) and ``h0`` before the first step.
    """
    batch = h0.shape[0]
    length = dgates.shape[0] // batch
    if reverse:
        first, rest, previous = dgates[-batch:], dgates[:-batch], out[1:length]
    else:
        first, rest, previous = dgates[:batch], dgates[batch:], out[: length - 1]
    dw = first.T @ h0
    if length > 1:
        dw += rest.T @ previous.reshape(-1, previous.shape[-1])
    return dw


class _Link(Op):
    """The identity, at which a nested ``graph_backward`` of a layer op stops.

    NOTE: the gradients of a layer's replayed recurrence are taken with respect to these
    links, not to the op's inputs themselves: the engine would otherwise walk on past the
    inputs into the graph that made them. While ``stop`` is set, ``graph_backward`` passes
    nothing on; afterwards the link is an ordinary identity in the recorded gradients.
    """

    stop = False

    def forward(self, x: Array) -> Array:
        return x

    def backward(self, grad: Array) -> Array:
        return grad

    def graph_backward(self, grad: Tensor) -> Tensor | tuple[None]:
        return (None,) if self.stop else grad


class _FusedLayer(Op):
    """What the three layer ops share: the input projection's gradients and the
    differentiable backward."""

    w_ih_index: int  # position of w_ih among the op's inputs
    x2d: Array  # the input as (T * B, I), kept by forward
    w_ih: Array

    def _input_grads(self, d2d: Array, x_shape: tuple[int, ...]) -> list[Array | None]:
        """Gradients of the input and of W_ih from the pre-activation gradients (T * B, G)."""
        dx = (d2d @ self.w_ih).reshape(x_shape) if self.needs_grad[0] else None
        dw_ih = d2d.T @ self.x2d if self.needs_grad[self.w_ih_index] else None
        return [dx, dw_ih]

    def _kept_inputs(self) -> list[Array]:
        """The input arrays as given to forward, from what forward kept."""
        raise NotImplementedError

    def _replay(self, inputs: list[Tensor]) -> Tensor:
        """The op's result computed again from ``inputs`` with tensor ops, step by step."""
        raise NotImplementedError

    def graph_backward(self, grad: Tensor) -> tuple[Tensor | None, ...]:
        """Replay the recurrence with tensor ops on the inputs and differentiate the replay
        with ``create_graph=True``: slow, but every gradient is then a graph of the inputs
        and of ``grad``, and the same as ``backward``'s up to rounding."""
        inputs = [self._input(i, a) for i, a in enumerate(self._kept_inputs())]
        needs = self.needs_grad
        links = {i: _Link.apply(t) for i, t in enumerate(inputs) if needs[i]}
        replayed = self._replay([links.get(i, t) for i, t in enumerate(inputs)])
        stops = [cast(_Link, link.ctx) for link in links.values()]
        for op in stops:
            op.stop = True
        try:
            found = autograd_grad(
                replayed, list(links.values()), grad, create_graph=True, allow_unused=True
            )
        finally:
            for op in stops:
                op.stop = False
        grads = iter(found)
        return tuple(next(grads) if needed else None for needed in self.needs_grad)


class LSTMLayer(_FusedLayer):
    """One LSTM layer in one direction over a whole sequence.

    Inputs: ``x`` (T, B, I), ``h0`` and ``c0`` (B, H), ``w_ih`` (4H, I), ``w_hh`` (4H, H)
    and optionally ``bias`` (4H) = b_ih + b_hh. Output (T + 1, B, H): the hidden states
    h_t in input time order, then the final cell state c_T.

    With a projection ``w_hr`` (P, H) (after ``bias``, always given then), the hidden state
    is h_t = W_hr (σ(o) tanh(c_t)) of size P, ``h0`` is (B, P) and ``w_hh`` (4H, P); the
    output is then flat: the hidden states (T, B, P), then c_T (B, H). Backward adds
    dW_hr = Σ_t dh_t^T m_t with m_t = σ(o) tanh(c_t), and dm_t = dh_t W_hr.

    With a_t = x_t W_ih^T + bias + h_{t-1} W_hh^T split into i, f, g, o:
    c_t = σ(f) c_{t-1} + σ(i) tanh(g), h_t = σ(o) tanh(c_t). Backward runs backwards in
    time: dc_{t-1} = dc_t σ(f), dh_{t-1} = da_t W_hh; then dW_hh = Σ_t da_t^T h_{t-1},
    dW_ih = Σ_t da_t^T x_t, dbias = Σ_t da_t, dx_t = da_t W_ih.

    NOTE: a primitive for speed: one node and a few vectorized calls per step instead of
    ~15 ops per step. The time loops work on transposed states, one column per batch
    element (gates (4H, B), h and c (H, B)): each gate is then a contiguous block of rows,
    and NumPy's elementwise calls on contiguous blocks are several times faster than on
    the column slices of (B, 4H) rows; ``W_hh @ h`` is also faster than ``h @ W_hh^T``.
    Inside, the gates come in the order i, f, o, g (see ``_ifog``).
    """

    w_ih_index = 3

    def forward(
        self,
        x: Array,
        h0: Array,
        c0: Array,
        w_ih: Array,
        w_hh: Array,
        bias: Array | None = None,
        w_hr: Array | None = None,
        *,
        reverse: bool,
        batch_sizes: tuple[int, ...] | None = None,
    ) -> Array:
        xp = get_array_module(x)
        length, batch, inp = x.shape
        running = _running(batch_sizes, batch)
        width, state, dtype = w_hh.shape[0], w_hh.shape[1], x.dtype
        hidden = width // 4
        # NOTE: each step is one product [W_ih W_hh bias] @ [x_t; h_{t-1}; 1], whose result
        # lands in the step's gates: no separate input projection or additions. Column
        # t of ``stacked`` feeds step t (t + 1 when reversed), and step t writes h_t into the
        # next step's slot, so that ``stacked`` also keeps every hidden state.
        w_ih, w_hh = _ifog(w_ih), _ifog(w_hh)  # kept in this order for backward too
        weights = xp.empty((width, inp + state + 1), dtype=dtype)
        weights[:, :inp], weights[:, inp:-1] = w_ih, w_hh
        weights[:, -1] = 0 if bias is None else _ifog(bias)
        # NOTE: all four gates in one contiguous tanh: σ(a) = 0.5 tanh(0.5 a) + 0.5, so the
        # rows of i, f and o are scaled by 0.5 here, and their tanh is halved and shifted.
        weights[: 3 * hidden] *= 0.5
        stacked = xp.empty((length + 1, inp + state + 1, batch), dtype=dtype)
        (stacked[1:] if reverse else stacked[:length])[:, :inp] = x.transpose(0, 2, 1)
        stacked[:, -1] = 1
        stacked[length if reverse else 0, inp:-1] = h0.T
        gates = xp.empty((length, width, batch), dtype=dtype)  # σ(i), σ(f), σ(o), tanh(g)
        cells = xp.empty((length, hidden, batch), dtype=dtype)  # c_t in time order
        tanh_cells = xp.empty_like(cells)
        product = xp.empty((hidden, batch), dtype=dtype)
        # m_t = σ(o) tanh(c_t), the hidden state before the projection
        unprojected = None if w_hr is None else xp.empty((length, hidden, batch), dtype=dtype)
        c = xp.ascontiguousarray(c0.T)
        for t in _steps(length, reverse):
            a = gates[t]
            xp.matmul(weights, stacked[t + 1 if reverse else t], out=a)
            xp.tanh(a, out=a)
            sigmoids = a[: 3 * hidden]
            sigmoids *= 0.5
            sigmoids += 0.5
            c_new = cells[t]
            xp.multiply(a[hidden : 2 * hidden], c, out=c_new)
            xp.multiply(a[:hidden], a[3 * hidden :], out=product)
            c_new += product
            xp.tanh(c_new, out=tanh_cells[t])
            h = stacked[t if reverse else t + 1, inp:-1]
            if unprojected is None:
                xp.multiply(a[2 * hidden : 3 * hidden], tanh_cells[t], out=h)
            else:
                xp.multiply(a[2 * hidden : 3 * hidden], tanh_cells[t], out=unprojected[t])
                xp.matmul(w_hr, unprojected[t], out=h)
            if running is not None and running[t] < batch:
                n = running[t]
                c_new[:, n:] = c[:, n:]
                h[:, n:] = stacked[t + 1 if reverse else t, inp:-1, n:]
            c = c_new
        hs = (stacked[:length] if reverse else stacked[1:])[:, inp:-1].transpose(0, 2, 1)
        if w_hr is None:
            out = xp.empty((length + 1, batch, hidden), dtype=dtype)
            out[:length] = hs
            out[length] = c.T
            self.out = out
        else:
            out = xp.empty(length * batch * state + batch * hidden, dtype=dtype)
            self.out = out[: length * batch * state].reshape(length, batch, state)
            self.out[:] = hs
            out[length * batch * state :].reshape(batch, hidden)[:] = c.T
        self.x2d = x.reshape(length * batch, inp)
        self.gates, self.cells, self.tanh_cells = gates, cells, tanh_cells
        self.h0, self.c0, self.w_ih, self.w_hh = h0, c0, w_ih, w_hh
        self.bias, self.w_hr, self.unprojected = bias, w_hr, unprojected
        return out

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        xp = get_array_module(grad)
        reverse = self.kwargs["reverse"]
        gates, cells, tanh_cells = self.gates, self.cells, self.tanh_cells
        length, width, batch = gates.shape
        running = _running(self.kwargs.get("batch_sizes"), batch)
        hidden, state = width // 4, self.w_hh.shape[1]
        w_hr, unprojected = self.w_hr, self.unprojected
        if w_hr is None:
            grad_c, grad_h = grad[length], grad[:length]
        else:
            grad_h = grad[: length * batch * state].reshape(length, batch, state)
            grad_c = grad[length * batch * state :].reshape(batch, hidden)
            dhs = xp.empty((length, state, batch), dtype=grad.dtype)  # dh_t, for dW_hr
            dm = xp.empty((hidden, batch), dtype=grad.dtype)
            w_hr_t = transpose(w_hr)
        # NOTE: each step computes its gate gradient da (4H, B) in place in ``recent``, whose
        # steps are copied into their column blocks of dgates, the (4H, T * B) matrix the
        # large products after the loop take, every _COPY_STEPS steps: one strided copy
        # per step ran 3-4% of the LSTM step slower, one copy of all steps at the end
        # cost a second dgates of memory.
        dgates = xp.empty((width, length, batch), dtype=grad.dtype)
        recent = xp.empty((min(length, _COPY_STEPS), width, batch), dtype=grad.dtype)
        dh = xp.zeros((state, batch), dtype=grad.dtype)
        dc = xp.ascontiguousarray(grad_c.T)
        # NOTE: the output's gradient is often zero at most steps (a classifier on the last
        # output): one pass finds the steps where it is not, and only those are added
        # (transposed in place); a transposed copy of all steps pays when all are nonzero
        nonzero = _nonzero_rows(grad_h.reshape(length, -1))
        grad_states = grad_h.transpose(0, 2, 1)
        if all(nonzero):
            grad_states = xp.ascontiguousarray(grad_states)
        c0 = xp.ascontiguousarray(self.c0.T)
        local = xp.empty((width, batch), dtype=grad.dtype)
        local_ifo, local_g = local[: 3 * hidden], local[3 * hidden :]
        scratch = xp.empty((hidden, batch), dtype=grad.dtype)
        w_hh_t = transpose(self.w_hh)
        steps = _steps(length, reverse)
        for k in range(length - 1, -1, -1):
            t = steps[k]
            a, tanh_c, da = gates[t], tanh_cells[t], recent[t % _COPY_STEPS]
            sigmoids, g = a[: 3 * hidden], a[3 * hidden :]
            i, f, o = a[:hidden], a[hidden : 2 * hidden], a[2 * hidden : 3 * hidden]
            c_prev = cells[steps[k - 1]] if k else c0
            # local derivatives: σ' = σ (1 - σ) for i, f, o and tanh' = 1 - g^2 for g
            xp.subtract(1, sigmoids, out=local_ifo)
            local_ifo *= sigmoids
            xp.multiply(g, g, out=local_g)
            xp.subtract(1, local_g, out=local_g)
            if nonzero[t]:
                dh += grad_states[t]
            # NOTE: past a sequence's end its states pass through unchanged: their
            # gradients are kept aside and restored, and its gate gradients are zero
            n = batch if running is None else running[t]
            ended = n < batch
            if ended:
                kept_h, kept_c = dh[:, n:].copy(), dc[:, n:].copy()
            dm_t = dh
            if w_hr is not None:
                dhs[t] = dh
                if ended:
                    dhs[t, :, n:] = 0
                dm_t = xp.matmul(w_hr_t, dhs[t], out=dm)
            xp.multiply(tanh_c, tanh_c, out=scratch)
            xp.subtract(1, scratch, out=scratch)
            scratch *= o
            scratch *= dm_t
            dc += scratch
            xp.multiply(dc, g, out=da[:hidden])
            xp.multiply(dc, c_prev, out=da[hidden : 2 * hidden])
            xp.multiply(dm_t, tanh_c, out=da[2 * hidden : 3 * hidden])
            xp.multiply(dc, i, out=da[3 * hidden :])
            da *= local
            dc *= f
            if ended:
                da[:, n:] = 0
                dc[:, n:] = kept_c
            if k == 0 or steps[k - 1] // _COPY_STEPS != t // _COPY_STEPS:
                first = t - t % _COPY_STEPS
                last = min(first + _COPY_STEPS, length)
                dgates[:, first:last] = recent[: last - first].transpose(1, 0, 2)
            if k or self.needs_grad[1]:
                xp.matmul(w_hh_t, da, out=dh)
            if ended:
                dh[:, n:] = kept_h
        needs = self.needs_grad
        d2d = dgates.reshape(width, -1).T  # (T * B, 4H), time-major rows
        dx, dw_ih = self._input_grads(d2d, (length, batch, self.w_ih.shape[1]))
        dw_hh = _previous_hidden_grad(d2d, self.out, self.h0, reverse) if needs[4] else None
        dbias = None
        if len(needs) >= 6 and needs[5]:
            dbias = sum_by_product(d2d, 0)  # NOTE: several times faster than sum()
        dw_ih, dw_hh, dbias = (None if d is None else _ifog(d) for d in (dw_ih, dw_hh, dbias))
        grads = [dx, dh.T if needs[1] else None, dc.T if needs[2] else None, dw_ih, dw_hh]
        if len(needs) == 5:
            return tuple(grads)
        if w_hr is None:
            return (*grads, dbias)
        dw_hr = xp.tensordot(dhs, unprojected, axes=([0, 2], [0, 2])) if needs[6] else None
        return (*grads, dbias, dw_hr)

    def _kept_inputs(self) -> list[Array]:
        length, batch = self.gates.shape[0], self.gates.shape[2]
        x = self.x2d.reshape(length, batch, -1)
        kept = [x, self.h0, self.c0, _ifog(self.w_ih), _ifog(self.w_hh)]
        return kept + [a for a in (self.bias, self.w_hr) if a is not None]

    def _replay(self, inputs: list[Tensor]) -> Tensor:
        x, h, c, w_ih, w_hh, *rest = inputs
        bias = rest[0] if rest else None
        w_hr = rest[1] if len(rest) > 1 else None
        length, batch = x.shape[0], x.shape[1]
        hidden = w_hh.shape[0] // 4
        running = _running(self.kwargs.get("batch_sizes"), batch)
        hs: list[Tensor] = [h] * length
        for t in _steps(length, self.kwargs["reverse"]):
            a = x[t] @ w_ih.T + h @ w_hh.T
            if bias is not None:
                a = a + bias
            i, f = a[:, :hidden].sigmoid(), a[:, hidden : 2 * hidden].sigmoid()
            g, o = a[:, 2 * hidden : 3 * hidden].tanh(), a[:, 3 * hidden :].sigmoid()
            c_new = f * c + i * g
            h_new = o * c_new.tanh()
            if w_hr is not None:
                h_new = h_new @ w_hr.T
            c, h = _keep_ended(c_new, c, running, t), _keep_ended(h_new, h, running, t)
            hs[t] = h
        if w_hr is None:
            return cat([stack(hs), c.unsqueeze(0)])
        return cat([stack(hs).reshape(-1), c.reshape(-1)])


def _nonzero_rows(matrix: Array) -> list[bool]:
    """Whether each row of a float matrix holds a nonzero (-0.0 may count as one: adding it
    changes nothing).

    NOTE: the largest bit pattern of each row, read as unsigned integers: a (50, 4096)
    float32 matrix took 8 us, against 26 us for ``any(axis=1)``, which converts every
    element to a bool first.
    """
    if matrix.size == 0 or not matrix.flags.c_contiguous:
        return cast(list[bool], matrix.any(axis=1).tolist())
    bits = matrix.view(f"u{matrix.dtype.itemsize}")
    return cast(list[bool], (bits.max(axis=1) > 0).tolist())


def _ifog(gates: Array) -> Array:
    """Rows of gates i, f, g, o (PyTorch's order) as i, f, o, g, and back (a copy).

    NOTE: inside, the three sigmoid gates come first, so that one call covers them all.
    """
    hidden = gates.shape[0] // 4
    xp = get_array_module(gates)
    return xp.concatenate(
        [gates[: 2 * hidden], gates[3 * hidden :], gates[2 * hidden : 3 * hidden]]
    )


class GRULayer(_FusedLayer):
    """One GRU layer in one direction over a whole sequence.

    Inputs: ``x`` (T, B, I), ``h0`` (B, H), ``w_ih`` (3H, I), ``w_hh`` (3H, H) and
    optionally ``b_ih`` and ``b_hh`` (3H). Output (T, B, H): the hidden states in input
    time order.

    With v = x_t W_ih^T + b_ih and u = h_{t-1} W_hh^T + b_hh: r = σ(v_r + u_r),
    z = σ(v_z + u_z), n = tanh(v_n + r u_n), h_t = (1 - z) n + z h_{t-1}. Backward:
    dn = dh (1 - z), dz = dh (h_{t-1} - n), du_n = dn_pre r, dr = dn_pre u_n and
    dh_{t-1} = dh z + du W_hh; dv = [dr_pre, dz_pre, dn_pre].

    NOTE: a primitive for speed, like ``LSTMLayer``.
    """

    w_ih_index = 2

    def forward(
        self,
        x: Array,
        h0: Array,
        w_ih: Array,
        w_hh: Array,
        b_ih: Array | None = None,
        b_hh: Array | None = None,
        *,
        reverse: bool,
        batch_sizes: tuple[int, ...] | None = None,
    ) -> Array:
        xp = get_array_module(x)
        length, batch, _ = x.shape
        running = _running(batch_sizes, batch)
        width, hidden, dtype = w_hh.shape[0], w_hh.shape[1], x.dtype
        projected = xp.empty((length, batch, width), dtype=dtype)
        self.x2d = _project(xp, x, w_ih, b_ih, projected)
        out = xp.empty((length, batch, hidden), dtype=dtype)
        rz_all = xp.empty((length, batch, 2 * hidden), dtype=dtype)  # σ(r), σ(z)
        n_all = xp.empty((length, batch, hidden), dtype=dtype)
        u_all = xp.empty((length, batch, width), dtype=dtype)  # h_{t-1} W_hh^T + b_hh
        w_hh_t = transpose(w_hh)
        h = h0
        for t in _steps(length, reverse):
            v, u, rz, n = projected[t], u_all[t], rz_all[t], n_all[t]
            xp.matmul(h, w_hh_t, out=u)
            if b_hh is not None:
                u += b_hh
            xp.add(v[:, : 2 * hidden], u[:, : 2 * hidden], out=rz)
            rz *= 0.5  # σ(x) = 0.5 tanh(0.5 x) + 0.5 cannot overflow
            xp.tanh(rz, out=rz)
            rz *= 0.5
            rz += 0.5
            xp.multiply(rz[:, :hidden], u[:, 2 * hidden :], out=n)
            n += v[:, 2 * hidden :]
            xp.tanh(n, out=n)
            h_new = out[t]
            xp.subtract(h, n, out=h_new)
            h_new *= rz[:, hidden:]
            h_new += n
            if running is not None and running[t] < batch:
                h_new[running[t] :] = h[running[t] :]
            h = h_new
        self.rz, self.n, self.u, self.out = rz_all, n_all, u_all, out
        self.h0, self.w_ih, self.w_hh, self.b_ih, self.b_hh = h0, w_ih, w_hh, b_ih, b_hh
        return out

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        xp = get_array_module(grad)
        reverse = self.kwargs["reverse"]
        rz_all, n_all, u_all, out = self.rz, self.n, self.u, self.out
        length, batch, hidden = out.shape
        running = _running(self.kwargs.get("batch_sizes"), batch)
        dgates = xp.empty((length, batch, 3 * hidden), dtype=grad.dtype)  # d(x W_ih^T + b_ih)
        dhidden = xp.empty_like(dgates)  # d(h W_hh^T + b_hh)
        dh = xp.zeros((batch, hidden), dtype=grad.dtype)
        carried = xp.empty_like(dh)
        local = xp.empty((batch, 2 * hidden), dtype=grad.dtype)
        steps = _steps(length, reverse)
        for k in range(length - 1, -1, -1):
            t = steps[k]
            rz, n, da, du = rz_all[t], n_all[t], dgates[t], dhidden[t]
            h_prev = out[steps[k - 1]] if k else self.h0
            dh += grad[t]
            n_run = batch if running is None else running[t]
            ended = n_run < batch
            if ended:
                kept = dh[n_run:].copy()
            dz, dn = da[:, hidden : 2 * hidden], da[:, 2 * hidden :]
            xp.subtract(h_prev, n, out=dz)
            dz *= dh
            xp.multiply(dh, rz[:, hidden:], out=carried)
            xp.subtract(dh, carried, out=dn)
            xp.multiply(n, n, out=local[:, :hidden])
            xp.subtract(1, local[:, :hidden], out=local[:, :hidden])
            dn *= local[:, :hidden]
            xp.multiply(dn, u_all[t, :, 2 * hidden :], out=da[:, :hidden])
            xp.subtract(1, rz, out=local)
            local *= rz
            da[:, : 2 * hidden] *= local
            du[:, : 2 * hidden] = da[:, : 2 * hidden]
            xp.multiply(dn, rz[:, :hidden], out=du[:, 2 * hidden :])
            if ended:
                da[n_run:] = 0
                du[n_run:] = 0
            if k or self.needs_grad[1]:
                xp.matmul(du, self.w_hh, out=dh)
                dh += carried
            if ended:
                dh[n_run:] = kept
        needs = self.needs_grad
        dgates, dhidden = dgates.reshape(-1, 3 * hidden), dhidden.reshape(-1, 3 * hidden)
        dx, dw_ih = self._input_grads(dgates, (length, batch, self.w_ih.shape[1]))
        dw_hh = _previous_hidden_grad(dhidden, out, self.h0, reverse) if needs[3] else None
        grads = [dx, dh if needs[1] else None, dw_ih, dw_hh]
        if len(needs) == 6:
            grads.append(dgates.sum(axis=0) if needs[4] else None)
            grads.append(dhidden.sum(axis=0) if needs[5] else None)
        return tuple(grads)

    def _kept_inputs(self) -> list[Array]:
        x = self.x2d.reshape(*self.out.shape[:2], -1)
        kept = [x, self.h0, self.w_ih, self.w_hh]
        return kept + [a for a in (self.b_ih, self.b_hh) if a is not None]

    def _replay(self, inputs: list[Tensor]) -> Tensor:
        x, h, w_ih, w_hh, *biases = inputs
        length, batch = x.shape[0], x.shape[1]
        hidden = w_hh.shape[1]
        running = _running(self.kwargs.get("batch_sizes"), batch)
        hs: list[Tensor] = [h] * length
        for t in _steps(length, self.kwargs["reverse"]):
            v, u = x[t] @ w_ih.T, h @ w_hh.T
            if biases:
                v, u = v + biases[0], u + biases[1]
            rz = (v[:, : 2 * hidden] + u[:, : 2 * hidden]).sigmoid()
            r, z = rz[:, :hidden], rz[:, hidden:]
            n = (v[:, 2 * hidden :] + r * u[:, 2 * hidden :]).tanh()
            h = _keep_ended((1 - z) * n + z * h, h, running, t)
            hs[t] = h
        return stack(hs)


class RNNLayer(_FusedLayer):
    """One Elman RNN layer in one direction over a whole sequence.

    Inputs: ``x`` (T, B, I), ``h0`` (B, H), ``w_ih`` (H, I), ``w_hh`` (H, H) and optionally
    ``bias`` (H) = b_ih + b_hh. Output (T, B, H):
    h_t = act(x_t W_ih^T + bias + h_{t-1} W_hh^T), act = tanh or relu.
    Backward: da_t = dh_t act'(a_t), dh_{t-1} = da_t W_hh, dW_hh = Σ_t da_t^T h_{t-1}.

    NOTE: a primitive for speed, like ``LSTMLayer``.
    """

    w_ih_index = 2

    def forward(
        self,
        x: Array,
        h0: Array,
        w_ih: Array,
        w_hh: Array,
        bias: Array | None = None,
        *,
        nonlinearity: str,
        reverse: bool,
        batch_sizes: tuple[int, ...] | None = None,
    ) -> Array:
        xp = get_array_module(x)
        length, batch, _ = x.shape
        running = _running(batch_sizes, batch)
        out = xp.empty((length, batch, w_hh.shape[0]), dtype=x.dtype)
        self.x2d = _project(xp, x, w_ih, bias, out)
        w_hh_t = transpose(w_hh)
        recurrent = xp.empty((batch, w_hh.shape[0]), dtype=x.dtype)
        relu = nonlinearity == "relu"
        h = h0
        for t in _steps(length, reverse):
            h_new = out[t]
            xp.matmul(h, w_hh_t, out=recurrent)
            h_new += recurrent
            if relu:
                xp.maximum(h_new, 0, out=h_new)
            else:
                xp.tanh(h_new, out=h_new)
            if running is not None and running[t] < batch:
                h_new[running[t] :] = h[running[t] :]
            h = h_new
        self.out, self.h0, self.w_ih, self.w_hh, self.bias = out, h0, w_ih, w_hh, bias
        return out

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        xp = get_array_module(grad)
        reverse, out = self.kwargs["reverse"], self.out
        relu = self.kwargs["nonlinearity"] == "relu"
        length, batch, hidden = out.shape
        running = _running(self.kwargs.get("batch_sizes"), batch)
        dpre = xp.empty_like(out)
        dh = xp.zeros((batch, hidden), dtype=grad.dtype)
        local = xp.empty_like(dh)
        steps = _steps(length, reverse)
        for k in range(length - 1, -1, -1):
            t = steps[k]
            dh += grad[t]
            n = batch if running is None else running[t]
            ended = n < batch
            if ended:
                kept = dh[n:].copy()
            h = out[t]
            if relu:
                xp.greater(h, 0, out=local)
            else:
                xp.multiply(h, h, out=local)
                xp.subtract(1, local, out=local)
            xp.multiply(dh, local, out=dpre[t])
            if ended:
                dpre[t, n:] = 0
            if k or self.needs_grad[1]:
                xp.matmul(dpre[t], self.w_hh, out=dh)
            if ended:
                dh[n:] = kept
        needs = self.needs_grad
        dpre = dpre.reshape(-1, hidden)
        dx, dw_ih = self._input_grads(dpre, (length, batch, self.w_ih.shape[1]))
        dw_hh = _previous_hidden_grad(dpre, out, self.h0, reverse) if needs[3] else None
        grads = [dx, dh if needs[1] else None, dw_ih, dw_hh]
        if len(needs) == 5:
            grads.append(dpre.sum(axis=0) if needs[4] else None)
        return tuple(grads)

    def _kept_inputs(self) -> list[Array]:
        x = self.x2d.reshape(*self.out.shape[:2], -1)
        kept = [x, self.h0, self.w_ih, self.w_hh]
        return kept if self.bias is None else [*kept, self.bias]

    def _replay(self, inputs: list[Tensor]) -> Tensor:
        x, h, w_ih, w_hh, *bias = inputs
        length, batch = x.shape[0], x.shape[1]
        running = _running(self.kwargs.get("batch_sizes"), batch)
        relu = self.kwargs["nonlinearity"] == "relu"
        hs: list[Tensor] = [h] * length
        for t in _steps(length, self.kwargs["reverse"]):
            a = x[t] @ w_ih.T + h @ w_hh.T
            if bias:
                a = a + bias[0]
            h = _keep_ended(a.relu() if relu else a.tanh(), h, running, t)
            hs[t] = h
        return stack(hs)


def _keep_ended(new: Tensor, old: Tensor, running: list[int] | None, t: int) -> Tensor:
    """The state after step ``t``: ``new`` for the sequences still running, ``old`` for those
    past their end (the rows from ``running[t]`` on)."""
    if running is None or running[t] == new.shape[0]:
        return new
    return cat([new[: running[t]], old[running[t] :]])


def _check(
    name: str,
    x: Tensor,
    states: dict[str, Tensor],
    weights: dict[str, Tensor | Any],
    gates: int,
    projected: tuple[str, ...] = (),
) -> int:
    """Validate shapes and dtypes of a layer's inputs; return the hidden size.

    With a projection (``weights["weight_hr"]``), ``weight_hh`` and the ``projected``
    states have ``proj_size`` columns instead of ``hidden_size``.
    """
    if x.ndim != 3:
        raise ValueError(
            f"{name}: input must have shape (seq_len, batch, input_size), got {x.shape}"
        )
    if x.shape[0] == 0:
        raise ValueError(f"{name}: the sequence is empty (seq_len 0)")
    w_ih, w_hh, w_hr = weights["weight_ih"], weights["weight_hh"], weights.get("weight_hr")
    hidden = w_hh.shape[-1] if w_hr is None else w_hh.shape[0] // gates
    width = {key: hidden for key in states}
    if w_hr is not None:
        if w_hr.ndim != 2 or not 0 < w_hr.shape[0] < hidden or w_hr.shape[1] != hidden:
            raise ValueError(
                f"{name}: weight_hr must have shape (proj_size, hidden_size) with "
                f"proj_size < hidden_size = {hidden}, got {w_hr.shape}"
            )
        width.update({key: w_hr.shape[0] for key in projected})
        if w_hh.shape != (gates * hidden, w_hr.shape[0]):
            raise ValueError(
                f"{name}: with weight_hr {w_hr.shape}, weight_hh must have shape "
                f"{(gates * hidden, w_hr.shape[0])}, got {w_hh.shape}"
            )
    elif w_hh.ndim != 2 or w_hh.shape[0] != gates * hidden:
        raise ValueError(
            f"{name}: weight_hh must have shape ({gates} * hidden_size, hidden_size), "
            f"got {w_hh.shape}"
        )
    if w_ih.shape != (gates * hidden, x.shape[2]):
        raise ValueError(
            f"{name}: weight_ih must have shape ({gates * hidden}, {x.shape[2]}) for input "
            f"{x.shape} and weight_hh {w_hh.shape}, got {w_ih.shape}"
        )
    for key, bias in weights.items():
        if key.startswith("bias") and bias is not None and bias.shape != (gates * hidden,):
            raise ValueError(f"{name}: {key} must have shape ({gates * hidden},), got {bias.shape}")
    for key, state in states.items():
        if state.shape != (x.shape[1], width[key]):
            size = "proj_size" if width[key] != hidden else "hidden_size"
            raise ValueError(
                f"{name}: {key} must have shape (batch, {size}) = {(x.shape[1], width[key])}, "
                f"got {state.shape}"
            )
    for key, tensor in {**weights, **states}.items():
        if tensor is not None and tensor.dtype != x.dtype:
            raise TypeError(
                f"{name}: {key} has dtype {tensor.dtype} but the input has dtype {x.dtype}"
            )
    return hidden


def _batch_sizes(name: str, batch_sizes: Any, x: Tensor) -> dict[str, tuple[int, ...]]:
    """The op's ``batch_sizes`` keyword (empty when not given), checked against ``x``."""
    if batch_sizes is None:
        return {}
    if isinstance(batch_sizes, Tensor):
        batch_sizes = batch_sizes.data.tolist()
    sizes = tuple(int(size) for size in batch_sizes)
    length, batch = x.shape[0], x.shape[1]
    if len(sizes) != length:
        raise ValueError(
            f"{name}: batch_sizes needs one entry per time step ({length}), got {len(sizes)}"
        )
    if sizes[0] != batch or any(b > a for a, b in pairwise(sizes)):
        raise ValueError(
            f"{name}: batch_sizes must start at the batch size {batch} and never grow, "
            f"got {list(sizes)}"
        )
    if sizes[-1] < 1:
        raise ValueError(f"{name}: batch_sizes must be >= 1 at every step, got {list(sizes)}")
    return {"batch_sizes": sizes}


def _zeros_state(x: Tensor, hidden: int) -> Tensor:
    return zeros(x.shape[1], hidden, dtype=x.dtype, device=x.device)


def lstm_layer(
    input: Tensor,
    h0: Tensor | None,
    c0: Tensor | None,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias: Tensor | None = None,
    reverse: bool = False,
    batch_sizes: Any = None,
    weight_hr: Tensor | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """Run one LSTM layer in one direction over a sequence (one fused op).

    Args:
        input: Time-major input (seq_len, batch, input_size).
        h0: Initial hidden state (batch, hidden_size), or None for zeros.
        c0: Initial cell state (batch, hidden_size), or None for zeros.
        weight_ih: Input-to-hidden weights (4 * hidden_size, input_size), gates i, f, g, o.
        weight_hh: Hidden-to-hidden weights (4 * hidden_size, hidden_size).
        bias: ``bias_ih + bias_hh`` (4 * hidden_size), or None.
        reverse: Run from the last time step to the first (the backward direction of a
            bidirectional layer); outputs stay in input time order.
        batch_sizes: The number of sequences running at each time step (non-increasing,
            starting at the batch size), for a batch sorted by decreasing length; past its
            end a sequence keeps its state, and its final state is that of its last step.
            None: all run to the end.
        weight_hr: The projection (proj_size, hidden_size) of the hidden state, or None;
            with it, ``h0``, the hidden states and ``weight_hh``'s columns have
            proj_size features.

    Returns:
        ``(output, h_n, c_n)``: all hidden states (seq_len, batch, hidden_size) and the
        final hidden and cell states (batch, hidden_size).

    Example:
        >>> x = ac.randn(5, 2, 4)  # seq_len 5, batch 2, 4 features
        >>> out, h, c = F.lstm_layer(x, None, None, ac.randn(12, 4), ac.randn(12, 3))
        >>> out.shape, h.shape
        ((5, 2, 3), (2, 3))
    """
    hidden = weight_hh.shape[0] // 4
    state = weight_hh.shape[-1]
    h0 = _zeros_state(input, state) if h0 is None else h0
    c0 = _zeros_state(input, hidden) if c0 is None else c0
    weights = {"weight_ih": weight_ih, "weight_hh": weight_hh, "bias": bias}
    if weight_hr is not None:
        weights["weight_hr"] = weight_hr
    _check("lstm_layer", input, {"h0": h0, "c0": c0}, weights, 4, projected=("h0",))
    packed = _batch_sizes("lstm_layer", batch_sizes, input)
    inputs = [input, h0, c0, weight_ih, weight_hh] + ([] if bias is None else [bias])
    length, batch = input.shape[0], input.shape[1]
    if weight_hr is None:
        result = LSTMLayer.apply(*inputs, reverse=reverse, **packed)
        return result[:length], result[0 if reverse else length - 1], result[length]
    if bias is None:
        inputs.append(zeros(4 * hidden, dtype=input.dtype, device=input.device))
    result = LSTMLayer.apply(*inputs, weight_hr, reverse=reverse, **packed)
    size = length * batch * state
    output = result[:size].reshape(length, batch, state)
    return output, output[0 if reverse else length - 1], result[size:].reshape(batch, hidden)


def gru_layer(
    input: Tensor,
    h0: Tensor | None,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
    reverse: bool = False,
    batch_sizes: Any = None,
) -> tuple[Tensor, Tensor]:
    """Run one GRU layer in one direction over a sequence (one fused op).

    Args:
        input: Time-major input (seq_len, batch, input_size).
        h0: Initial hidden state (batch, hidden_size), or None for zeros.
        weight_ih: Input-to-hidden weights (3 * hidden_size, input_size), gates r, z, n.
        weight_hh: Hidden-to-hidden weights (3 * hidden_size, hidden_size).
        bias_ih: (3 * hidden_size) or None.
        bias_hh: (3 * hidden_size) or None; it stays apart from ``bias_ih`` because ``r``
            multiplies its ``n`` part.
        reverse: Run from the last time step to the first; outputs stay in time order.
        batch_sizes: The number of sequences running at each time step (non-increasing,
            starting at the batch size), for a batch sorted by decreasing length; past its
            end a sequence keeps its state, and its final state is that of its last step.
            None: all run to the end.

    Returns:
        ``(output, h_n)``: all hidden states (seq_len, batch, hidden_size) and the final one.
    """
    hidden = weight_hh.shape[-1]
    h0 = _zeros_state(input, hidden) if h0 is None else h0
    weights = {
        "weight_ih": weight_ih,
        "weight_hh": weight_hh,
        "bias_ih": bias_ih,
        "bias_hh": bias_hh,
    }
    _check("gru_layer", input, {"h0": h0}, weights, 3)
    packed = _batch_sizes("gru_layer", batch_sizes, input)
    inputs = [input, h0, weight_ih, weight_hh]
    if bias_ih is not None or bias_hh is not None:
        zero = zeros(3 * hidden, dtype=input.dtype, device=input.device)
        inputs += [zero if bias_ih is None else bias_ih, zero if bias_hh is None else bias_hh]
    out = GRULayer.apply(*inputs, reverse=reverse, **packed)
    return out, out[0 if reverse else input.shape[0] - 1]


def rnn_layer(
    input: Tensor,
    h0: Tensor | None,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias: Tensor | None = None,
    nonlinearity: str = "tanh",
    reverse: bool = False,
    batch_sizes: Any = None,
) -> tuple[Tensor, Tensor]:
    """Run one Elman RNN layer, ``h_t = act(x_t W_ih^T + bias + h_{t-1} W_hh^T)``.

    Args:
        input: Time-major input (seq_len, batch, input_size).
        h0: Initial hidden state (batch, hidden_size), or None for zeros.
        weight_ih: Input-to-hidden weights (hidden_size, input_size).
        weight_hh: Hidden-to-hidden weights (hidden_size, hidden_size).
        bias: ``bias_ih + bias_hh`` (hidden_size), or None.
        nonlinearity: ``"tanh"`` or ``"relu"``.
        reverse: Run from the last time step to the first; outputs stay in time order.
        batch_sizes: The number of sequences running at each time step (non-increasing,
            starting at the batch size), for a batch sorted by decreasing length; past its
            end a sequence keeps its state, and its final state is that of its last step.
            None: all run to the end.

    Returns:
        ``(output, h_n)``: all hidden states (seq_len, batch, hidden_size) and the final one.
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    hidden = weight_hh.shape[-1]
    h0 = _zeros_state(input, hidden) if h0 is None else h0
    weights = {"weight_ih": weight_ih, "weight_hh": weight_hh, "bias": bias}
    _check("rnn_layer", input, {"h0": h0}, weights, 1)
    packed = _batch_sizes("rnn_layer", batch_sizes, input)
    inputs = [input, h0, weight_ih, weight_hh] + ([] if bias is None else [bias])
    out = RNNLayer.apply(*inputs, nonlinearity=nonlinearity, reverse=reverse, **packed)
    return out, out[0 if reverse else input.shape[0] - 1]


def _sum_biases(bias_ih: Tensor | None, bias_hh: Tensor | None) -> Tensor | None:
    if bias_ih is None:
        return bias_hh
    return bias_ih if bias_hh is None else bias_ih + bias_hh


def _cell_input(name: str, x: Tensor, hx: Tensor | None) -> tuple[Tensor, Tensor | None, bool]:
    """The input as a one-step sequence (1, batch, features) and the state with a batch axis."""
    if x.ndim not in (1, 2):
        raise ValueError(
            f"{name}: input must be 1-D (features) or 2-D (batch, features), got {x.shape}"
        )
    unbatched = x.ndim == 1
    if unbatched:
        x = x.unsqueeze(0)
        hx = None if hx is None else hx.unsqueeze(0)
    return x.unsqueeze(0), hx, unbatched


def lstm_cell(
    input: Tensor,
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
    _, h, c = lstm_layer(x, hx, cx, weight_ih, weight_hh, _sum_biases(bias_ih, bias_hh))
    return (h[0], c[0]) if unbatched else (h, c)


def gru_cell(
    input: Tensor,
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
    _, h = gru_layer(x, hx, weight_ih, weight_hh, bias_ih, bias_hh)
    return h[0] if unbatched else h


def rnn_cell(
    input: Tensor,
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
    _, h = rnn_layer(x, hx, weight_ih, weight_hh, _sum_biases(bias_ih, bias_hh), nonlinearity)
    return h[0] if unbatched else h
