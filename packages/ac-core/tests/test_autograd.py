"""The engine: accumulation, graph freeing, grad mode, grad(), custom ops and gradcheck."""

import gc
import threading
import weakref
from typing import Any, ClassVar

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute._core.autograd import may_overwrite


def test_gradients_accumulate_across_backward_calls() -> None:
    x = ac.tensor([1.0, 2.0], req_grad=True)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad, [5.0, 7.0])


def test_shared_subexpression_gradients_add_up() -> None:
    x = ac.tensor(3.0, req_grad=True)
    y = x * x
    z = y + y * x  # x**2 + x**3
    z.backward()
    assert x.grad == pytest.approx(2 * 3 + 3 * 9)


def test_same_tensor_twice_in_one_op() -> None:
    x = ac.tensor([2.0], req_grad=True)
    (x + x).sum().backward()
    assert x.grad.tolist() == [2.0]


def test_leaf_gradients_do_not_alias() -> None:
    a = ac.ones(3, req_grad=True)
    b = ac.ones(3, req_grad=True)
    (a + b).sum().backward()
    a.grad *= 10  # optimizers and clipping change grads in place
    assert b.grad.tolist() == [1.0, 1.0, 1.0]
    assert a.grad.flags.writeable and b.grad.flags.writeable


def test_non_scalar_backward_needs_gradient() -> None:
    x = ac.ones(2, 3, req_grad=True)
    with pytest.raises(RuntimeError, match=r"shape \(2, 3\)"):
        (x * 2).backward()
    (x * 2).backward(ac.ones(2, 3))
    np.testing.assert_array_equal(x.grad, np.full((2, 3), 2.0))
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\)"):
        (x * 2).backward(np.ones(3))


def test_second_backward_through_freed_graph_raises() -> None:
    x = ac.ones(2, req_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_second_backward() -> None:
    x = ac.ones(2, req_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * 2 * np.e)


def test_backward_tells_ops_whether_the_graph_is_retained() -> None:
    seen = []

    class Record(ac.Op):
        def forward(self, x):
            return x.copy()

        def backward(self, grad):
            seen.append(ac.autograd.is_graph_retained())
            if len(seen) == 1:  # a backward inside a backward, as activation checkpointing runs
                inner = ac.ones(1, req_grad=True)
                (inner * 2).sum().backward()
            return grad

    x = ac.ones(2, req_grad=True)
    y = Record.apply(x).sum()
    assert ac.autograd.is_graph_retained()  # outside backward, nothing may be overwritten
    y.backward(retain_graph=True)
    y.backward()
    ac.autograd.grad(Record.apply(x).sum(), [x])
    assert seen == [True, False, False]
    assert ac.autograd.is_graph_retained()


def test_backward_frees_cached_buffers() -> None:
    x = ac.ones(2, req_grad=True)
    y = x.exp()
    z = y.sum()
    assert hasattr(y.ctx, "out")
    z.backward()
    assert not hasattr(y.ctx, "out") and y.ctx.freed and y.ctx.name == "Exp"


def test_graph_frees_intermediate_results_nothing_uses() -> None:
    x = ac.ones(3, req_grad=True)
    hidden = x + 1  # Add keeps nothing for backward
    kept = hidden * 2  # Mul keeps its inputs' arrays, not the tensor `hidden`
    loss = (kept + 1).sum()
    hidden_ref, kept_data_ref = weakref.ref(hidden), weakref.ref(kept.data)
    del hidden, kept
    gc.collect()
    assert hidden_ref() is None and kept_data_ref() is None
    loss.backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_src_gives_live_tensors_and_stand_ins_for_freed_ones() -> None:
    x = ac.ones(2, 3, req_grad=True)
    hidden = x * 2
    y = (hidden + 1).exp()
    assert y.src[0].src[0] is hidden and hidden.src[0] is x
    stand_in = y.src[0]  # `hidden + 1` was freed
    assert stand_in is y.src[0] and stand_in.ctx is y.ctx.parents[0]
    assert stand_in.shape == (2, 3) and stand_in.dtype == ac.float32
    assert stand_in.ctx.name == "Add" and np.isnan(stand_in.numpy()).all()
    exp = y.ctx
    del y, stand_in  # an op whose own result is gone still lists its inputs
    assert exp.src[0].ctx is exp.parents[0] and exp.src[0].shape == (2, 3)


def test_src_finds_results_recorded_after_an_earlier_lookup() -> None:
    x = ac.ones(2, req_grad=True)
    first = x * 2
    assert (first + 1).src[0] is first
    second = first * 3  # recorded after the lookup above
    third = second.exp()
    assert third.src[0] is second and second.src[0] is first
    del second
    assert third.src[0].ctx is third.ctx.parents[0] and np.isnan(third.src[0].numpy()).all()


def test_a_failed_backward_leaves_no_gradient_behind() -> None:
    class Fails(ac.Op):
        def forward(self, x):
            return x.copy()

        def backward(self, grad):
            raise ValueError("boom")

    x = ac.ones(2, req_grad=True)
    h = x * 2
    a = h * 3  # made before Fails: its gradient waits while Fails runs backward
    with pytest.raises(ValueError, match="boom"):
        (a + Fails.apply(h)).sum().backward()
    a.sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]


