"""Loss functions and layers: hand-written NumPy forward, finite-difference gradients, errors."""

import math

import numpy as np
import pytest

import auto_compyute as ac
import auto_compyute.nn.functional as F
from auto_compyute import nn

gradcheck = ac.autograd.gradcheck
REDUCTIONS = ["none", "mean", "sum"]


@pytest.fixture
def rng() -> np.random.Generator:
    ac.manual_seed(0)
    return np.random.default_rng(0)


def _t(array, req_grad: bool = False, dtype=ac.float64) -> ac.Tensor:
    return ac.tensor(array, dtype=dtype, req_grad=req_grad)


def _reduce(loss: np.ndarray, reduction: str) -> np.ndarray:
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


# ----------------------------------------------------------------- regression losses
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses_forward(reduction: str, rng: np.random.Generator) -> None:
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    d = x - y
    cases = {
        "mse": (F.mse_loss(_t(x), _t(y), reduction=reduction), d**2),
        "l1": (F.l1_loss(_t(x), _t(y), reduction=reduction), np.abs(d)),
        "smooth_l1": (
            F.smooth_l1_loss(_t(x), _t(y), reduction=reduction, beta=0.7),
            np.where(np.abs(d) < 0.7, 0.5 * d**2 / 0.7, np.abs(d) - 0.35),
        ),
        "smooth_l1_beta0": (
            F.smooth_l1_loss(_t(x), _t(y), reduction=reduction, beta=0.0),
            np.abs(d),
        ),
    }
    for name, (ours, elementwise) in cases.items():
        expected = _reduce(elementwise, reduction)
        assert ours.shape == np.shape(expected), name
        np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-12, err_msg=name)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses_with_weight(reduction: str, rng: np.random.Generator) -> None:
    x, y, w = rng.standard_normal((2, 3)), rng.standard_normal((2, 3)), rng.random((2, 3))
    for fn, elementwise in ((F.mse_loss, (x - y) ** 2), (F.l1_loss, np.abs(x - y))):
        ours = fn(_t(x), _t(y), reduction=reduction, weight=_t(w))
        weighted = elementwise * w
        expected = weighted.sum() / w.sum() if reduction == "mean" else _reduce(weighted, reduction)
        np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses_gradients(reduction: str, rng: np.random.Generator) -> None:
    x = _t(rng.standard_normal((3, 4)), True)
    y = _t(rng.standard_normal((3, 4)), True)
    w = _t(rng.random((3, 4)))
    assert gradcheck(lambda a, b: F.mse_loss(a, b, reduction=reduction), [x, y])
    assert gradcheck(lambda a, b: F.mse_loss(a, b, reduction=reduction, weight=w), [x, y])
    assert gradcheck(lambda a, b: F.l1_loss(a, b, reduction=reduction), [x, y])
    assert gradcheck(lambda a, b: F.smooth_l1_loss(a, b, reduction, beta=0.5), [x, y])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_huber_loss(reduction: str, rng: np.random.Generator) -> None:
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    d = np.abs(x - y)
    expected = _reduce(np.where(d < 0.6, 0.5 * d**2, 0.6 * (d - 0.3)), reduction)
    ours = F.huber_loss(_t(x), _t(y), reduction=reduction, delta=0.6)
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-12)
    assert gradcheck(lambda a, b: F.huber_loss(a, b, reduction, 0.6), [_t(x, True), _t(y, True)])
    with pytest.raises(ValueError, match="delta > 0"):
        F.huber_loss(_t(x), _t(y), delta=0.0)


@pytest.mark.parametrize("reduction", [*REDUCTIONS, "batchmean"])
def test_kl_div(reduction: str, rng: np.random.Generator) -> None:
    log_p = np.log(rng.dirichlet(np.ones(4), size=3))
    q = rng.dirichlet(np.ones(4), size=3)
    q[0, 1] = 0.0  # a zero target probability contributes nothing
    pointwise = np.where(q > 0, q * (np.log(np.where(q > 0, q, 1.0)) - log_p), 0.0)
    expected = pointwise.sum() / 3 if reduction == "batchmean" else _reduce(pointwise, reduction)
    ours = F.kl_div(_t(log_p), _t(q), reduction=reduction)
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-12)
    log_q = np.log(rng.dirichlet(np.ones(4), size=3))
    with_log_target = F.kl_div(_t(log_p), _t(log_q), reduction=reduction, log_target=True)
    pointwise = np.exp(log_q) * (log_q - log_p)
    expected = pointwise.sum() / 3 if reduction == "batchmean" else _reduce(pointwise, reduction)
    np.testing.assert_allclose(with_log_target.numpy(), expected, rtol=1e-12)
    assert gradcheck(lambda a: F.kl_div(a, _t(q), reduction=reduction), [_t(log_p, True)])
    assert gradcheck(
        lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=True),
        [_t(log_p, True), _t(log_q, True)],
    )


