"""Module and Parameter: registration, traversal, modes, dtype/device moves, state dicts, repr."""

import copy
import gc
import weakref

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import nn


@pytest.fixture(autouse=True)
def _seed():
    ac.manual_seed(0)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 2)
        self.scale = nn.Parameter(ac.ones(2))
        self.register_buffer("running_mean", ac.zeros(2))
        self.register_buffer("mask", ac.ones(2), persistent=False)
        self.register_buffer("num_batches_tracked", ac.tensor(0))

    def forward(self, x):
        return self.lin(x) * self.scale + self.running_mean


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = nn.Linear(2, 1, bias=False)

    def forward(self, x):
        return self.head(self.block(x))


# ------------------------------------------------------------------------ Parameter
def test_parameter_shares_data_and_is_a_leaf_requiring_grad():
    t = ac.randn(3)
    p = nn.Parameter(t)
    assert isinstance(p, ac.Tensor)
    assert p.req_grad and p.is_leaf
    assert p.data is t.data
    assert not t.req_grad


def test_parameter_from_non_leaf_is_a_new_leaf():
    x = ac.randn(3, req_grad=True)
    p = nn.Parameter(x * 2)
    assert p.is_leaf and p.ctx is None and p.req_grad


def test_parameter_req_grad_false_and_default_empty():
    assert not nn.Parameter(ac.randn(2), req_grad=False).req_grad
    assert not nn.Parameter(ac.randn(2), requires_grad=False).req_grad
    empty = nn.Parameter()
    assert empty.shape == (0,) and empty.dtype == ac.float32


def test_parameter_has_no_instance_dict():
    p = nn.Parameter(ac.randn(2))
    with pytest.raises(AttributeError):
        p.some_new_attribute = 1


def test_parameter_repr():
    assert repr(nn.Parameter(ac.zeros(2))).startswith("Parameter containing:\nTensor(")


def test_ops_on_parameters_give_plain_tensors():
    p = nn.Parameter(ac.randn(2))
    assert type(p * 2) is ac.Tensor


# ------------------------------------------------------------------- registration
def test_registration_of_parameters_buffers_and_modules():
    block = Block()
    assert list(block._parameters) == ["scale"]
    assert list(block._buffers) == ["running_mean", "mask", "num_batches_tracked"]
    assert list(block._modules) == ["lin"]
    assert "scale" not in block.__dict__ and "lin" not in block.__dict__
    assert block.scale is block._parameters["scale"]


def test_plain_tensor_and_other_values_are_plain_attributes():
    m = nn.Module()
    m.t = ac.zeros(2)
    m.n = 3
    assert m.__dict__["t"] is m.t and m.n == 3
    assert not list(m.parameters()) and not list(m.buffers())


def test_reassigning_moves_between_registries():
    m = nn.Module()
    m.x = ac.zeros(1)
    m.x = nn.Linear(1, 1)
    assert "x" not in m.__dict__ and m._modules["x"] is m.x
    m.x = nn.Parameter(ac.zeros(1))
    assert "x" not in m._modules and "x" in m._parameters
    # like PyTorch, a parameter name only takes a Parameter or None
    with pytest.raises(TypeError, match="cannot assign 'Linear' as parameter 'x'"):
        m.x = nn.Linear(1, 1)


def test_assigning_a_tensor_to_a_parameter_name_is_refused():
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'weight'"):
        lin.weight = ac.zeros(2, 2)
    lin.bias = None
    assert lin.bias is None and "bias" in lin._parameters
    assert list(lin.state_dict()) == ["weight"]


def test_assigning_a_non_module_to_a_module_name_is_refused():
    net = Net()
    with pytest.raises(TypeError, match="child module 'head'"):
        net.head = 3


def test_buffer_assignment_keeps_registration():
    block = Block()
    new = ac.ones(2)
    block.running_mean = new
    assert block._buffers["running_mean"] is new
    with pytest.raises(TypeError, match="buffer 'running_mean'"):
        block.running_mean = np.ones(2)


