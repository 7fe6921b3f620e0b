"""AutoCompyute: a deep-learning library with automatic differentiation on NumPy.

``import auto_compyute as ac`` gives tensors, autograd and the core ops. The add-on
packages (``ac-nn``, ``ac-optim``, ``ac-viz``) live in this same namespace and are
imported lazily, so ``ac.nn`` works once ``ac-nn`` is installed.
"""

# NOTE: extend_path must come first: it lets add-ons installed in another location
# (editable or mixed installs) contribute ``auto_compyute.<sub>`` modules.
from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)

import importlib

from auto_compyute import autograd, cuda
from auto_compyute._core.autograd import (
    Op,
    enable_grad,
    is_grad_enabled,
    no_autograd_tracking,
    no_grad,
    set_grad_enabled,
)
from auto_compyute._core.devices import Device, device, get_available_devices
from auto_compyute._core.dtypes import (
    DType,
    bool_,
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    is_floating_point,
    uint8,
)
from auto_compyute._core.factories import (
    arange,
    empty,
    empty_like,
    eye,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from auto_compyute._core.functions import (
    abs,
    allclose,
    amax,
    amin,
    argmax,
    argmin,
    cat,
    chunk,
    clamp,
    concat,
    cos,
    cumsum,
    einsum,
    exp,
    flip,
    from_numpy,
    gather,
    isclose,
    log,
    log_softmax,
    logsumexp,
    matmul,
    max,
    maximum,
    min,
    minimum,
    norm,
    pad,
    relu,
    roll,
    sigmoid,
    sin,
    softmax,
    sort,
    split,
    sqrt,
    square,
    stack,
    tanh,
    topk,
    tril,
    triu,
    unbind,
    where,
)
from auto_compyute._core.memory import keep_freed_memory
from auto_compyute._core.parallel import get_num_threads, set_num_threads
from auto_compyute._core.random import manual_seed, seed, set_random_seed
from auto_compyute._core.serialization import load, save
from auto_compyute._core.tensor import Tensor, ValuesIndices

__version__ = "0.1.0"

keep_freed_memory()

bool = bool_

_ADDONS = {"nn": "ac-nn", "optim": "ac-optim", "viz": "ac-viz"}


def __getattr__(name: str) -> object:
    """Import an add-on package on first use, or say which distribution provides it."""
    if name in _ADDONS:
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"{__name__}.{name}":
                raise
            raise ModuleNotFoundError(
                f"auto_compyute.{name} is provided by the '{_ADDONS[name]}' package; "
                f"install it with `pip install {_ADDONS[name]}`",
                name=error.name,
            ) from None
    raise AttributeError(f"module 'auto_compyute' has no attribute '{name}'")


__all__ = [
    "DType",
    "Device",
    "Op",
    "Tensor",
    "ValuesIndices",
    "abs",
    "allclose",
    "amax",
    "amin",
    "arange",
    "argmax",
    "argmin",
    "autograd",
    "bool",
    "bool_",
    "cat",
    "chunk",
    "clamp",
    "concat",
    "cos",
    "cuda",
    "cumsum",
    "device",
    "einsum",
    "empty",
    "empty_like",
    "enable_grad",
    "exp",
    "eye",
    "flip",
    "float16",
    "float32",
    "float64",
    "from_numpy",
    "full",
    "full_like",
    "gather",
    "get_available_devices",
    "get_default_dtype",
    "get_num_threads",
    "int8",
    "int16",
    "int32",
    "int64",
    "is_floating_point",
    "is_grad_enabled",
    "isclose",
    "linspace",
    "load",
    "log",
    "log_softmax",
    "logsumexp",
    "manual_seed",
    "matmul",
    "max",
    "maximum",
    "min",
    "minimum",
    "no_autograd_tracking",
    "no_grad",
    "norm",
    "ones",
    "ones_like",
    "pad",
    "rand",
    "rand_like",
    "randint",
    "randn",
    "randn_like",
    "randperm",
    "relu",
    "roll",
    "save",
    "seed",
    "set_grad_enabled",
    "set_num_threads",
    "set_random_seed",
    "sigmoid",
    "sin",
    "softmax",
    "sort",
    "split",
    "sqrt",
    "square",
    "stack",
    "tanh",
    "tensor",
    "topk",
    "tril",
    "triu",
    "uint8",
    "unbind",
    "where",
    "zeros",
    "zeros_like",
]
