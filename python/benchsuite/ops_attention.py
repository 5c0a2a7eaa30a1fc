"""The attention ops for notebooks (re-exported by benchsuite.ops)."""
from __future__ import annotations

__all__: list[str] = []
