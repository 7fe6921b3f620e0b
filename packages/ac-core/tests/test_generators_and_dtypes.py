"""Generators and random state, dtype facts and promotion, and the small PyTorch-compatible
top-level names: Size, compile, deterministic flags, print options, default device,
empty_strided, frombuffer, asarray, scalar_tensor."""

import warnings
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from test_devices import FakeArray, FakeBackend

import auto_compyute as ac
from auto_compyute._core import devices
from auto_compyute._core.random import STATE_SIZE, get_generator, numpy_generator

FLOATS = [ac.float16, ac.float32, ac.float64]
INTS = [ac.int8, ac.int16, ac.int32, ac.int64, ac.uint8]
ALL = [ac.bool_, *INTS, *FLOATS]

# Each draws a tensor from the generator it is given (None: the global one).
DRAWS: dict[str, Callable[..., ac.Tensor]] = {
    "rand": lambda g: ac.rand(2, 3, generator=g),
    "randn": lambda g: ac.randn(4, generator=g, dtype=ac.float64),
    "randint": lambda g: ac.randint(0, 100, (5,), generator=g),
    "randperm": lambda g: ac.randperm(8, generator=g),
    "normal": lambda g: ac.normal(ac.zeros(4), 2.0, generator=g),
    "bernoulli": lambda g: ac.bernoulli(ac.full((6,), 0.5), generator=g),
    "multinomial": lambda g: ac.multinomial(ac.ones(5), 3, generator=g),
    "multinomial_replacement": lambda g: ac.ones(2, 4).multinomial(6, True, generator=g),
    "poisson": lambda g: ac.poisson(ac.full((5,), 3.0), generator=g),
    "rand_like": lambda g: ac.rand_like(ac.zeros(3), generator=g),
    "randn_like": lambda g: ac.randn_like(ac.zeros(3), generator=g),
    "randint_like": lambda g: ac.randint_like(ac.zeros(3), 10, generator=g),
    "tensor.bernoulli": lambda g: ac.full((6,), 0.3).bernoulli(generator=g),
    "normal_": lambda g: ac.empty(4).normal_(1.0, 2.0, generator=g),
    "uniform_": lambda g: ac.empty(4).uniform_(-1.0, 1.0, generator=g),
    "bernoulli_": lambda g: ac.empty(6).bernoulli_(0.5, generator=g),
    "exponential_": lambda g: ac.empty(4).exponential_(2.0, generator=g),
    "geometric_": lambda g: ac.empty(4).geometric_(0.3, generator=g),
    "cauchy_": lambda g: ac.empty(4).cauchy_(generator=g),
    "log_normal_": lambda g: ac.empty(4).log_normal_(generator=g),
    "random_": lambda g: ac.empty(6, dtype=ac.int64).random_(0, 1000, generator=g),
}


@pytest.fixture(autouse=True)
def _restore_global_state() -> Iterator[None]:
    ac.manual_seed(0)
    yield
    ac.set_printoptions(profile="default")
    ac.set_default_device(None)
    ac.use_deterministic_algorithms(False)


# ------------------------------------------------------------------ generators
@pytest.mark.parametrize("name", DRAWS)
def test_generators_seeded_alike_draw_alike(name: str) -> None:
    first = DRAWS[name](ac.Generator().manual_seed(7)).numpy()
    second = DRAWS[name](ac.Generator().manual_seed(7)).numpy()
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("name", DRAWS)
def test_a_generator_ignores_and_leaves_alone_the_global_seed(name: str) -> None:
    draw = DRAWS[name]
    ac.manual_seed(1)
    reference = draw(ac.Generator().manual_seed(3)).numpy()
    expected_global = draw(None).numpy()
    ac.manual_seed(99)
    np.testing.assert_array_equal(draw(ac.Generator().manual_seed(3)).numpy(), reference)
    ac.manual_seed(1)
    draw(ac.Generator().manual_seed(3))
    np.testing.assert_array_equal(draw(None).numpy(), expected_global)


