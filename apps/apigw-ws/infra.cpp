// Shared pieces of `apigw-ws api` and `apigw-ws domain`: credentials and region from the
// credentials chain (resolve_aws), and the recorded Management endpoint.
#include "infra.hpp"

#include "apigw/net/url.hpp"
#include "apigw/sigv4/error.hpp"
#include "cli_common.hpp"

#include <fmt/format.h>

namespace apigw::cli {
void add_control_plane_options(CLI::App* cmd, control_plane_cli& o) {
  cmd->add_option("--endpoint", o.endpoint,
                  "Control-plane URL (default https://apigateway.{region}.amazonaws.com; the local gateway: "
                  "http://127.0.0.1:PORT)");
  cmd->add_option("--region", o.region, "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's)");
  cmd->add_option("--profile", o.profile, "AWS profile (default: AWS_PROFILE, else default)");
  auto* retries =
      cmd->add_option("--retries", o.retries,
                      "Retries of a call answered 429 (TooManyRequestsException) or 5xx, 1 s, 2 s, 4 s, ... apart "
                      "(domain-name calls at least 30 s apart, AWS's quota)")
          ->check(CLI::Range(0, 10))
          ->capture_default_str();
  cmd->add_option("--attempts", o.attempts, "Attempts per call (retries + 1; use --retries)")
      ->check(CLI::Range(1, 11))
      ->excludes(retries)
      ->group("");
}

result<control_plane_setup> resolve_control_plane(const control_plane_cli& o) {
  control_plane_setup s;
  if (o.endpoint) {
    auto u = net::parse_url(*o.endpoint);
    if (!u) return failure{u.error().code, fmt::format("--endpoint: {}", u.error().message)};
    const auto& h = u->origin.host;
    s.local = mgmt::is_loopback_host(h);
  }
  auto aws = resolve_aws(o.region, o.profile);
  if (!aws) return aws.error();
  if (aws->found) {
    s.credentials_source = aws->found->source;
  } else if (s.local) {
    s.credentials_source = "none (unsigned requests to the local gateway)";
  } else {
    return failure{sigv4::error::credentials_not_found, "no usable AWS credentials: " + aws->looked};
  }
  if (o.region) {
    s.region = *o.region;
  } else if (auto r = aws->provider->region(); r) {
    s.region = r->region;
  } else if (s.local) {
    s.region = "us-east-1";
  } else {
    return failure{r.error().code, "no AWS region (pass --region): " + r.error().message};
  }
  s.options.signing.region = s.region;
  s.options.signing_lookup = mgmt::provider_signing(aws->provider, s.region);
  s.options.throttle_retries = o.attempts ? *o.attempts - 1 : o.retries;
  s.endpoint_url = o.endpoint ? *o.endpoint : mgmt::default_control_plane_endpoint(s.region);
  while (s.endpoint_url.ends_with('/')) s.endpoint_url.pop_back();
  return s;
}

std::string management_endpoint(const control_plane_setup& s, std::string_view api_id, std::string_view stage) {
  if (s.endpoint_url != mgmt::default_control_plane_endpoint(s.region)) {
    return fmt::format("{}/{}", s.endpoint_url, stage);
  }
  return fmt::format("https://{}.execute-api.{}.amazonaws.com/{}", api_id, s.region, stage);
}

}  // namespace apigw::cli
