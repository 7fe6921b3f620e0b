"""RNN, LSTM, GRU, their cells and the fused layer ops (no PyTorch needed)."""

import os
import warnings

import numpy as np
import pytest

import auto_compyute as ac
import auto_compyute.nn.functional as F
from auto_compyute import nn
from auto_compyute.autograd import gradcheck, gradgradcheck

KINDS = ["RNN", "LSTM", "GRU"]


@pytest.fixture
def rng():
    ac.manual_seed(0)
    return np.random.default_rng(0)


@pytest.fixture
def device():
    name = os.environ.get("AC_TEST_DEVICE", "cpu")
    if name != "cpu" and not ac.cuda.is_available():
        pytest.skip(f"AC_TEST_DEVICE={name}, but no CUDA device is usable")
    return name


def leaf(rng, *shape, scale=1.0):
    return ac.Tensor(scale * rng.standard_normal(shape), dtype=ac.float64, req_grad=True)


def module(kind, *args, **kwargs):
    return getattr(nn, kind)(*args, dtype=ac.float64, **kwargs)


def unpack(kind, result):
    """(output, [final states]) for any of the three kinds."""
    output, state = result
    return output, list(state) if kind == "LSTM" else [state]


# ----------------------------------------------------------------------------- fused ops
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [False, True])
# backward copies gate gradients out in blocks of 8 steps: one partial block, and three
@pytest.mark.parametrize("length", [4, 19])
def test_lstm_layer_gradcheck(rng, reverse, bias, length):
    inputs = [
        leaf(rng, length, 3, 2),
        leaf(rng, 3, 2),
        leaf(rng, 3, 2),
        leaf(rng, 8, 2),
        leaf(rng, 8, 2),
    ]
    if bias:
        inputs.append(leaf(rng, 8))
    assert gradcheck(lambda *a: F.lstm_layer(*a, reverse=reverse), inputs)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("proj_size", [None, 2])
@pytest.mark.parametrize("batch_sizes", [None, [3, 3, 2, 1]])
def test_lstm_layer_gradcheck_with_output_gradient_at_some_steps(
    rng, reverse, proj_size, batch_sizes
):
    # backward adds the output's gradient only at the steps where it is nonzero
    state = proj_size or 3
    inputs = [leaf(rng, 4, 3, 2), leaf(rng, 3, state), leaf(rng, 3, 3), leaf(rng, 12, 2)]
    inputs += [leaf(rng, 12, state), leaf(rng, 12)]
    inputs += [leaf(rng, proj_size, 3)] if proj_size else []

    def fn(x, h0, c0, w_ih, w_hh, bias, *w_hr):
        out, h_n, _ = F.lstm_layer(x, h0, c0, w_ih, w_hh, bias, reverse, batch_sizes, *w_hr)
        return out[1], h_n

    assert gradcheck(fn, inputs)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("layout", ["contiguous", "strided", "empty rows"])
def test_lstm_backward_finds_the_output_gradients_nonzero_rows(dtype, layout):
    from auto_compyute.nn.functional.recurrent import _nonzero_rows

    rows = np.zeros((6, 8), dtype=dtype)
    rows[1, 3], rows[2, 0], rows[3, 7] = -0.0, np.nan, np.finfo(dtype).smallest_subnormal
    rows[4, 5] = -np.inf
    expected = [False, True, True, True, True, False]  # -0.0 counts: adding it changes nothing
    if layout == "strided":
        rows, expected = rows[::2, ::2], [False, True, False]
    elif layout == "empty rows":
        rows, expected = rows[:, :0], [False] * 6
    assert _nonzero_rows(rows) == expected


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [False, True])
def test_gru_layer_gradcheck(rng, reverse, bias):
    inputs = [leaf(rng, 4, 3, 2), leaf(rng, 3, 2), leaf(rng, 6, 2), leaf(rng, 6, 2)]
    if bias:
        inputs += [leaf(rng, 6), leaf(rng, 6)]
    assert gradcheck(lambda *a: F.gru_layer(*a, reverse=reverse), inputs)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_layer_gradcheck(rng, reverse, nonlinearity):
    inputs = [leaf(rng, 4, 3, 3), leaf(rng, 3, 2), leaf(rng, 2, 3), leaf(rng, 2, 2), leaf(rng, 2)]
    fn = lambda *a: F.rnn_layer(*a, nonlinearity=nonlinearity, reverse=reverse)  # noqa: E731
    assert gradcheck(fn, inputs)


