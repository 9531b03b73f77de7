// The fan-out sender. One send = one strand: a driver coroutine reads pages; up to max_in_flight
// worker coroutines take recipients from the current page one at a time and deliver them
// (retrying with backoff), recording outcomes in the send's report. The driver fetches the next
// page as soon as the current one is handed out, while the workers finish their last recipients.
// All of a send's bookkeeping lives on its strand, so it needs no locks; the HTTP exchanges run on
// the pool's per-connection strands, in parallel.
#include "apigw/mgmt/sender.hpp"

#include "apigw/mgmt/credentials_provider.hpp"
#include "apigw/mgmt/token_bucket.hpp"

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

namespace apigw::mgmt {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;
using strand_type = asio::strand<asio::any_io_executor>;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// endpoint_context: what a send needs per endpoint, computed once.
struct endpoint_context {
  endpoint ep;
  signing_config signing;
  std::string region;
};

// splitmix64: the jitter generator. Jitter needs no statistical strength, and a send that only
// replies to one connection should not pay for seeding a 2.5 KB Mersenne Twister: one word of
// state, seeded from the sender's counter, is enough for a uniform double.
struct splitmix64 {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30U)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27U)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31U);
  }
  double next01() { return static_cast<double>(next() >> 11U) * 0x1.0p-53; }  // [0, 1), 53 bits
};
}  // namespace

result<std::vector<recipient>> vector_source::next_page() {
  if (done_) return std::vector<recipient>{};
  done_ = true;
  return std::move(recipients_);
}

signing_lookup same_signing_for_all(signing_config config) {
  return [config = std::move(config)](std::string_view) -> result<signing_config> { return config; };
}

struct detail::sender_impl {
  sender_impl(std::unique_ptr<asio::io_context> io, asio::any_io_executor e, sender_options o)
      : own_io(std::move(io)),
        ex(std::move(e)),
        opts(std::move(o)),
        blocking(std::max<std::size_t>(1, opts.blocking_threads)) {
    if (opts.max_in_flight == 0) opts.max_in_flight = 1;
    if (opts.retry.max_attempts == 0) opts.retry.max_attempts = 1;
    if (opts.max_requests_per_second > 0) {
      const double burst = opts.burst > 0 ? opts.burst : opts.max_requests_per_second / 2;
      bucket.emplace(opts.max_requests_per_second, burst, steady::now());
    }
    pool = std::make_unique<net::http_client_pool>(ex, opts.pool);
    seeds.store((std::uint64_t{std::random_device{}()} << 32U) | std::random_device{}());
    if (own_io) {
      work.emplace(own_io->get_executor());
      for (std::size_t i = 0; i < std::max<std::size_t>(1, opts.io_threads); ++i) {
        threads.emplace_back([io = own_io.get()] { io->run(); });
      }
    }
  }

  ~sender_impl() {
    pool->close();
    blocking.join();
    if (own_io) {
      work.reset();
      own_io->stop();
      for (auto& t : threads) t.join();
    }
  }

  const clock& clk() const { return opts.clk != nullptr ? *opts.clk : system_clock_source::instance(); }

  bool runs_in_this_thread() const {
    if (own_io) return own_io->get_executor().running_in_this_thread();
    if (const auto* io_ex = ex.target<asio::io_context::executor_type>()) return io_ex->running_in_this_thread();
    return false;
  }

  // seed: a distinct jitter seed for each send (no lock: a counter run through splitmix64).
  std::uint64_t seed() { return splitmix64{seeds.fetch_add(1, std::memory_order_relaxed)}.next(); }

  // rate_delay: how long the next request must wait for the requests-per-second cap.
  std::chrono::nanoseconds rate_delay() {
    if (!bucket) return std::chrono::nanoseconds{0};
    std::lock_guard lock(rate_mu);
    return bucket->reserve(steady::now());
  }

