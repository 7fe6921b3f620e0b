"""Every scheduler against torch.optim.lr_scheduler: 100 steps of training, lrs bit for bit."""

from __future__ import annotations

import math

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import optim

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")

STEPS = 100

# (id, optimizer name, build(scheduler module, optimizer)); both libraries spell them alike.
SCHEDULERS = [
    ("StepLR", "SGD", lambda S, o: S.StepLR(o, step_size=10, gamma=0.5)),
    ("MultiStepLR", "SGD", lambda S, o: S.MultiStepLR(o, milestones=[10, 30, 30, 60], gamma=0.5)),
    ("ExponentialLR", "SGD", lambda S, o: S.ExponentialLR(o, gamma=0.97)),
    ("CosineAnnealingLR", "SGD", lambda S, o: S.CosineAnnealingLR(o, T_max=30, eta_min=0.001)),
    ("LinearLR-warmup", "SGD", lambda S, o: S.LinearLR(o, start_factor=0.1, total_iters=20)),
    ("LinearLR-decay", "Adam", lambda S, o: S.LinearLR(o, 1.0, 0.2, total_iters=50)),
    ("LambdaLR", "SGD", lambda S, o: S.LambdaLR(o, lambda epoch: 0.95**epoch)),
    (
        "LambdaLR-per-group",
        "Adam",
        lambda S, o: S.LambdaLR(o, [lambda e: 1 / (1 + e), lambda e: math.cos(e / 50)]),
    ),
    ("OneCycleLR-momentum", "SGD", lambda S, o: S.OneCycleLR(o, max_lr=0.1, total_steps=STEPS)),
    (
        "OneCycleLR-betas-three-phase",
        "Adam",
        lambda S, o: S.OneCycleLR(
            o,
            max_lr=[0.02, 0.01],
            epochs=10,
            steps_per_epoch=10,
            pct_start=0.25,
            anneal_strategy="linear",
            three_phase=True,
            div_factor=10.0,
        ),
    ),
    (
        "SequentialLR-warmup-cosine",
        "SGD",
        lambda S, o: S.SequentialLR(
            o, [S.LinearLR(o, 0.1, total_iters=10), S.CosineAnnealingLR(o, T_max=90)], [10]
        ),
    ),
    (
        "SequentialLR-three",
        "Adam",
        lambda S, o: S.SequentialLR(
            o,
            [S.LinearLR(o, 0.1, total_iters=10), S.StepLR(o, 15, 0.5), S.ExponentialLR(o, 0.95)],
            milestones=[10, 50],
        ),
    ),
    (
        "SequentialLR-multistep-cosine",
        "SGD",
        lambda S, o: S.SequentialLR(
            o, [S.MultiStepLR(o, [5, 20], 0.5), S.CosineAnnealingLR(o, 20, 0.001)], [40]
        ),
    ),
]
SCHEDULERS += [
    ("MultiplicativeLR", "SGD", lambda S, o: S.MultiplicativeLR(o, lambda e: 0.99 - e / 1e4)),
    ("PolynomialLR", "Adam", lambda S, o: S.PolynomialLR(o, total_iters=60, power=2.0)),
    ("CosineAnnealingWarmRestarts", "SGD", lambda S, o: S.CosineAnnealingWarmRestarts(o, 10)),
    (
        "CosineAnnealingWarmRestarts-mult",
        "Adam",
        lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2, eta_min=1e-4),
    ),
    (
        "SequentialLR-constant-restarts",
        "SGD",
        lambda S, o: S.SequentialLR(
            o, [S.ConstantLR(o, 0.5, 4), S.CosineAnnealingWarmRestarts(o, 7, 2)], [15]
        ),
    ),
]
SCHEDULERS += [
    ("CyclicLR", "SGD", lambda S, o: S.CyclicLR(o, 0.01, 0.1, step_size_up=7, step_size_down=12)),
    (
        "CyclicLR-triangular2-betas",
        "Adam",
        lambda S, o: S.CyclicLR(o, [0.001, 0.002], 0.02, 5, mode="triangular2"),
    ),
    (
        "CyclicLR-exp-range",
        "SGD",
        lambda S, o: S.CyclicLR(o, 0.01, 0.1, 6, mode="exp_range", gamma=0.97),
    ),
    (
        "CyclicLR-scale-fn",
        "SGD",
        lambda S, o: S.CyclicLR(o, 0.01, 0.1, 4, scale_fn=lambda x: 0.9**x, cycle_momentum=False),
    ),
    (
        "ChainedScheduler",
        "SGD",
        lambda S, o: S.ChainedScheduler([S.ConstantLR(o, 0.5, 10), S.ExponentialLR(o, 0.97)]),
    ),
    (
        "SequentialLR-chained-first",
        "Adam",
        lambda S, o: S.SequentialLR(
            o,
            [
                S.ChainedScheduler([S.LinearLR(o, 0.1, total_iters=10), S.ExponentialLR(o, 0.97)]),
                S.StepLR(o, 15, 0.5),
            ],
            milestones=[30],
        ),
    ),
]
OPTIMIZERS = {"SGD": {"momentum": 0.9}, "Adam": {}}


