// The settings table's rows and the one validator that reads them.
#include "harness/settings.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <string_view>

#include "core/error.h"

namespace benchsuite {

namespace {

std::vector<SettingField> make_fields() {
  using namespace setting_rules;
#define BENCHSUITE_SETTING_FIELD(type, name, default_value, rule, unit, help) \
  SettingField{#name, rule, unit, help, &MeasureSettings::name},
  std::vector<SettingField> fields = {BENCHSUITE_MEASURE_SETTINGS(BENCHSUITE_SETTING_FIELD)};
#undef BENCHSUITE_SETTING_FIELD
  // The rules name other settings: each must be an earlier row (not_below, of the same
  // type) or a bool (min_closed_when), so that validate() reads checked values.
  for (size_t i = 0; i < fields.size(); ++i) {
    const SettingField& f = fields[i];
    const bool is_number = f.type_name() == std::string_view("int") || f.type_name() == std::string_view("float");
    BENCHSUITE_CHECK(!is_number || std::isfinite(f.rule.min), "setting ", f.name, " needs a lower bound");
    BENCHSUITE_CHECK(f.type_name() == std::string_view("str") || !f.rule.choices[0], "setting ", f.name,
                     ": choices are for strings");
    auto index_of = [&](const char* name) {
      for (size_t j = 0; j < fields.size(); ++j)
        if (std::string_view(fields[j].name) == name) return j;
      BENCHSUITE_CHECK(false, "setting ", f.name, " names an unknown setting ", name);
      return fields.size();
    };
    if (f.rule.not_below) {
      const size_t j = index_of(f.rule.not_below);
      BENCHSUITE_CHECK(j < i && fields[j].member.index() == f.member.index(), "setting ", f.name,
                       ": not_below must name an earlier setting of its type");
    }
    if (f.rule.min_closed_when)
      BENCHSUITE_CHECK(std::holds_alternative<bool MeasureSettings::*>(fields[index_of(f.rule.min_closed_when)].member),
                       "setting ", f.name, ": min_closed_when must name a bool setting");
  }
  return fields;
}

template <class T>
const T& setting_value(const MeasureSettings& s, const char* name) {
  return s.*std::get<T MeasureSettings::*>(find_measure_setting(name)->member);
}

// "discard or keep", "one of cold, hot, graph"
std::string choices_text(const SettingRule& rule) {
  std::vector<std::string> names;
  for (const char* c : rule.choices)
    if (c) names.emplace_back(c);
  if (names.size() == 2) return names[0] + " or " + names[1];
  std::string text = "one of ";
  for (size_t i = 0; i < names.size(); ++i) text += (i ? ", " : "") + names[i];
  return text;
}

void check_value(const SettingField&, bool, const MeasureSettings&) {}

void check_value(const SettingField& f, const std::string& value, const MeasureSettings&) {
  const auto& choices = f.rule.choices;
  if (!choices[0]) return;
  const bool allowed = std::any_of(choices.begin(), choices.end(), [&](const char* c) { return c && value == c; });
  BENCHSUITE_CHECK_ARG(allowed, "settings.", f.name, "='", value, "' must be ", choices_text(f.rule));
}

void check_value(const SettingField& f, int64_t value, const MeasureSettings& s) {
  const SettingRule& r = f.rule;
  int64_t lowest = static_cast<int64_t>(r.min) + (r.min_open ? 1 : 0);
  if (r.not_below) lowest = std::max(lowest, setting_value<int64_t>(s, r.not_below));
  BENCHSUITE_CHECK_ARG(value >= lowest, "settings.", f.name, "=", value, " must be >= ", lowest);
  if (std::isfinite(r.max)) {
    const int64_t highest = static_cast<int64_t>(r.max) - (r.max_open ? 1 : 0);
    BENCHSUITE_CHECK_ARG(value <= highest, "settings.", f.name, "=", value, " must be <= ", highest);
  }
}

void check_value(const SettingField& f, double value, const MeasureSettings& s) {
  const SettingRule& r = f.rule;
  const bool min_open = r.min_open && !(r.min_closed_when && setting_value<bool>(s, r.min_closed_when));
  const bool in_range = std::isfinite(value) && (min_open ? value > r.min : value >= r.min) &&
                        (r.max_open ? value < r.max : value <= r.max);
  if (!in_range && std::isfinite(r.max)) {
    BENCHSUITE_THROW_ARG("settings.", f.name, "=", value, " must be in ", min_open ? "(" : "[", r.min, ", ", r.max,
                         r.max_open ? ")" : "]", r.none_means ? ", or None to " : "", r.none_means ? r.none_means : "");
  }
  BENCHSUITE_CHECK_ARG(in_range, "settings.", f.name, "=", value, " must be a finite number ", min_open ? "> " : ">= ",
                       r.min);
  if (r.not_below) {
    const double other = setting_value<double>(s, r.not_below);
    BENCHSUITE_CHECK_ARG(value >= other, "settings.", f.name, "=", value, " must be >= ", r.not_below, "=", other);
  }
}

void check_value(const SettingField& f, const std::optional<double>& value, const MeasureSettings& s) {
  if (value) check_value(f, *value, s);
}

}  // namespace

const char* SettingField::type_name() const {
  static constexpr const char* kNames[] = {"int", "float", "float", "bool", "str"};  // SettingMember's order
  static_assert(std::size(kNames) == std::variant_size_v<SettingMember>);
  return kNames[member.index()];
}

bool SettingField::nullable() const { return std::holds_alternative<std::optional<double> MeasureSettings::*>(member); }

const std::vector<SettingField>& measure_settings_fields() {
  static const std::vector<SettingField> fields = make_fields();
  return fields;
}

const SettingField* find_measure_setting(const std::string& name) {
  for (const SettingField& f : measure_settings_fields())
    if (name == f.name) return &f;
  return nullptr;
}

void MeasureSettings::validate() const {
  for (const SettingField& f : measure_settings_fields())
    std::visit([&](auto member) { check_value(f, this->*member, *this); }, f.member);
}

}  // namespace benchsuite
