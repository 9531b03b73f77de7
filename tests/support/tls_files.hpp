// tests/support/tls_files.hpp: TLS material for tests: a throwaway CA and a server certificate
// it issued (for localhost and 127.0.0.1), written as PEM files to a temporary directory that is
// removed afterwards; and `tls_probe`, a blocking TLS client that reports the handshake's outcome
// and the certificate the server presented.
#pragma once

#include "apigw/net/tls.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace apigw::testing {

// temp_dir: a new, empty directory under the system's temporary directory; removed with its
// contents on destruction.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

// write_file: replaces `path` with `content`.
void write_file(const std::filesystem::path& path, std::string_view content);

// tls_material: a CA and a server certificate, in memory and on disk:
// {dir}/ca.pem, {dir}/cert.pem (the leaf), {dir}/key.pem.
struct tls_material {
  explicit tls_material(std::vector<std::string> names = {"localhost", "127.0.0.1"});
  // issue: another server certificate from the same CA (a new key).
  net::pem_credentials issue(std::vector<std::string> names = {"localhost", "127.0.0.1"}) const;
  // install: writes `leaf` over cert.pem and key.pem.
  void install(const net::pem_credentials& leaf) const;

  temp_dir dir;
  net::pem_credentials ca;
  net::pem_credentials leaf;
  net::tls_files files;           // cert.pem, key.pem
  std::filesystem::path ca_file;  // ca.pem
};

// tls_probe: a blocking TLS client of 127.0.0.1:port trusting `ca_pem` (verifying the chain and
// that the certificate names 127.0.0.1). `max_version`/`min_version` (TLS1_1_VERSION, ...; 0:
// OpenSSL's defaults) restrict the versions it offers; offering TLS 1.1 also lowers its security
// level, since OpenSSL 3 refuses TLS 1.1 itself otherwise.
class tls_probe {
 public:
  tls_probe(std::uint16_t port, const std::string& ca_pem, int min_version = 0, int max_version = 0);
  ~tls_probe();
  // handshake: connects and runs the handshake; the error, or success.
  boost::system::error_code handshake();
  // peer_sha256: the SHA-256 fingerprint (lower-case hex) of the certificate the server sent.
  std::string peer_sha256();
  // version: the negotiated protocol ("TLSv1.3").
  std::string version();
  // get: sends `GET target` (keep-alive) and returns the status line and body ("200 ok:/x"), or
  // "error: ..." when the exchange failed.
  std::string get(const std::string& target);
  // stream: the connection itself.
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket>& stream() { return *stream_; }

 private:
  std::uint16_t port_;
  boost::asio::io_context io_;
  boost::asio::ssl::context ctx_;
  std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>> stream_;
};

}  // namespace apigw::testing