def test_buffer_shares_data_keeps_req_grad_and_is_a_leaf():
    t = ac.randn(3)
    b = nn.Buffer(t)
    assert isinstance(b, ac.Tensor) and b.data is t.data and b.persistent
    assert not b.req_grad and b.is_leaf
    x = ac.randn(3, req_grad=True)
    from_non_leaf = nn.Buffer(x * 2, persistent=False)
    assert from_non_leaf.req_grad and from_non_leaf.is_leaf and not from_non_leaf.persistent
    empty = nn.Buffer()
    assert empty.shape == (0,) and empty.dtype == ac.get_default_dtype()
    assert nn.Buffer([1.0, 2.0]).tolist() == [1.0, 2.0]
    assert type(b * 2) is ac.Tensor


def test_assigning_a_buffer_registers_it_with_its_persistence():
    m = nn.Module()
    m.kept = nn.Buffer(ac.zeros(2))
    m.mask = nn.Buffer(ac.ones(2), persistent=False)
    assert [name for name, _ in m.named_buffers()] == ["kept", "mask"]
    assert list(m.state_dict()) == ["kept"]
    assert "kept" not in m.__dict__ and m._buffers["kept"] is m.kept
    m.mask = ac.zeros(2)  # a plain tensor keeps the registration and its persistence
    assert list(m.state_dict()) == ["kept"]
    m.mask = nn.Buffer(ac.zeros(2))  # a Buffer brings its own
    assert list(m.state_dict()) == ["kept", "mask"]
    m.kept = nn.Buffer(ac.zeros(2), persistent=False)
    assert list(m.state_dict()) == ["mask"]
    assert isinstance(copy.deepcopy(m).kept, nn.Buffer)
    assert m.to(ac.float64).kept.dtype == ac.float64


def test_assigning_a_buffer_to_another_member_is_refused():
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign 'Buffer' as parameter 'weight'"):
        lin.weight = nn.Buffer(ac.zeros(2, 2))
    seq = nn.Sequential(nn.Linear(1, 1))
    with pytest.raises(TypeError, match="child module '0'"):
        setattr(seq, "0", nn.Buffer(ac.zeros(1)))
    m = nn.Module()
    m.plain = 1
    with pytest.raises(ValueError, match="attribute 'plain' already exists"):
        m.plain = nn.Buffer(ac.zeros(1))

    class Bad(nn.Module):
        def __init__(self):
            self.b = nn.Buffer(ac.zeros(1))

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Bad()


def test_assigning_before_super_init_says_to_call_it():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(ac.zeros(1))
            super().__init__()

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Bad()

    class BadModule(nn.Module):
        def __init__(self):
            self.sub = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        BadModule()

    class NoInit(nn.Module):
        def __init__(self):
            pass

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        _ = NoInit().anything
    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        NoInit().register_buffer("b", ac.zeros(1))


def test_register_methods_validate_names_and_types():
    m = nn.Module()
    with pytest.raises(ValueError, match=r'contain "\."'):
        m.register_buffer("a.b", ac.zeros(1))
    with pytest.raises(ValueError, match="empty"):
        m.register_parameter("", None)
    with pytest.raises(TypeError, match="name must be a string"):
        m.add_module(3, nn.Identity())
    with pytest.raises(TypeError, match="Tensor or None required"):
        m.register_buffer("b", np.zeros(1))
    with pytest.raises(TypeError, match=r"nn\.Parameter or None required"):
        m.register_parameter("p", ac.zeros(1))
    with pytest.raises(TypeError, match="is not a Module subclass"):
        m.add_module("x", 3)
    m.plain = 1
    with pytest.raises(ValueError, match="attribute 'plain' already exists"):
        m.register_buffer("plain", ac.zeros(1))


def test_unknown_attribute_error_names_the_class():
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'nope'"):
        _ = nn.Linear(1, 1).nope


def test_delattr_removes_registered_members():
    block = Block()
    del block.scale
    del block.running_mean
    del block.lin
    assert not block._parameters and "running_mean" not in block._buffers and not block._modules
    block.other = 1
    del block.other
    assert not hasattr(block, "other")


def test_dir_lists_registered_members():
    names = dir(Block())
    assert {"lin", "scale", "running_mean", "forward"} <= set(names)


