"""Learning-rate schedulers: values computed by hand, checkpoints, errors."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import optim
from auto_compyute.optim import lr_scheduler as S


@pytest.fixture
def opt(device):
    a, b = (ac.zeros(2, device=device, req_grad=True) for _ in range(2))
    return optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=1.0, momentum=0.9)


def lrs(scheduler, epochs, group=0):
    """The lr of ``group`` at epochs 0 .. epochs-1."""
    out = [scheduler.get_last_lr()[group]]
    for _ in range(epochs - 1):
        scheduler.optimizer.step()
        scheduler.step()
        out.append(scheduler.get_last_lr()[group])
    return out


def test_step_lr(opt):
    assert lrs(S.StepLR(opt, step_size=3, gamma=0.1), 7) == pytest.approx(
        [1, 1, 1, 0.1, 0.1, 0.1, 0.01], rel=1e-15
    )


def test_multi_step_lr_counts_repeated_milestones(opt):
    result = lrs(S.MultiStepLR(opt, milestones=[2, 4, 4], gamma=0.5), 6)
    assert result == [1, 1, 0.5, 0.5, 0.125, 0.125]


def test_exponential_lr_on_every_group(opt):
    scheduler = S.ExponentialLR(opt, gamma=0.5)
    assert lrs(scheduler, 4) == [1, 0.5, 0.25, 0.125]
    assert scheduler.get_last_lr() == [0.125, 0.0625]
    assert [g["lr"] for g in opt.param_groups] == [0.125, 0.0625]


def test_cosine_annealing_follows_the_closed_form_and_rises_after_t_max(opt):
    result = lrs(S.CosineAnnealingLR(opt, T_max=4, eta_min=0.1), 9)
    expected = [0.1 + 0.9 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(9)]
    np.testing.assert_allclose(result, expected, rtol=1e-12)
    assert result[4] == pytest.approx(0.1) and result[8] == pytest.approx(1.0)


def test_linear_warm_up(opt):
    result = lrs(S.LinearLR(opt, start_factor=0.25, total_iters=3), 6)
    np.testing.assert_allclose(result, [0.25, 0.5, 0.75, 1, 1, 1], rtol=1e-15)


def test_lambda_lr_per_group(opt):
    scheduler = S.LambdaLR(opt, [lambda e: 1 / (e + 1), lambda e: 2.0**e])
    assert lrs(scheduler, 3, group=0) == [1, 0.5, 1 / 3]
    assert scheduler.get_last_lr()[1] == 0.5 * 4


def test_multiplicative_constant_and_polynomial():
    def fresh():
        return optim.SGD([ac.zeros(2, req_grad=True)], lr=1.0)

    assert lrs(S.MultiplicativeLR(fresh(), lambda e: 0.5), 4) == [1, 0.5, 0.25, 0.125]
    assert lrs(S.ConstantLR(fresh(), factor=0.5, total_iters=2), 4) == [0.5, 0.5, 1, 1]
    result = lrs(S.PolynomialLR(fresh(), total_iters=4, power=2.0), 6)
    np.testing.assert_allclose(result, [1, 0.5625, 0.25, 0.0625, 0, 0], atol=1e-15)


def test_cyclic_lr_triangle_and_momentum():
    p = ac.zeros(2, req_grad=True)
    opt = optim.SGD([p], lr=1.0, momentum=0.9)
    scheduler = S.CyclicLR(opt, 0.1, 0.5, step_size_up=2, step_size_down=2, mode="triangular2")
    result = lrs(scheduler, 9)
    np.testing.assert_allclose(result, [0.1, 0.3, 0.5, 0.3, 0.1, 0.2, 0.3, 0.2, 0.1])
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.9)  # at the lowest lr
    with pytest.raises(ValueError, match="has neither"):
        S.CyclicLR(optim.Adagrad([p]), 0.1, 0.5)
    with pytest.raises(ValueError, match="mode must be"):
        S.CyclicLR(opt, 0.1, 0.5, mode="sine")


def test_chained_scheduler_composes():
    p = ac.zeros(2, req_grad=True)
    opt = optim.SGD([p], lr=1.0)
    chained = S.ChainedScheduler([S.ConstantLR(opt, 0.5, 2), S.ExponentialLR(opt, 0.5)])
    np.testing.assert_allclose(lrs(chained, 4), [0.5, 0.25, 0.25, 0.125])
    with pytest.raises(ValueError, match="one optimizer"):
        S.ChainedScheduler([S.StepLR(opt, 1), S.StepLR(optim.SGD([p], lr=1.0), 1)])


def test_cosine_annealing_warm_restarts(opt):
    scheduler = S.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2, eta_min=0.0)
    # periods of 2 then 4 epochs, each starting again at the base lr
    np.testing.assert_allclose(lrs(scheduler, 7), [1, 0.5, 1, 0.8535534, 0.5, 0.1464466, 1])
    scheduler.step(2.5)  # a fractional epoch, in the second period
    assert scheduler.get_last_lr()[0] == pytest.approx((1 + math.cos(math.pi * 0.5 / 4)) / 2)
    with pytest.raises(ValueError, match="epoch must be >= 0"):
        scheduler.step(-1)


def test_one_cycle_warms_up_to_max_lr_then_anneals_and_cycles_momentum(opt):
    scheduler = S.OneCycleLR(opt, max_lr=2.0, total_steps=10, div_factor=4.0, final_div_factor=5.0)
    result = lrs(scheduler, 10)
    assert result[0] == 0.5
    assert max(result) == result[2] == 2.0  # peak at pct_start * total_steps - 1
    assert result[-1] == pytest.approx(0.5 / 5.0)
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.95)
    scheduler.step()  # step 10, one past the end, is still allowed (as in PyTorch)
    with pytest.raises(ValueError, match="stepped 11 times, but total_steps is 10"):
        scheduler.step()


def test_one_cycle_cycles_adams_beta1(device):
    p = ac.zeros(2, device=device, req_grad=True)
    opt = optim.Adam([p], betas=(0.9, 0.99))
    scheduler = S.OneCycleLR(opt, max_lr=0.1, total_steps=10, base_momentum=0.8, max_momentum=0.9)
    assert opt.param_groups[0]["betas"] == (0.9, 0.99)
    for _ in range(2):
        scheduler.step()
    assert opt.param_groups[0]["betas"] == (0.8, 0.99)


def test_one_cycle_needs_momentum_to_cycle(device):
    opt = optim.Adagrad([ac.zeros(2, device=device, req_grad=True)])
    with pytest.raises(ValueError, match="cycle_momentum needs an optimizer with momentum"):
        S.OneCycleLR(opt, max_lr=0.1, total_steps=10)
    S.OneCycleLR(opt, max_lr=0.1, total_steps=10, cycle_momentum=False)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "either total_steps, or epochs and steps_per_epoch"),
        ({"total_steps": 0}, "total_steps must be a positive int"),
        ({"epochs": 2, "steps_per_epoch": -1}, "steps_per_epoch must be a positive int"),
        ({"total_steps": 9, "pct_start": 1.5}, "pct_start must be a float in"),
        ({"total_steps": 9, "anneal_strategy": "exp"}, "anneal_strategy must be"),
        ({"total_steps": 9, "max_lr": [1.0]}, "max_lr needs one value per parameter group"),
    ],
)
def test_one_cycle_errors(opt, kwargs, message):
    kwargs = {"max_lr": 1.0, **kwargs}
    with pytest.raises(ValueError, match=message):
        S.OneCycleLR(opt, **kwargs)


def test_sequential_warm_up_then_decay(opt):
    warmup = S.LinearLR(opt, start_factor=0.5, total_iters=2)
    decay = S.ExponentialLR(opt, gamma=0.5)
    scheduler = S.SequentialLR(opt, [warmup, decay], milestones=[3])
    assert lrs(scheduler, 6) == [0.5, 0.75, 1.0, 1.0, 0.5, 0.25]


def test_sequential_starting_with_a_chained_scheduler(opt):
    chained = S.ChainedScheduler([S.LinearLR(opt, 0.5, total_iters=2), S.ExponentialLR(opt, 0.5)])
    scheduler = S.SequentialLR(opt, [chained, S.StepLR(opt, 2, 0.1)], milestones=[3])
    # NOTE: PyTorch's values: restarted by SequentialLR, the chained schedulers step as from
    # epoch 0 without their initial step, so that ExponentialLR decays right away.
    assert lrs(scheduler, 7) == [0.25, 0.1875, 0.125, 1.0, 1.0, 0.1, 0.1]


def test_sequential_errors(opt, device):
    other = optim.SGD([ac.zeros(1, device=device, req_grad=True)])
    first = S.StepLR(opt, 2)
    with pytest.raises(ValueError, match="one milestone fewer than schedulers"):
        S.SequentialLR(opt, [first, S.StepLR(opt, 3)], milestones=[])
    with pytest.raises(ValueError, match="scheduler 1 belongs to another optimizer"):
        S.SequentialLR(opt, [first, S.StepLR(other, 3)], milestones=[2])
    with pytest.raises(ValueError, match="cannot run ReduceLROnPlateau"):
        S.SequentialLR(opt, [first, S.ReduceLROnPlateau(opt)], milestones=[2])
    with pytest.raises(ValueError, match="at least one scheduler"):
        S.SequentialLR(opt, [], milestones=[])
    chained = S.ChainedScheduler([S.StepLR(opt, 2)])
    with pytest.raises(ValueError, match="scheduler 1 is a ChainedScheduler, which can only come"):
        S.SequentialLR(opt, [first, chained], milestones=[2])


def test_reduce_on_plateau_with_patience_cooldown_and_min_lr(opt):
    scheduler = S.ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1, min_lr=[0.3, 0.0])
    seen = []
    for metric in [1.0, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]:
        scheduler.step(metric)
        seen.append(scheduler.get_last_lr())
    assert [lr for lr, _ in seen] == [1, 1, 1, 0.5, 0.5, 0.5, 0.3, 0.3, 0.3]
    assert [lr for _, lr in seen] == [0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125, 0.125, 0.125]


def test_reduce_on_plateau_max_mode_with_an_absolute_threshold(opt):
    scheduler = S.ReduceLROnPlateau(
        opt, mode="max", threshold=0.1, threshold_mode="abs", patience=0
    )
    scheduler.step(1.0)
    scheduler.step(1.05)  # not better by more than 0.1
    assert scheduler.get_last_lr()[0] == 0.1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"factor": 1.0}, "factor must be < 1"),
        ({"mode": "lowest"}, "mode must be 'min' or 'max'"),
        ({"threshold_mode": "pct"}, "threshold_mode must be 'rel' or 'abs'"),
        ({"min_lr": [0.1]}, "min_lr needs one value per parameter group"),
    ],
)
def test_reduce_on_plateau_errors(opt, kwargs, message):
    with pytest.raises(ValueError, match=message):
        S.ReduceLROnPlateau(opt, **kwargs)


@pytest.mark.parametrize(
    "build",
    [
        lambda o: S.StepLR(o, 2, 0.5),
        lambda o: S.MultiStepLR(o, [1, 3]),
        lambda o: S.ExponentialLR(o, 0.9),
        lambda o: S.CosineAnnealingLR(o, 3, 0.01),
        lambda o: S.LinearLR(o, 0.1, total_iters=4),
        lambda o: S.OneCycleLR(o, 1.0, total_steps=12),
        lambda o: S.SequentialLR(o, [S.LinearLR(o, 0.2, total_iters=3), S.StepLR(o, 2)], [3]),
        lambda o: S.CosineAnnealingWarmRestarts(o, 3, 2, 0.01),
        lambda o: S.PolynomialLR(o, 8, 0.5),
        lambda o: S.CyclicLR(o, 0.1, 1.0, 3, mode="exp_range", gamma=0.9),
        lambda o: S.ChainedScheduler([S.LinearLR(o, 0.2, total_iters=3), S.StepLR(o, 2)]),
        lambda o: S.SequentialLR(
            o, [S.ChainedScheduler([S.LinearLR(o, 0.2, total_iters=3)]), S.StepLR(o, 2)], [4]
        ),
    ],
    ids=[
        "step",
        "multistep",
        "exp",
        "cosine",
        "linear",
        "onecycle",
        "sequential",
        "restarts",
        "poly",
        "cyclic",
        "chained",
        "sequential-chained",
    ],
)
def test_resuming_from_state_dicts_continues_the_schedule(device, build):
    def fresh():
        p = ac.zeros(2, device=device, req_grad=True)
        o = optim.SGD([p], lr=1.0, momentum=0.5)
        return o, build(o)

    opt, scheduler = fresh()
    lrs(scheduler, 5)
    saved = pickle.dumps((opt.state_dict(), scheduler.state_dict()))
    expected = lrs(scheduler, 6)

    opt2, scheduler2 = fresh()
    opt_state, scheduler_state = pickle.loads(saved)
    opt2.load_state_dict(opt_state)
    scheduler2.load_state_dict(scheduler_state)
    assert lrs(scheduler2, 6) == expected


def test_lambda_state_dict_keeps_callable_objects_state(opt):
    class Factor:
        def __init__(self):
            self.scale = 2.0

        def __call__(self, epoch):
            return self.scale

    factor = Factor()
    scheduler = S.LambdaLR(opt, [factor, lambda e: 1.0])
    state = scheduler.state_dict()
    assert state["lr_lambdas"] == [{"scale": 2.0}, None]
    state["lr_lambdas"][0]["scale"] = 3.0
    scheduler.load_state_dict(state)
    assert factor.scale == 3.0


def test_get_last_lr_is_a_copy(opt):
    scheduler = S.StepLR(opt, 1)
    scheduler.get_last_lr().append(5)
    assert scheduler.get_last_lr() == [1.0, 0.5]


def test_a_scheduler_needs_an_optimizer():
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        S.StepLR([], 2)


def test_resuming_by_last_epoch_needs_initial_lr(opt):
    with pytest.raises(KeyError, match="initial_lr"):
        S.StepLR(opt, 2, last_epoch=3)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda o: S.StepLR(o, 0), "step_size must be >= 1"),
        (lambda o: S.CosineAnnealingLR(o, 0), "T_max must be >= 1"),
        (lambda o: S.LinearLR(o, start_factor=0), r"start_factor must be in \(0, 1\]"),
        (lambda o: S.LinearLR(o, end_factor=1.5), r"end_factor must be in \[0, 1\]"),
        (lambda o: S.LambdaLR(o, [lambda e: 1.0]), "expected 2 lr_lambdas"),
        (lambda o: S.ConstantLR(o, factor=2.0), r"factor must be in \[0, 1\]"),
        (lambda o: S.CosineAnnealingWarmRestarts(o, 0), "T_0 must be a positive int"),
        (lambda o: S.CosineAnnealingWarmRestarts(o, 2, 0), "T_mult must be an int >= 1"),
    ],
)
def test_invalid_arguments(opt, build, message):
    with pytest.raises(ValueError, match=message):
        build(opt)