def test_kl_div_errors() -> None:
    with pytest.raises(ValueError, match="'batchmean'"):
        F.kl_div(ac.zeros(2), ac.zeros(2), reduction="avg")
    with pytest.raises(ValueError, match="target shape"):
        F.kl_div(ac.zeros(2), ac.zeros(3))
    with pytest.raises(ValueError, match="'batchmean'"):
        nn.KLDivLoss(reduction="avg")


def test_regression_losses_reject_mismatched_shapes() -> None:
    for fn in (F.mse_loss, F.l1_loss, F.smooth_l1_loss, F.binary_cross_entropy):
        with pytest.raises(
            ValueError, match=r"target shape \(3, 1\) differs from input shape \(3,\)"
        ):
            fn(ac.rand(3), ac.rand(3, 1))
    with pytest.raises(ValueError, match=r"weight shape \(3,\).*\(2, 3\)"):
        F.mse_loss(ac.rand(2, 3), ac.rand(2, 3), weight=ac.ones(3))
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.mse_loss(ac.rand(3), ac.rand(3), reduction="avg")
    with pytest.raises(ValueError, match="beta >= 0"):
        F.smooth_l1_loss(ac.rand(3), ac.rand(3), beta=-1.0)


# --------------------------------------------------------------------- cross-entropy
def _np_cross_entropy(x, t, weight=None, ignore_index=-100, reduction="mean", smoothing=0.0):
    """Straight from the definition, class axis 1, loops over positions."""
    x = np.moveaxis(x, 1, -1)
    c = x.shape[-1]
    w = np.ones(c) if weight is None else weight
    top = x.max(-1, keepdims=True)
    logp = x - top - np.log(np.exp(x - top).sum(-1, keepdims=True))
    losses, total = np.zeros(t.shape), 0.0
    for index in np.ndindex(t.shape):
        if t[index] == ignore_index:
            continue
        k = t[index]
        q = (1 - smoothing) * w[k] * np.eye(c)[k] + smoothing / c * w
        losses[index] = -(q * logp[index]).sum()
        total += w[k]
    if reduction == "mean":
        return losses.sum() / total
    return losses.sum() if reduction == "sum" else losses


CE_SHAPES = [((4, 3), (4,)), ((2, 3, 4), (2, 4)), ((2, 3, 2, 2), (2, 2, 2))]


@pytest.mark.parametrize(("x_shape", "t_shape"), CE_SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignored", [False, True])
def test_cross_entropy_forward_and_gradients(
    x_shape, t_shape, reduction, smoothing, weighted, ignored, rng: np.random.Generator
) -> None:
    x = rng.standard_normal(x_shape) * 2
    t = rng.integers(0, 3, t_shape)
    if ignored:
        t.reshape(-1)[1] = -1  # a custom ignore_index
    w = rng.uniform(0.5, 2.0, 3) if weighted else None
    if weighted:
        w[2] = 0.0  # a class without weight still takes part in label smoothing
    ours = F.cross_entropy(
        _t(x),
        ac.tensor(t),
        weight=None if w is None else _t(w),
        ignore_index=-1,
        reduction=reduction,
        label_smoothing=smoothing,
    )
    expected = _np_cross_entropy(x, t, w, -1, reduction, smoothing)
    assert ours.shape == np.shape(expected) and ours.dtype == ac.float64
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-12, atol=1e-14)

    weight = None if w is None else _t(w)

    def fn(logits):
        return F.cross_entropy(logits, ac.tensor(t), weight, -1, reduction, smoothing)

    assert gradcheck(fn, [_t(x, True)])


