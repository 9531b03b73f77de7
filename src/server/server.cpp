// The embedded backend server: routing of integration requests to views, the token endpoint,
// login/logout, static files, the health check and graceful shutdown, on net::http_server.
#include "apigw/server/server.hpp"

#include "apigw/core/json.hpp"
#include "apigw/dispatch/error.hpp"
#include "apigw/dispatch/http.hpp"
#include "apigw/net/error.hpp"
#include "apigw/net/http_server.hpp"
#include "apigw/net/tls.hpp"
#include "server/cors.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <csignal>
#include <exception>
#include <fstream>
#include <functional>
#include <future>
#include <iterator>
#include <sstream>
#include <thread>
#include <vector>

namespace apigw::server {

namespace asio = boost::asio;

namespace {

using done_fn = std::function<void(dispatch::response)>;

// response_initiation: starts an operation that reports a response through a callback, and
// completes the awaiting coroutine on its own executor. `pending` counts callbacks that have not
// returned yet: the callback runs on a worker thread and holds the coroutine's executor (a strand
// of the server's io_context) until it returns, so shutdown must not destroy the io_context before
// the count is back to zero (ASan caught exactly that: a strand released after its service).
struct response_initiation {
  std::function<void(done_fn)> start;
  std::atomic<std::size_t>* pending;

  template <class Handler>
  void operator()(Handler handler) {
    auto h = std::make_shared<Handler>(std::move(handler));
    pending->fetch_add(1);
    start([h, pending = pending](dispatch::response r) mutable {
      {
        auto ex = asio::get_associated_executor(*h);
        asio::post(ex, [h = std::move(h), r = std::move(r)]() mutable { std::move (*h)(std::move(r)); });
      }  // this thread's executor copy and handler reference are gone before the count drops
      pending->fetch_sub(1);
    });
  }
};

// await_response: an awaitable for `start` (given a completion callback that any thread may call
// once), counted in `pending` until that callback returns. Not a coroutine itself, and callers keep it in a named local
// before co_await: GCC 12 destroys some temporaries of a co_await expression twice.
asio::awaitable<dispatch::response> await_response(std::function<void(done_fn)> start,
                                                   std::atomic<std::size_t>& pending) {
  return asio::async_initiate<decltype(asio::use_awaitable), void(dispatch::response)>(
      response_initiation{std::move(start), &pending}, asio::use_awaitable);
}

net::http_response to_net(dispatch::response r) {
  net::http_response out;
  out.status = r.status;
  out.headers.push_back({"Content-Type", r.content_type});
  for (auto& h : r.headers) out.headers.push_back({std::move(h.name), std::move(h.value)});
  out.body = std::move(r.body);
  return out;
}

dispatch::request from_net(net::incoming_request in) {
  dispatch::request r;
  r.method = std::move(in.method);
  const auto q = in.target.find('?');
  r.path = in.target.substr(0, q);
  if (q != std::string::npos) r.query = in.target.substr(q + 1);
  r.headers.reserve(in.headers.size());
  for (auto& h : in.headers) r.headers.push_back({std::move(h.name), std::move(h.value)});
  r.body = std::move(in.body);
  r.remote_address = std::move(in.remote_address);
  return r;
}

bool is_route_name(std::string_view s) noexcept {
  return !s.empty() && s.size() <= 128 && std::ranges::all_of(s, [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
  });
}

dispatch::response method_not_allowed(std::string_view allow) {
  auto r = dispatch::response::text(405, "Method Not Allowed");
  r.headers.push_back({"Allow", std::string{allow}});
  return r;
}

}  // namespace

std::string content_type_for(const std::filesystem::path& file) {
  auto ext = file.extension().string();
  std::ranges::transform(ext, ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == ".html" || ext == ".htm") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  if (ext == ".wasm") return "application/wasm";
  return "application/octet-stream";
}

std::optional<std::filesystem::path> resolve_static(const std::filesystem::path& root, std::string_view relative) {
  const auto decoded = dispatch::percent_decode(relative, false);
  if (decoded.empty() || decoded.front() == '/' || decoded.find('\0') != std::string::npos ||
      decoded.find('\\') != std::string::npos) {
    return std::nullopt;
  }
  std::filesystem::path rel{decoded};
  for (const auto& part : rel) {
    if (part == ".." || part == ".") return std::nullopt;
  }
  std::error_code ec;
  const auto base = std::filesystem::canonical(root, ec);
  if (ec) return std::nullopt;
  const auto full = std::filesystem::canonical(base / rel, ec);
  if (ec || !std::filesystem::is_regular_file(full, ec)) return std::nullopt;
  // A symlink inside the root may point outside it: refuse anything not under the root.
  const auto [root_end, full_it] = std::mismatch(base.begin(), base.end(), full.begin(), full.end());
  if (root_end != base.end()) return std::nullopt;
  return full;
}

struct backend_server::impl {
  impl(dispatch::backend& a, server_options o, dispatch::builtin_authenticator* l)
      : app(a), opts(std::move(o)), login(l), blocking(opts.blocking_threads == 0 ? 1 : opts.blocking_threads) {}

