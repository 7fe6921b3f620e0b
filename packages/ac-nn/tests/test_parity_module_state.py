"""State-dict hooks, extra state and ``load_state_dict(assign=True)`` against torch.nn.Module:
the same models log the same hook calls, with the same arguments, and end in the same state."""

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import nn

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")


def _models():
    """The same structure in both libraries: Sequential(Extra(lin), Linear), where Extra has
    extra state (a step count)."""

    def make(base, linear, sequential):
        class Extra(base):
            def __init__(self):
                super().__init__()
                self.lin = linear(2, 3)
                self.steps = 0

            def get_extra_state(self):
                return {"steps": self.steps}

            def set_extra_state(self, state):
                self.steps = state["steps"]

        return sequential(Extra(), linear(3, 1))

    ours = make(nn.Module, nn.Linear, nn.Sequential)
    theirs = make(torch.nn.Module, torch.nn.Linear, torch.nn.Sequential)
    return ours, theirs


def _arrays(model, skip=()):
    """A torch model's state dict with NumPy arrays (extra state left out)."""
    return {
        k: v.detach().numpy()
        for k, v in model.state_dict().items()
        if isinstance(v, torch.Tensor) and not any(part in k for part in skip)
    }


def _named(model):
    return [("root", model), ("extra", model[0]), ("lin", model[0].lin), ("last", model[1])]


def _hook_state_dicts(model, log):
    for name, module in _named(model):
        module.register_state_dict_pre_hook(
            lambda m, prefix, keep_vars, name=name: log.append(("pre", name, prefix, keep_vars))
        )

        def post(m, sd, prefix, meta, name=name):
            log.append(("post", name, prefix, list(sd), dict(meta)))

        module.register_state_dict_post_hook(post)


def _hook_loads(model, log):
    for name, module in _named(model):

        def pre(m, sd, prefix, meta, strict, missing, unexpected, errors, name=name):
            log.append(
                (
                    "pre",
                    name,
                    sorted(sd),
                    prefix,
                    dict(meta),
                    strict,
                    list(missing),
                    list(unexpected),
                )
            )

        def post(m, keys, name=name):
            log.append(("post", name, list(keys.missing_keys), list(keys.unexpected_keys)))

        module.register_load_state_dict_pre_hook(pre)
        module.register_load_state_dict_post_hook(post)


@pytest.mark.parametrize("keep_vars", [False, True])
def test_state_dict_hooks_match(keep_vars):
    ours, theirs = _models()
    our_log, their_log = [], []
    _hook_state_dicts(ours, our_log)
    _hook_state_dicts(theirs, their_log)
    our_keys = list(ours.state_dict(keep_vars=keep_vars))
    their_keys = list(theirs.state_dict(keep_vars=keep_vars))
    assert our_keys == their_keys
    assert our_log == their_log


@pytest.mark.parametrize("assign", [False, True])
def test_load_hooks_match(assign):
    ours, theirs = _models()
    our_log, their_log = [], []
    _hook_loads(ours, our_log)
    _hook_loads(theirs, their_log)
    source = _arrays(theirs)
    source["0._extra_state"] = {"steps": 4}
    del source["0.lin.bias"]
    source["1.unknown"] = np.zeros(1, np.float32)
    source["stray"] = np.zeros(1, np.float32)
    ours_result = ours.load_state_dict(
        {k: v if isinstance(v, dict) else ac.tensor(v) for k, v in source.items()},
        strict=False,
        assign=assign,
    )
    their_result = theirs.load_state_dict(
        {k: v if isinstance(v, dict) else torch.tensor(v) for k, v in source.items()},
        strict=False,
        assign=assign,
    )
    assert tuple(ours_result) == tuple(their_result)
    assert our_log == their_log
    assert ours[0].steps == theirs[0].steps == 4


def _clear_missing(module, keys):
    keys.missing_keys.clear()


def _add_missing(module, keys):
    keys.missing_keys.append("made.up")


@pytest.mark.parametrize("hook", [_clear_missing, _add_missing])
def test_post_hook_key_edits_decide_strict_loads_alike(hook):
    ours, theirs = _models()
    ours[0].register_load_state_dict_post_hook(hook)
    theirs[0].register_load_state_dict_post_hook(hook)
    state = _arrays(theirs, skip=["lin"])
    state["0._extra_state"] = {"steps": 1}
    outcomes = []
    for model, convert in [(ours, ac.tensor), (theirs, torch.tensor)]:
        try:
            result = model.load_state_dict(
                {k: v if isinstance(v, dict) else convert(v) for k, v in state.items()}
            )
            outcomes.append(("ok", tuple(result)))
        except RuntimeError as error:
            message = str(error)
            outcomes.append(("error", message[message.index("Missing") :].rstrip(". ")))
    assert outcomes[0] == outcomes[1]


