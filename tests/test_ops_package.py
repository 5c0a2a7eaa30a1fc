"""benchsuite.ops as a package: one module per op family, the same public names as before,
a generic wrapper for any registered op without a hand-written one, and LayerNorm/RMSNorm
with optional gamma/beta."""
from __future__ import annotations

import ast
import inspect
import pkgutil
import sys

import numpy as np
import pytest

import benchsuite as bs
import benchsuite.ops as ops_module
from benchsuite import _core
from benchsuite.ops._generic import generic_op

from conftest import CUDA

# The public names of benchsuite.ops before it became a package.
PUBLIC = {"cast", "add", "mul", "axpy", "relu", "gelu", "silu", "relu_backward", "gelu_backward", "silu_backward",
          "sum", "mean", "max", "softmax", "softmax_backward", "log_softmax", "log_softmax_backward", "layernorm",
          "layernorm_backward", "rmsnorm", "rmsnorm_backward", "matmul", "fill", "randn", "uniform", "versions",
          "Tensor", "transpose", "contiguous", "reshape", "slice", "concat", "embedding", "embedding_backward",
          "cross_entropy", "cross_entropy_backward", "rope", "rope_backward", "selective_scan", "attention",
          "attention_backward", "attention_kv", "attention_kv_backward", "gelu_erf", "tanh", "gelu_erf_backward",
          "tanh_backward"}
FAMILIES = {"creation", "elementwise", "softmax", "norms", "reduce", "matmul", "manipulation", "nn", "scan",
            "attention"}


def test_public_names_are_unchanged():
    assert set(bs.ops.__all__) == PUBLIC and len(bs.ops.__all__) == len(PUBLIC)
    for name in PUBLIC - {"Tensor"}:
        fn = getattr(bs.ops, name)
        assert inspect.isfunction(fn), name
    assert bs.ops.Tensor is _core.Tensor
    namespace: dict = {}
    exec("from benchsuite.ops import *", namespace)
    assert PUBLIC <= set(namespace)


def test_one_module_per_family_and_no_lazy_imports():
    """Every family module imports its helpers at the top (from _convert), never inside a
    function: there is no import cycle left to work around."""
    found = {m.name for m in pkgutil.iter_modules(ops_module.__path__) if not m.name.startswith("_")}
    assert FAMILIES <= found
    for name in found:
        module = sys.modules[f"benchsuite.ops.{name}"]
        for op in module.__all__:
            assert getattr(bs.ops, op) is getattr(module, op), (name, op)
        tree = ast.parse(inspect.getsource(module))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lazy = [n for n in ast.walk(node) if isinstance(n, ast.ImportFrom) and n.level > 0]
                assert not lazy, f"{name}.{node.name} imports {lazy[0].module} lazily"


# ---- the generic wrapper ---------------------------------------------------------------------

def test_generic_wrapper_matches_the_hand_written_one(rng):
    x = rng.standard_normal((5, 33)).astype(np.float32)
    generic = generic_op("softmax")
    y = generic(x)
    assert isinstance(y, np.ndarray) and y.dtype == np.float32
    np.testing.assert_array_equal(y, bs.ops.softmax(x))
    for v in bs.ops.versions("softmax", "cpu"):
        np.testing.assert_array_equal(generic(x, impl=v["version"]), bs.ops.softmax(x, impl=v["version"]))
    t = bs.Tensor.from_numpy(x)
    assert isinstance(generic(t), bs.Tensor)
    assert generic.__name__ == "softmax" and generic.__module__ == "benchsuite.ops"
    assert "Generic wrapper" in generic.__doc__


def test_generic_wrapper_gives_tuples_of_the_callers_kind(rng):
    x = rng.standard_normal((4, 16)).astype(np.float32)
    g, b = rng.standard_normal(16).astype(np.float32), rng.standard_normal(16).astype(np.float32)
    got = generic_op("layernorm")(x, g, b, eps=1e-3)
    want = bs.ops.layernorm(x, g, b, eps=1e-3, return_stats=True)
    assert isinstance(got, tuple) and len(got) == 3
    for a, w in zip(got, want):
        assert isinstance(a, np.ndarray)
        np.testing.assert_array_equal(a, w)
    # arrays inside a list argument (concat's inputs) go in converted and set the result's kind
    parts = [rng.standard_normal((2, 3)).astype(np.float32) for _ in range(3)]
    np.testing.assert_array_equal(generic_op("concat")(parts, dim=1), np.concatenate(parts, axis=1))
    # no array argument: the core's bs.Tensor as it is
    filled = generic_op("fill")([2, 3], 1.5)
    assert isinstance(filled, bs.Tensor) and np.all(filled.numpy() == 1.5)


