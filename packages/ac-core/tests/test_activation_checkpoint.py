"""ac.utils.checkpoint: the same gradients as without checkpointing, bit for bit, and the
segment's activations freed after forward."""

import gc
import weakref
from typing import ClassVar

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute.utils.checkpoint import checkpoint, checkpoint_sequential


class Tracked(ac.Op):
    """tanh(x), keeping a weak reference to every result it makes (and its input for
    backward, as an activation)."""

    results: ClassVar[list[weakref.ref]] = []

    def forward(self, x):
        self.out = np.tanh(x)
        Tracked.results.append(weakref.ref(self.out))
        return self.out

    def backward(self, grad):
        return (1 - self.out**2) * grad


def _alive() -> int:
    gc.collect()
    return sum(r() is not None for r in Tracked.results)


def _params(rng: np.random.Generator, n: int = 3) -> list[ac.Tensor]:
    return [ac.tensor(rng.standard_normal((4, 4)) / 2, req_grad=True) for _ in range(n)]


def _block(params: list[ac.Tensor]):
    def run(x: ac.Tensor) -> ac.Tensor:
        for w in params:
            x = Tracked.apply(x @ w)
        return x

    return run


def _dropout(p: float):
    def run(x: ac.Tensor) -> ac.Tensor:
        return x * (ac.rand(*x.shape) >= p) / (1 - p)

    return run


def _grads(tensors: list[ac.Tensor]) -> list[np.ndarray]:
    grads = [t.grad.copy() for t in tensors]
    for t in tensors:
        t.grad = None
    return grads


