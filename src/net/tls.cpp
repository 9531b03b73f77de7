// Server-side TLS: contexts from PEM, the reloadable holder, and the local certificate authority
// of `apigw-ws dev --tls`, all on OpenSSL's own API (EVP_PKEY, X509).
#include "apigw/net/tls.hpp"

#include "apigw/net/error.hpp"
#include "apigw/net/url.hpp"

#include <fmt/format.h>
#include <boost/asio/buffer.hpp>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace apigw::net {

namespace asio = boost::asio;
namespace ssl = asio::ssl;

namespace {

template <auto Free>
struct deleter {
  template <class T>
  void operator()(T* p) const noexcept {
    Free(p);
  }
};
using bio_ptr = std::unique_ptr<BIO, deleter<BIO_free_all>>;
using x509_ptr = std::unique_ptr<X509, deleter<X509_free>>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, deleter<EVP_PKEY_free>>;
using bn_ptr = std::unique_ptr<BIGNUM, deleter<BN_free>>;

constexpr std::size_t k_max_pem_bytes = 1024 * 1024;

failure invalid(std::string message) {
  return failure{error::tls_config_invalid, std::move(message)};
}

// openssl_reason: the reason of OpenSSL's most recent error ("no start line"), clearing the queue.
std::string openssl_reason() {
  const unsigned long e = ERR_peek_last_error();
  const char* r = e != 0 ? ERR_reason_error_string(e) : nullptr;
  std::string out = r != nullptr ? r : "unknown OpenSSL error";
  ERR_clear_error();
  return out;
}

bio_ptr memory_bio(std::string_view pem) {
  return bio_ptr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// no_password: refuses encrypted keys instead of prompting on the terminal.
int no_password(char*, int, int, void*) {
  return -1;
}

x509_ptr read_certificate(std::string_view pem) {
  auto bio = memory_bio(pem);
  return x509_ptr(bio ? PEM_read_bio_X509(bio.get(), nullptr, no_password, nullptr) : nullptr);
}

pkey_ptr read_key(std::string_view pem) {
  auto bio = memory_bio(pem);
  return pkey_ptr(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_password, nullptr) : nullptr);
}

result<std::string> read_file(const std::filesystem::path& path, std::string_view what) {
  std::unique_ptr<std::FILE, deleter<std::fclose>> f(std::fopen(path.c_str(), "rb"));
  if (!f) return invalid(fmt::format("cannot read TLS {} file {}: {}", what, path.string(), std::strerror(errno)));
  std::string out;
  char buf[8192];
  for (;;) {
    const std::size_t n = std::fread(buf, 1, sizeof buf, f.get());
    out.append(buf, n);
    if (out.size() > k_max_pem_bytes) {
      return invalid(fmt::format("TLS {} file {} is larger than {} bytes", what, path.string(), k_max_pem_bytes));
    }
    if (n < sizeof buf) break;
  }
  if (std::ferror(f.get()) != 0) {
    return invalid(fmt::format("cannot read TLS {} file {}: {}", what, path.string(), std::strerror(errno)));
  }
  return out;
}

std::string to_pem(X509* x) {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), x);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

std::string to_pem(EVP_PKEY* key) {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

// new_certificate: an unsigned X.509 v3 certificate for `key` named `common_name`, with a random
// serial and validity from an hour ago for `valid_for`.
x509_ptr new_certificate(EVP_PKEY* key, std::string_view common_name, std::chrono::hours valid_for) {
  x509_ptr x(X509_new());
  X509_set_version(x.get(), 2);
  bn_ptr serial(BN_new());
  BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
  BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(x.get()));
  X509_gmtime_adj(X509_getm_notBefore(x.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), static_cast<long>(valid_for.count()) * 3600);
  X509_set_pubkey(x.get(), key);
  X509_NAME* name = X509_get_subject_name(x.get());
  const std::string cn(common_name);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("apigw-ws development"),
                             -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  return x;
}

bool add_extension(X509* x, X509V3_CTX* ctx, int nid, const std::string& value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str());
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(x, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

}  // namespace

