"""Peers of the selective scan: neither NumPy nor PyTorch has one, so both comparisons are
skipped with that reason."""
from __future__ import annotations

from ._base import no_peer, on_devices

PEERS = {"selective_scan": on_devices(numpy=no_peer("NumPy has no vectorised selective scan"),
                                      torch=no_peer("PyTorch has no built-in selective scan"))}
