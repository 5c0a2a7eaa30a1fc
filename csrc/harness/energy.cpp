// The energy window, trace arithmetic, the throttle policy, the NVML and RAPL monitors,
// the CPU runner, the Profiler's meter and the host-memory probes.
#include "harness/energy.h"
#include "harness/interrupt.h"

#include <dirent.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "harness/nvml.h"
#include "harness/statistics.h"

namespace benchsuite {

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

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

}  // namespace

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
  fill_energy(r, changes, power, e0, e1, t0, t1, done1 - done0, has_counter, counter_source, s.min_counter_updates,
              monitor.counter_reason());
  return r;
}

// ---- throttle policy ---------------------------------------------------------------------

ClockSummary clocks_unavailable(const std::string& reason) {
  ClockSummary c;
  c.reason = reason;
  return c;
}

ClockSummary apply_throttle_policy(Measurement& m, const std::vector<ClockSample>& clocks,
                                   std::optional<double> max_sm_clock_mhz, const ThrottlePolicy& policy) {
  ClockSummary out;
  out.available = true;
  out.max_sm_clock_mhz = max_sm_clock_mhz;
  if (!max_sm_clock_mhz) {
    for (const ClockSample& c : clocks)
      if (c.sm_mhz) out.max_sm_clock_mhz = std::max(out.max_sm_clock_mhz.value_or(0.0), *c.sm_mhz);
  }
  const double threshold = out.max_sm_clock_mhz ? policy.clock_fraction * *out.max_sm_clock_mhz : 0.0;
  double sum_sm = 0, sum_mem = 0, sum_temp = 0, sum_power = 0;
  int64_t n_sm = 0, n_mem = 0, n_temp = 0, n_power = 0;
  uint64_t seen_reasons = 0;
  std::vector<double> throttled_times;
  for (const ClockSample& c : clocks) {
    if (!c.sm_mhz) continue;
    ++out.samples;
    // Idle-only samples fall between launches (clocks drop while nothing runs): they say
    // nothing about throttling and stay out of the means.
    if (c.reasons && *c.reasons == nvml::kReasonGpuIdle) {
      ++out.idle_samples;
      continue;
    }
    if (c.reasons) seen_reasons |= *c.reasons & ~nvml::kReasonGpuIdle;
    const bool throttled = out.max_sm_clock_mhz && *c.sm_mhz < threshold;
    if (throttled) {
      ++out.throttled_samples;
      throttled_times.push_back(c.t);
      if (policy.discard) continue;
    }
    sum_sm += *c.sm_mhz, ++n_sm;
    if (c.mem_mhz) sum_mem += *c.mem_mhz, ++n_mem;
    if (c.temperature_c) sum_temp += *c.temperature_c, ++n_temp;
    if (c.power_w) sum_power += *c.power_w, ++n_power;
  }
  if (n_sm) out.mean_sm_clock_mhz = sum_sm / n_sm;
  if (n_mem) out.mean_mem_clock_mhz = sum_mem / n_mem;
  if (n_temp) out.mean_temperature_c = sum_temp / n_temp;
  if (n_power) out.mean_power_w = sum_power / n_power;
  for (uint64_t bit = 1; bit <= 0x100; bit <<= 1)
    if (seen_reasons & bit) out.throttle_reasons.push_back(nvml::reason_name(bit));
  if (seen_reasons & ~uint64_t{0x1FF}) out.throttle_reasons.push_back("other");

  const bool spans = m.sample_start_times.size() == m.samples.size() && m.sample_end_times.size() == m.samples.size();
  if (policy.discard && !throttled_times.empty() && spans) {
    std::vector<double> kept, kept_start, kept_end;
    for (size_t i = 0; i < m.samples.size(); ++i) {
      const double a = m.sample_start_times[i], b = m.sample_end_times[i];
      const bool hit = std::any_of(throttled_times.begin(), throttled_times.end(),
                                   [&](double t) { return t >= a && t <= b; });
      if (hit) {
        ++out.discarded_timing_samples;
        continue;
      }
      kept.push_back(m.samples[i]);
      kept_start.push_back(a);
      kept_end.push_back(b);
    }
    if (out.discarded_timing_samples > 0 && !kept.empty()) {
      m.samples = std::move(kept);
      m.sample_start_times = std::move(kept_start);
      m.sample_end_times = std::move(kept_end);
      m.stats = compute_stats(m.samples);
      m.has_stats = true;
    }
  }
  const int64_t active = out.samples - out.idle_samples;
  if (active > 0 && static_cast<double>(out.throttled_samples) > policy.max_throttled_fraction * active) {
    char text[200];
    std::snprintf(text, sizeof(text),
                  "throttled: %lld of %lld clock samples below %.2g x max SM clock %.0f MHz (limit %.3g%%)",
                  static_cast<long long>(out.throttled_samples), static_cast<long long>(active), policy.clock_fraction,
                  out.max_sm_clock_mhz.value_or(0.0), policy.max_throttled_fraction * 100);
    m.invalid_reasons.push_back(text);
  }
  return out;
}

