// infra.hpp: what `apigw-ws api` and `apigw-ws domain` share besides the provision module (which
// reads api.json, plans and applies): the control-plane connection options (endpoint, region,
// profile) and how they become a signed client, and the endpoint recorded in the store.
#pragma once

#include "apigw/core/error.hpp"
#include "apigw/mgmt/control_plane.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace apigw::cli {

// control_plane_cli: the connection options every infra command takes.
struct control_plane_cli {
  std::optional<std::string> endpoint;  // the local gateway ("http://127.0.0.1:4510") or any control plane
  std::optional<std::string> region;
  std::optional<std::string> profile;
  int retries = 4;              // tries after a throttled (429) or 5xx answer, 1 s, 2 s, 4 s, ... apart
  std::optional<int> attempts;  // --attempts, send's old name for the same idea: retries + 1
};

// add_control_plane_options: adds --endpoint, --region, --profile and --retries (with --attempts
// as an unlisted alias, so one name works on every command) to `cmd`.
void add_control_plane_options(CLI::App* cmd, control_plane_cli& o);

// control_plane_setup: the resolved client options and where the recorded endpoint points.
struct control_plane_setup {
  std::string endpoint_url;  // the control plane
  mgmt::control_plane_options options;
  std::string region;
  bool local = false;              // --endpoint on a loopback host
  std::string credentials_source;  // where the credentials came from; "none (unsigned)" for local
};

// resolve_control_plane: credentials and region from the credentials chain (resolve_aws: --profile,
// botocore's sources, refreshed while a long apply runs). A loopback --endpoint works unsigned and
// defaults to us-east-1; any other endpoint needs credentials and a region, and their absence fails
// naming every place looked.
result<control_plane_setup> resolve_control_plane(const control_plane_cli& o);

// run_io: runs `a` on `io` until it finishes and returns its result (the commands are one-shot).
template <class T>
T run_io(boost::asio::io_context& io, boost::asio::awaitable<T> a) {
  auto f = boost::asio::co_spawn(io, std::move(a), boost::asio::use_future);
  io.run();
  return f.get();
}

// management_endpoint: the Management API endpoint recorded for the API's stage:
// "https://{apiId}.execute-api.{region}.amazonaws.com/{stage}" on AWS, "{endpoint}/{stage}" with
// --endpoint (the local gateway serves @connections on the same port).
std::string management_endpoint(const control_plane_setup& s, std::string_view api_id, std::string_view stage);

}  // namespace apigw::cli