def test_backward_without_grad_requirement_raises() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        ac.ones(1).backward()


def test_long_chain_has_no_recursion_limit() -> None:
    x = ac.tensor([1.0], req_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 0.0
    y.sum().backward()
    assert x.grad.tolist() == [1.0]


def test_no_grad_nesting_restores_mode() -> None:
    assert ac.is_grad_enabled()
    with ac.no_grad():
        assert not ac.is_grad_enabled()
        with ac.enable_grad():
            assert ac.is_grad_enabled()
            with ac.no_autograd_tracking():
                assert not ac.is_grad_enabled()
            assert ac.is_grad_enabled()
        assert not ac.is_grad_enabled()
    assert ac.is_grad_enabled()


def test_no_grad_as_decorator_and_exception_safety() -> None:
    x = ac.ones(2, req_grad=True)

    @ac.no_grad()
    def double(t: ac.Tensor) -> ac.Tensor:
        return t * 2

    y = double(x)
    assert not y.req_grad and y.ctx is None
    with pytest.raises(ZeroDivisionError), ac.no_grad():
        1 / 0  # noqa: B018
    assert ac.is_grad_enabled()
    with ac.set_grad_enabled(False):
        assert not (x * 2).req_grad
    assert (x * 2).req_grad


def test_grad_mode_is_thread_local() -> None:
    seen = []
    ready, done = threading.Event(), threading.Event()

    def worker() -> None:
        ready.wait()
        seen.append(ac.is_grad_enabled())
        done.set()

    thread = threading.Thread(target=worker)
    thread.start()
    with ac.no_grad():
        ready.set()
        done.wait()
    thread.join()
    assert seen == [True]


def test_autograd_grad_leaves_dot_grad_untouched() -> None:
    x = ac.tensor([1.0, 2.0], req_grad=True)
    w = ac.tensor([3.0, 4.0], req_grad=True)
    y = (x * w).sum()
    gx, gw = ac.autograd.grad(y, [x, w])
    assert gx.tolist() == [3.0, 4.0] and gw.tolist() == [1.0, 2.0]
    assert x.grad is None and w.grad is None
    h = x * 2
    (gh,) = ac.autograd.grad((h * h).sum(), h)  # a non-leaf input
    assert gh.tolist() == [4.0, 8.0]


def test_autograd_grad_unused_input() -> None:
    x, unused = ac.ones(2, req_grad=True), ac.ones(2, req_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused"):
        ac.autograd.grad(x.sum(), [x, unused])
    assert ac.autograd.grad(x.sum(), [x, unused], allow_unused=True)[1] is None


def test_custom_op() -> None:
    class Cube(ac.Op):
        """x**3; d/dx = 3 x**2."""

        def forward(self, x):
            self.x = x
            return x**3

        def backward(self, grad):
            return 3 * self.x**2 * grad

    x = ac.randn(4, dtype=ac.float64, req_grad=True)
    y = Cube.apply(x)
    assert y.ctx.name == "Cube" and repr(y).endswith("grad_fn=Cube)")
    assert ac.autograd.gradcheck(Cube.apply, [x])
    y.sum().backward()
    np.testing.assert_allclose(x.grad, 3 * x.numpy() ** 2)


def test_custom_op_subclasses_and_overrides() -> None:
    class Scale(ac.Op):
        factor = 2.0

        def forward(self, x):
            return x * self.factor

        def backward(self, grad):
            return grad * self.factor

    class Triple(Scale):  # a subclass of a user op runs the engine as well
        factor = 3.0

    calls = []

    class Logged(Scale):  # an apply of its own is kept, and inherited
        @classmethod
        def apply(cls, *srcs, **kwargs):
            calls.append(cls.__name__)
            return super().apply(*srcs, **kwargs)

    class LoggedAgain(Logged):
        pass

    x = ac.ones(2, dtype=ac.float64, req_grad=True)
    for op, factor in ((Scale, 2), (Triple, 3), (Logged, 2), (LoggedAgain, 2)):
        x.grad = None
        op.apply(x).sum().backward()
        np.testing.assert_array_equal(x.grad, [factor, factor])
    assert calls == ["Logged", "LoggedAgain"]


def test_gradcheck_catches_a_wrong_backward() -> None:
    class WrongSquare(ac.Op):
        def forward(self, x):
            self.x = x
            return x * x

        def backward(self, grad):
            return self.x * grad  # missing the factor 2

    x = ac.randn(3, dtype=ac.float64, req_grad=True)
    with pytest.raises(ac.autograd.GradcheckError, match="input 0"):
        ac.autograd.gradcheck(WrongSquare.apply, [x])
    assert not ac.autograd.gradcheck(WrongSquare.apply, [x], raise_exception=False)


def test_gradcheck_requires_float64() -> None:
    with pytest.raises(ValueError, match="float64"):
        ac.autograd.gradcheck(lambda t: t * 2, [ac.ones(2, req_grad=True)])


def test_float64_model_trains_end_to_end() -> None:
    ac.manual_seed(0)
    w = ac.randn(3, 1, dtype=ac.float64, req_grad=True)
    x = ac.randn(16, 3, dtype=ac.float64)
    y = x @ ac.tensor([[1.0], [-2.0], [0.5]], dtype=ac.float64)
    for _ in range(200):
        loss = ((x @ w - y) ** 2).mean()
        w.grad = None
        loss.backward()
        assert w.grad.dtype == np.float64
        with ac.no_grad():
            w.data -= 0.1 * w.grad
    np.testing.assert_allclose(w.numpy().ravel(), [1.0, -2.0, 0.5], atol=1e-6)


def test_no_graph_is_built_for_constants() -> None:
    y = ac.ones(2) * 3
    assert y.ctx is None and y.src == () and not y.req_grad


def test_tensor_hooks_change_gradients_and_retain_grad_keeps_them() -> None:
    x = ac.tensor([1.0, 2.0], req_grad=True)
    y = x * 3
    y.retain_grad()
    scale = y.register_hook(lambda g: g * 10)  # flows on to x, and into y.grad
    shift = x.register_hook(lambda g: g + 1)  # a leaf's hook: what lands in x.grad
    (y * y).sum().backward()
    assert y.grad.tolist() == [60.0, 120.0] and x.grad.tolist() == [181.0, 361.0]
    scale.remove()
    shift.remove()
    x.grad = None
    z = x * 3
    z.retain_grad()
    (z * z).sum().backward()
    assert z.grad.tolist() == [6.0, 12.0] and x.grad.tolist() == [18.0, 36.0]
    seen = []
    x.register_hook(seen.append)  # a hook that returns None only looks
    (x * 2).sum().backward()
    assert [g.tolist() for g in seen] == [[2.0, 2.0]]
    with pytest.raises(RuntimeError, match="does not require grad"):
        ac.ones(2).register_hook(print)
    x.retain_grad()  # a leaf keeps its gradient anyway


def test_autograd_grad_runs_tensor_hooks_once_and_returns_their_result() -> None:
    x = ac.tensor([1.0, 2.0], req_grad=True)
    y = x * 3
    y.retain_grad()
    calls = []
    y.register_hook(lambda g: calls.append("y") or g * 10)
    x.register_hook(lambda g: calls.append("x") or g + 1)
    loss = (y * y).sum()
    assert ac.autograd.grad(loss, x, retain_graph=True)[0].tolist() == [181.0, 361.0]
    assert calls == ["y", "x"] and y.grad.tolist() == [60.0, 120.0] and x.grad is None
    grad_y, grad_x = ac.autograd.grad(loss, [y, x], retain_graph=True)
    assert grad_y.tolist() == [60.0, 120.0] and grad_x.tolist() == [181.0, 361.0]
    assert calls == ["y", "x"] * 2 and y.grad.tolist() == [120.0, 240.0]
    (grad_x,) = ac.autograd.grad(loss, x, create_graph=True)  # hooks on recorded gradients
    assert grad_x.tolist() == [181.0, 361.0] and grad_x.req_grad and calls[-2:] == ["y", "x"]
    # d(180 x + 1)/dx, through y's op again (its hook: times 10) and x's hook (plus 1)
    assert ac.autograd.grad(grad_x.sum(), x)[0].tolist() == [1801.0, 1801.0]


def test_hooks_of_a_freed_graph_go_with_it() -> None:
    x = ac.tensor([1.0], req_grad=True)
    y = x.exp()
    y.register_hook(lambda g: g * 0)
    y.backward()
    assert x.grad.tolist() == [0.0] and not y.ctx.__dict__  # the op dropped hooks and cache


SECOND_ORDER = {
    "arithmetic": lambda a, b: (a * b - a / (b + 3) + (-a) ** 3).sum(dim=1),
    "broadcast": lambda a, b: a * b[0] + b[1:2].exp(),
    "unary": lambda a, b: a.tanh() + a.sigmoid() * a.sin() + (b * b + 1).log() + a.cos(),
    "more_unary": lambda a, b: (
        (b * b + 1).sqrt() + a.exp() + (a * 0.1).log1p() + (a * 0.3).expm1() + (b + 5).reciprocal()
    ),
    "piecewise": lambda a, b: (
        a.relu() * a
        + a.abs() * b
        + a.clamp(-0.5, 0.5) * a
        + ac.maximum(a, b) * a
        + ac.minimum(a, b) * b
    ),
    "where_and_steps": lambda a, b: ac.where(a > 0, a * a, b * a) + a.floor() * a,
    "reductions": lambda a, b: (
        a.sum(dim=0) * a.mean()
        + (a * b).max(dim=1).values.sum()
        + (a * a).amin(dim=0, keepdim=True)
    ),
    "softmax": lambda a, b: a.softmax(dim=1) * b + a.log_softmax(dim=0) * a,
    "movement": lambda a, b: (
        (a.reshape(4, 3) * b.permute(1, 0)).flatten()[1:7] ** 2
        + ac.cat([a, b], dim=0)[2:4].sum()
        + ac.stack([a, b])[1].sum(dim=1).expand(2, 3)[0, :2].sum()
    ),
    "indexing": lambda a, b: (
        (a[[0, 2, 2], [1, 1, 3]] ** 2).sum()
        + a.gather(1, ac.tensor([[0, 0], [3, 1], [2, 2]])).pow(3).sum()
        + (ac.pad(a, (1, 0)) * ac.pad(a, (0, 1))).sum()
        + (a.tril() * a.triu(1)).sum()
    ),
    "matmul": lambda a, b: ((a @ b.T).tanh() @ b).cumsum(dim=1),
    "matmul_1d": lambda a, b: (
        (a[0] @ b[1]) * (a[1] @ b.T) @ b
        + (a @ b[2]).tanh() @ (a * b)
        + (ac.stack([a, b]) @ b[0]).sin().sum(dim=0).reshape(3, 1)
    ),
    "copy": lambda a, b: (a.clone() * a).sum() + a.contiguous() * b,
    "tensor_power": lambda a, b: (a.abs() + 0.5) ** b + b ** (a * b),
    "var_and_norm": lambda a, b: (
        (a.var(dim=1) * b.sum(dim=1)).sum()
        + a.std() * b.var(dim=0, correction=0, keepdim=True)
        + (a * b).norm(dim=1, keepdim=True)
        + a.norm() * b.std(dim=(0, 1))
    ),
    "products": lambda a, b: (
        a.prod(dim=1, keepdim=True) * b.prod(dim=0)
        + a.prod() * b
        + (a * b).cumprod(dim=0) * a
        + b.cumprod(dim=1).prod(dim=0)
    ),
    "scatter": lambda a, b: (
        a.scatter(1, ac.tensor([[0, 2], [3, 1], [1, 2]]), b[:, :2] * a[:, 1:3]) ** 2
        + a.scatter_add(0, ac.tensor([[0, 1, 2, 0], [2, 2, 0, 0]]), b[:2] * a[1:]) * a
    ),
    "inner_dims": lambda a, b: (
        a.reshape(2, 3, 2).gather(1, ac.tensor([[[0, 2], [2, 2]], [[1, 0], [1, 1]]])).pow(3).sum()
        + a.reshape(2, 3, 2).scatter_add(1, ac.tensor([[[2, 0]], [[2, 2]]]), b.reshape(2, 3, 2))
        * a.reshape(2, 3, 2)
        + (a.reshape(2, 3, 2).scatter(0, ac.tensor([[[1, 0]]]), b[:1, :2].reshape(1, 1, 2)) ** 2)
        + a.index_select(1, ac.tensor([3, 0, 3])).pow(2).sum()
    ),
    "scatter_reduce": lambda a, b: sum(
        (
            a.scatter_reduce(1, ac.tensor([[0, 2], [3, 3], [1, 1]]), b[:, :2] * a[:, 1:3], r)
            * b.scatter_reduce(0, ac.tensor([[0, 1, 2, 0]]), a[1:2], r, include_self=False)
        ).sin()
        for r in ("sum", "mean", "amax", "amin", "prod")
    ),
    "logcumsumexp": lambda a, b: (a * 3).logcumsumexp(1) * b + (a * b).logcumsumexp(0).sin(),
    "einsum": lambda a, b: (
        ac.einsum("ij,kj->ik", a, b).tanh() @ b
        + ac.einsum("ij,ij->j", a, a * b)
        + ac.einsum("ij,jk->i", a * a, b.T).reshape(3, 1)
    ),
}


@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
def test_second_derivatives_match_finite_differences(name: str) -> None:
    rng = np.random.default_rng(7)
    a = ac.tensor(rng.uniform(-1.5, 1.5, (3, 4)), dtype=ac.float64, req_grad=True)
    b = ac.tensor(rng.uniform(0.2, 1.5, (3, 4)), dtype=ac.float64, req_grad=True)
    assert ac.autograd.gradgradcheck(SECOND_ORDER[name], [a, b])


@pytest.mark.parametrize("include_self", [True, False])
def test_second_derivatives_of_scatter_reduce_prod_with_zeros(include_self: bool) -> None:
    x = ac.tensor([0.0, 2.0, -1.5], dtype=ac.float64, req_grad=True)
    src = ac.tensor([0.0, 3.0, 0.5, 0.0, 1.2], dtype=ac.float64, req_grad=True)
    index = ac.tensor([0, 0, 1, 1, 2])
    assert ac.autograd.gradgradcheck(
        lambda a, b: a.scatter_reduce(0, index, b, "prod", include_self=include_self) * a,
        [x, src],
    )
    # NOTE: two zeros of src at one place: first derivatives only, as in PyTorch
    twice = ac.tensor([0, 0, 1, 0, 2])
    (first,) = ac.autograd.grad(x.scatter_reduce(0, twice, src, "prod").sum(), [src])
    np.testing.assert_array_equal(first.numpy(), [0.0, 0.0, 2.0, 0.0, -1.5])
    with pytest.raises(NotImplementedError, match="two or more zeros of src"):
        ac.autograd.grad(x.scatter_reduce(0, twice, src, "prod").sum(), [src], create_graph=True)


def test_second_derivatives_of_logcumsumexp_where_the_gradient_ends_in_zeros() -> None:
    # NOTE: each sign's part of the gradient is 0 at the end of the axis
    y = ac.tensor([0.3, -1.2, 2.0, 0.7, -0.4], dtype=ac.float64, req_grad=True)
    assert ac.autograd.gradgradcheck(lambda t: t.logcumsumexp(0)[:3], [y])


def test_gradients_of_gradients() -> None:
    x = ac.tensor([0.5, -1.0, 2.0], dtype=ac.float64, req_grad=True)
    (first,) = ac.autograd.grad((x**4).sum(), x, create_graph=True)
    np.testing.assert_allclose(first.numpy(), 4 * x.numpy() ** 3)
    assert first.req_grad and first.ctx is not None
    (second,) = ac.autograd.grad(first.sum(), x, create_graph=True)
    np.testing.assert_allclose(second.numpy(), 12 * x.numpy() ** 2)
    (third,) = ac.autograd.grad(second.sum(), x)
    np.testing.assert_allclose(third.numpy(), 24 * x.numpy())
    assert not third.req_grad


def test_create_graph_reaches_intermediate_inputs_and_keeps_the_graph() -> None:
    x = ac.tensor([1.0, 2.0], dtype=ac.float64, req_grad=True)
    hidden = x * x
    y = (hidden * hidden).sum()
    (by_hidden,) = ac.autograd.grad(y, hidden, create_graph=True)
    np.testing.assert_allclose(by_hidden.numpy(), 2 * hidden.numpy())
    y.backward()  # the graph was kept for a later backward
    np.testing.assert_allclose(x.grad, 4 * x.numpy() ** 3)


def test_create_graph_names_an_op_without_a_differentiable_backward() -> None:
    class Cube(ac.Op):
        def forward(self, x):
            self.x = x
            return x**3

        def backward(self, grad):
            return 3 * self.x**2 * grad

    x = ac.ones(3, dtype=ac.float64, req_grad=True)
    with pytest.raises(NotImplementedError, match="Cube has no differentiable backward"):
        ac.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    with pytest.raises(NotImplementedError, match=r"autograd\.grad"):
        (x * x).sum().backward(create_graph=True)


def test_second_derivatives_where_backward_masks_zeros() -> None:
    g = ac.tensor([1.0, -2.0, 0.5, 3.0], dtype=ac.float64)
    # pow: the log of a non-positive base is taken as 0, as in backward
    a = ac.tensor([-2.0, 0.0, 1.5, 0.5], dtype=ac.float64, req_grad=True)
    b = ac.tensor([2.0, 3.0, 2.5, -1.0], dtype=ac.float64, req_grad=True)
    plain = ac.autograd.grad(a**b, [a, b], g, retain_graph=True)
    recorded = ac.autograd.grad(a**b, [a, b], g, create_graph=True)
    for expected, result in zip(plain, recorded, strict=True):
        np.testing.assert_array_equal(result.numpy(), expected.numpy())
    (by_a,) = ac.autograd.grad(recorded[1].sum(), a)
    x, e, w = a.numpy(), b.numpy(), g.numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.where(x > 0, w * (e * x ** (e - 1) * np.log(x) + x ** (e - 1)), 0)
    np.testing.assert_allclose(by_a.numpy(), expected)
    # norm: 0 where it is 0, to any order
    x = ac.tensor([[0.0, 0.0], [3.0, 4.0]], dtype=ac.float64, req_grad=True)
    (first,) = ac.autograd.grad(x.norm(dim=1).sum(), x, create_graph=True)
    np.testing.assert_allclose(first.numpy(), [[0, 0], [0.6, 0.8]])
    (second,) = ac.autograd.grad(first[:, 0].sum(), x)
    np.testing.assert_allclose(second.numpy(), [[0, 0], [16 / 125, -12 / 125]])
    # prod with zeros: second derivatives, not yet third ones; cumprod: first ones only
    x = ac.tensor([2.0, 0.0, 3.0, 0.0], dtype=ac.float64, req_grad=True)
    for y, hessian_times_g in ((x.prod(), [0, 18, 0, -12]), (x[:3].prod(), [-6, 4, -4, 0])):
        (expected,) = ac.autograd.grad(y, x, retain_graph=True)
        (result,) = ac.autograd.grad(y, x, create_graph=True)
        np.testing.assert_array_equal(result.numpy(), expected.numpy())
        (second,) = ac.autograd.grad((result * g).sum(), x, retain_graph=True)
        np.testing.assert_allclose(second.numpy(), hessian_times_g)
        with pytest.raises(NotImplementedError, match="inputs with zeros"):
            ac.autograd.grad((result * g).sum(), x, create_graph=True)
    with pytest.raises(NotImplementedError, match="inputs with zeros"):
        ac.autograd.grad(x.cumprod(dim=0).sum(), x, create_graph=True)


def test_gradgradcheck_catches_a_wrong_second_derivative() -> None:
    class Square(ac.Op):
        def forward(self, x):
            self.x = x
            return x * x

        def backward(self, grad):
            return 2 * self.x * grad

        def graph_backward(self, grad):
            return 3 * self._input(0, self.x) * grad  # should be 2

    x = ac.randn(3, dtype=ac.float64, req_grad=True)
    assert ac.autograd.gradcheck(Square.apply, [x])
    with pytest.raises(ac.autograd.GradcheckError):
        ac.autograd.gradgradcheck(Square.apply, [x])


def test_math_functions_have_second_derivatives() -> None:
    rng = np.random.default_rng(9)
    a = ac.tensor(rng.uniform(-0.8, 0.8, (2, 3)), dtype=ac.float64, req_grad=True)
    b = ac.tensor(rng.uniform(1.2, 2.0, (2, 3)), dtype=ac.float64, req_grad=True)
    assert ac.autograd.gradgradcheck(
        lambda a, b: (
            a.tan()
            + a.asin() * a.acos()
            + a.atan()
            + a.sinh() * a.cosh()
            + a.asinh()
            + b.acosh()
            + a.atanh()
            + b.log2() * b.log10()
            + a.exp2()
            + a.erf() * a.erfc()
        ),
        [a, b],
    )
    assert ac.autograd.gradgradcheck(
        lambda a, b: a.atan2(b) * a.hypot(b) + a.logaddexp(b) + (a * 3) % b + (a * 3).fmod(b),
        [a, b],
    )


@pytest.mark.parametrize(
    ("make", "shape"),
    [
        (lambda g: g, (5,)),  # a bias over a batch: a product with ones
        (np.asfortranarray, (5,)),
        (np.asfortranarray, (1, 5)),
        (lambda g: np.broadcast_to(g[:1], g.shape), (5,)),  # neither layout: sum()
        (lambda g: g, (4, 1)),
        (lambda g: g, ()),
        (lambda g: g[:0], (5,)),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_broadcast_gradients_are_summed_in_every_layout(make, shape, dtype) -> None:
    from auto_compyute._core.autograd import unbroadcast

    grad = make(np.random.default_rng(0).standard_normal((4, 5)).astype(dtype))
    lead = grad.ndim - len(shape)
    exact = grad.astype(np.float64).sum(axis=tuple(range(lead)))
    exact = exact.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)
    summed = unbroadcast(grad, shape)
    assert summed.shape == shape and summed.dtype == dtype
    # each sum adds at most 20 terms, rounding each partial sum once
    bound = 20 * np.finfo(dtype).eps * np.abs(grad.astype(np.float64)).sum()
    np.testing.assert_allclose(summed, exact.reshape(shape), rtol=0, atol=bound)


class _OverwriteProbe(ac.Op):
    """Identity that records, in backward, whether it may write over its gradient."""

    seen: ClassVar[list[bool]] = []

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x.copy()

    def backward(self, grad: np.ndarray) -> np.ndarray:
        _OverwriteProbe.seen.append(may_overwrite(grad))
        return grad


def _probe_backward(build: Any) -> bool:
    """Run ``build(probe_result)`` to a scalar loss, backward; whether the probe may overwrite."""
    _OverwriteProbe.seen = []
    x = ac.randn(4, 3, dtype=ac.float64, req_grad=True)
    build(_OverwriteProbe.apply(x * 2)).backward()
    (seen,) = _OverwriteProbe.seen
    return seen


def test_backward_may_overwrite_a_gradient_only_it_holds() -> None:
    assert _probe_backward(lambda p: (p * 3).sum())
    assert _probe_backward(lambda p: (p * 3).T.sum())  # a view of a fresh array
    w = ac.randn(4, 3, dtype=ac.float64, req_grad=True)
    assert not _probe_backward(lambda p: (p + w).sum())  # also the leaf w's gradient
    older = ac.randn(4, 3, dtype=ac.float64, req_grad=True) * 5  # its op runs after the probe's
    assert not _probe_backward(lambda p: (p + older).sum())  # it waits with the same array
    kept: list[ac.Tensor] = []

    def hooked(p: ac.Tensor) -> ac.Tensor:
        p.register_hook(kept.append)
        return (p * 3).sum()

    assert not _probe_backward(hooked)  # the hook keeps it
    x = ac.randn(3, dtype=ac.float64, req_grad=True)
    _OverwriteProbe.seen = []
    _OverwriteProbe.apply(x * 2).backward(ac.ones(3, dtype=ac.float64))
    assert _OverwriteProbe.seen == [False]  # the caller's gradient


def test_relu_backward_over_a_shared_gradient_leaves_it_intact(rng: np.random.Generator) -> None:
    data = rng.standard_normal((5, 4))
    x = ac.tensor(data, req_grad=True)
    a = x * 2
    ((a.relu() + a.relu() + a) * 3).sum().backward()  # one gradient for both ReLUs and a
    np.testing.assert_allclose(x.grad, 6 * (2 * (data > 0) + 1))


def test_gradcheck_skips_outputs_without_grad_and_takes_one_tensor() -> None:
    x = ac.tensor([1.0, 2.0], dtype=ac.float64, req_grad=True)
    assert ac.autograd.gradcheck(lambda t: (t * 2, t.detach() * 3, t.argmax()), [x])
    assert ac.autograd.gradcheck(lambda t: t.sin(), x)
    assert ac.autograd.gradgradcheck(lambda t: (t.sin(), t.detach()), x)


@pytest.mark.parametrize(
    "fn",
    [
        lambda t: ac.special.i1(t),
        lambda t: (t.unfold(1, 3, 2) ** 2).sum(dim=-1),
        lambda t: t.unfold(0, 2, 1) * t.unfold(0, 2, 1),
    ],
    ids=["i1", "unfold_strided", "unfold_overlapping"],
)
def test_second_derivatives_of_i1_and_unfold(fn) -> None:
    x = ac.tensor([[-2.0, -0.5, 0.0, 0.7, 3.0], [1.0, 2.0, -1.0, 0.5, 0.25]], req_grad=True)
    assert ac.autograd.gradgradcheck(fn, [x.double().detach().requires_grad_()])
