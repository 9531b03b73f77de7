// @connections request-target parsing.
#include "apigw/gateway/connections_path.hpp"

#include "apigw/core/ids.hpp"
#include "apigw/gateway/error.hpp"

#include <fmt/format.h>

#include <vector>

namespace apigw::gateway {

result<connections_target> parse_connections_path(std::string_view target) {
  if (const auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
  const auto not_ours = [&] {
    return failure{error::not_connections_path, fmt::format("\"{}\" is not /{{stage}}/@connections/{{id}}", target)};
  };
  if (!target.starts_with('/')) return not_ours();
  std::vector<std::string_view> segments;
  std::string_view rest = target.substr(1);
  for (;;) {
    const auto slash = rest.find('/');
    segments.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  if (segments.size() != 2 && segments.size() != 3) return not_ours();
  const std::size_t literal = segments.size() - 2;
  auto word = percent_decode(segments[literal]);
  if (!word || *word != "@connections") return not_ours();
  connections_target out;
  if (literal == 1) {
    auto stage = percent_decode(segments[0]);
    if (!stage || stage->empty()) return not_ours();
    out.stage = std::move(*stage);
  }
  auto id = percent_decode(segments.back());
  if (!id || !is_valid_connection_id(*id)) {
    return failure{error::connection_gone, fmt::format("\"{}\" is not a connection id", segments.back())};
  }
  out.connection_id = std::move(*id);
  return out;
}

}  // namespace apigw::gateway
