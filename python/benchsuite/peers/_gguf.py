"""Our decoder weights (Hugging Face names, NumPy arrays) written as an F32 GGUF file that
llama.cpp loads, the way llama.cpp's convert_hf_to_gguf.py writes GPT-2 and LLaMA checkpoints:

- names through gguf's own HF -> GGUF table (token_embd, position_embd, blk.N.attn_norm,
  blk.N.attn_qkv / attn_q / attn_k / attn_v, attn_output, ffn_norm, ffn_gate / ffn_up /
  ffn_down, output_norm, output);
- GPT-2's Conv1D weights ([in, out]) transposed to [out, in]; a tied head (no lm_head) is
  not written: llama.cpp then uses token_embd as `output`, as for a converted GPT-2;
- LLaMA's q/k projections permuted from Hugging Face's rotate-half layout to the interleaved
  pairs llama.cpp's rope expects (LlamaModel.permute, k with the KV head count);
- a vocabulary of vocab_size tokens: llama.cpp refuses a model without one. It is a valid
  byte-level BPE vocabulary (the 256 GPT-2 byte characters, then tokens merged from earlier
  ones, each with its merge rule, and a last control token used as BOS/EOS); the peers feed
  token ids, so text is never tokenized with it.

A helper module (no peers of its own): models.py builds the llama.cpp peer on it. `gguf` is
imported only when a file is written."""
from __future__ import annotations

import os
from typing import Any, Mapping

import numpy as np

from ._base import PeerSkip

__all__ = ["write_gguf", "byte_level_vocab"]

_ARCH = {"gpt2": "GPT2", "llama": "LLAMA"}
# Parameters the converter drops (buffers some checkpoints carry), never written
_DROPPED = (".attn.bias", ".attn.masked_bias", "rotary_emb.inv_freq")
_GPT2_CONV1D = (".c_attn.weight", ".c_proj.weight", ".c_fc.weight")


def _gpt2_byte_chars() -> list[str]:
    """GPT-2's bytes_to_unicode: byte b -> the printable character BPE tokens spell it with."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    chars, extra = {}, 0
    for b in range(256):
        if b in printable:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return [chars[b] for b in range(256)]


def byte_level_vocab(vocab_size: int) -> tuple[list[str], list[int], list[str], int]:
    """(tokens, token types, merges, eos id) of a byte-level BPE vocabulary of vocab_size
    tokens: token i < 256 is byte i; token 256 + j is token j // 256 followed by byte j % 256,
    made by the merge "token_{j // 256} byte_{j % 256}" (every token distinct, every merge of
    two existing tokens); the last token is the control token <|endoftext|> (BOS and EOS).
    llama.cpp requires a merge list: below 258 tokens the last byte token gives way to one
    merged pair."""
    if vocab_size < 3:
        raise ValueError(f"vocab_size={vocab_size}: the GGUF vocabulary needs at least 3 tokens")
    chars = _gpt2_byte_chars()
    n = vocab_size - 1
    tokens = chars[:n]
    merges: list[str] = []
    for j in range(max(0, n - 256)):
        left, right = tokens[j // 256], chars[j % 256]
        tokens.append(left + right)
        merges.append(f"{left} {right}")
    if not merges:
        tokens[-1] = chars[0] + chars[0]
        merges.append(f"{chars[0]} {chars[0]}")
    tokens.append("<|endoftext|>")
    types = [1] * n + [3]  # gguf.TokenType NORMAL, CONTROL
    return tokens, types, merges, vocab_size - 1


def _permute(w: np.ndarray, n_head: int) -> np.ndarray:
    """convert_hf_to_gguf's LlamaModel.permute: per head, rows [first half, second half] of
    the rotary dimension (HF's rotate-half) -> interleaved pairs (llama.cpp's rope)."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def _tensors(cfg: Mapping[str, Any], state: Mapping[str, Any], gguf: Any) -> list[tuple[str, np.ndarray]]:
    family = cfg["family"]
    arch = getattr(gguf.MODEL_ARCH, _ARCH[family])
    names = gguf.get_tensor_name_map(arch, int(cfg["num_hidden_layers"]))
    n_head, n_kv = int(cfg["num_attention_heads"]), int(cfg.get("num_key_value_heads") or cfg["num_attention_heads"])
    out: list[tuple[str, np.ndarray]] = []
    for name, value in state.items():
        if name.endswith(_DROPPED):
            continue
        w = np.asarray(value, dtype=np.float32)
        if family == "gpt2" and name.endswith(_GPT2_CONV1D):
            w = w.T
        elif family == "llama" and name.endswith(("q_proj.weight", "q_proj.bias")):
            w = _permute(w, n_head)
        elif family == "llama" and name.endswith(("k_proj.weight", "k_proj.bias")):
            w = _permute(w, n_kv)
        new = names.get_name(name, try_suffixes=(".weight", ".bias"))
        if new is None:
            raise ValueError(f"write_gguf: no GGUF name for {family} parameter {name!r}")
        out.append((new, np.ascontiguousarray(w)))
    return out


def write_gguf(cfg: Mapping[str, Any], state_dict: Mapping[str, Any], path: str | os.PathLike) -> str:
    """Writes `state_dict` (Hugging Face names -> arrays, as our runner draws them) of a model
    of config `cfg` (our model config: family, sizes, norm_eps, rope_theta) to `path` as an F32
    GGUF file llama.cpp loads; returns the path. A family other than gpt2 and llama raises
    PeerSkip("peer_unsupported")."""
    family = cfg.get("family")
    if family not in _ARCH:
        raise PeerSkip("peer_unsupported", f"no GGUF export for model family {family!r} (gpt2 and llama only)")
    import gguf

    arch = getattr(gguf.MODEL_ARCH, _ARCH[family])
    tensors = _tensors(cfg, state_dict, gguf)
    hidden, heads = int(cfg["hidden_size"]), int(cfg["num_attention_heads"])
    vocab = int(cfg["vocab_size"])
    path = os.fspath(path)
    writer = gguf.GGUFWriter(path, gguf.MODEL_ARCH_NAMES[arch])
    writer.add_name(f"benchsuite-{family}")
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_block_count(int(cfg["num_hidden_layers"]))
    writer.add_context_length(int(cfg["max_position_embeddings"]))
    writer.add_embedding_length(hidden)
    writer.add_feed_forward_length(int(cfg["intermediate_size"]))
    writer.add_head_count(heads)
    writer.add_vocab_size(vocab)
    if family == "gpt2":
        writer.add_layer_norm_eps(float(cfg["norm_eps"]))
    else:
        writer.add_head_count_kv(int(cfg.get("num_key_value_heads") or heads))
        writer.add_layer_norm_rms_eps(float(cfg["norm_eps"]))
        writer.add_rope_freq_base(float(cfg["rope_theta"]))
        writer.add_rope_dimension_count(hidden // heads)

    tokens, types, merges, eos = byte_level_vocab(vocab)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("gpt-2" if family == "gpt2" else "default")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    writer.add_bos_token_id(eos)
    writer.add_eos_token_id(eos)
    writer.add_add_bos_token(False)

    for name, w in tensors:
        writer.add_tensor(name, w)
    try:
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
    finally:
        writer.close()
    return path