  // Declaration order is destruction order in reverse: the io_context goes last.
  std::unique_ptr<asio::io_context> own_io;
  asio::any_io_executor ex;
  sender_options opts;
  asio::thread_pool blocking;
  std::unique_ptr<net::http_client_pool> pool;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::mutex rate_mu;
  std::optional<token_bucket> bucket;
  std::atomic<std::uint64_t> seeds{0};

  // default_signing: without a configured lookup, non-loopback endpoints are signed through the
  // default credentials chain (the process environment), resolved on first use and kept.
  const signing_lookup& default_signing() {
    std::call_once(default_signing_once, [this] {
      default_lookup = provider_signing(std::make_shared<credentials_provider>(default_credentials_provider_options()));
    });
    return default_lookup;
  }
  std::once_flag default_signing_once;
  signing_lookup default_lookup;
};

namespace {

// context_for: the endpoint, signing and region of `url`: what every request to it needs.
result<endpoint_context> context_for(detail::sender_impl& owner, const std::string& url) {
  auto ep = parse_endpoint(url);
  if (!ep) return ep.error();
  signing_config signing;
  boost::system::error_code addr_ec;
  const auto addr = asio::ip::make_address(ep->origin.host, addr_ec);
  const bool loopback = ep->origin.host == "localhost" || (!addr_ec && addr.is_loopback());
  // Never unsigned to AWS: with no lookup configured, anything but the local gateway goes through
  // the default chain, which fails (saying where it looked) rather than send unsigned.
  const signing_lookup* lookup = owner.opts.signing ? &owner.opts.signing : nullptr;
  if (lookup == nullptr && !loopback) lookup = &owner.default_signing();
  if (lookup != nullptr) {
    try {
      auto looked_up = (*lookup)(url);
      if (!looked_up) return looked_up.error();
      signing = std::move(*looked_up);
    } catch (const std::exception& e) {
      return failure{error::signing_failed, fmt::format("signing lookup for {} failed: {}", url, e.what())};
    }
  }
  auto region = signing_region(*ep, signing);
  if (!region) return region.error();
  return endpoint_context{std::move(*ep), std::move(signing), std::move(*region)};
}

// send_state: one send's bookkeeping; touched only on the send's strand.
struct send_state {
  send_state(detail::sender_impl& s, strand_type st, std::string m, gone_sink* g)
      : owner(s), strand(std::move(st)), message(std::move(m)), gone(g), wake(strand), rng{s.seed()} {}

  // endpoint_for: the endpoint context of `url`, computed on first use.
  const result<endpoint_context>& endpoint_for(const std::string& url) {
    if (auto it = endpoints.find(url); it != endpoints.end()) return it->second;
    return endpoints.emplace(url, make_context(url)).first->second;
  }

  result<endpoint_context> make_context(const std::string& url) { return context_for(owner, url); }

  // recorded: tells on_outcome that one more recipient's outcome is in the report.
  void recorded() {
    if (!owner.opts.on_outcome) return;
    try {
      owner.opts.on_outcome(report);
    } catch (...) {  // a progress display must not change the send
    }
  }

  double random01() {
    if (owner.opts.random) return owner.opts.random();
    return rng.next01();
  }

  // wait: the driver sleeps until a worker takes the page's last recipient or exits (both
  // cancel `wake`); callers re-check their condition.
  asio::awaitable<void> wait() {
    wake.expires_at(steady::time_point::max());
    co_await wake.async_wait(use_tuple);
  }

