"""optim.swa_utils.AveragedModel and update_bn (ac-nn's part of swa_utils)."""

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import nn, optim
from auto_compyute.nn.utils import swa_utils as nn_swa_utils
from auto_compyute.optim.swa_utils import (
    SWALR,
    AveragedModel,
    get_ema_avg_fn,
    get_ema_multi_avg_fn,
    get_swa_multi_avg_fn,
    update_bn,
)


@pytest.fixture
def rng():
    ac.manual_seed(0)
    return np.random.default_rng(0)


def make_model():
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


def perturb(model, rng):
    """Move every parameter (and batch norm's statistics, by a forward pass) somewhere new."""
    with ac.no_grad():
        for param in model.parameters():
            param.copy_(param + ac.tensor(rng.standard_normal(param.shape).astype(np.float32)))
    model(ac.tensor(rng.standard_normal((6, 3)).astype(np.float32)))


def snapshot(model):
    return {key: value.numpy().copy() for key, value in model.state_dict().items()}


def test_names_come_from_ac_nn_under_optim_swa_utils():
    assert AveragedModel is nn_swa_utils.AveragedModel
    assert update_bn is nn_swa_utils.update_bn
    assert optim.swa_utils.AveragedModel is nn.utils.swa_utils.AveragedModel


def test_state_dict_keys_and_forward(rng):
    model = make_model()
    averaged = AveragedModel(model)
    assert list(averaged.state_dict()) == [
        "n_averaged",
        "module.0.weight",
        "module.0.bias",
        "module.1.weight",
        "module.1.bias",
        "module.1.running_mean",
        "module.1.running_var",
        "module.1.num_batches_tracked",
        "module.3.weight",
        "module.3.bias",
    ]
    assert averaged.n_averaged.dtype == ac.int64 and averaged.n_averaged.item() == 0
    model.eval()
    averaged.eval()
    x = ac.tensor(rng.standard_normal((5, 3)).astype(np.float32))
    np.testing.assert_array_equal(averaged(x).numpy(), model(x).numpy())
    assert averaged.module is not model
    assert all(
        mine is not theirs
        for mine, theirs in zip(averaged.parameters(), model.parameters(), strict=True)
    )


def test_swa_is_the_mean_of_the_snapshots_and_buffers_follow_the_model(rng):
    model = make_model()
    averaged = AveragedModel(model)
    perturb(model, rng)  # the copy is taken at construction: the first update replaces it
    snapshots = []
    for _ in range(5):
        averaged.update_parameters(model)
        snapshots.append(snapshot(model))
        perturb(model, rng)
    state = snapshot(averaged)
    assert state["n_averaged"] == 5
    for name, _ in model.named_parameters():
        expected = np.mean([s[name] for s in snapshots], axis=0)
        np.testing.assert_allclose(state[f"module.{name}"], expected, rtol=1e-5, atol=1e-6)
    for name in ("running_mean", "running_var", "num_batches_tracked"):  # the last model's
        np.testing.assert_array_equal(state[f"module.1.{name}"], snapshots[-1][f"1.{name}"])


def test_swa_with_buffers_averages_them_too(rng):
    model = make_model()
    averaged = AveragedModel(model, use_buffers=True)
    snapshots = []
    for _ in range(4):
        perturb(model, rng)
        averaged.update_parameters(model)
        snapshots.append(snapshot(model))
    state = snapshot(averaged)
    for key in ("1.weight", "1.running_mean", "1.running_var", "3.bias"):
        expected = np.mean([s[key] for s in snapshots], axis=0)
        np.testing.assert_allclose(state[f"module.{key}"], expected, rtol=1e-5, atol=1e-6)
    # num_batches_tracked goes 1, 2, 3, 4: averaged as PyTorch does, truncating each time.
    count = 1
    for n, seen in enumerate([2, 3, 4], start=1):
        count = int(np.float32(count) + np.float32(seen - count) / np.float32(n + 1))
    assert state["module.1.num_batches_tracked"] == count == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"multi_avg_fn": get_ema_multi_avg_fn(0.8)},
        {"avg_fn": get_ema_avg_fn(0.8)},
    ],
    ids=["multi_avg_fn", "avg_fn"],
)
def test_ema_follows_the_recursion(rng, kwargs):
    model = make_model()
    averaged = AveragedModel(model, **kwargs)
    expected = None
    for _ in range(5):
        perturb(model, rng)
        averaged.update_parameters(model)
        current = snapshot(model)
        if expected is None:
            expected = current
        else:
            expected = {k: 0.8 * v + 0.2 * current[k] for k, v in expected.items()}
    state = snapshot(averaged)
    for name, _ in model.named_parameters():
        np.testing.assert_allclose(
            state[f"module.{name}"], expected[name], rtol=1e-5, atol=1e-6, err_msg=name
        )


def test_multi_avg_fn_is_called_once_per_dtype_with_the_count(rng):
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2, dtype=ac.float64))
    calls = []

    def record(averaged, current, n_averaged):
        calls.append(([p.dtype for p in averaged], len(current), n_averaged.item()))
        get_swa_multi_avg_fn()(averaged, current, n_averaged)

    averaged = AveragedModel(model, multi_avg_fn=record)
    for _ in range(3):
        with ac.no_grad():
            model[0].weight.copy_(ac.tensor(rng.standard_normal((2, 2)).astype(np.float32)))
        averaged.update_parameters(model)
    assert calls == [
        ([ac.float32, ac.float32], 2, 1),
        ([ac.float64, ac.float64], 2, 1),
        ([ac.float32, ac.float32], 2, 2),
        ([ac.float64, ac.float64], 2, 2),
    ]


