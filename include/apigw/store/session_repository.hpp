// apigw/store/session_repository.hpp: the sessions slice of the store: one row per connection,
// its state (connected, request count, times) and the queries a send reads recipients with.
//
// Part of session_store (session_store.hpp), which the SQL store implements; components that only
// create, look up, page through or mark sessions take this slice, so their fakes implement these
// members and nothing else. Thread-safe and blocking, like every store slice; members return a
// failure instead of throwing (conflict, not_found, unavailable, invalid_argument).
#pragma once

#include "apigw/core/clock.hpp"
#include "apigw/core/error.hpp"
#include "apigw/store/error.hpp"
#include "apigw/store/records.hpp"
#include "apigw/store/session_query.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace apigw::store {

// Largest page `page()` returns; bigger limits are refused rather than silently cut.
inline constexpr std::size_t k_max_page_size = 10'000;

// session_repository: websocket_sessions (see the file comment).
class session_repository {
 public:
  virtual ~session_repository() = default;

  // time: the clock that stamps every stored time (created_at, updated_at...). Code that compares
  // against stored times (e.g. a cutoff for mark_gone) takes "now" from here, so both sides agree.
  virtual const clock& time() const noexcept = 0;

  // create_session: records a new connected session (request_count 1, all times now) and its initial
  // channels, atomically. Fails with duplicate_connection_id (conflict) when the connection id is
  // taken, without touching the existing row; invalid_argument for a malformed connection id or
  // channel name; constraint_violation when `gateway` names no gateway.
  virtual result<session> create_session(std::string_view connection_id, std::optional<user_id> user,
                                         std::optional<gateway_id> gateway,
                                         std::span<const std::string> channels = {}) = 0;
  // get_session: the session with this id, or not_found.
  virtual result<session> get_session(session_id id) = 0;
  // find_session: the session with this connection id, or not_found.
  virtual result<session> find_session(std::string_view connection_id) = 0;
  // touch: records one more request on the connection (request_count + 1, last_seen_at = now) in a
  // single statement and returns the updated session; not_found for an unknown connection id.
  virtual result<session> touch(std::string_view connection_id) = 0;

  // mark_disconnected: sets connected = false (and updated_at = now) on every listed session that
  // is still connected, in one statement. Unknown and already-disconnected ids are ignored. Returns
  // how many sessions changed.
  virtual result<std::size_t> mark_disconnected(std::span<const std::string> connection_ids) = 0;
  // mark_gone: what a 410 Gone from PostToConnection may mark: like mark_disconnected, in one
  // statement, but only sessions created before `created_before`. API Gateway also answers 410
  // for a connection whose $connect integration has not returned yet; such a session is younger
  // than the integration timeout, and the caller passes (time the sends started - that timeout),
  // so a session still connecting is never marked (docs/design/dispatch.md, "Gone connections").
  virtual result<std::size_t> mark_gone(std::span<const std::string> connection_ids,
                                        clock::time_point created_before) = 0;
  // delete_disconnected_older_than: deletes disconnected sessions (and their channel memberships)
  // whose updated_at is before `cutoff`. Returns how many sessions were deleted.
  virtual result<std::size_t> delete_disconnected_older_than(clock::time_point cutoff) = 0;

  // count: how many sessions match `q`.
  virtual result<std::int64_t> count(const session_query& q) = 0;
  // page: up to `limit` sessions matching `q` with id > `after_id`, in id order (keyset pagination:
  // pass the last id of one page as `after_id` of the next; start with 0). An empty page means the
  // end. With q.newest_first() the order is descending and the page holds ids below `after_id`
  // (0: from the newest). invalid_argument when limit is 0 or above k_max_page_size.
  virtual result<std::vector<session>> page(const session_query& q, session_id after_id, std::size_t limit) = 0;

  // page_visitor: receives one page; returns false to stop the iteration.
  using page_visitor = std::function<bool(std::span<const session>)>;
  // for_each_page: calls `visit` with successive pages of `q` (each at most `page_size` sessions,
  // in id order) until the sessions run out or `visit` returns false. Only one page is in memory at
  // a time. Returns the number of sessions visited, or the first failure.
  result<std::size_t> for_each_page(const session_query& q, std::size_t page_size, const page_visitor& visit);
};

}  // namespace apigw::store
