// A small libcurl (easy) client for the emulator's HTTPS and token tests:
// one handle, so consecutive calls reuse its keep-alive connection, with the
// TLS knobs those tests need (trusted CA file, pinned host resolution).
#ifndef CERTBRIDGE_TESTS_EMULATOR_CURL_TEST_CLIENT_H_
#define CERTBRIDGE_TESTS_EMULATOR_CURL_TEST_CLIENT_H_

#include <curl/curl.h>

#include <cctype>
#include <map>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace certbridge::emulator::test {

struct CurlReply {
  CURLcode code = CURLE_OK;
  /// curl's error buffer: the TLS reason when the handshake failed.
  std::string error;
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  long new_connections = 0;
  absl::Duration took;
};

class CurlClient {
 public:
  CurlClient() : h_(curl_easy_init()) {}
  ~CurlClient() { curl_easy_cleanup(h_); }
  CurlClient(const CurlClient&) = delete;
  CurlClient& operator=(const CurlClient&) = delete;

  /// The CA file to verify servers with; "" uses curl's default bundle.
  void set_ca_file(std::string ca_file) { ca_file_ = std::move(ca_file); }
  /// "host:port:address" entries for CURLOPT_RESOLVE.
  void set_resolve(std::vector<std::string> resolve) {
    resolve_ = std::move(resolve);
  }

  CurlReply Send(const std::string& method, const std::string& url,
                 const std::string& body = "",
                 const std::vector<std::string>& headers = {},
                 long timeout_ms = 10000) {
    CurlReply reply;
    char error[CURL_ERROR_SIZE] = "";
    curl_easy_reset(h_);
    curl_easy_setopt(h_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h_, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(h_, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(h_, CURLOPT_TIMEOUT_MS, timeout_ms);
    // Fail loudly (5 s) rather than silently waiting curl's default 1 s.
    curl_easy_setopt(h_, CURLOPT_EXPECT_100_TIMEOUT_MS, 5000L);
    if (!ca_file_.empty())
      curl_easy_setopt(h_, CURLOPT_CAINFO, ca_file_.c_str());
    curl_slist* resolve = nullptr;
    for (const std::string& r : resolve_) {
      resolve = curl_slist_append(resolve, r.c_str());
    }
    curl_easy_setopt(h_, CURLOPT_RESOLVE, resolve);
    if (method == "GET") curl_easy_setopt(h_, CURLOPT_HTTPGET, 1L);
    if (!body.empty() || method == "POST" || method == "PUT") {
      curl_easy_setopt(h_, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(h_, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(body.size()));
    }
    bool has_expect = false;
    curl_slist* list = nullptr;
    for (const std::string& header : headers) {
      if (header.rfind("Expect:", 0) == 0) has_expect = true;
      list = curl_slist_append(list, header.c_str());
    }
    if (!has_expect) list = curl_slist_append(list, "Expect:");
    curl_easy_setopt(h_, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(h_, CURLOPT_WRITEFUNCTION, &CurlClient::OnBody);
    curl_easy_setopt(h_, CURLOPT_WRITEDATA, &reply.body);
    curl_easy_setopt(h_, CURLOPT_HEADERFUNCTION, &CurlClient::OnHeader);
    curl_easy_setopt(h_, CURLOPT_HEADERDATA, &reply.headers);
    const absl::Time start = absl::Now();
    reply.code = curl_easy_perform(h_);
    reply.took = absl::Now() - start;
    reply.error = error;
    curl_easy_setopt(h_, CURLOPT_ERRORBUFFER, nullptr);
    curl_easy_getinfo(h_, CURLINFO_RESPONSE_CODE, &reply.status);
    curl_easy_getinfo(h_, CURLINFO_NUM_CONNECTS, &reply.new_connections);
    curl_slist_free_all(list);
    // Cleared before freeing: the handle keeps the list for the next call.
    curl_easy_setopt(h_, CURLOPT_RESOLVE, nullptr);
    curl_slist_free_all(resolve);
    return reply;
  }

 private:
  static size_t OnBody(char* data, size_t size, size_t n, void* out) {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
  }
  static size_t OnHeader(char* data, size_t size, size_t n, void* out) {
    std::string line(data, size * n);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(c));
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      value.erase(value.find_last_not_of("\r\n ") + 1);
      (*static_cast<std::map<std::string, std::string>*>(out))[name] = value;
    }
    return size * n;
  }

  CURL* h_;
  std::string ca_file_;
  std::vector<std::string> resolve_;
};

}  // namespace certbridge::emulator::test

#endif  // CERTBRIDGE_TESTS_EMULATOR_CURL_TEST_CLIENT_H_
