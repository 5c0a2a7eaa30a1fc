// The harness settings, defined once: the table BENCHSUITE_MEASURE_SETTINGS gives each
// setting's type, name, default, rule, unit and help. From it come the MeasureSettings
// members and their defaults, MeasureSettings::validate(), the bindings' dict conversions
// and _core.harness_settings_fields(), from which Python builds its HarnessSettings.
#pragma once
#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace benchsuite {

// What values a setting takes beyond its type: bounds for numbers, choices for strings.
// Written with the builders below, e.g. above(0).at_most(1).
struct SettingRule {
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool min_open = false, max_open = false;  // > min / < max instead of >= / <=
  const char* min_closed_when = nullptr;    // a bool setting that, when true, allows min itself
  const char* not_below = nullptr;          // an earlier setting of the same type this one may not be below
  const char* none_means = nullptr;         // a nullable number: what None does (said in the error)
  std::array<const char*, 4> choices{};     // a string's allowed values; unused slots are null

  constexpr SettingRule at_most(double x) const { return with(&SettingRule::max, x); }
  constexpr SettingRule below(double x) const { return at_most(x).with(&SettingRule::max_open, true); }
  constexpr SettingRule or_equal_when(const char* bool_setting) const {
    return with(&SettingRule::min_closed_when, bool_setting);
  }
  constexpr SettingRule not_below_setting(const char* setting) const { return with(&SettingRule::not_below, setting); }
  constexpr SettingRule or_none(const char* what_none_does) const {
    return with(&SettingRule::none_means, what_none_does);
  }
  // A copy with one field set.
  template <class T>
  constexpr SettingRule with(T SettingRule::*field, T value) const {
    SettingRule r = *this;
    r.*field = value;
    return r;
  }
};

namespace setting_rules {
constexpr SettingRule any_value() { return {}; }
constexpr SettingRule at_least(double x) { return SettingRule{}.with(&SettingRule::min, x); }
constexpr SettingRule above(double x) { return at_least(x).with(&SettingRule::min_open, true); }
constexpr SettingRule one_of(const char* a, const char* b, const char* c = nullptr, const char* d = nullptr) {
  return SettingRule{}.with(&SettingRule::choices, {a, b, c, d});
}
}  // namespace setting_rules

// X(type, name, default, rule, unit, help), one row a setting, in the order that profiles,
// results and HarnessSettings.to_dict() list them. A rule names other settings by their
// name; measure_settings_fields() checks those names once.
#define BENCHSUITE_MEASURE_SETTINGS(X)                                                                               \
  X(int64_t, warmup, 3, at_least(0), "runs", "warm-up runs before sampling")                                        \
  X(int64_t, min_samples, 10, at_least(1), "samples", "samples before the stop rule may stop")                      \
  X(int64_t, max_samples, 1000, at_least(1).not_below_setting("min_samples"), "samples", "samples at most")         \
  X(double, min_time, 0.5, at_least(0), "s", "seconds of sampled time before the noise rule may stop")               \
  X(std::optional<double>, max_noise, 0.02, above(0).below(1).or_none("disable the noise rule"), "",                \
    "relative half-width of the median's confidence interval that stops sampling; None: off")                       \
  X(double, timeout, 30.0, above(0), "s", "seconds for the whole case, warm-up included")                           \
  X(std::string, mode, "hot", one_of("cold", "hot", "graph"), "", "GPU timing mode (a CPU case is always cpu)")      \
  X(int64_t, launches_per_sample, 10, at_least(1), "launches", "launches between one event pair in hot/graph mode") \
  X(double, min_sample_time, 1e-4, above(0).or_equal_when("smoke"), "s",                                            \
    "CPU: loops per sample are calibrated to last this long (0 only in smoke runs)")                                \
  X(bool, keep_samples, true, any_value(), "", "keep the raw samples in results")                                   \
  X(bool, check, true, any_value(), "",                                                                             \
    "verify against the reference before timing (read by the caller, which passes it on)")                          \
  X(bool, smoke, false, any_value(), "", "one short sample: exercises the case, measures nothing")                  \
  X(bool, energy, false, any_value(), "",                                                                           \
    "measure energy in a window of repeated runs after the timing (costs time, so off by default)")                 \
  X(int64_t, energy_min_updates, 10, at_least(1), "updates", "energy counter updates the window must span")         \
  X(double, energy_min_window, 1.0, at_least(0), "s", "shortest energy window")                                     \
  X(double, energy_max_window, 30.0, above(0).not_below_setting("energy_min_window"), "s",                          \
    "longest energy window: it stops here even with too few counter updates (reported)")                            \
  X(double, energy_warmup, 1.0, at_least(0), "s", "seconds of running before the energy window opens")              \
  X(double, throttle_clock_fraction, 0.8, above(0).at_most(1), "",                                                  \
    "a GPU clock sample below this x the max SM clock is throttled (clocks are sampled through NVML)")              \
  X(double, max_throttled_fraction, 0.1, at_least(0).at_most(1), "",                                                \
    "more throttled clock samples than this fraction: the result is invalid")                                       \
  X(std::string, throttle_policy, "discard", one_of("discard", "keep"), "",                                         \
    "discard or keep the timing samples that overlap a throttled clock sample")

struct MeasureSettings {
#define BENCHSUITE_SETTING_MEMBER(type, name, default_value, ...) type name = default_value;
  BENCHSUITE_MEASURE_SETTINGS(BENCHSUITE_SETTING_MEMBER)
#undef BENCHSUITE_SETTING_MEMBER
  // Throws invalid_argument naming the field and its value (NaN, negative, ...).
  void validate() const;
};

// One row of the table, with the member it describes.
using SettingMember = std::variant<int64_t MeasureSettings::*, double MeasureSettings::*,
                                   std::optional<double> MeasureSettings::*, bool MeasureSettings::*,
                                   std::string MeasureSettings::*>;
struct SettingField {
  const char* name;
  SettingRule rule;
  const char* unit;  // "" for a pure number, a flag or a name
  const char* help;
  SettingMember member;
  const char* type_name() const;  // int | float | bool | str
  bool nullable() const;          // None is allowed (std::optional)
};

// The table's rows in order; the first call checks the names the rules refer to.
const std::vector<SettingField>& measure_settings_fields();
// The row called `name`, or nullptr.
const SettingField* find_measure_setting(const std::string& name);

}  // namespace benchsuite
