// Fuzz target: SigV4 canonicalisation of arbitrary paths and query strings (normalisation, double
// encoding, query sorting). Must never crash; the canonical forms must be stable (canonicalising a
// canonical query again gives the same text).
#include "apigw/sigv4/signer.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace apigw;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto q = in.find('?');
  const std::string_view path = in.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? std::string_view{} : in.substr(q + 1);
  for (bool dbl : {false, true}) {
    for (bool norm : {false, true}) (void)sigv4::canonical_uri(path, dbl, norm);
  }
  const std::string cq = sigv4::canonical_query_string(query);
  if (sigv4::canonical_query_string(cq) != cq) std::abort();
  sigv4::request req{.method = "GET",
                     .path = std::string(path),
                     .query = std::string(query),
                     .headers = {{"Host", "example.amazonaws.com"}},
                     .body = {}};
  sigv4::signing_params sp{.region = "us-east-1", .service = "service", .time = from_unix_millis(1'440'938'160'000)};
  (void)sigv4::canonical_request(req, sp);
  return 0;
}
