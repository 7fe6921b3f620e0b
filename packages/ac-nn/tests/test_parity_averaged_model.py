"""AveragedModel and update_bn against torch.optim.swa_utils."""

import numpy as np
import pytest
from parity_helpers import OUT_TOL

import auto_compyute as ac
from auto_compyute import optim

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")


@pytest.fixture
def rng():
    ac.manual_seed(0)
    torch.manual_seed(0)
    return np.random.default_rng(0)


def build(lib):
    layers = lib.nn
    return layers.Sequential(
        layers.Conv2d(2, 3, 3),
        layers.BatchNorm2d(3),
        layers.ReLU(),
        layers.Flatten(),
        layers.Linear(12, 2),
        layers.BatchNorm1d(2, momentum=0.3),
    )


def copy_into(ours, theirs):
    ours.load_state_dict({key: value.numpy() for key, value in theirs.state_dict().items()})


def state(model):
    return {key: value.detach().numpy().copy() for key, value in model.state_dict().items()}


def perturb(theirs, rng):
    """New parameters and running statistics (a training-mode forward pass) for the model."""
    with torch.no_grad():
        for param in theirs.parameters():
            param.add_(torch.tensor(rng.standard_normal(param.shape).astype(np.float32)))
        theirs(torch.tensor(rng.standard_normal((5, 2, 4, 4)).astype(np.float32)))


CONFIGS = {
    # (keyword arguments by library, bit for bit)
    "swa": (lambda S: {}, True),
    "swa-buffers": (lambda S: {"use_buffers": True}, True),
    "ema-avg_fn-buffers": (lambda S: {"avg_fn": S.get_ema_avg_fn(0.9), "use_buffers": True}, True),
    "ema-multi_avg_fn": (lambda S: {"multi_avg_fn": S.get_ema_multi_avg_fn(0.9)}, False),
    "ema-multi_avg_fn-buffers": (
        lambda S: {"multi_avg_fn": S.get_ema_multi_avg_fn(0.75), "use_buffers": True},
        False,
    ),
    "swa-multi_avg_fn": (lambda S: {"multi_avg_fn": S.get_swa_multi_avg_fn()}, False),
}


@pytest.mark.parametrize("config", list(CONFIGS))
def test_averaged_model_matches_torch(rng, config):
    kwargs, exact = CONFIGS[config]
    theirs = build(torch)
    ours = build(ac)
    copy_into(ours, theirs)
    theirs_avg = torch.optim.swa_utils.AveragedModel(theirs, **kwargs(torch.optim.swa_utils))
    ours_avg = optim.swa_utils.AveragedModel(ours, **kwargs(optim.swa_utils))
    assert list(ours_avg.state_dict()) == list(theirs_avg.state_dict())
    for _ in range(6):
        perturb(theirs, rng)
        copy_into(ours, theirs)  # the same model on both sides at every update
        theirs_avg.update_parameters(theirs)
        ours_avg.update_parameters(ours)
        expected, got = state(theirs_avg), state(ours_avg)
        assert list(got) == list(expected)
        for key, value in expected.items():
            assert got[key].dtype == value.dtype, key
            if exact or value.dtype.kind != "f":
                np.testing.assert_array_equal(got[key], value, err_msg=key)
            else:
                # NOTE: PyTorch's lerp kernel fuses a multiply-add; ours rounds twice.
                np.testing.assert_allclose(got[key], value, rtol=1e-6, atol=1e-6, err_msg=key)
    x = rng.standard_normal((4, 2, 4, 4)).astype(np.float32)
    ours_avg.eval()
    theirs_avg.eval()
    np.testing.assert_allclose(
        ours_avg(ac.tensor(x)).numpy(), theirs_avg(torch.tensor(x)).detach().numpy(), **OUT_TOL
    )


@pytest.mark.parametrize("tuples", [False, True])
def test_update_bn_matches_torch(rng, tuples):
    theirs = build(torch)
    ours = build(ac)
    perturb(theirs, rng)
    copy_into(ours, theirs)
    theirs_avg = torch.optim.swa_utils.AveragedModel(theirs)
    ours_avg = optim.swa_utils.AveragedModel(ours)
    theirs_avg.update_parameters(theirs)
    ours_avg.update_parameters(ours)
    theirs_avg.eval()
    ours_avg.eval()
    batches = [rng.standard_normal((6, 2, 4, 4)).astype(np.float32) * 3 + 1 for _ in range(5)]
    if tuples:
        theirs_loader = [(torch.tensor(b), torch.zeros(6)) for b in batches]
        ours_loader = [[ac.tensor(b), ac.zeros(6)] for b in batches]
    else:
        theirs_loader = [torch.tensor(b) for b in batches]
        ours_loader = [ac.tensor(b) for b in batches]
    torch.optim.swa_utils.update_bn(theirs_loader, theirs_avg)
    optim.swa_utils.update_bn(ours_loader, ours_avg)
    expected, got = state(theirs_avg), state(ours_avg)
    for key, value in expected.items():
        np.testing.assert_allclose(got[key], value, **OUT_TOL, err_msg=key)
    assert got["module.1.num_batches_tracked"] == expected["module.1.num_batches_tracked"] == 5
    assert not ours_avg.training and ours_avg.module[5].momentum == 0.3
    x = rng.standard_normal((4, 2, 4, 4)).astype(np.float32)
    np.testing.assert_allclose(
        ours_avg(ac.tensor(x)).numpy(), theirs_avg(torch.tensor(x)).detach().numpy(), **OUT_TOL
    )


def test_swa_training_run_matches_torch(rng):
    """SGD with a cosine schedule, then SWALR and averaging, then update_bn (float64)."""
    x = rng.standard_normal((16, 2, 4, 4))
    y = rng.standard_normal((16, 2))
    theirs = build(torch).double()
    ours = build(ac).double()
    copy_into(ours, theirs)
    results = []
    for lib, lib_optim, model in ((ac, optim, ours), (torch, torch.optim, theirs)):
        opt = lib_optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        cosine = lib_optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
        swa_scheduler = lib_optim.swa_utils.SWALR(opt, swa_lr=0.01, anneal_epochs=3)
        swa_model = lib_optim.swa_utils.AveragedModel(model)
        inputs, targets = lib.tensor(x), lib.tensor(y)
        lrs = []
        for epoch in range(10):
            for start in range(0, 16, 4):
                opt.zero_grad()
                out = model(inputs[start : start + 4])
                ((out - targets[start : start + 4]) ** 2).mean().backward()
                opt.step()
            if epoch >= 4:
                swa_model.update_parameters(model)
                swa_scheduler.step()
            else:
                cosine.step()
            lrs.append(opt.param_groups[0]["lr"])
        lib_optim.swa_utils.update_bn([inputs[i : i + 4] for i in range(0, 16, 4)], swa_model)
        results.append((lrs, state(swa_model)))
    (our_lrs, our_state), (their_lrs, their_state) = results
    assert our_lrs == their_lrs
    for key, value in their_state.items():
        np.testing.assert_allclose(our_state[key], value, rtol=1e-9, atol=1e-12, err_msg=key)
