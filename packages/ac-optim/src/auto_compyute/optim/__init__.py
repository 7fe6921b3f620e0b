"""Optimizers, learning-rate schedules and gradient clipping: ``from auto_compyute import optim``.

Optimizers update the ``data`` of leaf tensors in place from their ``grad``, with
PyTorch's update rules and API::

    opt = optim.AdamW(params, lr=1e-3)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)
    for x, y in batches:
        opt.zero_grad()
        loss_fn(x, y).backward()
        optim.clip_grad_norm_(params, max_norm=1.0)
        opt.step()
    sched.step()

``optim.swa_utils`` has weight averaging (SWA, EMA) and the ``SWALR`` schedule.
"""

from auto_compyute.optim import lr_scheduler, swa_utils
from auto_compyute.optim.adadelta import Adadelta
from auto_compyute.optim.adafactor import Adafactor
from auto_compyute.optim.adagrad import Adagrad
from auto_compyute.optim.adam import Adam, AdamW
from auto_compyute.optim.adam_variants import Adamax, NAdam, RAdam
from auto_compyute.optim.asgd import ASGD
from auto_compyute.optim.clip import clip_grad_norm_, clip_grad_value_
from auto_compyute.optim.lbfgs import LBFGS
from auto_compyute.optim.optimizer import Optimizer
from auto_compyute.optim.rmsprop import RMSprop
from auto_compyute.optim.rprop import Rprop
from auto_compyute.optim.sgd import SGD

__all__ = [
    "ASGD",
    "LBFGS",
    "SGD",
    "Adadelta",
    "Adafactor",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "NAdam",
    "Optimizer",
    "RAdam",
    "RMSprop",
    "Rprop",
    "clip_grad_norm_",
    "clip_grad_value_",
    "lr_scheduler",
    "swa_utils",
]
