"""optim.swa_utils: the SWALR schedule, the averaging functions and the lazy ac-nn names."""

from __future__ import annotations

import copy
import math
import sys

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import optim
from auto_compyute.optim import swa_utils


def make_optimizer(lrs=(0.1,)):
    groups = [{"params": [ac.zeros(2, req_grad=True)], "lr": lr} for lr in lrs]
    return optim.SGD(groups, lr=lrs[0])


def run(scheduler, steps):
    lrs = [scheduler.get_last_lr()]
    for _ in range(steps):
        scheduler.optimizer.step()
        scheduler.step()
        lrs.append(scheduler.get_last_lr())
    return lrs


# ---------------------------------------------------------------------------- SWALR
@pytest.mark.parametrize(
    ("strategy", "alpha"),
    [("linear", lambda t: t), ("cos", lambda t: (1 - math.cos(math.pi * t)) / 2)],
)
def test_swalr_anneals_from_the_initial_lr_to_swa_lr(strategy, alpha):
    opt = make_optimizer((0.1, 0.4))
    scheduler = swa_utils.SWALR(opt, swa_lr=[0.02, 0.05], anneal_epochs=4, anneal_strategy=strategy)
    lrs = run(scheduler, 8)
    for step, values in enumerate(lrs):
        a = alpha(min(step / 4, 1.0))
        expected = [0.02 * a + 0.1 * (1 - a), 0.05 * a + 0.4 * (1 - a)]
        np.testing.assert_allclose(values, expected, rtol=1e-13, err_msg=f"step {step}")
    assert lrs[4:] == [[0.02, 0.05]] * 5  # exactly swa_lr once annealed
    assert [g["lr"] for g in opt.param_groups] == [0.02, 0.05]
    assert [g["swa_lr"] for g in opt.param_groups] == [0.02, 0.05]


@pytest.mark.parametrize("strategy", ["cos", "linear"])
def test_swalr_without_annealing_sets_swa_lr_at_once(strategy):
    opt = make_optimizer()
    scheduler = swa_utils.SWALR(opt, swa_lr=0.03, anneal_epochs=0, anneal_strategy=strategy)
    assert run(scheduler, 3) == [[0.03]] * 4


def test_swalr_one_anneal_epoch_switches_after_the_first_step():
    scheduler = swa_utils.SWALR(make_optimizer(), swa_lr=0.03, anneal_epochs=1)
    assert run(scheduler, 3) == [[0.1], [0.03], [0.03], [0.03]]


def test_swalr_takes_over_from_the_lr_another_schedule_left():
    # Created at the start (lr unchanged), stepped only after another schedule decayed the
    # lr: the annealing starts from that lr, as in PyTorch.
    opt = make_optimizer()
    swa_scheduler = swa_utils.SWALR(opt, swa_lr=0.01, anneal_epochs=2, anneal_strategy="linear")
    decay = optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    for _ in range(3):
        decay.step()
    assert opt.param_groups[0]["lr"] == 0.0125
    lrs = run(swa_scheduler, 3)
    np.testing.assert_allclose(lrs[1:], [[0.01125], [0.01], [0.01]], rtol=1e-13)


def test_swalr_state_dict_round_trip_continues_the_schedule():
    opt = make_optimizer()
    scheduler = swa_utils.SWALR(opt, swa_lr=0.01, anneal_epochs=6, anneal_strategy="linear")
    run(scheduler, 2)
    opt_state, state = copy.deepcopy(opt.state_dict()), scheduler.state_dict()
    assert "anneal_func" not in state and "optimizer" not in state
    assert state["_anneal_strategy"] == "linear" and state["anneal_epochs"] == 6
    rest = run(scheduler, 6)

    opt2 = make_optimizer()
    resumed = swa_utils.SWALR(opt2, swa_lr=0.5, anneal_epochs=1, anneal_strategy="cos")
    opt2.load_state_dict(opt_state)  # brings back lr and swa_lr of the groups
    resumed.load_state_dict(state)
    assert resumed.anneal_func(0.25) == 0.25  # linear again
    assert run(resumed, 6) == rest


def test_swalr_rejects_bad_arguments():
    opt = make_optimizer((0.1, 0.2))
    with pytest.raises(ValueError, match=r"swa_lr needs one value per parameter group \(2\)"):
        swa_utils.SWALR(opt, swa_lr=[0.1])
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear'"):
        swa_utils.SWALR(opt, swa_lr=0.1, anneal_strategy="exp")
    for bad in (-1, 2.0):
        with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0"):
            swa_utils.SWALR(opt, swa_lr=0.1, anneal_epochs=bad)
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        swa_utils.SWALR([], swa_lr=0.1)
    assert "swa_lr" not in opt.param_groups[0]  # nothing changed by the refused calls


# ----------------------------------------------------------------- averaging functions
def arrays(rng, count, shape=(3, 4)):
    return [rng.standard_normal(shape) for _ in range(count)]


