// dispatch/identity_cache.hpp (private): the built-in authenticator's identities (username and
// permissions) by user id, kept for a short TTL so a burst of messages from one user costs one
// store lookup instead of two per message. Bounded: when full, expired entries are dropped, then
// everything (a flood of distinct users costs lookups, never memory).
//
// Staleness: every entry is tagged with the store's permission_generation() read *before* the
// lookup that filled it; an entry whose tag is not the current generation is never served. A
// grant or revoke through the same store object therefore takes effect on the next request; one
// made elsewhere (another process, the CLI) within the TTL.
#pragma once

#include "apigw/core/clock.hpp"
#include "apigw/dispatch/auth.hpp"

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace apigw::dispatch::detail {

class identity_cache {
 public:
  identity_cache(clock::duration ttl, std::size_t capacity) noexcept : ttl_(ttl), capacity_(capacity) {}

  // enabled: a zero TTL or capacity turns the cache off.
  bool enabled() const noexcept { return ttl_ > clock::duration::zero() && capacity_ > 0; }

  // find: the cached identity of `user` if it has not expired at `now` and was loaded under
  // `generation` (the store's current permission generation).
  std::optional<identity> find(store::user_id user, clock::time_point now, std::uint64_t generation) {
    std::lock_guard lock(mutex_);
    advance(generation);
    const auto it = entries_.find(user);
    if (it == entries_.end()) return std::nullopt;
    if (it->second.generation != generation || it->second.expires <= now) {
      entries_.erase(it);
      return std::nullopt;
    }
    return it->second.who;
  }

  // put: caches `who`, loaded at `now` after reading `generation`. Ignored when the generation has
  // moved on meanwhile (a grant or revoke ran during the lookup: `who` may be stale).
  void put(store::user_id user, const identity& who, clock::time_point now, std::uint64_t generation) {
    std::lock_guard lock(mutex_);
    advance(generation);
    if (generation != generation_) return;
    if (entries_.size() >= capacity_ && !entries_.contains(user)) {
      std::erase_if(entries_, [&](const auto& e) { return e.second.expires <= now; });
      if (entries_.size() >= capacity_) entries_.clear();
    }
    entries_.insert_or_assign(user, entry{who, now + ttl_, generation});
  }

  // forget: drops `user`'s entry. clear: drops every entry.
  void forget(store::user_id user) {
    std::lock_guard lock(mutex_);
    entries_.erase(user);
  }
  void clear() {
    std::lock_guard lock(mutex_);
    entries_.clear();
  }
  // size: entries held (expired ones included until they are found or evicted).
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
  }

 private:
  struct entry {
    identity who;
    clock::time_point expires;
    std::uint64_t generation = 0;
  };
  // advance: a newer generation makes every entry stale. Caller locks.
  void advance(std::uint64_t generation) {
    if (generation > generation_) {
      generation_ = generation;
      entries_.clear();
    }
  }

  clock::duration ttl_;
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::uint64_t generation_ = 0;
  std::unordered_map<store::user_id, entry> entries_;
};

}  // namespace apigw::dispatch::detail