ClockSampler::ClockSampler(DeviceMonitor& monitor, double interval_s) : monitor_(monitor), interval_(interval_s) {}
ClockSampler::~ClockSampler() {
  if (running_) stop();
}
void ClockSampler::start() {
  running_ = true;
  thread_ = std::thread([this] {
    while (running_) {
      ClockSample c = monitor_.sample_clocks();
      c.t = steady_seconds();
      samples_.push_back(c);
      std::this_thread::sleep_for(std::chrono::duration<double>(interval_));
    }
  });
}
std::vector<ClockSample> ClockSampler::stop() {
  running_ = false;
  if (thread_.joinable()) thread_.join();
  return std::move(samples_);
}

// ---- NVML monitor ------------------------------------------------------------------------

NvmlMonitor::NvmlMonitor(int cuda_index) { handle_ = nvml::device_handle(cuda_index, &reason_); }
std::optional<double> NvmlMonitor::energy_joules() { return nvml::total_energy_joules(handle_); }
std::optional<double> NvmlMonitor::power_watts() { return nvml::power_watts(handle_); }
std::optional<double> NvmlMonitor::max_sm_clock_mhz() { return nvml::max_sm_clock_mhz(handle_); }
std::string NvmlMonitor::counter_reason() {
  if (!handle_) return reason_;
  std::string why;
  return nvml::total_energy_joules(handle_, &why) ? std::string() : why;
}
ClockSample NvmlMonitor::sample_clocks() {
  const nvml::Clocks c = nvml::clocks(handle_);
  ClockSample s;
  s.sm_mhz = c.sm_mhz;
  s.mem_mhz = c.mem_mhz;
  s.temperature_c = c.temperature_c;
  s.power_w = c.power_w;
  s.reasons = c.reasons;
  return s;
}

// ---- RAPL monitor ------------------------------------------------------------------------

namespace {
bool read_u64(const std::string& path, uint64_t* value, std::string* why) {
  std::ifstream in(path);
  if (!in) {
    if (why) *why = path + " is not readable (" + std::strerror(errno) + ")";
    return false;
  }
  unsigned long long v = 0;
  if (!(in >> v)) {
    if (why) *why = path + " is not readable (" + (errno ? std::strerror(errno) : "no number") + ")";
    return false;
  }
  *value = v;
  return true;
}
std::string read_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}
}  // namespace