def test_swa_functions_compute_the_running_mean(rng):
    snapshots = arrays(rng, 5)
    single, multi = swa_utils.get_swa_avg_fn(), swa_utils.get_swa_multi_avg_fn()
    averaged = snapshots[0].copy()
    in_place = [snapshots[0].copy(), ac.tensor(snapshots[0])]
    for n, snapshot in enumerate(snapshots[1:], start=1):
        averaged = single(averaged, snapshot, n)
        multi(in_place, [snapshot, ac.tensor(snapshot)], ac.tensor(n))
    expected = np.mean(snapshots, axis=0)
    np.testing.assert_allclose(averaged, expected, rtol=1e-13)
    np.testing.assert_allclose(in_place[0], expected, rtol=1e-13)
    np.testing.assert_allclose(in_place[1].numpy(), expected, rtol=1e-13)


def test_ema_functions_compute_the_exponential_average(rng):
    snapshots = arrays(rng, 5)
    single, multi = swa_utils.get_ema_avg_fn(0.75), swa_utils.get_ema_multi_avg_fn(0.75)
    expected = snapshots[0]
    ema = ac.tensor(snapshots[0])
    in_place = [snapshots[0].copy(), ac.tensor(snapshots[0])]
    data = in_place[1].data
    for n, snapshot in enumerate(snapshots[1:], start=1):
        expected = 0.75 * expected + 0.25 * snapshot
        ema = single(ema, ac.tensor(snapshot), n)
        multi(in_place, [snapshot, ac.tensor(snapshot)], n)
    np.testing.assert_allclose(ema.numpy(), expected, rtol=1e-13)
    np.testing.assert_allclose(in_place[0], expected, rtol=1e-13)
    np.testing.assert_allclose(in_place[1].numpy(), expected, rtol=1e-13)
    assert in_place[1].data is data  # updated in place


def test_averaging_functions_do_not_track_gradients(rng):
    ema = ac.tensor(rng.standard_normal(3), req_grad=True)
    current = ac.tensor(rng.standard_normal(3), req_grad=True)
    for fn in (swa_utils.get_swa_avg_fn(), swa_utils.get_ema_avg_fn()):
        result = fn(ema, current, ac.tensor(2))
        assert not result.req_grad and result.ctx is None


def test_ema_decay_ends_of_the_range():
    current = [np.array([4.0, -8.0])]
    keep = [np.array([1.0, 2.0])]
    swa_utils.get_ema_multi_avg_fn(1.0)(keep, current, 1)
    np.testing.assert_array_equal(keep[0], [1.0, 2.0])
    replace = [np.array([1.0, 2.0])]
    swa_utils.get_ema_multi_avg_fn(0.0)(replace, current, 1)
    np.testing.assert_array_equal(replace[0], [4.0, -8.0])


def test_integer_tensors_are_averaged_in_floats_and_truncated():
    # PyTorch's arithmetic: through the default float dtype, then truncated toward zero.
    ema = [np.array([0, 10, -3], dtype=np.int64)]
    swa_utils.get_ema_multi_avg_fn(0.5)(ema, [np.array([3, 0, 0], dtype=np.int64)], 1)
    np.testing.assert_array_equal(ema[0], [1, 5, -1])
    assert ema[0].dtype == np.int64
    swa = [ac.tensor([0, 10, -3])]
    swa_utils.get_swa_multi_avg_fn()(swa, [ac.tensor([3, 0, 0])], ac.tensor(2))
    np.testing.assert_array_equal(swa[0].numpy(), [1, 6, -2])
    single = swa_utils.get_swa_avg_fn()(ac.tensor([0, 10]), ac.tensor([3, 0]), ac.tensor(2))
    assert single.dtype == ac.float32
    expected = np.float32(10) + np.float32(-10) / np.float32(3)
    np.testing.assert_array_equal(single.numpy(), np.array([1.0, expected], np.float32))


@pytest.mark.parametrize("factory", [swa_utils.get_ema_avg_fn, swa_utils.get_ema_multi_avg_fn])
@pytest.mark.parametrize("decay", [-0.1, 1.5])
def test_ema_rejects_decay_outside_0_1(factory, decay):
    with pytest.raises(ValueError, match=rf"Invalid decay value {decay}"):
        factory(decay)


def test_multi_functions_need_equal_lists():
    with pytest.raises(ValueError, match="zip"):
        swa_utils.get_swa_multi_avg_fn()([np.zeros(2)], [], 1)


# ---------------------------------------------------------------- names from ac-nn
def test_module_names_from_ac_nn_need_ac_nn(monkeypatch):
    for name in ("auto_compyute.nn", "auto_compyute.nn.utils", "auto_compyute.nn.utils.swa_utils"):
        monkeypatch.setitem(sys.modules, name, None)  # as if ac-nn were not installed
    for name in ("AveragedModel", "update_bn"):
        with pytest.raises(
            ModuleNotFoundError, match=r"'ac-nn' package.*pip install \./packages/ac-nn"
        ):
            getattr(swa_utils, name)
    with pytest.raises(ImportError, match=r"pip install \./packages/ac-nn"):
        from auto_compyute.optim.swa_utils import AveragedModel  # noqa: F401


def test_unknown_attribute_and_dir():
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        swa_utils.nothing  # noqa: B018
    assert {"SWALR", "AveragedModel", "update_bn", "get_ema_multi_avg_fn"} <= set(dir(swa_utils))
    assert optim.swa_utils is swa_utils
