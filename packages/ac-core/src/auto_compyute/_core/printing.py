"""How tensors print: ``set_printoptions`` / ``get_printoptions``.

The options belong to this library and reach NumPy only as arguments of
``numpy.array2string``: NumPy's own global print options are never changed.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

_PROFILES: dict[str, dict[str, Any]] = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}
_options: dict[str, Any] = {**_PROFILES["default"], "sci_mode": None}


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Set how tensors print (their ``repr`` and ``str``), as ``torch.set_printoptions``.

    Options left as None keep their value, except ``sci_mode``, which is always set (as in
    PyTorch). NumPy's print options are not touched.

    Args:
        precision: Digits after the decimal point for floats (4 at start).
        threshold: Element count above which a tensor prints summarised (1000).
        edgeitems: Items printed at each end of a summarised axis (3).
        linewidth: Characters per line before wrapping (80).
        profile: ``"default"``, ``"short"`` (precision 2, 2 edge items) or ``"full"`` (never
            summarise), applied before the options given with it.
        sci_mode: True for scientific notation, False for fixed point, None to let NumPy
            choose per tensor.
    """
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"unknown print profile {profile!r}; use one of {sorted(_PROFILES)}")
        _options.update(_PROFILES[profile])
    given = {
        "precision": precision,
        "threshold": threshold,
        "edgeitems": edgeitems,
        "linewidth": linewidth,
    }
    for name, value in given.items():
        if value is not None:
            if value < 0:
                raise ValueError(f"print option {name} must be non-negative, got {value}")
            _options[name] = value
    _options["sci_mode"] = sci_mode


def get_printoptions() -> dict[str, Any]:
    """The current print options (``precision``, ``threshold``, ``edgeitems``, ``linewidth``,
    ``sci_mode``), as a new dict."""
    return dict(_options)


def format_array(data: np.ndarray, prefix: str) -> str:
    """``data`` as text under the current print options, continuation lines indented to
    follow ``prefix``."""
    precision = int(_options["precision"])
    threshold = _options["threshold"]
    sci_mode = _options["sci_mode"]
    formatter: Any = None
    if sci_mode and data.dtype.kind == "f":
        formatter = {"float_kind": lambda v: f"{v:.{precision}e}"}
    return np.array2string(
        data,
        max_line_width=int(_options["linewidth"]),
        precision=precision,
        suppress_small=sci_mode is False,
        separator=", ",
        prefix=prefix,
        floatmode="maxprec_equal",
        threshold=sys.maxsize if math.isinf(threshold) else int(threshold),
        edgeitems=int(_options["edgeitems"]),
        formatter=formatter,
    )