# ----------------------------------------------------------------------- traversal
def test_named_parameters_buffers_and_modules_use_dotted_names():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "block.scale",
        "block.lin.weight",
        "block.lin.bias",
        "head.weight",
    ]
    assert [n for n, _ in net.named_buffers()] == [
        "block.running_mean",
        "block.mask",
        "block.num_batches_tracked",
    ]
    assert [n for n, _ in net.named_modules()] == ["", "block", "block.lin", "head"]
    assert [n for n, _ in net.named_children()] == ["block", "head"]
    assert list(net.children()) == [net.block, net.head]
    assert next(net.modules()) is net
    assert next(net.named_parameters(prefix="model"))[0] == "model.block.scale"


def test_recurse_false_gives_own_members_only():
    block = Block()
    assert [n for n, _ in block.named_parameters(recurse=False)] == ["scale"]
    assert len(list(block.buffers(recurse=False))) == 3
    assert len(list(block.parameters())) == 3


def test_shared_parameters_and_modules_are_yielded_once():
    net = nn.Module()
    shared = nn.Linear(2, 2)
    net.a = shared
    net.b = shared
    assert [n for n, _ in net.named_modules()] == ["", "a"]
    assert len(list(net.parameters())) == 2
    assert net.n_params == 6
    # state_dict keeps both names, like PyTorch
    assert list(net.state_dict()) == ["a.weight", "a.bias", "b.weight", "b.bias"]


def test_remove_duplicate_false_yields_every_name_of_a_shared_module():
    net = nn.Module()
    net.a = nn.BatchNorm1d(2)
    net.b = net.a
    net.c = nn.Sequential(net.a)
    assert [n for n, _ in net.named_modules(remove_duplicate=False)] == ["", "a", "b", "c", "c.0"]
    names = [n for n, _ in net.named_parameters(remove_duplicate=False)]
    assert names == ["a.weight", "a.bias", "b.weight", "b.bias", "c.0.weight", "c.0.bias"]
    buffers = [n for n, _ in net.named_buffers(remove_duplicate=False)]
    stats = ("running_mean", "running_var", "num_batches_tracked")
    assert buffers == [f"{m}.{b}" for m in ("a", "b", "c.0") for b in stats]
    assert [n for n, _ in net.named_buffers(remove_duplicate=False, recurse=False)] == []
    assert [n for n, _ in net.named_parameters()] == ["a.weight", "a.bias"]


def test_tied_weights_counted_once():
    net = nn.Sequential(nn.Linear(3, 3, bias=False), nn.Linear(3, 3, bias=False))
    net[1].weight = net[0].weight
    assert len(list(net.parameters())) == 1 and net.n_params == 9


def test_n_params_counts_elements():
    assert Net().n_params == 2 + (3 * 2 + 2) + 2


def test_get_submodule_and_parameter():
    net = Net()
    assert net.get_submodule("block.lin") is net.block.lin
    assert net.get_submodule("") is net
    assert net.get_parameter("block.lin.bias") is net.block.lin.bias
    with pytest.raises(AttributeError, match="no submodule 'nope'"):
        net.get_submodule("block.nope")
    with pytest.raises(AttributeError, match="no parameter 'nope'"):
        net.get_parameter("block.nope")


# -------------------------------------------------------------------- modes, grads
def test_train_and_eval_switch_training_everywhere_and_return_self():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    assert net.train() is net
    assert all(m.training for m in net.modules())
    net.train(False)
    assert not net.block.lin.training


def test_train_and_eval_never_touch_req_grad():
    net = Net()
    net.head.weight.req_grad = False
    before = [p.req_grad for p in net.parameters()]
    net.eval()
    assert [p.req_grad for p in net.parameters()] == before
    net.train()
    assert [p.req_grad for p in net.parameters()] == before
    assert before == [True, True, True, False]


def test_train_needs_a_bool():
    with pytest.raises(TypeError, match="bool"):
        Net().train("yes")


def test_requires_grad_freezes_parameters():
    net = Net()
    net.block.requires_grad_(False)
    assert [p.req_grad for p in net.parameters()] == [False, False, False, True]


def test_call_runs_forward_and_missing_forward_is_reported():
    net = Net()
    x = ac.randn(4, 3)
    assert np.array_equal(net(x).data, net.forward(x).data)
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(x)


def test_zero_grad():
    net = Net()
    net(ac.randn(4, 3)).sum().backward()
    grads = {id(p): p.grad for p in net.parameters()}
    assert all(g is not None for g in grads.values())
    net.zero_grad(set_to_none=False)
    for p in net.parameters():
        assert p.grad is grads[id(p)] and not p.grad.any()
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_apply_visits_children_first():
    net = Net()
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "Block", "Linear", "Net"]


