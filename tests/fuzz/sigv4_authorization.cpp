// Fuzz target: the SigV4 verifier on an untrusted Authorization header, date and body (what the
// local gateway receives on @connections). Must never crash, and must never accept a request whose
// signature it did not compute.
#include "apigw/sigv4/verifier.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace apigw;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  // Split the input into Authorization \n X-Amz-Date \n path \n body.
  std::string_view parts[4];
  std::string_view rest = in;
  for (int i = 0; i < 3; ++i) {
    const auto nl = rest.find('\n');
    parts[i] = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
  }
  parts[3] = rest;
  (void)sigv4::parse_authorization(parts[0]);

  sigv4::request req{.method = "POST",
                     .path = parts[2].empty() ? std::string("/dev/@connections/abc%3D") : std::string(parts[2]),
                     .query = "",
                     .headers = {{"Host", "127.0.0.1:4510"},
                                 {"X-Amz-Date", std::string(parts[1])},
                                 {"Authorization", std::string(parts[0])}},
                     .body = parts[3]};
  sigv4::verify_params p;
  p.now = from_unix_millis(1'440'938'160'000);
  auto r = sigv4::verify(req, sigv4::static_keys({{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""}}), p);
  (void)r;
  return 0;
}
