// apigw/server/server.hpp: the embedded HTTP server of a backend: API Gateway's integration
// requests go to the mounted views, browsers get the token endpoint, login/logout, static files,
// and orchestrators a health check.
//
//   apigw::server::backend_server http(app, {.port = 8000, .static_root = "web"}, &auth);
//   http.mount("/ws/", chat);        // {prefix}{route}: /ws/connect, /ws/disconnect, /ws/default, /ws/<custom>
//   http.start();
//   ...
//   http.shutdown();                  // graceful: new requests get 503, in-flight ones finish
//
//   server_options tls{.port = 8443, .tls_certificate = "cert.pem", .tls_key = "key.pem"};  // HTTPS
//
// Built on net::http_server (keep-alive, a timeout on every read and write, the `max_header_bytes`
// header limit (431 above it) and the `max_body_bytes` body limit (413)). View requests run on the backend's bounded
// worker pool (a full queue is answered 503); the token and logout endpoints, which block on the store, run on a
// small thread pool of the server's own, never on the I/O threads; login runs on the authenticator's own bounded
// hashing pool (builtin_authenticator::async_login: 503 when full, 429 when locked out).
#pragma once

#include "apigw/core/error.hpp"
#include "apigw/dispatch/auth.hpp"
#include "apigw/dispatch/backend.hpp"
#include "apigw/dispatch/view.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace apigw::server {

// cors_options: which pages on other origins may call the token, login and logout endpoints and
// the application's routes (backend_server::route) from a browser, with the session cookie
// (`fetch(url, {credentials: 'include'})`). The views API Gateway calls, static files, the health
// check and the metrics get no CORS headers: browsers have no business calling them.
//
// A page on another *site* (not just another port or subdomain) also needs the session cookie sent
// cross-site: builtin_auth_options::cookie_same_site = same_site::none, which requires Secure
// (HTTPS). docs/design/server.md has the whole picture.
struct cors_options {
  // allowed_origins: exact origins, as browsers send them in the Origin header:
  // "https://app.example.com", "http://127.0.0.1:5173" (lower case, a port only when not the
  // scheme's default, no path or trailing '/'). Matched byte for byte; any other Origin gets no
  // Access-Control-Allow-Origin (the browser then keeps the answer from the page) and its
  // preflight is answered 403. The Origin is never reflected unless listed; "*" and "null" are
  // refused by start(). Empty (the default): CORS off, same-origin pages only.
  std::vector<std::string> allowed_origins;
  // allow_credentials: Access-Control-Allow-Credentials: true for listed origins, so the browser
  // sends the session cookie and lets the page read the answer.
  bool allow_credentials = true;
  // allow_headers: request headers a cross-origin page may send (preflight answer).
  std::vector<std::string> allow_headers{"Content-Type", "X-CSRF-Token"};
  // max_age: how long a browser may cache a preflight answer.
  std::chrono::seconds max_age{600};
};

// server_options: where to listen, the paths of the built-in endpoints, limits.
struct server_options {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;  // 0: the kernel picks one (see port())
  std::size_t io_threads = 2;
  std::size_t blocking_threads = 2;  // token/logout endpoints and application routes
  std::string token_path = "/api/ws-token/";
  std::string login_path = "/api/login/";
  std::string logout_path = "/api/logout/";
  std::string health_path = "/healthz";
  // metrics_path: the backend's counters in Prometheus text format (dispatch/metrics.hpp); empty:
  // not served. They say how busy the backend is, not who uses it; on a public endpoint, keep
  // the path for your scraper at the load balancer, or serve it on another listener.
  std::string metrics_path = "/metrics";
  // Static files: GET {static_prefix}{relative path} serves {static_root}/{relative path}. Unset:
  // no static files.
  std::optional<std::filesystem::path> static_root;
  std::string static_prefix = "/static/";
  std::chrono::milliseconds read_timeout{30000};
  std::chrono::milliseconds write_timeout{30000};
  std::size_t max_body_bytes = 256 * 1024;  // above this: 413 from the HTTP layer (views refuse > 128 KiB)
  // Request line and headers together; above this: 431 from the HTTP layer. API Gateway's
  // integration requests carry the browser's Cookie header on $connect, so leave room for it.
  std::size_t max_header_bytes = 64 * 1024;
  std::size_t max_connections = 4096;  // further connections are accepted and closed at once
  std::chrono::milliseconds shutdown_grace{5000};
  cors_options cors;  // cross-origin browser access; off by default
  // TLS: with both files set the server speaks HTTPS only (TLS 1.2 and 1.3): tls_certificate is
  // the PEM chain (the server's certificate first, then intermediates), tls_key its unencrypted PEM
  // key. start() fails naming the file when either cannot be used. reload_tls() reads them again
  // (and so does SIGHUP, unless tls_reload_on_sighup is false): new connections get the new
  // certificate, open ones keep theirs, and a broken file leaves the old certificate in use.
  // Behind a load balancer that terminates TLS, leave them empty (docs/deploy-to-aws.md).
  std::filesystem::path tls_certificate;
  std::filesystem::path tls_key;
  bool tls_reload_on_sighup = true;
};

// http_handler: one of the application's own HTTP endpoints (the JSON API its pages call beside
// the WebSocket). Runs on the server's blocking pool, so it may use the store; an exception becomes
// 500 "Internal Server Error".
using http_handler = std::function<dispatch::response(const dispatch::request&)>;

// backend_server: see the file comment.
class backend_server {
 public:
  // backend_server: serves `app`; `login` (may be null: no login/logout endpoints) is the built-in
  // authenticator. Both must outlive the server.
  backend_server(dispatch::backend& app, server_options options = {}, dispatch::builtin_authenticator* login = nullptr);
  ~backend_server();
  backend_server(const backend_server&) = delete;
  backend_server& operator=(const backend_server&) = delete;

  // mount: serves `v` at {prefix}{route} ("/ws/" -> /ws/connect, /ws/default ...). Call before
  // start(); `v` must outlive the server.
  void mount(std::string prefix, dispatch::view& v);

  // route: serves requests for `path` with `fn`: exactly that path, or every path under it when it
  // ends with '/' ("/api/orders/" serves /api/orders/7). The built-in endpoints and views win; among
  // routes an exact match, then the longest prefix ("/" alone is the fallback). Call before start().
  void route(std::string path, http_handler fn);

  // start: binds and starts the I/O threads. Fails with invalid_argument naming the setting when
  // options.cors lists an origin a browser never sends, or the authenticator's session cookie is
  // SameSite=None without Secure (dispatch::check_auth_options); with the net module's bind_failed
  // (unavailable) naming the address.
  result<void> start();
  // port: the bound port (after start).
  std::uint16_t port() const noexcept;
  // reload_tls: reads server_options::tls_certificate and tls_key again (see there). Fails with
  // invalid_argument when the server has no TLS, or naming the file that cannot be used (the
  // certificate in use then stays).
  result<void> reload_tls();
  // shutdown: stops taking requests (new ones get 503), waits up to shutdown_grace for the ones in
  // flight, then closes every connection and joins the threads. Idempotent.
  void shutdown();

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

// content_type_for: the Content-Type of a static file by extension ("application/octet-stream"
// when unknown).
std::string content_type_for(const std::filesystem::path& file);

// resolve_static: the file under `root` for the URL path `relative` ("js/app.js"), or nullopt when
// the path escapes the root ("..", absolute, percent-encoded tricks), names a directory, or does
// not exist.
std::optional<std::filesystem::path> resolve_static(const std::filesystem::path& root, std::string_view relative);

}  // namespace apigw::server