# --------------------------------------------------------------------------- to()
def test_to_dtype_keeps_parameter_identity_and_converts_floats_only():
    net = Net()
    params = list(net.parameters())
    buffers = list(net.buffers())
    net(ac.randn(2, 3)).sum().backward()
    assert net.to(ac.float64) is net
    assert [id(p) for p in net.parameters()] == [id(p) for p in params]
    assert [id(b) for b in net.buffers()] == [id(b) for b in buffers]
    assert all(p.dtype == ac.float64 and p.grad.dtype == ac.float64 for p in params)
    assert net.block.running_mean.dtype == ac.float64
    assert net.block.num_batches_tracked.dtype == ac.int64
    assert all(p.req_grad and p.is_leaf for p in params)
    assert net(ac.randn(2, 3, dtype=ac.float64)).dtype == ac.float64
    net.float()
    assert net.block.lin.weight.dtype == ac.float32
    net.half()
    assert net.head.weight.dtype == ac.float16
    net.double()
    assert net.head.weight.dtype == ac.float64


def test_to_accepts_keywords_devices_and_tensors():
    net = Net()
    net.to(dtype="float64")
    assert net.head.weight.dtype == ac.float64
    net.to("cpu")
    net.cpu()
    assert net.head.weight.device == "cpu"
    net.to(ac.zeros(1, dtype=ac.float32))
    assert net.head.weight.dtype == ac.float32


def test_to_refuses_non_float_dtypes():
    with pytest.raises(TypeError, match="floating-point"):
        Net().to(ac.int64)


def test_optimizer_style_update_sees_converted_data():
    net = nn.Linear(2, 2)
    params = list(net.parameters())  # as an optimizer would keep them
    net.double()
    with ac.no_grad():
        params[0].copy_(np.ones((2, 2)))
    assert net.weight.data.dtype == np.float64 and net.weight.data.sum() == 4


# ---------------------------------------------------------------------- state_dict
def test_state_dict_keys_order_and_persistence():
    net = Net()
    sd = net.state_dict()
    assert list(sd) == [
        "block.scale",
        "block.running_mean",
        "block.num_batches_tracked",
        "block.lin.weight",
        "block.lin.bias",
        "head.weight",
    ]
    assert all(type(v) is ac.Tensor and not v.req_grad for v in sd.values())
    assert sd["head.weight"].data is net.head.weight.data
    kept = net.state_dict(keep_vars=True)
    assert kept["head.weight"] is net.head.weight
    assert next(iter(net.state_dict(prefix="m."))) == "m.block.scale"


def _arrays(module):
    return {k: v.data.copy() for k, v in module.state_dict().items()}


def test_load_state_dict_roundtrip_in_place():
    source, target = Net(), Net()
    params = list(target.parameters())
    result = target.load_state_dict(source.state_dict())
    assert result == ([], []) and result.missing_keys == []
    assert all(a is b for a, b in zip(target.parameters(), params, strict=True))
    for key, value in source.state_dict().items():
        assert np.array_equal(target.state_dict()[key].data, value.data)
    # the data is copied, not shared
    assert target.head.weight.data is not source.head.weight.data


def test_load_state_dict_accepts_numpy_and_converts_floats():
    net = nn.Linear(2, 3)
    sd = {
        "weight": np.arange(6, dtype=np.float64).reshape(3, 2),
        "bias": np.array([1.0, 2.0, 3.0], dtype=np.float16),
    }
    net.load_state_dict(sd)
    assert net.weight.dtype == ac.float32
    assert np.array_equal(net.weight.data, sd["weight"].astype(np.float32))
    assert np.array_equal(net.bias.data, [1, 2, 3])


def test_strict_loading_errors_list_everything_and_change_nothing():
    net = Net()
    before = _arrays(net)
    sd = {k: v.data.copy() + 1 for k, v in net.state_dict().items()}
    del sd["head.weight"]
    sd["head.bias"] = np.zeros(1, dtype=np.float32)
    sd["block.lin.weight"] = np.zeros((3, 2), dtype=np.float32)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(sd)
    message = str(info.value)
    assert 'Missing key(s) in state_dict: "head.weight"' in message
    assert 'Unexpected key(s) in state_dict: "head.bias"' in message
    assert "size mismatch for block.lin.weight" in message
    assert "(3, 2)" in message and "(2, 3)" in message
    for key, value in _arrays(net).items():
        assert np.array_equal(value, before[key]), key