def test_differently_seeded_generators_differ_and_successive_draws_differ() -> None:
    g = ac.Generator().manual_seed(0)
    first, second = ac.rand(8, generator=g).numpy(), ac.rand(8, generator=g).numpy()
    assert not np.array_equal(first, second)
    other = ac.rand(8, generator=ac.Generator().manual_seed(1)).numpy()
    assert not np.array_equal(first, other)


def test_global_draws_match_numpy_for_the_same_seed() -> None:
    ac.manual_seed(5)
    expected = np.random.default_rng(5).random(4)
    np.testing.assert_array_equal(ac.rand(4, dtype=ac.float64).numpy(), expected)
    g = ac.Generator().manual_seed(5)
    np.testing.assert_array_equal(ac.rand(4, dtype=ac.float64, generator=g).numpy(), expected)


def test_new_generators_start_from_pytorchs_default_seed() -> None:
    g = ac.Generator()
    assert g.initial_seed() == 67280421310721
    assert g.device == ac.device("cpu")
    np.testing.assert_array_equal(
        ac.randn(5, generator=g).numpy(), ac.randn(5, generator=ac.Generator()).numpy()
    )


def test_seeds_and_their_checks() -> None:
    g = ac.Generator()
    assert g.manual_seed(2**64 - 1).initial_seed() == 2**64 - 1
    assert g.manual_seed(-1).initial_seed() == 2**64 - 1  # two's complement, as PyTorch
    with pytest.raises(ValueError, match=r"2\*\*64"):
        g.manual_seed(2**64)
    with pytest.raises(TypeError, match="float"):
        g.manual_seed(1.5)
    with pytest.raises(TypeError, match="bool"):
        g.manual_seed(True)
    fresh = g.seed()
    assert g.initial_seed() == fresh and 0 <= fresh < 2**64
    with pytest.raises(TypeError, match="generator must be"):
        ac.rand(2, generator=3)


def test_state_round_trip_restores_draws_and_seed() -> None:
    g = ac.Generator().manual_seed(11)
    ac.randn(3, generator=g)
    numpy_generator(g).integers(0, 10, 3, dtype=np.int32)  # leaves a cached 32-bit value
    state = g.get_state()
    assert state.dtype == ac.uint8 and state.shape == (STATE_SIZE,)
    expected = numpy_generator(g).integers(0, 10, 5, dtype=np.int32)
    after = ac.rand(4, generator=g).numpy()
    g.manual_seed(123)
    assert g.set_state(state) is g
    assert g.initial_seed() == 11
    np.testing.assert_array_equal(numpy_generator(g).integers(0, 10, 5, dtype=np.int32), expected)
    np.testing.assert_array_equal(ac.rand(4, generator=g).numpy(), after)
    g.set_state(state)
    clone, other = g.clone_state(), ac.Generator().set_state(state)
    np.testing.assert_array_equal(
        numpy_generator(clone).integers(0, 10, 5, dtype=np.int32), expected
    )
    numpy_generator(other).integers(0, 10, 5, dtype=np.int32)
    np.testing.assert_array_equal(ac.rand(4, generator=other).numpy(), after)
    np.testing.assert_array_equal(
        other.get_state().numpy(), g.set_state(other.get_state()).get_state().numpy()
    )


def test_state_checks() -> None:
    g = ac.Generator()
    with pytest.raises(TypeError, match="uint8 Tensor"):
        g.set_state(np.zeros(STATE_SIZE, np.uint8))
    with pytest.raises(ValueError, match=r"shape \(45,\).*shape \(44,\)"):
        g.set_state(ac.zeros(44, dtype=ac.uint8))
    with pytest.raises(ValueError, match="dtype int64"):
        g.set_state(ac.zeros(STATE_SIZE, dtype=ac.int64))


