"""Lazy modules: the dry run, the regular module they become, state dicts, errors."""

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import nn, optim

# (lazy module, the same regular module, an input); the inferred size is 4 everywhere
CASES = [
    (lambda: nn.LazyLinear(3), lambda: nn.Linear(4, 3), (2, 5, 4)),
    (lambda: nn.LazyLinear(3, bias=False), lambda: nn.Linear(4, 3, bias=False), (2, 4)),
    (lambda: nn.LazyConv1d(6, 3, groups=2), lambda: nn.Conv1d(4, 6, 3, groups=2), (2, 4, 7)),
    (lambda: nn.LazyConv2d(5, 3, padding=1), lambda: nn.Conv2d(4, 5, 3, padding=1), (2, 4, 5, 6)),
    (
        lambda: nn.LazyConv3d(2, 2, bias=False),
        lambda: nn.Conv3d(4, 2, 2, bias=False),
        (1, 4, 3, 3, 3),
    ),
    (lambda: nn.LazyConvTranspose1d(3, 2, 2), lambda: nn.ConvTranspose1d(4, 3, 2, 2), (2, 4, 5)),
    (lambda: nn.LazyConvTranspose2d(3, 3), lambda: nn.ConvTranspose2d(4, 3, 3), (2, 4, 3, 3)),
    (lambda: nn.LazyConvTranspose3d(2, 2), lambda: nn.ConvTranspose3d(4, 2, 2), (1, 4, 2, 2, 2)),
    (nn.LazyBatchNorm1d, lambda: nn.BatchNorm1d(4), (6, 4)),
    (nn.LazyBatchNorm2d, lambda: nn.BatchNorm2d(4), (3, 4, 2, 2)),
    (
        lambda: nn.LazyBatchNorm3d(affine=False),
        lambda: nn.BatchNorm3d(4, affine=False),
        (2, 4, 2, 2, 2),
    ),
    (
        nn.LazyInstanceNorm1d,
        lambda: nn.InstanceNorm1d(4, affine=True, track_running_stats=True),
        (2, 4, 5),
    ),
    (
        nn.LazyInstanceNorm2d,
        lambda: nn.InstanceNorm2d(4, affine=True, track_running_stats=True),
        (2, 4, 3, 3),
    ),
    (
        lambda: nn.LazyInstanceNorm3d(affine=False, track_running_stats=False),
        lambda: nn.InstanceNorm3d(4),
        (2, 4, 2, 2, 2),
    ),
]
IDS = [f"case{i}" for i in range(len(CASES))]


def _randomized(module: nn.Module, rng: np.random.Generator) -> dict:
    """A state dict of ``module``'s shapes with random floating values (positive variances)."""
    return {
        key: (np.abs(rng.standard_normal(v.shape)) + 0.5).astype(v.dtype)
        if v.dtype.kind == "f"
        else v.numpy()
        for key, v in module.state_dict().items()
    }


@pytest.mark.parametrize(("make_lazy", "make_regular", "shape"), CASES, ids=IDS)
def test_dry_run_becomes_the_regular_module(make_lazy, make_regular, shape) -> None:
    rng = np.random.default_rng(0)
    lazy, regular = make_lazy(), make_regular()
    floating = [v for v in regular.state_dict().values() if v.dtype.kind == "f"]
    assert lazy.has_uninitialized_params() == bool(floating)
    assert list(lazy.state_dict()) == list(regular.state_dict())
    x = ac.tensor(rng.standard_normal(shape).astype(np.float32))
    ac.manual_seed(0)
    lazy(x)
    assert type(lazy) is type(regular)
    assert repr(lazy) == repr(regular)
    for (key, ours), (_, theirs) in zip(
        lazy.state_dict().items(), regular.state_dict().items(), strict=True
    ):
        assert type(ours) is ac.Tensor and ours.shape == theirs.shape, key
    for param in lazy.parameters():
        assert type(param) is nn.Parameter and param.req_grad
    # the same weights give the same outputs and gradients
    state = _randomized(regular, rng)
    lazy.load_state_dict(state)
    regular.load_state_dict(state)
    x_lazy, x_regular = (ac.tensor(x.numpy(), req_grad=True) for _ in range(2))
    out_lazy, out_regular = lazy(x_lazy), regular(x_regular)
    np.testing.assert_array_equal(out_lazy.numpy(), out_regular.numpy())
    out_lazy.sum().backward()
    out_regular.sum().backward()
    np.testing.assert_array_equal(x_lazy.grad, x_regular.grad)
    for key, value in regular.state_dict().items():
        np.testing.assert_array_equal(lazy.state_dict()[key].numpy(), value.numpy(), err_msg=key)


