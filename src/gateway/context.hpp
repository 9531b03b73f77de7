// Private to the gateway: what its rooms share: the options, the log, the counters, the served
// configuration and the integration client. One per gateway, owned by shared_ptr; a room's
// pending operations keep it alive.
#pragma once

#include "apigw/core/log.hpp"
#include "apigw/gateway/gateway.hpp"
#include "gateway/integration_client.hpp"
#include "gateway/metrics.hpp"
#include "gateway/served_config.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <utility>

namespace apigw::gateway::detail {

struct context {
  context(boost::asio::any_io_executor ex, gateway_config config, gateway_options options)
      : opts(std::move(options)),
        log(opts.log),
        served(std::move(config), opts.state_file, log),
        integrations(std::move(ex), opts, counters) {}

  gateway_options opts;
  logging::logger log;
  metrics counters;
  served_config served;
  integration_client integrations;
  std::atomic<bool> stopping{false};  // shutdown began: no new connections, no more keep-alive
};

}  // namespace apigw::gateway::detail
