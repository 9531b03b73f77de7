// apigw/mgmt/delivery_report.hpp: the vocabulary of a fan-out send, without its machinery: who
// to deliver to (`recipient`, streamed by a `recipient_source`), where gone connections are
// reported (`gone_sink`), and the outcome (`delivery_report`). No Asio, no HTTP client: code that
// only reads reports or supplies recipients (dispatch's public headers, the store adapters) includes
// this, not sender.hpp.
#pragma once

#include "apigw/core/error.hpp"

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace apigw::mgmt {

// recipient: one connection to deliver to, and the Management API endpoint that owns it
// ("https://abc123.execute-api.eu-west-1.amazonaws.com/dev", "http://127.0.0.1:4510/dev").
struct recipient {
  std::string connection_id;
  std::string endpoint;
};

// recipient_source: recipients streamed page by page. next_page returns the next page, an empty
// vector when there are no more, or a failure. A failure must not move the source on: asked again,
// it returns the page it failed to return, so the sender can wait out a failure that may pass (a
// database restarting between two pages, see source_retry_policy in sender.hpp) without skipping or
// repeating anyone; a failure it gives up on ends the reading, reported in
// delivery_report::source_error. May block: it is called on the sender's blocking pool, one call
// at a time, unless may_block() says it never does.
class recipient_source {
 public:
  virtual ~recipient_source() = default;
  // next_page: the next recipients; empty when done.
  virtual result<std::vector<recipient>> next_page() = 0;
  // may_block: false for a source whose pages are already in memory: the sender then reads them
  // on the send's own strand, sparing a reply the two hops to the blocking pool and back.
  virtual bool may_block() const noexcept { return true; }
};

// vector_source: a recipient_source over a vector (one page).
class vector_source final : public recipient_source {
 public:
  explicit vector_source(std::vector<recipient> recipients) : recipients_(std::move(recipients)) {}
  // next_page: the whole vector once, then empty.
  result<std::vector<recipient>> next_page() override;
  bool may_block() const noexcept override { return false; }

 private:
  std::vector<recipient> recipients_;
  bool done_ = false;
};

// gone_sink: told which connections are gone, so the store can mark them disconnected in one
// batched update. Marking must be idempotent: a failure that may pass is waited out like a
// source's (source_retry_policy) and the same ids handed over again. May block: it is called on
// the sender's blocking pool. A failure it gives up on is reported in
// delivery_report::gone_sink_error (the ids are still in delivery_report::gone).
class gone_sink {
 public:
  virtual ~gone_sink() = default;
  // mark_disconnected: marks these connections disconnected.
  virtual result<void> mark_disconnected(std::span<const std::string> connection_ids) = 0;
};

// delivery_failure: a recipient that could not be delivered to, and why (the last attempt's
// failure; its code compares equal to the shared conditions).
struct delivery_failure {
  std::string connection_id;
  std::string endpoint;
  failure reason;
  std::size_t attempts = 0;
};

// delivery_report: the outcome of one send. Every recipient read from the source is counted in
// exactly one of delivered, gone and failed.
struct delivery_report {
  std::size_t delivered = 0;
  std::vector<std::string> gone;         // connection ids that answered 410
  std::vector<delivery_failure> failed;  // everything else that did not succeed
  std::size_t retries = 0;               // extra attempts over all recipients
  std::size_t source_retries = 0;        // pages asked for again after the source failed
  std::size_t gone_sink_retries = 0;     // gone batches handed over again after the sink failed
  std::chrono::nanoseconds elapsed{0};
  std::optional<failure> source_error;     // the source failed for good; later pages were not read
  std::optional<failure> gone_sink_error;  // mark_disconnected failed
  // recipients: delivered + gone + failed.
  std::size_t recipients() const noexcept { return delivered + gone.size() + failed.size(); }
};

}  // namespace apigw::mgmt