def test_generic_wrapper_keeps_torch_tensors_torch():
    torch = pytest.importorskip("torch")
    x = torch.randn(3, 7)
    y = generic_op("softmax")(x)
    assert isinstance(y, torch.Tensor)
    torch.testing.assert_close(y, torch.softmax(x, -1))


def test_generic_wrapper_leaves_argument_errors_to_the_core():
    with pytest.raises(bs.InvalidArgumentError, match="dy: expected an array"):
        generic_op("softmax_backward")(np.ones((2, 2), np.float32), "not an array")


def test_an_op_without_a_wrapper_is_served_generically(monkeypatch, rng):
    """What a new family gets with no edit in benchsuite.ops: here softmax, as if its
    hand-written wrapper did not exist."""
    monkeypatch.delattr(ops_module, "softmax")
    monkeypatch.setattr(ops_module, "_HANDWRITTEN", ops_module._HANDWRITTEN - {"softmax"})
    monkeypatch.setattr(ops_module, "_GENERIC", None)
    assert "softmax" in ops_module._generic_names() and "softmax" in dir(bs.ops)
    x = rng.standard_normal((3, 9)).astype(np.float32)
    fn = bs.ops.softmax
    assert fn.__doc__.endswith("(bs.ops.versions(op)).")
    np.testing.assert_array_equal(fn(x), _core.softmax(x).numpy())
    from benchsuite.ops import softmax
    assert softmax is fn


def test_every_registered_op_is_reachable():
    for op in sorted({v["op"] for v in bs.ops.versions()}):
        if callable(getattr(_core, op, None)):
            assert callable(getattr(bs.ops, op)), op
            assert op in dir(bs.ops), op
    with pytest.raises(AttributeError, match="no attribute 'no_such_op'"):
        bs.ops.no_such_op  # noqa: B018


# ---- LayerNorm / RMSNorm: gamma and beta optional, as in torch --------------------------------

@pytest.mark.parametrize("device", ["cpu"] + (["cuda"] if CUDA else []))
def test_norms_take_no_gamma_or_beta(rng, device):
    x = rng.standard_normal((6, 40)).astype(np.float32)
    g = rng.standard_normal(40).astype(np.float32)
    ones, zeros = np.ones(40, np.float32), np.zeros(40, np.float32)

    def dev(a):
        return a if device == "cpu" else bs.Tensor.from_numpy(a).to(device)

    def host(y):
        return y.to("cpu").numpy() if isinstance(y, bs.Tensor) else y
    np.testing.assert_array_equal(host(bs.ops.layernorm(dev(x))), host(bs.ops.layernorm(dev(x), dev(ones), dev(zeros))))
    np.testing.assert_array_equal(host(bs.ops.layernorm(dev(x), dev(g))),
                                  host(bs.ops.layernorm(dev(x), dev(g), dev(zeros))))
    np.testing.assert_array_equal(host(bs.ops.layernorm(dev(x), beta=dev(g))),
                                  host(bs.ops.layernorm(dev(x), dev(ones), dev(g))))
    np.testing.assert_array_equal(host(bs.ops.rmsnorm(dev(x))), host(bs.ops.rmsnorm(dev(x), dev(ones))))
    y, mean, rstd = bs.ops.layernorm(dev(x), eps=1e-3, return_stats=True)
    assert host(mean).shape == (6,) and host(rstd).shape == (6,)


def test_norms_keep_their_positional_signature(rng):
    x = rng.standard_normal((3, 8)).astype(np.float32)
    g, b = np.ones(8, np.float32), np.zeros(8, np.float32)
    assert list(inspect.signature(bs.ops.layernorm).parameters) == ["x", "gamma", "beta", "eps", "impl",
                                                                     "return_stats"]
    assert list(inspect.signature(bs.ops.rmsnorm).parameters) == ["x", "gamma", "eps", "impl", "return_stats"]
    np.testing.assert_array_equal(bs.ops.layernorm(x, g, b, 1e-3), bs.ops.layernorm(x, g, b, eps=1e-3))
    np.testing.assert_array_equal(bs.ops.rmsnorm(x, g, 1e-3), bs.ops.rmsnorm(x, g, eps=1e-3))
