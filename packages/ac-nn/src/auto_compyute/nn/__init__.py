"""Neural-network building blocks: ``from auto_compyute import nn``.

Modules hold parameters and buffers and compose into models; ``nn.functional`` holds
the stateless ops they are built on; ``nn.init`` initialises weights; ``nn.data``
loads batches.
"""

from auto_compyute.nn import (
    activation,
    attention,
    containers,
    conv,
    data,
    distance,
    dropout,
    flatten,
    fold,
    functional,
    init,
    lazy,
    linear,
    loss,
    module,
    normalization,
    padding,
    pooling,
    rnn,
    sparse,
    transformer,
    upsampling,
    utils,
)
from auto_compyute.nn.activation import *  # noqa: F403
from auto_compyute.nn.attention import *  # noqa: F403
from auto_compyute.nn.containers import *  # noqa: F403
from auto_compyute.nn.conv import *  # noqa: F403
from auto_compyute.nn.data import *  # noqa: F403
from auto_compyute.nn.distance import *  # noqa: F403
from auto_compyute.nn.dropout import *  # noqa: F403
from auto_compyute.nn.flatten import *  # noqa: F403
from auto_compyute.nn.fold import *  # noqa: F403
from auto_compyute.nn.lazy import *  # noqa: F403
from auto_compyute.nn.linear import *  # noqa: F403
from auto_compyute.nn.loss import *  # noqa: F403
from auto_compyute.nn.module import *  # noqa: F403
from auto_compyute.nn.normalization import *  # noqa: F403
from auto_compyute.nn.padding import *  # noqa: F403
from auto_compyute.nn.pooling import *  # noqa: F403
from auto_compyute.nn.rnn import *  # noqa: F403
from auto_compyute.nn.sparse import *  # noqa: F403
from auto_compyute.nn.transformer import *  # noqa: F403
from auto_compyute.nn.upsampling import *  # noqa: F403

_LAYER_MODULES = [activation, attention, containers, conv, data, distance, dropout, flatten]
_LAYER_MODULES += [linear, loss, module, normalization, pooling, rnn, sparse, transformer]
_LAYER_MODULES += [fold, lazy, padding, upsampling]
__all__ = ["data", "functional", "init", "utils"]
__all__ += [name for layer_module in _LAYER_MODULES for name in layer_module.__all__]
