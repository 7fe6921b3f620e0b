"""Special functions, the new elementwise functions and products against PyTorch."""

import math

import numpy as np
import pytest

import auto_compyute as ac

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")


def _wide(rng: np.random.Generator, low: float, high: float, size: int = 2000) -> np.ndarray:
    """Uniform values, then log-uniform ones of both signs out to 1e6, off the integers."""
    values = np.concatenate(
        [
            rng.uniform(low, high, size),
            10 ** rng.uniform(-6, 6, size // 4),
            -(10 ** rng.uniform(-6, 6, size // 4)),
        ]
    )
    return values[np.abs(values - np.round(values)) > 1e-3]


# NOTE: rtol by what PyTorch computes: Cephes' own algorithms (as ours) agree to about
# 1e-12 in float64; PyTorch's trigamma sums six terms and a short series, good to about 1e-8;
# its ndtr is (1 + erf(x / sqrt(2))) / 2, which loses the left tail (so the range stops at -8
# and an absolute tolerance of 1e-16 applies).
UNARY = [
    ("lgamma", lambda t: t.lgamma(), torch.lgamma, -80.0, 80.0, 1e-12),
    ("digamma", lambda t: t.digamma(), torch.digamma, -80.0, 80.0, 1e-11),
    ("trigamma", lambda t: t.polygamma(1), lambda t: t.polygamma(1), -30.0, 80.0, 1e-7),
    ("polygamma_2", lambda t: ac.polygamma(2, t), lambda t: t.polygamma(2), -30.0, 80.0, 1e-11),
    ("polygamma_4", lambda t: ac.polygamma(4, t), lambda t: t.polygamma(4), -30.0, 80.0, 1e-11),
    ("i0", lambda t: t.i0(), torch.special.i0, -700.0, 700.0, 1e-13),
    ("i1", ac.special.i1, torch.special.i1, -700.0, 700.0, 1e-13),
    ("log_ndtr", ac.special.log_ndtr, torch.special.log_ndtr, -60.0, 10.0, 1e-13),
    ("ndtr", ac.special.ndtr, torch.special.ndtr, -8.0, 10.0, 1e-13),
    ("i0e", ac.special.i0e, torch.special.i0e, -700.0, 700.0, 1e-13),
    ("i1e", ac.special.i1e, torch.special.i1e, -700.0, 700.0, 1e-13),
    # NOTE: PyTorch's erfcx (Faddeeva's) is off by up to 6e-14 near 1; ours by 1e-15
    ("erfcx", ac.special.erfcx, torch.special.erfcx, -30.0, 30.0, 1e-13),
]


@pytest.mark.parametrize(
    ("ours", "theirs", "low", "high", "rtol"), [c[1:] for c in UNARY], ids=[c[0] for c in UNARY]
)
def test_special_functions_and_gradients_match_pytorch_in_float64(
    ours, theirs, low: float, high: float, rtol: float
) -> None:
    rng = np.random.default_rng(0)
    values = _wide(rng, low, high)
    values = values[(low <= values) & (values <= high)]
    mine = ac.tensor(values, dtype=ac.float64, req_grad=True)
    reference = torch.tensor(values, requires_grad=True)
    out, expected = ours(mine), theirs(reference)
    atol = 1e-16 if theirs is torch.special.ndtr else 1e-300
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=rtol, atol=atol)
    cotangent = rng.standard_normal(values.shape)
    out.backward(cotangent)
    expected.backward(torch.tensor(cotangent))
    np.testing.assert_allclose(mine.grad, reference.grad.numpy(), rtol=1e-7, atol=atol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_inverse_functions_match_pytorch(dtype) -> None:
    tight = 1e-14 if dtype == np.float64 else 1e-6
    y = np.concatenate([np.linspace(-0.9999, 0.9999, 999), [1.0, -1.0, 0.0, 1 - 1e-7]])
    y = y.astype(dtype)
    np.testing.assert_allclose(
        ac.erfinv(ac.tensor(y)).numpy(), torch.erfinv(torch.tensor(y)).numpy(), rtol=tight
    )
    p = np.concatenate([10.0 ** -np.linspace(0.1, 30, 300), np.linspace(0, 1, 101)]).astype(dtype)
    np.testing.assert_allclose(
        ac.special.ndtri(ac.tensor(p)).numpy(),
        torch.special.ndtri(torch.tensor(p)).numpy(),
        rtol=tight,
    )


def test_special_values_match_pytorch() -> None:
    points = [0.0, -0.0, -1.0, -3.0, math.inf, -math.inf, math.nan, 1e-300, 1e300]
    x = np.array(points)
    mine, theirs = ac.tensor(x, dtype=ac.float64), torch.tensor(x)
    pairs = [
        (mine.lgamma(), theirs.lgamma()),
        (mine.digamma(), theirs.digamma()),
        # PyTorch's trigamma gives large finite values at -1, -2, ...: 1 / sin(pi x)**2
        (mine.polygamma(1)[:2], theirs.polygamma(1)[:2]),
        (mine.polygamma(2)[:4], theirs.polygamma(2)[:4]),
        # PyTorch's i0 is NaN at +-inf (inf / inf inside), ours the limit, inf
        (mine.i0()[:4], theirs.i0()[:4]),
        (ac.special.entr(mine), torch.special.entr(theirs)),
        (ac.special.ndtr(mine), torch.special.ndtr(theirs)),
        (ac.special.log_ndtr(mine), torch.special.log_ndtr(theirs)),
    ]
    for i, (a, b) in enumerate(pairs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-14, err_msg=str(i))
    assert np.isposinf(mine.i0()[4:6].numpy()).all()
    np.testing.assert_array_equal(
        ac.mvlgamma(ac.tensor([2.5, 4.0], dtype=ac.float64), 3).numpy(),
        torch.mvlgamma(torch.tensor([2.5, 4.0], dtype=torch.float64), 3).numpy(),
    )
    for name in ("entr", "log_ndtr", "ndtri"):
        x = np.array([0.0, 0.3, 2.0, -1.0]) if name == "entr" else np.array([0.0, 0.3, 0.9])
        mine = ac.tensor(x, dtype=ac.float64, req_grad=True)
        theirs = torch.tensor(x, requires_grad=True)
        getattr(ac.special, name)(mine).sum().backward()
        getattr(torch.special, name)(theirs).sum().backward()
        np.testing.assert_allclose(mine.grad, theirs.grad.numpy(), rtol=1e-14, err_msg=name)
    a, b = np.array([0.0, 0.0, 2.0]), np.array([-1.0, 3.0, 0.5])
    np.testing.assert_allclose(
        ac.special.xlog1py(ac.tensor(a), ac.tensor(b)).numpy(),
        torch.special.xlog1py(torch.tensor(a), torch.tensor(b)).numpy(),
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logit_at_and_near_0_and_1_matches_pytorch(dtype) -> None:
    p = np.array([0.0, 1e-30, 1e-7, 0.3, 0.5, 1 - 1e-7, 1.0], dtype)
    mine, theirs = ac.tensor(p, req_grad=True), torch.tensor(p, requires_grad=True)
    with np.errstate(divide="ignore"):
        out = mine.logit()
        out.backward(np.ones_like(p))
    expected = theirs.logit()
    expected.backward(torch.ones_like(expected))
    rtol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=rtol)
    np.testing.assert_allclose(mine.grad, theirs.grad.numpy(), rtol=rtol)


def test_sinc_at_subnormal_and_far_inputs_matches_pytorch() -> None:
    x = np.array([-1e-40, 1e-45, 0.0, 0.3, 1.0, 2.5, 1e4, -1e30], np.float32)
    mine, theirs = ac.tensor(x, req_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = mine.sinc(), theirs.sinc()
    out.backward(np.ones_like(x))
    expected.backward(torch.ones_like(expected))
    tol = {"rtol": 1e-5, "atol": 1e-30}  # NOTE: a slope of order 1e-31 at -1e30
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), **tol)
    np.testing.assert_allclose(mine.grad, theirs.grad.numpy(), **tol)


@pytest.mark.parametrize("name", ["xlogy", "xlog1py"])
def test_xlogy_and_xlog1py_at_infinities_match_pytorch(name: str) -> None:
    x, y = np.array([0.0, 0.0, 2.0, -1.0, 0.0]), np.array([np.inf, 3.0, np.inf, np.inf, 0.5])
    mine = [ac.tensor(x, req_grad=True), ac.tensor(y, req_grad=True)]
    theirs = [torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)]
    out = getattr(ac.special, name)(*mine)
    expected = getattr(torch.special, name)(*theirs)
    np.testing.assert_array_equal(out.numpy(), expected.detach().numpy())
    out.backward(np.ones(5))
    expected.backward(torch.ones(5, dtype=torch.float64))
    # NOTE: not x's slope at (0, inf), log(inf): 0 here, inf in PyTorch
    np.testing.assert_allclose(mine[0].grad[1:], theirs[0].grad.numpy()[1:], rtol=1e-15)
    np.testing.assert_allclose(mine[1].grad, theirs[1].grad.numpy(), rtol=1e-15)


def test_integer_and_bit_functions_match_pytorch() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.integers(-40, 40, 200), rng.integers(-40, 40, 200)
    b[b == 0] = 7
    for name in ("gcd", "lcm"):
        ours = getattr(ac, name)(ac.tensor(a), ac.tensor(b))
        theirs = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
        assert ours.tolist() == theirs.tolist(), name
    for mode in ("trunc", "floor"):
        ours = ac.div(ac.tensor(a), ac.tensor(b), rounding_mode=mode)
        theirs = torch.div(torch.tensor(a), torch.tensor(b), rounding_mode=mode)
        assert ours.tolist() == theirs.tolist() and str(ours.dtype) == "int64", mode
        x, y = rng.standard_normal(100) * 10, rng.standard_normal(100)
        ours = ac.tensor(x).divide(ac.tensor(y), rounding_mode=mode)
        theirs = torch.tensor(x).divide(torch.tensor(y), rounding_mode=mode)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    x = np.array([3.0, -0.375, 0.0, 1e-40, 1e38, -np.inf], dtype=np.float32)
    ours, theirs = ac.frexp(ac.tensor(x[:5])), torch.frexp(torch.tensor(x[:5]))
    np.testing.assert_array_equal(ours.mantissa.numpy(), theirs.mantissa.numpy())
    np.testing.assert_array_equal(ours.exponent.numpy(), theirs.exponent.numpy())
    towards = np.array([4.0, 0.0, -1.0, 0.0, np.inf, 0.0], dtype=np.float32)
    np.testing.assert_array_equal(
        ac.nextafter(ac.tensor(x), ac.tensor(towards)).numpy(),
        torch.nextafter(torch.tensor(x), torch.tensor(towards)).numpy(),
    )
    e = np.array([3, -2, 0])
    for mine, theirs in [
        (ac.ldexp(ac.ones(3), ac.tensor(e)), torch.ldexp(torch.ones(3), torch.tensor(e))),
        (ac.float_power(ac.tensor([2, 3]), 2), torch.float_power(torch.tensor([2, 3]), 2)),
        (ac.tensor([2.0]).float_power(0.5), torch.tensor([2.0]).float_power(0.5)),
    ]:
        assert str(mine.dtype) == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_array_equal(
        ac.ldexp(ac.tensor([1.5, 2.0, 3.0]), ac.tensor(e)).numpy(),
        torch.ldexp(torch.tensor([1.5, 2.0, 3.0]), torch.tensor(e)).numpy(),
    )


def test_fmax_fmin_with_nan_and_ties_match_pytorch() -> None:
    nan = math.nan
    a = np.array([1.0, nan, nan, 2.0, 3.0, -1.0])
    b = np.array([nan, 4.0, nan, 2.0, 1.0, 5.0])
    for name in ("fmax", "fmin"):
        mine = [ac.tensor(v, dtype=ac.float64, req_grad=True) for v in (a, b)]
        theirs = [torch.tensor(v, requires_grad=True) for v in (a, b)]
        out, expected = getattr(ac, name)(*mine), getattr(torch, name)(*theirs)
        np.testing.assert_array_equal(out.numpy(), expected.detach().numpy())
        out.sum().backward()
        expected.sum().backward()
        for ours, reference in zip(mine, theirs, strict=True):
            np.testing.assert_array_equal(ours.grad, reference.grad.numpy(), err_msg=name)


def test_products_with_beta_zero_and_nan_input_match_pytorch() -> None:
    rng = np.random.default_rng(2)
    m, v, w = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal(3)
    batch1, batch2 = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4, 5))
    calls = [
        ("addmv", (3,), (m, v)),
        ("addr", (3, 4), (w, v)),
        ("addmm", (3, 4), (m, np.eye(4))),
        ("baddbmm", (2, 3, 5), (batch1, batch2)),
        ("addbmm", (3, 5), (batch1, batch2)),
    ]
    for name, shape, args in calls:
        x = np.full(shape, math.nan)
        mine = ac.tensor(x, dtype=ac.float64, req_grad=True)
        theirs = torch.tensor(x, requires_grad=True)
        out = getattr(mine, name)(*(ac.tensor(a, dtype=ac.float64) for a in args), beta=0)
        expected = getattr(theirs, name)(*(torch.tensor(a) for a in args), beta=0)
        np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-12)
        out.sum().backward()
        expected.sum().backward()
        np.testing.assert_array_equal(mine.grad, theirs.grad.numpy(), err_msg=name)


