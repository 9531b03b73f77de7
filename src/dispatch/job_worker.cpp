// The delivery job worker: claim a page, send it with the lease renewed while in flight, record
// the report; wait `poll` when there is nothing to claim.
#include "apigw/dispatch/job_worker.hpp"

#include "apigw/dispatch/sender_delivery.hpp"

#include <fmt/format.h>
#include <unistd.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

#include <future>
#include <memory>

namespace apigw::dispatch {
namespace {

std::string default_owner() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return fmt::format("{}:{}", host, ::getpid());
}

boost::asio::awaitable<result<delivery_report>> run_page(mgmt::sender& sender, std::vector<mgmt::recipient> to,
                                                         std::shared_ptr<store_gone_sink> sink, std::string body) {
  co_return co_await sender.send(std::move(to), std::move(body), sink.get());
}

store::job_page_report page_report(const delivery_report& r) {
  store::job_page_report out;
  out.counts.delivered = static_cast<std::int64_t>(r.delivered);
  out.counts.gone = static_cast<std::int64_t>(r.gone.size());
  out.counts.failed = static_cast<std::int64_t>(r.failed.size());
  out.counts.retries = static_cast<std::int64_t>(r.retries);
  for (const auto& f : r.failed) {
    if (f.reason.code == condition::payload_too_large) ++out.counts.too_large;
    if (out.failures.size() < store::k_max_job_failures) out.failures.push_back({f.connection_id, f.reason.what()});
  }
  return out;
}

}  // namespace

job_worker::job_worker(mgmt::sender& sender, store::session_store& store, job_worker_options options)
    : sender_(sender), store_(store), options_(std::move(options)) {
  if (options_.owner.empty()) options_.owner = default_owner();
  if (options_.threads == 0) options_.threads = 1;
}

job_worker::~job_worker() {
  stop();
}

void job_worker::start() {
  std::lock_guard lock(mu_);
  if (!threads_.empty() || stopping_) return;
  for (std::size_t i = 0; i < options_.threads; ++i) threads_.emplace_back([this] { loop(); });
}

void job_worker::stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    threads.swap(threads_);
  }
  cv_.notify_all();
  for (auto& t : threads) t.join();
}

void job_worker::loop() {
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    auto sent = run_once();
    if (!sent && options_.on_error) options_.on_error(sent.error());
    if (sent && *sent) continue;  // there may be more: ask again at once
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, options_.poll, [&] { return stopping_; });
  }
}

result<std::string> job_worker::endpoint_of(const store::session& s) {
  if (options_.endpoint_override) return *options_.endpoint_override;
  if (!s.gateway) return std::string{};
  {
    std::lock_guard lock(endpoints_mu_);
    if (auto it = endpoints_.find(*s.gateway); it != endpoints_.end()) return it->second;
  }
  auto g = store_.get_gateway(*s.gateway);
  if (!g) {
    if (g.error() == condition::not_found) return std::string{};
    return g.error();
  }
  std::lock_guard lock(endpoints_mu_);
  endpoints_.emplace(*s.gateway, g->endpoint);
  return g->endpoint;
}

result<bool> job_worker::run_once() {
  auto claimed = store_.claim_page(options_.owner, options_.lease, options_.max_attempts);
  if (!claimed) return claimed.error();
  if (!*claimed) return false;
  auto& claim = **claimed;
  std::vector<mgmt::recipient> to;
  to.reserve(claim.recipients.size());
  for (const auto& s : claim.recipients) {
    auto ep = endpoint_of(s);
    // The lease runs out and another worker takes the page: nothing is lost by giving up here.
    if (!ep) return ep.error();
    to.push_back({s.connection_id, std::move(*ep)});
  }
  // Made before the first request, as sender_delivery's: its cutoff precedes every 410 of the page.
  auto sink = std::make_shared<store_gone_sink>(store_, options_.connect_window);
  auto pending = boost::asio::co_spawn(sender_.executor(), run_page(sender_, std::move(to), sink, claim.message),
                                       boost::asio::use_future);
  // Renew while the page is in flight, so a slow page (throttling, retries) is not taken over by
  // a live worker. A renewal that finds the claim lost does not stop the send: the page is sent
  // twice, which the message id makes harmless, and finish_page will not count it twice.
  const auto renew_every = std::max(options_.lease / 3, std::chrono::milliseconds{1});
  while (pending.wait_for(renew_every) != std::future_status::ready) {
    (void)store_.renew_lease(claim, options_.lease);
  }
  result<delivery_report> outcome = failure{make_error_code(boost::system::errc::io_error), "the page send stopped"};
  try {
    outcome = pending.get();
  } catch (const std::exception& e) {
    outcome =
        failure{make_error_code(boost::system::errc::io_error), std::string("the page send stopped: ") + e.what()};
  }
  store::job_page_report report;
  if (outcome) {
    report = page_report(*outcome);
  } else {
    // Nothing was sent (e.g. payload_too_large): every recipient of the page failed for that reason.
    report.counts.failed = static_cast<std::int64_t>(claim.recipients.size());
    if (outcome.error() == condition::payload_too_large) report.counts.too_large = report.counts.failed;
    for (const auto& s : claim.recipients) {
      if (report.failures.size() >= store::k_max_job_failures) break;
      report.failures.push_back({s.connection_id, outcome.error().what()});
    }
  }
  auto recorded = store_.finish_page(claim, report);
  if (!recorded) return recorded.error();
  if (*recorded) ++pages_;
  if (options_.on_page) options_.on_page(claim, report, *recorded);
  return true;
}

}  // namespace apigw::dispatch
