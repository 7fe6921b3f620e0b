"""PyTorch parity of the deterministic parts: dtype facts, promotion, casting rules, seeds
and the small compatibility names."""

import itertools

import numpy as np
import pytest

import auto_compyute as ac

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")

PAIRS = {
    ac.bool_: torch.bool,
    ac.uint8: torch.uint8,
    ac.int8: torch.int8,
    ac.int16: torch.int16,
    ac.int32: torch.int32,
    ac.int64: torch.int64,
    ac.float16: torch.float16,
    ac.float32: torch.float32,
    ac.float64: torch.float64,
}
OURS = {str(theirs): ours for ours, theirs in PAIRS.items()}
FLOATS = [ac.float16, ac.float32, ac.float64]
INTS = [ac.uint8, ac.int8, ac.int16, ac.int32, ac.int64]


def _ours(dtype: "torch.dtype") -> np.dtype:
    return OURS[str(dtype)]


@pytest.mark.parametrize("dtype", FLOATS)
def test_finfo(dtype: np.dtype) -> None:
    ours, theirs = ac.finfo(dtype), torch.finfo(PAIRS[dtype])
    for name in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert repr(ours) == repr(theirs)
    assert ac.finfo().dtype == torch.finfo().dtype


@pytest.mark.parametrize("dtype", INTS)
def test_iinfo(dtype: np.dtype) -> None:
    ours, theirs = ac.iinfo(dtype), torch.iinfo(PAIRS[dtype])
    for name in ("bits", "max", "min", "dtype"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert repr(ours) == repr(theirs)


def test_finfo_and_iinfo_refuse_what_pytorch_refuses() -> None:
    for ours, theirs in ((ac.finfo, torch.finfo), (ac.iinfo, torch.iinfo)):
        wrong = ac.int32 if ours is ac.finfo else ac.float32
        with pytest.raises(TypeError):
            theirs(PAIRS[wrong])
        with pytest.raises(TypeError):
            ours(wrong)
    with pytest.raises(TypeError):
        ac.iinfo(ac.bool_)
    with pytest.raises(TypeError):
        torch.iinfo(torch.bool)


@pytest.mark.parametrize(("a", "b"), list(itertools.product(PAIRS, repeat=2)))
def test_promote_types_result_type_and_can_cast(a: np.dtype, b: np.dtype) -> None:
    assert ac.promote_types(a, b) == _ours(torch.promote_types(PAIRS[a], PAIRS[b]))
    assert ac.can_cast(a, b) == torch.can_cast(PAIRS[a], PAIRS[b])
    x, y = ac.ones(2, dtype=a), ac.ones(2, dtype=b)
    tx, ty = torch.ones(2, dtype=PAIRS[a]), torch.ones(2, dtype=PAIRS[b])
    assert ac.result_type(x, y) == _ours(torch.result_type(tx, ty))


@pytest.mark.parametrize("dtype", list(PAIRS))
@pytest.mark.parametrize("number", [True, 3, 2.5])
def test_result_type_with_numbers(dtype: np.dtype, number: object) -> None:
    tensor, theirs = ac.ones(2, dtype=dtype), torch.ones(2, dtype=PAIRS[dtype])
    assert ac.result_type(tensor, number) == _ours(torch.result_type(theirs, number))
    assert ac.result_type(number, tensor) == _ours(torch.result_type(number, theirs))


@pytest.mark.parametrize(("a", "b"), list(itertools.product([True, 3, 2.5], repeat=2)))
def test_result_type_of_two_numbers(a: object, b: object) -> None:
    assert ac.result_type(a, b) == _ours(torch.result_type(a, b))


def test_seeds_as_pytorch() -> None:
    assert ac.Generator().initial_seed() == torch.Generator().initial_seed()
    for seed in (0, 7, -1, -(2**63), 2**64 - 1):
        assert ac.Generator().manual_seed(seed).initial_seed() == (
            torch.Generator().manual_seed(seed).initial_seed()
        )
    state = ac.Generator().manual_seed(5).get_state()
    assert ac.Generator().set_state(state).initial_seed() == 5
    assert (
        torch.Generator().set_state(torch.Generator().manual_seed(5).get_state()).initial_seed()
        == 5
    )


def test_aliases_typename_and_factories() -> None:
    for name in ("double", "half", "short", "long", "float", "int", "bool"):
        assert getattr(ac, name) == _ours(getattr(torch, name)), name
    for dtype, theirs in PAIRS.items():
        tensor_name = torch.typename(torch.zeros(1, dtype=theirs))
        assert ac.typename(ac.zeros(1, dtype=dtype)) == tensor_name.replace(
            "torch", "auto_compyute"
        )
        assert isinstance(ac.zeros(1, dtype=dtype).dtype, ac.dtype)
    assert ac.typename(3) == torch.typename(3)
    assert ac.is_complex(ac.zeros(1)) == torch.is_complex(torch.zeros(1))
    for value in (3, 2.5, True):
        ours, theirs = ac.scalar_tensor(value), torch.scalar_tensor(value)
        assert ours.dtype == _ours(theirs.dtype) and ours.item() == theirs.item()
    for data in ([1, 2], [1.5], [True], 3, np.arange(3), np.ones(2, np.float32)):
        assert ac.asarray(data).dtype == _ours(torch.asarray(data).dtype)
    assert ac.empty_strided((2, 3), (1, 2)).shape == tuple(
        torch.empty_strided((2, 3), (1, 2)).shape
    )
    buffer = bytearray(np.arange(5, dtype=np.int16).tobytes())
    np.testing.assert_array_equal(
        ac.frombuffer(buffer, dtype=ac.int16, count=3, offset=2).numpy(),
        torch.frombuffer(buffer, dtype=torch.int16, count=3, offset=2).numpy(),
    )
    assert ac.Size([2, 3]).numel() == torch.Size([2, 3]).numel()
    assert ac.zeros(2, 3).shape == tuple(torch.zeros(2, 3).shape)
