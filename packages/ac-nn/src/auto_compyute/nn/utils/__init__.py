"""Utilities under PyTorch's names (``torch.nn.utils``).

- gradient clipping: ``clip_grad_norm_``, ``clip_grad_value_`` (they live in
  ``auto_compyute.optim``), ``get_total_norm``, ``clip_grads_with_norm_``;
- ``parameters_to_vector`` and ``vector_to_parameters``;
- ``parametrize`` (``register_parametrization``, ...) and the ready-made
  ``parametrizations.orthogonal``, ``weight_norm`` and ``spectral_norm``; the older
  hook-based ``weight_norm`` and ``spectral_norm`` (and their ``remove_*``);
- ``fuse_conv_bn_eval``, ``fuse_linear_bn_eval`` and their ``*_weights`` forms;
- ``skip_init``; ``stateless.functional_call``;
- in ``swa_utils``, ``AveragedModel`` and ``update_bn`` (also in ``optim.swa_utils``, as in
  PyTorch);
- in ``rnn``, ``pad_sequence`` and ``PackedSequence`` with its packing functions.
"""

from __future__ import annotations

from auto_compyute.nn.utils import (
    clip_grad,
    convert_parameters,
    fusion,
    init,
    parametrizations,
    parametrize,
    rnn,
    stateless,
    swa_utils,
)
from auto_compyute.nn.utils.clip_grad import (
    clip_grad_norm,
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)
from auto_compyute.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters
from auto_compyute.nn.utils.fusion import (
    fuse_conv_bn_eval,
    fuse_conv_bn_weights,
    fuse_linear_bn_eval,
    fuse_linear_bn_weights,
)
from auto_compyute.nn.utils.init import skip_init
from auto_compyute.nn.utils.spectral_norm import remove_spectral_norm, spectral_norm
from auto_compyute.nn.utils.weight_norm import remove_weight_norm, weight_norm

__all__ = [
    "clip_grad",
    "clip_grad_norm",
    "clip_grad_norm_",
    "clip_grad_value_",
    "clip_grads_with_norm_",
    "convert_parameters",
    "fuse_conv_bn_eval",
    "fuse_conv_bn_weights",
    "fuse_linear_bn_eval",
    "fuse_linear_bn_weights",
    "fusion",
    "get_total_norm",
    "init",
    "parameters_to_vector",
    "parametrizations",
    "parametrize",
    "remove_spectral_norm",
    "remove_weight_norm",
    "rnn",
    "skip_init",
    "spectral_norm",
    "stateless",
    "swa_utils",
    "vector_to_parameters",
    "weight_norm",
]