def test_averaging_leaves_the_model_and_gradients_alone(rng):
    model = make_model()
    averaged = AveragedModel(model)
    perturb(model, rng)
    before = snapshot(model)
    averaged.update_parameters(model)
    perturb(model, rng)
    averaged.update_parameters(model)
    assert all(p.grad is None and p.req_grad for p in averaged.parameters())
    assert not np.array_equal(snapshot(model)["0.weight"], before["0.weight"])
    assert averaged.module[0].weight.ctx is None


def test_state_dict_round_trip(rng):
    model = make_model()
    averaged = AveragedModel(model)
    for _ in range(3):
        perturb(model, rng)
        averaged.update_parameters(model)
    restored = AveragedModel(make_model())
    restored.load_state_dict(averaged.state_dict())
    assert restored.n_averaged.item() == 3
    for key, value in snapshot(averaged).items():
        np.testing.assert_array_equal(snapshot(restored)[key], value)


def test_bad_arguments():
    with pytest.raises(ValueError, match="Only one of avg_fn and multi_avg_fn"):
        AveragedModel(make_model(), avg_fn=get_ema_avg_fn(), multi_avg_fn=get_ema_multi_avg_fn())
    with pytest.raises(TypeError, match=r"expects an nn\.Module, got list"):
        AveragedModel([])
    averaged = AveragedModel(make_model())
    with pytest.raises(
        ValueError, match=r"module.0.weight of shape \(4, 3\) with the tensor of shape \(3, 4\)"
    ):
        other = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
        averaged.update_parameters(other)
    assert averaged.n_averaged.item() == 0
    layer_norm = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.ReLU(), nn.Linear(4, 2))
    with pytest.raises(ValueError, match="the averaged model has 3 and Sequential has 0"):
        averaged.update_parameters(layer_norm)
    assert averaged.n_averaged.item() == 0


def test_device_argument_keeps_the_copy_there():
    averaged = AveragedModel(make_model(), device="cpu")
    assert averaged.n_averaged.device == ac.device("cpu")
    assert all(p.device == ac.device("cpu") for p in averaged.parameters())


# ---------------------------------------------------------------------------- update_bn
def batch_stats(batches, weight, bias):
    """Cumulative averages of the batch means and unbiased variances after the first layer."""
    hidden = [b @ weight.T + bias for b in batches]
    mean = np.mean([h.mean(axis=0) for h in hidden], axis=0)
    var = np.mean([h.var(axis=0, ddof=1) for h in hidden], axis=0)
    return mean, var


def test_update_bn_recomputes_running_statistics(rng):
    model = make_model()
    perturb(model, rng)
    model[1].momentum = 0.3
    model.eval()
    batches = [rng.standard_normal((8, 3)).astype(np.float32) for _ in range(4)]
    loader = [(ac.tensor(b), ac.tensor(0)) for b in batches[:2]] + [
        ac.tensor(b) for b in batches[2:]
    ]
    update_bn(loader, model, device="cpu")
    mean, var = batch_stats(
        [b.astype(np.float64) for b in batches],
        model[0].weight.numpy().astype(np.float64),
        model[0].bias.numpy().astype(np.float64),
    )
    np.testing.assert_allclose(model[1].running_mean.numpy(), mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model[1].running_var.numpy(), var, rtol=1e-5, atol=1e-6)
    assert model[1].num_batches_tracked.item() == 4
    assert model[1].momentum == 0.3 and not model.training and not model[1].training


def test_update_bn_on_an_averaged_model_and_without_batch_norm(rng):
    model = make_model()
    averaged = AveragedModel(model)
    averaged.update_parameters(model)
    batches = [ac.tensor(rng.standard_normal((8, 3)).astype(np.float32)) for _ in range(3)]
    update_bn(batches, averaged)
    assert averaged.training
    assert averaged.module[1].num_batches_tracked.item() == 3
    assert model[1].num_batches_tracked.item() == 0  # the original is not touched

    plain = nn.Sequential(nn.Linear(3, 2), nn.InstanceNorm1d(2, track_running_stats=True))
    plain.eval()
    calls = []
    plain.register_forward_hook(lambda *args: calls.append(1))
    update_bn(batches, plain)
    assert calls == [] and not plain.training  # nothing to update: no pass over the data


def test_update_bn_restores_momenta_after_an_error(rng):
    model = make_model()

    def loader():
        yield ac.tensor(rng.standard_normal((4, 3)).astype(np.float32))
        raise RuntimeError("broken loader")

    model.eval()
    with pytest.raises(RuntimeError, match="broken loader"):
        update_bn(loader(), model)
    assert model[1].momentum == 0.1 and not model.training


def test_swa_training_loop(rng):
    x = ac.tensor(rng.standard_normal((32, 3)).astype(np.float32))
    y = ac.tensor(rng.standard_normal((32, 2)).astype(np.float32))
    model = make_model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    swa_model = AveragedModel(model)
    swa_scheduler = SWALR(opt, swa_lr=0.02, anneal_epochs=3)
    for epoch in range(8):
        for start in range(0, 32, 8):
            opt.zero_grad()
            nn.functional.mse_loss(model(x[start : start + 8]), y[start : start + 8]).backward()
            opt.step()
        if epoch >= 3:
            swa_model.update_parameters(model)
            swa_scheduler.step()
    update_bn([x[i : i + 8] for i in range(0, 32, 8)], swa_model)
    assert swa_model.n_averaged.item() == 5 and swa_scheduler.get_last_lr() == [0.02]
    swa_model.eval()
    loss = nn.functional.mse_loss(swa_model(x), y).item()
    assert np.isfinite(loss) and loss < (y.numpy() ** 2).mean()