def test_chain_matmul_matches_pytorch() -> None:
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s) for s in ((3, 40), (40, 2), (2, 50), (50, 4), (4, 1))]
    mine = [ac.tensor(a, dtype=ac.float64, req_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = ac.chain_matmul(*mine), torch.linalg.multi_dot(theirs)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-12)
    out.sum().backward()
    expected.sum().backward()
    for ours, reference in zip(mine, theirs, strict=True):
        np.testing.assert_allclose(ours.grad, reference.grad.numpy(), rtol=1e-12)


def _incomplete_gamma_points(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    a = np.concatenate([10 ** rng.uniform(-3, 3, 3000), rng.uniform(15, 250, 1000)])
    x = np.concatenate(
        [a[:3000] * 10 ** rng.uniform(-2, 0.7, 3000), a[3000:] * rng.uniform(0.6, 1.4, 1000)]
    )
    return a, x


def test_incomplete_gamma_and_gradients_match_pytorch() -> None:
    rng = np.random.default_rng(0)
    a, x = _incomplete_gamma_points(rng)
    # NOTE: where a is large and x near a, PyTorch's Temme expansion divides by
    # sqrt(2 pi a) with pi in float32: its results are off by up to 2e-9 there (ours agree
    # with mpmath to 1e-13); elsewhere both compute the same series and fractions
    distance = np.abs(x - a) / a
    temme = ((a > 20) & (a < 200) & (distance < 0.3)) | ((a > 200) & (distance < 4.5 / np.sqrt(a)))
    assert temme.sum() > 500 and (~temme).sum() > 2000
    for ours, theirs in (
        (ac.special.gammainc, torch.special.gammainc),
        (ac.special.gammaincc, torch.special.gammaincc),
    ):
        mine = ac.tensor(x, req_grad=True)
        reference = torch.tensor(x, requires_grad=True)
        out, expected = ours(ac.tensor(a), mine), theirs(torch.tensor(a), reference)
        got, want = out.numpy(), expected.detach().numpy()
        # NOTE: below 1e-50, x**a exp(-x) / gamma(a) is the exponential of a large number
        # whose rounding both make (ours through Stirling's series): 2e-12 apart there
        tiny = want < 1e-50
        np.testing.assert_allclose(got[~temme & ~tiny], want[~temme & ~tiny], rtol=1e-12)
        np.testing.assert_allclose(got[~temme & tiny], want[~temme & tiny], rtol=1e-11, atol=1e-300)
        np.testing.assert_allclose(got[temme], want[temme], rtol=5e-9)
        cotangent = rng.standard_normal(x.shape)
        out.backward(cotangent)
        expected.backward(torch.tensor(cotangent))
        np.testing.assert_allclose(mine.grad, reference.grad.numpy(), rtol=1e-10, atol=1e-300)
        in_float32 = ours(ac.tensor(a, dtype=ac.float32), ac.tensor(x, dtype=ac.float32))
        assert in_float32.dtype == ac.float32
        # NOTE: PyTorch computes float32 in float32 (off by up to 3e-4); ours is float64 rounded
        reference32 = theirs(
            torch.tensor(a.astype(np.float32)).double(), torch.tensor(x.astype(np.float32)).double()
        )
        np.testing.assert_allclose(
            in_float32.numpy(), reference32.numpy().astype(np.float32), rtol=2e-6, atol=1e-37
        )
    nan, inf = math.nan, math.inf
    edges_a = np.array([0.0, 0.0, -1.0, 1.0, 1.0, inf, inf, 1.0, 2.0, nan, 1.0])
    edges_x = np.array([1.0, 0.0, 1.0, -1.0, 0.0, 1.0, inf, inf, inf, 1.0, nan])
    for ours, theirs in (
        (ac.special.gammainc, torch.special.gammainc),
        (ac.special.gammaincc, torch.special.gammaincc),
    ):
        np.testing.assert_array_equal(
            ours(ac.tensor(edges_a), ac.tensor(edges_x)).numpy(),
            theirs(torch.tensor(edges_a), torch.tensor(edges_x)).numpy(),
        )
        for lib, fn in ((torch, theirs), (ac, ours)):
            a_, x_ = lib.tensor([2.0], requires_grad=True), lib.tensor([1.0])
            with pytest.raises(NotImplementedError):
                fn(a_, x_).sum().backward()


def test_zeta_and_its_gradient_match_pytorch() -> None:
    rng = np.random.default_rng(1)
    s = np.concatenate([rng.uniform(1.001, 60, 2000), 1 + 10 ** rng.uniform(-4, 0, 200)])
    q = np.concatenate([10 ** rng.uniform(-3, 4, 2000), rng.uniform(0.01, 10, 200)])
    mine, reference = ac.tensor(q, req_grad=True), torch.tensor(q, requires_grad=True)
    out = ac.special.zeta(ac.tensor(s), mine)
    expected = torch.special.zeta(torch.tensor(s), reference)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-13, atol=1e-300)
    cotangent = rng.standard_normal(s.shape)
    out.backward(cotangent)
    expected.backward(torch.tensor(cotangent))
    np.testing.assert_allclose(mine.grad, reference.grad.numpy(), rtol=1e-12, atol=1e-300)
    nan, inf = math.nan, math.inf
    # NOTE: not x = inf with q > 1 nor q = inf, where PyTorch's Euler-Maclaurin tail gives
    # NaN (inf * 0); ours gives the limit, 0
    edge_s = np.array([1.0, 0.5, 2.0, 2.0, 2.0, 2.5, 3.0, 3.0, inf, inf, 2.0, nan])
    edge_q = np.array([1.0, 1.0, 0.0, -1.0, -1.5, -1.5, -2.5, 1e-300, 0.5, 1.0, -100.5, 1.0])
    np.testing.assert_allclose(
        ac.special.zeta(ac.tensor(edge_s), ac.tensor(edge_q)).numpy(),
        torch.special.zeta(torch.tensor(edge_s), torch.tensor(edge_q)).numpy(),
        rtol=1e-14,
    )
    in_float32 = ac.special.zeta(
        ac.tensor(s[:2000], dtype=ac.float32), ac.tensor(q[:2000], dtype=ac.float32)
    )
    reference32 = torch.special.zeta(
        torch.tensor(s[:2000], dtype=torch.float32), torch.tensor(q[:2000], dtype=torch.float32)
    )
    np.testing.assert_allclose(in_float32.numpy(), reference32.numpy(), rtol=1e-6, atol=1e-37)
    assert ac.special.zeta(2.0, ac.tensor([1.0, 2.0])).tolist() == pytest.approx(
        torch.special.zeta(2.0, torch.tensor([1.0, 2.0])).tolist(), rel=1e-6
    )
    for lib in (torch, ac):
        with pytest.raises(NotImplementedError):
            lib.special.zeta(
                lib.tensor([2.0], requires_grad=True), lib.tensor([1.0])
            ).sum().backward()
