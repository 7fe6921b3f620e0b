"""The Optimizer base: parameter groups, errors, zero_grad, closures, skipping, chunking."""

from __future__ import annotations

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute import optim
from auto_compyute.optim import _updates as updates_module

ALL = [optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.Adagrad]
ALL += [optim.Adamax, optim.NAdam, optim.RAdam, optim.Adadelta, optim.Rprop, optim.ASGD]
ALL += [optim.Adafactor]


def weight_decay(cls, value):
    """``{"weight_decay": value}``, for the optimizers that have it (all but Rprop)."""
    return {} if cls is optim.Rprop else {"weight_decay": value}


@pytest.fixture
def params(rng, device):
    return [
        ac.tensor(rng.standard_normal((3, 2)), dtype=ac.float64, device=device, req_grad=True),
        ac.tensor(rng.standard_normal(2), dtype=ac.float64, device=device, req_grad=True),
    ]


def backward(params):
    loss = sum(((p - 1.0) ** 2).sum() for p in params)
    loss.backward()
    return loss


# ----------------------------------------------------------------------- construction


def test_a_single_tensor_is_refused(params):
    with pytest.raises(TypeError, match=r"single Tensor; pass \[tensor\]"):
        optim.SGD(params[0])


def test_an_empty_parameter_list_is_refused():
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])


def test_a_set_of_parameters_is_refused(params):
    with pytest.raises(TypeError, match="ordered collection"):
        optim.SGD([{"params": set(params)}])


def test_a_non_tensor_parameter_is_refused(params):
    with pytest.raises(TypeError, match=r"parameter 1 of group 0 is a ndarray"):
        optim.SGD([params[0], np.ones(2)])


def test_a_non_leaf_parameter_is_refused(params):
    with pytest.raises(
        ValueError, match="non-leaf tensor: parameter 0 of group 0 was computed by Mul"
    ):
        optim.Adam([params[0] * 2])


def test_a_non_float_parameter_is_refused():
    with pytest.raises(
        TypeError, match="floating-point tensors, but parameter 0 of group 0 has dtype int64"
    ):
        optim.SGD([ac.tensor([1, 2])])


def test_a_parameter_listed_twice_is_refused(params):
    with pytest.raises(ValueError, match="more than once in parameter group 0"):
        optim.SGD([params[0], params[0]])
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [params[0]]}, {"params": params}])


def test_a_group_without_params_is_refused(params):
    opt = optim.SGD(params)
    with pytest.raises(ValueError, match="'params'"):
        opt.add_param_group({"lr": 0.1})
    with pytest.raises(TypeError, match="must be a dict"):
        opt.add_param_group(params)


def test_groups_take_the_defaults_unless_they_set_their_own(params):
    opt = optim.SGD(
        [{"params": [params[0]], "lr": 0.5}, {"params": params[1]}], lr=0.1, momentum=0.9
    )
    assert [g["lr"] for g in opt.param_groups] == [0.5, 0.1]
    assert [g["momentum"] for g in opt.param_groups] == [0.9, 0.9]
    assert (
        opt.param_groups[1]["params"] == [params[1]]
        or opt.param_groups[1]["params"][0] is params[1]
    )


def test_add_param_group_takes_part_in_later_steps(params):
    opt = optim.SGD([params[0]], lr=0.1)
    opt.add_param_group({"params": [params[1]], "lr": 0.5})
    before = params[1].numpy().copy()
    backward(params)
    opt.step()
    np.testing.assert_allclose(params[1].numpy(), before - 0.5 * 2 * (before - 1))


def test_invalid_hyper_parameters_in_an_added_group_are_refused(params):
    opt = optim.SGD([params[0]], lr=0.1)
    with pytest.raises(ValueError, match="invalid lr: -1"):
        opt.add_param_group({"params": [params[1]], "lr": -1})
    assert len(opt.param_groups) == 1


def test_a_non_numeric_hyper_parameter_is_refused(params):
    with pytest.raises(TypeError, match="lr must be a number, got str"):
        optim.Adam(params, lr="0.1")


# ----------------------------------------------------------------------- stepping


@pytest.mark.parametrize("cls", ALL)
def test_step_updates_in_place_without_recording_a_graph(params, cls):
    arrays = [p.data for p in params]
    before = [a.copy() for a in arrays]
    backward(params)
    opt = cls(params, lr=0.1)
    opt.step()
    for p, array, old in zip(params, arrays, before, strict=True):
        assert p.data is array
        assert p.is_leaf and p.req_grad
        assert not np.allclose(p.numpy(), old)


@pytest.mark.parametrize("cls", ALL)
def test_a_parameter_without_grad_is_skipped(params, cls):
    opt = cls(params, lr=0.1)
    before = params[1].numpy().copy()
    (params[0] ** 2).sum().backward()
    assert params[1].grad is None
    opt.step()
    np.testing.assert_array_equal(params[1].numpy(), before)
    assert params[1] not in opt.state


@pytest.mark.parametrize("cls", ALL)
def test_state_lives_on_the_parameter_device_and_dtype(params, cls, device):
    backward(params)
    opt = cls(params, lr=0.1, **({"momentum": 0.9} if cls is optim.SGD else {}))
    opt.step()
    arrays = {k: v for k, v in opt.state[params[0]].items() if hasattr(v, "shape")}
    assert arrays
    factored = {"row_var": (3, 1), "col_var": (1, 2)}  # Adafactor's, for a (3, 2) parameter
    for name, array in arrays.items():
        assert ac.Tensor(array).device == params[0].device == ac.device(device)
        assert array.dtype == params[0].dtype
        assert array.shape == factored.get(name, params[0].shape)