RaplMonitor::RaplMonitor(std::string root) {
  if (root.empty()) {
    const char* env = std::getenv("BENCHSUITE_POWERCAP_ROOT");
    root = env && *env ? env : "/sys/class/powercap";
  }
  DIR* dir = opendir(root.c_str());
  if (!dir) {
    reason_ = "RAPL not present: no powercap directory " + root;
    return;
  }
  std::vector<std::string> names;
  while (dirent* e = readdir(dir)) {
    const std::string name = e->d_name;
    // Top-level package zones only (intel-rapl:0); sub-zones (intel-rapl:0:0) are inside them.
    if (name.rfind("intel-rapl:", 0) == 0 && name.find(':', 11) == std::string::npos) names.push_back(name);
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  if (names.empty()) {
    reason_ = "RAPL not present: no intel-rapl:N zone under " + root;
    return;
  }
  for (const std::string& name : names) {
    Zone z;
    z.path = root + "/" + name;
    z.name = read_line(z.path + "/name");
    if (z.name.empty()) z.name = name;
    std::string why;
    if (!read_u64(z.path + "/energy_uj", &z.last_uj, &why)) {
      reason_ = "RAPL not readable: " + why + (errno == EACCES ? "; energy_uj is root-only since Linux 5.10" : "");
      zones_.clear();
      zone_names_.clear();
      return;
    }
    if (!read_u64(z.path + "/max_energy_range_uj", &z.max_range_uj, nullptr)) z.max_range_uj = 0;
    zone_names_.push_back(z.name);
    zones_.push_back(z);
  }
}

std::optional<double> RaplMonitor::energy_joules() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!reason_.empty()) return std::nullopt;
  double total = 0;
  for (Zone& z : zones_) {
    uint64_t now_uj = 0;
    if (!read_u64(z.path + "/energy_uj", &now_uj, nullptr)) return std::nullopt;
    uint64_t delta;
    if (now_uj >= z.last_uj)
      delta = now_uj - z.last_uj;
    else  // wrapped around at max_energy_range_uj
      delta = (z.max_range_uj >= z.last_uj ? z.max_range_uj - z.last_uj : 0) + now_uj;
    z.total_j += static_cast<double>(delta) * 1e-6;
    z.last_uj = now_uj;
    total += z.total_j;
  }
  return total;
}

// ---- CPU runner and the per-case entry points -------------------------------------------

namespace {
class CpuRunner : public WorkRunner {
 public:
  explicit CpuRunner(const std::function<void()>& fn) : fn_(fn) {}
  void launch(int64_t n) override {
    for (int64_t i = 0; i < n; ++i) fn_();
    done_ += n;
  }
  int64_t completed() override { return done_; }
  void wait(double) override {}
 private:
  const std::function<void()>& fn_;
  int64_t done_ = 0;
};
}  // namespace

EnergyWindowSettings energy_window_settings(const MeasureSettings& s) {
  EnergyWindowSettings w;
  w.min_counter_updates = s.energy_min_updates;
  w.min_window_s = s.energy_min_window;
  w.max_window_s = s.energy_max_window;
  w.warmup_s = s.energy_warmup;
  return w;
}

EnergyWindowResult measure_energy_cpu(const std::function<void()>& fn, const MeasureSettings& settings,
                                      double seconds_per_iter) {
  RaplMonitor monitor;
  if (!monitor.ok()) {
    EnergyWindowResult r;
    r.reason = monitor.reason();
    return r;
  }
  CpuRunner runner(fn);
  EnergyWindowResult r =
      measure_energy_window(runner, monitor, steady_seconds, energy_window_settings(settings), seconds_per_iter);
  if (r.source == "rapl" && r.reason.empty())
    r.reason = "RAPL package energy: the whole socket, including other processes";
  return r;
}

Measurement measure_cuda_with_clocks(const std::function<void(StreamHandle)>& fn, const MeasureSettings& settings,
                                     int device, StreamHandle stream, ClockSummary* clocks) {
  NvmlMonitor monitor(device);
  if (!monitor.ok()) {
    if (clocks) *clocks = clocks_unavailable(monitor.reason());
    return measure_cuda(fn, settings, device, stream);
  }
  ClockSampler sampler(monitor, 0.01);
  sampler.start();
  Measurement m;
  try {
    m = measure_cuda(fn, settings, device, stream);
  } catch (...) {
    sampler.stop();
    throw;
  }
  std::vector<ClockSample> samples = sampler.stop();
  ThrottlePolicy policy;
  policy.clock_fraction = settings.throttle_clock_fraction;
  policy.max_throttled_fraction = settings.max_throttled_fraction;
  policy.discard = settings.throttle_policy == "discard" && !settings.smoke;
  // Samples from before the first / after the last timing sample are warm-up and teardown.
  if (!m.sample_start_times.empty()) {
    const double a = m.sample_start_times.front(), b = m.sample_end_times.back();
    samples.erase(std::remove_if(samples.begin(), samples.end(), [&](const ClockSample& c) { return c.t < a || c.t > b; }),
                  samples.end());
  }
  ClockSummary summary = apply_throttle_policy(m, samples, monitor.max_sm_clock_mhz(), policy);
  if (settings.smoke) m.invalid_reasons.clear();  // a smoke sample claims nothing
  if (clocks) *clocks = summary;
  return m;
}

