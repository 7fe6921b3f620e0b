"""Higher-level autograd, as ``torch.autograd.functional``: vjp, jvp, Jacobians, Hessians.

Everything is built on ``grad``: a Jacobian row by row, a Jacobian-vector product by the
double-backward trick, Hessians as Jacobians of gradients (``create_graph=True``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from auto_compyute._core.autograd import enable_grad, grad, is_grad_enabled, set_grad_enabled
from auto_compyute._core.factories import zeros_like
from auto_compyute._core.functions import stack
from auto_compyute._core.tensor import Tensor

Tensors = tuple[Tensor, ...]


def _as_tuple(value: Any, arg_name: str, fn_name: str) -> tuple[bool, Tensors]:
    """``value`` as a tuple of tensors, and whether it was a tuple."""
    is_tuple = isinstance(value, tuple)
    values = value if is_tuple else (value,)
    for i, element in enumerate(values):
        if not isinstance(element, Tensor):
            where = f"the value at index {i}" if is_tuple else f"the given {arg_name}"
            raise TypeError(
                f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of "
                f"Tensors but {where} has type {type(element)}."
            )
    return is_tuple, values


def _tuple_postprocess(result: Any, is_tuple: bool | tuple[bool, bool]) -> Any:
    """Unwrap the one-element tuples that stand for single tensors."""
    if isinstance(is_tuple, tuple):
        if not is_tuple[1]:
            result = tuple(element[0] for element in result)
        if not is_tuple[0]:
            result = result[0]
    elif not is_tuple:
        result = result[0]
    return result


def _grad_preprocess(inputs: Tensors, create_graph: bool, need_graph: bool) -> Tensors:
    """Fresh leaves to differentiate at; with ``create_graph``, inputs that require grad
    stay in their graph, so that the results can be differentiated with respect to them."""
    return tuple(
        x if create_graph and x.req_grad else x.detach().requires_grad_(need_graph) for x in inputs
    )


def _grad_postprocess(values: Any, create_graph: bool) -> Any:
    if create_graph:
        return values
    if isinstance(values[0], Tensor):
        return tuple(v.detach() for v in values)
    return tuple(_grad_postprocess(v, create_graph) for v in values)


def _results(
    outputs: Tensors,
    is_outputs_tuple: bool,
    result: Tensors,
    is_result_tuple: bool,
    create_graph: bool,
) -> tuple[Any, Any]:
    """``(func_output, product)`` as returned by the vector-product functions."""
    return (
        _tuple_postprocess(_grad_postprocess(outputs, create_graph), is_outputs_tuple),
        _tuple_postprocess(_grad_postprocess(result, create_graph), is_result_tuple),
    )


def _validate_v(v: Tensors, other: Tensors, is_other_tuple: bool) -> None:
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(
                f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}."
            )
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (element, reference) in enumerate(zip(v, other, strict=True)):
        if element.shape != reference.shape:
            prefix = f"Entry {i} in " if is_other_tuple else ""
            raise RuntimeError(
                f"{prefix}v has invalid size: should be {reference.shape} but got {element.shape}."
            )


_INDEPENDENT = {
    "outputs": (
        "Output {i} of the user-provided function does not require gradients. The outputs "
        "must be computed in a differentiable manner from the input when running in strict mode."
    ),
    "grad_inputs": (
        "The gradient with respect to input {i} is independent of the inputs of the "
        "user-provided function. This is not allowed in strict mode."
    ),
    "jacobian": (
        "While computing the hessian, found that the jacobian of the user-provided function "
        "with respect to input {i} is independent of the input. This is not allowed in strict "
        "mode. You should ensure that your function is twice differentiable and that the "
        "jacobian depends on the inputs (this would be violated by a linear function for "
        "example)."
    ),
    "hessian": (
        "The hessian of the user-provided function with respect to input {i} is independent "
        "of the input. This is not allowed in strict mode. You should ensure that your "
        "function is thrice differentiable and that the hessian depends on the inputs."
    ),
}


_MISSING = {
    "back": "The output of the user-provided function is independent of input {i}. "
    "This is not allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
    "grad_outputs when using the double backward trick to compute forward mode gradients. "
    "This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. "
    "This is not allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry "
    "{i} in the grad_jacobian. This is not allowed in strict mode as it prevents from using "
    "the double backward trick to replace forward mode AD.",
}


def _check_requires_grad(values: Sequence[Tensor | None], kind: str, strict: bool) -> None:
    if not strict:
        return
    for i, value in enumerate(values):
        if value is None:
            raise RuntimeError(_MISSING["back"].format(i=i))
        if not value.req_grad:
            raise RuntimeError(_INDEPENDENT[kind].format(i=i))


def _call_func(
    func: Callable[..., Any], inputs: Tensors, fn_name: str, strict: bool
) -> tuple[bool, Tensors]:
    """``func(*inputs)`` as a tuple of tensors, and whether it was a tuple; with ``strict``,
    every output must require grad."""
    is_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", fn_name)
    _check_requires_grad(outputs, "outputs", strict)
    return is_tuple, outputs


def _check_single_element(outputs: Tensors, is_tuple: bool, fn_name: str) -> None:
    """Raise unless the user-provided function returned one tensor with one element."""
    if is_tuple:
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(
            f"The Tensor returned by the function given to {fn_name} should contain a single "
            f"element, got shape {outputs[0].shape}"
        )


def _autograd_grad(
    outputs: Sequence[Tensor | None],
    inputs: Sequence[Tensor],
    grad_outputs: Sequence[Tensor | None] | None = None,
    create_graph: bool = False,
    retain_graph: bool | None = None,
) -> tuple[Tensor | None, ...]:
    """``grad`` of the outputs that require grad; all None when none does."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [
        (out, g)
        for out, g in zip(outputs, grad_outputs, strict=True)
        if out is not None and out.req_grad
    ]
    if not pairs:
        return (None,) * len(inputs)
    return grad(
        [out for out, _ in pairs],
        list(inputs),
        [g for _, g in pairs],
        retain_graph=create_graph if retain_graph is None else retain_graph,
        create_graph=create_graph,
        allow_unused=True,
    )