def test_assign_keeps_objects_and_req_grad_like_torch():
    ours, theirs = nn.Linear(2, 2), torch.nn.Linear(2, 2)
    ours.weight.req_grad = False
    theirs.weight.requires_grad = False
    weight = np.ones((2, 2), np.float32)
    our_weight, their_weight = (
        nn.Parameter(ac.tensor(weight)),
        torch.nn.Parameter(torch.tensor(weight)),
    )
    our_bias, their_bias = ac.zeros(2), torch.zeros(2)
    ours.load_state_dict({"weight": our_weight, "bias": our_bias}, assign=True)
    theirs.load_state_dict({"weight": their_weight, "bias": their_bias}, assign=True)
    assert (ours.weight is our_weight) == (theirs.weight is their_weight) is True
    assert ours.weight.req_grad == theirs.weight.requires_grad is False
    assert ours.bias.req_grad == theirs.bias.requires_grad is True
    assert isinstance(ours.bias, nn.Parameter) and isinstance(theirs.bias, torch.nn.Parameter)
    assert np.shares_memory(ours.bias.data, our_bias.data)
    assert theirs.bias.data_ptr() == their_bias.data_ptr()


@pytest.mark.parametrize("strict", [True, False])
def test_norm_state_dict_without_num_batches_tracked_loads_like_torch(strict):
    ours, theirs = nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3)
    ours.num_batches_tracked.fill_(4)
    theirs.num_batches_tracked.fill_(4)
    state = {k: v for k, v in theirs.state_dict().items() if k != "num_batches_tracked"}
    expected = theirs.load_state_dict(state, strict=strict)
    result = ours.load_state_dict({k: v.numpy() for k, v in state.items()}, strict=strict)
    assert result == tuple(expected)
    assert ours.num_batches_tracked.item() == theirs.num_batches_tracked.item() == 4


def test_named_members_without_removing_duplicates_like_torch():
    def build(lib):
        model = lib.Module()
        model.a = lib.BatchNorm1d(2)
        model.b = model.a
        model.c = lib.Sequential(model.a, lib.Linear(2, 2))
        model.c[1].tied = model.c[1].weight
        return model

    ours, theirs = build(nn), build(torch.nn)
    for method in ("named_modules", "named_parameters", "named_buffers"):
        for remove_duplicate in (True, False):
            names = [n for n, _ in getattr(ours, method)(remove_duplicate=remove_duplicate)]
            expected = [n for n, _ in getattr(theirs, method)(remove_duplicate=remove_duplicate)]
            assert names == expected, (method, remove_duplicate)
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_buffer_assignment_like_torch():
    def build(lib, zeros, ones):
        model = lib.Module()
        model.kept = lib.Buffer(zeros(2))
        model.mask = lib.Buffer(ones(2), persistent=False)
        model.mask = zeros(2)
        model.late = lib.Buffer(ones(1), persistent=False)
        model.late = lib.Buffer(ones(1))
        return model

    ours, theirs = build(nn, ac.zeros, ac.ones), build(torch.nn, torch.zeros, torch.ones)
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x, tx = ac.randn(2, req_grad=True), torch.randn(2, requires_grad=True)
    ours_buffer, theirs_buffer = nn.Buffer(x * 2), torch.nn.Buffer(tx * 2)
    assert (ours_buffer.req_grad, ours_buffer.is_leaf) == (
        theirs_buffer.requires_grad,
        theirs_buffer.is_leaf,
    )


def test_type_and_get_buffer_like_torch():
    ours, theirs = nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    ours.type(ac.float64)
    theirs.type(torch.float64)
    for name, buffer in theirs.named_buffers():
        assert ours.get_buffer(name).dtype == np.dtype(str(buffer.dtype).removeprefix("torch."))
    for module in (ours, theirs):
        with pytest.raises(AttributeError, match="is not a buffer"):
            module.get_buffer("weight")


def test_set_submodule_like_torch():
    def build(lib):
        return lib.Sequential(lib.Sequential(lib.Linear(1, 1)))

    ours, theirs = build(nn), build(torch.nn)
    ours.set_submodule("0.new", nn.ReLU())
    theirs.set_submodule("0.new", torch.nn.ReLU())
    assert list(dict(ours.named_modules())) == list(dict(theirs.named_modules()))
    for model, relu in [(ours, nn.ReLU()), (theirs, torch.nn.ReLU())]:
        with pytest.raises(AttributeError):
            model.set_submodule("0.other", relu, strict=True)
        with pytest.raises(ValueError):
            model.set_submodule("", relu)