  detail::sender_impl& owner;
  strand_type strand;
  std::string message;
  gone_sink* gone;
  delivery_report report;
  std::vector<std::string> gone_pending;
  std::vector<recipient> page;  // the current page; recipients [next, size) are not taken yet
  std::size_t next = 0;
  std::size_t workers = 0;  // running worker coroutines, at most max_in_flight
  asio::steady_timer wake;
  std::unordered_map<std::string, result<endpoint_context>> endpoints;
  splitmix64 rng;
};

// deliver_one: all attempts for one recipient; records the outcome.
asio::awaitable<void> deliver_one(send_state& st, const recipient& r) {
  const auto& ctx = st.endpoint_for(r.endpoint);
  if (!ctx) {
    st.report.failed.push_back({r.connection_id, r.endpoint, ctx.error(), 0});
    st.recorded();
    co_return;
  }
  const retry_policy& policy = st.owner.opts.retry;
  for (std::size_t attempt = 1;; ++attempt) {
    if (const auto wait = st.owner.rate_delay(); wait.count() > 0) {
      asio::steady_timer t(st.strand, wait);
      co_await t.async_wait(use_tuple);
    }
    auto res = co_await post_to_connection(*st.owner.pool, ctx->ep, ctx->signing, ctx->region, st.owner.clk(),
                                           r.connection_id, st.message);
    if (res) {
      ++st.report.delivered;
      st.recorded();
      co_return;
    }
    if (res.error() == condition::connection_gone) {
      st.report.gone.push_back(r.connection_id);
      st.gone_pending.push_back(r.connection_id);
      st.recorded();
      co_return;
    }
    if (!is_retryable(res.error().code) || attempt >= policy.max_attempts) {
      failure reason = res.error();
      if (attempt > 1) reason.message += fmt::format(" (gave up after {} attempts)", attempt);
      st.report.failed.push_back({r.connection_id, r.endpoint, std::move(reason), attempt});
      st.recorded();
      co_return;
    }
    ++st.report.retries;
    asio::steady_timer t(st.strand, backoff_delay(policy, attempt - 1, st.random01()));
    co_await t.async_wait(use_tuple);
  }
}

// deliver_recorded: deliver_one, with an exception (bad_alloc, say) recorded as the recipient's
// failure rather than thrown.
asio::awaitable<void> deliver_recorded(send_state& st, const recipient& r) {
  try {
    co_await deliver_one(st, r);
  } catch (const std::exception& e) {
    st.report.failed.push_back(
        {r.connection_id, r.endpoint, failure{error::network_error, fmt::format("delivery failed: {}", e.what())}, 0});
    st.recorded();
  }
}

// worker: delivers recipients of the current page until none is left. A failed delivery is
// recorded, never thrown; the completion handler given to co_spawn frees the worker's slot.
asio::awaitable<void> worker(std::shared_ptr<send_state> st) {
  while (st->next < st->page.size()) {
    recipient r = std::move(st->page[st->next++]);
    if (st->next == st->page.size()) st->wake.cancel();  // the driver may fetch the next page
    co_await deliver_recorded(*st, r);
  }
}

// may_pass: whether a source failure is worth waiting out (the database restarting or locked).
bool may_pass(const error_code& ec) {
  return ec == condition::unavailable || is_retryable(ec);
}

// wait_out: runs `attempt` (a blocking call, on the blocking pool) on the send's strand until it
// succeeds, fails in a way that will not pass, or source_retry's time is up; the waits grow from
// first_delay, doubling up to max_delay, and each one is counted in `retries`. The final failure
// says how long it was waited out.
template <class T, class Attempt>
asio::awaitable<result<T>> wait_out(send_state& st, Attempt attempt, std::size_t& retries, std::string_view what) {
  const source_retry_policy& policy = st.owner.opts.source_retry;
  std::optional<steady::time_point> first_failure;
  std::chrono::nanoseconds delay = policy.first_delay;
  for (std::size_t n = 1;; ++n) {
    result<T> r = co_await asio::co_spawn(st.owner.blocking.get_executor(), attempt(), asio::use_awaitable);
    if (r) co_return r;
    const auto now = steady::now();
    if (!first_failure) first_failure = now;
    const auto waited = now - *first_failure;
    if (!may_pass(r.error().code) || waited + delay > policy.give_up_after) {
      failure reason = r.error();
      if (n > 1) {
        reason.message += fmt::format(" ({}: gave up after {} attempts over {} ms)", what, n,
                                      std::chrono::duration_cast<std::chrono::milliseconds>(waited).count());
      }
      co_return reason;
    }
    ++retries;
    asio::steady_timer t(st.strand, delay);
    co_await t.async_wait(use_tuple);
    delay = std::min<std::chrono::nanoseconds>(delay * 2, policy.max_delay);
  }
}

// fetch_page: the next page, on the send's strand (read on the blocking pool unless the source
// never blocks). A failure that may pass is waited out, asking the source for the same page again
// (it keeps its position on failure), so a database restart between two pages neither stops the
// send nor repeats anyone.
asio::awaitable<result<std::vector<recipient>>> fetch_page(std::shared_ptr<send_state> st, recipient_source& source) {
  if (!source.may_block()) co_return source.next_page();  // in memory: no hop to the blocking pool
  co_return co_await wait_out<std::vector<recipient>>(
      *st,
      [&source]() -> asio::awaitable<result<std::vector<recipient>>> {
        try {
          co_return source.next_page();
        } catch (const std::exception& e) {
          co_return failure{core::error::io_error, fmt::format("recipient source failed: {}", e.what())};
        }
      },
      st->report.source_retries, "reading recipients");
}

// flush_gone: hands the pending gone ids to the sink. Marking is idempotent, so a failure that
// may pass (the database locked or restarting) is waited out like a source failure; if it lasts,
// the ids stay in report.gone and gone_sink_error says why.
asio::awaitable<void> flush_gone(send_state& st) {
  std::vector<std::string> ids = std::move(st.gone_pending);
  st.gone_pending.clear();
  if (st.gone == nullptr || ids.empty()) co_return;
  gone_sink* sink = st.gone;
  auto r = co_await wait_out<void>(
      st,
      [sink, &ids]() -> asio::awaitable<result<void>> {
        try {
          co_return sink->mark_disconnected(ids);
        } catch (const std::exception& e) {
          co_return failure{core::error::io_error, fmt::format("gone sink failed: {}", e.what())};
        }
      },
      st.report.gone_sink_retries, "marking gone connections");
  if (!r && !st.report.gone_sink_error) st.report.gone_sink_error = r.error();
}

// prefetch: the next page, read (on the blocking pool, retried on the strand) while the workers
// take the current one; the completion runs on the send's strand and wakes the driver.
void prefetch(const std::shared_ptr<send_state>& st, recipient_source& source,
              const std::shared_ptr<std::optional<result<std::vector<recipient>>>>& slot) {
  asio::co_spawn(st->strand, fetch_page(st, source),
                 asio::bind_executor(st->strand, [st, slot](std::exception_ptr e, result<std::vector<recipient>> r) {
                   if (e) r = failure{core::error::io_error, "recipient source failed"};
                   *slot = std::move(r);
                   st->wake.cancel();
                 }));
}

// run_send: the driver; runs on the send's strand. Never throws. One page is read ahead, so the
// workers never wait for the database between pages.
asio::awaitable<result<delivery_report>> run_send(std::shared_ptr<send_state> st, recipient_source& source) {
  const auto start = steady::now();
  const std::size_t max_in_flight = st->owner.opts.max_in_flight;
  const std::size_t gone_batch = std::max<std::size_t>(1, st->owner.opts.gone_batch_size);
  try {
    auto page = co_await fetch_page(st, source);
    for (;;) {
      if (!page) {
        st->report.source_error = page.error();
        break;
      }
      if (page->empty()) break;
      if (page->size() == 1 && st->workers == 0 && !source.may_block()) {
        // One recipient already in memory (a reply): delivered right here, with no worker to
        // start, no page to read ahead and no wake-up to wait for.
        recipient r = std::move(page->front());
        co_await deliver_recorded(*st, r);
        page = co_await fetch_page(st, source);
        continue;
      }
      st->page = std::move(*page);
      st->next = 0;
      auto ahead = std::make_shared<std::optional<result<std::vector<recipient>>>>();
      prefetch(st, source, ahead);
      // Count first: co_spawn may run a worker inline up to its first suspension, and a worker
      // whose recipients all fail at once finishes (and decrements `workers`) right there.
      const std::size_t wanted = std::min(max_in_flight, st->page.size());
      const std::size_t to_start = wanted > st->workers ? wanted - st->workers : 0;
      for (std::size_t i = 0; i < to_start; ++i) {
        ++st->workers;
        asio::co_spawn(st->strand, worker(st), [st](const std::exception_ptr&) {
          // The worker ended, normally or by an exception such as bad_alloc: its slot is free either
          // way, so the driver never waits for a worker that is gone.
          --st->workers;
          st->wake.cancel();
        });
      }
      while (st->next < st->page.size() || !ahead->has_value()) {
        co_await st->wait();
        if (st->gone_pending.size() >= gone_batch) co_await flush_gone(*st);
      }
      page = std::move(**ahead);
    }
    while (st->workers > 0) co_await st->wait();
    co_await flush_gone(*st);
  } catch (const std::exception& e) {
    st->report.source_error = failure{core::error::io_error, fmt::format("send aborted: {}", e.what())};
  }
  st->report.elapsed = steady::now() - start;
  co_return std::move(st->report);
}

}  // namespace

