"""Every optimizer configuration against torch.optim: 100 steps, same problem, float64."""

from __future__ import annotations

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import optim

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")

STEPS = 100
# NOTE: the configurations keep the runs in a stable regime. RMSprop with alpha=0.9 and
# lr=0.01, for one, oscillates unstably on these problems: the last-bit differences between
# the two libraries' gradients then grow about 3x per step, in both libraries alike (the
# same-gradients test below shows that the update rules themselves agree).
CONFIGS = [
    ("SGD", {"lr": 0.05}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.5}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.05, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.01, "momentum": 0.5, "weight_decay": 0.1, "maximize": True}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "maximize": True}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True, "maximize": True}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.001, "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.005, "momentum": 0.5, "centered": True, "maximize": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-6, "maximize": True}),
    ("Adamax", {"lr": 0.01}),
    ("Adamax", {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1, "maximize": True}),
    ("NAdam", {"lr": 0.01}),
    ("NAdam", {"lr": 0.01, "momentum_decay": 0.01, "weight_decay": 0.1}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True, "maximize": True}),
    ("RAdam", {"lr": 0.01}),
    ("RAdam", {"lr": 0.01, "betas": (0.9, 0.99), "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True, "maximize": True}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "eps": 1e-4, "weight_decay": 0.1}),
    ("Adadelta", {"lr": 0.5, "maximize": True}),
    ("Rprop", {}),
    ("Rprop", {"lr": 0.001, "etas": (0.3, 1.5), "step_sizes": (1e-4, 0.02)}),
    ("Rprop", {"lr": 0.005, "maximize": True}),
    ("ASGD", {"lr": 0.05}),
    ("ASGD", {"lr": 0.05, "lambd": 0.01, "alpha": 0.5, "t0": 20, "weight_decay": 0.1}),
    ("ASGD", {"lr": 0.01, "t0": 0, "maximize": True}),
    ("Adafactor", {}),
    ("Adafactor", {"lr": 0.05, "beta2_decay": -0.5, "eps": (1e-6, 1e-2), "d": 2.0}),
    ("Adafactor", {"lr": 0.02, "weight_decay": 0.1, "maximize": True}),
]


def config_id(config: tuple[str, dict]) -> str:
    name, kwargs = config
    return name + "".join(f"-{k}={v}" for k, v in kwargs.items())


def train_both(rng, make_problem, name, build, steps=STEPS):
    """Train the same problem with our optimizer and PyTorch's; return both parameter dicts.

    ``build(optimizer_class, params)`` makes the optimizer of either library.
    """
    init, loss_fn, data = make_problem(rng)
    ours = {k: ac.tensor(v, dtype=ac.float64, req_grad=True) for k, v in init.items()}
    theirs = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in init.items()}
    ac_data = [ac.tensor(d, dtype=ac.float64) for d in data]
    torch_data = [torch.tensor(d, dtype=torch.float64) for d in data]
    opt = build(getattr(optim, name), ours)
    torch_opt = build(getattr(torch.optim, name), theirs)
    for _ in range(steps):
        for params, o, d in ((ours, opt, ac_data), (theirs, torch_opt, torch_data)):
            o.zero_grad()
            loss_fn(params, *d).backward()
            o.step()
    return ours, theirs


def assert_same_params(ours, theirs, rtol=1e-5):
    for key in ours:
        np.testing.assert_allclose(
            ours[key].numpy(), theirs[key].detach().numpy(), rtol=rtol, atol=0, err_msg=key
        )


@pytest.mark.parametrize("problem", ["quadratic", "mlp"])
@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_matches_torch_for_100_steps(rng, problems, problem, config):
    name, kwargs = config
    make_problem = problems[problem]
    start = make_problem(np.random.default_rng(0))[0]
    ours, theirs = train_both(
        rng, make_problem, name, lambda cls, p: cls(list(p.values()), **kwargs)
    )
    assert_same_params(ours, theirs)
    moved = [np.abs(ours[key].numpy() - start[key]).max() for key in start]
    assert min(moved) > 1e-3  # every parameter took part


