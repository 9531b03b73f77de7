// dispatch/gateway_cache.hpp (private): registered gateways by API id, cached so the identity
// check of every integration request does not query the store. Known ids are kept for `ttl`,
// unknown ones for `negative_ttl` (short, so a newly registered gateway is served quickly, yet a
// flood of forged ids does not become a flood of queries).
#pragma once

#include "apigw/core/clock.hpp"
#include "apigw/store/gateway_repository.hpp"

#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace apigw::dispatch::detail {

class gateway_cache {
 public:
  gateway_cache(store::gateway_repository& store, clock::duration ttl, clock::duration negative_ttl)
      : store_(store), ttl_(ttl), negative_ttl_(negative_ttl) {}

  // find: the gateway with `api_id` (nullopt when none is registered); the store's failure
  // otherwise (not cached).
  result<std::optional<store::gateway>> find(const std::string& api_id, clock::time_point now) {
    {
      std::lock_guard lock(mutex_);
      if (const auto it = entries_.find(api_id); it != entries_.end() && it->second.expires > now) {
        return it->second.gateway;
      }
    }
    auto g = store_.find_gateway_by_api_id(api_id);
    std::optional<store::gateway> found;
    if (g) {
      found = std::move(*g);
    } else if (g.error() != condition::not_found) {
      return g.error();
    }
    std::lock_guard lock(mutex_);
    if (entries_.size() > 10'000) entries_.clear();  // forged ids cannot grow the cache without bound
    entries_[api_id] = entry{found, now + (found ? ttl_ : negative_ttl_)};
    return found;
  }

 private:
  struct entry {
    std::optional<store::gateway> gateway;
    clock::time_point expires;
  };
  store::gateway_repository& store_;
  clock::duration ttl_;
  clock::duration negative_ttl_;
  std::mutex mutex_;
  std::map<std::string, entry, std::less<>> entries_;
};

}  // namespace apigw::dispatch::detail