def test_cross_entropy_default_ignore_index_and_all_ignored(rng: np.random.Generator) -> None:
    x = _t(rng.standard_normal((3, 4)), True)
    t = np.array([1, -100, 3])
    np.testing.assert_allclose(
        F.cross_entropy(x, ac.tensor(t)).numpy(), _np_cross_entropy(x.numpy(), t), rtol=1e-12
    )
    loss = F.cross_entropy(x, ac.tensor([-100, -100, -100]))
    assert math.isnan(loss.item())
    loss.backward()
    assert (x.grad == 0).all()
    x.grad = None
    loss = F.nll_loss(x, ac.tensor([-100, -100, -100]))
    assert math.isnan(loss.item())
    loss.backward()
    assert (x.grad == 0).all()


def test_cross_entropy_is_exact_for_huge_logits() -> None:
    loss = F.cross_entropy(ac.tensor([[1000.0, 0.0]]), ac.tensor([1]))
    assert loss.item() == 1000.0
    x = ac.tensor([[1e4, -1e4, 0.0], [0.0, 3e4, 0.0]], dtype=ac.float32, req_grad=True)
    loss = F.cross_entropy(x, ac.tensor([1, 1]), reduction="none")
    np.testing.assert_array_equal(loss.numpy(), [2e4, 0.0])
    loss.sum().backward()
    np.testing.assert_array_equal(x.grad, [[1.0, -1.0, 0.0], [0.0, 0.0, 0.0]])


@pytest.mark.parametrize("dtype", [ac.uint8, ac.int8, ac.int16, ac.int32, ac.int64])
def test_cross_entropy_accepts_any_integer_target_dtype(dtype, rng: np.random.Generator) -> None:
    x = _t(rng.standard_normal((4, 3)))
    t = np.array([0, 2, 1, 1])
    loss = F.cross_entropy(x, ac.tensor(t, dtype=dtype))
    np.testing.assert_allclose(loss.numpy(), _np_cross_entropy(x.numpy(), t), rtol=1e-12)


def test_cross_entropy_unbatched_input(rng: np.random.Generator) -> None:
    x = rng.standard_normal(5)
    loss = F.cross_entropy(_t(x), ac.tensor(3), reduction="none")
    assert loss.shape == ()
    np.testing.assert_allclose(loss.item(), -(x[3] - np.log(np.exp(x).sum())), rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_with_class_probabilities(reduction: str, rng: np.random.Generator) -> None:
    x = rng.standard_normal((3, 4, 2))
    y = rng.random((3, 4, 2))
    y /= y.sum(1, keepdims=True)
    w = rng.uniform(0.5, 2, 4)
    smooth = 0.2 * 1 / 4 + 0.8 * y
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    expected = _reduce(-(w[None, :, None] * smooth * logp).sum(1), reduction)
    ours = F.cross_entropy(_t(x), _t(y), _t(w), reduction=reduction, label_smoothing=0.2)
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-12)

    def fn(a, b):
        return F.cross_entropy(a, b, _t(w), reduction=reduction, label_smoothing=0.2)

    assert gradcheck(fn, [_t(x, True), _t(y, True)])


