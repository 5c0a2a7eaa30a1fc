"""What every peer module shares: the builder type, the skip exception and the table helper.
A builder takes the case's parameters and the device and returns the callable to time
(inputs made up front, outside the timing)."""
from __future__ import annotations

from typing import Any, Callable, Mapping

Builder = Callable[[Mapping[str, Any], str], Callable[[], Any]]
#: device type -> peer name -> (python package it needs, builder)
DevicePeers = dict[str, dict[str, tuple[str, Builder]]]


class PeerSkip(Exception):
    """Raised by a builder when its peer has no equivalent for the case (a dtype, a
    parameter): the comparison is `skipped` with "reason: message", never an error."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def no_peer(why: str) -> Builder:
    """The builder of a peer that has no equivalent of the case at all."""
    def build(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
        raise PeerSkip("peer_unsupported", why)
    return build


def on_devices(numpy: Builder | None = None, torch: Builder | None = None) -> DevicePeers:
    """A case's peers: NumPy on the CPU; PyTorch eager on the CPU (beside NumPy) and on CUDA,
    from one builder that takes the device."""
    table: DevicePeers = {}
    if numpy is not None:
        table.setdefault("cpu", {})["numpy"] = ("numpy", numpy)
    if torch is not None:
        table.setdefault("cpu", {})["torch"] = ("torch", torch)
        table["cuda"] = {"torch": ("torch", torch)}
    return table