@pytest.mark.parametrize(
    "name",
    [
        "SGD",
        "Adam",
        "AdamW",
        "RMSprop",
        "Adagrad",
        "Adamax",
        "NAdam",
        "RAdam",
        "Adadelta",
        "Rprop",
        "ASGD",
        "Adafactor",
    ],
)
def test_param_groups_with_their_own_hyper_parameters_match_torch(rng, problems, name):
    def build(cls, p):
        groups = [
            {"params": [p["w1"], p["b1"]], "lr": 0.02, "weight_decay": 0.05},
            {"params": [p["w2"], p["b2"]], "lr": 0.005},
        ]
        return cls(groups)

    ours, theirs = train_both(rng, problems["mlp"], name, build)
    assert_same_params(ours, theirs)


def _step_with_torch_gradients(rng, problems, config, steps):
    """Both optimizers on the MLP problem, ours fed PyTorch's gradients at every step:
    ``(ours, theirs, opt, torch_opt)`` after ``steps`` steps."""
    name, kwargs = config
    init, loss_fn, data = problems["mlp"](rng)
    ours = {k: ac.tensor(v, dtype=ac.float64, req_grad=True) for k, v in init.items()}
    theirs = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in init.items()}
    torch_data = [torch.tensor(d, dtype=torch.float64) for d in data]
    opt = getattr(optim, name)(list(ours.values()), **kwargs)
    torch_opt = getattr(torch.optim, name)(list(theirs.values()), **kwargs)
    for _ in range(steps):
        torch_opt.zero_grad()
        loss_fn(theirs, *torch_data).backward()
        for key, param in ours.items():
            param.grad = theirs[key].grad.numpy().copy()
        torch_opt.step()
        opt.step()
    return ours, theirs, opt, torch_opt


@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_update_rule_matches_torch_given_the_same_gradients(rng, problems, config):
    """Isolate the update rule: both optimizers get PyTorch's gradients at every step."""
    ours, theirs, _, _ = _step_with_torch_gradients(rng, problems, config, STEPS)
    assert_same_params(ours, theirs, rtol=1e-10)


STATE_CONFIGS = [c for c in CONFIGS if c[0] in ("Adadelta", "Rprop", "ASGD", "Adafactor")]


@pytest.mark.parametrize("config", STATE_CONFIGS, ids=config_id)
def test_state_has_torch_names_and_values(rng, problems, config):
    """The state (ASGD's average ``ax`` and Adafactor's factored moments among it) is kept
    under PyTorch's names, with PyTorch's values."""
    ours, theirs, opt, torch_opt = _step_with_torch_gradients(rng, problems, config, 30)
    for key, param in ours.items():
        state, their_state = opt.state[param], torch_opt.state[theirs[key]]
        assert state.keys() == their_state.keys()
        for entry, value in state.items():
            np.testing.assert_allclose(
                np.asarray(value, dtype=np.float64),
                their_state[entry].detach().numpy(),
                rtol=1e-10,
                err_msg=f"{key}: {entry}",
            )


@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_big_float32_parameters_match_torch(rng, config):
    """The CPU fast path: float32 parameters big enough to be updated in pieces."""
    name, kwargs = config
    init = [rng.standard_normal(s).astype(np.float32) for s in [(200, 400), (200,)]]
    ours = [ac.tensor(a, req_grad=True) for a in init]
    theirs = [torch.tensor(a, requires_grad=True) for a in init]
    opt = getattr(optim, name)(ours, **kwargs)
    torch_opt = getattr(torch.optim, name)(theirs, **kwargs)
    for _ in range(20):
        for mine, their in zip(ours, theirs, strict=True):
            grad = rng.standard_normal(mine.shape).astype(np.float32)
            mine.grad, their.grad = grad, torch.tensor(grad)
        opt.step()
        torch_opt.step()
    # NOTE: float32 rounds O(1) values by ~1e-7 per operation; over 20 steps that is up to
    # ~1e-6 absolute, which is what elements near zero are compared with.
    for mine, their in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine.numpy(), their.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("problem", ["quadratic", "mlp"])