  asio::awaitable<std::optional<net::http_response>> serve(net::incoming_request in);
  asio::awaitable<dispatch::response> route(dispatch::request req);
  dispatch::response serve_static(const dispatch::request& req);
  dispatch::response do_logout(const dispatch::request& req);

  dispatch::backend& app;
  server_options opts;
  dispatch::builtin_authenticator* login;
  std::vector<std::pair<std::string, dispatch::view*>> mounts;
  std::vector<std::pair<std::string, http_handler>> routes;
  // find_route: the route serving `path`: an exact match, else the longest '/'-ended prefix; null
  // when none.
  const http_handler* find_route(std::string_view path) const {
    const http_handler* best = nullptr;
    std::size_t best_length = 0;
    for (const auto& [prefix, fn] : routes) {
      if (path == prefix) return &fn;
      if (prefix.ends_with('/') && path.starts_with(prefix) && prefix.size() > best_length) {
        best = &fn;
        best_length = prefix.size();
      }
    }
    return best;
  }
  // cors_applies: CORS is on and `path` is one of the endpoints browsers call (the token, login and
  // logout endpoints, the application's routes).
  bool cors_applies(std::string_view path) const {
    if (opts.cors.allowed_origins.empty()) return false;
    if (path == opts.token_path) return true;
    if (login != nullptr && (path == opts.login_path || path == opts.logout_path)) return true;
    for (const auto& [prefix, v] : mounts) {
      if (path.starts_with(prefix)) return false;  // API Gateway's integration requests
    }
    return find_route(path) != nullptr;
  }
  // watch_sighup: reloads the certificate on every SIGHUP until shutdown.
  void watch_sighup() {
    sighup->async_wait([this](const boost::system::error_code& ec, int) {
      if (ec || draining.load()) return;
      if (auto r = tls->reload(); r) {
        app.options().log.info("TLS certificate reloaded", "signal", "SIGHUP", "certificate",
                               opts.tls_certificate.string());
      } else {
        app.options().log.error("TLS certificate not reloaded; the previous one stays in use", "signal", "SIGHUP",
                                "error", r.error().message);
      }
      watch_sighup();
    });
  }

