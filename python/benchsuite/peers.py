"""Peers: what a user would otherwise call for the same work (NumPy on the CPU, PyTorch
eager on CUDA), measured in the same run on same-shaped fresh random inputs, so every
result carries its speedup over each peer. A peer that is not installed, or has no
equivalent for a case, is a `skipped` comparison with the reason, never an error."""
from __future__ import annotations

import importlib.util
import math
from typing import Any, Callable, Mapping

__all__ = ["PEERS", "peers_for", "measure_peers"]

Builder = Callable[[Mapping[str, Any], str], Callable[[], Any]]

_EPS_LAYERNORM = 1e-5
_EPS_RMSNORM = 1e-5
_ALPHA = 0.75


# ---- NumPy (CPU) -------------------------------------------------------------------------

def _np_rng():
    import numpy as np
    return np, np.random.default_rng()


def _np_dtype(p: Mapping[str, Any]):
    """The NumPy dtype a user would compute in for the case's dtype: float32, or float16
    computed in float16; bfloat16 has no NumPy dtype, so that peer is skipped."""
    import numpy as np
    name = p.get("dtype", "float32")
    if name == "bfloat16":
        raise _Skip("unsupported_dtype", "numpy has no bfloat16")
    if name not in ("float32", "float16"):
        raise _Skip("unsupported_dtype", f"no NumPy peer for dtype={name}")
    return np.dtype(name)


def _np_normal(rng, shape, dtype):
    import numpy as np
    return rng.standard_normal(shape, dtype=np.float32).astype(dtype, copy=False)


def _np_matrix(p: Mapping[str, Any]):
    np, rng = _np_rng()
    return np, rng, _np_normal(rng, (p["rows"], p["cols"]), _np_dtype(p))


def _np_vector(p: Mapping[str, Any]):
    np, rng = _np_rng()
    return np, rng, _np_normal(rng, p["n"], _np_dtype(p))


