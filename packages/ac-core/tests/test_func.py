"""ac.func: gradient, Jacobian and Hessian transforms against closed forms."""

import numpy as np
import pytest

import auto_compyute as ac


def _t(rng: np.random.Generator, *shape: int, req_grad: bool = False) -> ac.Tensor:
    return ac.tensor(rng.standard_normal(shape), dtype=ac.float64, req_grad=req_grad)


def test_grad_of_a_scalar_function(rng) -> None:
    x, y = _t(rng, 3), _t(rng, 3)
    g = ac.func.grad(lambda a, b: (a**3 * b).sum())(x, y)
    np.testing.assert_allclose(g.numpy(), 3 * x.numpy() ** 2 * y.numpy(), rtol=1e-12)
    assert not g.req_grad
    _, gy = ac.func.grad(lambda a, b: (a**3 * b).sum(), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gy.numpy(), x.numpy() ** 3, rtol=1e-12)
    (gb,) = ac.func.grad(lambda a, b: (a**3 * b).sum(), argnums=(-1,))(x, y)
    np.testing.assert_array_equal(gb.numpy(), gy.numpy())
    # an argument the function does not use gets zeros
    np.testing.assert_array_equal(ac.func.grad(lambda a, b: a.sum(), 1)(x, y).numpy(), 0)


def test_grad_and_value_and_aux(rng) -> None:
    x = _t(rng, 3)

    def f(a: ac.Tensor):
        return (a**2).sum(), {"norm": a.abs().max()}

    g, (value, aux) = ac.func.grad_and_value(f, has_aux=True)(x)
    np.testing.assert_allclose(g.numpy(), 2 * x.numpy())
    np.testing.assert_allclose(value.numpy(), (x.numpy() ** 2).sum())
    assert aux["norm"].item() == np.abs(x.numpy()).max() and not value.req_grad
    g, aux = ac.func.grad(f, has_aux=True)(x)
    assert set(aux) == {"norm"}


def test_transforms_nest_and_closures_are_constants(rng) -> None:
    s = ac.tensor(0.7, dtype=ac.float64)
    third = ac.func.grad(ac.func.grad(ac.func.grad(lambda t: t.sin())))(s)
    np.testing.assert_allclose(third.item(), -np.cos(0.7), rtol=1e-12)
    x = _t(rng, 3)
    # torch.func semantics: the closure's x is a constant even though it is the argument
    np.testing.assert_array_equal(ac.func.grad(lambda y: (y * x).sum())(x).numpy(), x.numpy())
    # the caller's graph is kept: the gradient can be differentiated with backward
    xr = _t(rng, 3, req_grad=True)
    g = ac.func.grad(lambda t: (t**3).sum())(xr)
    assert g.req_grad
    g.sum().backward()
    np.testing.assert_allclose(xr.grad, 6 * xr.numpy(), rtol=1e-12)


def test_jacrev_and_hessian_shapes_and_values(rng) -> None:
    x, y = _t(rng, 3), _t(rng, 2)
    jac = ac.func.jacrev(lambda a: a.sin())(x)
    np.testing.assert_allclose(jac.numpy(), np.diag(np.cos(x.numpy())), atol=1e-12)
    jac = ac.func.jacrev(lambda a, b: (a.sum() * b, a.exp()), argnums=(0, 1))(x, y)
    assert [[j.shape for j in row] for row in jac] == [[(2, 3), (2, 2)], [(3, 3), (3, 2)]]
    np.testing.assert_array_equal(jac[1][1].numpy(), 0)
    jac, aux = ac.func.jacrev(lambda a: (a**2, "aux"), has_aux=True)(x)
    assert aux == "aux" and jac.shape == (3, 3)
    h = ac.func.hessian(lambda a: (a**3).sum() + a[0] * a[1])(x)
    expected = np.diag(6 * x.numpy())
    expected[0, 1] = expected[1, 0] = 1
    np.testing.assert_allclose(h.numpy(), expected, rtol=1e-12)
    h = ac.func.hessian(lambda a, b: (a.exp().sum() * b**2).sum(), argnums=(0, 1))(x, y)
    assert [[b.shape for b in row] for row in h] == [[(3, 3), (3, 2)], [(2, 3), (2, 2)]]


def test_vjp_returns_a_reusable_function(rng) -> None:
    x, y = _t(rng, 2, 3), _t(rng, 3)
    out, vjp_fn = ac.func.vjp(lambda a, b: (a * b).tanh(), x, y)
    np.testing.assert_allclose(out.numpy(), np.tanh(x.numpy() * y.numpy()))
    for _ in range(2):
        u = _t(rng, 2, 3)
        gx, gy = vjp_fn(u)
        d = (1 - out.numpy() ** 2) * u.numpy()
        np.testing.assert_allclose(gx.numpy(), d * y.numpy(), rtol=1e-12)
        np.testing.assert_allclose(gy.numpy(), (d * x.numpy()).sum(0), rtol=1e-12)
    (_, vjp_fn, aux) = ac.func.vjp(lambda a: ((a.exp(), a.sum()), 5), y, has_aux=True)
    assert aux == 5
    (g,) = vjp_fn((ac.ones(3, dtype=ac.float64), ac.tensor(2.0, dtype=ac.float64)))
    np.testing.assert_allclose(g.numpy(), np.exp(y.numpy()) + 2, rtol=1e-12)
    with pytest.raises(RuntimeError, match=r"cotangent 0 must be a Tensor of shape \(3,\)"):
        vjp_fn((ac.ones(2, dtype=ac.float64), ac.tensor(2.0, dtype=ac.float64)))


def test_bad_arguments_raise(rng) -> None:
    x = _t(rng, 3)
    with pytest.raises(RuntimeError, match="Expected f\\(\\*args\\) to return a scalar Tensor"):
        ac.func.grad(lambda a: a * 2)(x)
    with pytest.raises(RuntimeError, match="return a Tensor, got float"):
        ac.func.grad(lambda a: 2.0)(x)
    with pytest.raises(RuntimeError, match="should be a tuple: \\(output, aux\\)"):
        ac.func.grad(lambda a: a.sum(), has_aux=True)(x)
    with pytest.raises(ValueError, match="argnums 2 is out of range"):
        ac.func.grad(lambda a: a.sum(), argnums=2)(x)
    with pytest.raises(TypeError, match="argnums must be an int"):
        ac.func.jacrev(lambda a: a, argnums=[0])(x)
    with pytest.raises(TypeError, match="argument 0 to differentiate must be a floating-point"):
        ac.func.grad(lambda a: a.sum())(ac.arange(3))
