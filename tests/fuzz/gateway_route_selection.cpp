// Fuzz target: the route selection expression and its evaluation on an untrusted message (what a
// WebSocket client sends). Input: expression \n message. Must never crash; a parsed expression
// always evaluates (nullopt only when it reads the body of a non-object message).
#include "apigw/gateway/route_selection.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace apigw::gateway;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto nl = in.find('\n');
  const std::string_view expr_text = in.substr(0, nl);
  const std::string_view message = nl == std::string_view::npos ? std::string_view{} : in.substr(nl + 1);
  auto expr = parse_selection_expression(expr_text);
  if (!expr) return 0;
  auto value = evaluate_selection(*expr, message);
  if (!value && !expr->uses_body()) std::abort();
  const auto choice = select_route(*expr, message, [](std::string_view k) { return k == "$default"; });
  if (!choice.route_key || *choice.route_key != "$default") std::abort();
  return 0;
}