def _np_binary(ufunc_name: str) -> Builder:
    def build(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
        np, rng, a = _np_vector(p)
        b = _np_normal(rng, p["n"], a.dtype)
        out = np.empty_like(a)
        ufunc = getattr(np, ufunc_name)
        return lambda: ufunc(a, b, out=out)
    return build


def _np_axpy(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    np, rng, x = _np_vector(p)
    y = _np_normal(rng, p["n"], x.dtype)
    out = np.empty_like(x)
    alpha = x.dtype.type(_ALPHA)

    def run() -> Any:
        np.multiply(x, alpha, out=out)
        return np.add(out, y, out=out)
    return run


def _np_activation(kind: str) -> Builder:
    def build(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
        np, _, x = _np_vector(p)
        t = x.dtype.type  # constants in the array's dtype: a float32 scalar would promote float16 arrays
        if kind == "relu":
            out = np.empty_like(x)
            return lambda: np.maximum(x, t(0), out=out)
        if kind == "silu":
            return lambda: x / (t(1) + np.exp(-x))
        k, c = t(math.sqrt(2 / math.pi)), t(0.044715)
        return lambda: t(0.5) * x * (t(1) + np.tanh(k * (x + c * x * x * x)))
    return build


def _np_reduce(kind: str) -> Builder:
    def build(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
        np, _, x = _np_matrix(p)
        fn = {"sum": np.sum, "mean": np.mean, "max": np.max}[kind]
        axis = None if p.get("all") else -1
        return lambda: fn(x, axis=axis)
    return build


def _np_softmax(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    np, _, x = _np_matrix(p)

    def run() -> Any:
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    return run


def _np_log_softmax(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    np, _, x = _np_matrix(p)

    def run() -> Any:
        shifted = x - x.max(axis=-1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return run


def _np_softmax_backward(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    np, rng, y = _np_matrix(p)
    dy = _np_normal(rng, y.shape, y.dtype)
    return lambda: y * (dy - (dy * y).sum(axis=-1, keepdims=True))


def _np_log_softmax_backward(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    np, rng, y = _np_matrix(p)
    dy = _np_normal(rng, y.shape, y.dtype)
    return lambda: dy - np.exp(y) * dy.sum(axis=-1, keepdims=True)


def _np_layernorm(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    np, rng, x = _np_matrix(p)
    g = _np_normal(rng, p["cols"], x.dtype)
    b = _np_normal(rng, p["cols"], x.dtype)
    eps = x.dtype.type(_EPS_LAYERNORM)

    def run() -> Any:
        mean = x.mean(axis=-1, keepdims=True)
        centred = x - mean
        var = (centred * centred).mean(axis=-1, keepdims=True)
        return centred / np.sqrt(var + eps) * g + b
    return run


def _np_rmsnorm(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    np, rng, x = _np_matrix(p)
    g = _np_normal(rng, p["cols"], x.dtype)
    eps = x.dtype.type(_EPS_RMSNORM)
    return lambda: x / np.sqrt((x * x).mean(axis=-1, keepdims=True) + eps) * g


def _np_matmul(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    np, rng = _np_rng()
    if p.get("dtype", "float32") != "float32":
        raise _Skip("unsupported_dtype", f"NumPy has no fast {p['dtype']} matmul")
    lead = (p["batch"],) if p.get("batch", 1) > 1 else ()
    a = rng.standard_normal(lead + (p["m"], p["k"]), dtype=np.float32)
    b = rng.standard_normal(lead + (p["k"], p["n"]), dtype=np.float32)
    return lambda: np.matmul(a, b)


def _np_copy(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    np, _, src = _np_vector(p)
    dst = np.empty_like(src)
    return lambda: np.copyto(dst, src)


def _np_fill(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    import numpy as np
    out = np.empty(p["n"], dtype=p.get("dtype", "float32"))
    return lambda: out.fill(1.5)


def _np_randn(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    np, rng = _np_rng()
    out = np.empty(p["n"], dtype=np.float32)
    return lambda: rng.standard_normal(out=out, dtype=np.float32)


# ---- PyTorch eager (CUDA) ------------------------------------------------------------------

def _torch(p: Mapping[str, Any], device: str):
    import torch
    dtype = getattr(torch, p.get("dtype", "float32"))
    return torch, dtype, torch.device(device)


def _torch_matrix(p: Mapping[str, Any], device: str):
    torch, dtype, dev = _torch(p, device)
    return torch, torch.randn(p["rows"], p["cols"], device=dev, dtype=dtype)


def _torch_vector(p: Mapping[str, Any], device: str):
    torch, dtype, dev = _torch(p, device)
    return torch, torch.randn(p["n"], device=dev, dtype=dtype)


def _torch_simple(make: Callable[[Any, Any], Callable[[], Any]], shape: str = "matrix") -> Builder:
    def build(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
        torch, x = (_torch_matrix if shape == "matrix" else _torch_vector)(p, device)
        return make(torch, x)
    return build


def _torch_binary(name: str) -> Builder:
    def build(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
        torch, a = _torch_vector(p, device)
        b, out = torch.randn_like(a), torch.empty_like(a)
        fn = getattr(torch, name)
        return lambda: fn(a, b, out=out)
    return build


def _torch_axpy(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    torch, x = _torch_vector(p, device)
    y, out = torch.randn_like(x), torch.empty_like(x)
    return lambda: torch.add(y, x, alpha=_ALPHA, out=out)


def _torch_reduce(kind: str) -> Builder:
    def build(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
        torch, x = _torch_matrix(p, device)
        fn = {"sum": torch.sum, "mean": torch.mean, "max": torch.amax}[kind]
        if p.get("all"):
            return lambda: fn(x)
        return lambda: fn(x, dim=-1)
    return build


def _torch_layernorm(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    torch, x = _torch_matrix(p, device)
    # weight and bias in the input's dtype, as layer_norm requires and as our op takes them
    g = torch.randn(p["cols"], device=x.device, dtype=x.dtype)
    b = torch.randn(p["cols"], device=x.device, dtype=x.dtype)
    return lambda: torch.nn.functional.layer_norm(x, (p["cols"],), g, b, _EPS_LAYERNORM)


def _torch_rmsnorm(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    torch, x = _torch_matrix(p, device)
    g = torch.randn(p["cols"], device=x.device, dtype=x.dtype)
    if not hasattr(torch.nn.functional, "rms_norm"):
        raise _Skip("peer_unsupported", "this PyTorch has no torch.nn.functional.rms_norm")
    return lambda: torch.nn.functional.rms_norm(x, (p["cols"],), g, _EPS_RMSNORM)


def _torch_softmax_backward(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    torch, y = _torch_matrix(p, device)
    dy = torch.randn_like(y)
    return lambda: torch._softmax_backward_data(dy, y, -1, y.dtype)


def _torch_log_softmax_backward(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    torch, y = _torch_matrix(p, device)
    dy = torch.randn_like(y)
    return lambda: torch._log_softmax_backward_data(dy, y, -1, y.dtype)


def _torch_matmul(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    torch, dtype, dev = _torch(p, device)
    lead = (p["batch"],) if p.get("batch", 1) > 1 else ()
    a = torch.randn(*lead, p["m"], p["k"], device=dev, dtype=dtype)
    b = torch.randn(*lead, p["k"], p["n"], device=dev, dtype=dtype)
    return lambda: torch.matmul(a, b)


def _torch_copy(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    torch, src = _torch_vector(p, device)
    dst = torch.empty_like(src)
    return lambda: dst.copy_(src)


def _torch_fill(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    torch, out = _torch_vector(p, device)
    return lambda: out.fill_(1.5)


def _torch_randn(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    torch, out = _torch_vector(p, device)
    return lambda: torch.randn(p["n"], device=out.device, out=out)


# ---- data movement and language-model pieces --------------------------------------------

def _np_transpose(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    np, rng = _np_rng()
    x = rng.standard_normal((p.get("batch", 1), p["rows"], p["cols"]), dtype=np.float32)
    out = np.empty((x.shape[0], p["cols"], p["rows"]), dtype=np.float32)
    return lambda: np.copyto(out, np.swapaxes(x, -1, -2))


def _np_contiguous(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    np, rng = _np_rng()
    base = rng.standard_normal((p["cols"], p["rows"]), dtype=np.float32)
    out = np.empty((p["rows"], p["cols"]), dtype=np.float32)
    return lambda: np.copyto(out, base.T)


def _np_concat(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    np, rng = _np_rng()
    parts = [rng.standard_normal((p["rows"], p["cols"]), dtype=np.float32) for _ in range(p["parts"])]
    return lambda: np.concatenate(parts, axis=p.get("dim", 0))


def _np_embedding(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    np, rng = _np_rng()
    weight = rng.standard_normal((p["vocab"], p["dim"]), dtype=np.float32)
    ids = rng.integers(0, p["vocab"], p["tokens"])
    out = np.empty((p["tokens"], p["dim"]), dtype=np.float32)
    return lambda: np.take(weight, ids, axis=0, out=out)


def _np_embedding_backward(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    np, rng = _np_rng()
    dout = rng.standard_normal((p["tokens"], p["dim"]), dtype=np.float32)
    ids = rng.integers(0, p["vocab"], p["tokens"])

    def run() -> Any:
        dweight = np.zeros((p["vocab"], p["dim"]), dtype=np.float32)
        np.add.at(dweight, ids, dout)
        return dweight
    return run


def _np_cross_entropy(backward: bool) -> Builder:
    def build(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
        np, rng = _np_rng()
        x = rng.standard_normal((p["rows"], p["classes"]), dtype=np.float32)
        t = rng.integers(0, p["classes"], p["rows"])
        rows = np.arange(p["rows"])

        def forward() -> Any:
            m = x.max(axis=1, keepdims=True)
            lse = np.log(np.exp(x - m).sum(axis=1)) + m[:, 0]
            return (lse - x[rows, t]).mean()

        def grad() -> Any:
            e = np.exp(x - x.max(axis=1, keepdims=True))
            g = e / e.sum(axis=1, keepdims=True)
            g[rows, t] -= 1
            return g / p["rows"]
        return grad if backward else forward
    return build


def _np_rope(backward: bool) -> Builder:
    def build(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
        np, rng = _np_rng()
        b, t, h, d = p["batch"], p["seq_len"], p["heads"], p["head_dim"]
        x = rng.standard_normal((b, t, h, d), dtype=np.float32)
        half = d // 2
        angle = np.arange(t)[:, None] * 10000.0 ** (-2 * np.arange(half) / d)
        cos = np.cos(angle).astype(np.float32)[None, :, None, :]
        sin = (np.sin(angle) * (-1 if backward else 1)).astype(np.float32)[None, :, None, :]

        def run() -> Any:
            x1, x2 = x[..., :half], x[..., half:]
            return np.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=-1)
        return run
    return build


def _torch_transpose(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    torch, dtype, dev = _torch(p, device)
    x = torch.randn(p.get("batch", 1), p["rows"], p["cols"], device=dev, dtype=dtype)
    out = torch.empty(x.shape[0], p["cols"], p["rows"], device=dev, dtype=dtype)
    return lambda: out.copy_(x.transpose(-1, -2))


def _torch_contiguous(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    torch, dtype, dev = _torch(p, device)
    base = torch.randn(p["cols"], p["rows"], device=dev, dtype=dtype)
    out = torch.empty(p["rows"], p["cols"], device=dev, dtype=dtype)
    return lambda: out.copy_(base.t())


def _torch_concat(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    torch, dtype, dev = _torch(p, device)
    parts = [torch.randn(p["rows"], p["cols"], device=dev, dtype=dtype) for _ in range(p["parts"])]
    return lambda: torch.cat(parts, dim=p.get("dim", 0))


def _torch_embedding(backward: bool) -> Builder:
    def build(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
        torch, dtype, dev = _torch(p, device)
        ids = torch.randint(0, p["vocab"], (p["tokens"],), device=dev)
        if backward:
            grad = torch.randn(p["tokens"], p["dim"], device=dev, dtype=dtype)
            return lambda: torch.ops.aten.embedding_dense_backward(grad, ids, p["vocab"], -1, False)
        weight = torch.randn(p["vocab"], p["dim"], device=dev, dtype=dtype)
        return lambda: torch.nn.functional.embedding(ids, weight)
    return build


def _torch_cross_entropy(backward: bool) -> Builder:
    def build(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
        torch, dtype, dev = _torch(p, device)
        x = torch.randn(p["rows"], p["classes"], device=dev, dtype=dtype)
        t = torch.randint(0, p["classes"], (p["rows"],), device=dev)
        if not backward:
            return lambda: torch.nn.functional.cross_entropy(x, t)
        onehot = torch.nn.functional.one_hot(t, p["classes"]).to(dtype)
        return lambda: torch.softmax(x, -1).sub_(onehot).div_(p["rows"])
    return build


def _np_attention(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    np, rng = _np_rng()
    if p.get("dtype", "float32") != "float32":  # float16 matmuls without BLAS; no bfloat16 at all
        raise _Skip("unsupported_dtype", f"NumPy has no fast {p['dtype']} matmul")
    shape = (p["batch"], p["heads"], p["seq_len"], p["head_dim"])
    q, k, v = (rng.standard_normal(shape, dtype=np.float32) for _ in range(3))
    scale = np.float32(1.0 / math.sqrt(p["head_dim"]))
    mask = np.triu(np.full((p["seq_len"], p["seq_len"]), -np.inf, dtype=np.float32), 1) if p.get("causal") else 0

    def run() -> Any:
        s = (q @ np.swapaxes(k, -1, -2)) * scale + mask
        e = np.exp(s - s.max(axis=-1, keepdims=True))
        return (e / e.sum(axis=-1, keepdims=True)) @ v
    return run


def _torch_attention(backward: bool) -> Builder:
    """torch SDPA in the case's dtype (its fused flash/memory-efficient kernels for fp16/bf16);
    the backward peer times the gradient of a retained forward graph, backward only."""
    def build(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
        torch, dtype, dev = _torch(p, device)
        shape = (p["batch"], p["heads"], p["seq_len"], p["head_dim"])
        q, k, v = (torch.randn(shape, device=dev, dtype=dtype, requires_grad=backward) for _ in range(3))
        sdpa = torch.nn.functional.scaled_dot_product_attention
        causal = bool(p.get("causal"))
        if not backward:
            return lambda: sdpa(q, k, v, is_causal=causal)
        o = sdpa(q, k, v, is_causal=causal)
        do = torch.randn_like(o)
        return lambda: torch.autograd.grad(o, (q, k, v), do, retain_graph=True)
    return build


def _no_peer(package: str, why: str) -> Builder:
    def build(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
        raise _Skip("peer_unsupported", why)
    return build


class _Skip(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


#: family -> device -> peer name -> (python package it needs, builder)
PEERS: dict[str, dict[str, dict[str, tuple[str, Builder]]]] = {
    "add": {"cpu": {"numpy": ("numpy", _np_binary("add"))}, "cuda": {"torch": ("torch", _torch_binary("add"))}},
    "mul": {"cpu": {"numpy": ("numpy", _np_binary("multiply"))},
            "cuda": {"torch": ("torch", _torch_binary("mul"))}},
    "axpy": {"cpu": {"numpy": ("numpy", _np_axpy)}, "cuda": {"torch": ("torch", _torch_axpy)}},
    "relu": {"cpu": {"numpy": ("numpy", _np_activation("relu"))},
             "cuda": {"torch": ("torch", _torch_simple(lambda t, x: lambda: t.relu(x), "vector"))}},
    "gelu": {"cpu": {"numpy": ("numpy", _np_activation("gelu"))},
             "cuda": {"torch": ("torch", _torch_simple(
                 lambda t, x: lambda: t.nn.functional.gelu(x, approximate="tanh"), "vector"))}},
    "silu": {"cpu": {"numpy": ("numpy", _np_activation("silu"))},
             "cuda": {"torch": ("torch", _torch_simple(lambda t, x: lambda: t.nn.functional.silu(x), "vector"))}},
    "sum": {"cpu": {"numpy": ("numpy", _np_reduce("sum"))}, "cuda": {"torch": ("torch", _torch_reduce("sum"))}},
    "mean": {"cpu": {"numpy": ("numpy", _np_reduce("mean"))}, "cuda": {"torch": ("torch", _torch_reduce("mean"))}},
    "max": {"cpu": {"numpy": ("numpy", _np_reduce("max"))}, "cuda": {"torch": ("torch", _torch_reduce("max"))}},
    "softmax": {"cpu": {"numpy": ("numpy", _np_softmax)},
                "cuda": {"torch": ("torch", _torch_simple(lambda t, x: lambda: t.softmax(x, -1)))}},
    "log_softmax": {"cpu": {"numpy": ("numpy", _np_log_softmax)},
                    "cuda": {"torch": ("torch", _torch_simple(lambda t, x: lambda: t.log_softmax(x, -1)))}},
    "softmax_backward": {"cpu": {"numpy": ("numpy", _np_softmax_backward)},
                         "cuda": {"torch": ("torch", _torch_softmax_backward)}},
    "log_softmax_backward": {"cpu": {"numpy": ("numpy", _np_log_softmax_backward)},
                             "cuda": {"torch": ("torch", _torch_log_softmax_backward)}},
    "layernorm": {"cpu": {"numpy": ("numpy", _np_layernorm)}, "cuda": {"torch": ("torch", _torch_layernorm)}},
    "rmsnorm": {"cpu": {"numpy": ("numpy", _np_rmsnorm)}, "cuda": {"torch": ("torch", _torch_rmsnorm)}},
    "matmul": {"cpu": {"numpy": ("numpy", _np_matmul)}, "cuda": {"torch": ("torch", _torch_matmul)}},
    "copy": {"cpu": {"numpy": ("numpy", _np_copy)}, "cuda": {"torch": ("torch", _torch_copy)}},
    "fill": {"cpu": {"numpy": ("numpy", _np_fill)}, "cuda": {"torch": ("torch", _torch_fill)}},
    "randn": {"cpu": {"numpy": ("numpy", _np_randn)}, "cuda": {"torch": ("torch", _torch_randn)}},
    "transpose": {"cpu": {"numpy": ("numpy", _np_transpose)}, "cuda": {"torch": ("torch", _torch_transpose)}},
    "contiguous": {"cpu": {"numpy": ("numpy", _np_contiguous)}, "cuda": {"torch": ("torch", _torch_contiguous)}},
    "concat": {"cpu": {"numpy": ("numpy", _np_concat)}, "cuda": {"torch": ("torch", _torch_concat)}},
    "embedding": {"cpu": {"numpy": ("numpy", _np_embedding)},
                  "cuda": {"torch": ("torch", _torch_embedding(False))}},
    "embedding_backward": {"cpu": {"numpy": ("numpy", _np_embedding_backward)},
                           "cuda": {"torch": ("torch", _torch_embedding(True))}},
    "cross_entropy": {"cpu": {"numpy": ("numpy", _np_cross_entropy(False))},
                      "cuda": {"torch": ("torch", _torch_cross_entropy(False))}},
    "cross_entropy_backward": {"cpu": {"numpy": ("numpy", _np_cross_entropy(True))},
                               "cuda": {"torch": ("torch", _torch_cross_entropy(True))}},
    "rope": {"cpu": {"numpy": ("numpy", _np_rope(False))},
             "cuda": {"torch": ("torch", _no_peer("torch", "PyTorch has no built-in rotary embedding"))}},
    "rope_backward": {"cpu": {"numpy": ("numpy", _np_rope(True))},
                      "cuda": {"torch": ("torch", _no_peer("torch", "PyTorch has no built-in rotary embedding"))}},
    "attention": {"cpu": {"numpy": ("numpy", _np_attention)}, "cuda": {"torch": ("torch", _torch_attention(False))}},
    "attention_backward": {"cuda": {"torch": ("torch", _torch_attention(True))}},
    "selective_scan": {
        "cpu": {"numpy": ("numpy", _no_peer("numpy", "NumPy has no vectorised selective scan"))},
        "cuda": {"torch": ("torch", _no_peer("torch", "PyTorch has no built-in selective scan"))}},
}


def peers_for(case: str, device: str) -> dict[str, tuple[str, Builder]]:
    """The peers of a case family on a device type ('cpu' or 'cuda[:N]')."""
    return PEERS.get(case, {}).get("cuda" if device.startswith("cuda") else "cpu", {})


def measure_peers(case: str, params: Mapping[str, Any], device: str, ours_median: float | None,
                  settings: Any) -> dict[str, dict[str, Any]]:
    """Measure every peer of `case` on `device`; {peer: {status, reason, median_s, speedup}}.

    speedup = peer median / our median: above 1, ours is faster.
    """
    from .measure import measure_callable
    out: dict[str, dict[str, Any]] = {}
    for name, (package, build) in peers_for(case, device).items():
        entry: dict[str, Any] = {"status": "skipped", "reason": None, "median_s": None, "speedup": None}
        out[name] = entry
        if importlib.util.find_spec(package) is None:
            entry["reason"] = f"peer_missing: {package} is not installed"
            continue
        if device.startswith("cuda") and package == "torch":
            import torch
            if not torch.cuda.is_available():
                entry["reason"] = "no_cuda: torch sees no CUDA device"
                continue
        try:
            fn = build(params, device)
        except _Skip as exc:
            entry["reason"] = f"{exc.reason}: {exc}"
            continue
        except (TypeError, KeyError) as exc:  # a case parameter the peer cannot express
            entry["reason"] = f"peer_unsupported: {exc}"
            continue
        result = measure_callable(fn, device=device, name=f"{case}:{name}", settings=settings)
        if result.stats is None:
            entry["reason"] = f"{result.reason}: {result.error or '; '.join(result.reasons)}"
            continue
        entry["status"] = result.status
        entry["median_s"] = result.stats.median
        if result.status == "invalid":
            entry["reason"] = "; ".join(result.reasons)
        if ours_median:
            entry["speedup"] = result.stats.median / ours_median
    return out