def test_initialisation_is_the_regular_modules() -> None:
    ac.manual_seed(0)
    linear = nn.LazyLinear(400)
    linear(ac.randn(1, 25))
    bound = 1 / np.sqrt(25)
    assert np.abs(linear.weight.numpy()).max() <= bound
    assert np.abs(linear.weight.numpy()).max() > 0.9 * bound  # spread over the whole range
    assert np.abs(linear.bias.numpy()).max() <= bound
    conv = nn.LazyConv2d(50, 3)
    conv(ac.randn(1, 8, 3, 3))
    bound = 1 / np.sqrt(8 * 9)
    assert bound * 0.9 < np.abs(conv.weight.numpy()).max() <= bound
    bn = nn.LazyBatchNorm2d()
    bn.eval()(ac.randn(2, 3, 2, 2))
    assert bn.weight.tolist() == [1.0] * 3 and bn.bias.tolist() == [0.0] * 3
    assert bn.running_mean.tolist() == [0.0] * 3 and bn.running_var.tolist() == [1.0] * 3


def test_uninitialized_members_before_the_dry_run() -> None:
    layer = nn.LazyLinear(3, dtype=ac.float64)
    params = list(layer.parameters())
    assert [type(p) for p in params] == [nn.UninitializedParameter] * 2
    assert repr(params[0]) == "<UninitializedParameter>"
    assert repr(layer) == "LazyLinear(in_features=0, out_features=3, bias=True)"
    state = layer.state_dict()
    assert state["weight"] is layer.weight  # as PyTorch: the uninitialized objects themselves
    bn = nn.LazyBatchNorm1d()
    assert type(bn.running_mean) is nn.UninitializedBuffer
    assert type(bn.state_dict()["num_batches_tracked"]) is ac.Tensor
    layer(ac.randn(2, 5, dtype=ac.float64))
    assert layer.weight is params[0] and layer.weight.dtype == np.float64
    assert layer.weight.shape == (3, 5)
    # a dtype set before the dry run is the dtype the parameters get
    conv = nn.LazyConv1d(2, 3).double()
    assert conv(ac.randn(1, 4, 5, dtype=ac.float64)).dtype == np.float64
    assert conv.weight.dtype == np.float64 and conv.bias.dtype == np.float64


def test_optimizer_made_before_the_dry_run_updates_the_materialized_parameters() -> None:
    ac.manual_seed(0)
    layer = nn.LazyLinear(2)
    optimizer = optim.SGD(layer.parameters(), lr=0.5)
    layer(ac.randn(3, 4)).sum().backward()
    before = layer.weight.numpy().copy()
    optimizer.step()
    np.testing.assert_allclose(layer.weight.numpy(), before - 0.5 * layer.weight.grad)


def test_load_state_dict_materializes_with_the_loaded_shapes() -> None:
    rng = np.random.default_rng(0)
    source = nn.Conv2d(6, 4, 3, groups=2)
    lazy = nn.LazyConv2d(4, 3, groups=2)
    assert lazy.load_state_dict(source.state_dict()) == ([], [])
    assert type(lazy.weight) is nn.Parameter and lazy.weight.shape == (4, 3, 3, 3)
    x = ac.tensor(rng.standard_normal((1, 6, 4, 4)).astype(np.float32))
    np.testing.assert_array_equal(lazy(x).numpy(), source(x).numpy())
    assert type(lazy) is nn.Conv2d and lazy.in_channels == 6
    # lazy into lazy leaves it uninitialized; a failed load leaves the module unchanged
    other = nn.LazyLinear(3)
    other.load_state_dict(nn.LazyLinear(3).state_dict())
    assert other.has_uninitialized_params()
    with pytest.raises(RuntimeError, match="bias"):
        other.load_state_dict({"weight": np.zeros((3, 2), np.float32)})
    assert other.has_uninitialized_params()
    with pytest.raises(RuntimeError, match=r"size mismatch for weight.*\(3, 2\)"):
        nn.Linear(4, 3).load_state_dict(other.state_dict() | {"weight": np.zeros((3, 2))})


def test_lazy_modules_inside_containers() -> None:
    ac.manual_seed(0)
    model = nn.Sequential(nn.LazyConv2d(4, 3), nn.LazyBatchNorm2d(), nn.Flatten(), nn.LazyLinear(2))
    keys = list(model.state_dict())
    assert model(ac.randn(2, 3, 5, 5)).shape == (2, 2)
    assert list(model.state_dict()) == keys
    assert [type(m).__name__ for m in model] == ["Conv2d", "BatchNorm2d", "Flatten", "Linear"]
    assert model[3].weight.shape == (2, 36)


def test_errors_name_shapes() -> None:
    with pytest.raises(ValueError, match=r"in_channels=3 \(from input \(1, 3, 5, 5\)\).*groups=2"):
        nn.LazyConv2d(4, 3, groups=2)(ac.randn(1, 3, 5, 5))
    with pytest.raises(RuntimeError, match=r"3D \(unbatched\) or 4D.*\(5, 5\)"):
        nn.LazyConv2d(4, 3)(ac.randn(5, 5))
    with pytest.raises(ValueError, match=r"\(5,\)"):
        nn.LazyBatchNorm1d()(ac.randn(5))
    layer = nn.LazyConv1d(2, 3)
    with pytest.raises(RuntimeError):
        layer(ac.randn(5, 5, 5, 5))
    assert layer.has_uninitialized_params() and type(layer) is nn.LazyConv1d
