// SHA-256 / HMAC-SHA256 through OpenSSL 3 one-shot calls (the project's only implementation of
// either), and the SigV4 signing-key derivation.
#include "sigv4/crypto.hpp"

#include "apigw/core/ids.hpp"
#include "apigw/sigv4/error.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <climits>

namespace apigw::sigv4 {
namespace {

// OpenSSL wants a non-null pointer even for empty input.
const unsigned char* bytes_of(std::string_view s) noexcept {
  static constexpr unsigned char empty = 0;
  return s.empty() ? &empty : reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

result<std::string> sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (EVP_Digest(bytes_of(data), data.size(), md.data(), &len, EVP_sha256(), nullptr) != 1 || len != 32) {
    return failure{error::crypto_failure, "SHA-256 failed in OpenSSL"};
  }
  return to_hex(std::string_view(reinterpret_cast<const char*>(md.data()), len));
}

result<std::string> hmac_sha256(std::string_view key, std::string_view data) {
  if (key.size() > static_cast<std::size_t>(INT_MAX)) return failure{error::crypto_failure, "HMAC key too long"};
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), bytes_of(key), static_cast<int>(key.size()), bytes_of(data), data.size(), md.data(), &len) ==
          nullptr ||
      len != 32) {
    return failure{error::crypto_failure, "HMAC-SHA256 failed in OpenSSL"};
  }
  std::string out(reinterpret_cast<const char*>(md.data()), len);
  OPENSSL_cleanse(md.data(), md.size());
  return out;
}

result<std::string> hmac_sha256_hex(std::string_view key, std::string_view data) {
  auto mac = hmac_sha256(key, data);
  if (!mac) return mac.error();
  return to_hex(*mac);
}

namespace detail {

void wipe(std::string& s) noexcept {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

result<std::string> derive_signing_key(std::string_view secret, std::string_view date, std::string_view region,
                                       std::string_view service) {
  std::string key = "AWS4";
  key.append(secret);
  for (std::string_view part : {date, region, service, std::string_view("aws4_request")}) {
    auto next = hmac_sha256(key, part);
    wipe(key);
    if (!next) return next.error();
    key = std::move(*next);
  }
  return key;
}

result<std::string> compute_signature(std::string_view secret, std::string_view date, std::string_view region,
                                      std::string_view service, std::string_view string_to_sign) {
  auto key = derive_signing_key(secret, date, region, service);
  if (!key) return key.error();
  auto mac = hmac_sha256(*key, string_to_sign);
  wipe(*key);
  if (!mac) return mac.error();
  return to_hex(*mac);
}

}  // namespace detail
}  // namespace apigw::sigv4
