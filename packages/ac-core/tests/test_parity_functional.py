"""ac.autograd.functional and ac.func against torch.autograd.functional and torch.func:
values, result nesting and strict-mode errors, in float32."""

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import auto_compyute as ac
import auto_compyute.autograd.functional as AF

pytestmark = [
    pytest.mark.parity,
    pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning"),
]
torch = pytest.importorskip("torch")
TF = pytest.importorskip("torch.autograd.functional")

RTOL, ATOL = 1e-4, 1e-5


def _both(arrays: list[np.ndarray]) -> tuple[tuple[ac.Tensor, ...], tuple[Any, ...]]:
    ours = tuple(ac.tensor(a, dtype=ac.float32) for a in arrays)
    theirs = tuple(torch.tensor(a, dtype=torch.float32) for a in arrays)
    return ours, theirs


def _assert_same(ours: Any, theirs: Any) -> None:
    """Same nesting of tuples, same shapes, same values."""
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for o, t in zip(ours, theirs, strict=True):
            _assert_same(o, t)
        return
    assert isinstance(ours, ac.Tensor), type(ours)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=RTOL, atol=ATOL)


# functions written with methods both libraries have
def _one_to_one(x):
    return (x.sin() * x.sum()).tanh()


def _two_to_one(x, y):
    return (x @ y).exp().sum(dim=1) * x.sum()


def _one_to_two(x):
    return x.exp().sum(dim=0), x.cos()


def _two_to_two(x, y):
    return x * y.sum(), (y**2).sum()


def _scalar_one(x):
    return (x**3).sum() + (x.sin() * x).sum()


def _scalar_two(x, y):
    return ((x @ y).tanh() ** 2).sum() + (y**3).sum()


CASES = {
    "one_to_one": (_one_to_one, [(2, 3)]),
    "two_to_one": (_two_to_one, [(2, 3), (3, 2)]),
    "one_to_two": (_one_to_two, [(3, 2)]),
    "two_to_two": (_two_to_two, [(3,), (2, 2)]),
}
SCALAR_CASES = {"scalar_one": (_scalar_one, [(4,)]), "scalar_two": (_scalar_two, [(2, 3), (3,)])}


def _inputs(shapes: list[tuple[int, ...]], single: bool, seed: int = 0) -> tuple[Any, Any]:
    rng = np.random.default_rng(seed)
    ours, theirs = _both([rng.standard_normal(s) for s in shapes])
    return (ours[0], theirs[0]) if single else (ours, theirs)


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("create_graph", [False, True])
def test_jacobian(name: str, create_graph: bool) -> None:
    f, shapes = CASES[name]
    for single in [True, False] if len(shapes) == 1 else [False]:
        ours, theirs = _inputs(shapes, single)
        _assert_same(
            AF.jacobian(f, ours, create_graph=create_graph),
            TF.jacobian(f, theirs, create_graph=create_graph),
        )


@pytest.mark.parametrize("name", CASES)
def test_vjp_and_jvp(name: str) -> None:
    f, shapes = CASES[name]
    rng = np.random.default_rng(1)
    ours, theirs = _inputs(shapes, single=len(shapes) == 1)
    out = f(*(theirs if isinstance(theirs, tuple) else (theirs,)))
    outs = out if isinstance(out, tuple) else (out,)
    u_ours, u_theirs = _both([rng.standard_normal(tuple(o.shape)) for o in outs])
    as_v = (lambda v: v) if isinstance(out, tuple) else (lambda v: v[0])
    _assert_same(AF.vjp(f, ours, as_v(u_ours)), TF.vjp(f, theirs, as_v(u_theirs)))
    v_ours, v_theirs = _both([rng.standard_normal(s) for s in shapes])
    as_v = (lambda v: v) if len(shapes) > 1 else (lambda v: v[0])
    _assert_same(AF.jvp(f, ours, as_v(v_ours)), TF.jvp(f, theirs, as_v(v_theirs)))


@pytest.mark.parametrize(
    ("name", "single"), [("scalar_one", True), ("scalar_one", False), ("scalar_two", False)]
)
def test_hessian_hvp_vhp(name: str, single: bool) -> None:
    f, shapes = SCALAR_CASES[name]
    ours, theirs = _inputs(shapes, single)
    _assert_same(AF.hessian(f, ours), TF.hessian(f, theirs))
    rng = np.random.default_rng(2)
    v_ours, v_theirs = _both([rng.standard_normal(s) for s in shapes])
    if single:
        v_ours, v_theirs = v_ours[0], v_theirs[0]
    _assert_same(AF.hvp(f, ours, v_ours), TF.hvp(f, theirs, v_theirs))
    _assert_same(AF.vhp(f, ours, v_ours), TF.vhp(f, theirs, v_theirs))


