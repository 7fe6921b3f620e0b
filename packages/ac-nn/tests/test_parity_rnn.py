"""RNN, LSTM, GRU and their cells against PyTorch: state-dict keys, outputs, final states
and the gradients of the input, the initial states and every parameter."""

import itertools

import numpy as np
import pytest
from parity_helpers import compare

import auto_compyute as ac
from auto_compyute import nn

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")

CONFIGS = list(itertools.product([1, 2], [False, True], [False, True], [False, True]))


@pytest.fixture
def rng():
    ac.manual_seed(0)
    torch.manual_seed(0)
    return np.random.default_rng(0)


def twins(kind, dtype, *args, **kwargs):
    """A PyTorch layer and ours with the same weights, loaded through the state dict."""
    reference = getattr(torch.nn, kind)(*args, **kwargs).to(getattr(torch, dtype))
    ours = getattr(nn, kind)(*args, dtype=dtype, **kwargs)
    assert list(ours.state_dict()) == list(reference.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in reference.state_dict().items()})
    return reference, ours


def as_list(kind, state):
    return list(state) if kind == "LSTM" else [state]


def check(kind, reference, ours, x, states, rng, atol):
    """Run both with the same inputs and cotangents; compare values and all gradients."""
    x_t = torch.tensor(x, requires_grad=True)
    x_a = ac.Tensor(x, req_grad=True)
    states_t = [torch.tensor(s, requires_grad=True) for s in states]
    states_a = [ac.Tensor(s, req_grad=True) for s in states]
    if states:
        hx_t = tuple(states_t) if kind == "LSTM" else states_t[0]
        hx_a = tuple(states_a) if kind == "LSTM" else states_a[0]
        out_t, final_t = reference(x_t, hx_t)
        out_a, final_a = ours(x_a, hx_a)
    else:
        out_t, final_t = reference(x_t)
        out_a, final_a = ours(x_a)
    final_t, final_a = as_list(kind, final_t), as_list(kind, final_a)
    np.testing.assert_allclose(out_a.numpy(), out_t.detach().numpy(), rtol=atol, atol=atol)
    for a, t in zip(final_a, final_t, strict=True):
        np.testing.assert_allclose(a.numpy(), t.detach().numpy(), rtol=atol, atol=atol)
    cotangents = [rng.standard_normal(t.shape).astype(x.dtype) for t in (out_t, *final_t)]
    loss_t = sum(
        (t * torch.tensor(c)).sum() for t, c in zip((out_t, *final_t), cotangents, strict=True)
    )
    loss_a = sum(
        (a * ac.Tensor(c)).sum() for a, c in zip((out_a, *final_a), cotangents, strict=True)
    )
    loss_t.backward()
    loss_a.backward()
    np.testing.assert_allclose(x_a.grad, x_t.grad.numpy(), rtol=atol, atol=atol)
    for a, t in zip(states_a, states_t, strict=True):
        np.testing.assert_allclose(a.grad, t.grad.numpy(), rtol=atol, atol=atol)
    reference_params = dict(reference.named_parameters())
    for name, param in ours.named_parameters():
        np.testing.assert_allclose(
            param.grad, reference_params[name].grad.numpy(), rtol=atol, atol=atol, err_msg=name
        )


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize(("num_layers", "batch_first", "bidirectional", "with_state"), CONFIGS)
def test_matches_torch_float64(rng, kind, num_layers, batch_first, bidirectional, with_state):
    reference, ours = twins(
        kind, "float64", 3, 4, num_layers, batch_first=batch_first, bidirectional=bidirectional
    )
    seq, batch, d = 5, 2, 2 if bidirectional else 1
    x = rng.standard_normal((batch, seq, 3) if batch_first else (seq, batch, 3))
    n_states = (2 if kind == "LSTM" else 1) if with_state else 0
    states = [rng.standard_normal((num_layers * d, batch, 4)) for _ in range(n_states)]
    check(kind, reference, ours, x, states, rng, atol=1e-10)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_matches_torch_float32_longer_sequence(rng, kind):
    reference, ours = twins(kind, "float32", 16, 32, 2, batch_first=True, bidirectional=True)
    x = rng.standard_normal((4, 40, 16)).astype(np.float32)
    check(kind, reference, ours, x, [], rng, atol=2e-5)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_unbatched_with_state(rng, kind):
    reference, ours = twins(kind, "float64", 3, 4, 2, bidirectional=True)
    states = [rng.standard_normal((4, 4)) for _ in range(2 if kind == "LSTM" else 1)]
    check(kind, reference, ours, rng.standard_normal((5, 3)), states, rng, atol=1e-10)


