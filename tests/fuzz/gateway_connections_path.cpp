// Fuzz target: @connections request-target parsing (what any HTTP client sends to the gateway).
// Must never crash; an accepted target always yields a well-formed connection id.
#include "apigw/core/ids.hpp"
#include "apigw/gateway/connections_path.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto t = apigw::gateway::parse_connections_path(in);
  if (t && !apigw::is_valid_connection_id(t->connection_id)) std::abort();
  (void)apigw::gateway::percent_decode(in);
  return 0;
}
