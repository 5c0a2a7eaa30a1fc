// Prefill + decode loop and sampling (formulas in models/generation.h).
#include "models/generation.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "core/rng.h"
#include "ops/creation/creation.h"

namespace benchsuite::models {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int output_index(const graph::Graph& g, const std::string& name) {
  const auto& names = g.output_names();
  auto it = std::find(names.begin(), names.end(), name);
  BENCHSUITE_CHECK_ARG(it != names.end(), "generate: the model has no '", name, "' output (build a decoder)");
  return static_cast<int>(it - names.begin());
}
}  // namespace

void check_sampling(const SamplingOptions& o) {
  BENCHSUITE_CHECK_ARG(o.max_new_tokens >= 1, "generate: max_new_tokens=", o.max_new_tokens, " must be >= 1");
  BENCHSUITE_CHECK_ARG(std::isfinite(o.temperature) && o.temperature >= 0, "generate: temperature=", o.temperature,
                       " must be >= 0 (0: greedy)");
  BENCHSUITE_CHECK_ARG(o.top_k >= 0, "generate: top_k=", o.top_k, " must be >= 0 (0: all tokens)");
  BENCHSUITE_CHECK_ARG(o.top_p > 0 && o.top_p <= 1, "generate: top_p=", o.top_p, " must be in (0, 1]");
  BENCHSUITE_CHECK_ARG(o.max_length >= 0, "generate: max_length=", o.max_length, " must be >= 0");
}

std::vector<int64_t> sample_tokens(const float* logits, int64_t rows, int64_t vocab, const SamplingOptions& o,
                                   uint64_t draw) {
  std::vector<int64_t> out(static_cast<size_t>(rows));
  std::vector<int64_t> order(static_cast<size_t>(vocab));
  std::vector<double> p;
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = logits + r * vocab;
    if (o.temperature == 0.0) {
      out[r] = std::max_element(row, row + vocab) - row;  // the first maximum, as torch.argmax
      continue;
    }
    std::iota(order.begin(), order.end(), int64_t{0});
    const int64_t keep_k = o.top_k > 0 ? std::min(o.top_k, vocab) : vocab;
    auto by_logit = [row](int64_t a, int64_t b) { return row[a] > row[b] || (row[a] == row[b] && a < b); };
    std::partial_sort(order.begin(), order.begin() + keep_k, order.end(), by_logit);
    p.assign(static_cast<size_t>(keep_k), 0.0);
    double total = 0;
    for (int64_t i = 0; i < keep_k; ++i) {
      p[i] = std::exp((static_cast<double>(row[order[i]]) - row[order[0]]) / o.temperature);
      total += p[i];
    }
    int64_t keep = keep_k;
    if (o.top_p < 1.0) {  // the smallest prefix whose probability reaches top_p
      double mass = 0;
      for (int64_t i = 0; i < keep_k; ++i) {
        mass += p[i] / total;
        if (mass >= o.top_p) {
          keep = i + 1;
          break;
        }
      }
    }
    double kept = 0;
    for (int64_t i = 0; i < keep; ++i) kept += p[i];
    const double u = static_cast<double>(rng_uniform(o.seed, draw + static_cast<uint64_t>(r), 0.0f, 1.0f)) * kept;
    double acc = 0;
    int64_t pick = keep - 1;
    for (int64_t i = 0; i < keep; ++i) {
      acc += p[i];
      if (u < acc) {
        pick = i;
        break;
      }
    }
    out[r] = order[pick];
  }
  return out;
}

namespace {
// A prompt mask's rows: 1 for real tokens, 0 for padding, padding first (left-padded), at
// least one real token. Returns each row's real-token count.
std::vector<int64_t> real_tokens(const Tensor& mask, int64_t batch, int64_t prompt) {
  BENCHSUITE_CHECK_ARG(mask.ndim() == 2 && mask.size(0) == batch && mask.size(1) == prompt &&
                           mask.device().type == DeviceType::cpu,
                       "generate: attention_mask is ", mask.describe(), ", must be [", batch, ", ", prompt,
                       "] on the CPU like prompt_ids");
  const Tensor m = mask.to(Device{}).contiguous();
  const Tensor f = m.dtype() == DType::float32 ? m : ops::cast(m, DType::float32);
  std::vector<int64_t> real(static_cast<size_t>(batch), 0);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t j = 0; j < prompt; ++j) {
      const float v = f.data<float>()[b * prompt + j];
      BENCHSUITE_CHECK_ARG(v == 0.0f || v == 1.0f, "generate: attention_mask[", b, ", ", j, "]=", v,
                           " must be 0 or 1");
      BENCHSUITE_CHECK_ARG(v == 1.0f || real[b] == 0, "generate: attention_mask row ", b,
                           " has padding after a real token: pad on the left");
      real[b] += v == 1.0f;
    }
  for (int64_t b = 0; b < batch; ++b)
    BENCHSUITE_CHECK_ARG(real[b] > 0, "generate: attention_mask row ", b, " has no real token");
  return real;
}
}  // namespace