result<std::shared_ptr<ssl::context>> server_context_from_pem(std::string_view chain_pem, std::string_view key_pem,
                                                              std::string_view chain_name, std::string_view key_name) {
  ERR_clear_error();
  auto leaf = read_certificate(chain_pem);
  if (!leaf) {
    return invalid(fmt::format("TLS certificate {} holds no PEM certificate ({})", chain_name, openssl_reason()));
  }
  auto key = read_key(key_pem);
  if (!key) {
    return invalid(fmt::format("TLS key {} holds no unencrypted PEM private key ({})", key_name, openssl_reason()));
  }
  if (X509_check_private_key(leaf.get(), key.get()) != 1) {
    ERR_clear_error();
    return invalid(fmt::format("TLS key {} does not belong to the certificate in {}", key_name, chain_name));
  }
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* h = ctx->native_handle();
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression | ssl::context::single_dh_use |
                   ssl::context::no_sslv2 | ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  SSL_CTX_set_options(h, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_min_proto_version(h, TLS1_2_VERSION);
  boost::system::error_code ec;
  ctx->use_certificate_chain(asio::buffer(chain_pem.data(), chain_pem.size()), ec);
  if (ec) return invalid(fmt::format("TLS certificate {} cannot be used: {}", chain_name, openssl_reason()));
  if (SSL_CTX_use_PrivateKey(h, key.get()) != 1 || SSL_CTX_check_private_key(h) != 1) {
    return invalid(fmt::format("TLS key {} cannot be used with {}: {}", key_name, chain_name, openssl_reason()));
  }
  return ctx;
}

result<std::shared_ptr<ssl::context>> load_server_context(const tls_files& files) {
  auto chain = read_file(files.certificate, "certificate");
  if (!chain) return chain.error();
  auto key = read_file(files.key, "key");
  if (!key) return key.error();
  return server_context_from_pem(*chain, *key, files.certificate.string(), files.key.string());
}

server_tls::server_tls(std::shared_ptr<ssl::context> context) : context_(std::move(context)) {}

result<std::shared_ptr<server_tls>> server_tls::from_files(tls_files files) {
  auto ctx = load_server_context(files);
  if (!ctx) return ctx.error();
  auto holder = std::make_shared<server_tls>(std::move(*ctx));
  holder->files_ = std::move(files);
  return holder;
}

std::shared_ptr<ssl::context> server_tls::current() const {
  std::lock_guard lock(mu_);
  return context_;
}

void server_tls::replace(std::shared_ptr<ssl::context> context) {
  std::lock_guard lock(mu_);
  context_ = std::move(context);
  ++generation_;
}

result<void> server_tls::reload() {
  std::optional<tls_files> files;
  {
    std::lock_guard lock(mu_);
    files = files_;
  }
  if (!files) return invalid("this TLS context was not loaded from files; there is nothing to reload");
  auto ctx = load_server_context(*files);
  if (!ctx) return ctx.error();
  replace(std::move(*ctx));
  return ok();
}

std::uint64_t server_tls::generation() const {
  std::lock_guard lock(mu_);
  return generation_;
}

// -- the local certificate authority --

result<pem_credentials> make_local_ca(std::string_view common_name, std::chrono::hours valid_for) {
  pkey_ptr key(EVP_EC_gen("P-256"));
  if (!key) return invalid(fmt::format("cannot generate a key: {}", openssl_reason()));
  auto x = new_certificate(key.get(), common_name, valid_for);
  X509_set_issuer_name(x.get(), X509_get_subject_name(x.get()));
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x.get(), x.get(), nullptr, nullptr, 0);
  if (!add_extension(x.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
      !add_extension(x.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") ||
      !add_extension(x.get(), &ctx, NID_subject_key_identifier, "hash") ||
      X509_sign(x.get(), key.get(), EVP_sha256()) == 0) {
    return invalid(fmt::format("cannot make the CA certificate: {}", openssl_reason()));
  }
  return pem_credentials{to_pem(x.get()), to_pem(key.get())};
}

result<pem_credentials> issue_server_certificate(const pem_credentials& ca, const std::vector<std::string>& names,
                                                 std::chrono::hours valid_for) {
  if (names.empty()) return invalid("a server certificate needs at least one name");
  std::string san;
  for (const auto& n : names) {
    if (n.empty() || n.find_first_of(", \t\r\n") != std::string::npos) {
      return invalid(fmt::format("\"{}\" is not a host name or IP address", n));
    }
    const bool ip = is_ip_literal(n);
    san += fmt::format("{}{}:{}", san.empty() ? "" : ",", ip ? "IP" : "DNS", n);
  }
  auto ca_cert = read_certificate(ca.certificate);
  auto ca_key = read_key(ca.key);
  if (!ca_cert || !ca_key || X509_check_private_key(ca_cert.get(), ca_key.get()) != 1) {
    ERR_clear_error();
    return invalid("the CA's certificate and key cannot be read or do not belong together");
  }
  pkey_ptr key(EVP_EC_gen("P-256"));
  if (!key) return invalid(fmt::format("cannot generate a key: {}", openssl_reason()));
  auto x = new_certificate(key.get(), names.front(), valid_for);
  X509_set_issuer_name(x.get(), X509_get_subject_name(ca_cert.get()));
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, ca_cert.get(), x.get(), nullptr, nullptr, 0);
  if (!add_extension(x.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE") ||
      !add_extension(x.get(), &ctx, NID_key_usage, "critical,digitalSignature") ||
      !add_extension(x.get(), &ctx, NID_ext_key_usage, "serverAuth") ||
      !add_extension(x.get(), &ctx, NID_subject_alt_name, san) ||
      !add_extension(x.get(), &ctx, NID_subject_key_identifier, "hash") ||
      !add_extension(x.get(), &ctx, NID_authority_key_identifier, "keyid:always") ||
      X509_sign(x.get(), ca_key.get(), EVP_sha256()) == 0) {
    return invalid(fmt::format("cannot issue the server certificate: {}", openssl_reason()));
  }
  return pem_credentials{to_pem(x.get()), to_pem(key.get())};
}

result<std::string> certificate_sha256(std::string_view pem) {
  auto x = read_certificate(pem);
  if (!x) return invalid(fmt::format("no PEM certificate ({})", openssl_reason()));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  X509_digest(x.get(), EVP_sha256(), md, &n);
  std::string out;
  for (unsigned int i = 0; i < n; ++i) out += fmt::format("{:02x}", md[i]);
  return out;
}

result<std::string> spki_sha256_base64(std::string_view pem) {
  auto x = read_certificate(pem);
  if (!x) return invalid(fmt::format("no PEM certificate ({})", openssl_reason()));
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(X509_get0_pubkey(x.get()), &der);
  if (len <= 0) return invalid(fmt::format("cannot encode the public key ({})", openssl_reason()));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(der, static_cast<std::size_t>(len), md, &n, EVP_sha256(), nullptr);
  OPENSSL_free(der);
  unsigned char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  const int m = EVP_EncodeBlock(b64, md, static_cast<int>(n));
  return std::string(reinterpret_cast<const char*>(b64), static_cast<std::size_t>(m));
}

}  // namespace apigw::net