@pytest.mark.parametrize("cls", ALL)
def test_step_does_not_change_the_gradient(params, cls):
    backward(params)
    grads = [p.grad.copy() for p in params]
    cls(params, lr=0.1, maximize=True, **weight_decay(cls, 0.1)).step()
    for p, g in zip(params, grads, strict=True):
        np.testing.assert_array_equal(ac.Tensor(p.grad), ac.Tensor(g))


@pytest.mark.parametrize("cls", ALL)
def test_a_0d_parameter_is_updated_like_a_1_element_one(rng, cls, device, as_grad):
    kwargs = {"momentum": 0.9, "nesterov": True} if cls is optim.SGD else {}
    grads = rng.standard_normal(4)
    results = []
    for shape in [(), (1,)]:
        p = ac.tensor(np.full(shape, 0.5), dtype=ac.float64, device=device, req_grad=True)
        opt = cls([p], lr=0.1, maximize=True, **weight_decay(cls, 0.1), **kwargs)
        for g in grads:
            p.grad = as_grad(np.full(shape, g))
            opt.step()
        results.append(p.numpy().reshape(1))
    np.testing.assert_array_equal(*results)


def test_step_returns_the_closure_loss_computed_with_grad_enabled(params):
    opt = optim.SGD(params, lr=0.1)
    calls = []

    def closure():
        opt.zero_grad()
        loss = backward(params)
        calls.append(ac.is_grad_enabled())
        return loss

    with ac.no_grad():
        loss = opt.step(closure)
    assert calls == [True]
    assert isinstance(loss, ac.Tensor) and loss.item() > 0


def test_zero_grad_sets_to_none_by_default(params):
    opt = optim.SGD(params)
    backward(params)
    opt.zero_grad()
    assert all(p.grad is None for p in params)


def test_zero_grad_can_fill_the_same_arrays_with_zeros(params):
    opt = optim.SGD(params)
    backward(params)
    arrays = [p.grad for p in params]
    opt.zero_grad(set_to_none=False)
    for p, array in zip(params, arrays, strict=True):
        assert p.grad is array
        assert not p.grad.any()


def test_the_seed_spellings_are_aliases(params):
    opt = optim.SGD(params, lr=0.1)
    before = params[0].numpy().copy()
    backward(params)
    opt.update_params()
    assert not np.allclose(params[0].numpy(), before)
    opt.reset_param_grads()
    assert params[0].grad is None


def test_a_gradient_of_the_wrong_shape_is_reported(params):
    params[0].grad = np.ones(5)
    with pytest.raises(RuntimeError, match=r"shape \(3, 2\) has a gradient of shape \(5,\)"):
        optim.SGD(params).step()


def test_repr_lists_the_groups(params):
    text = repr(optim.Adam(params, lr=0.1))
    assert text.startswith("Adam (\nParameter Group 0\n")
    assert "    lr: 0.1" in text and "params" not in text


# ----------------------------------------------------------------------- chunked updates


@pytest.mark.parametrize("cls", ALL)
def test_updating_in_pieces_does_not_change_the_result(rng, cls, monkeypatch):
    """Big parameters are updated piece by piece; the result must not depend on the pieces."""
    weights = rng.standard_normal((3, 50, 7)).astype(np.float32)
    transposed = rng.standard_normal((40, 9)).astype(np.float32)

    def run(chunk_size):
        monkeypatch.setattr(updates_module, "CHUNK_SIZE", chunk_size)
        w = ac.tensor(weights, req_grad=True)
        t = ac.Tensor(transposed.copy().T, req_grad=True)  # not C-contiguous: updated whole
        kwargs = {"momentum": 0.9} if cls in (optim.SGD, optim.RMSprop) else {}
        opt = cls([w, t], lr=0.01, **weight_decay(cls, 0.01), **kwargs)
        for _ in range(3):
            opt.zero_grad()
            ((w**2).sum() + (t**3).sum()).backward()
            opt.step()
        return w.numpy(), t.numpy()

    pieces, whole = run(64), run(10**9)
    for a, b in zip(pieces, whole, strict=True):
        np.testing.assert_array_equal(a, b)


def test_chunks_are_views_and_cover_everything(monkeypatch):
    arrays = [np.arange(10.0), np.ones(10)]
    assert list(updates_module.chunks(*arrays, None)) == [(*arrays, None)]  # small: whole
    monkeypatch.setattr(updates_module, "CHUNK_SIZE", 4)
    pieces = list(updates_module.chunks(*arrays, None))
    assert [len(p[0]) for p in pieces] == [4, 4, 2]
    assert all(p[2] is None for p in pieces)
    for a, b, _ in pieces:
        a += b
    np.testing.assert_array_equal(arrays[0], np.arange(10.0) + 1)


@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, lr=0.1, momentum=0.9), optim.Adam])
def test_a_bad_gradient_is_refused_before_any_parameter_changes(make) -> None:
    first, second = ac.ones(3, req_grad=True), ac.ones(2, 2, req_grad=True)
    optimizer = make([first, second])
    first.grad, second.grad = np.ones(3, np.float32), np.ones(4, np.float32)
    with pytest.raises(RuntimeError, match=r"shape \(2, 2\) has a gradient of shape \(4,\)"):
        optimizer.step()
    second.grad = ac.ones(2, 2)  # a Tensor, as PyTorch's .grad would be
    with pytest.raises(TypeError, match=r"p\.grad = t\.data"):
        optimizer.step()
    assert first.tolist() == [1.0, 1.0, 1.0] and not optimizer.state[first]