def test_dtype_mismatch_is_refused_and_changes_nothing():
    net = Net()
    before = _arrays(net)
    sd = {k: v.data.copy() + 1 for k, v in net.state_dict().items()}
    sd["block.num_batches_tracked"] = np.array(1.5)
    with pytest.raises(RuntimeError, match=r"dtype mismatch for block\.num_batches_tracked"):
        net.load_state_dict(sd)
    sd["block.num_batches_tracked"] = np.array(3)
    sd["head.weight"] = np.ones((1, 2), dtype=np.int64)
    with pytest.raises(RuntimeError, match=r"dtype mismatch for head\.weight"):
        net.load_state_dict(sd)
    for key, value in _arrays(net).items():
        assert np.array_equal(value, before[key]), key


def test_non_strict_loading_returns_missing_and_unexpected_keys():
    net = Net()
    sd = net.state_dict()
    del sd["head.weight"]
    sd["extra"] = ac.zeros(1)
    missing, unexpected = net.load_state_dict(sd, strict=False)
    assert missing == ["head.weight"] and unexpected == ["extra"]


def test_non_strict_loading_still_refuses_shape_mismatch():
    net = nn.Linear(2, 3)
    before = _arrays(net)
    with pytest.raises(RuntimeError, match="size mismatch for bias"):
        net.load_state_dict({"weight": np.zeros((3, 2)), "bias": np.zeros(4)}, strict=False)
    assert all(np.array_equal(v, before[k]) for k, v in _arrays(net).items())


def test_load_state_dict_needs_a_mapping():
    with pytest.raises(TypeError, match="dict-like"):
        nn.Linear(1, 1).load_state_dict([("weight", np.zeros((1, 1)))])


def test_non_persistent_buffers_are_not_loaded_or_expected():
    block = Block()
    sd = block.state_dict()
    assert "mask" not in sd
    block.load_state_dict(sd)


# ------------------------------------------------------------------------ repr
def test_repr_is_nested_like_pytorch():
    assert repr(nn.Linear(4, 5)) == "Linear(in_features=4, out_features=5, bias=True)"
    assert repr(Net()) == (
        "Net(\n"
        "  (block): Block(\n"
        "    (lin): Linear(in_features=3, out_features=2, bias=True)\n"
        "  )\n"
        "  (head): Linear(in_features=2, out_features=1, bias=False)\n"
        ")"
    )
    assert repr(nn.Module()) == "Module()"


def test_repr_with_multiline_extra_and_children():
    class Custom(nn.Module):
        def __init__(self):
            super().__init__()
            self.sub = nn.Identity()

        def extra_repr(self):
            return "a=1\nb=2"

    assert repr(Custom()) == "Custom(\n  a=1\n  b=2\n  (sub): Identity()\n)"


def test_deepcopy_gives_independent_parameters():
    net = Net()
    clone = copy.deepcopy(net)
    assert clone.head.weight is not net.head.weight
    assert isinstance(clone.head.weight, nn.Parameter) and clone.head.weight.req_grad
    x = ac.randn(2, 3)
    assert np.array_equal(clone(x).data, net(x).data)
    with ac.no_grad():
        clone.head.weight.fill_(0)
    assert net.head.weight.data.any()


def test_forward_hooks_read_and_replace_and_are_removed() -> None:
    layer = nn.Linear(2, 2)
    seen = []
    with layer.register_forward_hook(lambda module, args, out: seen.append(out.shape)):
        layer(ac.ones(3, 2))
    layer(ac.ones(3, 2))
    assert seen == [(3, 2)]  # the with block removed the hook
    doubled = layer.register_forward_pre_hook(lambda module, args: (args[0] * 2,))
    zeroed = layer.register_forward_hook(lambda module, args, out: out * 0)
    assert layer(ac.ones(1, 2)).tolist() == [[0.0, 0.0]]
    zeroed.remove()
    expected = (ac.ones(1, 2) * 2) @ layer.weight.T + layer.bias
    np.testing.assert_allclose(layer(ac.ones(1, 2)).numpy(), expected.numpy())
    doubled.remove()
    doubled.remove()  # removing twice is harmless
    assert not layer._forward_pre_hooks and not nn.Linear(1, 1)._forward_hooks


