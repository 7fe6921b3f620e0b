"""ac.autograd.functional: Jacobians, Hessians and vector products against closed forms and
central finite differences, PyTorch's shape conventions and its strict-mode errors."""

import numpy as np
import pytest

import auto_compyute as ac
from auto_compyute.autograd.functional import hessian, hvp, jacobian, jvp, vhp, vjp


def _t(rng: np.random.Generator, *shape: int, req_grad: bool = False) -> ac.Tensor:
    return ac.tensor(rng.standard_normal(shape), dtype=ac.float64, req_grad=req_grad)


def _numeric_jacobian(f, arrays: list[np.ndarray], wrt: int, eps: float = 1e-6) -> np.ndarray:
    """d f(*arrays) / d arrays[wrt] by central differences, shaped out.shape + in.shape."""
    base = [a.copy() for a in arrays]
    out_shape = f(*base).shape
    x = base[wrt]
    jac = np.zeros((*out_shape, x.size))
    for k in range(x.size):
        plus = [a.copy() for a in base]
        minus = [a.copy() for a in base]
        plus[wrt].reshape(-1)[k] += eps
        minus[wrt].reshape(-1)[k] -= eps
        jac[..., k] = (f(*plus) - f(*minus)) / (2 * eps)
    return jac.reshape(*out_shape, *x.shape)


def _ours_as_numpy(f):
    return lambda *arrays: f(*[ac.tensor(a) for a in arrays]).numpy()


def _f2(x: ac.Tensor, y: ac.Tensor) -> ac.Tensor:
    return (x.sin() @ y).tanh() * x.sum()


def test_jacobian_single_input_single_output_closed_form(rng) -> None:
    x = _t(rng, 4)
    jac = jacobian(lambda t: t.sin(), x)
    assert jac.shape == (4, 4)
    np.testing.assert_allclose(jac.numpy(), np.diag(np.cos(x.numpy())), atol=1e-12)
    assert not jac.req_grad


def test_jacobian_matches_finite_differences_for_tuples(rng) -> None:
    x, y = _t(rng, 2, 3), _t(rng, 3, 2)
    jac = jacobian(_f2, (x, y))
    assert isinstance(jac, tuple) and len(jac) == 2
    assert jac[0].shape == (2, 2, 2, 3) and jac[1].shape == (2, 2, 3, 2)
    arrays = [x.numpy(), y.numpy()]
    for i in range(2):
        expected = _numeric_jacobian(_ours_as_numpy(_f2), arrays, i)
        np.testing.assert_allclose(jac[i].numpy(), expected, atol=1e-7)


def test_jacobian_nesting_follows_pytorch(rng) -> None:
    x, y = _t(rng, 3), _t(rng, 2)
    # tuple of outputs, single input: a tuple over the outputs
    jac = jacobian(lambda t: (t.exp(), t.sum()), x)
    assert [j.shape for j in jac] == [(3, 3), (3,)]
    # tuple of outputs and of inputs: outputs outside, inputs inside
    jac = jacobian(lambda a, b: (a * b.sum(), b**2), (x, y))
    assert [[j.shape for j in row] for row in jac] == [[(3, 3), (3, 2)], [(2, 3), (2, 2)]]
    np.testing.assert_allclose(jac[1][1].numpy(), np.diag(2 * y.numpy()))
    # a scalar output of a scalar input: a 0-d Jacobian
    assert jacobian(lambda t: t * t, ac.tensor(3.0, dtype=ac.float64)).shape == ()
    # a one-element tuple of inputs stays a tuple
    assert isinstance(jacobian(lambda t: t.exp(), (x,)), tuple)


def test_unused_inputs_give_zeros_and_strict_raises(rng) -> None:
    x, y = _t(rng, 3), _t(rng, 2)
    jac = jacobian(lambda a, b: a.exp(), (x, y))
    np.testing.assert_array_equal(jac[1].numpy(), np.zeros((3, 2)))
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function is independent"):
        jacobian(lambda a, b: a.exp(), (x, y), strict=True)
    with pytest.raises(RuntimeError, match="does not require gradients"):
        jacobian(lambda a: ac.ones(3, dtype=ac.float64), x, strict=True)
    _, grads = vjp(lambda a, b: a.exp().sum(), (x, y))
    np.testing.assert_array_equal(grads[1].numpy(), np.zeros(2))
    with pytest.raises(RuntimeError, match="independent of input 1"):
        vjp(lambda a, b: a.exp().sum(), (x, y), strict=True)
    with pytest.raises(RuntimeError, match="jacobian of the user-provided function with respect"):
        hessian(lambda a: a.sum(), x, strict=True)  # linear: the gradient is constant
    h = hessian(lambda a: a.sum(), x)
    np.testing.assert_array_equal(h.numpy(), np.zeros((3, 3)))


