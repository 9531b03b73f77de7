// Private to the gateway: what its rooms share: the options, the log, the counters, the served
// configuration and the integration clients (one per shard). One per gateway, owned by
// shared_ptr; a room's pending operations keep it alive.
#pragma once

#include "apigw/core/log.hpp"
#include "apigw/gateway/gateway.hpp"
#include "gateway/integration_client.hpp"
#include "gateway/metrics.hpp"
#include "gateway/served_config.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

namespace apigw::gateway::detail {

struct context {
  // context: one integration client per shard executor (connections of a shard call through its
  // own, so the connection pools' sockets complete on the shard's thread).
  context(const std::vector<boost::asio::any_io_executor>& shards, gateway_config config, gateway_options options)
      : opts(std::move(options)), log(opts.log), served(std::move(config), opts.state_file, log) {
    for (const auto& ex : shards) shard_calls.push_back(std::make_unique<integration_client>(ex, opts, counters));
  }

  // integrations: the integration client of shard `shard`.
  integration_client& integrations(std::size_t shard) { return *shard_calls[shard]; }

  // close_integrations: closes every shard's connection pools.
  void close_integrations() {
    for (auto& c : shard_calls) c->close();
  }

  gateway_options opts;
  logging::logger log;
  metrics counters;
  served_config served;
  std::vector<std::unique_ptr<integration_client>> shard_calls;
  std::atomic<bool> stopping{false};  // shutdown began: no new connections, no more keep-alive
};

}  // namespace apigw::gateway::detail