def test_cross_entropy_errors() -> None:
    x = ac.randn(3, 4)
    with pytest.raises(
        ValueError, match=r"target of shape \(3,\).*input of shape \(3, 4\).*\(2,\)"
    ):
        F.cross_entropy(x, ac.tensor([0, 1]))
    with pytest.raises(IndexError, match=r"target 4 is out of bounds for 4 classes"):
        F.cross_entropy(x, ac.tensor([0, 4, 1]))
    with pytest.raises(IndexError, match=r"target -3 is out of bounds"):
        F.nll_loss(x, ac.tensor([0, -3, 1]))
    with pytest.raises(ValueError, match=r"weight must have shape \(4,\).*got \(3,\)"):
        F.cross_entropy(x, ac.tensor([0, 1, 2]), weight=ac.ones(3))
    with pytest.raises(ValueError, match=r"target of the input's shape \(3, 4\), got \(3, 2\)"):
        F.cross_entropy(x, ac.rand(3, 2))
    with pytest.raises(TypeError, match="integer class indices"):
        F.cross_entropy(x, ac.tensor([True, False, True]))
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\]"):
        F.cross_entropy(x, ac.tensor([0, 1, 2]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.cross_entropy(x, ac.tensor([0, 1, 2]), reduction="batchmean")


# ------------------------------------------------------------------------------- NLL
@pytest.mark.parametrize(("x_shape", "t_shape"), CE_SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_forward_and_gradients(x_shape, t_shape, reduction, rng: np.random.Generator):
    x = rng.standard_normal(x_shape)
    t = rng.integers(0, 3, t_shape)
    t.reshape(-1)[0] = 7
    w = rng.uniform(0.5, 2.0, 3)
    picked = np.take_along_axis(x, np.expand_dims(np.where(t == 7, 0, t), 1), 1).squeeze(1)
    losses = -picked * w[np.where(t == 7, 0, t)] * (t != 7)
    total = (w[np.where(t == 7, 0, t)] * (t != 7)).sum()
    expected = losses.sum() / total if reduction == "mean" else _reduce(losses, reduction)
    ours = F.nll_loss(_t(x), ac.tensor(t), _t(w), ignore_index=7, reduction=reduction)
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-12)
    assert gradcheck(lambda a: F.nll_loss(a, ac.tensor(t), _t(w), 7, reduction), [_t(x, True)])


# --------------------------------------------------------------- binary cross-entropy
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(reduction: str, rng: np.random.Generator) -> None:
    p, y, w = rng.uniform(0.05, 0.95, (3, 4)), rng.random((3, 4)), rng.random(4)
    expected = _reduce(-w * (y * np.log(p) + (1 - y) * np.log(1 - p)), reduction)
    ours = F.binary_cross_entropy(_t(p), _t(y), _t(w), reduction=reduction)
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-12)

    def fn(a, b):
        return F.binary_cross_entropy(a, b, _t(w), reduction)

    assert gradcheck(fn, [_t(p, True), _t(y, True)])


def test_binary_cross_entropy_clamps_logs_like_pytorch() -> None:
    p = ac.tensor([0.0, 1.0, 0.0, 1.0], dtype=ac.float64, req_grad=True)
    y = ac.tensor([1.0, 0.0, 0.0, 1.0], dtype=ac.float64)
    loss = F.binary_cross_entropy(p, y, reduction="none")
    np.testing.assert_array_equal(loss.numpy(), [100.0, 100.0, 0.0, 0.0])
    loss.sum().backward()
    np.testing.assert_array_equal(p.grad, [-1e12, 1e12, 0.0, 0.0])
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        F.binary_cross_entropy(ac.tensor([1.5]), ac.tensor([1.0]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits(reduction: str, rng: np.random.Generator) -> None:
    x, y = rng.standard_normal((3, 4)) * 3, rng.random((3, 4))
    w, pw = rng.random((3, 1)), rng.uniform(0.5, 3, 4)
    s = 1 / (1 + np.exp(-x))
    elementwise = -w * (pw * y * np.log(s) + (1 - y) * np.log(1 - s))
    ours = F.binary_cross_entropy_with_logits(_t(x), _t(y), _t(w), reduction, _t(pw))
    np.testing.assert_allclose(ours.numpy(), _reduce(elementwise, reduction), rtol=1e-12)
    plain = F.binary_cross_entropy_with_logits(_t(x), _t(y), reduction=reduction)
    expected = _reduce(-(y * np.log(s) + (1 - y) * np.log(1 - s)), reduction)
    np.testing.assert_allclose(plain.numpy(), expected, rtol=1e-12)

    def fn(a, b):
        return F.binary_cross_entropy_with_logits(a, b, _t(w), reduction, _t(pw))

    assert gradcheck(fn, [_t(x, True), _t(y, True)])


def test_binary_cross_entropy_with_logits_is_stable() -> None:
    x = ac.tensor([1000.0, -1000.0, 1000.0, -1000.0], req_grad=True)
    y = ac.tensor([0.0, 1.0, 1.0, 0.0])
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_array_equal(loss.numpy(), [1000.0, 1000.0, 0.0, 0.0])
    loss.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, -1.0, 0.0, 0.0])


def test_seed_aliases() -> None:
    assert F.cross_entropy_loss is F.cross_entropy
    # NOTE: the seed's bce_loss took logits, so it maps to the logits version.
    assert F.bce_loss is F.binary_cross_entropy_with_logits


# ---------------------------------------------------------------------------- layers
def test_loss_modules_match_functions(rng: np.random.Generator) -> None:
    x, y = _t(rng.standard_normal((4, 3))), _t(rng.random((4, 3)))
    t = ac.tensor([0, 2, 1, 2])
    w = _t(rng.random(3))
    pairs = [
        (nn.MSELoss(reduction="sum")(x, y), F.mse_loss(x, y, reduction="sum")),
        (nn.L1Loss()(x, y), F.l1_loss(x, y)),
        (nn.SmoothL1Loss(beta=0.5)(x, y), F.smooth_l1_loss(x, y, beta=0.5)),
        (nn.HuberLoss(delta=2.0)(x, y), F.huber_loss(x, y, delta=2.0)),
        (
            nn.KLDivLoss(reduction="batchmean", log_target=True)(x, x),
            F.kl_div(x, x, reduction="batchmean", log_target=True),
        ),
        (
            nn.CrossEntropyLoss(w, ignore_index=1, label_smoothing=0.1)(x, t),
            F.cross_entropy(x, t, w, ignore_index=1, label_smoothing=0.1),
        ),
        (nn.NLLLoss(w, reduction="none")(x, t), F.nll_loss(x, t, w, reduction="none")),
        (nn.BCELoss(w)(y, y), F.binary_cross_entropy(y, y, w)),
        (
            nn.BCEWithLogitsLoss(pos_weight=w)(x, y),
            F.binary_cross_entropy_with_logits(x, y, pos_weight=w),
        ),
    ]
    for module_result, function_result in pairs:
        np.testing.assert_array_equal(module_result.numpy(), function_result.numpy())


def test_loss_module_state_and_validation() -> None:
    criterion = nn.CrossEntropyLoss(weight=ac.ones(3))
    assert list(criterion.state_dict()) == ["weight"] and list(criterion.parameters()) == []
    assert list(nn.BCEWithLogitsLoss(pos_weight=ac.ones(2)).state_dict()) == ["pos_weight"]
    assert nn.CrossEntropyLoss().weight is None
    assert repr(nn.MSELoss(reduction="sum")) == "MSELoss(reduction='sum')"
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.MSELoss(reduction="avg")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_embedding_and_likelihood_losses_gradcheck(reduction: str, rng) -> None:
    a, b = _t(rng.standard_normal((4, 3)), True), _t(rng.standard_normal((4, 3)), True)
    x, y = _t(rng.standard_normal(4) * 2, True), _t(rng.choice([-1.0, 1.0], 4))
    positive = _t(np.abs(rng.standard_normal((4, 3))) + 0.5, True)
    checks = [
        (
            lambda u, v: F.margin_ranking_loss(u, v, y, 0.3, reduction),
            [x, _t(rng.standard_normal(4), True)],
        ),
        (lambda u: F.hinge_embedding_loss(u, y, 0.5, reduction), [x]),
        (lambda u, v: F.cosine_embedding_loss(u, v, y, 0.1, reduction), [a, b]),
        (
            lambda u, v, w: F.triplet_margin_loss(u, v, w, 2.0, swap=True, reduction=reduction),
            [a, b, positive],
        ),
        (lambda u: F.soft_margin_loss(u, _t(np.sign(b.numpy())), reduction), [a]),
        (
            lambda u: F.multilabel_soft_margin_loss(
                u, _t((b.numpy() > 0) * 1.0), reduction=reduction
            ),
            [a],
        ),
        (lambda u: F.poisson_nll_loss(u, _t(np.abs(b.numpy())), reduction=reduction), [a]),
        (
            lambda u: F.poisson_nll_loss(
                u, _t(np.abs(b.numpy()) * 3), False, True, reduction=reduction
            ),
            [positive],
        ),
        (
            lambda u, v: F.gaussian_nll_loss(u, b.detach(), v, True, reduction=reduction),
            [a, positive],
        ),
    ]
    for function, inputs in checks:
        assert gradcheck(function, inputs)
    assert nn.HingeEmbeddingLoss().margin == 1.0 and nn.SoftMarginLoss()(a, a.detach()).shape == ()
    with pytest.raises(ValueError, match="var >= 0"):
        F.gaussian_nll_loss(a, b, -1.0)


# ---------------------------------------------------------- multi-margin and triplet losses
def _np_multi_margin(x, t, p, margin, w):
    target_score = x[np.arange(len(t)), t][:, None]
    hinge = np.maximum(0, margin - target_score + x) ** p
    hinge[np.arange(len(t)), t] = 0
    if w is not None:
        hinge = hinge * w[t][:, None]
    return hinge.sum(1) / x.shape[1]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("weighted", [False, True])
def test_multi_margin_loss(reduction: str, p: int, weighted: bool, rng) -> None:
    x, t = rng.standard_normal((6, 4)), np.array([0, 3, 1, 1, 2, 3])
    w = rng.uniform(0.5, 2, 4) if weighted else None
    weight = _t(w) if weighted else None
    result = F.multi_margin_loss(_t(x), ac.tensor(t), p, 0.8, weight, reduction)
    expected = _reduce(_np_multi_margin(x, t, p, 0.8, w), reduction)
    assert result.shape == np.shape(expected)
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-12)
    assert gradcheck(
        lambda u: F.multi_margin_loss(u, ac.tensor(t), p, 0.8, weight, reduction), [_t(x, True)]
    )
    module = nn.MultiMarginLoss(p, 0.8, weight, reduction)
    np.testing.assert_array_equal(module(_t(x), ac.tensor(t)).numpy(), result.numpy())


