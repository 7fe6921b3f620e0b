"""Loss functions and layers against PyTorch: values and the gradients of every input (float32)."""

import numpy as np
import pytest
from parity_helpers import OUT_TOL, compare, load_from

import auto_compyute as ac
import auto_compyute.nn.functional as F
from auto_compyute import nn

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")
TF = torch.nn.functional
REDUCTIONS = ["none", "mean", "sum"]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses(reduction: str, rng: np.random.Generator) -> None:
    x, y, w = rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), rng.random((4, 3))
    compare(
        lambda a, b: F.mse_loss(a, b, reduction=reduction),
        lambda a, b: TF.mse_loss(a, b, reduction=reduction),
        [x, y],
        rng,
    )
    compare(
        lambda a, b, c: F.mse_loss(a, b, reduction=reduction, weight=c),
        lambda a, b, c: TF.mse_loss(a, b, reduction=reduction, weight=c),
        [x, y, w],
        rng,
        [0, 1],
    )
    compare(
        lambda a, b: F.l1_loss(a, b, reduction=reduction),
        lambda a, b: TF.l1_loss(a, b, reduction=reduction),
        [x, y],
        rng,
    )
    compare(
        lambda a, b: F.smooth_l1_loss(a, b, reduction=reduction, beta=0.6),
        lambda a, b: TF.smooth_l1_loss(a, b, reduction=reduction, beta=0.6),
        [x, y],
        rng,
    )


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss:UserWarning")
@pytest.mark.parametrize("reduction", [*REDUCTIONS, "batchmean"])
def test_huber_and_kl_div(reduction: str, rng: np.random.Generator) -> None:
    x, y = rng.standard_normal((4, 3)) * 2, rng.standard_normal((4, 3))
    if reduction != "batchmean":
        compare(
            lambda a, b: F.huber_loss(a, b, reduction=reduction, delta=0.7),
            lambda a, b: TF.huber_loss(a, b, reduction=reduction, delta=0.7),
            [x, y],
            rng,
        )
    log_p = np.log(rng.dirichlet(np.ones(3), size=4))
    q = rng.dirichlet(np.ones(3), size=4)
    q[1, 2] = 0.0
    compare(
        lambda a, b: F.kl_div(a, b, reduction=reduction),
        lambda a, b: TF.kl_div(a, b, reduction=reduction),
        [log_p, q],
        rng,
        [0],
    )
    compare(
        lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=True),
        lambda a, b: TF.kl_div(a, b, reduction=reduction, log_target=True),
        [log_p, np.log(rng.dirichlet(np.ones(3), size=4))],
        rng,
    )


CE_SHAPES = [((5, 4), (5,)), ((3, 4, 5), (3, 5)), ((2, 4, 3, 2), (2, 3, 2))]