# ---------------------------------------------------------------- second derivatives
# sequence 3, batch 2, input 2, hidden 3
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("bias", [False, True])
def test_rnn_layer_gradgradcheck(rng, reverse, nonlinearity, bias):
    inputs = [leaf(rng, 3, 2, 2), leaf(rng, 2, 3), leaf(rng, 3, 2), leaf(rng, 3, 3)]
    inputs += [leaf(rng, 3)] if bias else []
    fn = lambda *a: F.rnn_layer(*a, nonlinearity=nonlinearity, reverse=reverse)  # noqa: E731
    assert gradgradcheck(fn, inputs)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [False, True])
def test_gru_layer_gradgradcheck(rng, reverse, bias):
    inputs = [leaf(rng, 3, 2, 2), leaf(rng, 2, 3), leaf(rng, 9, 2), leaf(rng, 9, 3)]
    inputs += [leaf(rng, 9), leaf(rng, 9)] if bias else []
    assert gradgradcheck(lambda *a: F.gru_layer(*a, reverse=reverse), inputs)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("proj_size", [None, 2])
def test_lstm_layer_gradgradcheck(rng, reverse, bias, proj_size):
    state = proj_size or 3
    inputs = [leaf(rng, 3, 2, 2), leaf(rng, 2, state), leaf(rng, 2, 3), leaf(rng, 12, 2)]
    inputs += [leaf(rng, 12, state)] + ([leaf(rng, 12)] if bias else [])
    inputs += [leaf(rng, proj_size, 3)] if proj_size else []

    def fn(x, h0, c0, w_ih, w_hh, *rest):
        b = rest[0] if bias else None
        w_hr = rest[-1] if proj_size else None
        return F.lstm_layer(x, h0, c0, w_ih, w_hh, b, reverse, weight_hr=w_hr)

    assert gradgradcheck(fn, inputs)


def test_layer_gradgradcheck_with_inputs_that_need_no_grad(rng):
    x, h0 = ac.Tensor(rng.standard_normal((3, 2, 2))), ac.Tensor(rng.standard_normal((2, 3)))
    weights = [leaf(rng, 9, 2), leaf(rng, 9, 3), leaf(rng, 9), leaf(rng, 9)]
    assert gradgradcheck(lambda *w: F.gru_layer(x, h0, *w), weights)


def test_graph_backward_stops_at_the_layer_inputs(rng, monkeypatch):
    """The replay of the second layer is differentiated back to its input only, not on
    through the first layer: each layer's graph_backward runs once."""
    from auto_compyute.nn.functional.recurrent import LSTMLayer

    calls = []
    original = LSTMLayer.graph_backward

    def counted(self, grad):
        calls.append(self)
        return original(self, grad)

    monkeypatch.setattr(LSTMLayer, "graph_backward", counted)
    layer = module("LSTM", 2, 3, num_layers=2)
    x = leaf(rng, 3, 2, 2)
    (grad_x,) = ac.autograd.grad(layer(x)[0].sum(), x, create_graph=True)
    assert len(calls) == 2 and calls[0] is not calls[1]
    assert grad_x.req_grad


def module_function(layer):
    """The module as a function of its input, initial state and parameters."""
    names = [name for name, _ in layer.named_parameters()]

    def run(x, state, *params):
        for name, value in zip(names, params, strict=True):
            layer._parameters[name] = value
        output, final = layer(x, state)
        return (output, *final) if isinstance(final, tuple) else (output, final)

    return run, [ac.Tensor(p.numpy(), req_grad=True) for p in layer.parameters()]


