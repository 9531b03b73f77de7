// The store's side of the fan-out sender: recipients read page by page, gone connections marked
// in one batched update, and `delivery` over mgmt::sender.
#include "apigw/dispatch/sender_delivery.hpp"

#include "apigw/dispatch/metrics.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

#include <map>
#include <memory>

namespace apigw::dispatch {

store_recipients::store_recipients(store::session_repository& sessions, store::gateway_repository& gateways,
                                   const store::session_query& q, std::optional<std::string> endpoint_override,
                                   std::size_t page_size)
    : sessions_(sessions),
      gateways_(gateways),
      query_(q.connected_only()),
      override_(std::move(endpoint_override)),
      page_size_(page_size) {}

// The position (after_, done_) moves only when a whole page is handed out: after a failure (the
// page query, or a gateway lookup halfway through the page) the sender asks again and gets the
// same page, so nobody is skipped or delivered to twice.
result<std::vector<mgmt::recipient>> store_recipients::next_page() {
  if (done_) return std::vector<mgmt::recipient>{};
  auto rows = sessions_.page(query_, after_, page_size_);
  if (!rows) return rows.error();
  std::vector<mgmt::recipient> out;
  out.reserve(rows->size());
  for (const auto& s : *rows) {
    auto ep = endpoint_of(s);
    if (!ep) return ep.error();
    out.push_back(mgmt::recipient{s.connection_id, std::move(*ep)});
  }
  if (!rows->empty()) after_ = rows->back().id;
  if (rows->size() < page_size_) done_ = true;
  handed_out_ += out.size();
  return out;
}

result<std::string> store_recipients::endpoint_of(const store::session& s) {
  if (override_) return *override_;
  if (!s.gateway) return std::string{};
  if (auto it = endpoints_.find(*s.gateway); it != endpoints_.end()) return it->second;
  auto g = gateways_.get_gateway(*s.gateway);
  if (!g) {
    if (g.error() == condition::not_found) return std::string{};
    return g.error();
  }
  endpoints_.emplace(*s.gateway, g->endpoint);
  return g->endpoint;
}

result<void> store_gone_sink::mark_disconnected(std::span<const std::string> connection_ids) {
  auto n = store_.mark_gone(connection_ids, created_before_);
  if (!n) return n.error();
  marked_ += *n;
  return ok();
}

namespace {

// run_send_to: one send to known recipients.
boost::asio::awaitable<result<delivery_report>> run_send_to(mgmt::sender& sender, std::vector<mgmt::recipient> to,
                                                            std::shared_ptr<store_gone_sink> sink, std::string body) {
  co_return co_await sender.send(std::move(to), std::move(body), sink.get());
}

// complete_with: the completion of a spawned send: the report, or a failure for an exception;
// counted in `m` (when set) before the handle completes.
auto complete_with(send_handle::completer done, std::shared_ptr<backend_metrics> m, std::string channel = {}) {
  if (m != nullptr) m->send_started();
  return [done, m = std::move(m), channel = std::move(channel)](std::exception_ptr e, result<delivery_report> outcome) {
    if (e) {
      if (m != nullptr) m->send_finished(nullptr, channel);
      done.complete(failure{make_error_code(boost::system::errc::io_error), "the send stopped with an exception"});
      return;
    }
    if (m != nullptr) m->send_finished(outcome ? &*outcome : nullptr, channel);
    done.complete(std::move(outcome));
  };
}

// run_send: one send, owning its source and sink until it finishes (parameters, not lambda
// captures, so they live in the coroutine frame).
boost::asio::awaitable<result<delivery_report>> run_send(mgmt::sender& sender, std::shared_ptr<store_recipients> source,
                                                         std::shared_ptr<store_gone_sink> sink, std::string body) {
  co_return co_await sender.send(*source, std::move(body), sink.get());
}

}  // namespace

sender_delivery::sender_delivery(mgmt::sender& sender, store::session_store& store, sender_delivery_options options)
    : sender_(sender), store_(store), options_(std::move(options)) {}

namespace {
sender_delivery_options options_of(std::optional<std::string> endpoint_override, std::size_t page_size) {
  sender_delivery_options o;
  o.endpoint_override = std::move(endpoint_override);
  o.page_size = page_size;
  return o;
}
}  // namespace

sender_delivery::sender_delivery(mgmt::sender& sender, store::session_store& store,
                                 std::optional<std::string> endpoint_override, std::size_t page_size)
    : sender_delivery(sender, store, options_of(std::move(endpoint_override), page_size)) {}

void sender_delivery::observe(std::shared_ptr<backend_metrics> m) {
  std::lock_guard lock(metrics_mu_);
  metrics_ = std::move(m);
}

std::shared_ptr<backend_metrics> sender_delivery::metrics() {
  std::lock_guard lock(metrics_mu_);
  return metrics_;
}

send_handle sender_delivery::send(const store::session_query& q, const json::value& message) {
  auto text = serialize_message(message);
  if (!text) return send_handle::failed(text.error());
  auto [handle, done] = send_handle::make();
  auto source = std::make_shared<store_recipients>(store_, q, options_.endpoint_override, options_.page_size);
  // Made now, before the first request: its cutoff precedes every 410 of this send.
  auto sink = std::make_shared<store_gone_sink>(store_, options_.connect_window);
  boost::asio::co_spawn(sender_.executor(), run_send(sender_, std::move(source), std::move(sink), std::move(*text)),
                        complete_with(done, metrics(), q.channel().value_or("")));
  return handle;
}

send_handle sender_delivery::send_to(const std::string& connection_id, const std::string& endpoint,
                                     const json::value& message) {
  auto text = serialize_message(message);
  if (!text) return send_handle::failed(text.error());
  auto [handle, done] = send_handle::make();
  std::vector<mgmt::recipient> to{{connection_id, options_.endpoint_override.value_or(endpoint)}};
  // A reply from a $connect handler is answered 410 (the connection is not open yet); the sink's
  // cutoff keeps that from marking the session being connected.
  auto sink = std::make_shared<store_gone_sink>(store_, options_.connect_window);
  boost::asio::co_spawn(sender_.executor(), run_send_to(sender_, std::move(to), std::move(sink), std::move(*text)),
                        complete_with(done, metrics()));
  return handle;
}

result<store::job_id> sender_delivery::send_durable(const store::session_query& q, const json::value& message,
                                                    const job_options& options) {
  auto target = job_target_of(q);
  if (!target) return target.error();
  auto job = start_job(store_, *target, message, options);
  if (!job) return job.error();
  return job->id;
}

result<bool> sender_delivery::disconnect(const store::session& s) {
  std::string endpoint;
  if (options_.endpoint_override) {
    endpoint = *options_.endpoint_override;
  } else {
    if (!s.gateway) {
      return failure{core::error::not_found, "session " + s.connection_id + " has no gateway to close it through"};
    }
    auto g = store_.get_gateway(*s.gateway);
    if (!g) return g.error();
    endpoint = g->endpoint;
  }
  // DeleteConnection also answers 410 while a connection's $connect is still running; the cutoff
  // is taken before the call, as a send's gone sink takes it.
  const auto created_before = store_.time().now() - options_.connect_window;
  result<void> deleted = ok();
  try {
    deleted = boost::asio::co_spawn(sender_.executor(), sender_.delete_connection(endpoint, s.connection_id),
                                    boost::asio::use_future)
                  .get();
  } catch (const std::exception& e) {
    return failure{make_error_code(boost::system::errc::io_error),
                   std::string("DeleteConnection stopped: ") + e.what()};
  }
  const std::string one[] = {s.connection_id};
  if (deleted) {
    auto m = store_.mark_disconnected(one);
    if (!m) return m.error();
    return true;
  }
  if (deleted.error() != condition::connection_gone) return deleted.error();
  auto m = store_.mark_gone(one, created_before);
  if (!m) return m.error();
  return false;
}

}  // namespace apigw::dispatch