sender::sender(sender_options options) {
  auto io = std::make_unique<asio::io_context>(static_cast<int>(std::max<std::size_t>(1, options.io_threads)));
  asio::any_io_executor ex = io->get_executor();
  impl_ = std::make_shared<detail::sender_impl>(std::move(io), std::move(ex), std::move(options));
}

sender::sender(asio::any_io_executor ex, sender_options options)
    : impl_(std::make_shared<detail::sender_impl>(nullptr, std::move(ex), std::move(options))) {}

sender::~sender() = default;

asio::any_io_executor sender::executor() const {
  return impl_->ex;
}

asio::awaitable<result<void>> sender::delete_connection(std::string endpoint_url, std::string connection_id) {
  auto ctx = context_for(*impl_, endpoint_url);
  if (!ctx) co_return ctx.error();
  auto client = management_client::create(*impl_->pool, endpoint_url, {.signing = ctx->signing, .clk = &impl_->clk()});
  if (!client) co_return client.error();
  co_return co_await client->delete_connection(std::move(connection_id));
}

net::http_client_pool& sender::pool() {
  return *impl_->pool;
}

asio::awaitable<result<delivery_report>> sender::send(recipient_source& source, std::string message, gone_sink* gone) {
  if (auto size = check_message_size(message.size()); !size) {
    co_return failure{error::payload_too_large, size.error().message + "; nothing was sent"};
  }
  auto strand = asio::make_strand(impl_->ex);
  auto st = std::make_shared<send_state>(*impl_, strand, std::move(message), gone);
  co_return co_await asio::co_spawn(strand, run_send(st, source), asio::use_awaitable);
}