@pytest.mark.parametrize("kind", KINDS)
def test_module_gradgradcheck_bidirectional_two_layers(rng, kind):
    layer = module(kind, 2, 3, num_layers=2, bidirectional=True)
    run, params = module_function(layer)
    x, h0 = leaf(rng, 3, 2, 2), leaf(rng, 4, 2, 3, scale=0.5)
    if kind == "LSTM":
        c0 = leaf(rng, 4, 2, 3, scale=0.5)
        assert gradgradcheck(lambda x, h, c, *p: run(x, (h, c), *p), [x, h0, c0, *params])
    else:
        assert gradgradcheck(run, [x, h0, *params])


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_gradient_penalty_matches_finite_differences(rng, kind):
    """A gradient penalty's parameter gradients against finite differences of the penalty."""
    layer = module(kind, 2, 3)
    x = leaf(rng, 3, 2, 2)

    def penalty():
        (grad_x,) = ac.autograd.grad(layer(x)[0].tanh().sum(), x, create_graph=True)
        return (grad_x * grad_x).sum()

    params = list(layer.parameters())
    grads = ac.autograd.grad(penalty(), params)
    eps = 1e-6
    for param, grad in zip(params, grads, strict=True):
        numeric = np.zeros(param.shape)
        for index in np.ndindex(param.shape):
            original = param.data[index]
            param.data[index] = original + eps
            up = penalty().item()
            param.data[index] = original - eps
            down = penalty().item()
            param.data[index] = original
            numeric[index] = (up - down) / (2 * eps)
        np.testing.assert_allclose(grad.numpy(), numeric, rtol=1e-5, atol=1e-7)


def test_layer_on_a_non_contiguous_input(rng):
    """A batch-first input seen time-major (a transposed view) gives the same gradients."""
    x = leaf(rng, 3, 4, 2)
    w_ih, w_hh, bias = leaf(rng, 8, 2), leaf(rng, 8, 2), leaf(rng, 8)
    assert gradcheck(
        lambda x: F.lstm_layer(x.transpose(0, 1), None, None, w_ih, w_hh, bias)[0], [x]
    )


def test_layer_grads_only_where_needed(rng):
    x = leaf(rng, 3, 2, 4)
    w_ih = ac.Tensor(rng.standard_normal((8, 4)))  # constants: no gradient wanted
    w_hh = ac.Tensor(rng.standard_normal((8, 2)))
    out, _, c = F.lstm_layer(x, None, None, w_ih, w_hh)
    (out.sum() + c.sum()).backward()
    assert x.grad is not None and x.grad.shape == (3, 2, 4)
    assert w_ih.grad is None and w_hh.grad is None