def test_global_generator_functions() -> None:
    assert ac.manual_seed(4) is ac.default_generator
    assert ac.initial_seed() == 4
    assert numpy_generator(None) is get_generator()
    state = ac.get_rng_state()
    first = ac.rand(5).numpy()
    ac.manual_seed(8)
    ac.set_rng_state(state)
    assert ac.initial_seed() == 4
    np.testing.assert_array_equal(ac.rand(5).numpy(), first)
    seeded = ac.seed()
    assert ac.initial_seed() == seeded
    assert ac.default_generator.initial_seed() == seeded
    ac.set_random_seed(4)  # the old spelling
    np.testing.assert_array_equal(ac.rand(5).numpy(), first)


# ------------------------------------------------------------------ dtypes
@pytest.mark.parametrize("dtype", FLOATS)
def test_finfo_matches_numpy(dtype: np.dtype) -> None:
    ours, theirs = ac.finfo(dtype), np.finfo(dtype)
    assert ours.bits == theirs.bits
    assert ours.eps == float(theirs.eps) and ours.resolution == 10.0**-theirs.precision
    assert ours.max == float(theirs.max) and ours.min == float(theirs.min)
    assert ours.tiny == ours.smallest_normal == float(theirs.smallest_normal)
    assert ours.dtype == dtype.name
    assert repr(ours).startswith("finfo(resolution=")


def test_finfo_defaults_and_refusals() -> None:
    assert ac.finfo().dtype == "float32"
    assert ac.finfo("float64").bits == 64
    with pytest.raises(TypeError, match="int32"):
        ac.finfo(ac.int32)
    with pytest.raises(TypeError, match="float32"):
        ac.iinfo(ac.float32)
    with pytest.raises(TypeError, match="bool"):
        ac.iinfo(ac.bool_)


@pytest.mark.parametrize("dtype", INTS)
def test_iinfo_matches_numpy(dtype: np.dtype) -> None:
    ours, theirs = ac.iinfo(dtype), np.iinfo(dtype)
    assert (ours.bits, ours.min, ours.max) == (theirs.bits, int(theirs.min), int(theirs.max))
    assert ours.dtype == dtype.name
    assert repr(ours) == f"iinfo(min={theirs.min:g}, max={theirs.max:g}, dtype={dtype.name})"


def test_dtype_type_and_aliases() -> None:
    for dtype in ALL:
        assert isinstance(ac.zeros(1, dtype=dtype).dtype, ac.dtype)
    assert ac.dtype is ac.DType
    assert (ac.double, ac.half, ac.short, ac.long) == (
        ac.float64,
        ac.float16,
        ac.int16,
        ac.int64,
    )
    assert (ac.float, ac.int, ac.bool) == (ac.float32, ac.int32, ac.bool_)
    assert ac.ones(2, dtype=ac.long).dtype == np.int64


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (ac.uint8, ac.int8, ac.int16),
        (ac.int64, ac.float16, ac.float16),
        (ac.bool_, ac.int8, ac.int8),
        (ac.bool_, ac.uint8, ac.uint8),
        (ac.float16, ac.float64, ac.float64),
        (ac.int32, ac.int64, ac.int64),
        (ac.uint8, ac.int64, ac.int64),
        (ac.bool_, ac.float32, ac.float32),
        ("int16", "float32", ac.float32),
    ],
)
def test_promote_types_table(a: object, b: object, expected: np.dtype) -> None:
    assert ac.promote_types(a, b) == expected
    assert ac.promote_types(b, a) == expected


@pytest.mark.parametrize("a", ALL)
@pytest.mark.parametrize("b", ALL)
def test_result_type_and_promote_types_agree_with_the_ops(a: np.dtype, b: np.dtype) -> None:
    x, y = ac.ones(2, dtype=a), ac.ones(2, dtype=b)
    assert ac.result_type(x, y) == ac.promote_types(a, b) == (x + y).dtype
    for number in (True, 2, 2.5):
        assert ac.result_type(x, number) == (x + number).dtype
        assert ac.result_type(number, x) == (number + x).dtype