def _assert_bitwise_equal(a: list[np.ndarray], b: list[np.ndarray]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_gradients_equal_the_plain_run_bit_for_bit(rng, use_reentrant) -> None:
    params = _params(rng)
    x = ac.tensor(rng.standard_normal((2, 4)), req_grad=True)
    block = _block(params)
    (block(x * 2).sum() * 3).backward()
    expected = _grads([x, *params])
    y = checkpoint(block, x * 2, use_reentrant=use_reentrant)
    assert y.req_grad and y.grad_fn is not None
    np.testing.assert_array_equal(y.numpy(), block(x * 2).numpy())
    (y.sum() * 3).backward()
    _assert_bitwise_equal(_grads([x, *params]), expected)


def test_dropout_masks_match_with_the_same_seed(rng) -> None:
    params = _params(rng)
    x = ac.tensor(rng.standard_normal((8, 4)), req_grad=True)

    def segment(t: ac.Tensor) -> ac.Tensor:
        return _dropout(0.5)(_block(params)(t))

    ac.manual_seed(3)
    plain = segment(x)
    after_plain = ac.rand(3).numpy()
    plain.sum().backward()
    expected = _grads([x, *params])
    ac.manual_seed(3)
    y = checkpoint(segment, x, use_reentrant=False)
    after_checkpoint = ac.rand(3).numpy()
    y.sum().backward()
    np.testing.assert_array_equal(y.numpy(), plain.numpy())
    _assert_bitwise_equal(_grads([x, *params]), expected)
    # the recomputation drew from a copy: the global generator went on as without it
    np.testing.assert_array_equal(after_checkpoint, after_plain)
    # without preserve_rng_state the recomputed mask differs (and so would the gradients)
    ac.manual_seed(3)
    y = checkpoint(segment, x, use_reentrant=False, preserve_rng_state=False)
    y.sum().backward()
    assert not np.array_equal(x.grad, expected[0])


def test_activations_are_freed_after_forward(rng) -> None:
    params = _params(rng, n=4)
    x = ac.tensor(rng.standard_normal((2, 4)), req_grad=True)
    Tracked.results = []
    y = _block(params)(x)
    assert _alive() == 4  # every tanh result is kept for backward
    del y
    Tracked.results = []
    y = checkpoint(_block(params), x, use_reentrant=False)
    assert _alive() == 1  # only the segment's output
    Tracked.results = []
    y.sum().backward()
    assert len(Tracked.results) == 4  # backward ran the segment again
    assert _alive() == 0  # and dropped the recomputed graph afterwards
    assert all(p.grad is not None for p in params)


def test_checkpoint_sequential_matches_the_plain_run(rng) -> None:
    params = _params(rng, n=6)
    layers = [_block([w]) for w in params]
    x = ac.tensor(rng.standard_normal((2, 4)), req_grad=True)
    out = x
    for layer in layers:
        out = layer(out)
    out.sum().backward()
    expected = _grads([x, *params])
    Tracked.results = []
    y = checkpoint_sequential(layers, 3, x, use_reentrant=False)
    # two checkpointed segments keep their outputs; the last segment keeps its two results
    assert _alive() == 4
    y.sum().backward()
    _assert_bitwise_equal(_grads([x, *params]), expected)
    with pytest.raises(ValueError, match="segments must be at least 1"):
        checkpoint_sequential(layers, 0, x)
    with pytest.raises(ValueError, match="unexpected keyword arguments: foo"):
        checkpoint_sequential(layers, 2, x, foo=1)


def test_parameters_of_a_segment_with_constant_inputs(rng) -> None:
    params = _params(rng)
    x = ac.tensor(rng.standard_normal((2, 4)))
    _block(params)(x).sum().backward()
    expected = _grads(params)
    y = checkpoint(_block(params), x, use_reentrant=False)
    assert y.req_grad
    y.sum().backward()
    _assert_bitwise_equal(_grads(params), expected)
    with pytest.warns(UserWarning, match="none of the inputs requires grad"):
        y = checkpoint(_block(params), x, use_reentrant=True)
    assert not y.req_grad
    with ac.no_grad():
        assert not checkpoint(_block(params), x).req_grad


def test_autograd_grad_reaches_parameters(rng) -> None:
    params = _params(rng)
    x = ac.tensor(rng.standard_normal((2, 4)), req_grad=True)
    expected = ac.autograd.grad(_block(params)(x).sum(), [params[0], x])
    got = ac.autograd.grad(checkpoint(_block(params), x).sum(), [params[0], x])
    _assert_bitwise_equal([g.numpy() for g in got], [g.numpy() for g in expected])
    assert all(p.grad is None for p in params)


def test_several_outputs_kwargs_and_non_tensor_values(rng) -> None:
    w = ac.tensor(rng.standard_normal((4, 4)), dtype=ac.float32, req_grad=True)
    x = ac.tensor(rng.standard_normal((2, 4)), dtype=ac.float32, req_grad=True)

    def f(a: ac.Tensor, scale: float, *, shift: ac.Tensor):
        h = Tracked.apply(a @ w) * scale + shift
        return h.sum(dim=1), h.double(), (h > 0), "label"

    shift = ac.tensor(rng.standard_normal(4), dtype=ac.float32, req_grad=True)
    s, d, mask, _ = f(x, 2.0, shift=shift)
    (s.sum() + (d**2).sum()).backward()
    expected = _grads([x, w, shift])
    outs = checkpoint(f, x, 2.0, shift=shift, use_reentrant=False)
    assert isinstance(outs, tuple) and outs[3] == "label"
    assert outs[1].dtype == ac.float64 and outs[0].dtype == ac.float32
    np.testing.assert_array_equal(outs[2].numpy(), mask.numpy())
    np.testing.assert_array_equal(outs[1].numpy(), d.numpy())
    (outs[0].sum() + (outs[1] ** 2).sum()).backward()
    _assert_bitwise_equal(_grads([x, w, shift]), expected)
    with pytest.raises(ValueError, match="unexpected keyword arguments with use_reentrant"):
        checkpoint(f, x, 2.0, shift=shift, use_reentrant=True)


def test_named_tuple_outputs_keep_their_type(rng) -> None:
    x = ac.tensor(rng.standard_normal((3, 4)), req_grad=True)
    out = checkpoint(lambda t: t.max(dim=1), x)
    assert type(out) is type(x.max(dim=1))
    np.testing.assert_array_equal(out.indices.numpy(), x.numpy().argmax(1))
    out.values.sum().backward()
    np.testing.assert_array_equal(x.grad, np.eye(4)[x.numpy().argmax(1)])


def test_second_backward_needs_retain_graph(rng) -> None:
    params = _params(rng)
    x = ac.tensor(rng.standard_normal((2, 4)), req_grad=True)
    y = checkpoint(_block(params), x).sum()
    y.backward(retain_graph=True)
    first = _grads([x, *params])
    y.backward()
    _assert_bitwise_equal(_grads([x, *params]), first)
    with pytest.raises(RuntimeError, match="a second time"):
        y.backward()


def test_a_function_that_changes_between_runs_is_caught(rng) -> None:
    x = ac.tensor(rng.standard_normal(4), req_grad=True)
    calls = []

    def f(t: ac.Tensor) -> ac.Tensor:
        calls.append(1)
        return t[: len(calls)].exp()

    with pytest.raises(RuntimeError, match="recomputed outputs"):
        checkpoint(f, x).sum().backward()


def test_double_backward_is_refused(rng) -> None:
    x = ac.tensor(rng.standard_normal(3), dtype=ac.float64, req_grad=True)
    y = checkpoint(lambda t: (t**3).sum(), x)
    with pytest.raises(NotImplementedError, match="create_graph=True"):
        ac.autograd.grad(y, x, create_graph=True)


def test_gradcheck_through_a_checkpoint(rng) -> None:
    x = ac.tensor(rng.standard_normal((2, 3)), dtype=ac.float64, req_grad=True)
    w = ac.tensor(rng.standard_normal((3, 3)), dtype=ac.float64, req_grad=True)
    assert ac.autograd.gradcheck(
        lambda a, b: checkpoint(lambda s, t: (s @ t).tanh() @ t, a, b), [x, w]
    )