def test_lstm_layer_matches_composed_steps(rng):
    """The fused op equals the LSTM equations written with elementary tensor ops."""
    length, batch, features, hidden = 5, 2, 3, 4
    x, h0, c0 = (
        leaf(rng, length, batch, features),
        leaf(rng, batch, hidden),
        leaf(rng, batch, hidden),
    )
    w_ih, w_hh, bias = (
        leaf(rng, 4 * hidden, features),
        leaf(rng, 4 * hidden, hidden),
        leaf(rng, 4 * hidden),
    )
    out, h_n, c_n = F.lstm_layer(x, h0, c0, w_ih, w_hh, bias)
    h, c, steps = h0, c0, []
    for t in range(length):
        i, f, g, o = (x[t] @ w_ih.T + bias + h @ w_hh.T).chunk(4, dim=-1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
        steps.append(h)
    np.testing.assert_allclose(out.numpy(), ac.stack(steps).numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h_n.numpy(), h.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(c_n.numpy(), c.numpy(), rtol=1e-12, atol=1e-12)


def test_gru_layer_matches_composed_steps(rng):
    length, batch, features, hidden = 4, 2, 3, 4
    x, h0 = leaf(rng, length, batch, features), leaf(rng, batch, hidden)
    w_ih, w_hh = leaf(rng, 3 * hidden, features), leaf(rng, 3 * hidden, hidden)
    b_ih, b_hh = leaf(rng, 3 * hidden), leaf(rng, 3 * hidden)
    out, _ = F.gru_layer(x, h0, w_ih, w_hh, b_ih, b_hh)
    h = h0
    for t in range(length):
        v_r, v_z, v_n = (x[t] @ w_ih.T + b_ih).chunk(3, dim=-1)
        u_r, u_z, u_n = (h @ w_hh.T + b_hh).chunk(3, dim=-1)
        r, z = (v_r + u_r).sigmoid(), (v_z + u_z).sigmoid()
        n = (v_n + r * u_n).tanh()
        h = (1 - z) * n + z * h
        np.testing.assert_allclose(out[t].numpy(), h.numpy(), rtol=1e-12, atol=1e-12)


def test_layer_shape_and_dtype_errors(rng):
    x, w_ih, w_hh = ac.randn(3, 2, 5), ac.randn(8, 5), ac.randn(8, 2)
    with pytest.raises(ValueError, match=r"input must have shape \(seq_len, batch, input_size\)"):
        F.lstm_layer(ac.randn(3, 5), None, None, w_ih, w_hh)
    with pytest.raises(ValueError, match="weight_hh must have shape"):
        F.lstm_layer(x, None, None, w_ih, ac.randn(6, 2))
    with pytest.raises(ValueError, match=r"weight_ih must have shape \(8, 5\)"):
        F.lstm_layer(x, None, None, ac.randn(8, 4), w_hh)
    with pytest.raises(ValueError, match=r"bias must have shape \(8,\)"):
        F.lstm_layer(x, None, None, w_ih, w_hh, ac.randn(4))
    with pytest.raises(ValueError, match=r"h0 must have shape \(batch, hidden_size\)"):
        F.lstm_layer(x, ac.randn(5, 2), None, w_ih, w_hh)
    with pytest.raises(TypeError, match="weight_hh has dtype float64"):
        F.lstm_layer(x, None, None, w_ih, w_hh.double())
    with pytest.raises(ValueError, match="empty"):
        F.gru_layer(ac.randn(0, 2, 5), None, ac.randn(6, 5), ac.randn(6, 2))
    with pytest.raises(ValueError, match="nonlinearity"):
        F.rnn_layer(x, None, ac.randn(2, 5), ac.randn(2, 2), nonlinearity="sigmoid")


def test_cells_gradcheck_with_weights_as_inputs(rng):
    x, h, c = leaf(rng, 3, 4), leaf(rng, 3, 2), leaf(rng, 3, 2)
    lstm = [leaf(rng, 8, 4), leaf(rng, 8, 2), leaf(rng, 8), leaf(rng, 8)]
    assert gradcheck(lambda x, h, c, *w: F.lstm_cell(x, h, c, *w), [x, h, c, *lstm])
    gru = [leaf(rng, 6, 4), leaf(rng, 6, 2), leaf(rng, 6), leaf(rng, 6)]
    assert gradcheck(lambda x, h, *w: F.gru_cell(x, h, *w), [x, h, *gru])
    rnn = [leaf(rng, 2, 4), leaf(rng, 2, 2), leaf(rng, 2), leaf(rng, 2)]
    assert gradcheck(lambda x, h, *w: F.rnn_cell(x, h, *w, nonlinearity="tanh"), [x, h, *rnn])


# ------------------------------------------------------------------------------ modules
@pytest.mark.parametrize("kind", KINDS)
def test_parameter_names_shapes_and_init(kind):
    layer = getattr(nn, kind)(5, 4, num_layers=2, bidirectional=True)
    gates = {"RNN": 1, "LSTM": 4, "GRU": 3}[kind]
    expected = {}
    for lay in range(2):
        for suffix in ("", "_reverse"):
            size = 5 if lay == 0 else 8
            expected[f"weight_ih_l{lay}{suffix}"] = (gates * 4, size)
            expected[f"weight_hh_l{lay}{suffix}"] = (gates * 4, 4)
            expected[f"bias_ih_l{lay}{suffix}"] = (gates * 4,)
            expected[f"bias_hh_l{lay}{suffix}"] = (gates * 4,)
    assert {k: v.shape for k, v in layer.state_dict().items()} == expected
    assert list(layer.state_dict())[:4] == [
        "weight_ih_l0",
        "weight_hh_l0",
        "bias_ih_l0",
        "bias_hh_l0",
    ]
    bound = 1 / np.sqrt(4)
    values = np.concatenate([p.numpy().ravel() for p in layer.parameters()])
    assert values.min() >= -bound and values.max() <= bound and values.std() > bound / 3
    assert len(layer.all_weights) == 4 and len(layer.all_weights[0]) == 4


def test_no_bias_and_seeded_init():
    assert [k for k in nn.LSTM(3, 2, bias=False).state_dict()] == ["weight_ih_l0", "weight_hh_l0"]
    ac.manual_seed(1)
    a = nn.GRU(3, 2).state_dict()
    ac.manual_seed(1)
    b = nn.GRU(3, 2).state_dict()
    assert all(np.array_equal(a[k].numpy(), b[k].numpy()) for k in a)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_output_shapes(rng, kind, batch_first, bidirectional):
    layers, d = 2, 2 if bidirectional else 1
    layer = getattr(nn, kind)(3, 4, layers, batch_first=batch_first, bidirectional=bidirectional)
    x = ac.randn(2, 6, 3) if batch_first else ac.randn(6, 2, 3)
    output, states = unpack(kind, layer(x))
    assert output.shape == ((2, 6, 4 * d) if batch_first else (6, 2, 4 * d))
    assert all(s.shape == (layers * d, 2, 4) for s in states)
    # unbatched input: (seq, features), whatever batch_first says
    output, states = unpack(kind, layer(ac.randn(6, 3)))
    assert output.shape == (6, 4 * d) and all(s.shape == (layers * d, 4) for s in states)


@pytest.mark.parametrize("kind", KINDS)
def test_final_states_are_the_outputs_at_the_ends(rng, kind):
    layer = module(kind, 3, 4, bidirectional=True, batch_first=True)
    output, states = unpack(kind, layer(ac.Tensor(rng.standard_normal((2, 5, 3)))))
    h_n = states[0]
    np.testing.assert_array_equal(h_n[0].numpy(), output[:, -1, :4].numpy())
    np.testing.assert_array_equal(h_n[1].numpy(), output[:, 0, 4:].numpy())


@pytest.mark.parametrize("kind", KINDS)
def test_reverse_direction_is_forward_on_reversed_sequence(rng, kind):
    bi = module(kind, 3, 4, bidirectional=True)
    uni = module(kind, 3, 4)
    uni.load_state_dict(
        {k.replace("_reverse", ""): v for k, v in bi.state_dict().items() if k.endswith("_reverse")}
    )
    x = rng.standard_normal((5, 2, 3))
    output, _ = unpack(kind, bi(ac.Tensor(x)))
    flipped, _ = unpack(kind, uni(ac.Tensor(x[::-1].copy())))
    np.testing.assert_allclose(output[:, :, 4:].numpy(), flipped.numpy()[::-1], atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_module_gradcheck_inputs_and_initial_state(rng, kind):
    layer = module(kind, 2, 2, num_layers=2, bidirectional=True)
    x = leaf(rng, 3, 2, 2)
    h0 = leaf(rng, 4, 2, 2, scale=0.5)
    if kind == "LSTM":
        c0 = leaf(rng, 4, 2, 2, scale=0.5)
        fn = lambda x, h, c: unpack(kind, layer(x, (h, c)))[0]  # noqa: E731
        assert gradcheck(fn, [x, h0, c0])
        fn = lambda x, h, c: tuple(unpack(kind, layer(x, (h, c)))[1])  # noqa: E731
        assert gradcheck(fn, [x, h0, c0])
    else:
        assert gradcheck(lambda x, h: layer(x, h), [x, h0])


def test_module_parameter_gradients_match_finite_differences(rng):
    """Every parameter of a 2-layer bidirectional LSTM, perturbed through the state dict."""
    layer = module("LSTM", 2, 2, num_layers=2, bidirectional=True, batch_first=True)
    x = ac.Tensor(rng.standard_normal((2, 3, 2)))
    weights = rng.standard_normal((2, 3, 4))
    (layer(x)[0] * ac.Tensor(weights)).sum().backward()
    eps = 1e-6
    for name, param in layer.named_parameters():
        index = tuple(int(i) for i in rng.integers(0, param.shape))
        with ac.no_grad():
            original = float(param.data[index])
            param.data[index] = original + eps
            up = float((layer(x)[0].numpy() * weights).sum())
            param.data[index] = original - eps
            down = float((layer(x)[0].numpy() * weights).sum())
            param.data[index] = original
        assert param.grad[index] == pytest.approx((up - down) / (2 * eps), rel=1e-5, abs=1e-8), name


@pytest.mark.parametrize("kind", KINDS)
def test_cells_equal_one_step_of_the_layer(rng, kind):
    layer = module(kind, 3, 4)
    cell = getattr(nn, kind + "Cell")(3, 4, dtype=ac.float64)
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})
    x = rng.standard_normal((2, 3))
    h = rng.standard_normal((2, 4))
    if kind == "LSTM":
        c = rng.standard_normal((2, 4))
        _, (h_n, c_n) = layer(ac.Tensor(x[None]), (ac.Tensor(h[None]), ac.Tensor(c[None])))
        h1, c1 = cell(ac.Tensor(x), (ac.Tensor(h), ac.Tensor(c)))
        np.testing.assert_allclose(c1.numpy(), c_n[0].numpy(), atol=1e-12)
        h1_unbatched, _ = cell(ac.Tensor(x[0]), (ac.Tensor(h[0]), ac.Tensor(c[0])))
    else:
        _, h_n = layer(ac.Tensor(x[None]), ac.Tensor(h[None]))
        h1 = cell(ac.Tensor(x), ac.Tensor(h))
        h1_unbatched = cell(ac.Tensor(x[0]), ac.Tensor(h[0]))
    np.testing.assert_allclose(h1.numpy(), h_n[0].numpy(), atol=1e-12)
    np.testing.assert_allclose(h1_unbatched.numpy(), h1[0].numpy(), atol=1e-12)


def test_relu_rnn_is_nonnegative(rng):
    layer = nn.RNN(3, 5, nonlinearity="relu")
    output, h_n = layer(ac.randn(4, 2, 3))
    assert output.numpy().min() >= 0 and h_n.numpy().min() >= 0
    assert "nonlinearity='relu'" in repr(layer)


def test_dropout_between_layers_only_in_training(rng):
    layer = nn.LSTM(3, 8, num_layers=2, dropout=0.5)
    x = ac.randn(5, 2, 3)
    first, second = layer(x)[0].numpy(), layer(x)[0].numpy()
    assert not np.allclose(first, second)
    layer.eval()
    np.testing.assert_array_equal(layer(x)[0].numpy(), layer(x)[0].numpy())


def test_dropout_warning_and_argument_errors():
    with pytest.warns(UserWarning, match="num_layers=1"):
        nn.GRU(3, 4, dropout=0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.GRU(3, 4, num_layers=2, dropout=0.2)
    with pytest.raises(ValueError, match="dropout should be a number in the range"):
        nn.LSTM(3, 4, num_layers=2, dropout=1.5)
    with pytest.raises(ValueError, match="hidden_size must be an integer >= 1"):
        nn.LSTM(3, 0)
    with pytest.raises(ValueError, match="num_layers must be"):
        nn.RNN(3, 4, num_layers=0)
    with pytest.raises(ValueError, match="Unknown nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="proj_size should be a positive integer or zero"):
        nn.LSTM(3, 4, proj_size=-1)
    with pytest.raises(ValueError, match="proj_size is only supported for LSTM, not GRU"):
        nn.RNNBase("GRU", 3, 4, proj_size=2)
    with pytest.raises(TypeError, match="floating-point dtype"):
        nn.GRU(3, 4, dtype=ac.int32)


def test_forward_errors_name_the_shapes(rng):
    layer = nn.LSTM(3, 4, num_layers=2)
    with pytest.raises(ValueError, match="Expected input to be 2D or 3D, got 4D"):
        layer(ac.randn(1, 2, 3, 3))
    with pytest.raises(
        RuntimeError, match=r"input.size\(-1\) must be equal to input_size. Expected 3, got 5"
    ):
        layer(ac.randn(4, 2, 5))
    with pytest.raises(
        RuntimeError, match=r"Expected hidden\[0\] size \(2, 2, 4\), got \(1, 2, 4\)"
    ):
        layer(ac.randn(4, 2, 3), (ac.zeros(1, 2, 4), ac.zeros(2, 2, 4)))
    with pytest.raises(TypeError, match="hx must be a tuple"):
        layer(ac.randn(4, 2, 3), ac.zeros(2, 2, 4))
    with pytest.raises(
        TypeError, match="input has dtype float64 but the parameters have dtype float32"
    ):
        layer(ac.randn(4, 2, 3, dtype=ac.float64))
    with pytest.raises(RuntimeError, match="should also be 2-D"):
        nn.GRU(3, 4)(ac.randn(5, 3), ac.zeros(1, 2, 4))
    with pytest.raises(RuntimeError, match="Expected hidden size"):
        nn.GRUCell(3, 4)(ac.randn(2, 3), ac.zeros(3, 4))


def test_long_sequences_do_not_recurse(rng):
    layer = nn.LSTM(2, 3)
    x = ac.randn(3000, 1, 2, req_grad=True)
    output, (h_n, _) = layer(x)
    (output.sum() + h_n.sum()).backward()
    assert np.isfinite(x.grad).all() and layer.weight_hh_l0.grad.shape == (12, 3)


def test_no_grad_records_nothing(rng):
    layer = nn.GRU(3, 4)
    with ac.no_grad():
        output, _ = layer(ac.randn(5, 2, 3))
    assert output.grad_fn is None and not output.req_grad


def test_repr():
    assert repr(nn.LSTM(3, 4)) == "LSTM(3, 4)"
    text = repr(
        nn.GRU(3, 4, num_layers=2, bias=False, batch_first=True, dropout=0.1, bidirectional=True)
    )
    assert (
        text
        == "GRU(3, 4, num_layers=2, bias=False, batch_first=True, dropout=0.1, bidirectional=True)"
    )
    assert repr(nn.LSTMCell(3, 4)) == "LSTMCell(3, 4)"


@pytest.mark.parametrize("kind", KINDS)
def test_runs_on_the_test_device(rng, kind, device):
    layer = getattr(nn, kind)(3, 4, num_layers=2, bidirectional=True).to(device)
    x = ac.randn(5, 2, 3).to(device)
    x.req_grad = True
    output, _ = layer(x)
    output.sum().backward()
    assert output.device == device and x.grad is not None
    cpu_layer = getattr(nn, kind)(3, 4, num_layers=2, bidirectional=True)
    cpu_layer.load_state_dict({k: v.cpu() for k, v in layer.state_dict().items()})
    expected, _ = cpu_layer(x.detach().cpu())
    np.testing.assert_allclose(output.cpu().numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)


def test_pad_sequence():
    a = ac.tensor([[1.0, 2.0], [3.0, 4.0]], req_grad=True)
    b = ac.tensor([[5.0, 6.0]], req_grad=True)
    padded = nn.utils.rnn.pad_sequence([a, b], padding_value=-1.0)
    assert padded.shape == (2, 2, 2)  # (L, N, *)
    assert padded[:, 1].tolist() == [[5.0, 6.0], [-1.0, -1.0]]
    left = nn.utils.rnn.pad_sequence([a, b], batch_first=True, padding_side="left")
    assert left[1].tolist() == [[0.0, 0.0], [5.0, 6.0]]
    (padded * ac.arange(8.0).reshape(2, 2, 2)).sum().backward()
    assert a.grad.tolist() == [[0.0, 1.0], [4.0, 5.0]] and b.grad.tolist() == [[2.0, 3.0]]
    with pytest.raises(ValueError, match="one trailing shape"):
        nn.utils.rnn.pad_sequence([a, ac.ones(2, 3)])