def test_result_type_of_numbers_and_refusals() -> None:
    assert ac.result_type(1, 2.0) == ac.float32
    assert ac.result_type(1, 2) == ac.int64
    assert ac.result_type(True, False) == ac.bool_
    assert ac.result_type(ac.ones(2, dtype=ac.int32), 2.5) == ac.float32
    assert ac.result_type(ac.ones(2, dtype=ac.bool_), 1) == ac.int64
    with pytest.raises(TypeError, match="tensor2 must be a Tensor or a number, got str"):
        ac.result_type(ac.ones(1), "a")


def test_can_cast_table() -> None:
    assert ac.can_cast(ac.float64, ac.float16)
    assert ac.can_cast(ac.int8, ac.uint8)
    assert ac.can_cast(ac.bool_, ac.int8)
    assert ac.can_cast(ac.int64, ac.float16)
    assert not ac.can_cast(ac.float32, ac.int64)
    assert not ac.can_cast(ac.int64, ac.bool_)
    assert not ac.can_cast(ac.float16, ac.bool_)


def test_is_complex_and_typename() -> None:
    assert ac.is_complex(ac.zeros(2)) is False
    with pytest.raises(TypeError, match="list"):
        ac.is_complex([1.0])
    assert ac.typename(ac.zeros(2)) == "auto_compyute.FloatTensor"
    assert ac.typename(ac.zeros(2, dtype=ac.int8)) == "auto_compyute.CharTensor"
    assert ac.typename(1) == "int"
    assert ac.typename(ac.Tensor) == "auto_compyute._core.tensor.Tensor"
    assert ac.typename(np.zeros(1)) == "numpy.ndarray"


# ------------------------------------------------------------------ Size, compile, flags
def test_size() -> None:
    x = ac.zeros(2, 3)
    assert isinstance(x.shape, ac.Size) and isinstance(x.size(), ac.Size)
    assert type(x.shape) is tuple  # kept a plain tuple on the hot path
    size = ac.Size([2, 3, 4])
    assert size == (2, 3, 4) and size.numel() == 24 and ac.Size().numel() == 1
    assert type(size[1:]) is ac.Size and size[1:] == (3, 4) and size[0] == 2
    longer = size + (5,)  # noqa: RUF005 - Size.__add__ is under test
    assert type(longer) is ac.Size and longer == (2, 3, 4, 5)
    assert repr(size) == "ac.Size([2, 3, 4])"
    assert ac.Size(np.array([2, 3])) == (2, 3)
    assert ac.zeros(ac.Size([2, 1])).shape == (2, 1)
    assert not isinstance((1.5, 2), ac.Size) and not isinstance([2, 3], ac.Size)
    with pytest.raises(TypeError, match="float"):
        ac.Size([2.0, 3])


def test_compile_is_a_no_op() -> None:
    def f(x: ac.Tensor) -> ac.Tensor:
        return x * 2

    assert ac.compile(f) is f
    assert ac.compile(f, mode="max-autotune", fullgraph=True) is f
    assert ac.compile(mode="reduce-overhead")(f) is f


def test_deterministic_algorithms_flag() -> None:
    assert not ac.are_deterministic_algorithms_enabled()
    ac.use_deterministic_algorithms(True, warn_only=True)
    assert ac.are_deterministic_algorithms_enabled()
    assert ac.is_deterministic_algorithms_warn_only_enabled()
    ac.use_deterministic_algorithms(False)
    assert not ac.are_deterministic_algorithms_enabled()
    assert not ac.is_deterministic_algorithms_warn_only_enabled()
    with pytest.raises(TypeError, match="bool"):
        ac.use_deterministic_algorithms(1)


def test_inference_mode_flag() -> None:
    assert not ac.is_inference_mode_enabled()
    x = ac.ones(2, req_grad=True)
    with ac.inference_mode():
        assert ac.is_inference_mode_enabled() and not ac.is_grad_enabled()
        assert not (x * 2).req_grad
        with ac.inference_mode(False):
            assert not ac.is_inference_mode_enabled() and not ac.is_grad_enabled()
    with ac.no_grad():
        assert not ac.is_inference_mode_enabled()
    assert not ac.is_inference_mode_enabled() and ac.is_grad_enabled()

    @ac.inference_mode()
    def inside() -> bool:
        return ac.is_inference_mode_enabled()

    assert inside() and not ac.is_inference_mode_enabled()