GenerationOutput generate(graph::Executor& ex, const Tensor& prompt_ids, const SamplingOptions& o,
                          const Tensor& prompt_mask) {
  check_sampling(o);
  const graph::Graph& g = ex.graph();
  // input_ids alone, or (input_ids, attention_mask [B, capacity], position_ids) for padded batches.
  const bool padded = g.inputs().size() == 3;
  BENCHSUITE_CHECK_ARG(!g.states().empty() && (g.inputs().size() == 1 || padded),
                       "generate: the model must be a decoder built with kv_cache=True");
  BENCHSUITE_CHECK_ARG(prompt_ids.dtype() == DType::int64 && prompt_ids.ndim() == 2 && prompt_ids.size(1) >= 1 &&
                           prompt_ids.device().type == DeviceType::cpu,
                       "generate: prompt_ids must be int64 [batch, prompt_len >= 1] on the CPU, got ",
                       prompt_ids.describe());
  const Shape& cache = g.value(g.states()[0]).type.shape;  // [B, heads, capacity, D]
  const int64_t batch = prompt_ids.size(0), prompt = prompt_ids.size(1), capacity = cache[2];
  BENCHSUITE_CHECK_ARG(batch == cache[0], "generate: prompt_ids has ", batch, " rows, the model was built for batch ",
                       cache[0]);
  const int64_t limit = o.max_length > 0 ? std::min(o.max_length, capacity) : capacity;
  BENCHSUITE_CHECK_ARG(prompt < limit, "generate: the prompt has ", prompt, " tokens, at or above the maximum length ",
                       limit);
  std::vector<int64_t> next_position(static_cast<size_t>(batch), prompt);
  if (prompt_mask.defined()) next_position = real_tokens(prompt_mask, batch, prompt);
  const bool has_padding =
      std::any_of(next_position.begin(), next_position.end(), [&](int64_t n) { return n != prompt; });
  BENCHSUITE_CHECK_ARG(padded || !has_padding,
                       "generate: the prompts are padded; build the model with kv_cache=True and padding_mask=True");
  const int logits_at = output_index(g, "logits");
  const Tensor ids = prompt_ids.contiguous();

  // The padded graph's extra inputs: which cache slots hold real tokens, and each fed token's
  // position (a row's real tokens from 0; its padding from 0 too, never seen).
  Tensor slots, prefill_positions, step_position;
  if (padded) {
    slots = Tensor::empty({batch, capacity}, DType::float32, Device{});
    prefill_positions = Tensor::empty({batch, prompt}, DType::int64, Device{});
    step_position = Tensor::empty({batch, 1}, DType::int64, Device{});
    std::fill_n(slots.data<float>(), batch * capacity, 0.0f);
    for (int64_t b = 0; b < batch; ++b) {
      const int64_t pad = prompt - next_position[b];
      for (int64_t j = 0; j < prompt; ++j) {
        slots.data<float>()[b * capacity + j] = j >= pad ? 1.0f : 0.0f;
        prefill_positions.data<int64_t>()[b * prompt + j] = j >= pad ? j - pad : j;
      }
    }
  }

  GenerationOutput out;
  out.prompt_tokens = prompt;
  out.tokens.assign(static_cast<size_t>(batch), {});
  out.stopped.assign(static_cast<size_t>(batch), false);
  out.kv_cache_bytes = static_cast<int64_t>(ex.stats().state_bytes);
  ex.reset_states();
  Tensor step = Tensor::empty({batch, 1}, DType::int64, Device{});
  uint64_t draw = 0;
  auto take = [&](const Tensor& logits) {  // logits [B, S, V] on any device: the last position
    const Tensor host = logits.to(Device{}).contiguous();
    const int64_t s = host.size(1), vocab = host.size(2);
    std::vector<float> last(static_cast<size_t>(batch * vocab));
    for (int64_t b = 0; b < batch; ++b)
      std::copy_n(host.data<float>() + (b * s + s - 1) * vocab, vocab, last.data() + b * vocab);
    const std::vector<int64_t> next = sample_tokens(last.data(), batch, vocab, o, draw);
    draw += static_cast<uint64_t>(batch);
    for (int64_t b = 0; b < batch; ++b) {
      out.tokens[b].push_back(next[b]);
      step.data<int64_t>()[b] = next[b];
      for (int64_t t : o.stop_tokens) out.stopped[b] = out.stopped[b] || next[b] == t;
    }
  };
  // One call: the tokens `fed` at cache slots from past_len, their positions in the padded case.
  auto run = [&](const Tensor& fed, int64_t past_len, const Tensor& positions) {
    if (!padded) return ex.run({fed}, {{"past_len", past_len}})[logits_at];
    return ex.run({fed, slots, positions}, {{"past_len", past_len}})[logits_at];
  };
  const auto t0 = std::chrono::steady_clock::now();
  take(run(ids, 0, prefill_positions));
  out.ttft_seconds = seconds_since(t0);
  int64_t length = prompt + 1;  // tokens so far; the newest is not in the cache yet
  auto all_stopped = [&] { return std::all_of(out.stopped.begin(), out.stopped.end(), [](bool s) { return s; }); };
  while (static_cast<int64_t>(out.tokens[0].size()) < o.max_new_tokens && length <= limit && !all_stopped()) {
    const auto t1 = std::chrono::steady_clock::now();
    if (padded)
      for (int64_t b = 0; b < batch; ++b) {
        slots.data<float>()[b * capacity + length - 1] = 1.0f;
        step_position.data<int64_t>()[b] = next_position[b]++;
      }
    take(run(step, length - 1, step_position));
    out.tpot_seconds.push_back(seconds_since(t1));
    ++length;
  }
  return out;
}

}  // namespace benchsuite::models
