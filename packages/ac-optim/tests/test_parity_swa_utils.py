"""optim.swa_utils against torch.optim.swa_utils: SWALR's lrs bit for bit, the averaging
functions on arrays."""

from __future__ import annotations

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import optim

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")

STEPS = 30


def make_optimizer(lib, lib_optim):
    params = [lib.zeros(3), lib.zeros(2)]
    for p in params:
        p.requires_grad = True
    groups = [{"params": [params[0]], "lr": 0.05}, {"params": [params[1]], "lr": 0.3}]
    return lib_optim.SGD(groups, lr=0.1, momentum=0.9)


def schedule(lib, lib_optim, warmup_steps, **kwargs):
    """``warmup_steps`` of CosineAnnealingLR, then SWALR (both created at the start)."""
    opt = make_optimizer(lib, lib_optim)
    swa_scheduler = lib_optim.swa_utils.SWALR(opt, swa_lr=[0.01, 0.02], **kwargs)
    seen = [(swa_scheduler.get_last_lr(), [g["lr"] for g in opt.param_groups])]
    cosine = lib_optim.lr_scheduler.CosineAnnealingLR(opt, T_max=20) if warmup_steps else None
    for step in range(STEPS):
        opt.step()
        if step < warmup_steps:
            cosine.step()
        else:
            swa_scheduler.step()
            seen.append((swa_scheduler.get_last_lr(), [g["lr"] for g in opt.param_groups]))
    return seen


@pytest.mark.parametrize("warmup_steps", [0, 7])
@pytest.mark.parametrize("anneal_epochs", [0, 1, 5, 10])
@pytest.mark.parametrize("anneal_strategy", ["cos", "linear"])
def test_swalr_lrs_match_torch_bit_for_bit(anneal_strategy, anneal_epochs, warmup_steps):
    kwargs = {"anneal_epochs": anneal_epochs, "anneal_strategy": anneal_strategy}
    ours = schedule(ac, optim, warmup_steps, **kwargs)
    theirs = schedule(torch, torch.optim, warmup_steps, **kwargs)
    assert ours == theirs
    assert ours[-1][1] == [0.01, 0.02]


def test_swalr_state_dict_keys_match_torch():
    ours = optim.swa_utils.SWALR(make_optimizer(ac, optim), swa_lr=0.01)
    theirs = torch.optim.swa_utils.SWALR(make_optimizer(torch, torch.optim), swa_lr=0.01)
    shared = set(theirs.state_dict()) & set(ours.state_dict())
    assert {"anneal_epochs", "_anneal_strategy", "base_lrs", "last_epoch", "_last_lr"} <= shared
    assert "anneal_func" not in ours.state_dict()
    for key in ("anneal_epochs", "_anneal_strategy", "base_lrs", "last_epoch", "_last_lr"):
        assert ours.state_dict()[key] == theirs.state_dict()[key], key


def float32_arrays(rng, count, shape=(4, 5)):
    return [rng.standard_normal(shape).astype(np.float32) for _ in range(count)]


@pytest.mark.parametrize("factory", ["get_swa_avg_fn", "get_ema_avg_fn"], ids=["swa", "ema"])
def test_single_averaging_functions_match_torch_bit_for_bit(rng, factory):
    snapshots = float32_arrays(rng, 6)
    ours_fn = getattr(optim.swa_utils, factory)()
    theirs_fn = getattr(torch.optim.swa_utils, factory)()
    ours, theirs = ac.tensor(snapshots[0]), torch.tensor(snapshots[0])
    for n, snapshot in enumerate(snapshots[1:], start=1):
        ours = ours_fn(ours, ac.tensor(snapshot), ac.tensor(n))
        theirs = theirs_fn(theirs, torch.tensor(snapshot), torch.tensor(n))
    assert ours.dtype == ac.float32
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize(
    ("factory", "args"),
    [("get_swa_multi_avg_fn", ()), ("get_ema_multi_avg_fn", (0.9,))],
    ids=["swa", "ema"],
)
@pytest.mark.parametrize("counter", ["int", "tensor"])
def test_multi_averaging_functions_match_torch(rng, factory, args, counter):
    ours_fn = getattr(optim.swa_utils, factory)(*args)
    theirs_fn = getattr(torch.optim.swa_utils, factory)(*args)
    first = float32_arrays(rng, 2)
    ours = [first[0].copy(), ac.tensor(first[1])]  # an array and a tensor
    theirs = [torch.tensor(a) for a in first]
    for n in range(1, 6):
        snapshot = float32_arrays(rng, 2)
        count = (n, n) if counter == "int" else (ac.tensor(n), torch.tensor(n))
        ours_fn(ours, [snapshot[0], ac.tensor(snapshot[1])], count[0])
        theirs_fn(theirs, [torch.tensor(a) for a in snapshot], count[1])
    for mine, other in zip([ours[0], ours[1].numpy()], theirs, strict=True):
        assert mine.dtype == np.float32
        # NOTE: PyTorch's lerp kernel fuses a multiply-add; ours rounds twice (<= 1 ulp).
        np.testing.assert_allclose(mine, other.numpy(), rtol=1e-6, atol=1e-7)


def test_ema_of_integer_tensors_matches_torch():
    ours = [np.array([0, 10, -3, 7, 1000001], dtype=np.int64)]
    theirs = [torch.tensor(ours[0])]
    current = np.array([3, 0, 0, -9, 5], dtype=np.int64)
    for decay in (0.5, 0.9, 0.99):
        optim.swa_utils.get_ema_multi_avg_fn(decay)(ours, [current], 1)
        torch.optim.swa_utils.get_ema_multi_avg_fn(decay)(theirs, [torch.tensor(current)], 1)
        np.testing.assert_array_equal(ours[0], theirs[0].numpy())


COMBINED = {
    "SequentialLR": lambda S, W, o: S.SequentialLR(
        o, [S.LinearLR(o, 0.5, total_iters=4), W.SWALR(o, swa_lr=0.01, anneal_epochs=4)], [6]
    ),
    "ChainedScheduler": lambda S, W, o: S.ChainedScheduler(
        [S.ExponentialLR(o, 0.9), W.SWALR(o, swa_lr=[0.01, 0.03], anneal_strategy="linear")]
    ),
}


@pytest.mark.parametrize("combined", list(COMBINED))
def test_swalr_inside_other_schedulers_matches_torch(combined):
    seen = []
    for lib, lib_optim in ((ac, optim), (torch, torch.optim)):
        opt = make_optimizer(lib, lib_optim)
        build = COMBINED[combined]
        scheduler = build(lib_optim.lr_scheduler, lib_optim.swa_utils, opt)
        lrs = [scheduler.get_last_lr()]
        for _ in range(STEPS):
            opt.step()
            scheduler.step()
            lrs.append(scheduler.get_last_lr())
        seen.append(lrs)
    assert seen[0] == seen[1]
    assert len({lrs[0] for lrs in seen[0]}) > 4
