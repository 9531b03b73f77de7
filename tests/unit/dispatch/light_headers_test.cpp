// light_headers_test.cpp: dispatch's public face carries no I/O. A translation unit that includes
// what a view author includes (view.hpp, backend.hpp, testing.hpp) and the store's slices must not
// see Asio, Beast, the sender, OpenSSL, SQLite or libpq: the checks below fail the build if one of
// them leaks in again. The static_asserts pin that each component takes only its slice of the store.
#include "apigw/dispatch/view.hpp"

#include "apigw/dispatch/auth.hpp"
#include "apigw/dispatch/backend.hpp"
#include "apigw/dispatch/delivery.hpp"
#include "apigw/dispatch/rate_limiter.hpp"
#include "apigw/dispatch/request_services.hpp"
#include "apigw/dispatch/testing.hpp"
#include "apigw/dispatch/tokens.hpp"
#include "apigw/mgmt/delivery_report.hpp"
#include "apigw/store/session_store.hpp"

#include <gtest/gtest.h>

#include <type_traits>

#ifdef BOOST_ASIO_DETAIL_CONFIG_HPP
#error "a dispatch public header includes Asio (through mgmt/sender.hpp or net/); include mgmt/delivery_report.hpp"
#endif
#ifdef BOOST_BEAST_CORE_DETAIL_CONFIG_HPP
#error "a dispatch public header includes Beast"
#endif
#ifdef OPENSSL_VERSION_NUMBER
#error "a dispatch public header includes OpenSSL"
#endif
#ifdef SQLITE_VERSION
#error "a store public header includes SQLite"
#endif
#ifdef LIBPQ_HAS_PIPELINING
#error "a store public header includes libpq"
#endif

namespace apigw::dispatch {
namespace {

// Each component is built from its slice alone (a fake of that one interface is enough).
static_assert(std::is_constructible_v<token_service, store::token_repository&, const clock&>);
static_assert(std::is_constructible_v<rate_limiter, store::attempt_repository*, rate_limit_options>);
static_assert(std::is_constructible_v<builtin_authenticator, store::user_repository&, store::login_store&, const clock&,
                                      std::string_view>);
static_assert(std::is_constructible_v<recording_delivery, store::session_repository&>);
static_assert(std::is_constructible_v<session_set, delivery&, store::session_repository&>);
// The aggregate is every slice, so wiring code passes one store everywhere.
static_assert(std::is_convertible_v<store::session_store&, store::session_repository&>);
static_assert(std::is_convertible_v<store::session_store&, store::channel_repository&>);
static_assert(std::is_convertible_v<store::session_store&, store::gateway_repository&>);
static_assert(std::is_convertible_v<store::session_store&, store::user_repository&>);
static_assert(std::is_convertible_v<store::session_store&, store::token_repository&>);
static_assert(std::is_convertible_v<store::session_store&, store::attempt_repository&>);
// The backend is what a request_context uses, through the small interface.
static_assert(std::is_convertible_v<backend&, request_services&>);

TEST(light_headers, the_checks_above_compiled) {
  SUCCEED();  // the assertions are the preprocessor and static checks of this file
}

}  // namespace
}  // namespace apigw::dispatch
