"""The model layer for notebooks: build a graph (``Builder``), run it (``Executor``), and the
transformer runners (BERT, GPT-2, LLaMA) with random weights from a seed or Hugging Face
safetensors, and text generation with a KV cache.

    import benchsuite as bs
    m = bs.models.Model("gpt2", num_hidden_layers=2, seq_len=16, seed=0)
    out = m(ids)                      # {"last_hidden_state": ..., "logits": ...}
    m = bs.models.load_pretrained("path/to/hf-checkpoint")     # config.json + *.safetensors
    g = bs.models.generate(m, prompt_ids, max_new_tokens=20, temperature=1.0, top_p=0.9, seed=0)
"""
from __future__ import annotations

from . import layers
from .generation import GenerationResult, generate
from .graph import Builder, Executor, Graph, backward, node_kinds, random_parameters
from .transformer import Model, config_keys, model_config, model_names
from .weights import load_pretrained, read_safetensors, write_safetensors

__all__ = ["Builder", "Executor", "Graph", "backward", "node_kinds", "random_parameters", "Model", "model_names",
           "model_config", "config_keys", "load_pretrained", "read_safetensors", "write_safetensors", "generate",
           "GenerationResult", "layers"]
