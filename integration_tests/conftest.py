"""Configuration for the repository-wide tests (packaging, versions, install guard)."""

from __future__ import annotations

import sys
from pathlib import Path

# The helper scripts under scripts/ are plain files, not an installed package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
