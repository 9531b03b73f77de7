// Test support for sigv4: reading the AWS SigV4 test suite (tests/data/aws4_testsuite, Apache-2.0,
// kept in the repository with its LICENSE and NOTICE) and running the botocore cross-check script.
#pragma once

#include "apigw/core/json.hpp"
#include "apigw/sigv4/signer.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

namespace apigw::sigv4::test_support {

namespace fs = std::filesystem;

// The suite's fixed inputs (see its README): credentials, scope and time.
inline constexpr std::string_view k_suite_access_key = "AKIDEXAMPLE";
inline constexpr std::string_view k_suite_secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
inline constexpr std::string_view k_suite_region = "us-east-1";
inline constexpr std::string_view k_suite_service = "service";
inline const clock::time_point k_suite_time = clock::time_point{std::chrono::seconds{1440938160}};  // 20150830T123600Z

inline fs::path suite_dir() {
  return fs::path(APIGW_PROJECT_DIR) / "tests" / "data" / "aws4_testsuite";
}

// suite_case: one vector directory; `dir` is empty for the placeholder used when the suite is absent
// (a broken checkout: the test then fails rather than passing with nothing checked).
struct suite_case {
  std::string name;  // gtest-safe: "normalize_path_get_slash"
  fs::path dir;
  std::string stem;  // "get-slash"

  fs::path file(std::string_view ext) const { return dir / (stem + std::string(ext)); }
};

// list_suite_cases: every directory holding <dirname>.req, sorted; one placeholder case when the
// suite is missing, so the test reports a failure instead of nothing.
inline std::vector<suite_case> list_suite_cases() {
  std::vector<suite_case> out;
  std::error_code ec;
  const fs::path root = suite_dir();
  if (fs::is_directory(root, ec)) {
    for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (!it->is_directory()) continue;
      const std::string stem = it->path().filename().string();
      if (!fs::exists(it->path() / (stem + ".req"))) continue;
      std::string name = fs::relative(it->path(), root).generic_string();
      std::replace_if(
          name.begin(), name.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
      out.push_back({name, it->path(), stem});
    }
  }
  std::sort(out.begin(), out.end(), [](const suite_case& a, const suite_case& b) { return a.name < b.name; });
  if (out.empty()) out.push_back({"suite_missing", {}, {}});
  return out;
}

inline std::string case_name(const ::testing::TestParamInfo<suite_case>& info) {
  return info.param.name;
}

// PrintTo: how gtest (and so the ctest test name) shows a case: its directory in the suite.
inline void PrintTo(const suite_case& c, std::ostream* os) {
  *os << (c.dir.empty() ? std::string("(suite missing)") : fs::relative(c.dir, suite_dir()).generic_string());
}

inline std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// parsed_request: an HTTP request read from a .req file; owns the storage `view()` points into.
struct parsed_request {
  std::string method;
  std::string path;
  std::string query;
  std::vector<header> headers;
  std::string body;

  request view() const { return request{method, path, query, headers, body}; }

  // set: replaces every header named `name` (case-insensitively) by one with `value`.
  void set(const std::string& name, const std::string& value) {
    std::erase_if(headers, [&](const header& h) {
      return h.name.size() == name.size() && std::equal(h.name.begin(), h.name.end(), name.begin(), [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
             });
    });
    headers.push_back({name, value});
  }
};

// parse_req: "METHOD target HTTP/1.1", header lines ("Name:value"; a line starting with a space
// continues the previous value, kept with its line break), an empty line, the body. The target may
// contain spaces (get-space), so the version is split off at the last space.
inline std::optional<parsed_request> parse_req(std::string_view text) {
  parsed_request r;
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  std::optional<std::size_t> body_at;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    const std::string_view line = text.substr(start, end - start);
    if (line.empty() && !lines.empty()) {
      body_at = end + 1;
      break;
    }
    lines.push_back(line);
    start = end + 1;
  }
  if (lines.empty()) return std::nullopt;
  const std::string_view first = lines.front();
  const std::size_t sp1 = first.find(' ');
  const std::size_t sp2 = first.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 <= sp1) return std::nullopt;
  r.method = first.substr(0, sp1);
  const std::string_view target = first.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::size_t q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string_view::npos) r.query = target.substr(q + 1);
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    if ((line.front() == ' ' || line.front() == '\t') && !r.headers.empty()) {
      r.headers.back().value.append("\n").append(line);
      continue;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    r.headers.push_back({std::string(line.substr(0, colon)), std::string(line.substr(colon + 1))});
  }
  if (body_at && *body_at <= text.size()) r.body = text.substr(*body_at);
  return r;
}