def test_vjp_and_jvp_are_products_with_the_jacobian(rng) -> None:
    x, y = _t(rng, 2, 3), _t(rng, 3, 2)
    u, v = _t(rng, 2, 2), (_t(rng, 2, 3), _t(rng, 3, 2))
    jac = [j.numpy() for j in jacobian(_f2, (x, y))]
    out, grads = vjp(_f2, (x, y), u)
    np.testing.assert_allclose(out.numpy(), _f2(x, y).numpy())
    for g, j in zip(grads, jac, strict=True):
        np.testing.assert_allclose(g.numpy(), np.tensordot(u.numpy(), j, 2), rtol=1e-12)
    out, tangent = jvp(_f2, (x, y), v)
    expected = sum(np.tensordot(j, w.numpy(), 2) for j, w in zip(jac, v, strict=True))
    np.testing.assert_allclose(tangent.numpy(), expected, rtol=1e-12)
    assert tangent.shape == out.shape == (2, 2)


def test_v_may_be_omitted_for_one_element_only(rng) -> None:
    x = _t(rng, 3)
    _, grad = vjp(lambda t: (t**2).sum(), x)
    np.testing.assert_allclose(grad.numpy(), 2 * x.numpy())
    with pytest.raises(RuntimeError, match="v can only be None"):
        vjp(lambda t: t**2, x)
    s = ac.tensor([0.5], dtype=ac.float64)
    _, tangent = jvp(lambda t: t.exp() * ac.ones(3, dtype=ac.float64), s)
    np.testing.assert_allclose(tangent.numpy(), np.exp(0.5) * np.ones(3))
    with pytest.raises(RuntimeError, match="v can only be None"):
        jvp(lambda t: t.exp(), x)


def test_bad_arguments_raise(rng) -> None:
    x = _t(rng, 3)
    with pytest.raises(TypeError, match="inputs given to jacobian must be either a Tensor"):
        jacobian(lambda t: t, np.ones(3))
    with pytest.raises(TypeError, match="value at index 1"):
        jacobian(lambda a, b: a, (x, 2.0))
    with pytest.raises(TypeError, match="outputs of the user-provided function"):
        vjp(lambda t: 3.0, x)
    with pytest.raises(RuntimeError, match=r"v has invalid size: should be \(3,\) but got \(2,\)"):
        vjp(lambda t: t.exp(), x, ac.ones(2, dtype=ac.float64))
    with pytest.raises(RuntimeError, match="v is a tuple of invalid length: should be 2"):
        jvp(lambda a, b: a * b, (x, x), (x,))
    with pytest.raises(RuntimeError, match="should contain a single element"):
        hessian(lambda t: t**2, x)
    with pytest.raises(RuntimeError, match="should return a single Tensor"):
        hvp(lambda t: (t.sum(), t.sum()), x, x)
    with pytest.raises(NotImplementedError, match="forward-mode"):
        jacobian(lambda t: t, x, strategy="forward-mode")
    with pytest.raises(ValueError, match="strategy"):
        jacobian(lambda t: t, x, strategy="sideways")
    with pytest.raises(RuntimeError, match="`strict=True` and `vectorized=True`"):
        jacobian(lambda t: t.exp(), x, strict=True, vectorize=True)


def _quartic(x: ac.Tensor, a: ac.Tensor) -> ac.Tensor:
    """sum(x^4) / 4 + x^T A x / 2 + sin(x0 x1): Hessian diag(3 x^2) + (A + A^T) / 2 + ..."""
    return (x**4).sum() / 4 + (x @ a @ x) / 2 + (x[0] * x[1]).sin()


def _quartic_hessian(x: np.ndarray, a: np.ndarray) -> np.ndarray:
    h = np.diag(3 * x**2) + (a + a.T) / 2
    s, c = np.sin(x[0] * x[1]), np.cos(x[0] * x[1])
    h[0, 0] += -s * x[1] ** 2
    h[1, 1] += -s * x[0] ** 2
    h[0, 1] += c - s * x[0] * x[1]
    h[1, 0] += c - s * x[0] * x[1]
    return h


def test_hessian_closed_form_and_products(rng) -> None:
    x, a, v = _t(rng, 3), _t(rng, 3, 3), _t(rng, 3)
    expected = _quartic_hessian(x.numpy(), a.numpy())
    h = hessian(lambda t: _quartic(t, a), x)
    assert h.shape == (3, 3)
    np.testing.assert_allclose(h.numpy(), expected, rtol=1e-12, atol=1e-12)
    for product in (hvp, vhp):
        value, hv = product(lambda t: _quartic(t, a), x, v)
        np.testing.assert_allclose(value.numpy(), _quartic(x, a).numpy())
        np.testing.assert_allclose(hv.numpy(), expected @ v.numpy(), rtol=1e-12)