  asio::io_context io;
  std::shared_ptr<net::server_tls> tls;  // set when the server speaks HTTPS
  std::optional<asio::signal_set> sighup;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::unique_ptr<net::http_server> http;
  std::vector<std::thread> threads;
  asio::thread_pool blocking;
  std::atomic<bool> draining{false};
  std::atomic<std::size_t> in_flight{0};
  std::atomic<std::size_t> callbacks{0};  // worker-side completions not returned yet
  std::mutex stop_mutex;
  bool stopped = false;
};

asio::awaitable<std::optional<net::http_response>> backend_server::impl::serve(net::incoming_request in) {
  ++in_flight;
  struct leave {
    std::atomic<std::size_t>& n;
    ~leave() { --n; }
  } guard{in_flight};
  if (draining.load()) {
    auto r = dispatch::response::text(503, "Service Unavailable");
    r.headers.push_back({"Retry-After", "1"});
    co_return to_net(std::move(r));
  }
  auto req = from_net(std::move(in));
  const bool cors = cors_applies(req.path);
  if (cors && detail::is_preflight(req)) co_return to_net(detail::preflight(opts.cors, req));
  // Kept for the CORS headers: route() takes the request.
  std::optional<std::string> origin;
  if (auto o = req.header_value("Origin"); cors && o) origin = std::string{*o};
  auto routed = route(std::move(req));
  auto answer = co_await std::move(routed);
  if (cors) detail::add_cors_headers(opts.cors, origin, answer);
  co_return to_net(std::move(answer));
}

asio::awaitable<dispatch::response> backend_server::impl::route(dispatch::request req) {
  // Every awaited operation is built as a named local first: GCC 12 mis-destroys temporaries
  // (lambdas converted to std::function) that live inside a co_await expression.
  const std::string path = req.path;
  if (path == opts.health_path) {
    if (req.method != "GET" && req.method != "HEAD") co_return method_not_allowed("GET, HEAD");
    co_return dispatch::response::json(200, json::object{{"status", "ok"}});
  }
  if (!opts.metrics_path.empty() && path == opts.metrics_path) {
    if (req.method != "GET" && req.method != "HEAD") co_return method_not_allowed("GET, HEAD");
    auto r = dispatch::response::text(200, app.metrics_text());
    r.content_type = "text/plain; version=0.0.4";
    co_return r;
  }
  dispatch::view* target = nullptr;
  std::string route_name;
  for (std::size_t i = 0; i < mounts.size() && target == nullptr; ++i) {
    const auto& prefix = mounts[i].first;
    if (!path.starts_with(prefix)) continue;
    const auto name = std::string_view{path}.substr(prefix.size());
    if (!is_route_name(name)) continue;
    target = mounts[i].second;
    route_name = std::string{name};
  }
  std::function<void(done_fn)> start;
  if (target != nullptr) {
    start = [this, target, route_name, req = std::move(req)](done_fn done) mutable {
      auto queued = app.submit(*target, route_name, std::move(req), done);
      if (!queued) {
        auto r = dispatch::response::text(503, "Service Unavailable");
        r.headers.push_back({"Retry-After", "1"});
        done(std::move(r));
      }
    };
  } else if (login != nullptr && path == opts.login_path) {
    // Password hashing runs on the authenticator's own bounded pool, never on the blocking pool the
    // token endpoint and the pages share, so a login flood cannot delay them.
    start = [this, req = std::move(req)](done_fn done) mutable {
      login->async_login(std::move(req), std::move(done), app.options().log);
    };
  } else {
    std::function<dispatch::response()> work;
    if (path == opts.token_path) {
      work = [this, req = std::move(req)] { return app.issue_token(req); };
    } else if (login != nullptr && path == opts.logout_path) {
      work = [this, req = std::move(req)] { return do_logout(req); };
    } else if (opts.static_root && path.starts_with(opts.static_prefix)) {
      work = [this, req = std::move(req)] { return serve_static(req); };
    } else if (const auto* fn = find_route(path)) {
      work = [this, fn, req = std::move(req)] {
        try {
          return (*fn)(req);
        } catch (const std::exception& e) {
          app.options().log.error("http route threw", "path", req.path, "error", e.what());
          return dispatch::response::text(500, "Internal Server Error");
        }
      };
    } else {
      co_return dispatch::response::text(404, "Not Found");
    }
    // The blocking endpoints run on the server's own pool, never on an I/O thread.
    start = [this, work = std::move(work)](done_fn done) {
      asio::post(blocking, [work, done = std::move(done)] { done(work()); });
    };
  }
  auto operation = await_response(std::move(start), callbacks);
  auto answer = co_await std::move(operation);
  co_return answer;
}

dispatch::response backend_server::impl::serve_static(const dispatch::request& req) {
  if (req.method != "GET" && req.method != "HEAD") return method_not_allowed("GET, HEAD");
  const auto file = resolve_static(*opts.static_root, std::string_view{req.path}.substr(opts.static_prefix.size()));
  if (!file) return dispatch::response::text(404, "Not Found");
  std::ifstream in(*file, std::ios::binary);
  if (!in) return dispatch::response::text(404, "Not Found");
  dispatch::response r;
  r.content_type = content_type_for(*file);
  r.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (req.method == "HEAD") r.body.clear();
  r.headers.push_back({"X-Content-Type-Options", "nosniff"});
  return r;
}

dispatch::response backend_server::impl::do_logout(const dispatch::request& req) {
  if (req.method != "POST") return method_not_allowed("POST");
  // Revoked in the store first: clearing the browser's cookie alone leaves a copied cookie valid.
  if (auto revoked = login->logout(req); !revoked) {
    app.options().log.error("logout failed", "error", revoked.error().message);
    return dispatch::response::text(503, "Service Unavailable");
  }
  auto r = dispatch::response::ok();
  r.headers.push_back({"Set-Cookie", login->logout_cookie()});
  return r;
}

backend_server::backend_server(dispatch::backend& app, server_options options, dispatch::builtin_authenticator* login)
    : impl_(std::make_shared<impl>(app, std::move(options), login)) {}

backend_server::~backend_server() {
  shutdown();
}

void backend_server::mount(std::string prefix, dispatch::view& v) {
  if (!prefix.ends_with('/')) prefix.push_back('/');
  impl_->mounts.emplace_back(std::move(prefix), &v);
}

void backend_server::route(std::string path, http_handler fn) {
  impl_->routes.emplace_back(std::move(path), std::move(fn));
}

result<void> backend_server::start() {
  auto& i = *impl_;
  if (auto c = detail::check_cors(i.opts.cors); !c) return c.error();
  if (i.login != nullptr) {
    if (auto a = dispatch::check_auth_options(i.login->options()); !a) return a.error();
  }
  if (i.opts.tls_certificate.empty() != i.opts.tls_key.empty()) {
    return failure{net::error::tls_config_invalid,
                   "server_options: tls_certificate and tls_key go together (both set for HTTPS, neither for HTTP)"};
  }
  if (!i.opts.tls_certificate.empty()) {
    auto tls = net::server_tls::from_files({i.opts.tls_certificate, i.opts.tls_key});
    if (!tls) return tls.error();
    i.tls = std::move(*tls);
  }
  net::http_server_options o;
  o.tls = i.tls;
  o.address = i.opts.address;
  o.port = i.opts.port;
  o.read_timeout = i.opts.read_timeout;
  o.write_timeout = i.opts.write_timeout;
  o.max_body_bytes = i.opts.max_body_bytes;
  o.max_header_bytes = i.opts.max_header_bytes;
  o.max_connections = i.opts.max_connections;
  i.http = std::make_unique<net::http_server>(
      i.io.get_executor(), [p = impl_.get()](net::incoming_request in) { return p->serve(std::move(in)); }, o);
  if (auto started = i.http->start(); !started) return started.error();
  if (i.tls && i.opts.tls_reload_on_sighup) {
    i.sighup.emplace(i.io, SIGHUP);
    i.watch_sighup();
  }
  i.work.emplace(i.io.get_executor());
  const auto n = i.opts.io_threads == 0 ? 1 : i.opts.io_threads;
  for (std::size_t t = 0; t < n; ++t) i.threads.emplace_back([p = impl_.get()] { p->io.run(); });
  return ok();
}

std::uint16_t backend_server::port() const noexcept {
  return impl_->http ? impl_->http->port() : 0;
}

result<void> backend_server::reload_tls() {
  if (!impl_->tls) return failure{net::error::tls_config_invalid, "the server does not speak TLS; nothing to reload"};
  return impl_->tls->reload();
}

void backend_server::shutdown() {
  auto& i = *impl_;
  {
    std::lock_guard lock(i.stop_mutex);
    if (i.stopped) return;
    i.stopped = true;
  }
  i.draining.store(true);
  const auto deadline = std::chrono::steady_clock::now() + i.opts.shutdown_grace;
  while (i.in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  if (i.http) i.http->stop();
  if (i.sighup) {
    // The pending wait would keep io.run() going; cancelled on the I/O threads (signal_set is not
    // thread-safe).
    std::promise<void> cancelled;
    asio::post(i.io, [&] {
      boost::system::error_code ignored;
      i.sighup->cancel(ignored);
      cancelled.set_value();
    });
    cancelled.get_future().wait();
  }
  i.work.reset();
  for (auto& t : i.threads) {
    if (t.joinable()) t.join();
  }
  i.threads.clear();
  i.blocking.join();
  // A handler still running past the grace period keeps its completion callback, which holds an
  // executor of `io`: wait for it before the io_context can be destroyed.
  while (i.callbacks.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds{5});
}

}  // namespace apigw::server
