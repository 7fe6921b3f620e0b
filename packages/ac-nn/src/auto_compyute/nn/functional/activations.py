"""Activation functions: ``relu``, ``gelu``, ``softmax`` and friends.

Most are composed from Tensor ops and get their gradient for free; ``gelu`` and
``softplus`` are primitives (see the ``NOTE`` on each).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from auto_compyute._core.autograd import Array, Op, is_graph_retained, no_grad
from auto_compyute._core.devices import get_array_module
from auto_compyute._core.functions import where
from auto_compyute._core.ops.elementwise import logistic
from auto_compyute._core.ops.math import erf64
from auto_compyute._core.parallel import run_split
from auto_compyute._core.random import get_generator
from auto_compyute._core.tensor import Tensor

__all__ = [
    "celu",
    "celu_",
    "elu",
    "elu_",
    "gelu",
    "glu",
    "gumbel_softmax",
    "hardshrink",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "hardtanh_",
    "leaky_relu",
    "leaky_relu_",
    "log_sigmoid",
    "log_softmax",
    "logsigmoid",
    "mish",
    "prelu",
    "relu",
    "relu6",
    "relu_",
    "rrelu",
    "rrelu_",
    "selu",
    "selu_",
    "sigmoid",
    "silu",
    "softmax",
    "softmin",
    "softplus",
    "softshrink",
    "softsign",
    "tanh",
    "tanhshrink",
    "threshold",
    "threshold_",
]

_SQRT_HALF = math.sqrt(0.5)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_TANH_COEFF = 0.044715


# Abramowitz & Stegun 7.1.26: erf(z) = 1 - t (a1 + a2 t + ... + a5 t^4) exp(-z^2), with
# t = 1 / (1 + p z) for z >= 0; absolute error below 1.5e-7, float32's resolution. With
# z = |x| / √2 it reads Φ(-|x|) = t P(t) φ(x), P's coefficients times √(π/2): the exp of
# the normal density φ, which GELU's slope needs anyway, is the only one.
_AS_P_OVER_SQRT2 = 0.3275911 * math.sqrt(0.5)
_AS_PHI_A = tuple(
    a * math.sqrt(math.pi / 2)
    for a in (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
)
_LOG_INV_SQRT_2PI = -0.5 * math.log(2.0 * math.pi)
# φ is held at φ(11) (below 1e-26): NumPy's exp and multiplies run up to 14 times slower
# on subnormal results, which φ and Φ's left tail would reach beyond |x| = 13.
_MIN_EXPONENT = -0.5 * 11.0**2 + _LOG_INV_SQRT_2PI


def _gelu_kernel(x: Array, out: Array, slope: Array) -> None:
    """out = x Φ(x) and slope = Φ(x) + x φ(x), in x's dtype; ``out`` may be ``x`` itself.

    NOTE: NumPy's floating-point checks are off here (CuPy has none; PyTorch warns of
    nothing either): x² overflows for |x| beyond 1.8e19, Φ's left tail underflows, and
    gelu(-inf) is NaN, as in PyTorch.
    """
    xp = get_array_module(x)
    cdf = xp.empty_like(x)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        _normal_kernel(x, cdf, slope)
        slope *= x
        slope += cdf
        xp.multiply(x, cdf, out)


def _normal_kernel(x: Array, cdf: Array, pdf: Array) -> None:
    """cdf = Φ(x) by A&S 7.1.26 and pdf = φ(x), in x's (low-precision) dtype, from one exp.

    NOTE: in place, over a piece of the arrays at a time (see ``run_split``), with no
    temporary but a bool mask: ``pdf`` holds t = 1 / (1 + p |x|) until the polynomial in
    t is done. A temporary of a piece stays in cache where that of a whole activation
    would not, yet each adds to the peak memory of a Transformer's step. x itself is not
    clamped (that took two passes where the exponent's clamp takes one): an infinite |x|
    gives t = 0, so the tails come out as 0 and 1.
    """
    xp = get_array_module(x)
    t = pdf
    xp.absolute(x, t)
    t *= _AS_P_OVER_SQRT2
    t += 1.0
    xp.reciprocal(t, t)
    xp.multiply(t, _AS_PHI_A[4], cdf)
    for coefficient in _AS_PHI_A[3:0:-1]:
        cdf += coefficient
        cdf *= t
    cdf += _AS_PHI_A[0]
    cdf *= t
    xp.square(x, pdf)
    pdf *= -0.5
    pdf += _LOG_INV_SQRT_2PI
    xp.clip(pdf, _MIN_EXPONENT, 0.0, pdf)
    xp.exp(pdf, pdf)
    cdf *= pdf  # Φ(-|x|), at most 1/2
    # NOTE: Φ(x) = |Φ(-|x|) - H| with H = 1 where x >= 0, else 0: exact in the left tail,
    # where 1 - erf would round small values to multiples of float32's epsilon, and fast
    # passes (NumPy runs copysign, heaviside and where= several times slower).
    cdf -= x >= 0
    xp.absolute(cdf, cdf)


class GELU(Op):
    """x Φ(x) (Φ: the standard normal CDF) or its tanh approximation; d/dx = Φ(x) + x φ(x).

    NOTE: a primitive for speed and memory: forward computes the slope along with the
    output, in a few in-place passes split across threads (float64 and the tanh form
    compose array expressions), and keeps only the slope for backward, which backward
    overwrites with its result unless the graph is retained. With
    ``reuse_input``, that kernel writes its result over the input's array (for callers
    whose input is a temporary that nothing else reads).
    """

    def forward(self, x: Array, *, approximate: str, reuse_input: bool = False) -> Array:
        xp = get_array_module(x)
        # NOTE: the input is kept (by reference) for graph_backward only; reuse_input overwrites it.
        self.x = None if reuse_input else x
        if approximate == "tanh":
            t = xp.tanh(_SQRT_2_OVER_PI * (x + _GELU_TANH_COEFF * x * x * x))
            inner = _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_TANH_COEFF * x * x)
            self.slope = 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * inner
            return 0.5 * x * (1.0 + t)
        if x.dtype == xp.float64:
            cdf = 0.5 * (1.0 + erf64(x * _SQRT_HALF))
            self.slope = cdf + x * xp.exp(-0.5 * x * x + _LOG_INV_SQRT_2PI)
            return x * cdf
        x = xp.ascontiguousarray(x)
        out = x if reuse_input else xp.empty_like(x)
        self.slope = xp.empty_like(x)
        run_split(_gelu_kernel, x, out, self.slope)
        return out

    def backward(self, grad: Array) -> Array:
        if is_graph_retained():
            return grad * self.slope
        return get_array_module(grad).multiply(grad, self.slope, out=self.slope)

    def graph_backward(self, grad: Tensor) -> Tensor:
        if self.x is None:
            raise NotImplementedError(
                "GELU with reuse_input=True keeps no input: create_graph=True does not work "
                "through it"
            )
        x = self._input(0, self.x)
        if self.kwargs["approximate"] == "tanh":
            t = (_SQRT_2_OVER_PI * (x + _GELU_TANH_COEFF * x * x * x)).tanh()
            inner = _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_TANH_COEFF * x * x)
            return grad * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * inner)
        cdf = 0.5 * (1.0 + (x * _SQRT_HALF).erf())
        return grad * (cdf + x * (-0.5 * x * x + _LOG_INV_SQRT_2PI).exp())


class Softplus(Op):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold; d/dx = sigmoid(beta x).

    NOTE: a primitive for stability: log1p(exp(-|beta x|)) never overflows, unlike exp(beta x).
    """

    def forward(self, x: Array, *, beta: float, threshold: float) -> Array:
        xp = get_array_module(x)
        scaled = x * beta if beta != 1 else x
        self.scaled = scaled
        soft = xp.maximum(scaled, 0) + xp.log1p(xp.exp(-xp.abs(scaled)))
        if beta != 1:
            soft = soft / beta
        return xp.where(scaled > threshold, x, soft)

    def backward(self, grad: Array) -> Array:
        xp = get_array_module(grad)
        scaled = self.scaled
        slope = logistic(scaled)
        return grad * xp.where(scaled > self.kwargs["threshold"], 1.0, slope).astype(grad.dtype)

    def graph_backward(self, grad: Tensor) -> Tensor:
        beta = self.kwargs["beta"]
        slope = (self._input(0, self.scaled / beta if beta != 1 else self.scaled) * beta).sigmoid()
        return grad * slope.where(self._constant(self.scaled <= self.kwargs["threshold"]), 1.0)


