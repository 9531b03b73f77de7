// ASCII text helpers.
#include "apigw/core/text.hpp"

#include <boost/url/pct_string_view.hpp>

namespace apigw {

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// Boost.URL does the decoding; its default options keep '+' as '+' (a query's "plus is space" is
// an HTML form rule, not a URI one).
std::optional<std::string> percent_decode(std::string_view s) {
  auto encoded = boost::urls::make_pct_string_view(boost::urls::string_view(s.data(), s.size()));
  if (!encoded) return std::nullopt;
  return encoded->decode();
}

std::string percent_decode_lenient(std::string_view s) {
  // Decode the well-formed runs between stray '%' signs, so each run is one Boost.URL decode and
  // only the stray signs are copied by hand.
  std::string out;
  out.reserve(s.size());
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') continue;
    if (i + 2 < s.size() && hex_digit_value(s[i + 1]) >= 0 && hex_digit_value(s[i + 2]) >= 0) {
      i += 2;
      continue;
    }
    out += *percent_decode(s.substr(run, i - run));
    out += '%';
    run = i + 1;
  }
  out += *percent_decode(s.substr(run));
  return out;
}

}  // namespace apigw