// header_value: the first header named `name` (exact case) in `headers`.
inline std::string header_value(const std::vector<header>& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (h.name == name) return h.value;
  }
  return {};
}

// botocore_run: the output of tests/unit/sigv4/botocore_sign.py run by Debian's /usr/bin/python3, or
// the reason it could not run (then the caller skips).
struct botocore_run {
  std::optional<json::array> cases;
  std::string skip_reason;
  std::string error;
};

inline const botocore_run& run_botocore_script() {
  static const botocore_run run = [] {
    botocore_run r;
    const fs::path python = "/usr/bin/python3";
    if (::access(python.c_str(), X_OK) != 0) {
      r.skip_reason = "/usr/bin/python3 is not installed";
      return r;
    }
    const fs::path script = fs::path(APIGW_PROJECT_DIR) / "tests" / "unit" / "sigv4" / "botocore_sign.py";
    const std::string cmd = "'" + python.string() + "' '" + script.string() + "'";
    FILE* pipe = ::popen(cmd.c_str(), "r");
    if (pipe == nullptr) {
      r.error = "popen failed";
      return r;
    }
    std::string out;
    char buf[65536];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, n);
    const int status = ::pclose(pipe);
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (code == 77) {
      r.skip_reason = "/usr/bin/python3 cannot import botocore (Debian package python3-botocore)";
      return r;
    }
    if (code != 0) {
      r.error = "botocore_sign.py exited with status " + std::to_string(code);
      return r;
    }
    auto doc = parse_json(out);
    if (!doc || !doc->is_array()) {
      r.error = "botocore_sign.py did not print a JSON array";
      return r;
    }
    r.cases = doc->get_array();
    return r;
  }();
  return run;
}

// from_hex: bytes of a lower-case hex string.
inline std::string from_hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// botocore_case: one request botocore signed.
struct botocore_case {
  std::string name;
  std::string method;
  std::string host;
  std::string path;
  std::string query;
  std::string region;
  credentials creds;
  std::vector<header> signing_headers;  // what botocore had when it signed (Host added here)
  std::vector<header> wire_headers;     // what it would send, Authorization included (Host added here)
  std::string body;
  std::string authorization;
  std::string amz_date;

  request signing_request() const { return request{method, path, query, signing_headers, body}; }
  request wire_request() const { return request{method, path, query, wire_headers, body}; }
};

inline std::string str(const json::object& o, std::string_view key) {
  auto v = get_string(o, key);
  return v ? std::string(*v) : std::string();
}

inline std::vector<header> headers_of(const json::value& v, const std::string& host) {
  std::vector<header> out{{"Host", host}};
  for (const auto& h : v.as_array()) {
    const auto& pair = h.as_array();
    out.push_back({std::string(pair.at(0).as_string()), std::string(pair.at(1).as_string())});
  }
  return out;
}

inline botocore_case to_case(const json::value& v) {
  const auto& o = v.as_object();
  botocore_case c;
  c.name = str(o, "name");
  c.method = str(o, "method");
  c.host = str(o, "host");
  c.path = str(o, "path");
  c.query = str(o, "query");
  c.region = str(o, "region");
  c.creds = credentials{str(o, "access_key"), str(o, "secret_key"), str(o, "token")};
  c.signing_headers = headers_of(o.at("signing_headers"), c.host);
  c.wire_headers = headers_of(o.at("wire_headers"), c.host);
  c.body = from_hex(str(o, "body_hex"));
  c.authorization = str(o, "authorization");
  c.amz_date = str(o, "amz_date");
  return c;
}

// The fixed signing time of botocore_sign.py.
inline const clock::time_point k_botocore_time =
    clock::time_point{std::chrono::seconds{1741168800}};  // 20250305T100000Z

}  // namespace apigw::sigv4::test_support
