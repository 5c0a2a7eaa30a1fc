"""The graph builder and executor as notebooks use them: the same builder calls as in C++
(``b.linear(x, 3072, "fc")``, ``b.gelu(h)``), values are integer handles, arrays in and out
are NumPy (or anything with the buffer protocol / DLPack)."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from .. import _core

Graph = _core.Graph
Builder = _core.GraphBuilder

__all__ = ["Builder", "Executor", "Graph", "node_kinds", "random_parameters", "backward"]


def backward(graph: Graph, loss: int | str, wrt: Sequence[str] = ()) -> dict[str, Any]:
    """Appends the gradients of `loss` (a value or its name) to `graph`: a new input
    ``grad:<loss>`` (the seed, d objective / d loss) and an output ``grad:<name>`` for each
    name in `wrt` (default: every parameter) that the loss depends on."""
    value = graph.find(loss) if isinstance(loss, str) else int(loss)
    return _core.graph_backward(graph, value, list(wrt))


def node_kinds() -> list[dict[str, Any]]:
    """Every registered node kind: name, one-line doc, the ops it runs, whether it has a gradient."""
    return _core.graph_node_kinds()


def random_parameters(graph: Graph, inits: Mapping[str, Any], seed: int = 0, device: str = "cpu") -> dict[str, Any]:
    """One tensor per parameter of `graph`, drawn from the builder's inits with `seed`."""
    return _core.graph_random_parameters(graph, dict(inits), int(seed), device)


class Executor:
    """Runs a graph on one device: a plan per set of input shapes (cached), buffers reused,
    weights packed once. ``run`` returns NumPy arrays in the graph's output order."""

    def __init__(self, graph: Graph, parameters: Mapping[str, Any], device: str = "cpu",
                 versions: Mapping[str, str] | None = None) -> None:
        self.graph = graph
        self.device = device
        self._native = _core.Executor(graph, dict(parameters), device, dict(versions or {}))

    def run(self, inputs: Sequence[Any], scalars: Mapping[str, int] | None = None) -> list[np.ndarray]:
        outs = self._native.run(list(inputs), dict(scalars or {}), True)
        return [np.asarray(t) for t in outs]

    def run_views(self, inputs: Sequence[Any], scalars: Mapping[str, int] | None = None) -> list[Any]:
        """As run, without copying the outputs (valid until the next run): for timing."""
        return self._native.run(list(inputs), dict(scalars or {}), False)

    def profile(self, inputs: Sequence[Any], scalars: Mapping[str, int] | None = None,
                repeats: int = 3) -> list[dict[str, Any]]:
        """Seconds per node (median of `repeats` profiled runs, each step timed), plan order."""
        runs = [self._native.run_profiled(list(inputs), dict(scalars or {})) for _ in range(max(1, int(repeats)))]
        return [{"node": name, "kind": kind, "seconds": float(np.median([r[i][2] for r in runs]))}
                for i, (name, kind, _) in enumerate(runs[0])]

    def reset_states(self) -> None:
        self._native.reset_states()

    def set_parameter(self, name: str, value: Any) -> None:
        self._native.set_parameter(name, value)

    @property
    def stats(self) -> dict[str, Any]:
        """compile_seconds, first_call_seconds, arena/parameter/packed/state bytes, plans."""
        return self._native.stats
