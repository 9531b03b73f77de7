// apigw/store/channel_repository.hpp: the channels slice of the store: which channels a session is
// in (table session_channels; a session may be in several).
//
// Part of session_store (session_store.hpp). The built-in channel handlers and anything that only
// moves connections between channels take this slice. Thread-safe and blocking; members return a
// failure instead of throwing.
#pragma once

#include "apigw/core/error.hpp"
#include "apigw/store/error.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace apigw::store {

// channel_repository: session_channels (see the file comment).
class channel_repository {
 public:
  virtual ~channel_repository() = default;

  // join_channel: adds the session to `channel`. Returns true when it joined, false when it was
  // already a member; not_found for an unknown connection id, invalid_argument for a bad name.
  virtual result<bool> join_channel(std::string_view connection_id, std::string_view channel) = 0;
  // leave_channel: removes the session from `channel`. Returns true when it was a member; not_found
  // for an unknown connection id.
  virtual result<bool> leave_channel(std::string_view connection_id, std::string_view channel) = 0;
  // channels_of: the session's channels in name order; not_found for an unknown connection id.
  virtual result<std::vector<std::string>> channels_of(std::string_view connection_id) = 0;
};

}  // namespace apigw::store
