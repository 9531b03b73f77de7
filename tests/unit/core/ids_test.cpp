#include "apigw/core/ids.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <set>
#include <thread>

namespace apigw {
namespace {

TEST(ids, connection_ids_have_aws_shape_and_differ) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto id = new_connection_id();
    ASSERT_TRUE(id);
    ASSERT_EQ(id->size(), 16U);
    EXPECT_EQ(id->back(), '=');
    EXPECT_TRUE(is_valid_connection_id(*id)) << *id;
    seen.insert(*id);
  }
  EXPECT_EQ(seen.size(), 1000U);
}

TEST(ids, random_bytes_never_repeat_across_threads_and_forks) {
  // random_bytes hands out bytes from a per-thread pool: two threads, and a forked child and its
  // parent, must still get different bytes (a child reusing its parent's pool would issue the same
  // ids and tokens).
  const auto draw = [] {
    std::array<std::byte, 16> b{};
    EXPECT_TRUE(random_bytes(b));
    return b;
  };
  (void)draw();  // the pool is filled in this thread
  std::array<std::byte, 16> other{};
  std::thread([&] { other = draw(); }).join();
  const auto mine = draw();
  EXPECT_NE(mine, other);

  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const auto b = draw();
    const auto written = ::write(fds[1], b.data(), b.size());
    ::_exit(written == static_cast<ssize_t>(b.size()) ? 0 : 1);
  }
  const auto parent = draw();
  std::array<std::byte, 16> from_child{};
  ASSERT_EQ(::read(fds[0], from_child.data(), from_child.size()), static_cast<ssize_t>(from_child.size()));
  int status = 0;
  ::waitpid(child, &status, 0);
  ::close(fds[0]);
  ::close(fds[1]);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_NE(parent, from_child) << "a forked child handed out its parent's random bytes";
}

TEST(ids, connection_id_validation) {
  EXPECT_TRUE(is_valid_connection_id("L0SM9cOFvHcCIhw="));
  EXPECT_TRUE(is_valid_connection_id("a-b_c="));
  EXPECT_FALSE(is_valid_connection_id(""));
  EXPECT_FALSE(is_valid_connection_id("abc def"));
  EXPECT_FALSE(is_valid_connection_id("abc%3D"));
  EXPECT_FALSE(is_valid_connection_id("abc\r\nX-Evil: 1"));
  EXPECT_FALSE(is_valid_connection_id("../../etc"));
  EXPECT_FALSE(is_valid_connection_id(std::string(129, 'a')));
}

TEST(ids, tokens_are_64_hex_and_unique) {
  auto a = new_token_hex();
  auto b = new_token_hex();
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(is_token_hex(*a));
  EXPECT_NE(*a, *b);
  EXPECT_FALSE(is_token_hex(std::string(64, 'A')));
  EXPECT_FALSE(is_token_hex(std::string(63, 'a')));
}

TEST(ids, hex_and_constant_time_compare) {
  EXPECT_EQ(to_hex(std::string_view("\x00\xff\x10", 3)), "00ff10");
  EXPECT_TRUE(constant_time_equal("secret", "secret"));
  EXPECT_FALSE(constant_time_equal("secret", "secreT"));
  EXPECT_FALSE(constant_time_equal("secret", "secret2"));
}

}  // namespace
}  // namespace apigw