def test_relu_rnn_and_no_bias(rng):
    reference, ours = twins("RNN", "float64", 3, 4, 2, nonlinearity="relu", bias=False)
    check("RNN", reference, ours, rng.standard_normal((6, 2, 3)), [], rng, atol=1e-10)
    reference, ours = twins("GRU", "float64", 3, 4, bias=False)
    check("GRU", reference, ours, rng.standard_normal((6, 2, 3)), [], rng, atol=1e-10)


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("batched", [False, True])
def test_cells_match_torch(rng, kind, batched):
    reference, ours = twins(kind, "float64", 3, 4)
    shape = (2,) if batched else ()
    x, h, c = (rng.standard_normal((*shape, n)) for n in (3, 4, 4))
    tensors_t = [torch.tensor(a, requires_grad=True) for a in (x, h, c)]
    tensors_a = [ac.Tensor(a, req_grad=True) for a in (x, h, c)]
    if kind == "LSTMCell":
        out_t = reference(tensors_t[0], tuple(tensors_t[1:]))
        out_a = ours(tensors_a[0], tuple(tensors_a[1:]))
    else:
        tensors_t, tensors_a = tensors_t[:2], tensors_a[:2]
        out_t, out_a = (reference(*tensors_t),), (ours(*tensors_a),)
    for a, t in zip(out_a, out_t, strict=True):
        np.testing.assert_allclose(a.numpy(), t.detach().numpy(), atol=1e-12)
    sum(o.sum() * (i + 1) for i, o in enumerate(out_t)).backward()
    sum(o.sum() * (i + 1) for i, o in enumerate(out_a)).backward()
    for a, t in zip(tensors_a, tensors_t, strict=True):
        np.testing.assert_allclose(a.grad, t.grad.numpy(), atol=1e-12)
    reference_params = dict(reference.named_parameters())
    for name, param in ours.named_parameters():
        np.testing.assert_allclose(param.grad, reference_params[name].grad.numpy(), atol=1e-12)


def test_torch_loads_our_state_dict(rng):
    ours = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    reference = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    reference.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    x = rng.standard_normal((5, 2, 3)).astype(np.float32)
    np.testing.assert_allclose(
        ours(ac.Tensor(x))[0].numpy(), reference(torch.tensor(x))[0].detach().numpy(), atol=1e-6
    )


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence_matches_torch(batch_first, side, rng):
    arrays = [rng.standard_normal((n, 3)) for n in (4, 1, 6)]

    def ours(*xs):
        return nn.utils.rnn.pad_sequence(xs, batch_first, 0.5, side)

    def theirs(*xs):
        return torch.nn.utils.rnn.pad_sequence(xs, batch_first, 0.5, side)

    compare(ours, theirs, arrays, rng)


@pytest.mark.parametrize(
    ("kind", "kwargs"),
    [
        ("LSTM", {}),
        ("LSTM", {"num_layers": 2, "bidirectional": True}),
        ("LSTM", {"proj_size": 2}),
        ("GRU", {}),
        ("GRU", {"num_layers": 2, "bidirectional": True}),
    ],
)
def test_gradient_penalty_matches_torch(rng, kind, kwargs):
    """The parameter gradients of a penalty on the input gradient (create_graph=True)."""
    reference, ours = twins(kind, "float64", 2, 3, **kwargs)
    x = rng.standard_normal((3, 2, 2))
    x_t, x_a = torch.tensor(x, requires_grad=True), ac.Tensor(x, req_grad=True)
    out_t, out_a = reference(x_t)[0], ours(x_a)[0]
    cotangent = rng.standard_normal(out_t.shape)
    loss_t = (out_t.tanh() * torch.tensor(cotangent)).sum()
    loss_a = (out_a.tanh() * ac.Tensor(cotangent)).sum()
    (grad_t,) = torch.autograd.grad(loss_t, x_t, create_graph=True)
    (grad_a,) = ac.autograd.grad(loss_a, x_a, create_graph=True)
    np.testing.assert_allclose(grad_a.numpy(), grad_t.detach().numpy(), atol=1e-12)
    names, params_t = zip(*reference.named_parameters(), strict=True)
    params_a = [dict(ours.named_parameters())[name] for name in names]
    penalty_t, penalty_a = (grad_t * grad_t).sum(), (grad_a * grad_a).sum()
    np.testing.assert_allclose(penalty_a.item(), penalty_t.item(), rtol=1e-12)
    expected = torch.autograd.grad(penalty_t, params_t, allow_unused=True)
    found = ac.autograd.grad(penalty_a, params_a, allow_unused=True)
    # every parameter shapes the input gradient: both give all of them a gradient
    for name, a, t in zip(names, found, expected, strict=True):
        assert a is not None and t is not None, name
        np.testing.assert_allclose(a.numpy(), t.numpy(), atol=1e-12, err_msg=name)
