"""Functional neural-network ops: ``import auto_compyute.nn.functional as F``.

Each op is a function on tensors; the ones that are primitives for speed or numerical
stability (convolution, pooling, normalization, cross-entropy, CTC, attention) carry their
own ``Op`` with forward and backward.
"""

from auto_compyute.nn.functional.activations import *  # noqa: F403
from auto_compyute.nn.functional.attention import *  # noqa: F403
from auto_compyute.nn.functional.conv import *  # noqa: F403
from auto_compyute.nn.functional.ctc import *  # noqa: F403
from auto_compyute.nn.functional.distance import *  # noqa: F403
from auto_compyute.nn.functional.dropout import *  # noqa: F403
from auto_compyute.nn.functional.linear import *  # noqa: F403
from auto_compyute.nn.functional.losses import *  # noqa: F403
from auto_compyute.nn.functional.normalization import *  # noqa: F403
from auto_compyute.nn.functional.pooling import *  # noqa: F403
from auto_compyute.nn.functional.recurrent import *  # noqa: F403
from auto_compyute.nn.functional.resize import *  # noqa: F403
from auto_compyute.nn.functional.sampling import *  # noqa: F403
from auto_compyute.nn.functional.sparse import *  # noqa: F403
from auto_compyute.nn.functional.unpooling import *  # noqa: F403
