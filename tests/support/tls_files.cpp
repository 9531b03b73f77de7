// TLS material and a blocking TLS client for tests (see tls_files.hpp).
#include "support/tls_files.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <fmt/format.h>

#include <sys/socket.h>
#include <sys/time.h>

#include <fstream>
#include <random>
#include <stdexcept>

namespace apigw::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

template <class T>
T must(result<T> r) {
  if (!r) throw std::runtime_error(r.error().message);
  return std::move(*r);
}

}  // namespace

temp_dir::temp_dir() {
  std::random_device rd;
  for (int attempt = 0;; ++attempt) {
    auto p = std::filesystem::temp_directory_path() / fmt::format("apigw-test-{:08x}", rd());
    if (std::filesystem::create_directory(p)) {
      path_ = std::move(p);
      return;
    }
    if (attempt > 100) throw std::runtime_error("cannot create a temporary directory");
  }
}

temp_dir::~temp_dir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

void write_file(const std::filesystem::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

tls_material::tls_material(std::vector<std::string> names)
    : ca(must(net::make_local_ca("apigw test CA"))),
      leaf(must(net::issue_server_certificate(ca, names))),
      files{dir.path() / "cert.pem", dir.path() / "key.pem"},
      ca_file(dir.path() / "ca.pem") {
  write_file(ca_file, ca.certificate);
  install(leaf);
}

net::pem_credentials tls_material::issue(std::vector<std::string> names) const {
  return must(net::issue_server_certificate(ca, names));
}

void tls_material::install(const net::pem_credentials& l) const {
  write_file(files.certificate, l.certificate);
  write_file(files.key, l.key);
}

tls_probe::tls_probe(std::uint16_t port, const std::string& ca_pem, int min_version, int max_version)
    : port_(port), ctx_(asio::ssl::context::tls_client) {
  ctx_.add_certificate_authority(asio::buffer(ca_pem));
  ctx_.set_verify_mode(asio::ssl::verify_peer);
  if (min_version != 0 && min_version < TLS1_2_VERSION) {
    SSL_CTX_set_security_level(ctx_.native_handle(), 0);
    SSL_CTX_set_cipher_list(ctx_.native_handle(), "DEFAULT:@SECLEVEL=0");
  }
  if (min_version != 0) SSL_CTX_set_min_proto_version(ctx_.native_handle(), min_version);
  if (max_version != 0) SSL_CTX_set_max_proto_version(ctx_.native_handle(), max_version);
  stream_ = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket>>(io_, ctx_);
  stream_->set_verify_callback(asio::ssl::host_name_verification("127.0.0.1"));
}

tls_probe::~tls_probe() = default;

boost::system::error_code tls_probe::handshake() {
  boost::system::error_code ec;
  stream_->next_layer().connect({asio::ip::make_address("127.0.0.1"), port_}, ec);
  if (ec) return ec;
  // A server that never answers fails the test instead of hanging it.
  timeval tv{20, 0};
  ::setsockopt(stream_->next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  stream_->handshake(asio::ssl::stream_base::client, ec);
  return ec;
}

std::string tls_probe::peer_sha256() {
  X509* x = SSL_get1_peer_certificate(stream_->native_handle());
  if (x == nullptr) return "no certificate";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  X509_digest(x, EVP_sha256(), md, &n);
  X509_free(x);
  std::string out;
  for (unsigned int i = 0; i < n; ++i) out += fmt::format("{:02x}", md[i]);
  return out;
}

std::string tls_probe::version() {
  return SSL_get_version(stream_->native_handle());
}

std::string tls_probe::get(const std::string& target) {
  http::request<http::string_body> req{http::verb::get, target, 11};
  req.set(http::field::host, fmt::format("127.0.0.1:{}", port_));
  boost::system::error_code ec;
  http::write(*stream_, req, ec);
  if (ec) return "error: " + ec.message();
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(*stream_, buffer, res, ec);
  if (ec) return "error: " + ec.message();
  return fmt::format("{} {}", res.result_int(), res.body());
}

}  // namespace apigw::testing
