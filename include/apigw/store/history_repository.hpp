// apigw/store/history_repository.hpp: the history slice of the store: the messages published to a
// channel (table channel_history), each with the channel's epoch and a strictly increasing offset
// (table channel_streams holds each channel's epoch and last offset), kept by a retention rule.
//
// Part of session_store (session_store.hpp); dispatch's channel history (publish and recovery) and
// `apigw-ws history` take this slice. Only channels that are published to with a retention rule
// have rows here: other channels cost nothing. Thread-safe and blocking; members return a failure
// instead of throwing.
#pragma once

#include "apigw/core/clock.hpp"
#include "apigw/core/error.hpp"
#include "apigw/store/error.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace apigw::store {

// history_retention: how much of a channel's history is kept: the newest `max_messages` messages,
// and none older than `max_age` (zero: no age limit). Applied on every append (the count) and by
// prune_history (both); reads never return a message past either limit.
struct history_retention {
  std::int64_t max_messages = 1000;
  std::chrono::seconds max_age{0};
};

// history_position: where a channel's history stands: its epoch and its newest offset (0: nothing
// published in this epoch yet).
struct history_position {
  std::string epoch;
  std::int64_t offset = 0;
};

// history_entry: one published message as stored: its offset in the channel's epoch, the message
// (a JSON object, without the envelope) and when it was published.
struct history_entry {
  std::int64_t offset = 0;
  std::string payload;
  clock::time_point created_at{};
};

// history_page: what read_history found: the channel's position when it was read, and the retained
// entries after the asked offset up to that position, in offset order.
struct history_page {
  history_position position;
  std::vector<history_entry> entries;
};

// history_repository: channel_history and channel_streams (see the file comment).
class history_repository {
 public:
  virtual ~history_repository() = default;

  // append_history: stores `payload` as the channel's next message and returns its position (the
  // channel's epoch and the new offset). Offsets of one channel strictly increase, also under
  // concurrent appends from several processes: the channel's counter row is incremented in the
  // append's transaction, which holds its lock until the message is stored, so a reader never sees
  // offset N+1 without N. The first append to a channel starts a new, random epoch. Messages beyond
  // `keep.max_messages` are deleted in the same transaction. invalid_argument for a bad channel
  // name or a max_messages below 1.
  virtual result<history_position> append_history(std::string_view channel, std::string_view payload,
                                                  const history_retention& keep) = 0;
  // history_position_of: the channel's epoch and newest offset; not_found when the channel has no
  // history.
  virtual result<history_position> history_position_of(std::string_view channel) = 0;
  // read_history: the channel's position and the retained messages with an offset above `after`
  // and created at or after `not_before`, in offset order, at most `limit` of them.
  // not_found when the channel has no history.
  virtual result<history_page> read_history(std::string_view channel, std::int64_t after, std::size_t limit,
                                            clock::time_point not_before) = 0;
  // reset_history: deletes the channel's messages and gives it a new epoch (clients that kept a
  // position in the old one are told their gap cannot be recovered). Returns the new position;
  // not_found when the channel has no history.
  virtual result<history_position> reset_history(std::string_view channel) = 0;
  // prune_history: applies `keep` to every channel whose name matches `pattern` (a channel
  // pattern, see channel_matches) and returns how many messages were deleted.
  virtual result<std::size_t> prune_history(std::string_view pattern, const history_retention& keep) = 0;
  // history_channels: the channels that have history, in name order, with their positions.
  virtual result<std::vector<std::pair<std::string, history_position>>> history_channels() = 0;
};

// channel_matches: whether `channel` matches `pattern`: an exact name, a prefix ending in '*'
// ("room:*" matches "room:lobby"), or "*" for every channel.
bool channel_matches(std::string_view pattern, std::string_view channel) noexcept;

}  // namespace apigw::store
