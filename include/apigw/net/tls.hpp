// apigw/net/tls.hpp: server-side TLS: a server context from PEM files (certificate chain + key,
// TLS 1.2 minimum), a holder whose context can be replaced while the server runs (reload on
// SIGHUP: new connections get the new certificate, open ones keep theirs), the stream a TLS
// connection is handed over in, and a small local certificate authority for development
// (`apigw-ws dev --tls`, tests).
//
//   auto tls = net::server_tls::from_files({"/etc/apigw/cert.pem", "/etc/apigw/key.pem"});
//   if (!tls) return tls.error();          // names the file and what is wrong with it
//   options.tls = *tls;                    // net::http_server_options
//   ...
//   (*tls)->reload();                      // on SIGHUP; on failure the old certificate stays
#pragma once

#include "apigw/core/error.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace apigw::net {

// tls_files: where a server's certificate chain (PEM: the leaf first, then intermediates) and its
// private key (PEM, unencrypted) are.
struct tls_files {
  std::filesystem::path certificate;
  std::filesystem::path key;
};

// server_context_from_pem: a server context (TLS 1.2 and 1.3 only, no compression, no
// renegotiation) serving `chain_pem` with `key_pem`. Fails with net::error::tls_config_invalid
// (condition invalid_argument): no certificate in the chain, an unreadable or encrypted key, or a
// key that does not belong to the first certificate. `chain_name` and `key_name` name the
// sources in the messages (the files' paths).
result<std::shared_ptr<boost::asio::ssl::context>> server_context_from_pem(std::string_view chain_pem,
                                                                           std::string_view key_pem,
                                                                           std::string_view chain_name = "certificate",
                                                                           std::string_view key_name = "key");

// load_server_context: server_context_from_pem on the files' contents; a missing or unreadable
// file is tls_config_invalid naming the file and the OS reason.
result<std::shared_ptr<boost::asio::ssl::context>> load_server_context(const tls_files& files);

// server_tls: the context a server's new TLS connections are made with. Thread-safe: current()
// may be called by any thread while another replaces or reloads.
class server_tls {
 public:
  explicit server_tls(std::shared_ptr<boost::asio::ssl::context> context);

  // from_files: loads `files` (see load_server_context); reload() reads them again.
  static result<std::shared_ptr<server_tls>> from_files(tls_files files);

  // current: the context for a new connection. A connection keeps the context it started with.
  std::shared_ptr<boost::asio::ssl::context> current() const;
  // replace: new connections use `context` from now on.
  void replace(std::shared_ptr<boost::asio::ssl::context> context);
  // reload: reads the files again (from_files only; otherwise invalid_argument). On failure the
  // current context stays and the error says why.
  result<void> reload();
  // generation: how many times the context was replaced (0 at first).
  std::uint64_t generation() const;

 private:
  mutable std::mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> context_;
  std::optional<tls_files> files_;
  std::uint64_t generation_ = 0;
};

// tls_stream: a TLS connection over TCP.
using tls_stream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;

// tls_connection: a server-side TLS connection whose handshake is done, with the context it was
// made with (declared first, so it outlives the stream).
struct tls_connection {
  tls_connection(std::shared_ptr<boost::asio::ssl::context> c, boost::asio::ip::tcp::socket socket)
      : context(std::move(c)), stream(std::move(socket), *context) {}
  std::shared_ptr<boost::asio::ssl::context> context;
  tls_stream stream;
};

// -- a local certificate authority (development and tests) --

// pem_credentials: a certificate (chain) and its private key, PEM.
struct pem_credentials {
  std::string certificate;
  std::string key;
};

// make_local_ca: a new self-signed CA certificate (P-256, `valid_for` from an hour ago, path
// length 0, may sign certificates only) named `common_name`.
result<pem_credentials> make_local_ca(std::string_view common_name,
                                      std::chrono::hours valid_for = std::chrono::hours(24 * 825));

// issue_server_certificate: a server certificate signed by `ca` for `names` (subjectAltName
// entries, e.g. {"localhost", "127.0.0.1", "::1"}; IP addresses become IP SANs, the rest DNS
// names), with serverAuth extended key usage, valid for `valid_for` (browsers refuse more than
// 398 days). Fails with tls_config_invalid when `ca` cannot be read or `names` is empty.
result<pem_credentials> issue_server_certificate(const pem_credentials& ca, const std::vector<std::string>& names,
                                                 std::chrono::hours valid_for = std::chrono::hours(24 * 397));

// certificate_sha256: the SHA-256 fingerprint of the first certificate in `pem` (DER), lower-case
// hex; spki_sha256_base64: the base64 SHA-256 of its public key (SubjectPublicKeyInfo), the form
// Chromium's --ignore-certificate-errors-spki-list takes.
result<std::string> certificate_sha256(std::string_view pem);
result<std::string> spki_sha256_base64(std::string_view pem);

}  // namespace apigw::net
