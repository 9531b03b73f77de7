// store_delivery.hpp: the wiring between the session store and the fan-out sender, the one place
// (with the examples) where a concrete store meets a concrete sender (DESIGN.md §2).
//
// `store_recipients` streams the connected sessions of a query page by page as sender recipients,
// each with the Management API endpoint of its gateway; `store_gone_sink` marks the connections the
// sender found gone as disconnected, in one statement per batch.
#pragma once

#include "apigw/mgmt/sender.hpp"
#include "apigw/store/session_store.hpp"

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>

namespace apigw::cli {

// store_recipients: a recipient_source over `query.connected_only()`. The endpoint of a recipient
// is `endpoint_override` when set, else its gateway's endpoint (looked up once per gateway). A
// session with neither gets an empty endpoint, which the sender reports as a failed delivery with
// the reason, so nothing is skipped silently.
class store_recipients final : public mgmt::recipient_source {
 public:
  store_recipients(store::session_store& store, const store::session_query& query,
                   std::optional<std::string> endpoint_override, std::size_t page_size = 1000);

  // next_page: the next page of connected sessions as recipients; empty when done.
  result<std::vector<mgmt::recipient>> next_page() override;

  // on_page: called after each page with the number of recipients handed out so far.
  std::function<void(std::size_t)> on_page;

 private:
  result<std::string> endpoint_of(const store::session& s);

  store::session_store& store_;
  store::session_query query_;
  std::optional<std::string> endpoint_override_;
  std::size_t page_size_;
  store::session_id after_ = 0;
  std::size_t handed_out_ = 0;
  bool done_ = false;
  std::map<store::gateway_id, std::string> endpoints_;
};

// store_gone_sink: marks gone connections disconnected in the store.
class store_gone_sink final : public mgmt::gone_sink {
 public:
  explicit store_gone_sink(store::session_store& store) : store_(store) {}
  // mark_disconnected: one store.mark_disconnected call for the batch.
  result<void> mark_disconnected(std::span<const std::string> connection_ids) override;
  // marked: how many sessions changed from connected to disconnected.
  std::size_t marked() const noexcept { return marked_; }

 private:
  store::session_store& store_;
  std::size_t marked_ = 0;
};

}  // namespace apigw::cli