def test_hessian_of_two_inputs_is_blockwise(rng) -> None:
    x, y = _t(rng, 2), _t(rng, 3)

    def f(a: ac.Tensor, b: ac.Tensor) -> ac.Tensor:
        return (a.exp().sum() * b**2).sum()

    h = hessian(f, (x, y))
    assert [[b.shape for b in row] for row in h] == [[(2, 2), (2, 3)], [(3, 2), (3, 3)]]
    ex, yy = np.exp(x.numpy()), (y.numpy() ** 2).sum()
    np.testing.assert_allclose(h[0][0].numpy(), np.diag(ex) * yy, rtol=1e-12)
    np.testing.assert_allclose(h[0][1].numpy(), np.outer(ex, 2 * y.numpy()), rtol=1e-12)
    np.testing.assert_allclose(h[1][1].numpy(), 2 * ex.sum() * np.eye(3), rtol=1e-12)
    # a one-input tuple gives a 1x1 tuple of tuples
    assert h[0][0].shape == hessian(lambda a: f(a, y), (x,))[0][0].shape


def test_create_graph_results_can_be_differentiated(rng) -> None:
    x = _t(rng, 3, req_grad=True)
    jac = jacobian(lambda t: t**3, x, create_graph=True)
    assert jac.req_grad
    (second,) = ac.autograd.grad(jac.sum(), x)
    np.testing.assert_allclose(second.numpy(), 6 * x.numpy(), rtol=1e-12)
    _, g = vjp(lambda t: (t**3).sum(), x, create_graph=True)
    (second,) = ac.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(second.numpy(), 6 * x.numpy(), rtol=1e-12)
    # without create_graph nothing is attached, and the input's graph is left alone
    _, g = vjp(lambda t: (t**3).sum(), x)
    assert not g.req_grad and x.grad is None


def test_jacobian_of_a_graph_through_gradcheck_ops(rng) -> None:
    """A Jacobian through reductions, broadcasting and matmul, against finite differences."""
    x, w = _t(rng, 2, 3), _t(rng, 3, 4)

    def f(a: ac.Tensor, b: ac.Tensor) -> ac.Tensor:
        return (a @ b).softmax(dim=-1) * a.mean(dim=1, keepdim=True)

    jac = jacobian(f, (x, w), vectorize=True)
    for i in range(2):
        expected = _numeric_jacobian(_ours_as_numpy(f), [x.numpy(), w.numpy()], i)
        np.testing.assert_allclose(jac[i].numpy(), expected, atol=1e-8)


def _projector(column: ac.Tensor) -> ac.Tensor:
    return column @ column.T


@pytest.mark.parametrize(
    "f",
    [
        lambda a: _projector(ac.linalg.eigh(a)[1][:, :1]),
        lambda a: _projector(ac.linalg.svd(a)[0][:, :1]),
        lambda a: _projector(ac.linalg.svd(a)[2][:1].T),
        lambda a: (ac.linalg.svdvals(a) ** 3).sum(),
    ],
    ids=["eigh_vectors", "svd_u", "svd_vh", "svdvals_cubed"],
)
def test_jvp_through_decompositions_matches_finite_differences(f) -> None:
    """Through eigenvectors and singular vectors (as projectors q q^T: a vector's sign is
    arbitrary, and may flip between the finite differences' two points)."""
    # NOTE: jvp differentiates backward's result at a zero (but recorded) gradient: a
    # decomposition must not skip the vectors' term because that gradient reads 0
    a = ac.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=ac.float64)
    v = ac.tensor([[1.0, 0.5], [0.5, -1.0]], dtype=ac.float64)
    _, tangent = jvp(f, a, v)
    eps = 1e-6
    numeric = (f(a + eps * v).numpy() - f(a - eps * v).numpy()) / (2 * eps)
    np.testing.assert_allclose(tangent.numpy(), numeric, atol=1e-6)
    if f(a).ndim == 0:
        _, product = hvp(f, a, v)
        gradient = lambda t: ac.autograd.grad(f(t), [t])[0].numpy()  # noqa: E731
        shifted = [gradient((a + s * eps * v).requires_grad_()) for s in (1, -1)]
        np.testing.assert_allclose(
            product.numpy(), (shifted[0] - shifted[1]) / (2 * eps), atol=1e-5
        )