def _fill_in_zeros(
    grads: Sequence[Tensor | None], refs: Tensors, strict: bool, create_graph: bool, stage: str
) -> Tensors:
    """Zeros for the missing gradients (or, with ``strict``, an error)."""
    result = []
    for i, (g, ref) in enumerate(zip(grads, refs, strict=True)):
        if g is None:
            if strict:
                raise RuntimeError(_MISSING[stage].format(i=i))
            g = zeros_like(ref)
        elif strict and create_graph and not g.req_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(
                f"The {what} of the user-provided function is independent of input {i}. "
                "This is not allowed in strict mode when create_graph=True."
            )
        result.append(g)
    return tuple(result)


def _prepare_v(
    v: Any, reference: Tensors, is_reference_tuple: bool, create_graph: bool, fn_name: str
) -> Tensors | None:
    """Check ``v`` against the tensors it multiplies; None is allowed for one element."""
    if v is None:
        if len(reference) != 1 or reference[0].numel() != 1:
            what = (
                "the user-provided function returns a single Tensor"
                if fn_name == "vjp"
                else "the input to the user-provided function is a single Tensor"
            )
            raise RuntimeError(f"The vector v can only be None if {what} with a single element.")
        return None
    _, values = _as_tuple(v, "v", fn_name)
    values = _grad_preprocess(values, create_graph, need_graph=False)
    _validate_v(values, reference, is_reference_tuple)
    return values


