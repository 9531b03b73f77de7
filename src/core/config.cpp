// Settings loading and validation.
#include "apigw/core/config.hpp"

#include "apigw/core/json.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace apigw {

env_lookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    if (const char* v = std::getenv(name.c_str())) return std::string(v);
    return std::nullopt;
  };
}

std::string env_name(std::string_view key) {
  std::string out = "APIGW_";
  for (char c : key) {
    out.push_back((c == '.' || c == '-') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return out;
}

namespace {

using value_t = std::variant<std::string, std::int64_t, bool>;

std::string describe(const setting& s) {
  switch (s.type) {
    case setting::kind::string:
      return "a string";
    case setting::kind::boolean:
      return "true or false";
    case setting::kind::integer:
      if (s.min != INT64_MIN && s.max != INT64_MAX) return fmt::format("an integer from {} to {}", s.min, s.max);
      if (s.min != INT64_MIN) return fmt::format("an integer of at least {}", s.min);
      return "an integer";
  }
  return "a value";
}

// Validates a typed value against the setting's bounds and check.
std::optional<std::string> validate(const setting& s, const value_t& v) {
  if (s.type == setting::kind::integer) {
    const auto n = std::get<std::int64_t>(v);
    if (n < s.min || n > s.max) return fmt::format("must be {}, got {}", describe(s), n);
  }
  if (s.type == setting::kind::string && s.check) {
    if (auto why = s.check(std::get<std::string>(v))) return *why;
  }
  return std::nullopt;
}

// Converts text (from the environment) to the setting's type.
std::optional<value_t> from_text(const setting& s, const std::string& text) {
  switch (s.type) {
    case setting::kind::string:
      return value_t{text};
    case setting::kind::boolean:
      if (text == "1" || text == "true" || text == "yes" || text == "on") return value_t{true};
      if (text == "0" || text == "false" || text == "no" || text == "off") return value_t{false};
      return std::nullopt;
    case setting::kind::integer: {
      std::int64_t n = 0;
      const auto* end = text.data() + text.size();
      auto [p, ec] = std::from_chars(text.data(), end, n);
      if (ec != std::errc{} || p != end || text.empty()) return std::nullopt;
      return value_t{n};
    }
  }
  return std::nullopt;
}

// Converts a JSON value (from the file) to the setting's type.
std::optional<value_t> from_json(const setting& s, const json::value& v) {
  switch (s.type) {
    case setting::kind::string:
      if (v.is_string()) return value_t{std::string(v.get_string())};
      return std::nullopt;
    case setting::kind::boolean:
      if (v.is_bool()) return value_t{v.get_bool()};
      return std::nullopt;
    case setting::kind::integer:
      if (v.is_int64()) return value_t{v.get_int64()};
      if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
        return value_t{static_cast<std::int64_t>(v.get_uint64())};
      }
      return std::nullopt;
  }
  return std::nullopt;
}

void flatten(const json::object& obj, const std::string& prefix, std::map<std::string, const json::value*>& out) {
  for (const auto& [k, v] : obj) {
    std::string key = prefix.empty() ? std::string(k) : prefix + "." + std::string(k);
    if (v.is_object()) {
      flatten(v.get_object(), key, out);
    } else {
      out.emplace(std::move(key), &v);
    }
  }
}

}  // namespace

result<config> config::load(const config_schema& schema, const std::optional<std::filesystem::path>& file,
                            const env_lookup& env) {
  config cfg;
  for (const auto& s : schema) cfg.values_[s.key] = entry{s.default_value, "default"};

  if (file) {
    std::ifstream in(*file, std::ios::binary);
    if (!in) {
      return failure{core::error::io_error, fmt::format("config file {}: cannot be read", file->string())};
    }
    std::stringstream buf;
    buf << in.rdbuf();
    auto doc = parse_json_object(buf.str());
    if (!doc)
      return failure{core::error::invalid_config,
                     fmt::format("config file {}: {}", file->string(), doc.error().message)};
    std::map<std::string, const json::value*> flat;
    flatten(*doc, "", flat);
    for (const auto& entry_kv : flat) {
      const std::string& key = entry_kv.first;
      const json::value* v = entry_kv.second;
      auto it = std::find_if(schema.begin(), schema.end(), [&](const setting& s) { return s.key == key; });
      if (it == schema.end()) {
        return failure{core::error::invalid_config,
                       fmt::format("config file {}: unknown key '{}'", file->string(), key)};
      }
      auto typed = from_json(*it, *v);
      if (!typed) {
        return failure{core::error::invalid_config,
                       fmt::format("config file {}: '{}' must be {}", file->string(), key, describe(*it))};
      }
      if (auto why = validate(*it, *typed)) {
        return failure{core::error::invalid_config, fmt::format("config file {}: '{}' {}", file->string(), key, *why)};
      }
      cfg.values_[key] = entry{std::move(*typed), file->string()};
    }
  }

  for (const auto& s : schema) {
    const std::string var = env_name(s.key);
    auto text = env(var);
    if (!text) continue;
    auto typed = from_text(s, *text);
    if (!typed) {
      return failure{core::error::invalid_config,
                     fmt::format("environment variable {}: must be {}, got \"{}\"", var, describe(s), *text)};
    }
    if (auto why = validate(s, *typed)) {
      return failure{core::error::invalid_config, fmt::format("environment variable {}: {}", var, *why)};
    }
    cfg.values_[s.key] = entry{std::move(*typed), var};
  }
  return cfg;
}

const config::entry& config::at(std::string_view key) const {
  auto it = values_.find(key);
  if (it == values_.end()) throw std::out_of_range(fmt::format("config: undeclared key '{}'", key));
  return it->second;
}

const std::string& config::get_string(std::string_view key) const {
  return std::get<std::string>(at(key).value);
}
std::int64_t config::get_int(std::string_view key) const {
  return std::get<std::int64_t>(at(key).value);
}
bool config::get_bool(std::string_view key) const {
  return std::get<bool>(at(key).value);
}
const std::string& config::source(std::string_view key) const {
  return at(key).source;
}

}  // namespace apigw
