// Fuzz target: untrusted JSON (a client's message body, a message file for `apigw-ws send`):
// parse, size-check, serialize. Must never crash; anything accepted serializes to valid JSON of the
// same shape. (Not to the identical value: Boost.JSON 1.81 may round a double by one ulp, as
// corpus/json_message/double-rounding shows; that is harmless for messages.)
#include "apigw/core/json.hpp"

#include <boost/json/parse.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace apigw;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)is_valid_utf8(in);
  auto v = parse_json(in);
  if (!v) return 0;
  auto text = serialize_message(*v);
  if (!text) return 0;
  if (text->size() > k_max_message_bytes) std::abort();
  boost::system::error_code ec;
  const auto again = boost::json::parse(*text, ec);
  if (ec || again.kind() != v->kind()) std::abort();
  if (v->is_object()) {
    (void)get_string(v->as_object(), "handler");
    (void)get_int(v->as_object(), "n");
  }
  return 0;
}