def vjp(
    func: Callable[..., Any],
    inputs: Tensor | Tensors,
    v: Tensor | Tensors | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """The product ``v^T J`` of a vector and the Jacobian of ``func`` at ``inputs``.

    Args:
        func: A function of tensors that returns a tensor or a tuple of tensors.
        inputs: The point: a tensor or a tuple of tensors (``func(*inputs)``).
        v: Like the outputs of ``func``; may be omitted when ``func`` returns one element.
        create_graph: Record the computation, so that the results can be differentiated
            (with respect to ``inputs`` that require grad).
        strict: Raise if an input has no influence on the outputs, instead of returning
            zeros for it.

    Returns:
        ``(func_output, vjp)``; ``vjp`` is shaped like ``inputs``.

    Example:
        >>> x = ac.randn(4, 4)
        >>> out, vjp = ac.autograd.functional.vjp(lambda t: t.exp().sum(dim=1), x, ac.ones(4))
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _grad_preprocess(inputs, create_graph, need_graph=True)
        is_outputs_tuple, outputs = _call_func(func, inputs, "vjp", strict)
        vs = _prepare_v(v, outputs, is_outputs_tuple, create_graph, "vjp")
    with set_grad_enabled(create_graph or is_grad_enabled()):
        grads = _autograd_grad(outputs, inputs, vs, create_graph)
        result = _fill_in_zeros(grads, inputs, strict, create_graph, "back")
    return _results(outputs, is_outputs_tuple, result, is_inputs_tuple, create_graph)


def jvp(
    func: Callable[..., Any],
    inputs: Tensor | Tensors,
    v: Tensor | Tensors | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """The product ``J v`` of the Jacobian of ``func`` at ``inputs`` and a vector.

    Computed, as in PyTorch, by the double-backward trick: ``J v`` is the gradient of
    ``u -> (u^T J) . v`` for a dummy cotangent ``u``, so it costs two backward passes and
    needs differentiable backwards (``graph_backward``) of the ops in ``func``.

    Args:
        func: A function of tensors that returns a tensor or a tuple of tensors.
        inputs: The point: a tensor or a tuple of tensors.
        v: Like ``inputs``; may be omitted when ``inputs`` is one element.
        create_graph: Record the computation, so that the results can be differentiated.
        strict: Raise if an output does not depend on the inputs, instead of returning
            zeros for it.

    Returns:
        ``(func_output, jvp)``; ``jvp`` is shaped like the outputs.
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _grad_preprocess(inputs, create_graph, need_graph=True)
        vs = _prepare_v(v, inputs, is_inputs_tuple, create_graph, "jvp")
        is_outputs_tuple, outputs = _call_func(func, inputs, "jvp", strict)
        dummies = tuple(zeros_like(out, req_grad=True) for out in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, dummies, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict)
    with set_grad_enabled(create_graph or is_grad_enabled()):
        grads = _autograd_grad(grad_inputs, dummies, vs, create_graph)
        result = _fill_in_zeros(grads, outputs, strict, create_graph, "back_trick")
    return _results(outputs, is_outputs_tuple, result, is_outputs_tuple, create_graph)


def jacobian(
    func: Callable[..., Any],
    inputs: Tensor | Tensors,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    strategy: str = "reverse-mode",
) -> Any:
    """The Jacobian of ``func`` at ``inputs``.

    For an output of shape ``O`` and an input of shape ``I`` the Jacobian has shape
    ``O + I``. With one output and one input the result is that tensor; with a tuple of
    inputs, a tuple over the inputs; with a tuple of outputs, a tuple over the outputs
    (of tuples over the inputs, if those are a tuple too).

    The Jacobian is computed row by row: one backward pass per output element. There is
    no batched backward here, so ``vectorize=True`` computes the same rows by the same
    loop (accepted for PyTorch compatibility); ``strategy="forward-mode"`` is not
    available (there is no forward-mode autodiff).

    Args:
        func: A function of tensors that returns a tensor or a tuple of tensors.
        inputs: The point: a tensor or a tuple of tensors.
        create_graph: Record the computation, so that the Jacobian can be differentiated.
        strict: Raise if an output does not depend on an input, instead of returning
            zeros for that block.
        vectorize: Accepted; the rows are computed by the same loop.
        strategy: ``"reverse-mode"`` (the only one available).

    Returns:
        The Jacobian, nested as described above.

    Example:
        >>> x = ac.randn(2, 2, dtype=ac.float64)
        >>> ac.autograd.functional.jacobian(lambda t: t.exp().sum(dim=1), x).shape
        (2, 2, 2)
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise ValueError(
            f'jacobian: strategy must be "reverse-mode" or "forward-mode", got {strategy!r}'
        )
    if strategy == "forward-mode":
        raise NotImplementedError(
            'jacobian: strategy="forward-mode" needs forward-mode autodiff, which is not '
            'available; use strategy="reverse-mode"'
        )
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _grad_preprocess(inputs, create_graph, need_graph=True)
        is_outputs_tuple, outputs = _call_func(func, inputs, "jacobian", strict)
        if vectorize and strict:
            raise RuntimeError(
                "torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are "
                "not supported together. Please either set `strict=False` or "
                "`vectorize=False`."
            )
        jacobians = []
        for i, out in enumerate(outputs):
            rows: list[list[Tensor]] = [[] for _ in inputs]
            flat = out.reshape(-1)
            for j in range(out.numel()):
                row = _autograd_grad(
                    (flat[j],), inputs, retain_graph=True, create_graph=create_graph
                )
                for k, (g, x) in enumerate(zip(row, inputs, strict=True)):
                    if g is None:
                        if strict:
                            raise RuntimeError(
                                f"Output {i} of the user-provided function is independent of "
                                f"input {k}. This is not allowed in strict mode."
                            )
                        g = zeros_like(x)
                    elif strict and create_graph and not g.req_grad:
                        raise RuntimeError(
                            "The jacobian of the user-provided function is independent of "
                            f"input {i}. This is not allowed in strict mode when "
                            "create_graph=True."
                        )
                    rows[k].append(g)
            jacobians.append(
                tuple(
                    _stack_rows(r, x).reshape(out.shape + x.shape)
                    for r, x in zip(rows, inputs, strict=True)
                )
            )
        result = _grad_postprocess(tuple(jacobians), create_graph)
    return _tuple_postprocess(result, (is_outputs_tuple, is_inputs_tuple))


def _stack_rows(rows: list[Tensor], like: Tensor) -> Tensor:
    # NOTE: an output with no elements has no rows to stack: its Jacobian block is empty.
    return stack(rows) if rows else zeros_like(like).reshape(0, *like.shape)


def hessian(
    func: Callable[..., Any],
    inputs: Tensor | Tensors,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    outer_jacobian_strategy: str = "reverse-mode",
) -> Any:
    """The Hessian of a scalar function ``func`` at ``inputs``.

    For one input of shape ``I`` the Hessian has shape ``I + I``; for a tuple of inputs it
    is a tuple of tuples, block ``[i][j]`` of shape ``I_i + I_j``. It is the Jacobian of the
    gradient, so the ops in ``func`` need differentiable backwards (``graph_backward``).

    Args:
        func: A function of tensors that returns a tensor with one element.
        inputs: The point: a tensor or a tuple of tensors.
        create_graph: Record the computation, so that the Hessian can be differentiated.
        strict: Raise if the Hessian with respect to an input cannot depend on it.
        vectorize: Accepted; see ``jacobian``.
        outer_jacobian_strategy: ``"reverse-mode"`` (the only one available).

    Returns:
        The Hessian, nested as described above.

    Example:
        >>> x = ac.randn(3, dtype=ac.float64)
        >>> ac.autograd.functional.hessian(lambda t: (t**3).sum(), x)  # diag(6 x)
    """
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def ensure_single_output_function(*args: Tensor) -> Tensor:
        is_out_tuple, outs = _call_func(func, args, "hessian", strict)
        _check_single_element(outs, is_out_tuple, "hessian")
        return outs[0].squeeze()

    def jac_func(*args: Tensor) -> Any:
        jac = jacobian(ensure_single_output_function, args, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    result = jacobian(
        jac_func,
        inputs,
        create_graph=create_graph,
        strict=strict,
        vectorize=vectorize,
        strategy=outer_jacobian_strategy,
    )
    return _tuple_postprocess(result, (is_inputs_tuple, is_inputs_tuple))


def _scalar_function_grad(
    func: Callable[..., Any], inputs: Any, v: Any, create_graph: bool, strict: bool, name: str
) -> tuple[bool, Tensors, bool, Tensors, Tensors | None, tuple[Tensor | None, ...]]:
    """What ``vhp`` and ``hvp`` share: the checked inputs, outputs and ``v``, and the
    gradient of ``func`` with its graph."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", name)
    inputs = _grad_preprocess(inputs, create_graph, need_graph=True)
    vs = _prepare_v(v, inputs, is_inputs_tuple, create_graph, name)
    is_outputs_tuple, outputs = _call_func(func, inputs, name, strict)
    _check_single_element(outputs, is_outputs_tuple, name)
    jac = _autograd_grad(outputs, inputs, create_graph=True)
    _check_requires_grad(jac, "jacobian", strict)
    return is_inputs_tuple, inputs, is_outputs_tuple, outputs, vs, jac


