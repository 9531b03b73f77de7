// The control plane's router: pattern matching and the choice of the most specific entry.
#include "gateway/control_plane/router.hpp"

#include <cassert>
#include <tuple>

namespace apigw::gateway::detail::cp {
namespace {

bool is_parameter(std::string_view s) {
  return s.size() >= 2 && s.front() == '{' && s.back() == '}';
}

// specificity: how closely a matching pattern fits; the larger tuple wins.
using specificity = std::tuple<std::size_t, std::size_t, bool, bool>;

// match_pattern: the parameters when `pattern` matches `segments`, else nullopt.
std::optional<std::vector<std::string>> match_pattern(const std::vector<std::string_view>& pattern,
                                                      const std::vector<std::string>& segments) {
  std::vector<std::string> params;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == "**") {
      params.insert(params.end(), segments.begin() + static_cast<std::ptrdiff_t>(i), segments.end());
      return params;
    }
    if (i >= segments.size()) return std::nullopt;
    if (is_parameter(pattern[i])) {
      params.push_back(segments[i]);
    } else if (pattern[i] != segments[i]) {
      return std::nullopt;
    }
  }
  if (pattern.size() != segments.size()) return std::nullopt;
  return params;
}

specificity specificity_of(const route& r, const std::vector<std::string_view>& pattern) {
  const bool rest = !pattern.empty() && pattern.back() == "**";
  std::size_t literals = 0;
  for (auto s : pattern) literals += (s != "**" && !is_parameter(s)) ? 1 : 0;
  return {pattern.size() - (rest ? 1 : 0), literals, !rest, r.method != "*"};
}

}  // namespace

std::vector<std::string_view> split_pattern(std::string_view pattern) {
  std::vector<std::string_view> out;
  while (!pattern.empty()) {
    if (pattern.front() == '/') {
      pattern.remove_prefix(1);
      continue;
    }
    const auto slash = pattern.find('/');
    out.push_back(pattern.substr(0, slash));
    if (slash == std::string_view::npos) break;
    pattern.remove_prefix(slash);
  }
  return out;
}

router::router(std::vector<route> table) : table_(std::move(table)) {
  patterns_.reserve(table_.size());
  for (const auto& r : table_) {
    patterns_.push_back(split_pattern(r.pattern));
    for (std::size_t i = 0; i + 1 < patterns_.back().size(); ++i) assert(patterns_.back()[i] != "**");
  }
}

std::optional<match> router::find(std::string_view method, const std::vector<std::string>& segments) const {
  std::optional<match> best;
  specificity best_fit{};
  for (std::size_t i = 0; i < table_.size(); ++i) {
    if (table_[i].method != "*" && table_[i].method != method) continue;
    auto params = match_pattern(patterns_[i], segments);
    if (!params) continue;
    const auto fit = specificity_of(table_[i], patterns_[i]);
    if (!best || fit > best_fit) {
      best = match{&table_[i], std::move(*params)};
      best_fit = fit;
    }
  }
  return best;
}

}  // namespace apigw::gateway::detail::cp
