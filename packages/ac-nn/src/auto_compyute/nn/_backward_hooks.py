"""Module backward hooks, built on identity ops around a module's inputs and outputs.

As PyTorch's ``BackwardHook`` does, ``Module.__call__`` passes the tensor arguments and
the tensor outputs of a module with backward hooks through an identity op each. The
identity ops of one side are created one after the other, with no op in between, and
backward runs ops newest first once all their consumers have run: so when the first of
them runs backward, the gradients of all of them are waiting in their ops. It gathers
them, runs the hooks and puts back what the hooks returned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from weakref import ref

from auto_compyute._core.autograd import Array, Op
from auto_compyute._core.tensor import Tensor


class BackwardHook(Op):
    """The identity; its backward hands the gradient to the module's hooks (``_HookState``)."""

    def forward(self, x: Array, *, state: _HookState, index: int, side: str) -> Array:
        return x

    def backward(self, grad: Array) -> Array | None:
        kwargs = self.kwargs
        return kwargs["state"].arrived(kwargs["side"], kwargs["index"], grad)

    def graph_backward(self, grad: Tensor) -> Tensor:
        raise NotImplementedError(
            "module backward hooks do not run under create_graph=True; remove them (the "
            "handle's remove()) before ac.autograd.grad(..., create_graph=True)"
        )


class _HookState:
    """The identity ops of one call of a module with backward hooks, and what the hooks
    saw and returned in the running backward pass.

    Args:
        module: The module.
        full_hooks: ``hook(module, grad_input, grad_output)``, run on the input side.
        pre_hooks: ``hook(module, grad_output)``, run on the output side.
    """

    def __init__(
        self,
        module: Any,
        full_hooks: Sequence[Callable[..., Any]],
        pre_hooks: Sequence[Callable[..., Any]],
    ) -> None:
        self.module, self.full_hooks, self.pre_hooks = module, full_hooks, pre_hooks
        # NOTE: weakly: the ops hold this state, and a cycle would keep a graph that is
        # never differentiated alive until the cyclic garbage collector runs.
        self.ops: dict[str, list[ref[Op] | None]] = {"input": [], "output": []}
        # per side: index -> (the gradient the hooks left waiting in that op, whether they
        # dropped it), for the ops of this pass that run after the first
        self.waiting: dict[str, dict[int, tuple[Array, bool]]] = {"input": {}, "output": {}}
        self.grad_output: tuple[Tensor | None, ...] = ()

    def wrap(self, side: str, values: Sequence[Any]) -> list[Any]:
        """Pass every tensor of ``values`` that requires grad through an identity op."""
        wrapped, ops = [], self.ops[side]
        for index, value in enumerate(values):
            op = None
            if isinstance(value, Tensor) and value.req_grad:
                value = BackwardHook.apply(value, state=self, index=index, side=side)
                op = value.ctx
            ops.append(None if op is None else ref(op))
            wrapped.append(value)
        return wrapped

    def wrap_output(self, output: Any) -> Any:
        """``wrap`` for a tensor, or for the tensors of a tuple or list; else unchanged."""
        if isinstance(output, Tensor):
            return self.wrap("output", [output])[0]
        if isinstance(output, (tuple, list)) and type(output) in (tuple, list):
            return type(output)(self.wrap("output", output))
        return output

    def arrived(self, side: str, index: int, grad: Array) -> Array | None:
        """Backward of the identity op ``index`` of ``side``: the gradient to pass on."""
        # NOTE: recognized by identity: the op's gradient is the very array left waiting
        # (all its consumers ran before), so a pass cut short by an error leaves no trace.
        expected = self.waiting[side].pop(index, None)
        if expected is not None and expected[0] is grad:  # the hooks ran for this pass
            return None if expected[1] else grad
        ops = [None if op is None else op() for op in self.ops[side]]
        grads = [
            grad if i == index else (None if op is None else op._grad) for i, op in enumerate(ops)
        ]
        grads = self._run_hooks(side, [None if g is None else Tensor._from_op(g) for g in grads])
        waiting = self.waiting[side] = {}
        for i, op in enumerate(ops):
            if op is None or i == index or op._grad is None:
                continue
            if grads[i] is not None:
                op._grad = grads[i]
            waiting[i] = (op._grad, grads[i] is None)
        return grads[index]

    def _run_hooks(self, side: str, grads: list[Tensor | None]) -> list[Array | None]:
        if side == "output":
            grad_output = tuple(grads)
            for hook in self.pre_hooks:
                grad_output = self._checked(hook(self.module, grad_output), grad_output, hook)
            self.grad_output = grad_output
            if self.full_hooks and not any(op is not None for op in self.ops["input"]):
                # NOTE: as in PyTorch, with no input that requires grad the full hooks
                # run here, with a grad_input of Nones.
                self._run_full_hooks((None,) * len(self.ops["input"]))
            result = grad_output
        else:
            result = self._run_full_hooks(tuple(grads))
        return [None if g is None else g.data for g in result]

    def _run_full_hooks(self, grad_input: tuple[Tensor | None, ...]) -> tuple[Tensor | None, ...]:
        for hook in self.full_hooks:
            grad_input = self._checked(
                hook(self.module, grad_input, self.grad_output), grad_input, hook
            )
        return grad_input

    @staticmethod
    def _checked(
        result: Any, grads: tuple[Tensor | None, ...], hook: Any
    ) -> tuple[Tensor | None, ...]:
        """What a hook returned, as the new gradients (None keeps them)."""
        if result is None:
            return grads
        result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
        if len(result) != len(grads):
            raise RuntimeError(
                f"backward hook {hook!r} returned {len(result)} gradients, expected "
                f"{len(grads)} (one per gradient it was given, None allowed)"
            )
        for new, old in zip(result, grads, strict=True):
            if new is not None and (not isinstance(new, Tensor) or old is None):
                raise TypeError(
                    f"backward hook {hook!r} returned {type(new).__name__} for a gradient that "
                    "is " + ("None" if old is None else "a Tensor") + "; return a Tensor of the "
                    "gradient's shape, or None, for each gradient that is a Tensor"
                )
            if new is not None and old is not None and new.shape != old.shape:
                raise RuntimeError(
                    f"backward hook {hook!r} returned a gradient of shape {new.shape}, "
                    f"expected {old.shape}"
                )
        return result