def vhp(
    func: Callable[..., Any],
    inputs: Tensor | Tensors,
    v: Tensor | Tensors | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """The product ``v^T H`` of a vector and the Hessian of a scalar ``func`` at ``inputs``.

    Args:
        func: A function of tensors that returns a tensor with one element.
        inputs: The point: a tensor or a tuple of tensors.
        v: Like ``inputs``; may be omitted when ``inputs`` is one element.
        create_graph: Record the computation, so that the results can be differentiated.
        strict: Raise if an input has no influence on the gradient, instead of zeros.

    Returns:
        ``(func_output, vhp)``; ``vhp`` is shaped like ``inputs``.
    """
    with enable_grad():
        is_inputs_tuple, inputs, is_outputs_tuple, outputs, vs, jac = _scalar_function_grad(
            func, inputs, v, create_graph, strict, "vhp"
        )
    with set_grad_enabled(create_graph or is_grad_enabled()):
        grads = _autograd_grad(jac, inputs, vs, create_graph)
        result = _fill_in_zeros(grads, inputs, strict, create_graph, "double_back")
    return _results(outputs, is_outputs_tuple, result, is_inputs_tuple, create_graph)


def hvp(
    func: Callable[..., Any],
    inputs: Tensor | Tensors,
    v: Tensor | Tensors | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """The product ``H v`` of the Hessian of a scalar ``func`` at ``inputs`` and a vector.

    Computed by the double-backward trick, as in PyTorch (for a twice-differentiable
    ``func`` the Hessian is symmetric and ``hvp`` equals ``vhp``).

    Args:
        func: A function of tensors that returns a tensor with one element.
        inputs: The point: a tensor or a tuple of tensors.
        v: Like ``inputs``; may be omitted when ``inputs`` is one element.
        create_graph: Record the computation, so that the results can be differentiated.
        strict: Raise if an input has no influence on the gradient, instead of zeros.

    Returns:
        ``(func_output, hvp)``; ``hvp`` is shaped like ``inputs``.
    """
    with enable_grad():
        is_inputs_tuple, inputs, is_outputs_tuple, outputs, vs, jac = _scalar_function_grad(
            func, inputs, v, create_graph, strict, "hvp"
        )
        dummies = tuple(zeros_like(x, req_grad=True) for x in inputs)
        double_back = _autograd_grad(jac, inputs, dummies, create_graph=True)
        _check_requires_grad(jac, "hessian", strict)
    with set_grad_enabled(create_graph or is_grad_enabled()):
        grads = _autograd_grad(double_back, dummies, vs, create_graph)
        result = _fill_in_zeros(grads, inputs, strict, create_graph, "double_back_trick")
    return _results(outputs, is_outputs_tuple, result, is_inputs_tuple, create_graph)