def make_optimizer(lib_optim, name, params):
    tensors = list(params.values())
    half = len(tensors) // 2
    groups = [{"params": tensors[:half], "lr": 0.05}, {"params": tensors[half:], "lr": 0.02}]
    return getattr(lib_optim, name)(groups, **OPTIMIZERS[name])


def hyper(optimizer):
    """What schedulers change, per group: lr and momentum or betas."""
    return [(g["lr"], g.get("momentum"), g.get("betas")) for g in optimizer.param_groups]


def train(lib, lib_optim, params, data, loss_fn, opt_name, build, metrics=None):
    """Train for STEPS steps, stepping the scheduler after each; return the hyper-parameters."""
    opt = make_optimizer(lib_optim, opt_name, params)
    scheduler = build(lib_optim.lr_scheduler, opt)
    seen = [(scheduler.get_last_lr(), hyper(opt))]
    for i in range(STEPS):
        opt.zero_grad()
        loss_fn(params, *data).backward()
        opt.step()
        if metrics is None:
            scheduler.step()
        else:
            scheduler.step(metrics[i])
        seen.append((scheduler.get_last_lr(), hyper(opt)))
    return seen


def run_both(rng, make_problem, opt_name, build, metrics=None):
    init, loss_fn, data = make_problem(rng)
    ours = {k: ac.tensor(v, dtype=ac.float64, req_grad=True) for k, v in init.items()}
    theirs = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in init.items()}
    ac_data = [ac.tensor(d, dtype=ac.float64) for d in data]
    torch_data = [torch.tensor(d, dtype=torch.float64) for d in data]
    seen = train(ac, optim, ours, ac_data, loss_fn, opt_name, build, metrics)
    torch_seen = train(torch, torch.optim, theirs, torch_data, loss_fn, opt_name, build, metrics)
    assert seen == torch_seen  # learning rates, momenta and betas, exactly
    for key in ours:
        np.testing.assert_allclose(
            ours[key].numpy(), theirs[key].detach().numpy(), rtol=1e-5, atol=0, err_msg=key
        )
    return seen


# NOTE: PyTorch warns about its own ChainedScheduler when SequentialLR restarts it.
@pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step\\(\\)` before")
@pytest.mark.parametrize(
    ("opt_name", "build"), [s[1:] for s in SCHEDULERS], ids=[s[0] for s in SCHEDULERS]
)
@pytest.mark.parametrize("problem", ["quadratic", "mlp"])
def test_schedule_and_training_match_torch(rng, problems, problem, opt_name, build):
    seen = run_both(rng, problems[problem], opt_name, build)
    assert len({lrs[0] for lrs, _ in seen}) > 2  # the schedule really changed the lr


def plateau_metrics() -> list[float]:
    """Improves for 30 epochs, then wobbles on a plateau."""
    return [max(0.4, 1.0 - 0.02 * i) + 0.01 * math.sin(i) for i in range(STEPS)]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"patience": 3, "factor": 0.5},
        {"patience": 2, "factor": 0.5, "cooldown": 3, "threshold": 0.01, "min_lr": [0.01, 0.004]},
        {"mode": "max", "threshold_mode": "abs", "threshold": 0.005, "patience": 1, "eps": 1e-3},
    ],
)
@pytest.mark.parametrize("problem", ["quadratic", "mlp"])
def test_reduce_lr_on_plateau_matches_torch(rng, problems, problem, kwargs):
    metrics = plateau_metrics()
    if kwargs.get("mode") == "max":
        metrics = [-m for m in metrics]

    def build(S, o):
        return S.ReduceLROnPlateau(o, **kwargs)

    seen = run_both(rng, problems[problem], "SGD", build, metrics)
    assert len({lrs[0] for lrs, _ in seen}) > 2


@pytest.mark.parametrize("T_mult", [1, 3])
def test_warm_restarts_with_fractional_epochs_match_torch(T_mult):
    schedules = []
    for lib, lib_optim, tensor in ((ac, optim, ac.zeros), (torch, torch.optim, torch.zeros)):
        opt = lib_optim.SGD(
            [tensor(2, requires_grad=True) if lib is torch else tensor(2, req_grad=True)], lr=0.1
        )
        scheduler = lib_optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, 4, T_mult, 0.01)
        seen = []
        for epoch in range(30):
            for batch in range(3):
                scheduler.step(epoch + batch / 3)
                seen.append(scheduler.get_last_lr())
        schedules.append(seen)
    assert schedules[0] == schedules[1]
