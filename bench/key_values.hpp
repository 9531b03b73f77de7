// bench/key_values.hpp: the KEY=VALUE arguments of apigw-bench-dispatch and apigw-bench-gateway.
// Each key names a positive count (or a count that may be zero, or a text); anything else prints
// the usage line and exits with 2.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <string_view>

namespace apigw::bench {

struct key_values {
  std::map<std::string, std::size_t*> counts;  // must be > 0 unless listed in may_be_zero
  std::set<std::string> may_be_zero;
  std::map<std::string, std::string*> texts;
};

inline void parse_key_values(int argc, char** argv, const key_values& keys, const char* usage) {
  const auto fail = [usage] {
    std::fprintf(stderr, "usage: %s\n", usage);
    std::exit(2);
  };
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto eq = arg.find('=');
    if (eq == std::string_view::npos) fail();
    const std::string key(arg.substr(0, eq));
    const std::string_view value = arg.substr(eq + 1);
    if (auto t = keys.texts.find(key); t != keys.texts.end()) {
      *t->second = std::string(value);
      continue;
    }
    const auto c = keys.counts.find(key);
    std::size_t v = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (c == keys.counts.end() || ec != std::errc{} || end != value.data() + value.size() ||
        (v == 0 && !keys.may_be_zero.contains(key)))
      fail();
    *c->second = v;
  }
}

}  // namespace apigw::bench