def test_backward_hooks_see_and_replace_gradients_and_are_removed() -> None:
    layer = nn.Linear(2, 3, bias=False)
    layer.weight.data[...] = np.arange(6.0).reshape(3, 2)
    calls = []
    pre = layer.register_full_backward_pre_hook(lambda m, go: calls.append("pre") or (go[0] * 2,))
    full = layer.register_full_backward_hook(
        lambda m, gi, go: calls.append((gi[0].tolist(), go[0].tolist())) or (gi[0] + 1,)
    )
    x = ac.ones(1, 2, req_grad=True)
    out = layer(x)
    out.sum().backward(retain_graph=True)
    # grad_output 1s doubled by the pre-hook; grad_input = 2 * column sums of the weight
    assert calls == ["pre", ([[12.0, 18.0]], [[2.0, 2.0, 2.0]])]
    assert x.grad.tolist() == [[13.0, 19.0]] and layer.weight.grad.tolist()[0] == [2.0, 2.0]
    out.sum().backward()  # a second pass runs the hooks again
    assert len(calls) == 4 and x.grad.tolist() == [[26.0, 38.0]]
    pre.remove()
    full.remove()
    x.grad = None
    layer(x).sum().backward()
    assert len(calls) == 4 and x.grad.tolist() == [[6.0, 9.0]]


def test_backward_hooks_without_inputs_that_need_grad_and_errors() -> None:
    layer = nn.Linear(2, 2)
    seen = []
    with layer.register_full_backward_hook(lambda m, gi, go: seen.append((gi, len(go)))):
        layer(ac.ones(3, 2)).sum().backward()
    assert seen == [((None,), 1)]  # as in PyTorch: fired once the output's gradient is known
    layer.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    x = ac.ones(3, 2, req_grad=True)
    with pytest.raises(RuntimeError, match="returned 2 gradients, expected 1"):
        layer(x).sum().backward()
    x = ac.ones(3, 2, req_grad=True)
    with pytest.raises(NotImplementedError, match="create_graph"):
        ac.autograd.grad(layer(x).sum(), x, create_graph=True)


def test_backward_hooks_keep_no_graph_alive() -> None:
    layer = nn.Linear(2, 2)
    layer.register_full_backward_hook(lambda m, gi, go: None)
    gc.disable()
    try:
        out = layer(ac.ones(1, 2, req_grad=True))
        first_op = weakref.ref(out.ctx.parents[0])  # inside the layer
        del out
        assert first_op() is None  # freed without the cyclic garbage collector
    finally:
        gc.enable()


def test_parameter_containers() -> None:
    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scales = nn.ParameterList([ac.ones(2), nn.Parameter(ac.zeros(3))])
            self.extra = nn.ParameterDict({"shift": ac.zeros(1)})

    model = Model()
    assert list(model.state_dict()) == ["scales.0", "scales.1", "extra.shift"]
    assert all(isinstance(p, nn.Parameter) for p in model.parameters())
    model.scales.append(ac.ones(4))
    model.extra["tilt"] = ac.ones(2)
    assert len(model.scales) == 3 and model.scales[-1].shape == (4,)
    assert list(model.extra) == ["shift", "tilt"] and "tilt" in model.extra
    assert sum(p.numel() for p in model.parameters()) == 2 + 3 + 4 + 1 + 2
    with pytest.raises(IndexError, match="out of range"):
        model.scales[5]


def test_parameters_to_vector_and_back() -> None:
    layer = nn.Linear(3, 2)
    vector = nn.utils.parameters_to_vector(layer.parameters())
    assert vector.shape == (8,) and vector.ctx is not None  # differentiable
    nn.utils.vector_to_parameters(ac.arange(8.0), layer.parameters())
    assert layer.weight.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert layer.bias.tolist() == [6.0, 7.0] and layer.weight.req_grad
    with pytest.raises(ValueError, match="1-D tensor of 8 elements"):
        nn.utils.vector_to_parameters(ac.ones(7), layer.parameters())
