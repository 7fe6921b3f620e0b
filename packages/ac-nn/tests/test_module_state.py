"""Module state-dict hooks, extra state, ``load_state_dict(assign=True)`` and the smaller
Module methods (get_buffer, set_submodule, type, to_empty, ...)."""

import warnings

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import nn


@pytest.fixture(autouse=True)
def _seed():
    ac.manual_seed(0)


class Counter(nn.Module):
    """A module with extra state: a step count and a tensor."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 3)
        self.steps = 0
        self.table = ac.tensor([1.0, 2.0])

    def get_extra_state(self):
        return {"table": self.table, "steps": self.steps}

    def set_extra_state(self, state):
        self.table, self.steps = state["table"], int(state["steps"])


def _net():
    return nn.Sequential(Counter(), nn.Linear(3, 1))


def _snapshot(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items() if isinstance(v, ac.Tensor)}


def _assert_same_snapshot(a, b):
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


# ------------------------------------------------------------------ state_dict hooks
def test_state_dict_hooks_order_and_arguments():
    net = _net()
    log = []
    for name, module in [("root", net), ("counter", net[0]), ("lin", net[0].lin)]:
        module.register_state_dict_pre_hook(
            lambda m, prefix, keep_vars, name=name: log.append(("pre", name, prefix, keep_vars))
        )
        module.register_state_dict_post_hook(
            lambda m, sd, prefix, meta, name=name: log.append(
                ("post", name, prefix, sorted(sd), meta)
            )
        )
    net.state_dict(keep_vars=True)
    # NOTE: one shared dict: a child's post-hook sees its parent's own entries too.
    after_lin = ["0._extra_state", "0.lin.bias", "0.lin.weight"]
    meta = {"version": 1}
    assert log == [
        ("pre", "root", "", True),
        ("pre", "counter", "0.", True),
        ("pre", "lin", "0.lin.", True),
        ("post", "lin", "0.lin.", after_lin, meta),
        ("post", "counter", "0.", after_lin, meta),
        ("post", "root", "", [*after_lin, "1.bias", "1.weight"], meta),
    ]


def test_state_dict_post_hook_changes_in_place_and_must_return_none():
    lin = nn.Linear(2, 2)
    handle = lin.register_state_dict_post_hook(lambda m, sd, prefix, meta: sd.pop(prefix + "bias"))
    with pytest.raises(RuntimeError, match="must return None"):
        lin.state_dict()
    handle.remove()

    def drop_bias(module, sd, prefix, meta):
        del sd[prefix + "bias"]

    lin.register_state_dict_post_hook(drop_bias)
    assert list(lin.state_dict()) == ["weight"]


def test_state_dict_hook_handles_remove():
    lin, calls = nn.Linear(2, 2), []
    pre = lin.register_state_dict_pre_hook(lambda *args: calls.append("pre"))
    post = lin.register_state_dict_post_hook(lambda *args: calls.append("post") and None)
    lin.state_dict()
    pre.remove()
    post.remove()
    lin.state_dict()
    assert calls == ["pre", "post"]


def test_state_dict_hooks_do_not_hook_the_forward_pass():
    lin = nn.Linear(2, 2)
    lin.register_state_dict_pre_hook(lambda *args: None)
    lin.register_load_state_dict_post_hook(lambda *args: None)
    assert not lin._hooked


def test_state_dict_destination_and_prefix():
    lin, destination = nn.Linear(2, 2), {"other": 1}
    out = lin.state_dict(prefix="model.", destination=destination)
    assert out is destination and list(out) == ["other", "model.weight", "model.bias"]


# ------------------------------------------------------------ load_state_dict hooks
def test_load_hooks_order_and_arguments():
    source, target = _net(), _net()
    log = []
    for name, module in [("root", target), ("counter", target[0]), ("lin", target[0].lin)]:

        def pre(m, sd, prefix, meta, strict, missing, unexpected, errors, name=name):
            log.append(("pre", name, m, sorted(sd), prefix, meta, strict, list(missing)))

        def post(m, keys, name=name):
            log.append(("post", name, m, list(keys.missing_keys), list(keys.unexpected_keys)))

        module.register_load_state_dict_pre_hook(pre)
        module.register_load_state_dict_post_hook(post)
    sd = source.state_dict()
    del sd["1.bias"]
    sd["extra"] = ac.zeros(1)
    result = target.load_state_dict(sd, strict=False)
    assert result == (["1.bias"], ["extra"])
    counter_keys = ["0._extra_state", "0.lin.bias", "0.lin.weight"]
    assert log == [
        ("pre", "root", target, sorted(sd), "", {}, True, []),
        ("pre", "counter", target[0], counter_keys, "0.", {}, True, []),
        ("pre", "lin", target[0].lin, counter_keys[1:], "0.lin.", {}, True, []),
        ("post", "lin", target[0].lin, [], ["extra"]),
        ("post", "counter", target[0], [], ["extra"]),
        ("post", "root", target, ["1.bias"], ["extra"]),
    ]


def test_load_pre_hook_can_rename_keys_and_add_errors():
    lin = nn.Linear(2, 2)

    def rename(module, sd, prefix, meta, strict, missing, unexpected, errors):
        if prefix + "w" in sd:
            sd[prefix + "weight"] = sd.pop(prefix + "w")

    lin.register_load_state_dict_pre_hook(rename)
    sd = {"w": np.ones((2, 2)), "bias": np.zeros(2)}
    assert lin.load_state_dict(sd) == ([], [])
    assert np.array_equal(lin.weight.numpy(), np.ones((2, 2)))
    assert "w" in sd  # the caller's dict is not changed
    lin.register_load_state_dict_pre_hook(
        lambda m, sd, p, meta, s, mk, uk, errors: errors.append("bad")
    )
    before = _snapshot(lin)
    with pytest.raises(RuntimeError, match="bad"):
        lin.load_state_dict({"weight": np.zeros((2, 2)), "bias": np.ones(2)})
    _assert_same_snapshot(before, _snapshot(lin))


def test_load_post_hook_clearing_keys_avoids_the_strict_error():
    lin = nn.Linear(2, 2)

    def forgive(module, keys):
        keys.missing_keys.clear()
        keys.unexpected_keys.clear()

    lin.register_load_state_dict_post_hook(forgive)
    assert lin.load_state_dict({"weight": np.ones((2, 2)), "junk": np.zeros(1)}) == ([], [])
    assert np.array_equal(lin.weight.numpy(), np.ones((2, 2)))


def test_load_post_hook_adding_keys_fails_and_restores():
    lin = nn.Linear(2, 2)
    seen = []

    def complain(module, keys):
        seen.append(module.weight.numpy().copy())  # the hook sees the loaded values
        keys.missing_keys.append("made.up")

    lin.register_load_state_dict_post_hook(complain)
    before = _snapshot(lin)
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "made\.up"'):
        lin.load_state_dict({"weight": np.full((2, 2), 7.0), "bias": np.zeros(2)})
    assert np.array_equal(seen[0], np.full((2, 2), 7.0))
    _assert_same_snapshot(before, _snapshot(lin))


def test_load_post_hook_must_return_none_and_a_raising_hook_restores():
    lin = nn.Linear(2, 2)
    handle = lin.register_load_state_dict_post_hook(lambda module, keys: keys)
    before = _snapshot(lin)
    sd = {"weight": np.ones((2, 2)), "bias": np.ones(2)}
    with pytest.raises(RuntimeError, match="must return None"):
        lin.load_state_dict(sd)
    _assert_same_snapshot(before, _snapshot(lin))
    handle.remove()

    def boom(module, keys):
        raise KeyError("boom")

    lin.register_load_state_dict_post_hook(boom)
    with pytest.raises(KeyError, match="boom"):
        lin.load_state_dict(sd)
    _assert_same_snapshot(before, _snapshot(lin))


def test_load_hook_handles_remove():
    lin, calls = nn.Linear(2, 2), []
    pre = lin.register_load_state_dict_pre_hook(lambda *args: calls.append("pre"))
    post = lin.register_load_state_dict_post_hook(lambda *args: calls.append("post") and None)
    lin.load_state_dict(lin.state_dict())
    pre.remove()
    post.remove()
    lin.load_state_dict(lin.state_dict())
    assert calls == ["pre", "post"]


# ----------------------------------------------------------------------- extra state
def test_extra_state_round_trip_through_state_dict():
    source, target = _net(), _net()
    source[0].steps, source[0].table = 5, ac.tensor([3.0, 4.0])
    sd = source.state_dict()
    assert list(sd) == ["0._extra_state", "0.lin.weight", "0.lin.bias", "1.weight", "1.bias"]
    assert target.load_state_dict(sd) == ([], [])
    assert target[0].steps == 5 and target[0].table.tolist() == [3.0, 4.0]
    _assert_same_snapshot(_snapshot(source), _snapshot(target))


@pytest.mark.parametrize("kind", ["tensor", "dict of tensors", "numbers"])
def test_extra_state_round_trip_through_save_and_load(tmp_path, kind):
    states = {
        "tensor": lambda: ac.tensor([[1.0, 2.0]]),
        "dict of tensors": lambda: {"a": ac.arange(3), "b": ac.ones(2, dtype=ac.float64)},
        "numbers": lambda: {"step": 3, "lr": 0.5, "name": "adam"},
    }

    class Holder(nn.Module):
        def __init__(self, state=None):
            super().__init__()
            self.state = state

        def get_extra_state(self):
            return self.state

        def set_extra_state(self, state):
            self.state = state

    model = nn.Sequential(nn.Linear(2, 2), Holder(states[kind]()))
    ac.save(model.state_dict(), tmp_path / "m.safetensors")
    restored = nn.Sequential(nn.Linear(2, 2), Holder())
    assert restored.load_state_dict(ac.load(tmp_path / "m.safetensors")) == ([], [])
    expected, got = model[1].state, restored[1].state
    if kind == "tensor":
        assert isinstance(got, ac.Tensor) and np.array_equal(got.numpy(), expected.numpy())
    elif kind == "dict of tensors":
        assert got.keys() == expected.keys()
        for key in expected:
            assert got[key].dtype == expected[key].dtype
            assert np.array_equal(got[key].numpy(), expected[key].numpy())
    else:
        assert got == expected
    _assert_same_snapshot(_snapshot(model[0]), _snapshot(restored[0]))


def test_extra_state_that_a_checkpoint_cannot_hold_raises_on_save(tmp_path):
    class Opaque(nn.Module):
        def get_extra_state(self):
            return object()

        def set_extra_state(self, state):
            pass

    sd = nn.Sequential(Opaque()).state_dict()  # in memory, anything goes
    with pytest.raises(TypeError, match=r"object.*'0\._extra_state'"):
        ac.save(sd, tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()


def test_extra_state_missing_and_unexpected_keys():
    net = _net()
    sd = net.state_dict()
    del sd["0._extra_state"]
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "0\._extra_state"'):
        net.load_state_dict(sd)
    assert net.load_state_dict(sd, strict=False) == (["0._extra_state"], [])
    plain = nn.Sequential(nn.Linear(2, 3))
    result = plain.load_state_dict(
        {"0.weight": np.zeros((3, 2)), "0.bias": np.zeros(3), "0._extra_state": 1}, strict=False
    )
    assert result == ([], ["0._extra_state"])


def test_base_extra_state_methods_raise():
    with pytest.raises(RuntimeError, match="does not define get_extra_state"):
        nn.Linear(1, 1).get_extra_state()
    with pytest.raises(RuntimeError, match="does not define set_extra_state"):
        nn.Linear(1, 1).set_extra_state(None)


def test_failing_set_extra_state_restores_everything():
    class Picky(Counter):
        def set_extra_state(self, state):
            if state["steps"] < 0:
                raise ValueError("negative steps")
            super().set_extra_state(state)

    net = nn.Sequential(Counter(), Picky())
    net[0].steps, net[1].steps = 1, 2
    sd = nn.Sequential(Counter(), Picky()).state_dict()
    sd["0._extra_state"] = {"table": ac.zeros(2), "steps": 10}
    sd["1._extra_state"] = {"table": ac.zeros(2), "steps": -1}
    before = _snapshot(net)
    with pytest.raises(ValueError, match="negative steps"):
        net.load_state_dict(sd)
    assert (net[0].steps, net[1].steps) == (1, 2)
    _assert_same_snapshot(before, _snapshot(net))


def test_failed_loads_leave_the_model_untouched():
    net = _net()
    before = _snapshot(net)
    steps = net[0].steps
    good = _net().state_dict()
    bad_shape = dict(good, **{"1.weight": np.zeros((2, 3))})
    with pytest.raises(RuntimeError, match=r"size mismatch for 1.weight.*\(2, 3\).*\(1, 3\)"):
        net.load_state_dict(bad_shape)
    bad_dtype = dict(good, **{"1.bias": np.zeros(1, dtype=np.int64)})
    with pytest.raises(RuntimeError, match=r"dtype mismatch for 1\.bias"):
        net.load_state_dict(bad_dtype, assign=True)
    with pytest.raises(RuntimeError, match="Unexpected key"):
        net.load_state_dict(dict(good, extra=np.zeros(1)))
    assert net[0].steps == steps
    _assert_same_snapshot(before, _snapshot(net))


@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.BatchNorm1d(3),
        lambda: nn.InstanceNorm1d(3, affine=True, track_running_stats=True),
        nn.LazyBatchNorm1d,
    ],
    ids=["batch", "instance", "lazy"],
)
@pytest.mark.parametrize("hooked", [False, True])
def test_norm_loads_a_state_dict_without_num_batches_tracked(make, hooked):
    # NOTE: checkpoints of PyTorch before 0.4.1 lack it; PyTorch keeps the module's count.
    state = nn.Sequential(nn.BatchNorm1d(3)).state_dict()
    del state["0.num_batches_tracked"]
    state["0.running_mean"] = ac.ones(3)
    model = nn.Sequential(make())
    if hooked:  # the load that writes module by module
        model.register_load_state_dict_post_hook(lambda module, keys: None)
    model[0].num_batches_tracked.fill_(5)
    assert model.load_state_dict(state) == ([], [])
    assert model.load_state_dict(state, strict=False) == ([], [])
    assert model[0].num_batches_tracked.item() == 5
    assert model[0].running_mean.tolist() == [1.0, 1.0, 1.0]
    del state["0.running_var"]
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "0.running_var"'):
        model.load_state_dict(state)


# ------------------------------------------------------------------------ assign
def test_assign_takes_the_tensors_themselves():
    net = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    net[0].weight.req_grad = False
    weight = nn.Parameter(ac.ones(3, 2, dtype=ac.float64))  # dtype is kept with assign
    bias = ac.zeros(3)
    mean = ac.full((3,), 2.0)
    sd = dict(net.state_dict(), **{"0.weight": weight, "0.bias": bias, "1.running_mean": mean})
    assert net.load_state_dict(sd, assign=True) == ([], [])
    assert net[0].weight is weight and weight.dtype == np.float64
    assert not weight.req_grad  # the replaced parameter's req_grad
    assert isinstance(net[0].bias, nn.Parameter) and net[0].bias.req_grad
    assert np.shares_memory(net[0].bias.data, bias.data)
    assert net[1].running_mean is mean and not isinstance(mean, nn.Parameter)
    assert [name for name, _ in net.named_parameters()] == [
        "0.weight",
        "0.bias",
        "1.weight",
        "1.bias",
    ]


def test_assign_passes_its_flag_to_pre_hooks_and_restores_on_failure():
    lin = nn.Linear(2, 2)
    metas = []
    lin.register_load_state_dict_pre_hook(lambda m, sd, p, meta, *rest: metas.append(dict(meta)))

    def fail(module, keys):
        keys.unexpected_keys.append("nope")

    lin.register_load_state_dict_post_hook(fail)
    weight, bias = lin.weight, lin.bias
    new_weight = nn.Parameter(ac.ones(2, 2), req_grad=False)
    with pytest.raises(RuntimeError, match="nope"):
        lin.load_state_dict({"weight": new_weight, "bias": ac.zeros(2)}, assign=True)
    assert lin.weight is weight and lin.bias is bias and not new_weight.req_grad
    assert metas == [{"assign_to_params_buffers": True}]


def test_copy_load_keeps_the_objects():
    lin = nn.Linear(2, 2)
    weight = lin.weight
    lin.load_state_dict({"weight": np.ones((2, 2), np.float64), "bias": np.zeros(2)})
    assert lin.weight is weight and weight.dtype == np.float32


# ----------------------------------------------------------------- other methods
def test_get_buffer():
    net = nn.Sequential(nn.BatchNorm1d(3))
    assert net.get_buffer("0.running_var") is net[0].running_var
    with pytest.raises(AttributeError, match="`weight` is not a buffer"):
        net.get_buffer("0.weight")
    with pytest.raises(AttributeError, match="has no attribute `nothing`"):
        net.get_buffer("0.nothing")
    with pytest.raises(AttributeError, match="no submodule '3'"):
        net.get_buffer("3.running_var")


def test_set_submodule():
    net = nn.Sequential(nn.Sequential(nn.Linear(1, 1)))
    relu = nn.ReLU()
    net.set_submodule("0.0", relu)
    assert net[0][0] is relu
    net.set_submodule("0.extra", nn.Tanh())
    assert isinstance(net[0].extra, nn.Tanh)
    with pytest.raises(AttributeError, match="no submodule 'new'"):
        net.set_submodule("0.new", nn.ReLU(), strict=True)
    with pytest.raises(AttributeError, match="no submodule '5'"):
        net.set_submodule("5.x", nn.ReLU())
    with pytest.raises(ValueError, match="without a target"):
        net.set_submodule("", nn.ReLU())
    with pytest.raises(ValueError, match=r"must be an nn\.Module"):
        net.set_submodule("0.0", 3)
    lin = nn.Linear(1, 1)
    with pytest.raises(AttributeError, match="`weight` is an attribute"):
        nn.Sequential(lin).set_submodule("0.weight", nn.ReLU())


def test_type_casts_every_parameter_and_buffer():
    net = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    weight = net[0].weight
    assert net.type(ac.float64) is net
    assert net[0].weight is weight and weight.dtype == np.float64
    assert net[1].num_batches_tracked.dtype == np.float64  # integer buffers too, as in PyTorch
    net.type("int32")
    assert net[1].running_mean.dtype == np.int32
    with pytest.raises(TypeError, match=r"unknown dtype|not supported"):
        net.type("bfloat16")


def test_to_empty_keeps_shapes_and_dtypes():
    net = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    data = net[0].weight.data
    assert net.to_empty(device="cpu") is net
    assert net[0].weight.data is not data and net[0].weight.shape == (3, 2)
    assert net[1].num_batches_tracked.dtype == np.int64
    inner = nn.Sequential(nn.Linear(1, 1))
    inner_weight = inner[0].weight.data
    inner.to_empty(device=None, recurse=False)
    assert inner[0].weight.data is inner_weight


def test_share_memory_compile_and_bfloat16():
    lin = nn.Linear(2, 2)
    assert lin.share_memory() is lin
    assert lin.compile(mode="max-autotune", fullgraph=True) is None
    assert lin(ac.ones(1, 2)).shape == (1, 2)
    with pytest.raises(TypeError, match="no bfloat16"):
        lin.bfloat16()


def test_register_backward_hook_is_a_deprecated_full_hook():
    lin, seen = nn.Linear(2, 1), []
    with pytest.warns(FutureWarning, match="register_full_backward_hook"):
        handle = lin.register_backward_hook(lambda m, gi, go: seen.append((gi, go)))
    x = ac.ones(1, 2, req_grad=True)
    lin(x).sum().backward()
    assert len(seen) == 1 and seen[0][0][0].shape == (1, 2) and seen[0][1][0].shape == (1, 1)
    handle.remove()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lin(x).sum().backward()
    assert len(seen) == 1


def test_failed_hooked_load_restores_a_materialized_lazy_parameter():
    lazy = nn.LazyLinear(2)
    ran = []
    lazy.register_load_state_dict_post_hook(lambda module, keys: ran.append(module.weight.shape))
    with pytest.raises(RuntimeError, match="Unexpected key"):
        lazy.load_state_dict({"weight": np.ones((2, 3)), "bias": np.ones(2), "x": np.ones(1)})
    assert ran == [(2, 3)]  # as in PyTorch, post-hooks run before the load fails
    assert isinstance(lazy.weight, nn.UninitializedParameter)
    assert lazy.load_state_dict({"weight": np.ones((2, 3)), "bias": np.ones(2)}) == ([], [])
    assert type(lazy.weight) is nn.Parameter and lazy.weight.shape == (2, 3)
