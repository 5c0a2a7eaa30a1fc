// Text generation on a decoder built with a KV cache (models/transformer.h, kv_cache=true):
// a prefill of the prompt, then one decode step per token, greedy or sampled (temperature,
// top-k, top-p) from a seed, with stop tokens and a maximum length. Times the prefill and
// each decode step for llama-bench's figures (TTFT, TPOT, prefill and decode tokens/s).
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "graph/executor.h"

namespace benchsuite::models {

struct SamplingOptions {
  int64_t max_new_tokens = 20;
  double temperature = 0.0;  // 0: greedy (argmax)
  int64_t top_k = 0;         // 0: all tokens
  double top_p = 1.0;        // nucleus: the smallest set of tokens whose probability reaches top_p
  uint64_t seed = 0;
  std::vector<int64_t> stop_tokens{};  // a row stops after producing one (kept in its output)
  int64_t max_length = 0;              // prompt + generated tokens; 0: the cache capacity
};

struct GenerationOutput {
  std::vector<std::vector<int64_t>> tokens;  // [batch][new tokens], every row the same length
  int64_t prompt_tokens = 0;                 // per row
  double ttft_seconds = 0;                   // prefill and the first token
  std::vector<double> tpot_seconds;          // each decode step
  int64_t kv_cache_bytes = 0;
  std::vector<bool> stopped;                 // per row: produced a stop token
};

// Checks the options (invalid_argument naming the option and value).
void check_sampling(const SamplingOptions& options);

// Next token per row of logits [rows, vocab] (float32, contiguous): argmax when temperature
// is 0, else a draw from softmax(logits / temperature) cut to top_k and top_p, with the
// uniform number `draw` of the seed's stream for each row (row r uses draw + r).
std::vector<int64_t> sample_tokens(const float* logits, int64_t rows, int64_t vocab, const SamplingOptions& options,
                                   uint64_t draw);

// prompt_ids: int64 [batch, prompt_len] on the CPU. The executor's graph takes input_ids and
// the runtime scalar past_len and outputs "logits" [batch, S, vocab]. Rows of different
// lengths are left-padded, prompt_mask [batch, prompt_len] marking real tokens with 1; the
// graph then also takes attention_mask [batch, capacity] and position_ids (built with
// padding_mask=True), which this runner fills so that each row generates as it would alone.
GenerationOutput generate(graph::Executor& executor, const Tensor& prompt_ids, const SamplingOptions& options,
                          const Tensor& prompt_mask = {});

}  // namespace benchsuite::models
