"""Module backward hooks against PyTorch: the gradients each hook sees, and the effect of
what it returns."""

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import nn

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")


def _values(grads):
    return [None if g is None else np.asarray(g.detach()) for g in grads]


def _assert_same(ours, theirs):
    assert len(ours) == len(theirs)
    for a, t in zip(ours, theirs, strict=True):
        if isinstance(t, str):
            assert a == t
        elif t is None:
            assert a is None
        else:
            np.testing.assert_allclose(a, t, rtol=1e-12, atol=1e-14)


def _record(log, name, replace=None):
    """A full backward hook that logs what it sees and returns ``replace(grad_input)``."""

    def hook(module, grad_input, grad_output):
        log.extend([name, *_values(grad_input), *_values(grad_output)])
        return None if replace is None else replace(grad_input)

    return hook


def _record_pre(log, name, replace=None):
    def hook(module, grad_output):
        log.extend([f"pre {name}", *_values(grad_output)])
        return None if replace is None else replace(grad_output)

    return hook


def _run(lib, rng_seed, build):
    """Build the same model in ``lib``, run forward and backward; return the hooks' log and
    the gradients of the input and of the parameters."""
    rng = np.random.default_rng(rng_seed)
    model, log = build(lib)
    x_values = rng.standard_normal((4, 3))
    x = (
        torch.tensor(x_values, requires_grad=True)
        if lib is torch
        else ac.Tensor(x_values, req_grad=True)
    )
    cotangent = rng.standard_normal(tuple(model(x).shape))
    out = model(x)
    (out * (torch.tensor(cotangent) if lib is torch else ac.Tensor(cotangent))).sum().backward()
    grads = [x.grad, *(p.grad for _, p in model.named_parameters())]
    return log, [None if g is None else np.asarray(g) for g in grads]


def _linear(lib, in_features, out_features, seed):
    layer = (torch.nn if lib is torch else nn).Linear(in_features, out_features)
    rng = np.random.default_rng(seed)
    weight = rng.standard_normal((out_features, in_features))
    bias = rng.standard_normal(out_features)
    if lib is torch:
        layer = layer.double()
        layer.load_state_dict({"weight": torch.tensor(weight), "bias": torch.tensor(bias)})
    else:
        layer.double().load_state_dict({"weight": weight, "bias": bias})
    return layer


def test_linear_backward_hooks_match_pytorch() -> None:
    def build(lib):
        layer, log = _linear(lib, 3, 2, seed=1), []
        layer.register_full_backward_pre_hook(_record_pre(log, "lin", lambda go: (go[0] * 2,)))
        layer.register_full_backward_hook(_record(log, "lin", lambda gi: (gi[0].tanh(),)))
        layer.register_full_backward_hook(_record(log, "second"))  # sees the first's result
        return layer, log

    ours, theirs = _run(ac, 0, build), _run(torch, 0, build)
    assert len(ours[0]) == 8
    _assert_same(ours[0], theirs[0])
    _assert_same(ours[1], theirs[1])


def test_sequential_backward_hooks_match_pytorch() -> None:
    def build(lib):
        mod = torch.nn if lib is torch else nn
        first, second = _linear(lib, 3, 5, seed=2), _linear(lib, 5, 2, seed=3)
        model, log = mod.Sequential(first, mod.Tanh(), second), []
        model.register_full_backward_pre_hook(_record_pre(log, "model"))
        model.register_full_backward_hook(_record(log, "model", lambda gi: (gi[0] * -1,)))
        second.register_full_backward_pre_hook(_record_pre(log, "second", lambda go: (go[0] + 1,)))
        second.register_full_backward_hook(_record(log, "second"))
        first.register_full_backward_hook(_record(log, "first", lambda gi: (gi[0] * 0.5,)))
        model[1].register_full_backward_hook(_record(log, "tanh"))
        return model, log

    ours, theirs = _run(ac, 4, build), _run(torch, 4, build)
    names = [e for e in ours[0] if isinstance(e, str)]
    assert names == ["pre model", "pre second", "second", "tanh", "first", "model"]
    _assert_same(ours[0], theirs[0])
    _assert_same(ours[1], theirs[1])


def test_several_inputs_and_outputs_match_pytorch() -> None:
    def build(lib):
        class Pair((torch.nn if lib is torch else nn).Module):
            def forward(self, a, b, factor, c):
                return a * b * c * factor, (a * a).sum(), b.sum()

        class Model((torch.nn if lib is torch else nn).Module):
            def __init__(self):
                super().__init__()
                self.pair = Pair()

            def forward(self, x):
                product, squares, _ = self.pair(x, x.tanh(), 3.0, x * x)
                return product * squares

        model, log = Model(), []
        # the third output is not used: None; the non-tensor argument: None; a None
        # returned for a gradient stops it
        model.pair.register_full_backward_pre_hook(_record_pre(log, "pair"))
        model.pair.register_full_backward_hook(
            _record(log, "pair", lambda gi: (gi[0] * 2, None, None, gi[3]))
        )
        return model, log

    ours, theirs = _run(ac, 5, build), _run(torch, 5, build)
    _assert_same(ours[0], theirs[0])
    _assert_same(ours[1], theirs[1])
