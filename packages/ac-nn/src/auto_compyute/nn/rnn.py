"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and their single-step cells.

Constructors, parameter names (``weight_ih_l0``, ``bias_hh_l1_reverse``, ...), gate order,
initialisation and the ``(output, h_n)`` / ``(output, (h_n, c_n))`` results are PyTorch's,
so state dicts load in both directions. Each layer and direction runs as one fused op
(``nn.functional.lstm_layer`` and friends), which projects the inputs of all time
steps with one matrix product.

A ``PackedSequence`` input runs as its padded batch, sorted by decreasing length, in
which the fused ops keep the state of a sequence unchanged past its end; the output is
packed again and the final states put back in the caller's batch order.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from auto_compyute import Tensor, cat, stack
from auto_compyute._core import dtypes
from auto_compyute._core.factories import empty
from auto_compyute.nn import functional as F
from auto_compyute.nn import init
from auto_compyute.nn.module import Module, Parameter
from auto_compyute.nn.utils.rnn import PackedSequence, _packed, _padded

__all__ = ["GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNBase", "RNNCell", "RNNCellBase"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _check_size(owner: str, name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{owner}: {name} must be an integer >= {minimum}, got {value!r}")
    return value


def _float_dtype(owner: str, dtype: Any) -> Any:
    dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    if dtype.kind != "f":
        raise TypeError(f"{owner} needs a floating-point dtype, got {dtype}")
    return dtype


class RNNBase(Module):
    """The machinery shared by ``RNN``, ``LSTM`` and ``GRU`` (see those for the arguments)."""

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if mode not in _GATES:
            raise ValueError(f"unknown RNN mode {mode!r}; expected one of {sorted(_GATES)}")
        self.mode = mode
        self.input_size = _check_size(name, "input_size", input_size, 0)
        self.hidden_size = _check_size(name, "hidden_size", hidden_size, 1)
        self.num_layers = _check_size(name, "num_layers", num_layers, 1)
        if (
            isinstance(dropout, bool)
            or not isinstance(dropout, int | float)
            or not 0 <= dropout <= 1
        ):
            raise ValueError(
                f"{name}: dropout should be a number in the range [0, 1] representing the "
                f"probability of an element being zeroed, got {dropout!r}"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                f"{name}: dropout acts between recurrent layers, so with num_layers=1 the "
                f"non-zero dropout={dropout} has no effect",
                UserWarning,
                stacklevel=3,
            )
        if isinstance(proj_size, bool) or not isinstance(proj_size, int) or proj_size < 0:
            raise ValueError(
                f"{name}: proj_size should be a positive integer or zero to disable "
                f"projections, got {proj_size!r}"
            )
        if proj_size and mode != "LSTM":
            raise ValueError(f"{name}: proj_size is only supported for LSTM, not {mode}")
        if proj_size >= hidden_size:
            raise ValueError(
                f"{name}: proj_size has to be smaller than hidden_size, got proj_size "
                f"{proj_size} and hidden_size {hidden_size}"
            )
        self.proj_size = proj_size
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout = float(dropout)
        self.bidirectional = bool(bidirectional)
        dtype = _float_dtype(name, dtype)
        gate_size = _GATES[mode] * hidden_size
        num_directions = 2 if bidirectional else 1
        output_size = proj_size or hidden_size
        self._flat_weights_names: list[str] = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else output_size * num_directions
            for direction in range(num_directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes: dict[str, tuple[int, ...]] = {
                    "weight_ih": (gate_size, layer_input),
                    "weight_hh": (gate_size, output_size),
                }
                if bias:
                    shapes.update({"bias_ih": (gate_size,), "bias_hh": (gate_size,)})
                if proj_size:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                for kind, shape in shapes.items():
                    setattr(
                        self, kind + suffix, Parameter(empty(*shape, dtype=dtype, device=device))
                    )
                    self._flat_weights_names.append(kind + suffix)
        self.reset_parameters()

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters per layer and direction: ``[[w_ih, w_hh, b_ih, b_hh(, w_hr)], ...]``."""
        per = (4 if self.bias else 2) + (1 if self.proj_size else 0)
        params = [getattr(self, n) for n in self._flat_weights_names]
        return [params[i : i + per] for i in range(0, len(params), per)]

    def reset_parameters(self) -> None:
        """Draw every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        bound = 1 / math.sqrt(self.hidden_size)
        for param in self.parameters():
            init.uniform_(param, -bound, bound)

    def flatten_parameters(self) -> None:
        """Do nothing: weights are used in place (kept for code written for cuDNN)."""

    def _layer_params(
        self, layer: int, direction: int
    ) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        w_ih = getattr(self, "weight_ih" + suffix)
        w_hh = getattr(self, "weight_hh" + suffix)
        if not self.bias:
            return w_ih, w_hh, None, None
        return w_ih, w_hh, getattr(self, "bias_ih" + suffix), getattr(self, "bias_hh" + suffix)

    def _projection(self, layer: int, direction: int) -> Tensor | None:
        if not self.proj_size:
            return None
        return getattr(self, f"weight_hr_l{layer}" + ("_reverse" if direction else ""))

    def _prepare_input(self, input: Tensor | PackedSequence) -> tuple[Tensor, bool]:
        """Check the input; return it time-major (seq, batch, features) and if it was unbatched."""
        name = type(self).__name__
        if isinstance(input, PackedSequence):
            if not isinstance(input.data, Tensor) or input.data.ndim != 2:
                raise ValueError(
                    f"{name}: a PackedSequence's data must be a 2-D Tensor (steps, features)"
                )
            self._check_features(input.data)
            batch_sizes = np.asarray(input.batch_sizes.tolist(), dtype=np.int64)
            positions = np.arange(int(batch_sizes[0]))
            return _padded(input.data, batch_sizes, batch_sizes.size, positions), False
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a Tensor input, got {type(input).__name__}")
        if input.ndim not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D instead")
        self._check_features(input)
        unbatched = input.ndim == 2
        if unbatched:
            return input.unsqueeze(1), True
        return (input.transpose(0, 1) if self.batch_first else input), False

    def _check_features(self, input: Tensor) -> None:
        name = type(self).__name__
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"{name}: input.size(-1) must be equal to input_size. Expected "
                f"{self.input_size}, got {input.shape[-1]} (input shape {input.shape})"
            )
        weight = self.weight_ih_l0
        if input.dtype != weight.dtype:
            raise TypeError(
                f"{name}: input has dtype {input.dtype} but the parameters have dtype "
                f"{weight.dtype}; convert one of them (e.g. input.to({weight.dtype}))"
            )

    def _prepare_state(
        self,
        state: Tensor | None,
        batch: int,
        unbatched: bool,
        what: str,
        sorted_indices: Tensor | None = None,
        size: int | None = None,
    ) -> Tensor | None:
        """Check an initial state (layers * directions, batch, hidden); batch it if unbatched.

        A packed input's batch runs sorted by length: ``sorted_indices`` reorders the state.
        ``size`` is the state's last axis (``hidden_size`` if None).
        """
        if state is None:
            return None
        name = type(self).__name__
        if not isinstance(state, Tensor):
            raise TypeError(f"{name}: {what} must be a Tensor, got {type(state).__name__}")
        expected = (self.num_layers * self.num_directions, batch, size or self.hidden_size)
        if unbatched:
            if state.ndim != 2:
                raise RuntimeError(
                    f"{name}: for unbatched 2-D input, {what} should also be 2-D but got "
                    f"{state.ndim}-D tensor (shape {state.shape})"
                )
            state = state.unsqueeze(1)
        if state.shape != expected:
            raise RuntimeError(f"{name}: Expected {what} size {expected}, got {state.shape}")
        if state.dtype != self.weight_ih_l0.dtype:
            raise TypeError(
                f"{name}: {what} has dtype {state.dtype} but the parameters have dtype "
                f"{self.weight_ih_l0.dtype}"
            )
        return state if sorted_indices is None else state.index_select(1, sorted_indices)

    def _run(
        self, x: Tensor, states: list[Tensor | None], batch_sizes: Any = None
    ) -> tuple[Tensor, list[list[Tensor]]]:
        """Run all layers on time-major ``x``; ``states[k]`` holds the initial states (or None).

        ``batch_sizes`` (a packed input's) marks the steps past each sequence's end.

        Returns the last layer's output and, per state kind, the final states of every
        layer and direction in PyTorch's order (layer-major, forward before reverse).
        """
        finals: list[list[Tensor]] = [[] for _ in states]
        for layer in range(self.num_layers):
            if layer and self.dropout and self.training:
                x = F.dropout(x, self.dropout, training=True)
            outputs = []
            for direction in range(self.num_directions):
                index = layer * self.num_directions + direction
                initial = [None if s is None else s[index] for s in states]
                output, last = self._layer(x, layer, direction, initial, batch_sizes)
                outputs.append(output)
                for kind, state in enumerate(last):
                    finals[kind].append(state)
            x = outputs[0] if len(outputs) == 1 else cat(outputs, dim=2)
        return x, finals

    def _layer(
        self,
        x: Tensor,
        layer: int,
        direction: int,
        initial: list[Tensor | None],
        batch_sizes: Any,
    ) -> tuple[Tensor, list[Tensor]]:
        w_ih, w_hh, b_ih, b_hh = self._layer_params(layer, direction)
        common = {"reverse": direction == 1, "batch_sizes": batch_sizes}
        if self.mode == "GRU":
            output, h = F.gru_layer(x, initial[0], w_ih, w_hh, b_ih, b_hh, **common)
            return output, [h]
        bias = None if b_ih is None else b_ih + b_hh
        if self.mode == "LSTM":
            w_hr = self._projection(layer, direction)
            output, h, c = F.lstm_layer(
                x, initial[0], initial[1], w_ih, w_hh, bias, weight_hr=w_hr, **common
            )
            return output, [h, c]
        nonlinearity = "tanh" if self.mode == "RNN_TANH" else "relu"
        output, h = F.rnn_layer(x, initial[0], w_ih, w_hh, bias, nonlinearity, **common)
        return output, [h]

    def forward(
        self, input: Tensor | PackedSequence, hx: Tensor | None = None
    ) -> tuple[Tensor | PackedSequence, Tensor]:
        """Run the sequence; return the output and the final hidden state (LSTM: and cell)."""
        x, unbatched = self._prepare_input(input)
        sorted_indices = _sorted_indices(input)
        h0 = self._prepare_state(hx, x.shape[1], unbatched, "hidden", sorted_indices)
        output, finals = self._run(x, [h0], _batch_sizes(input))
        result, (h_n,) = self._finish(input, output, finals, unbatched)
        return result, h_n

    def _finish(
        self,
        input: Tensor | PackedSequence,
        output: Tensor,
        finals: list[list[Tensor]],
        unbatched: bool,
    ) -> tuple[Tensor | PackedSequence, list[Tensor]]:
        """Put the output back in the caller's layout and stack the final states."""
        states = [stack(kind, dim=0) for kind in finals]
        if isinstance(input, PackedSequence):
            batch_sizes = np.asarray(input.batch_sizes.tolist(), dtype=np.int64)
            data = _packed(output, batch_sizes)
            packed = PackedSequence(
                data, input.batch_sizes, input.sorted_indices, input.unsorted_indices
            )
            if input.unsorted_indices is not None:
                states = [s.index_select(1, input.unsorted_indices) for s in states]
            return packed, states
        if unbatched:
            return output.squeeze(1), [s.squeeze(1) for s in states]
        if self.batch_first:
            output = output.transpose(0, 1)
        return output, states

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            text += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.mode == "RNN_RELU":
            text += ", nonlinearity='relu'"
        if not self.bias:
            text += ", bias=False"
        if self.batch_first:
            text += ", batch_first=True"
        if self.dropout:
            text += f", dropout={self.dropout}"
        if self.bidirectional:
            text += ", bidirectional=True"
        return text


def _batch_sizes(input: Tensor | PackedSequence) -> tuple[int, ...] | None:
    if not isinstance(input, PackedSequence):
        return None
    return tuple(int(size) for size in input.batch_sizes.tolist())


def _sorted_indices(input: Tensor | PackedSequence) -> Tensor | None:
    return input.sorted_indices if isinstance(input, PackedSequence) else None


class RNN(RNNBase):
    """A multi-layer Elman RNN: ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``.

    Args:
        input_size: Features per time step of the input.
        hidden_size: Features of the hidden state.
        num_layers: Number of stacked layers; each layer's output is the next one's input.
        nonlinearity: ``"tanh"`` or ``"relu"``.
        bias: Whether to use ``bias_ih`` and ``bias_hh``.
        batch_first: Inputs and outputs are (batch, seq, feature) instead of (seq, batch, feature).
        dropout: Dropout probability on the outputs of every layer but the last (in training).
        bidirectional: Also run each layer from the last time step to the first and
            concatenate both directions' outputs.
        device: Where to create the parameters.
        dtype: The floating-point dtype of the parameters (float32 by default).

    Inputs: ``input`` (L, N, H_in) ((N, L, H_in) if ``batch_first``; (L, H_in) unbatched)
    or a ``PackedSequence``, and optionally ``hx`` (D * num_layers, N, H_out), zeros if
    omitted.

    Returns:
        ``(output, h_n)``: output (L, N, D * H_out) with the last layer's hidden state at
        every step (a ``PackedSequence`` for a packed input), and ``h_n``
        (D * num_layers, N, H_out) with every layer's final state (for a packed input, at
        each sequence's last step).

    Example:
        >>> rnn = nn.RNN(10, 20, num_layers=2)
        >>> output, h_n = rnn(ac.randn(5, 3, 10))
        >>> output.shape, h_n.shape
        ((5, 3, 20), (2, 3, 20))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        self.nonlinearity = nonlinearity
        super().__init__(
            "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device=device,
            dtype=dtype,
        )


class LSTM(RNNBase):
    """A multi-layer long short-term memory (LSTM) network.

    For every time step, with gates in PyTorch's order:
    ``i, f, g, o = split(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``,
    ``c_t = σ(f) c_{t-1} + σ(i) tanh(g)``, ``h_t = σ(o) tanh(c_t)``.

    Args:
        input_size: Features per time step of the input.
        hidden_size: Features of the hidden and cell states.
        num_layers: Number of stacked layers.
        bias: Whether to use ``bias_ih`` and ``bias_hh``.
        batch_first: Inputs and outputs are (batch, seq, feature) instead of (seq, batch, feature).
        dropout: Dropout probability on the outputs of every layer but the last (in training).
        bidirectional: Also run each layer in reverse time and concatenate the outputs.
        proj_size: If > 0 (and < ``hidden_size``), the hidden state is projected to this
            size, ``h_t = W_hr (σ(o) tanh(c_t))``, with a ``weight_hr_l{k}`` per layer and
            direction; ``h`` and the output then have ``proj_size`` features, ``c`` keeps
            ``hidden_size``.
        device: Where to create the parameters.
        dtype: The floating-point dtype of the parameters (float32 by default).

    Inputs: ``input`` (L, N, H_in) ((N, L, H_in) if ``batch_first``; (L, H_in) unbatched)
    or a ``PackedSequence``, and optionally ``(h_0, c_0)``, each (D * num_layers, N, H_out),
    zeros if omitted.

    Returns:
        ``(output, (h_n, c_n))``: output (L, N, D * H_out) (packed for a packed input) and
        the final hidden and cell states of every layer and direction,
        (D * num_layers, N, H_out) each.

    Example:
        >>> lstm = nn.LSTM(16, 32, batch_first=True)
        >>> output, (h_n, c_n) = lstm(ac.randn(4, 10, 16))
        >>> output.shape, h_n.shape
        ((4, 10, 32), (1, 4, 32))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
            device,
            dtype,
        )

    def forward(  # type: ignore[override]  # (h, c) state pairs, as in PyTorch
        self,
        input: Tensor | PackedSequence,
        hx: tuple[Tensor, Tensor] | None = None,
    ) -> tuple[Tensor | PackedSequence, tuple[Tensor, Tensor]]:
        x, unbatched = self._prepare_input(input)
        sorted_indices = _sorted_indices(input)
        h0 = c0 = None
        if hx is not None:
            if not isinstance(hx, tuple | list) or len(hx) != 2:
                raise TypeError("LSTM: hx must be a tuple (h_0, c_0) of two tensors")
            h0 = self._prepare_state(
                hx[0], x.shape[1], unbatched, "hidden[0]", sorted_indices, self.proj_size
            )
            c0 = self._prepare_state(hx[1], x.shape[1], unbatched, "hidden[1]", sorted_indices)
        output, finals = self._run(x, [h0, c0], _batch_sizes(input))
        result, (h_n, c_n) = self._finish(input, output, finals, unbatched)
        return result, (h_n, c_n)


class GRU(RNNBase):
    """A multi-layer gated recurrent unit (GRU) network.

    For every time step, with gates in PyTorch's order r, z, n:
    ``r = σ(W_ir x + b_ir + W_hr h + b_hr)``, ``z = σ(W_iz x + b_iz + W_hz h + b_hz)``,
    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h_t = (1 - z) * n + z * h_{t-1}``.

    Args:
        input_size: Features per time step of the input.
        hidden_size: Features of the hidden state.
        num_layers: Number of stacked layers.
        bias: Whether to use ``bias_ih`` and ``bias_hh``.
        batch_first: Inputs and outputs are (batch, seq, feature) instead of (seq, batch, feature).
        dropout: Dropout probability on the outputs of every layer but the last (in training).
        bidirectional: Also run each layer in reverse time and concatenate the outputs.
        device: Where to create the parameters.
        dtype: The floating-point dtype of the parameters (float32 by default).

    Inputs and results are those of ``RNN``: ``(output, h_n)``.

    Example:
        >>> gru = nn.GRU(8, 16, bidirectional=True)
        >>> output, h_n = gru(ac.randn(7, 2, 8))
        >>> output.shape, h_n.shape
        ((7, 2, 32), (2, 2, 16))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            "GRU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device=device,
            dtype=dtype,
        )


class RNNCellBase(Module):
    """Parameters and checks shared by ``RNNCell``, ``LSTMCell`` and ``GRUCell``."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool,
        num_chunks: int,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.input_size = _check_size(name, "input_size", input_size, 0)
        self.hidden_size = _check_size(name, "hidden_size", hidden_size, 1)
        self.bias = bool(bias)
        dtype = _float_dtype(name, dtype)
        gate_size = num_chunks * hidden_size
        self.weight_ih = Parameter(empty(gate_size, input_size, dtype=dtype, device=device))
        self.weight_hh = Parameter(empty(gate_size, hidden_size, dtype=dtype, device=device))
        if bias:
            self.bias_ih = Parameter(empty(gate_size, dtype=dtype, device=device))
            self.bias_hh = Parameter(empty(gate_size, dtype=dtype, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        bound = 1 / math.sqrt(self.hidden_size)
        for param in self.parameters():
            init.uniform_(param, -bound, bound)

    def _check(self, input: Tensor, states: tuple[Tensor | None, ...]) -> None:
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"{name}: input has inconsistent input_size: got {input.shape[-1]} expected "
                f"{self.input_size} (input shape {input.shape})"
            )
        expected = (*input.shape[:-1], self.hidden_size)
        for state in states:
            if state is not None and state.shape != expected:
                raise RuntimeError(f"{name}: Expected hidden size {expected}, got {state.shape}")
        for tensor in (input, *states):
            if tensor is not None and tensor.dtype != self.weight_ih.dtype:
                raise TypeError(
                    f"{name}: got dtype {tensor.dtype} but the parameters have dtype "
                    f"{self.weight_ih.dtype}"
                )

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            text += ", bias=False"
        nonlinearity = getattr(self, "nonlinearity", "tanh")
        if nonlinearity != "tanh":
            text += f", nonlinearity='{nonlinearity}'"
        return text


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: ``h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)``.

    Args:
        input_size: Features of the input.
        hidden_size: Features of the hidden state.
        bias: Whether to use ``bias_ih`` and ``bias_hh``.
        nonlinearity: ``"tanh"`` or ``"relu"``.
        device: Where to create the parameters.
        dtype: The floating-point dtype of the parameters.

    Inputs: ``input`` (N, H_in) or (H_in,), ``hx`` (N, H_out) or (H_out,), zeros if omitted.

    Returns:
        The next hidden state, (N, H_out) or (H_out,).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        self._check(input, (hx,))
        return F.rnn_cell(
            input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, self.nonlinearity
        )


class LSTMCell(RNNCellBase):
    """One LSTM step (see ``LSTM`` for the equations).

    Args:
        input_size: Features of the input.
        hidden_size: Features of the hidden and cell states.
        bias: Whether to use ``bias_ih`` and ``bias_hh``.
        device: Where to create the parameters.
        dtype: The floating-point dtype of the parameters.

    Inputs: ``input`` (N, H_in) or (H_in,) and optionally ``(h, c)``, zeros if omitted.

    Returns:
        ``(h', c')``, the next hidden and cell states.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(
        self,
        input: Tensor,
        hx: tuple[Tensor, Tensor] | None = None,
    ) -> tuple[Tensor, Tensor]:
        h, c = (None, None) if hx is None else hx
        self._check(input, (h, c))
        return F.lstm_cell(input, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)


class GRUCell(RNNCellBase):
    """One GRU step (see ``GRU`` for the equations).

    Args:
        input_size: Features of the input.
        hidden_size: Features of the hidden state.
        bias: Whether to use ``bias_ih`` and ``bias_hh``.
        device: Where to create the parameters.
        dtype: The floating-point dtype of the parameters.

    Inputs: ``input`` (N, H_in) or (H_in,), ``hx`` (N, H_out) or (H_out,), zeros if omitted.

    Returns:
        The next hidden state.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        self._check(input, (hx,))
        return F.gru_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