def test_lbfgs_matches_torch(rng, problems, problem, line_search_fn):
    init, loss_fn, data = problems[problem](rng)
    results = []
    for lib, make in (
        (optim, lambda v: ac.tensor(v, dtype=ac.float64, req_grad=True)),
        (torch.optim, lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True)),
    ):
        params = {k: make(v) for k, v in init.items()}
        inputs = [
            make(d).detach() if lib is torch.optim else ac.tensor(d, dtype=ac.float64) for d in data
        ]
        opt = lib.LBFGS(
            list(params.values()), lr=0.5, max_iter=8, history_size=5, line_search_fn=line_search_fn
        )

        def closure(opt=opt, params=params, inputs=inputs):
            opt.zero_grad()
            loss = loss_fn(params, *inputs)
            loss.backward()
            return loss

        losses = [float(opt.step(closure).detach()) for _ in range(6)]
        evals = opt.state[next(iter(params.values()))]["func_evals"]
        results.append((params, losses, evals))
    (ours, our_losses, our_evals), (theirs, their_losses, their_evals) = results
    assert our_evals == their_evals  # the same path through the iterations and line search
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-8)
    assert_same_params(ours, theirs, rtol=1e-6)


NESTEROV_DECAY = ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1})


@pytest.mark.parametrize("config", [*CONFIGS, NESTEROV_DECAY], ids=config_id)
def test_0d_parameters_match_torch(rng, config):
    name, kwargs = config
    ours = ac.tensor(0.7, dtype=ac.float64, req_grad=True)
    theirs = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    opt = getattr(optim, name)([ours], **kwargs)
    torch_opt = getattr(torch.optim, name)([theirs], **kwargs)
    for g in rng.standard_normal(5):
        ours.grad, theirs.grad = np.array(g), torch.tensor(g)
        opt.step()
        torch_opt.step()
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-10)


FLOAT16_CONFIGS = [
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5}),
    ("Adadelta", {}),
    ("Adadelta", {"eps": 1e-3, "weight_decay": 0.1}),
]


@pytest.mark.parametrize(("grad", "steps"), [(30.0, 200), (300.0, 10)])
@pytest.mark.parametrize("config", FLOAT16_CONFIGS, ids=config_id)
def test_float16_parameters_train_like_torch(rng, config, grad, steps):
    """PyTorch computes float16 updates in float32 and rounds the results: in float16, g * g
    overflows from |g| = 256 on, and Adam's sum of squares (1000 times PyTorch's average)
    from |g| = 8 on."""
    name, kwargs = config
    init = rng.standard_normal(64).astype(np.float16)
    grads = (grad * rng.choice([-1.0, 1.0], 64)).astype(np.float16)
    ours = ac.tensor(init, req_grad=True)
    theirs = torch.tensor(init, requires_grad=True)
    exact = torch.tensor(init, dtype=torch.float64, requires_grad=True)
    opts = [getattr(optim, name)([ours], **kwargs)]
    opts += [getattr(torch.optim, name)([p], **kwargs) for p in (theirs, exact)]
    for _ in range(steps):
        ours.grad, theirs.grad = grads.copy(), torch.tensor(grads)
        exact.grad = torch.tensor(grads, dtype=torch.float64)
        for opt in opts:
            opt.step()
    assert ours.dtype == np.float16
    # NOTE: float16 rounds the parameters at every step (and PyTorch's state too), so neither
    # run follows the float64 one exactly; ours must stay about as close to it as PyTorch's.
    target = exact.detach().numpy()
    error = np.abs(ours.numpy() - target).max()
    torch_error = np.abs(theirs.detach().numpy() - target).max()
    assert error <= 1.5 * torch_error + 1e-3
    assert np.abs(target - init).min() > 5 * error  # every parameter moved further


@pytest.mark.parametrize(("name", "options"), [("NAdam", {}), ("ASGD", {"lr": 0.1})])
def test_scalars_follow_the_default_dtype_as_in_torch(name, options):
    """NAdam's and ASGD's running scalars are rounded to the default dtype, as PyTorch's
    scalar tensors are: float64 steps match to the last bits when it is float64."""
    start = np.array([1.0, -2.0, 0.5])
    torch.set_default_dtype(torch.float64)
    ac.set_default_dtype(ac.float64)
    try:
        ours = ac.tensor(start, req_grad=True)
        theirs = torch.tensor(start, requires_grad=True)
        ours_optimizer = getattr(optim, name)([ours], **options)
        torch_optimizer = getattr(torch.optim, name)([theirs], **options)
        for step in range(5):
            grad = np.sin(start * (step + 1))
            ours.grad, theirs.grad = grad.copy(), torch.tensor(grad)
            ours_optimizer.step()
            torch_optimizer.step()
    finally:
        torch.set_default_dtype(torch.float32)
        ac.set_default_dtype(ac.float32)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=0, atol=1e-15)