def test_create_graph_second_derivatives() -> None:
    rng = np.random.default_rng(3)
    (x,), (tx,) = _both([rng.standard_normal((3,))])
    x.req_grad, tx.requires_grad = True, True
    _, g = AF.vjp(_scalar_one, x, create_graph=True)
    _, tg = TF.vjp(_scalar_one, tx, create_graph=True)
    _assert_same(ac.autograd.grad((g**2).sum(), x), torch.autograd.grad((tg**2).sum(), tx))
    h = AF.hessian(_scalar_one, x, create_graph=True)
    th = TF.hessian(_scalar_one, tx, create_graph=True)
    _assert_same(ac.autograd.grad(h.sum(), x), torch.autograd.grad(th.sum(), tx))


def _error(call: Callable[[], Any]) -> tuple[type, str]:
    try:
        call()
    except Exception as error:
        return type(error), str(error)
    return type(None), ""


@pytest.mark.parametrize(
    "call",
    [
        lambda F, x, y: F.jacobian(lambda a, b: a.exp(), (x, y), strict=True),
        lambda F, x, y: F.vjp(lambda a, b: a.exp().sum(), (x, y), strict=True),
        lambda F, x, y: F.hessian(lambda a: a.sum(), x, strict=True),
        lambda F, x, y: F.hvp(lambda a: (a**2).sum(), x, x[:2], strict=True),
        lambda F, x, y: F.vjp(lambda a: a * 2, x),
        lambda F, x, y: F.jvp(lambda a, b: a, (x, y), (x,)),
        lambda F, x, y: F.hessian(lambda a: a * 2, x),
        lambda F, x, y: F.jacobian(lambda a: a, (x, 1.0)),
    ],
)
def test_errors_match(call: Callable[..., Any]) -> None:
    (x, y), (tx, ty) = _both([np.ones(3), np.ones(2)])
    ours, theirs = _error(lambda: call(AF, x, y)), _error(lambda: call(TF, tx, ty))
    assert ours[0] is theirs[0] and ours[0] is not type(None)

    # the same message up to the names of the libraries' types and shape spellings
    def normalize(s: str) -> str:
        return s.replace("torch.Size([3])", "(3,)").replace("torch.Size([2])", "(2,)")

    if "has type" not in ours[1]:
        assert normalize(ours[1]).startswith(normalize(theirs[1])[:60])


# ------------------------------------------------------------------ ac.func vs torch.func
def test_func_transforms() -> None:
    rng = np.random.default_rng(4)
    (x, y), (tx, ty) = _both([rng.standard_normal((2, 3)), rng.standard_normal((3,))])
    _assert_same(ac.func.grad(_scalar_two)(x, y), torch.func.grad(_scalar_two)(tx, ty))
    _assert_same(
        ac.func.grad(_scalar_two, argnums=(0, 1))(x, y),
        torch.func.grad(_scalar_two, argnums=(0, 1))(tx, ty),
    )
    _assert_same(
        ac.func.grad_and_value(_scalar_two, argnums=1)(x, y),
        torch.func.grad_and_value(_scalar_two, argnums=1)(tx, ty),
    )
    _assert_same(
        ac.func.jacrev(_two_to_two, argnums=(0, 1))(y, x),
        torch.func.jacrev(_two_to_two, argnums=(0, 1))(ty, tx),
    )
    _assert_same(ac.func.jacrev(_one_to_one)(x), torch.func.jacrev(_one_to_one)(tx))
    _assert_same(ac.func.hessian(_scalar_one)(y), torch.func.hessian(_scalar_one)(ty))
    _assert_same(
        ac.func.hessian(_scalar_two, argnums=(0, 1))(x, y),
        torch.func.hessian(_scalar_two, argnums=(0, 1))(tx, ty),
    )
    s, ts = ac.tensor(0.3), torch.tensor(0.3)
    nested = ac.func.grad(ac.func.grad(lambda t: t.sin() * t))(s)
    _assert_same(nested, torch.func.grad(torch.func.grad(lambda t: t.sin() * t))(ts))
    # closures are constants in both
    _assert_same(
        ac.func.grad(lambda a: (a * y).sum())(y), torch.func.grad(lambda a: (a * ty).sum())(ty)
    )


def test_func_vjp() -> None:
    rng = np.random.default_rng(5)
    (x, y, u), (tx, ty, tu) = _both(
        [rng.standard_normal((2, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)]
    )
    out, fn = ac.func.vjp(_two_to_one, x, y)
    tout, tfn = torch.func.vjp(_two_to_one, tx, ty)
    _assert_same(out, tout)
    _assert_same(fn(u), tfn(tu))
