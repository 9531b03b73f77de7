// The history slice of the SQL store: appends that number a channel's messages (one counter row
// per channel, incremented in the append's transaction), range reads for recovery, and retention.
#include "store/sql_store.hpp"

#include "apigw/core/ids.hpp"
#include "store/sql_common.hpp"

#include <fmt/format.h>

#include <array>

namespace apigw::store {

bool channel_matches(std::string_view pattern, std::string_view channel) noexcept {
  if (!pattern.empty() && pattern.back() == '*') return channel.starts_with(pattern.substr(0, pattern.size() - 1));
  return pattern == channel;
}

}  // namespace apigw::store

namespace apigw::store::detail {
namespace {

// How often (in appends to one channel) an append also deletes the channel's messages past their
// age: often enough to keep the table near its retention, rarely enough that the per-channel scan
// of created_at costs nothing per message. Reads filter by age anyway.
constexpr std::int64_t k_expire_every = 64;

// new_epoch: 16 hex digits of secure randomness. An epoch names one unbroken run of offsets; a
// random one cannot repeat after the history is lost (a deleted database starts at offset 1 again).
result<std::string> new_epoch() {
  std::array<std::byte, 8> bytes{};
  if (auto r = random_bytes(bytes); !r) return r.error();
  return to_hex(bytes);
}

result<void> check_retention(const history_retention& keep) {
  if (keep.max_messages < 1 || keep.max_age.count() < 0) {
    return failure{error::invalid_argument,
                   fmt::format("invalid history retention (max_messages {}, max_age {} s): keep at least one message",
                               keep.max_messages, keep.max_age.count())};
  }
  return ok();
}

failure no_history(std::string_view channel) {
  return {error::not_found, fmt::format("channel '{}' has no history", channel)};
}

result<history_position> read_position(connection& c, std::string_view channel) {
  const param params[] = {std::string{channel}};
  auto r = c.exec(sql::stream_of, params);
  if (!r) return r.error();
  if (r->empty()) return no_history(channel);
  return history_position{cell_text(*r, 0, 0), cell_int(*r, 0, 1)};
}

}  // namespace

result<history_position> sql_store::append_history(std::string_view channel, std::string_view payload,
                                                   const history_retention& keep) {
  if (auto r = check_channel(channel); !r) return r.error();
  if (auto r = check_retention(keep); !r) return r.error();
  auto epoch = new_epoch();
  if (!epoch) return epoch.error();
  const auto now = clock_.now();
  return with_connection(*db_, [&](connection& c) {
    return in_transaction(c, [&]() -> result<history_position> {
      const param advance[] = {std::string{channel}, *epoch, unix_millis(now)};
      auto stream = c.exec(sql::advance_stream, advance);
      if (!stream) return stream.error();
      history_position at{cell_text(*stream, 0, 0), cell_int(*stream, 0, 1)};
      const param insert[] = {std::string{channel}, at.offset, std::string{payload}, unix_millis(now)};
      if (auto r = c.exec(sql::insert_history, insert); !r) return r.error();
      if (at.offset > keep.max_messages) {
        const param trim[] = {std::string{channel}, at.offset - keep.max_messages};
        if (auto r = c.exec(sql::trim_history, trim); !r) return r.error();
      }
      if (keep.max_age.count() > 0 && at.offset % k_expire_every == 0) {
        const param expire[] = {std::string{channel}, unix_millis(now - keep.max_age)};
        if (auto r = c.exec(sql::expire_history, expire); !r) return r.error();
      }
      return at;
    });
  });
}

result<history_position> sql_store::history_position_of(std::string_view channel) {
  return with_connection(*db_, [&](connection& c) { return read_position(c, channel); });
}

result<history_page> sql_store::read_history(std::string_view channel, std::int64_t after, std::size_t limit,
                                             clock::time_point not_before) {
  return with_connection(*db_, [&](connection& c) -> result<history_page> {
    // The position first: every offset up to it was committed with its message (the counter and
    // the message share a transaction), so the range below it has no holes but retention's.
    auto position = read_position(c, channel);
    if (!position) return position.error();
    history_page page{std::move(*position), {}};
    const param params[] = {std::string{channel}, after, page.position.offset, unix_millis(not_before),
                            static_cast<std::int64_t>(limit)};
    auto r = c.exec(sql::history_after, params);
    if (!r) return r.error();
    page.entries.reserve(r->size());
    for (std::size_t i = 0; i < r->size(); ++i) {
      page.entries.push_back({cell_int(*r, i, 0), cell_text(*r, i, 1), from_unix_millis(cell_int(*r, i, 2))});
    }
    return page;
  });
}

result<history_position> sql_store::reset_history(std::string_view channel) {
  auto epoch = new_epoch();
  if (!epoch) return epoch.error();
  const auto now = unix_millis(clock_.now());
  return with_connection(*db_, [&](connection& c) {
    return in_transaction(c, [&]() -> result<history_position> {
      const param reset[] = {std::string{channel}, *epoch, now};
      auto r = c.exec(sql::reset_stream, reset);
      if (!r) return r.error();
      if (r->affected == 0) return no_history(channel);
      const param del[] = {std::string{channel}};
      if (auto d = c.exec(sql::delete_channel_history, del); !d) return d.error();
      return history_position{*epoch, 0};
    });
  });
}

result<std::size_t> sql_store::prune_history(std::string_view pattern, const history_retention& keep) {
  if (auto r = check_retention(keep); !r) return r.error();
  auto channels = history_channels();
  if (!channels) return channels.error();
  const auto cutoff = unix_millis(clock_.now() - keep.max_age);
  std::size_t deleted = 0;
  for (const auto& [channel, at] : *channels) {
    if (!channel_matches(pattern, channel)) continue;
    auto r = with_connection(*db_, [&](connection& c) -> result<std::size_t> {
      std::size_t n = 0;
      if (at.offset > keep.max_messages) {
        const param trim[] = {channel, at.offset - keep.max_messages};
        auto t = c.exec(sql::trim_history, trim);
        if (!t) return t.error();
        n += static_cast<std::size_t>(t->affected);
      }
      if (keep.max_age.count() > 0) {
        const param expire[] = {channel, cutoff};
        auto e = c.exec(sql::expire_history, expire);
        if (!e) return e.error();
        n += static_cast<std::size_t>(e->affected);
      }
      return n;
    });
    if (!r) return r.error();
    deleted += *r;
  }
  return deleted;
}

result<std::vector<std::pair<std::string, history_position>>> sql_store::history_channels() {
  return with_connection(*db_, [&](connection& c) -> result<std::vector<std::pair<std::string, history_position>>> {
    auto r = c.exec(sql::all_streams, {});
    if (!r) return r.error();
    std::vector<std::pair<std::string, history_position>> out;
    for (std::size_t i = 0; i < r->size(); ++i) {
      out.emplace_back(cell_text(*r, i, 0), history_position{cell_text(*r, i, 1), cell_int(*r, i, 2)});
    }
    return out;
  });
}

}  // namespace apigw::store::detail