// ---- EnergyMeter ---------------------------------------------------------------------------

EnergyMeter::EnergyMeter(std::unique_ptr<DeviceMonitor> monitor, std::string unavailable_reason)
    : monitor_(std::move(monitor)), unavailable_(std::move(unavailable_reason)) {}
EnergyMeter::~EnergyMeter() {
  running_ = false;
  if (thread_.joinable()) thread_.join();
}
void EnergyMeter::start() {
  BENCHSUITE_CHECK_ARG(!running_, "EnergyMeter.start(): already running");
  changes_.clear();
  power_.clear();
  t0_ = steady_seconds();
  if (!monitor_) return;
  e0_ = monitor_->energy_joules();
  running_ = true;
  thread_ = std::thread([this] {
    std::optional<double> last = e0_;
    double next_power = 0;
    while (running_) {
      const double t = steady_seconds();
      if (last) {
        const std::optional<double> e = monitor_->energy_joules();
        if (e && *e != *last) changes_.emplace_back(t, *e), last = e;
      }
      if (t >= next_power) {
        next_power = t + 0.01;
        if (const std::optional<double> p = monitor_->power_watts()) power_.emplace_back(t, *p);
      }
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
  });
}
EnergyWindowResult EnergyMeter::stop() {
  const double t1 = steady_seconds();
  running_ = false;
  if (thread_.joinable()) thread_.join();
  EnergyWindowResult r;
  if (!monitor_) {
    r.reason = unavailable_;
    return r;
  }
  const std::optional<double> e1 = monitor_->energy_joules();
  const bool has_counter = e0_.has_value() && e1.has_value();
  // One "iteration": the block. The window is the block itself, so with fewer than ten
  // counter updates the figure is coarse (said in the reason).
  fill_energy(r, changes_, power_, e0_, e1, t0_, t1, 1, has_counter,
              monitor_->kind() == "rapl" ? "rapl" : "nvml_counter", 10, monitor_->counter_reason());
  if (has_counter) {  // a block is not repeated: its counter difference is the energy
    r.joules_per_iter = *e1 - *e0_;
    r.mean_power_w = (t1 > t0_) ? std::optional<double>(*r.joules_per_iter / (t1 - t0_)) : std::nullopt;
  }
  return r;
}

std::unique_ptr<EnergyMeter> make_energy_meter(Device device) {
  if (device.is_cuda()) {
    auto monitor = std::make_unique<NvmlMonitor>(device.index);
    if (!monitor->ok()) return std::make_unique<EnergyMeter>(nullptr, monitor->reason());
    if (!monitor->energy_joules() && !monitor->power_watts())
      return std::make_unique<EnergyMeter>(nullptr, monitor->counter_reason());
    return std::make_unique<EnergyMeter>(std::move(monitor));
  }
  auto monitor = std::make_unique<RaplMonitor>();
  if (!monitor->ok()) return std::make_unique<EnergyMeter>(nullptr, monitor->reason());
  return std::make_unique<EnergyMeter>(std::move(monitor));
}

// ---- host memory -------------------------------------------------------------------------

int64_t host_peak_rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      std::istringstream fields(line.substr(6));
      long long kb = 0;
      if (fields >> kb) return static_cast<int64_t>(kb) * 1024;
    }
  }
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) == 0) return static_cast<int64_t>(usage.ru_maxrss) * 1024;
  return 0;
}

bool reset_host_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  if (!out) return false;
  out << "5";  // 5: reset the peak RSS (Linux >= 4.0)
  out.flush();
  return static_cast<bool>(out);
}

}  // namespace benchsuite