@pytest.mark.parametrize(("x_shape", "t_shape"), CE_SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignored", [False, True])
def test_cross_entropy_and_nll(
    x_shape, t_shape, reduction, smoothing, weighted, ignored, rng
) -> None:
    x = rng.standard_normal(x_shape) * 3
    t = rng.integers(0, 4, t_shape)
    if ignored:
        t.reshape(-1)[0] = -100
    w = rng.uniform(0.2, 2.0, 4).astype(np.float32) if weighted else None

    def ours(a, b):
        weight = None if w is None else ac.tensor(w)
        return F.cross_entropy(a, b, weight, reduction=reduction, label_smoothing=smoothing)

    def theirs(a, b):
        weight = None if w is None else torch.tensor(w)
        return TF.cross_entropy(a, b, weight, reduction=reduction, label_smoothing=smoothing)

    compare(ours, theirs, [x, t], rng)
    if smoothing == 0.0:
        compare(
            lambda a, b: F.nll_loss(a, b, None if w is None else ac.tensor(w), reduction=reduction),
            lambda a, b: TF.nll_loss(
                a, b, None if w is None else torch.tensor(w), reduction=reduction
            ),
            [x, t],
            rng,
        )


def test_cross_entropy_probability_targets_and_huge_logits(rng: np.random.Generator) -> None:
    x, y = rng.standard_normal((3, 5, 2)), rng.random((3, 5, 2))
    y /= y.sum(1, keepdims=True)
    w = rng.uniform(0.5, 2, 5).astype(np.float32)
    compare(
        lambda a, b: F.cross_entropy(a, b, ac.tensor(w), label_smoothing=0.1),
        lambda a, b: TF.cross_entropy(a, b, torch.tensor(w), label_smoothing=0.1),
        [x, y],
        rng,
    )
    huge = np.array([[1000.0, 0.0, -500.0], [0.0, 2e4, 1.0]])
    t = np.array([1, 2])
    compare(
        lambda a, b: F.cross_entropy(a, b, reduction="none"),
        lambda a, b: TF.cross_entropy(a, b, reduction="none"),
        [huge, t],
        rng,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(reduction: str, rng: np.random.Generator) -> None:
    p, y, w = rng.uniform(0.02, 0.98, (4, 3)), rng.random((4, 3)), rng.random(3)
    compare(
        lambda a, b, c: F.binary_cross_entropy(a, b, c, reduction),
        lambda a, b, c: TF.binary_cross_entropy(a, b, c, reduction=reduction),
        [p, y, w],
        rng,
        [0, 1],
    )
    x, pw = rng.standard_normal((4, 3)) * 4, rng.uniform(0.5, 3, 3)
    compare(
        lambda a, b, c, d: F.binary_cross_entropy_with_logits(a, b, c, reduction, d),
        lambda a, b, c, d: TF.binary_cross_entropy_with_logits(
            a, b, c, reduction=reduction, pos_weight=d
        ),
        [x, y, w, pw],
        rng,
        [0, 1],
    )


def test_loss_layers_match_pytorch(rng: np.random.Generator) -> None:
    x, y = rng.standard_normal((4, 3)).astype(np.float32), rng.random((4, 3)).astype(np.float32)
    t = np.array([0, 2, 1, 2])
    w = rng.uniform(0.5, 2, 3).astype(np.float32)
    pairs = [
        (nn.MSELoss(), torch.nn.MSELoss(), (x, y)),
        (nn.L1Loss(reduction="sum"), torch.nn.L1Loss(reduction="sum"), (x, y)),
        (nn.SmoothL1Loss(beta=0.3), torch.nn.SmoothL1Loss(beta=0.3), (x, y)),
        (nn.HuberLoss(delta=0.4), torch.nn.HuberLoss(delta=0.4), (x, y)),
        (
            nn.KLDivLoss(reduction="batchmean"),
            torch.nn.KLDivLoss(reduction="batchmean"),
            (np.log(y), y[::-1].copy()),
        ),
        (
            nn.CrossEntropyLoss(ac.tensor(w), ignore_index=1, label_smoothing=0.1),
            torch.nn.CrossEntropyLoss(torch.tensor(w), ignore_index=1, label_smoothing=0.1),
            (x, t),
        ),
        (nn.NLLLoss(ac.tensor(w)), torch.nn.NLLLoss(torch.tensor(w)), (x, t)),
        (nn.BCELoss(ac.tensor(w)), torch.nn.BCELoss(torch.tensor(w)), (y, y)),
        (
            nn.BCEWithLogitsLoss(pos_weight=ac.tensor(w)),
            torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(w)),
            (x, y),
        ),
    ]
    for ours, theirs, (a, b) in pairs:
        assert list(ours.state_dict()) == list(theirs.state_dict())
        load_from(ours, theirs)
        np.testing.assert_allclose(
            ours(ac.tensor(a), ac.tensor(b)).numpy(),
            theirs(torch.tensor(a), torch.tensor(b)).numpy(),
            **OUT_TOL,
            err_msg=type(ours).__name__,
        )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_embedding_and_likelihood_losses(reduction: str, rng: np.random.Generator) -> None:
    a, b = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    x, y = rng.standard_normal(5), rng.choice([-1.0, 1.0], 5)
    cases = [
        ("margin_ranking_loss", [x, x[::-1].copy(), y], [0, 1], {"margin": 0.3}),
        ("hinge_embedding_loss", [np.abs(x), y], [0], {"margin": 0.8}),
        ("cosine_embedding_loss", [a, b, y], [0, 1], {"margin": -0.2}),
        ("triplet_margin_loss", [a, b, a[::-1].copy()], [0, 1, 2], {"margin": 0.5, "swap": True}),
        ("triplet_margin_loss", [a, b, b * 2], [0, 1, 2], {"p": 1.0}),
        ("soft_margin_loss", [a, np.sign(b)], [0], {}),
        ("multilabel_soft_margin_loss", [a, (b > 0).astype(float)], [0], {}),
        ("poisson_nll_loss", [a, np.abs(b) * 3], [0], {}),
        ("poisson_nll_loss", [np.abs(a), np.abs(b) * 3], [0], {"log_input": False, "full": True}),
        ("gaussian_nll_loss", [a, b, np.abs(a[:, :1]) + 0.5], [0, 2], {"full": True}),
        ("gaussian_nll_loss", [a, b, np.abs(b[:, 0]) + 1e-8], [0, 2], {}),  # clamped var
    ]
    for name, arrays, differentiable, kwargs in cases:
        compare(
            lambda *t, name=name, kwargs=kwargs: getattr(F, name)(
                *t, reduction=reduction, **kwargs
            ),
            lambda *t, name=name, kwargs=kwargs: getattr(TF, name)(
                *t, reduction=reduction, **kwargs
            ),
            arrays,
            rng,
            differentiable,
        )


def test_margin_loss_layers_match_pytorch(rng: np.random.Generator) -> None:
    a, b = (
        rng.standard_normal((3, 4)).astype(np.float32),
        rng.standard_normal((3, 4)).astype(np.float32),
    )
    y = np.array([1.0, -1.0, 1.0], dtype=np.float32)
    pairs = [
        (nn.CosineEmbeddingLoss(0.1), torch.nn.CosineEmbeddingLoss(0.1), (a, b, y)),
        (nn.TripletMarginLoss(p=1.0), torch.nn.TripletMarginLoss(p=1.0), (a, b, -a)),
        (
            nn.MarginRankingLoss(reduction="sum"),
            torch.nn.MarginRankingLoss(reduction="sum"),
            (a[:, 0], b[:, 0], y),
        ),
        (
            nn.MultiLabelSoftMarginLoss(),
            torch.nn.MultiLabelSoftMarginLoss(),
            (a, (b > 0).astype(np.float32)),
        ),
        (nn.PoissonNLLLoss(), torch.nn.PoissonNLLLoss(), (a, np.abs(b))),
        (nn.GaussianNLLLoss(), torch.nn.GaussianNLLLoss(), (a, b, np.abs(a) + 0.1)),
    ]
    for ours, theirs, arrays in pairs:
        np.testing.assert_allclose(
            ours(*(ac.tensor(v) for v in arrays)).numpy(),
            theirs(*(torch.tensor(v) for v in arrays)).numpy(),
            **OUT_TOL,
            err_msg=type(ours).__name__,
        )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_loss(reduction: str, p: int, rng: np.random.Generator) -> None:
    x, t = rng.standard_normal((6, 5)), np.array([0, 4, 1, 1, 2, 3])
    w = rng.uniform(0.5, 2, 5).astype(np.float32)
    for weight in (None, w):
        compare(
            lambda u, weight=weight: F.multi_margin_loss(
                u,
                ac.tensor(t),
                p,
                0.6,
                None if weight is None else ac.tensor(weight),
                reduction,
            ),
            lambda u, weight=weight: TF.multi_margin_loss(
                u,
                torch.tensor(t),
                p,
                0.6,
                None if weight is None else torch.tensor(weight),
                reduction=reduction,
            ),
            [x],
            rng,
        )
    compare(  # one unbatched sample
        lambda u: F.multi_margin_loss(u, ac.tensor(2), p, reduction=reduction),
        lambda u: TF.multi_margin_loss(u, torch.tensor(2), p, reduction=reduction),
        [x[0]],
        rng,
    )


def test_multi_margin_loss_layer_matches_pytorch(rng: np.random.Generator) -> None:
    x, t = rng.standard_normal((4, 3)).astype(np.float32), np.array([2, 0, 1, 2])
    w = rng.uniform(0.5, 2, 3).astype(np.float32)
    ours = nn.MultiMarginLoss(p=2, margin=0.5, weight=ac.tensor(w), reduction="sum")
    theirs = torch.nn.MultiMarginLoss(p=2, margin=0.5, weight=torch.tensor(w), reduction="sum")
    assert list(ours.state_dict()) == list(theirs.state_dict())
    load_from(ours, theirs)
    np.testing.assert_allclose(
        ours(ac.tensor(x), ac.tensor(t)).numpy(),
        theirs(torch.tensor(x), torch.tensor(t)).numpy(),
        **OUT_TOL,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_margin_with_distance_loss(reduction: str, swap: bool, rng) -> None:
    a, b, c = (rng.standard_normal((5, 4)) for _ in range(3))
    cases = [
        (None, None),
        (lambda x, y: 1 - F.cosine_similarity(x, y), lambda x, y: 1 - TF.cosine_similarity(x, y)),
        (nn.PairwiseDistance(p=1.0), torch.nn.PairwiseDistance(p=1.0)),
    ]
    for ours_distance, theirs_distance in cases:
        compare(
            lambda *v, d=ours_distance: F.triplet_margin_with_distance_loss(
                *v, distance_function=d, margin=0.4, swap=swap, reduction=reduction
            ),
            lambda *v, d=theirs_distance: TF.triplet_margin_with_distance_loss(
                *v, distance_function=d, margin=0.4, swap=swap, reduction=reduction
            ),
            [a, b, c],
            rng,
        )
    ours = nn.TripletMarginWithDistanceLoss(margin=2.0, swap=swap, reduction=reduction)
    theirs = torch.nn.TripletMarginWithDistanceLoss(margin=2.0, swap=swap, reduction=reduction)
    if reduction == "mean":
        assert repr(ours) == repr(theirs)
    compare(ours, theirs, [a, b, c], rng)


@pytest.mark.parametrize(
    "options",
    [{}, {"label_smoothing": 0.1, "ignore_index": 2}, {"weight": True, "reduction": "sum"}],
    ids=["plain", "smoothing_ignore", "weight_sum"],
)
def test_gradient_penalty_through_cross_entropy_matches_torch(options: dict, rng) -> None:
    reference = torch.nn.Sequential(
        torch.nn.Linear(4, 8), torch.nn.GELU(), torch.nn.Linear(8, 5)
    ).double()
    ours = nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Linear(8, 5)).to(ac.float64)
    load_from(ours, reference)
    data, target = rng.standard_normal((6, 4)), np.array([0, 2, 4, 1, 2, 3])
    class_weight = rng.uniform(0.5, 2.0, 5)
    results = []
    for model, x, lib, grad, tensor in (
        (ours, ac.tensor(data, req_grad=True), F, ac.autograd.grad, ac.tensor),
        (reference, torch.tensor(data, requires_grad=True), TF, torch.autograd.grad, torch.tensor),
    ):
        kwargs = {**options, "weight": tensor(class_weight)} if "weight" in options else options
        loss = lib.cross_entropy(model(x), tensor(target), **kwargs)
        (by_x,) = grad(loss, x, create_graph=True)
        ((by_x**2).sum() + loss).backward()
        results.append({name: p.grad for name, p in model.named_parameters()})
    for name, theirs in results[1].items():
        np.testing.assert_allclose(results[0][name], theirs.numpy(), rtol=1e-7, atol=1e-12)


def test_gradient_penalty_through_binary_cross_entropy_matches_torch(rng) -> None:
    data, target = rng.uniform(0.1, 0.9, (3, 4)), rng.uniform(0, 1, (3, 4))
    results = []
    for lib, grad, x, y in (
        (F, ac.autograd.grad, ac.tensor(data, req_grad=True), ac.tensor(target, req_grad=True)),
        (
            TF,
            torch.autograd.grad,
            torch.tensor(data, requires_grad=True),
            torch.tensor(target, requires_grad=True),
        ),
    ):
        by_x, by_y = grad(lib.binary_cross_entropy(x, y), (x, y), create_graph=True)
        ((by_x**2).sum() + (by_y**3).sum()).backward()
        results.append((x.grad, y.grad))
    for mine, theirs in zip(results[0], results[1], strict=True):
        np.testing.assert_allclose(mine, theirs.numpy(), rtol=1e-7)


MULTILABEL_TARGETS = np.array(
    [[3, 0, -1, 1, 4], [1, 1, 2, -1, -1], [-1, 0, 0, 0, 0], [0, 1, 2, 3, 4]]
)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin_loss(reduction: str, rng: np.random.Generator) -> None:
    compare(
        lambda a, b: F.multilabel_margin_loss(a, b, reduction=reduction),
        lambda a, b: TF.multilabel_margin_loss(a, b, reduction=reduction),
        [rng.standard_normal((4, 5)), MULTILABEL_TARGETS],
        rng,
    )
    compare(  # one sample
        lambda a, b: F.multilabel_margin_loss(a, b, reduction=reduction),
        lambda a, b: TF.multilabel_margin_loss(a, b, reduction=reduction),
        [rng.standard_normal(5), MULTILABEL_TARGETS[1]],
        rng,
    )
    compare(
        lambda a, b: nn.MultiLabelMarginLoss(reduction=reduction)(a, b),
        lambda a, b: torch.nn.MultiLabelMarginLoss(reduction=reduction)(a, b),
        [rng.standard_normal((4, 5)), MULTILABEL_TARGETS],
        rng,
    )
