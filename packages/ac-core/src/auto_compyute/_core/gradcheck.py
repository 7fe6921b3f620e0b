"""Gradient checking against central finite differences in float64."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from auto_compyute._core.autograd import enable_grad, grad, no_grad
from auto_compyute._core.tensor import Tensor


def gradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
) -> bool:
    """Check the gradients of ``fn`` at ``inputs`` against central finite differences.

    The outputs of ``fn`` (a tensor or a tuple of tensors) are contracted with a random
    cotangent ``v``, so the check compares the vector-Jacobian product ``v^T J`` that
    backward computes with ``(f(x + eps e_i) - f(x - eps e_i)) . v / (2 eps)`` for every
    element ``i`` of every input that requires grad.

    Args:
        fn: The function to check; it receives ``inputs`` as positional arguments.
        inputs: Tensors (and other arguments, passed through), or one tensor. Floating-point
            tensors that require grad must be float64. Outputs that do not require grad
            (integer results, detached ones) are not checked, as in PyTorch.
        eps: The finite-difference step.
        atol: Absolute tolerance.
        rtol: Relative tolerance.
        raise_exception: Raise ``GradcheckError`` on a mismatch instead of returning False.
        seed: Seed of the random cotangent.

    Returns:
        True if every gradient matches.

    Example:
        >>> x = ac.randn(3, 4, dtype=ac.float64, req_grad=True)
        >>> ac.autograd.gradcheck(lambda t: (t.tanh() * t).sum(dim=1), [x])
        True
    """
    return _check(fn, inputs, eps, atol, rtol, raise_exception, seed, record=False)


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
) -> bool:
    """Check the second derivatives of ``fn`` at ``inputs`` against finite differences.

    ``gradcheck`` of the function that maps the inputs to the gradients of ``fn``
    (contracted with a fixed random cotangent), computed by
    ``ac.autograd.grad(..., create_graph=True)``: every op on the way must have a
    ``graph_backward``. Arguments as for ``gradcheck``.

    Returns:
        True if every second derivative matches.

    Example:
        >>> x = ac.randn(3, 4, dtype=ac.float64, req_grad=True)
        >>> ac.autograd.gradgradcheck(lambda t: (t.tanh() * t).sum(dim=1), [x])
        True
    """
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    checked = [x for x in inputs if isinstance(x, Tensor) and x.req_grad]
    rng = np.random.default_rng(seed + 1)
    cotangents = [
        Tensor(rng.standard_normal(o.shape).astype(o.dtype), device=o.device)
        for o in _as_tuple(fn(*inputs))
    ]

    def first_derivatives(*arguments: Any) -> tuple[Tensor, ...]:
        differentiable = [
            (o, v) for o, v in zip(_as_tuple(fn(*arguments)), cotangents, strict=True) if o.req_grad
        ]
        grads = grad(
            [o for o, _ in differentiable],
            [a for a in arguments if isinstance(a, Tensor) and a.req_grad],
            [v for _, v in differentiable],
            create_graph=True,
            allow_unused=True,
        )
        return tuple(g for g in grads if g is not None and g.req_grad)

    if not checked:
        raise ValueError("gradgradcheck needs at least one input tensor with req_grad=True")
    # NOTE: graph_backward is an implementation of its own: its gradients must be backward's
    outputs = _as_tuple(fn(*inputs))
    differentiable = [(o, v) for o, v in zip(outputs, cotangents, strict=True) if o.req_grad]
    plain = grad(
        [o for o, _ in differentiable],
        checked,
        [v for _, v in differentiable],
        retain_graph=True,
        allow_unused=True,
    )
    recorded = grad(
        [o for o, _ in differentiable],
        checked,
        [v for _, v in differentiable],
        create_graph=True,
        allow_unused=True,
    )
    for i, (expected, result) in enumerate(zip(plain, recorded, strict=True)):
        if expected is None or result is None:
            continue
        if not np.allclose(result.numpy(), expected.numpy(), atol=atol, rtol=rtol):
            if raise_exception:
                raise GradcheckError(
                    f"the gradient of input {i} with create_graph=True (graph_backward) differs "
                    "from backward's"
                )
            return False
    return _check(first_derivatives, inputs, eps, atol, rtol, raise_exception, seed, record=True)


def _check(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    eps: float,
    atol: float,
    rtol: float,
    raise_exception: bool,
    seed: int,
    record: bool,
) -> bool:
    """``gradcheck``; with ``record``, ``fn`` is evaluated with grad enabled and inputs that
    require grad (``gradgradcheck``'s ``fn`` differentiates itself)."""
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.req_grad]
    if not checked:
        raise ValueError("gradcheck needs at least one input tensor with req_grad=True")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise ValueError(
                f"gradcheck needs float64 inputs for accurate finite differences; "
                f"input {i} has dtype {inputs[i].dtype}"
            )

    outputs = _as_tuple(fn(*inputs))
    rng = np.random.default_rng(seed)
    cotangents = [rng.standard_normal(o.shape) for o in outputs]
    differentiable = [(o, v) for o, v in zip(outputs, cotangents, strict=False) if o.req_grad]
    if not differentiable:
        raise ValueError("none of fn's outputs requires grad")
    analytic = grad(
        [o for o, _ in differentiable],
        [inputs[i] for i in checked],
        [Tensor(v.astype(o.dtype), device=o.device) for o, v in differentiable],
        allow_unused=True,
    )

    def projected(arguments: list[Any]) -> float:
        with no_grad() if not record else enable_grad():
            results = _as_tuple(fn(*arguments))
        return sum(
            float((r.numpy().astype(np.float64) * v).sum())
            for r, v, o in zip(results, cotangents, outputs, strict=True)
            if o.req_grad
        )

    for position, i in enumerate(checked):
        original = inputs[i]
        values = original.numpy().astype(np.float64)
        numeric = np.zeros_like(values)
        for index in np.ndindex(values.shape):
            shifted = []
            for sign in (1, -1):
                moved = values.copy()
                moved[index] += sign * eps
                arguments = inputs.copy()
                arguments[i] = Tensor(moved, device=original.device, req_grad=record)
                shifted.append(projected(arguments))
            numeric[index] = (shifted[0] - shifted[1]) / (2 * eps)
        computed = analytic[position]
        computed_values = np.zeros_like(values) if computed is None else computed.numpy()
        if not np.allclose(computed_values, numeric, atol=atol, rtol=rtol):
            if raise_exception:
                worst = np.unravel_index(np.argmax(np.abs(computed_values - numeric)), values.shape)
                raise GradcheckError(
                    f"gradient of input {i} (shape {values.shape}) does not match finite "
                    f"differences: at index {tuple(int(k) for k in worst)} backward gave "
                    f"{computed_values[worst]:.6g}, finite differences {numeric[worst]:.6g}"
                )
            return False
    return True


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` when an analytic gradient differs from finite differences."""


def _as_tuple(value: Any) -> tuple[Tensor, ...]:
    return tuple(value) if isinstance(value, list | tuple) else (value,)