asio::awaitable<result<delivery_report>> sender::send(recipient_source& source, json::object message, gone_sink* gone) {
  auto text = serialize_message(json::value(std::move(message)));
  if (!text) co_return failure{error::payload_too_large, text.error().message + "; nothing was sent"};
  co_return co_await send(source, std::move(*text), gone);
}

asio::awaitable<result<delivery_report>> sender::send(std::vector<recipient> recipients, std::string message,
                                                      gone_sink* gone) {
  vector_source source(std::move(recipients));
  co_return co_await send(source, std::move(message), gone);
}

result<delivery_report> sender::send_sync(recipient_source& source, std::string message, gone_sink* gone) {
  if (impl_->runs_in_this_thread()) {
    return failure{core::error::invalid_argument,
                   "send_sync called on one of the sender's own I/O threads; co_await send() there instead"};
  }
  try {
    auto done = asio::co_spawn(impl_->ex, send(source, std::move(message), gone), asio::use_future);
    return done.get();
  } catch (const std::exception& e) {
    return failure{error::network_error, fmt::format("send failed: {}", e.what())};
  }
}

result<delivery_report> sender::send_sync(std::vector<recipient> recipients, std::string message, gone_sink* gone) {
  vector_source source(std::move(recipients));
  return send_sync(source, std::move(message), gone);
}

}  // namespace apigw::mgmt
