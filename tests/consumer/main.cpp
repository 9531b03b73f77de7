// consumer: builds a message with the builders, signs a request with SigV4, starts and stops the
// fan-out sender (Asio, OpenSSL), and prints the library's version. Built against an installed
// apigw only (tests/consumer/run.sh); prints one line per check, and exits 1 if one fails.
#include <apigw/core/json.hpp>
#include <apigw/core/version.hpp>
#include <apigw/message/builders.hpp>
#include <apigw/mgmt/sender.hpp>
#include <apigw/sigv4/signer.hpp>

#include <chrono>
#include <cstdio>

int main() {
  auto progress = apigw::task_progress("report-42", 60, "Hashing chunk 6 of 10");
  if (!progress) return 1;
  auto wire = apigw::serialize_message(*progress);
  if (!wire) return 1;
  std::printf("message %s\n", wire->c_str());

  apigw::sigv4::request req{.method = "POST",
                            .path = "/dev/@connections/abc%3D",
                            .query = "",
                            .headers = {{"Host", "example.execute-api.eu-west-1.amazonaws.com"}},
                            .body = *wire};
  apigw::sigv4::signing_params params{.region = "eu-west-1",
                                      .time = apigw::clock::time_point{std::chrono::seconds{1'700'000'000}}};
  auto signed_headers =
      apigw::sigv4::sign(req, {.access_key_id = "AKIDEXAMPLE", .secret_access_key = "secret"}, params);
  if (!signed_headers || signed_headers->empty()) return 1;
  std::printf("signed %zu headers\n", signed_headers->size());

  { apigw::mgmt::sender sender; }  // a real io_context and TLS context, started and stopped
  std::printf("apigw %s\n", apigw::k_version.data());
  return 0;
}