class Hardtanh(Op):
    """x limited to [min_val, max_val]; d/dx = 1 where min_val < x < max_val, else 0.

    NOTE: a primitive for PyTorch's gradient at the limits: 0 here, 1 for ``clamp``.
    """

    def forward(self, x: Array, *, min_val: float, max_val: float) -> Array:
        self.inside = (x > min_val) & (x < max_val)
        # NOTE: an integer x stays integer with float limits, as in PyTorch
        return get_array_module(x).clip(x, min_val, max_val).astype(x.dtype, copy=False)

    def backward(self, grad: Array) -> Array:
        return grad * self.inside

    def graph_backward(self, grad: Tensor) -> Tensor:
        return grad * self._constant(self.inside)


class Hardswish(Op):
    """x relu6(x + 3) / 6; d/dx = 0 up to -3, x / 3 + 1/2 between, 1 from 3 on (as PyTorch).

    NOTE: a primitive for the tails: composed as x * hardsigmoid(x), its slope at ±inf was
    inf * 0 = NaN where it is 0 and 1.
    """

    def forward(self, x: Array) -> Array:
        self.x = x
        return x * get_array_module(x).clip(x + 3.0, 0.0, 6.0) / 6.0

    def backward(self, grad: Array) -> Array:
        xp = get_array_module(grad)
        # NOTE: with c = x / 3 held to [-1, 1], c + 1/2 - trunc(c) / 2: trunc(c) is -1 and 1
        # from the corners out, 0 between (a third of the time of where's)
        slope = xp.divide(self.x, 3.0, out=xp.empty_like(self.x))
        xp.clip(slope, -1.0, 1.0, out=slope)
        beyond = xp.trunc(slope)
        beyond *= -0.5
        slope += beyond
        slope += 0.5
        return grad * slope

    def graph_backward(self, grad: Tensor) -> Tensor:
        inside = self._constant((self.x > -3.0) & (self.x < 3.0))
        outside = self._constant((self.x >= 3.0).astype(self.x.dtype))
        return grad * (self._input(0, self.x) / 3.0 + 0.5).where(inside, outside)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """Rectified linear unit: ``max(x, 0)``.

    Args:
        input: Any tensor.
        inplace: Accepted for PyTorch compatibility; the result is always a new tensor
            (in-place writes are not tracked by autograd).

    Returns:
        A tensor of the same shape and dtype.
    """
    return input.relu()


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """Leaky ReLU: ``x`` where ``x > 0``, else ``negative_slope * x``.

    Args:
        input: Any tensor.
        negative_slope: The slope for negative inputs.
        inplace: Accepted for PyTorch compatibility; the result is always a new tensor.

    Returns:
        A tensor of the same shape and dtype.
    """
    return where(input > 0, input, input * negative_slope)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """Exponential linear unit: ``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``.

    Args:
        input: A floating-point tensor.
        alpha: The value the negative part saturates at (as ``-alpha``).
        inplace: Accepted for PyTorch compatibility; the result is always a new tensor.

    Returns:
        A tensor of the same shape and dtype.
    """
    # NOTE: clamping before exp keeps large positive inputs from overflowing to inf; expm1,
    # not exp - 1, keeps the digits of small negative inputs (elu(-1e-7) was -6e-8 in float32)
    return input.relu() + input.clamp(max=0).expm1() * alpha


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit: ``x * Φ(x)`` with Φ the standard normal CDF.

    Args:
        input: A floating-point tensor.
        approximate: ``"none"`` for the exact form (with ``erf``) or ``"tanh"`` for
            ``0.5 x (1 + tanh(sqrt(2/π) (x + 0.044715 x³)))``.

    Returns:
        A tensor of the same shape and dtype.

    Example:
        >>> F.gelu(ac.tensor([-1.0, 0.0, 1.0]))
        Tensor([-0.1587,  0.0000,  0.8413])
    """
    if approximate not in ("none", "tanh"):
        raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(input._floating(), approximate=approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """Sigmoid linear unit (swish): ``x * sigmoid(x)``.

    Args:
        input: A floating-point tensor.
        inplace: Accepted for PyTorch compatibility; the result is always a new tensor.

    Returns:
        A tensor of the same shape and dtype.
    """
    return input * input.sigmoid()


def sigmoid(input: Tensor) -> Tensor:
    """Logistic sigmoid ``1 / (1 + exp(-x))``, computed without overflow."""
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return input.tanh()


def _softmax_dim(name: str, ndim: int) -> int:
    # NOTE: PyTorch's legacy rule for a missing dim, kept (with its warning) for parity.
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated; pass dim explicitly",
        UserWarning,
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:
    """Softmax along ``dim``: ``exp(x) / sum(exp(x))``, computed stably.

    Args:
        input: A tensor.
        dim: The dimension the result sums to 1 over.
        dtype: If given, the input is converted to this dtype first.

    Returns:
        A tensor of the same shape.
    """
    if dtype is not None:
        input = input.to(dtype=dtype)
    if dim is None:
        dim = _softmax_dim("softmax", input.ndim)
    return input.softmax(dim)


def log_softmax(input: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:
    """Log of the softmax along ``dim``: ``x - logsumexp(x)``, computed stably.

    Args:
        input: A tensor.
        dim: The dimension the softmax is taken over.
        dtype: If given, the input is converted to this dtype first.

    Returns:
        A tensor of the same shape.
    """
    if dtype is not None:
        input = input.to(dtype=dtype)
    if dim is None:
        dim = _softmax_dim("log_softmax", input.ndim)
    return input.log_softmax(dim)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """Smooth ReLU: ``log(1 + exp(beta * x)) / beta``; linear where ``beta * x > threshold``.

    Args:
        input: A floating-point tensor.
        beta: Sharpness of the transition.
        threshold: Above this value of ``beta * x`` the result is ``x`` itself.

    Returns:
        A tensor of the same shape and dtype.
    """
    return Softplus.apply(input._floating(), beta=beta, threshold=threshold)


def hardtanh(
    input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False
) -> Tensor:
    """``x`` limited to ``[min_val, max_val]``; unlike ``clamp``'s, its gradient is 0 at the
    limits, as PyTorch's.

    Args:
        input: Any tensor.
        min_val: The lower limit.
        max_val: The upper limit.
        inplace: Accepted for PyTorch compatibility; the result is always a new tensor.

    Returns:
        A tensor of the same shape and dtype.
    """
    if min_val > max_val:
        raise ValueError(f"hardtanh needs min_val <= max_val, got {min_val} and {max_val}")
    return Hardtanh.apply(input, min_val=min_val, max_val=max_val)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(x, 0), 6)``, as in MobileNet; its gradient is 0 at 0 and 6 (as PyTorch)."""
    return Hardtanh.apply(input, min_val=0.0, max_val=6.0)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """Piecewise-linear sigmoid: ``relu6(x + 3) / 6``."""
    return relu6(input + 3.0) / 6.0


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * relu6(x + 3) / 6``, as in MobileNetV3."""
    return Hardswish.apply(input._floating())


def log_sigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(x)) = -softplus(-x)``, without overflow or log of 0."""
    return -softplus(-input)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))``."""
    return input * softplus(input).tanh()


def softsign(input: Tensor) -> Tensor:
    """``x / (1 + |x|)``."""
    return input / (input.abs() + 1.0)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: the first half of ``dim`` times the sigmoid of the second half.

    Args:
        input: A tensor whose size along ``dim`` is even.
        dim: The axis split in two.

    Returns:
        A tensor with half the size along ``dim``.
    """
    size = input.shape[dim]
    if size % 2:
        raise ValueError(f"glu halves dim {dim}, whose size {size} is odd (shape {input.shape})")
    value, gate = input.split(size // 2, dim)
    return value * gate.sigmoid()


# NOTE: SELU's constants from Klambauer et al. (2017), as PyTorch has them
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """Scaled ELU: ``scale * elu(x, alpha)`` with the self-normalizing constants."""
    return elu(input, _SELU_ALPHA) * _SELU_SCALE


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """Continuously differentiable ELU: ``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    if alpha == 0:
        raise ValueError("celu needs a non-zero alpha")
    return input.relu() + (input.clamp(max=0) / alpha).expm1() * alpha


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """Leaky ReLU with a learned slope: ``x`` where positive, else ``weight * x``.

    Args:
        input: A tensor ``(N, C, *)`` (or any shape with a single slope).
        weight: One slope, or one per channel (axis 1 of the input).

    Returns:
        A tensor of the input's shape.
    """
    if weight.numel() not in (1, input.shape[1] if input.ndim > 1 else 1):
        raise ValueError(
            f"prelu needs 1 slope or one per channel, got {weight.numel()} for an input of "
            f"shape {input.shape}"
        )
    slope = weight.reshape(-1, *(1,) * (input.ndim - 2)) if input.ndim > 1 else weight
    return where(input > 0, input, input * slope)


def softmin(input: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:
    """Softmax of ``-x`` along ``dim``: larger weights for smaller values."""
    return softmax(-input, dim, dtype)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """Hard shrinkage: ``x`` where ``|x| > lambd``, else 0.

    Args:
        input: Any tensor.
        lambd: The half-width of the band set to zero.

    Returns:
        A tensor of the same shape and dtype.

    Example:
        >>> F.hardshrink(ac.tensor([-1.0, 0.2, 0.7]))
        Tensor([-1.0000,  0.0000,  0.7000])
    """
    # NOTE: NaN is kept (not inside the band), as in PyTorch
    return where(input.abs() <= lambd, 0.0, input)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """Soft shrinkage: ``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0.

    Args:
        input: A floating-point tensor.
        lambd: The half-width of the band set to zero; at least 0.

    Returns:
        A tensor of the same shape and dtype.
    """
    if lambd < 0:
        raise ValueError(f"softshrink needs lambd >= 0, got {lambd}")
    return input - input.clamp(-lambd, lambd)


def tanhshrink(input: Tensor) -> Tensor:
    """``x - tanh(x)``."""
    return input - input.tanh()


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``x`` where ``x > threshold``, else ``value``.

    Args:
        input: Any tensor.
        threshold: The value an element must exceed to be kept.
        value: What replaces the other elements.
        inplace: Accepted for PyTorch compatibility; the result is always a new tensor.

    Returns:
        A tensor of the same shape and dtype.
    """
    # NOTE: NaN is kept (not above the threshold, nor at or below it), as in PyTorch
    return where(input <= threshold, value, input)


def rrelu(
    input: Tensor,
    lower: float = 1.0 / 8.0,
    upper: float = 1.0 / 3.0,
    training: bool = False,
    inplace: bool = False,
) -> Tensor:
    """Randomized leaky ReLU: ``x`` where ``x >= 0``, else ``a * x``.

    In training, each element draws its own slope ``a`` from ``U(lower, upper)`` (from
    ``ac``'s global generator, so ``ac.manual_seed`` makes it reproducible); otherwise
    ``a = (lower + upper) / 2`` for all, as ``leaky_relu``.

    Args:
        input: A floating-point tensor.
        lower: The smallest slope.
        upper: The largest slope.
        training: Draw random slopes (else use their mean).
        inplace: Accepted for PyTorch compatibility; the result is always a new tensor.

    Returns:
        A tensor of the same shape and dtype.
    """
    if lower > upper:
        raise ValueError(f"rrelu needs lower <= upper, got {lower} and {upper}")
    if not training:
        return leaky_relu(input, (lower + upper) / 2)
    input = input._floating()
    slopes = get_generator().uniform(lower, upper, input.shape).astype(input.dtype)
    return where(input >= 0, input, input * Tensor(slopes, device=input.device))


# NOTE: PyTorch's spelling.
logsigmoid = log_sigmoid


def gumbel_softmax(
    logits: Tensor, tau: float = 1.0, hard: bool = False, eps: float = 1e-10, dim: int = -1
) -> Tensor:
    """A sample from the Gumbel-softmax (concrete) distribution over ``dim``.

    ``softmax((logits + g) / tau)`` with ``g = -log(e)``, ``e ~ Exp(1)`` drawn from ``ac``'s
    global generator (``ac.manual_seed`` makes it reproducible). With ``hard``, the result
    is the one-hot vector of that softmax's (first) maximum in the forward pass, with the
    softmax's gradient (straight-through): ``y_hard - y_soft.detach() + y_soft``.

    Args:
        logits: Unnormalized log-probabilities ``(*, num_features)``.
        tau: The temperature, positive.
        hard: Return one-hot samples (differentiated as the soft ones).
        eps: Unused; kept for PyTorch compatibility (it is deprecated there).
        dim: The axis of the categories.

    Returns:
        A tensor of the logits' shape and dtype whose slices along ``dim`` sum to 1.

    Example:
        >>> ac.manual_seed(0)
        >>> F.gumbel_softmax(ac.zeros(2, 3), hard=True).sum(-1).tolist()
        [1.0, 1.0]
    """
    logits = logits._floating()
    noise = get_generator().exponential(size=logits.shape)
    gumbels = Tensor(-np.log(noise).astype(logits.dtype), device=logits.device)
    soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return soft
    xp = get_array_module(soft.data)
    dim %= soft.ndim
    index = xp.expand_dims(soft.data.argmax(axis=dim), dim)
    positions = xp.arange(soft.shape[dim]).reshape((-1,) + (1,) * (soft.ndim - dim - 1))
    one_hot = (positions == index).astype(soft.dtype)
    return Tensor(one_hot, device=soft.device) - soft.detach() + soft


def _in_place(name: str, input: Tensor, function: Any, *args: Any) -> Tensor:
    """Write ``function(input, *args)`` (computed without a graph) into ``input``'s array and
    return ``input``.

    Refused, as ``Tensor.add_`` is, for a leaf that requires grad while grad is on and for
    a tensor that autograd recorded: autograd never records in-place changes.
    """
    input._check_overwrite(f"{name}()")
    with no_grad():
        result = function(input, *args)
    input.data[...] = result.data
    return input


def relu_(input: Tensor) -> Tensor:
    """In-place ``relu``: changes ``input``'s values (outside autograd) and returns it.

    Like ``Tensor.add_``, refused on a tensor that autograd recorded and on a leaf that
    requires grad unless under ``ac.no_grad()``; so are the other in-place activations.
    """
    return _in_place("relu_", input, relu)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place ``elu`` (outside autograd; see ``relu_``)."""
    return _in_place("elu_", input, elu, alpha)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """In-place ``leaky_relu`` (outside autograd; see ``relu_``)."""
    return _in_place("leaky_relu_", input, leaky_relu, negative_slope)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In-place ``hardtanh`` (outside autograd; see ``relu_``)."""
    return _in_place("hardtanh_", input, hardtanh, min_val, max_val)


def selu_(input: Tensor) -> Tensor:
    """In-place ``selu`` (outside autograd; see ``relu_``)."""
    return _in_place("selu_", input, selu)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place ``celu`` (outside autograd; see ``relu_``)."""
    return _in_place("celu_", input, celu, alpha)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place ``threshold`` (outside autograd; see ``relu_``)."""
    return _in_place("threshold_", input, lambda x: where(x > threshold, x, value))


def rrelu_(
    input: Tensor, lower: float = 1.0 / 8.0, upper: float = 1.0 / 3.0, training: bool = False
) -> Tensor:
    """In-place ``rrelu`` (outside autograd; see ``relu_``)."""
    return _in_place("rrelu_", input, rrelu, lower, upper, training)
