// jobs_backend: the backend process of the delivery job crash tests: the embedded server with a
// view that accepts every connection (no token, no origin or rate-limit checks: the test's load
// client is no browser), and the delivery job worker, over the store named by --db. Prints
// "ready port=N" once it serves; runs until SIGTERM or SIGINT (the tests also kill -9 it).
//
//   jobs_backend --db URL --owner NAME [--lease-ms N] [--poll-ms N] [--threads N] [--port N]
#include "apigw/dispatch/auth.hpp"
#include "apigw/dispatch/backend.hpp"
#include "apigw/dispatch/job_worker.hpp"
#include "apigw/dispatch/sender_delivery.hpp"
#include "apigw/mgmt/sender.hpp"
#include "apigw/server/server.hpp"
#include "apigw/store/session_store.hpp"

#include <fmt/format.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

int main(int argc, char** argv) {
  using namespace apigw;
  std::string db_url;
  std::string owner;
  long lease_ms = 3000;
  long poll_ms = 100;
  long threads = 2;
  long port = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view name = argv[i];
    const char* value = argv[i + 1];
    if (name == "--db")
      db_url = value;
    else if (name == "--owner")
      owner = value;
    else if (name == "--lease-ms")
      lease_ms = std::atol(value);
    else if (name == "--poll-ms")
      poll_ms = std::atol(value);
    else if (name == "--threads")
      threads = std::atol(value);
    else if (name == "--port")
      port = std::atol(value);
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (db_url.empty() || owner.empty() || lease_ms <= 0 || poll_ms <= 0 || threads <= 0 || port < 0 || port > 65535) {
    std::fprintf(stderr,
                 "usage: jobs_backend --db URL --owner NAME [--lease-ms N] [--poll-ms N] [--threads N] [--port N]\n");
    return 2;
  }
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);  // every thread started below inherits it

  auto& clk = system_clock_source::instance();
  store::store_options so;
  so.pool_size = 8;
  auto opened = store::open_store(db_url, clk, so);
  if (!opened) {
    std::fprintf(stderr, "cannot open %s: %s\n", db_url.c_str(), opened.error().message.c_str());
    return 1;
  }
  auto& db = **opened;
  if (auto m = db.migrate(); !m) {
    std::fprintf(stderr, "cannot migrate: %s\n", m.error().message.c_str());
    return 1;
  }
  mgmt::sender sender;
  dispatch::sender_delivery out(sender, db);
  dispatch::builtin_authenticator auth(db, clk, "jobs test secret",
                                       dispatch::builtin_auth_options{.secure_cookie = false, .fast_hashing = true});
  dispatch::backend_options options;
  options.security.use_ws_token = false;
  options.security.connection_headers.clear();
  options.security.check_origin_host = false;
  options.rate_limit.enabled = false;
  options.workers = 4;
  options.queue_capacity = 20'000;
  options.log = [](std::string_view) {};
  dispatch::backend app(db, out, auth, clk, options);
  dispatch::view v;
  server::server_options server_opts;
  server_opts.port = static_cast<std::uint16_t>(port);
  server::backend_server http(app, server_opts, &auth);
  http.mount("/ws/", v);
  if (auto started = http.start(); !started) {
    std::fprintf(stderr, "cannot start the server: %s\n", started.error().message.c_str());
    return 1;
  }

  dispatch::job_worker_options wo;
  wo.owner = owner;
  wo.lease = std::chrono::milliseconds{lease_ms};
  wo.poll = std::chrono::milliseconds{poll_ms};
  wo.threads = static_cast<std::size_t>(threads);
  wo.on_page = [](const store::job_page_claim& c, const store::job_page_report& r, bool recorded) {
    std::fprintf(stderr, "page job=%lld page=%lld attempt=%lld recipients=%zu delivered=%lld recorded=%d\n",
                 static_cast<long long>(c.job), static_cast<long long>(c.page), static_cast<long long>(c.attempt),
                 c.recipients.size(), static_cast<long long>(r.counts.delivered), recorded ? 1 : 0);
  };
  wo.on_error = [](const failure& f) { std::fprintf(stderr, "worker error: %s\n", f.message.c_str()); };
  dispatch::job_worker worker(sender, db, wo);
  worker.start();

  std::printf("ready port=%u\n", static_cast<unsigned>(http.port()));
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop_signals, &sig);
  worker.stop();
  http.shutdown();
  app.stop();
  return 0;
}
