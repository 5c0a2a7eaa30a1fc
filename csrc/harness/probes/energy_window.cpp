// The energy window and its trace arithmetic (counter fit, power integral).
#include "harness/probes/energy_window.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "harness/interrupt.h"

namespace benchsuite {

void EnergyWindowSettings::validate() const {
  BENCHSUITE_CHECK_ARG(min_counter_updates >= 1, "energy window: min_counter_updates=", min_counter_updates,
                       " must be >= 1");
  for (auto [name, v] : {std::pair<const char*, double>{"min_window_s", min_window_s}, {"warmup_s", warmup_s}})
    BENCHSUITE_CHECK_ARG(std::isfinite(v) && v >= 0, "energy window: ", name, "=", v, " must be >= 0");
  for (auto [name, v] : {std::pair<const char*, double>{"max_window_s", max_window_s}, {"batch_s", batch_s},
                         {"poll_s", poll_s}, {"sample_s", sample_s}})
    BENCHSUITE_CHECK_ARG(std::isfinite(v) && v > 0, "energy window: ", name, "=", v, " must be > 0");
  BENCHSUITE_CHECK_ARG(max_window_s >= min_window_s, "energy window: max_window_s=", max_window_s,
                       " must be >= min_window_s=", min_window_s);
}

double integrate_power(const std::vector<std::pair<double, double>>& samples, double t0, double t1) {
  if (samples.empty() || !(t1 > t0)) return 0.0;
  // Value at time t: linear between samples, flat beyond the ends.
  auto value_at = [&](double t) {
    if (t <= samples.front().first) return samples.front().second;
    if (t >= samples.back().first) return samples.back().second;
    auto it = std::upper_bound(samples.begin(), samples.end(), t,
                               [](double x, const std::pair<double, double>& s) { return x < s.first; });
    const auto& b = *it;
    const auto& a = *(it - 1);
    const double span = b.first - a.first;
    return span > 0 ? a.second + (b.second - a.second) * (t - a.first) / span : b.second;
  };
  double total = 0, prev_t = t0, prev_v = value_at(t0);
  for (const auto& [t, v] : samples) {
    if (t <= t0) continue;
    if (t >= t1) break;
    total += 0.5 * (prev_v + v) * (t - prev_t);
    prev_t = t;
    prev_v = v;
  }
  total += 0.5 * (prev_v + value_at(t1)) * (t1 - prev_t);
  return total;
}

namespace {

// Counter changes inside (t0, t1] -> mean power from the first to the last change.
struct CounterFit {
  int64_t updates = 0;
  std::optional<double> mean_power_w;
};
CounterFit fit_counter(const std::vector<std::pair<double, double>>& changes, double t0, double t1) {
  CounterFit fit;
  const std::pair<double, double>*first = nullptr, *last = nullptr;
  for (const auto& c : changes) {
    if (c.first <= t0 || c.first > t1) continue;
    ++fit.updates;
    if (!first) first = &c;
    last = &c;
  }
  if (first && last && last->first > first->first)
    fit.mean_power_w = (last->second - first->second) / (last->first - first->first);
  return fit;
}

}  // namespace

namespace detail {

void fill_energy(EnergyWindowResult& r, const std::vector<std::pair<double, double>>& changes,
                 const std::vector<std::pair<double, double>>& power, std::optional<double> e0,
                 std::optional<double> e1, double t0, double t1, int64_t reps, bool has_counter,
                 const std::string& counter_source, int64_t min_updates, const std::string& counter_reason) {
  const double window = t1 - t0;
  r.window_s = window;
  r.repetitions = reps;
  r.power_samples = static_cast<int64_t>(power.size());
  if (!power.empty() && window > 0 && reps > 0) {
    const double joules = integrate_power(power, t0, t1);
    r.sampled_joules_per_iter = joules / static_cast<double>(reps);
    r.sampled_mean_power_w = joules / window;
  }
  if (has_counter) {
    const CounterFit fit = fit_counter(changes, t0, t1);
    r.counter_updates = fit.updates;
    if (e0 && e1) r.counter_joules = *e1 - *e0;
    r.source = counter_source;
    if (fit.mean_power_w && reps > 0) {
      r.mean_power_w = *fit.mean_power_w;
      r.joules_per_iter = *fit.mean_power_w * window / static_cast<double>(reps);
    } else if (r.counter_joules && reps > 0 && window > 0) {
      r.mean_power_w = *r.counter_joules / window;
      r.joules_per_iter = *r.counter_joules / static_cast<double>(reps);
    }
    if (fit.updates < min_updates)
      r.reason = "only " + std::to_string(fit.updates) + " counter updates in the window (wanted " +
                 std::to_string(min_updates) + "): low precision";
  } else if (r.sampled_joules_per_iter) {
    r.source = "sampled_power";
    r.joules_per_iter = r.sampled_joules_per_iter;
    r.mean_power_w = r.sampled_mean_power_w;
    r.reason = (counter_reason.empty() ? std::string("no energy counter") : counter_reason) +
               "; energy is sampled power integrated over the window";
  } else {
    r.source = "unavailable";
    r.reason = counter_reason.empty() ? "neither an energy counter nor power readings" : counter_reason;
    r.joules_per_iter.reset();
    r.mean_power_w.reset();
  }
}

}  // namespace detail

EnergyWindowResult measure_energy_window(WorkRunner& runner, DeviceMonitor& monitor,
                                         const std::function<double()>& now, const EnergyWindowSettings& s,
                                         double seconds_per_iter) {
  s.validate();
  EnergyWindowResult r;
  const std::optional<double> first_energy = monitor.energy_joules();
  const bool has_counter = first_energy.has_value();
  const std::optional<double> first_power = monitor.power_watts();
  if (!has_counter && !first_power) {
    r.reason = monitor.counter_reason();
    if (r.reason.empty()) r.reason = "the device has neither an energy counter nor power readings";
    return r;
  }
  const double per_iter = std::isfinite(seconds_per_iter) && seconds_per_iter > 0 ? seconds_per_iter : 1e-3;
  const int64_t batch =
      std::clamp<int64_t>(static_cast<int64_t>(std::ceil(s.batch_s / per_iter)), 1, int64_t{1} << 24);
  const std::string counter_source = monitor.kind() == "rapl" ? "rapl" : "nvml_counter";

  std::vector<std::pair<double, double>> changes, power;
  std::optional<double> last_energy = first_energy;
  double next_sample = -1;
  int64_t launched = 0, done = 0;
  auto poll = [&](double t) {
    if (has_counter) {
      const std::optional<double> e = monitor.energy_joules();
      if (e && (!last_energy || *e != *last_energy)) {
        changes.emplace_back(t, *e);
        last_energy = e;
      }
    }
    if (t >= next_sample) {
      next_sample = t + s.sample_s;
      ClockSample c = monitor.sample_clocks();
      c.t = t;
      if (!c.power_w) c.power_w = monitor.power_watts();
      if (c.power_w) power.emplace_back(t, *c.power_w);
      if (c.sm_mhz || c.mem_mhz || c.temperature_c || c.reasons) r.clock_samples.push_back(c);
    }
  };
  // Keeps two batches queued, waits a poll step, polls; returns true when a completion
  // was observed at this step.
  auto step = [&](bool launch_more) {
    if (launch_more && launched - done < 2 * batch) {
      runner.launch(batch);
      launched += batch;
    }
    runner.wait(s.poll_s);
    const int64_t c = runner.completed();
    poll(now());
    const bool advanced = c > done;
    done = c;
    return advanced;
  };

  const double begin = now();
  while (now() - begin < s.warmup_s || done == 0) {
    step(true);
    if (now() - begin > s.warmup_s + s.max_window_s) break;  // a runner that never completes
    if (interrupt_requested() && done > 0) break;
  }
  // The window opens at an observed completion, so the device is busy from here on.
  while (!step(true)) {
    if (now() - begin > s.warmup_s + s.max_window_s || interrupt_requested()) break;
  }
  const double t0 = now();
  const int64_t done0 = done;
  const std::optional<double> e0 = last_energy;
  const size_t changes_before_window = changes.size();  // every later change is inside it
  const double hard_stop = t0 + s.max_window_s;
  double t1 = t0;
  int64_t done1 = done0;
  for (;;) {
    const bool advanced = step(true);
    const double t = now();
    const bool stop_now = t >= hard_stop || interrupt_requested();
    if (!advanced && !stop_now) continue;
    const int64_t updates =
        has_counter ? static_cast<int64_t>(changes.size() - changes_before_window) : s.min_counter_updates;
    if ((updates >= s.min_counter_updates && t - t0 >= s.min_window_s) || stop_now) {
      t1 = t;
      done1 = done;
      break;
    }
  }
  const std::optional<double> e1 = last_energy;
  while (done < launched) step(false);  // drain, outside the window
  detail::fill_energy(r, changes, power, e0, e1, t0, t1, done1 - done0, has_counter, counter_source,
                      s.min_counter_updates, monitor.counter_reason());
  return r;
}

}  // namespace benchsuite