def test_multi_margin_loss_unbatched_defaults_and_buffer(rng: np.random.Generator) -> None:
    x = rng.standard_normal(5)
    single = F.multi_margin_loss(_t(x), ac.tensor(2), reduction="none")
    assert single.shape == ()
    assert F.multi_margin_loss(_t(x), ac.tensor([2]), reduction="none").shape == (1,)
    np.testing.assert_allclose(single.numpy(), _np_multi_margin(x[None], [2], 1, 1.0, None)[0])
    criterion = nn.MultiMarginLoss(weight=ac.ones(5))
    assert list(criterion.state_dict()) == ["weight"] and list(criterion.parameters()) == []
    assert repr(nn.MultiMarginLoss(p=2, reduction="sum")) == "MultiMarginLoss(reduction='sum')"


def test_multi_margin_loss_errors() -> None:
    x, t = ac.zeros(2, 3), ac.tensor([0, 1])
    with pytest.raises(ValueError, match="p = 1 or p = 2 only, got 3"):
        F.multi_margin_loss(x, t, p=3)
    with pytest.raises(ValueError, match="MultiMarginLoss supports p = 1 or p = 2 only"):
        nn.MultiMarginLoss(p=0)
    with pytest.raises(ValueError, match=r"MultiMarginLoss expects a weight of shape \(C,\)"):
        nn.MultiMarginLoss(weight=ac.ones(2, 3))
    with pytest.raises(ValueError, match=r"values must lie in \[0, 3\), got values from 0 to 3"):
        F.multi_margin_loss(x, ac.tensor([0, 3]))
    with pytest.raises(ValueError, match=r"target of shape \(2,\) .* got \(3,\)"):
        F.multi_margin_loss(x, ac.tensor([0, 1, 1]))
    with pytest.raises(TypeError, match="integer class indices, got float32"):
        F.multi_margin_loss(x, ac.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"weight of shape \(3,\), got \(2,\)"):
        F.multi_margin_loss(x, t, weight=ac.ones(2))
    with pytest.raises(ValueError, match=r"input \(N, C\) or \(C,\), got \(2, 3, 1\)"):
        F.multi_margin_loss(ac.zeros(2, 3, 1), t)
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.multi_margin_loss(x, t, reduction="avg")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_margin_with_distance_loss(reduction: str, swap: bool, rng) -> None:
    a, b, c = (_t(rng.standard_normal((5, 3)), True) for _ in range(3))
    # the default distance gives triplet_margin_loss
    np.testing.assert_allclose(
        F.triplet_margin_with_distance_loss(
            a, b, c, margin=0.7, swap=swap, reduction=reduction
        ).numpy(),
        F.triplet_margin_loss(a, b, c, 0.7, swap=swap, reduction=reduction).numpy(),
        rtol=1e-12,
    )

    def cosine_distance(x: ac.Tensor, y: ac.Tensor) -> ac.Tensor:
        return 1 - F.cosine_similarity(x, y)

    result = F.triplet_margin_with_distance_loss(
        a, b, c, distance_function=cosine_distance, margin=0.7, swap=swap, reduction=reduction
    )
    an, bn, cn = (v.numpy() / np.linalg.norm(v.numpy(), axis=1, keepdims=True) for v in (a, b, c))
    to_negative = 1 - (an * cn).sum(1)
    if swap:
        to_negative = np.minimum(to_negative, 1 - (bn * cn).sum(1))
    expected = _reduce(np.maximum(1 - (an * bn).sum(1) - to_negative + 0.7, 0), reduction)
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-12)
    assert gradcheck(
        lambda u, v, w: F.triplet_margin_with_distance_loss(
            u, v, w, distance_function=cosine_distance, margin=0.7, swap=swap, reduction=reduction
        ),
        [a, b, c],
    )
    module = nn.TripletMarginWithDistanceLoss(
        distance_function=cosine_distance, margin=0.7, swap=swap, reduction=reduction
    )
    np.testing.assert_array_equal(module(a, b, c).numpy(), result.numpy())


