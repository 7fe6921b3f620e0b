"""Function transforms, as a small part of ``torch.func``: ``grad``, ``grad_and_value``,
``vjp``, ``jacrev`` and ``hessian``, built on ``autograd.grad`` (no ``vmap``)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from auto_compyute._core.autograd import enable_grad, is_grad_enabled
from auto_compyute._core.factories import zeros_like
from auto_compyute._core.functional import _autograd_grad
from auto_compyute._core.functions import stack
from auto_compyute._core.tensor import Tensor


def _argnums(argnums: int | tuple[int, ...], count: int, name: str) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else argnums
    if not isinstance(nums, tuple) or not nums or not all(isinstance(n, int) for n in nums):
        raise TypeError(
            f"{name}: argnums must be an int or a non-empty tuple of ints, got {argnums!r}"
        )
    normalized = []
    for n in nums:
        if not -count <= n < count:
            raise ValueError(
                f"{name}: argnums {n} is out of range for a function called with {count} "
                "positional arguments"
            )
        normalized.append(n % count)
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{name}: argnums {argnums!r} has duplicates")
    return tuple(normalized)


def _variables(
    args: tuple[Any, ...], nums: tuple[int, ...], name: str
) -> tuple[list[Any], list[Tensor], bool]:
    """The arguments with the differentiated ones replaced by fresh variables, the
    variables, and whether the results must stay differentiable (an outer transform or
    the caller's graph differentiates them again)."""
    new_args = list(args)
    variables = []
    nested = False
    for n in nums:
        arg = args[n]
        if not isinstance(arg, Tensor) or arg.data.dtype.kind != "f":
            raise TypeError(
                f"{name}: the argument {n} to differentiate must be a floating-point Tensor, "
                f"got {type(arg).__name__}"
                + (f" of dtype {arg.dtype}" if isinstance(arg, Tensor) else "")
            )
        # NOTE: a variable of its own (not the argument itself), so that a closure that
        # uses the same tensor sees a constant, as in torch.func; a copy in the graph
        # when the argument requires grad, so that the results stay differentiable.
        if arg._req_grad and is_grad_enabled():
            nested = True
            variable = arg.clone()
        else:
            variable = arg.detach().requires_grad_(True)
        new_args[n] = variable
        variables.append(variable)
    return new_args, variables, nested


def _detach_all(value: Any, keep: bool) -> Any:
    if keep:
        return value
    if isinstance(value, Tensor):
        return value.detach()
    if isinstance(value, (tuple, list)):
        return type(value)(_detach_all(v, keep) for v in value)
    if isinstance(value, dict):
        return {k: _detach_all(v, keep) for k, v in value.items()}
    return value


def _split_aux(result: Any, has_aux: bool, name: str) -> tuple[Any, Any]:
    if not has_aux:
        return result, None
    if not isinstance(result, tuple) or len(result) != 2:
        raise RuntimeError(
            f"{name}(f)(*args): output of function f should be a tuple: (output, aux) if "
            "has_aux is True"
        )
    return result


def _grads(
    outputs: Sequence[Tensor],
    variables: Sequence[Tensor],
    grad_outputs: Sequence[Tensor | None] | None,
    nested: bool,
) -> tuple[Tensor, ...]:
    """Gradients of ``outputs`` with respect to ``variables``; zeros for unused ones."""
    found = _autograd_grad(outputs, variables, grad_outputs, create_graph=nested, retain_graph=True)
    return tuple(zeros_like(v) if g is None else g for g, v in zip(found, variables, strict=True))


def grad_and_value(
    func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, has_aux: bool = False
) -> Callable[..., Any]:
    """Like ``grad``, but the function returns the gradients and ``func``'s value.

    Returns:
        A function that returns ``(gradients, value)``, or ``(gradients, (value, aux))``
        with ``has_aux``.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums(argnums, len(args), "grad_and_value")
        with enable_grad():
            new_args, variables, nested = _variables(args, nums, "grad_and_value")
            output, aux = _split_aux(func(*new_args, **kwargs), has_aux, "grad_and_value")
            if not isinstance(output, Tensor):
                raise RuntimeError(
                    "grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got "
                    f"{type(output).__name__}"
                )
            if output.ndim != 0:
                raise RuntimeError(
                    "grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got "
                    f"tensor with {output.ndim} dims (shape {output.shape}). Maybe you wanted to "
                    "use the vjp or jacrev APIs instead?"
                )
            grads = _grads([output], variables, None, nested)
        result = grads if isinstance(argnums, tuple) else grads[0]
        value = _detach_all(output, nested)
        if has_aux:
            return result, (value, _detach_all(aux, nested))
        return result, value

    return wrapper


def grad(
    func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, has_aux: bool = False
) -> Callable[..., Any]:
    """The gradient of a scalar function, as a function (``torch.func.grad``).

    Transforms nest: ``grad(grad(f))`` is the second derivative of a scalar function
    of a scalar. Tensors the function uses other than its differentiated arguments
    (closures) are constants, even the same tensor object.

    Args:
        func: A function that returns a 0-d tensor (and, with ``has_aux``, something else).
        argnums: Which positional argument(s) to differentiate with respect to; each
            must be a floating-point tensor.
        has_aux: ``func`` returns ``(output, aux)``; ``aux`` is passed through.

    Returns:
        A function with ``func``'s arguments that returns the gradient (a tuple of them for
        a tuple ``argnums``), and ``aux`` with ``has_aux``.

    Example:
        >>> x = ac.randn(3, dtype=ac.float64)
        >>> ac.func.grad(lambda t: (t**3).sum())(x)  # 3 x^2
    """
    transform = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        grads, value = transform(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads

    return wrapper


def vjp(func: Callable[..., Any], *primals: Tensor, has_aux: bool = False) -> tuple[Any, ...]:
    """``func``'s output at ``primals`` and a function for vector-Jacobian products.

    Args:
        func: A function of tensors that returns a tensor or a tuple of tensors.
        *primals: The point: floating-point tensors.
        has_aux: ``func`` returns ``(output, aux)``.

    Returns:
        ``(output, vjp_fn)`` or ``(output, vjp_fn, aux)``. ``vjp_fn(cotangents)``, with
        cotangents shaped like ``output``, returns a tuple with one gradient per primal;
        it may be called more than once.

    Example:
        >>> x = ac.randn(3, dtype=ac.float64)
        >>> out, vjp_fn = ac.func.vjp(lambda t: t.sin(), x)
        >>> (g,) = vjp_fn(ac.ones(3, dtype=ac.float64))  # cos x
    """
    with enable_grad():
        _, variables, nested = _variables(primals, tuple(range(len(primals))), "vjp")
        result, aux = _split_aux(func(*variables), has_aux, "vjp")
    is_tuple = isinstance(result, tuple)
    outputs = result if is_tuple else (result,)
    if not all(isinstance(o, Tensor) for o in outputs):
        raise RuntimeError(
            "vjp(f, *primals): Expected f to return a Tensor or a tuple of Tensors, got "
            f"{type(result).__name__}"
        )

    def vjp_fn(cotangents: Any) -> tuple[Tensor, ...]:
        given = cotangents if is_tuple else (cotangents,)
        if not isinstance(given, tuple) or len(given) != len(outputs):
            raise RuntimeError(
                f"vjp_fn: expected cotangents shaped like the {len(outputs)} output(s) of f, "
                f"got {cotangents!r}"
            )
        for i, (c, o) in enumerate(zip(given, outputs, strict=True)):
            if not isinstance(c, Tensor) or c.shape != o.shape:
                shape = c.shape if isinstance(c, Tensor) else type(c).__name__
                raise RuntimeError(
                    f"vjp_fn: cotangent {i} must be a Tensor of shape {o.shape} (that of the "
                    f"output), got {shape}"
                )
        with enable_grad():
            return _grads(outputs, variables, given, nested)

    value = _detach_all(result, nested)
    if has_aux:
        return value, vjp_fn, _detach_all(aux, nested)
    return value, vjp_fn


def jacrev(
    func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, has_aux: bool = False
) -> Callable[..., Any]:
    """The Jacobian of ``func`` with respect to argument(s) ``argnums``, as a function,
    computed row by row with reverse mode (``torch.func.jacrev``).

    For an output of shape ``O`` and an argument of shape ``I`` the Jacobian has shape
    ``O + I``; a tuple of outputs gives a tuple over the outputs, a tuple ``argnums`` a
    tuple over the arguments (inside the one over the outputs).

    Args:
        func: A function that returns a tensor or a tuple of tensors.
        argnums: Which positional argument(s) to differentiate with respect to.
        has_aux: ``func`` returns ``(output, aux)``; the Jacobian function then returns
            ``(jacobian, aux)``.

    Returns:
        A function with ``func``'s arguments that returns the Jacobian.

    Example:
        >>> x = ac.randn(3, dtype=ac.float64)
        >>> ac.func.jacrev(lambda t: t.sin())(x)  # diag(cos x)
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums(argnums, len(args), "jacrev")
        with enable_grad():
            new_args, variables, nested = _variables(args, nums, "jacrev")
            result, aux = _split_aux(func(*new_args, **kwargs), has_aux, "jacrev")
            is_tuple = isinstance(result, tuple)
            outputs = result if is_tuple else (result,)
            if not all(isinstance(o, Tensor) for o in outputs):
                raise RuntimeError(
                    "jacrev(f)(*args): Expected f to return a Tensor or a tuple of Tensors, got "
                    f"{type(result).__name__}"
                )
            jacobians = []
            for out in outputs:
                flat = out.reshape(-1)
                rows = [_grads([flat[j]], variables, None, nested) for j in range(out.numel())]
                blocks = tuple(
                    (
                        stack([r[k] for r in rows]) if rows else zeros_like(v).reshape(0, *v.shape)
                    ).reshape(out.shape + v.shape)
                    for k, v in enumerate(variables)
                )
                jacobians.append(blocks if isinstance(argnums, tuple) else blocks[0])
        jac = _detach_all(tuple(jacobians) if is_tuple else jacobians[0], nested)
        return (jac, _detach_all(aux, nested)) if has_aux else jac

    return wrapper


def hessian(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> Callable[..., Any]:
    """The Hessian of ``func`` with respect to argument(s) ``argnums``, as a function:
    ``jacrev(jacrev(func, argnums), argnums)`` (PyTorch uses forward mode outside).

    Example:
        >>> x = ac.randn(3, dtype=ac.float64)
        >>> ac.func.hessian(lambda t: (t**3).sum())(x)  # diag(6 x)
    """
    return jacrev(jacrev(func, argnums), argnums)
