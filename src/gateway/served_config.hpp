// Private to the gateway: the configuration it serves. The control plane (/v2/...) changes it;
// every change is served from the next request on and rewritten to the state file. Readers get
// an immutable snapshot: a connection or a request in flight keeps the one it holds alive while
// the control plane replaces it.
#pragma once

#include "apigw/core/clock.hpp"
#include "apigw/core/error.hpp"
#include "apigw/core/log.hpp"
#include "apigw/gateway/config.hpp"
#include "apigw/net/http_message.hpp"
#include "gateway/control_plane.hpp"

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace apigw::gateway::detail {

// served_state: one snapshot of the configuration and its stage index.
struct served_state {
  gateway_config config;
  std::unordered_map<std::string, std::pair<const api_config*, const stage_config*>> stages;
};
using state_ptr = std::shared_ptr<const served_state>;

// api_view: an API and stage, and the snapshot that keeps them alive.
struct api_view {
  state_ptr keep;
  const api_config* api = nullptr;
  const stage_config* stage = nullptr;
};

// served_config: see the file comment. Thread-safe.
class served_config {
 public:
  // served_config: serves `initial`; with a `state_file`, load_state() replaces its APIs.
  served_config(gateway_config initial, std::filesystem::path state_file, const logging::logger& log);

  // current: the snapshot served now.
  state_ptr current() const;

  // stage: the API and stage served under the stage `name`, if any.
  std::optional<api_view> stage(std::string_view name) const;

  // latest: the API and stage of a connection made on `at_connect`, as configured now; as they
  // were at its connect when the control plane has since deleted them.
  api_view latest(const api_view& at_connect) const;

  // control_plane_call: one apigatewayv2 request (the caller checked its signature). A change is
  // served from the next request on and saved to the state file.
  net::http_response control_plane_call(std::string_view method, std::string_view target, std::string_view body,
                                        clock::time_point now);

  // load_state: the state file's APIs replace the configuration's; a missing file is written now.
  // Fails with invalid_config when the file cannot be read or used (it is left unchanged).
  result<void> load_state();

 private:
  void save_state();
  void serve(gateway_config c);

  const logging::logger& log_;
  std::filesystem::path state_file_;
  control_plane control_;
  mutable std::mutex mu_;
  state_ptr state_;  // guarded by mu_
  std::mutex save_mu_;
};

}  // namespace apigw::gateway::detail