# ------------------------------------------------------------------ print options
def test_printoptions_change_the_repr_only() -> None:
    before = np.get_printoptions()
    x = ac.tensor([1.123456, 2.0, 3.5])
    assert repr(x) == "Tensor([1.1235, 2.0000, 3.5000])"
    ac.set_printoptions(precision=2)
    assert repr(x) == "Tensor([1.12, 2.00, 3.50])"
    assert ac.get_printoptions()["precision"] == 2
    ac.set_printoptions(threshold=5, edgeitems=2)
    assert repr(ac.arange(10)) == "Tensor([0, 1, ..., 8, 9])"
    ac.set_printoptions(sci_mode=True)
    assert repr(ac.tensor([1.5, 20.0])) == "Tensor([1.50e+00, 2.00e+01])"
    ac.set_printoptions(sci_mode=False)
    assert repr(ac.tensor([1e-8, 1e5])) == "Tensor([     0., 100000.])"
    ac.set_printoptions(linewidth=30, threshold=1000)
    assert max(len(line) for line in repr(ac.arange(20)).splitlines()) <= 30
    assert np.get_printoptions() == before
    ac.set_printoptions(profile="full")
    assert "..." not in repr(ac.arange(2000))
    ac.set_printoptions(profile="short")
    assert ac.get_printoptions() == {
        "precision": 2,
        "threshold": 1000,
        "edgeitems": 2,
        "linewidth": 80,
        "sci_mode": None,
    }
    assert np.get_printoptions() == before
    with pytest.raises(ValueError, match="unknown print profile 'long'"):
        ac.set_printoptions(profile="long")
    with pytest.raises(ValueError, match="precision must be non-negative"):
        ac.set_printoptions(precision=-1)


def test_numpys_print_options_do_not_change_the_repr() -> None:
    x = ac.tensor([1.123456, 2.0])
    with np.printoptions(precision=1, linewidth=10):
        assert repr(x) == "Tensor([1.1235, 2.0000])"


