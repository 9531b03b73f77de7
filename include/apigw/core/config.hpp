// apigw/core/config.hpp: typed, validated settings from a JSON file with environment overrides.
//
// A program declares its settings once (`config_schema`): key, type, default, bounds, help. `load`
// reads an optional JSON file (nested objects flatten to dotted keys: {"sender":{"concurrency":64}}
// is "sender.concurrency"), then applies environment overrides (APIGW_SENDER_CONCURRENCY=128), and
// validates everything. Every failure names the file or variable, the key and what was expected.
#pragma once

#include "apigw/core/error.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace apigw {

// setting: one declared key.
struct setting {
  enum class kind { string, integer, boolean };
  std::string key;  // dotted, lower-case: "sender.concurrency"
  kind type = kind::string;
  std::variant<std::string, std::int64_t, bool> default_value;
  std::int64_t min = INT64_MIN;  // integers only
  std::int64_t max = INT64_MAX;
  std::string help;
  // Extra validation for strings: returns an explanation when the value is bad.
  std::function<std::optional<std::string>(std::string_view)> check;
};

using config_schema = std::vector<setting>;

// env_lookup: how environment variables are read (getenv in production, a map in tests).
using env_lookup = std::function<std::optional<std::string>(const std::string&)>;
env_lookup process_environment();

// env_name: the environment variable for a key: "sender.concurrency" -> "APIGW_SENDER_CONCURRENCY".
std::string env_name(std::string_view key);

// config: the loaded values.
class config {
 public:
  // load: defaults, then `file` (when given), then environment overrides. Unknown keys in the file,
  // wrong types, out-of-range numbers and failed checks are invalid_config errors naming the key.
  static result<config> load(const config_schema& schema, const std::optional<std::filesystem::path>& file,
                             const env_lookup& env = process_environment());

  const std::string& get_string(std::string_view key) const;
  std::int64_t get_int(std::string_view key) const;
  bool get_bool(std::string_view key) const;
  // source: where the value of `key` came from: "default", the file path, or the variable name.
  const std::string& source(std::string_view key) const;

 private:
  struct entry {
    std::variant<std::string, std::int64_t, bool> value;
    std::string source;
  };
  const entry& at(std::string_view key) const;
  std::map<std::string, entry, std::less<>> values_;
};

}  // namespace apigw