def test_triplet_margin_with_distance_loss_module_and_errors() -> None:
    criterion = nn.TripletMarginWithDistanceLoss()
    assert isinstance(criterion.distance_function, nn.PairwiseDistance)
    assert repr(criterion) == (
        "TripletMarginWithDistanceLoss(\n  (distance_function): PairwiseDistance()\n)"
    )
    assert criterion(ac.ones(3), ac.ones(3), ac.zeros(3)).shape == ()
    with pytest.raises(ValueError, match=r"margin greater than 0, got 0\.0"):
        nn.TripletMarginWithDistanceLoss(margin=0.0)
    with pytest.raises(ValueError, match="margin greater than 0, got -1"):
        F.triplet_margin_with_distance_loss(ac.ones(3), ac.ones(3), ac.ones(3), margin=-1)
    with pytest.raises(ValueError, match=r"same rank, got shapes \(2, 3\), \(3,\) and \(2, 3\)"):
        F.triplet_margin_with_distance_loss(ac.ones(2, 3), ac.ones(3), ac.ones(2, 3))
    with pytest.raises(TypeError):
        nn.TripletMarginWithDistanceLoss(None)  # keyword-only, as in PyTorch


# ----------------------------------------------------------------- second derivatives
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"ignore_index": 1},
        {"label_smoothing": 0.2},
        {"label_smoothing": 0.1, "ignore_index": 2},
        {"weight": True},
        {"weight": True, "label_smoothing": 0.3, "ignore_index": 0},
    ],
    ids=["plain", "ignore", "smoothing", "smoothing_ignore", "weight", "all"],
)
def test_cross_entropy_has_second_derivatives(
    reduction: str, options: dict, rng: np.random.Generator
) -> None:
    x = _t(rng.standard_normal((3, 4, 2)), req_grad=True)
    t = ac.tensor(np.array([[0, 1], [2, 3], [1, 1]]))
    if options.get("weight"):
        options = {**options, "weight": _t(rng.uniform(0.5, 2.0, 4))}
    assert ac.autograd.gradgradcheck(
        lambda x: F.cross_entropy(x, t, reduction=reduction, **options), [x]
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_has_second_derivatives(
    reduction: str, rng: np.random.Generator
) -> None:
    x = _t(rng.uniform(0.1, 0.9, (2, 3)), req_grad=True)
    y = _t(rng.uniform(0.0, 1.0, (2, 3)), req_grad=True)
    assert ac.autograd.gradgradcheck(
        lambda x, y: F.binary_cross_entropy(x, y, reduction=reduction), [x, y]
    )


def test_binary_cross_entropy_second_derivatives_are_finite_at_saturated_inputs() -> None:
    x = _t([0.0, 0.5, 1.0], req_grad=True)
    (grad_x,) = ac.autograd.grad(
        F.binary_cross_entropy(x, _t([1.0, 0.5, 0.0])), x, create_graph=True
    )
    (grad_xx,) = ac.autograd.grad(grad_x.sum(), x)
    assert np.isfinite(grad_xx.numpy()).all()


SECOND_ORDER_LOSSES = {
    "mse": lambda x, y: F.mse_loss(x, y),
    "l1": lambda x, y: F.l1_loss(x * x, y),
    "smooth_l1": lambda x, y: F.smooth_l1_loss(x, y, beta=0.5),
    "huber": lambda x, y: F.huber_loss(x, y, delta=0.5),
    "bce_with_logits": lambda x, y: F.binary_cross_entropy_with_logits(x, y.sigmoid()),
    "soft_margin": lambda x, y: F.soft_margin_loss(x, y),
    "kl_div": lambda x, y: F.kl_div(x.log_softmax(-1), y.softmax(-1), reduction="batchmean"),
    "poisson_nll": lambda x, y: F.poisson_nll_loss(x, y.abs()),
    "gaussian_nll": lambda x, y: F.gaussian_nll_loss(x, y, x.abs() + 0.5),
    "cross_entropy_probabilities": lambda x, y: F.cross_entropy(x, y.softmax(-1)),
    "nll": lambda x, y: F.nll_loss(x.log_softmax(-1), ac.tensor(np.array([0, 2]))),
    "hinge_embedding": lambda x, y: F.hinge_embedding_loss(x * y, _t([[1, -1, 1]] * 2)),
    "cosine_embedding": lambda x, y: F.cosine_embedding_loss(x, y, _t([1, -1])),
    "multilabel_soft_margin": lambda x, y: F.multilabel_soft_margin_loss(x, y.sigmoid()),
    "multi_margin": lambda x, y: F.multi_margin_loss(x * y, ac.tensor(np.array([0, 2]))),
}


@pytest.mark.parametrize("name", sorted(SECOND_ORDER_LOSSES))
def test_composed_losses_have_second_derivatives(name: str, rng: np.random.Generator) -> None:
    x = _t(rng.standard_normal((2, 3)), req_grad=True)
    y = _t(rng.standard_normal((2, 3)), req_grad=True)
    assert ac.autograd.gradgradcheck(SECOND_ORDER_LOSSES[name], [x, y])


# ----------------------------------------------------------------- multilabel margin loss
def _multilabel_margin_reference(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    loss = np.zeros(len(x))
    for n, (scores, labels) in enumerate(zip(x, y, strict=True)):
        listed = []
        for label in labels:
            if label == -1:
                break
            listed.append(label)
        for j in listed:
            for i in range(x.shape[1]):
                if i not in listed:
                    loss[n] += max(0.0, 1 - (scores[j] - scores[i]))
    return loss / x.shape[1]


MULTILABEL_TARGETS = np.array(
    [[3, 0, -1, 1, 4], [1, 1, 2, -1, -1], [-1, 0, 0, 0, 0], [0, 1, 2, 3, 4]]
)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin_loss(reduction: str, rng: np.random.Generator) -> None:
    x = rng.standard_normal((4, 5))
    out = F.multilabel_margin_loss(_t(x), ac.tensor(MULTILABEL_TARGETS), reduction=reduction)
    expected = _reduce(_multilabel_margin_reference(x, MULTILABEL_TARGETS), reduction)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    target = ac.tensor(MULTILABEL_TARGETS)
    assert gradcheck(
        lambda a: F.multilabel_margin_loss(a, target, reduction=reduction), [_t(x, True)]
    )
    layer = nn.MultiLabelMarginLoss(reduction=reduction)
    np.testing.assert_allclose(layer(_t(x), target).numpy(), expected, rtol=1e-12)


def test_multilabel_margin_loss_one_sample_and_errors(rng: np.random.Generator) -> None:
    x = rng.standard_normal(5)
    out = F.multilabel_margin_loss(_t(x), ac.tensor(MULTILABEL_TARGETS[0]), reduction="none")
    assert out.shape == ()
    np.testing.assert_allclose(
        out.numpy(), _multilabel_margin_reference(x[None], MULTILABEL_TARGETS[:1])[0]
    )
    with pytest.raises(ValueError, match=r"\[-1, 5\)"):
        F.multilabel_margin_loss(_t(x), ac.tensor([5, -1, 0, 0, 0]))
    with pytest.raises(ValueError, match="input's shape"):
        F.multilabel_margin_loss(_t(x), ac.tensor([1, -1]))
    with pytest.raises(TypeError, match="integer targets"):
        F.multilabel_margin_loss(_t(x), _t(x))
    with pytest.raises(ValueError, match=r"\(N, C\)"):
        F.multilabel_margin_loss(_t(np.ones((2, 2, 2))), ac.tensor(np.zeros((2, 2, 2), int)))
    with pytest.raises(ValueError, match="reduction"):
        F.multilabel_margin_loss(_t(x), ac.tensor(MULTILABEL_TARGETS[0]), reduction="max")
    with pytest.raises(ValueError, match="deprecated"):
        F.multilabel_margin_loss(_t(x), ac.tensor(MULTILABEL_TARGETS[0]), True)