# ------------------------------------------------------------------ default device
def test_default_device(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = FakeBackend()
    monkeypatch.setitem(devices._backends, "fake", backend)
    monkeypatch.setitem(devices._by_array_type, FakeArray, backend)
    assert ac.get_default_device() == "cpu"
    ac.set_default_device("fake")
    assert ac.get_default_device() == "fake"
    made = [
        ac.zeros(2),
        ac.ones(2),
        ac.empty(2),
        ac.full((2,), 1.0),
        ac.rand(2),
        ac.randn(2),
        ac.randint(0, 3, (2,)),
        ac.randperm(3),
        ac.arange(3),
        ac.linspace(0, 1, 3),
        ac.eye(2),
        ac.tensor([1.0]),
        ac.as_tensor([1.0]),
        ac.asarray([1.0]),
        ac.scalar_tensor(1.0),
        ac.empty_strided((2,), (1,)),
        ac.normal(0.0, 1.0, (2,)),
    ]
    assert all(t.device == "fake" for t in made)
    cpu = ac.zeros(2, device="cpu")
    assert cpu.device == "cpu"
    assert ac.zeros_like(cpu).device == "cpu"  # *_like follow their input
    assert ac.Tensor([1.0]).device == "cpu"
    assert ac.asarray(np.zeros(2)).device == "cpu"  # arrays keep their device
    ac.set_default_device("cpu")
    assert ac.zeros(1).device == "cpu" and ac.get_default_device() == "cpu"
    ac.set_default_device("fake")
    ac.set_default_device(None)
    assert ac.get_default_device() == "cpu"
    with pytest.raises(ValueError, match="unknown device type 'tpu'"):
        ac.set_default_device("tpu")


# ------------------------------------------------------------------ new factories
def test_empty_strided() -> None:
    x = ac.empty_strided((2, 3), (1, 2), dtype=ac.float64)
    assert x.shape == (2, 3) and x.dtype == ac.float64
    assert ac.empty_strided((), ()).shape == ()
    with pytest.raises(ValueError, match=r"size \(2, 3\) and stride \(1,\)"):
        ac.empty_strided((2, 3), (1,))


def test_frombuffer_shares_memory() -> None:
    buffer = bytearray(np.arange(6, dtype=np.int16).tobytes())
    x = ac.frombuffer(buffer, dtype=ac.int16)
    np.testing.assert_array_equal(x.numpy(), np.arange(6))
    buffer[0] = 9
    assert x[0].item() == 9
    x[1] = 7
    assert np.frombuffer(buffer, np.int16)[1] == 7
    part = ac.frombuffer(buffer, dtype=ac.int16, count=2, offset=4)
    np.testing.assert_array_equal(part.numpy(), [2, 3])
    assert ac.frombuffer(bytearray(8), dtype=ac.float32, req_grad=True).req_grad
    with pytest.warns(UserWarning, match="not writable"):
        read_only = ac.frombuffer(b"\x01\x02", dtype=ac.uint8)
    np.testing.assert_array_equal(read_only.numpy(), [1, 2])


@pytest.mark.parametrize(
    ("size", "kwargs", "match"),
    [
        (0, {}, "must not be 0"),
        (5, {}, r"multiple of the element size \(2 bytes\)"),
        (4, {"count": 3}, r"3 elements of int16 \(6 bytes\)"),
        (4, {"offset": 4}, r"offset \(4 bytes\) must lie in \[0, 4\)"),
    ],
)
def test_frombuffer_refusals(size: int, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ac.frombuffer(bytearray(size), dtype=ac.int16, **kwargs)


def test_asarray_sharing_and_copies() -> None:
    x = ac.ones(3)
    assert ac.asarray(x) is x
    assert ac.asarray(x, dtype=ac.float32, device="cpu") is x
    copied = ac.asarray(x, copy=True)
    assert copied is not x and not np.shares_memory(copied.numpy(), x.numpy())
    assert ac.asarray(x, dtype=ac.float64).dtype == ac.float64
    with pytest.raises(ValueError, match="float32 on cpu to dtype float64"):
        ac.asarray(x, dtype=ac.float64, copy=False)
    array = np.arange(4.0)
    shared = ac.asarray(array)
    assert shared.dtype == ac.float64 and np.shares_memory(shared.numpy(), array)
    assert not np.shares_memory(ac.asarray(array, copy=True).numpy(), array)
    assert ac.asarray(array, dtype=ac.float32).dtype == ac.float32
    assert ac.asarray([1, 2]).dtype == ac.int64 and ac.asarray([1.0]).dtype == ac.float32
    assert ac.asarray(2.5, dtype=ac.float64).item() == 2.5
    with pytest.raises(ValueError, match="cannot be shared"):
        ac.asarray([1, 2], copy=False)


def test_asarray_req_grad() -> None:
    leaf = ac.ones(2, req_grad=True)
    assert ac.asarray(leaf) is leaf
    detached = ac.asarray(leaf, req_grad=False)
    assert not detached.req_grad and np.shares_memory(detached.numpy(), leaf.numpy())
    assert ac.asarray(ac.ones(2), req_grad=True).req_grad
    assert ac.asarray([1.0, 2.0], req_grad=True).req_grad
    result = ac.asarray(leaf * 2)
    assert result.req_grad and result.grad_fn is not None


def test_scalar_tensor() -> None:
    x = ac.scalar_tensor(3)
    assert x.shape == () and x.dtype == ac.float32 and x.item() == 3.0
    assert ac.scalar_tensor(True).dtype == ac.float32
    assert ac.scalar_tensor(2, dtype=ac.int64).dtype == ac.int64
    assert ac.scalar_tensor(1.5, req_grad=True).req_grad
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ac.set_default_dtype(ac.float64)
        try:
            assert ac.scalar_tensor(1).dtype == ac.float64
        finally:
            ac.set_default_dtype(ac.float32)
