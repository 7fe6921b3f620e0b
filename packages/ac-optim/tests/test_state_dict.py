"""Optimizer checkpoints: state_dict layout, resuming bit for bit, refusing foreign states."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import optim

CONFIGS = [
    (optim.SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    (optim.Adam, {"lr": 0.01, "amsgrad": True, "weight_decay": 0.01}),
    (optim.AdamW, {"lr": 0.01}),
    (optim.RMSprop, {"lr": 0.01, "momentum": 0.5, "centered": True}),
    (optim.Adagrad, {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1}),
    (optim.Adamax, {"lr": 0.01, "weight_decay": 0.01}),
    (optim.NAdam, {"lr": 0.01, "momentum_decay": 0.01}),
    (optim.RAdam, {"lr": 0.01, "decoupled_weight_decay": True, "weight_decay": 0.01}),
    (optim.Adadelta, {"lr": 0.5, "weight_decay": 0.01}),
    (optim.Rprop, {"lr": 0.001}),
    (optim.ASGD, {"lr": 0.05, "t0": 10}),
    (optim.Adafactor, {"weight_decay": 0.01}),
]
IDS = [cls.__name__ for cls, _ in CONFIGS]


def make_params(init, device, dtype=ac.float32):
    return {k: ac.tensor(v, dtype=dtype, device=device, req_grad=True) for k, v in init.items()}


def groups_of(params):
    names = list(params)
    return [
        {"params": [params[n] for n in names[:2]]},
        {"params": [params[n] for n in names[2:]], "lr": 0.003},
    ]


def train(opt, params, loss_fn, data, steps):
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(params, *data).backward()
        opt.step()


@pytest.mark.parametrize("dtype", [ac.float32, ac.float16])
@pytest.mark.parametrize(("cls", "kwargs"), CONFIGS, ids=IDS)
def test_resuming_from_a_checkpoint_is_bit_for_bit(rng, problems, device, cls, kwargs, dtype):
    init, loss_fn, raw_data = problems["mlp"](rng)
    data = [ac.tensor(d, dtype=dtype, device=device) for d in raw_data]

    params = make_params(init, device, dtype)
    opt = cls(groups_of(params), **kwargs)
    train(opt, params, loss_fn, data, 30)
    checkpoint = pickle.dumps(
        {"optimizer": opt.state_dict(), "params": {k: p.numpy().copy() for k, p in params.items()}}
    )
    train(opt, params, loss_fn, data, 20)

    saved = pickle.loads(checkpoint)
    resumed = make_params(saved["params"], device, dtype)
    fresh = cls(groups_of(resumed), **kwargs)
    fresh.load_state_dict(saved["optimizer"])
    train(fresh, resumed, loss_fn, data, 20)
    for key in params:
        np.testing.assert_array_equal(resumed[key].numpy(), params[key].numpy())


def test_state_dict_layout(params_and_adam):
    params, opt = params_and_adam
    state = opt.state_dict()
    assert set(state) == {"state", "param_groups"}
    assert [g["params"] for g in state["param_groups"]] == [[0, 1], [2]]
    assert state["param_groups"][1]["lr"] == 0.5
    assert state["param_groups"][0]["betas"] == (0.9, 0.999)
    assert set(state["state"]) == {0, 1}  # parameter 2 never had a gradient
    entry = state["state"][1]
    assert entry["step"] == 1
    assert isinstance(entry["grad_sum"], ac.Tensor)
    assert entry["grad_sum"].shape == params[1].shape


def test_state_dict_shares_memory_and_deepcopy_snapshots(params_and_adam):
    params, opt = params_and_adam
    live, snapshot = opt.state_dict(), copy.deepcopy(opt.state_dict())
    before = snapshot["state"][0]["grad_sum"].numpy().copy()
    params[0].grad = ac.ones_like(params[0]).data
    opt.step()
    assert not np.array_equal(live["state"][0]["grad_sum"].numpy(), before)
    np.testing.assert_array_equal(snapshot["state"][0]["grad_sum"].numpy(), before)


def test_loaded_state_does_not_alias_the_dict(params_and_adam):
    params, opt = params_and_adam
    saved = opt.state_dict()
    fresh = optim.Adam([{"params": params[:2]}, {"params": [params[2]]}])
    fresh.load_state_dict(saved)
    assert fresh.state[params[0]]["grad_sum"] is not saved["state"][0]["grad_sum"].data
    assert fresh.param_groups[1]["lr"] == 0.5
    assert fresh.param_groups[0]["params"][0] is params[0]


def test_loading_casts_array_state_to_the_parameter_dtype(params_and_adam):
    params, opt = params_and_adam
    saved = opt.state_dict()
    saved["state"][0]["grad_sum"] = saved["state"][0]["grad_sum"].double()
    fresh = optim.Adam([{"params": params[:2]}, {"params": [params[2]]}])
    fresh.load_state_dict(saved)
    assert fresh.state[params[0]]["grad_sum"].dtype == np.float32


def test_adam_keeps_the_sums_of_float16_parameters_in_float32(device):
    p = ac.ones(3, dtype=ac.float16, device=device, req_grad=True)
    opt = optim.Adam([p], amsgrad=True)
    p.grad = ac.full((3,), 30.0, dtype=ac.float16, device=device).data
    opt.step()
    saved = opt.state_dict()
    names = ("grad_sum", "grad_sq_sum", "max_grad_sq_sum")
    assert all(saved["state"][0][name].dtype == np.float32 for name in names)
    for name in names:  # a state saved before the sums were float32
        saved["state"][0][name] = saved["state"][0][name].half()
    fresh = optim.Adam([p], amsgrad=True)
    fresh.load_state_dict(saved)
    assert all(fresh.state[p][name].dtype == np.float32 for name in names)


@pytest.fixture
def params_and_adam(rng, device):
    params = [
        ac.tensor(rng.standard_normal(s), dtype=ac.float32, device=device, req_grad=True)
        for s in [(3, 2), (2,), (4,)]
    ]
    opt = optim.Adam([{"params": params[:2]}, {"params": [params[2]], "lr": 0.5}])
    (params[0].sum() + (params[1] ** 2).sum()).backward()
    opt.step()
    return params, opt


def snapshot(opt):
    state = {id(p): {k: np.array(ac.Tensor(v)) for k, v in s.items()} for p, s in opt.state.items()}
    return state, copy.deepcopy(
        [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
    )


def assert_unchanged(opt, before):
    state, groups = snapshot(opt)
    assert groups == before[1]
    assert state.keys() == before[0].keys()
    for key, values in state.items():
        for name, value in values.items():
            np.testing.assert_array_equal(value, before[0][key][name])


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda s: s["param_groups"].pop(), "1 parameter group"),
        (lambda s: s["param_groups"][0]["params"].pop(), "group 0 has 1 parameter"),
        (lambda s: s["state"].__setitem__(7, {"step": 1}), "state for parameter 7"),
        (
            lambda s: s["state"][1].__setitem__("exp_avg_sq", ac.zeros(5)),
            r"'exp_avg_sq' of parameter 1 has shape \(5,\), but that parameter has shape \(2,\)",
        ),
        (lambda s: s["param_groups"][1].__setitem__("lr", -3.0), "invalid lr: -3.0"),
        (lambda s: s.pop("state"), "'state' and 'param_groups'"),
    ],
    ids=["group-count", "group-size", "unknown-index", "shape", "bad-hyper", "not-a-state"],
)
def test_a_state_for_other_parameters_is_refused_and_changes_nothing(
    params_and_adam, mutate, message
):
    _, opt = params_and_adam
    saved = copy.deepcopy(opt.state_dict())
    for group in saved["param_groups"]:
        group["lr"] = 0.123  # would change the optimizer if anything were applied
    mutate(saved)
    before = snapshot(opt)
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(saved)
    assert_unchanged(opt, before)


def test_adam_refuses_state_without_its_sums(params_and_adam):
    params, opt = params_and_adam
    saved = opt.state_dict()
    for entry in saved["state"].values():  # PyTorch's names for Adam's state
        entry["exp_avg"], entry["exp_avg_sq"] = entry.pop("grad_sum"), entry.pop("grad_sq_sum")
    fresh = optim.Adam([{"params": params[:2]}, {"params": [params[2]]}])
    fresh.load_state_dict(saved)
    with pytest.raises(KeyError, match=r"'exp_avg'.*not 'step', 'grad_sum'"):
        fresh.step()
