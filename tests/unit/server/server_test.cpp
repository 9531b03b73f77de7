// Tests of the server's pure helpers: static file resolution (no escape from the root) and
// content types.
#include "apigw/server/server.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

namespace apigw::server {
namespace {

class static_files : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_ / "root" / "js");
    std::ofstream(dir_ / "root" / "index.html") << "x";
    std::ofstream(dir_ / "root" / "js" / "app.js") << "x";
    std::ofstream(dir_ / "outside.txt") << "x";
    std::filesystem::create_symlink(dir_ / "outside.txt", dir_ / "root" / "link.txt");
  }
  apigw::testing::temp_dir tmp_{"apigw-static-"};
  const std::filesystem::path dir_ = tmp_.path();
};

TEST_F(static_files, resolves_only_files_under_the_root) {
  const auto root = dir_ / "root";
  EXPECT_TRUE(resolve_static(root, "index.html"));
  EXPECT_TRUE(resolve_static(root, "js/app.js"));
  EXPECT_TRUE(resolve_static(root, "js%2Fapp.js"));
  for (const char* bad : {"", "/etc/passwd", "../outside.txt", "%2e%2e/outside.txt", "js/../../outside.txt", "js",
                          "missing", "link.txt", "js\\..\\..\\outside.txt", "./index.html"}) {
    EXPECT_FALSE(resolve_static(root, bad)) << bad;
  }
}

TEST(content_types, by_extension) {
  EXPECT_EQ(content_type_for("a/index.HTML"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("app.mjs"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("x.css"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_for("x.bin"), "application/octet-stream");
}

}  // namespace
}  // namespace apigw::server
