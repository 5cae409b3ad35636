// certbridge-soak: the load generator of scripts/soak.sh. Workers do mixed
// Create/Get/Update/Delete on both backends of a running certbridge-server
// while a fault thread injects failures into the emulator behind it; the
// main thread samples the server process (/proc/<pid>) and prints a table.
// Fails (exit 1) when an RPC outlives its deadline, the server dies, an RPC
// never finishes on the server (grpc_server_started_total !=
// grpc_server_handled_total once the load stops), or RSS, fds or threads
// grow after the warm-up. Errors caused by injected faults are expected.
#include <curl/curl.h>
#include <dirent.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "certbridge/v1/certificate_service.grpc.pb.h"
#include "server/common/uuid.h"
#include "tests/testing/certificate_fixtures.h"

ABSL_FLAG(std::string, target, "", "certbridge gRPC address, host:port.");
ABSL_FLAG(std::string, emulator_url, "",
          "Emulator base URL, for POST /__emulator/faults.");
ABSL_FLAG(std::string, metrics_url, "",
          "The server's /metrics URL: every started RPC must be handled.");
ABSL_FLAG(int, server_pid, 0, "certbridge-server's pid, sampled in /proc.");
ABSL_FLAG(absl::Duration, duration, absl::Minutes(2), "How long to load.");
ABSL_FLAG(int, workers, 8, "Concurrent workers (each a blocking caller).");
ABSL_FLAG(absl::Duration, deadline, absl::Seconds(10), "Deadline per RPC.");
ABSL_FLAG(absl::Duration, sample_interval, absl::ZeroDuration(),
          "Between samples; default duration/60, at least 2s.");
ABSL_FLAG(bool, faults, true, "Inject faults into the emulator.");
ABSL_FLAG(double, rss_growth_ratio, 0.25,
          "Allowed RSS growth (median of the last quarter after warm-up over "
          "the first), as a fraction ...");
ABSL_FLAG(int, rss_growth_mib, 30, "... or in MiB, whichever is larger.");
ABSL_FLAG(int, fd_growth, 10, "Allowed growth of the median open fds.");
ABSL_FLAG(int, thread_growth, 4, "Allowed growth of the median threads.");

namespace {

namespace v1 = certbridge::v1;
using certbridge::testing::CertificateOptions;
using certbridge::testing::MakePemCertificate;
using certbridge::testing::MakePkcs12;
using certbridge::testing::Pkcs12Options;

constexpr char kPasskey[] = "soak-passkey";
constexpr char kHrDepartment[] = "18b45e41-0d2c-4b0c-9a55-3b7e7c1f0a52";
constexpr char kLegalDepartment[] = "7c1f0a52-3b7e-4b0c-9a55-0d2c1e9b8f10";
constexpr char kApinizerParent[] = "backends/apinizer/projects/Payments";
// An RPC returning this long after its deadline counts as hung.
constexpr absl::Duration kHangSlack = absl::Seconds(5);
constexpr std::size_t kMaxLivePerBackend = 6;
constexpr int kCallsPerChannel = 400;

enum Method { kCreate, kGet, kUpdate, kDelete, kMethodCount };
constexpr std::array<const char*, kMethodCount> kMethodNames = {
    "Create", "Get", "Update", "Delete"};
constexpr int kCodeCount = 17;

// Zero-initialised (static storage); written by every worker.
struct Counters {
  std::atomic<long> by_code[kMethodCount][kCodeCount];
  std::atomic<long> ok;
  std::atomic<long> errors;
  std::atomic<long> hung;
  std::atomic<long> faults;
  std::atomic<long> fault_post_failures;
} g_counters;

// ---------------------------------------------------------------- HTTP

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// One request with libcurl; the body, or nullopt unless 2xx.
std::optional<std::string> Http(const std::string& method,
                                const std::string& url,
                                const std::string& body = "") {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return std::nullopt;
  std::string out;
  curl_slist* headers =
      curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (method != "GET") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK || status < 200 || status > 299) return std::nullopt;
  return out;
}

// The sum of every sample of a metric in Prometheus text format.
double MetricSum(const std::string& text, const std::string& name) {
  double sum = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::StartsWith(line, name) || line.size() == name.size() ||
        (line[name.size()] != '{' && line[name.size()] != ' ')) {
      continue;
    }
    double v = 0;
    const std::size_t space = line.rfind(' ');
    if (absl::SimpleAtod(line.substr(space + 1), &v)) sum += v;
  }
  return sum;
}

// ---------------------------------------------------------------- process

struct Sample {
  double t = 0;  // seconds since the load started
  double rss_mib = 0;
  int fds = 0;
  int threads = 0;
  bool alive = false;
};

Sample SampleProcess(int pid, double t) {
  Sample s;
  s.t = t;
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    long v = 0;
    if (absl::StartsWith(line, "State:")) {
      s.alive = line.find('Z') == std::string::npos &&
                line.find("X (dead)") == std::string::npos;
    } else if (absl::StartsWith(line, "VmRSS:") &&
               absl::SimpleAtoi(absl::StripAsciiWhitespace(
                                    absl::StripSuffix(line.substr(6), "kB")),
                                &v)) {
      s.rss_mib = static_cast<double>(v) / 1024.0;
    } else if (absl::StartsWith(line, "Threads:") &&
               absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(8)),
                                &v)) {
      s.threads = static_cast<int>(v);
    }
  }
  if (DIR* dir = opendir(absl::StrCat("/proc/", pid, "/fd").c_str())) {
    while (dirent* e = readdir(dir)) s.fds += e->d_name[0] != '.';
    closedir(dir);
  }
  return s;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// ---------------------------------------------------------------- workers

// Made once: RSA key generation is slow. Fixtures share one key, and every
// file differs (serial, common name), so content never repeats.
struct Pool {
  std::vector<std::string> pkcs12;
  std::vector<std::string> pem;
  std::string wrong_passkey_pkcs12;
};

class Worker {
 public:
  Worker(int id, const Pool& pool, std::string target, absl::Duration deadline)
      : id_(id), pool_(pool), target_(std::move(target)), deadline_(deadline) {}

  void Run(const std::atomic<bool>& stop) {
    while (!stop.load()) {
      if (!stub_ || calls_ - channel_calls_ >= kCallsPerChannel) {
        NewChannel();
      }
      if (absl::Bernoulli(rng_, 0.5)) {
        LeegalityStep();
      } else {
        ApinizerStep();
      }
    }
  }

 private:
  // Each worker has its own connection, replaced now and then so that the
  // server accepts and closes connections throughout the run.
  void NewChannel() {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    stub_ = v1::CertificateService::NewStub(grpc::CreateCustomChannel(
        target_, grpc::InsecureChannelCredentials(), args));
    channel_calls_ = calls_;
  }

  template <typename Rpc>
  grpc::Status Call(Method method, Rpc rpc) {
    ++calls_;
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + deadline_));
    const absl::Time start = absl::Now();
    const grpc::Status status = rpc(&ctx);
    const absl::Duration took = absl::Now() - start;
    if (took > deadline_ + kHangSlack) {
      ++g_counters.hung;
      std::cerr << "HUNG: " << kMethodNames[method] << " took " << took
                << " (deadline " << deadline_ << ")\n";
    }
    const int code = static_cast<int>(status.error_code());
    ++g_counters.by_code[method][code >= 0 && code < kCodeCount ? code : 2];
    ++(status.ok() ? g_counters.ok : g_counters.errors);
    return status;
  }

  // Creates, retried once with the same request_id when the outcome is
  // unknown (as AIP-155 callers do).
  void Create(const v1::CreateCertificateRequest& request,
              std::vector<std::string>& live) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      v1::Certificate out;
      const grpc::Status s = Call(kCreate, [&](grpc::ClientContext* ctx) {
        return stub_->CreateCertificate(ctx, request, &out);
      });
      if (s.ok()) live.push_back(out.name());
      const auto code = s.error_code();
      if (code != grpc::StatusCode::UNAVAILABLE &&
          code != grpc::StatusCode::DEADLINE_EXCEEDED &&
          code != grpc::StatusCode::INTERNAL) {
        return;
      }
      absl::SleepFor(absl::Milliseconds(200));
    }
  }

  void Get(std::vector<std::string>& live, std::size_t i) {
    v1::GetCertificateRequest request;
    request.set_name(live[i]);
    v1::Certificate out;
    const grpc::Status s = Call(kGet, [&](grpc::ClientContext* ctx) {
      return stub_->GetCertificate(ctx, request, &out);
    });
    if (s.error_code() == grpc::StatusCode::NOT_FOUND) Forget(live, i);
  }

  void Delete(std::vector<std::string>& live, std::size_t i) {
    v1::DeleteCertificateRequest request;
    request.set_name(live[i]);
    if (absl::StrContains(live[i], "/projects/")) {
      request.set_jwk_delete_action(v1::JWK_DELETE_ACTION_NULLIFY);
    }
    v1::DeleteCertificateResponse out;
    const grpc::Status s = Call(kDelete, [&](grpc::ClientContext* ctx) {
      return stub_->DeleteCertificate(ctx, request, &out);
    });
    if (s.ok() || s.error_code() == grpc::StatusCode::NOT_FOUND) {
      Forget(live, i);
    }
  }

  void Update(const v1::UpdateCertificateRequest& request,
              std::vector<std::string>& live, std::size_t i) {
    v1::Certificate out;
    const grpc::Status s = Call(kUpdate, [&](grpc::ClientContext* ctx) {
      return stub_->UpdateCertificate(ctx, request, &out);
    });
    if (s.error_code() == grpc::StatusCode::NOT_FOUND) Forget(live, i);
  }

  static void Forget(std::vector<std::string>& live, std::size_t i) {
    live[i] = std::move(live.back());
    live.pop_back();
  }

  // Leegality SignStation: PKCS#12 uploads as certctl sends them.
  void LeegalityStep() {
    auto& live = leegality_;
    const int roll = absl::Uniform(rng_, 0, 100);
    if (live.empty() || (roll < 25 && live.size() < kMaxLivePerBackend)) {
      v1::CreateCertificateRequest request;
      request.set_parent("backends/leegality");
      request.set_request_id(certbridge::NewUuidV4(rng_));
      auto& l = *request.mutable_certificate()->mutable_leegality();
      const bool bad = roll % 20 == 7;  // 5%: wrong passkey, refused locally
      l.set_pkcs12_file(bad ? pool_.wrong_passkey_pkcs12 : Pick(pool_.pkcs12));
      l.set_passkey(kPasskey);
      l.set_file_name(absl::StrCat("soak-w", id_, "-", ++seq_, ".p12"));
      l.set_department_id(kHrDepartment);
      l.set_enabled(true);
      Create(request, live);
      return;
    }
    const std::size_t i = absl::Uniform<std::size_t>(rng_, 0, live.size());
    if (roll < 60) return Get(live, i);
    if (roll >= 88 || live.size() >= kMaxLivePerBackend) {
      return Delete(live, i);
    }
    v1::UpdateCertificateRequest request;
    auto& l = *request.mutable_certificate()->mutable_leegality();
    request.mutable_certificate()->set_name(live[i]);
    if (roll < 70) {
      l.set_enabled(roll % 2 == 0);
      request.mutable_update_mask()->add_paths("leegality.enabled");
    } else if (roll < 80) {
      l.set_department_id(roll % 2 == 0 ? kHrDepartment : kLegalDepartment);
      request.mutable_update_mask()->add_paths("leegality.department_id");
    } else {
      l.set_pkcs12_file(Pick(pool_.pkcs12));
      l.set_passkey(kPasskey);
      l.set_file_name(absl::StrCat("soak-w", id_, "-", ++seq_, ".p12"));
      for (const char* p : {"leegality.pkcs12_file", "leegality.passkey",
                            "leegality.file_name"}) {
        request.mutable_update_mask()->add_paths(p);
      }
    }
    Update(request, live, i);
  }

  // Apinizer API Ops: PEM certificates in project Payments, prod and uat.
  void ApinizerStep() {
    auto& live = apinizer_;
    const int roll = absl::Uniform(rng_, 0, 100);
    if (live.empty() || (roll < 25 && live.size() < kMaxLivePerBackend)) {
      const std::string id = absl::StrCat("soak-w", id_, "-", ++seq_);
      v1::CreateCertificateRequest request;
      request.set_parent(kApinizerParent);
      request.set_certificate_id(id);
      request.set_request_id(certbridge::NewUuidV4(rng_));
      auto& a = *request.mutable_certificate()->mutable_apinizer();
      a.set_alias(id + "-alias");
      a.set_description("soak test certificate");
      a.add_environments("prod");
      if (roll % 3 != 0) a.add_environments("uat");
      a.set_pem_certificate(Pick(pool_.pem));
      Create(request, live);
      return;
    }
    const std::size_t i = absl::Uniform<std::size_t>(rng_, 0, live.size());
    if (roll < 60) return Get(live, i);
    if (roll >= 88 || live.size() >= kMaxLivePerBackend) {
      return Delete(live, i);
    }
    v1::UpdateCertificateRequest request;
    request.mutable_certificate()->set_name(live[i]);
    request.set_jwk_update_action(v1::JWK_UPDATE_ACTION_NULLIFY);
    auto& a = *request.mutable_certificate()->mutable_apinizer();
    if (roll < 72) {
      a.set_description(absl::StrCat("rotated ", seq_));
      request.mutable_update_mask()->add_paths("apinizer.description");
    } else if (roll < 80) {
      a.add_environments("prod");
      if (roll % 2 == 0) a.add_environments("uat");
      request.mutable_update_mask()->add_paths("apinizer.environments");
    } else {
      a.set_pem_certificate(Pick(pool_.pem));
      request.mutable_update_mask()->add_paths("apinizer.pem_certificate");
    }
    Update(request, live, i);
  }

  const std::string& Pick(const std::vector<std::string>& v) {
    return v[absl::Uniform<std::size_t>(rng_, 0, v.size())];
  }

  const int id_;
  const Pool& pool_;
  const std::string target_;
  const absl::Duration deadline_;
  absl::BitGen rng_;
  std::unique_ptr<v1::CertificateService::Stub> stub_;
  std::vector<std::string> leegality_;
  std::vector<std::string> apinizer_;
  long calls_ = 0;
  long channel_calls_ = 0;  // calls_ when the channel was made
  int seq_ = 0;
};

// ---------------------------------------------------------------- faults

// What the fault thread injects, one at a time at random intervals. Each is
// good for a few requests; retries, the breaker and the budget absorb some.
constexpr std::array<const char*, 14> kFaults = {
    R"({"method":"GET","times":5,"status":503})",
    R"({"method":"POST","times":2,"status":500})",
    R"({"method":"PUT","path_prefix":"/apiops","times":3,"status":502})",
    R"({"method":"DELETE","times":2,"status":504})",
    R"({"times":3,"status":429,"headers":{"Retry-After":"1"}})",
    R"({"times":3,"reset":true})",
    R"({"method":"DELETE","times":1,"reset_after_apply":true})",
    R"({"method":"POST","times":1,"reset_after_apply":true})",
    R"({"times":4,"delay_ms":300})",
    R"({"times":1,"delay_ms":12000})",
    R"({"method":"GET","times":3,"malformed":true})",
    R"({"times":1,"status":401})",
    R"({"path_prefix":"/api/v1","times":8,"status":503})",
    R"({"times":2,"status":400,"body":"{\"error\":\"bad\"}"})",
};

void InjectFaults(const std::string& emulator, const std::atomic<bool>& stop,
                  std::array<std::atomic<long>, kFaults.size()>& injected) {
  absl::BitGen rng;
  absl::Time next_log_clear = absl::Now() + absl::Seconds(15);
  while (!stop.load()) {
    const absl::Time wake =
        absl::Now() + absl::Milliseconds(absl::Uniform(rng, 300, 4000));
    while (!stop.load() && absl::Now() < wake) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    if (stop.load()) break;
    const int roll = absl::Uniform(rng, 0, 100);
    std::optional<std::string> ok;
    if (roll < 5) {
      ok = Http("DELETE", emulator + "/__emulator/faults");
    } else if (roll < 10) {
      ok = Http("POST", emulator + "/__emulator/apinizer",
                roll % 2 == 0 ? R"({"error_generation":"legacy"})"
                              : R"({"error_generation":"current"})");
    } else {
      const std::size_t i = absl::Uniform<std::size_t>(rng, 0, kFaults.size());
      ok = Http("POST", emulator + "/__emulator/faults", kFaults[i]);
      if (ok) ++injected[i];
    }
    ++(ok ? g_counters.faults : g_counters.fault_post_failures);
    // The emulator records every request (bodies too); keep that bounded.
    if (absl::Now() >= next_log_clear) {
      Http("DELETE", emulator + "/__emulator/requests");
      next_log_clear = absl::Now() + absl::Seconds(15);
    }
  }
}

// ---------------------------------------------------------------- checks

// Compares the first and last quarter of the samples after the warm-up
// (the first 20% of the run). Returns false (and says why) on growth.
bool CheckFlat(const std::vector<Sample>& samples, double duration_s) {
  std::vector<Sample> steady;
  for (const Sample& s : samples) {
    if (s.t >= 0.2 * duration_s) steady.push_back(s);
  }
  if (steady.size() < 8) {
    std::cout << "FAIL: only " << steady.size()
              << " samples after the warm-up\n";
    return false;
  }
  const std::size_t q = steady.size() / 4;
  auto median = [&](std::size_t from, double Sample::*field) {
    std::vector<double> v;
    for (std::size_t k = from; k < from + q; ++k) v.push_back(steady[k].*field);
    return Median(v);
  };
  auto median_int = [&](std::size_t from, int Sample::*field) {
    std::vector<double> v;
    for (std::size_t k = from; k < from + q; ++k) v.push_back(steady[k].*field);
    return Median(v);
  };
  const std::size_t last = steady.size() - q;
  const double rss0 = median(0, &Sample::rss_mib);
  const double rss1 = median(last, &Sample::rss_mib);
  const double fd0 = median_int(0, &Sample::fds);
  const double fd1 = median_int(last, &Sample::fds);
  const double th0 = median_int(0, &Sample::threads);
  const double th1 = median_int(last, &Sample::threads);
  const double rss_allowed =
      std::max(absl::GetFlag(FLAGS_rss_growth_ratio) * rss0,
               static_cast<double>(absl::GetFlag(FLAGS_rss_growth_mib)));
  bool ok = true;
  auto line = [&](const char* what, double a, double b, double allowed) {
    const bool pass = b - a <= allowed;
    ok = ok && pass;
    std::cout << absl::StrFormat(
        "  %-8s first quarter %8.1f  last quarter %8.1f  growth %+7.1f  "
        "(allowed %.1f)  %s\n",
        what, a, b, b - a, allowed, pass ? "ok" : "FAIL");
  };
  std::cout << "steady state (medians of " << q << " samples, after "
            << absl::StrFormat("%.0f", 0.2 * duration_s) << "s warm-up):\n";
  line("rss MiB", rss0, rss1, rss_allowed);
  line("fds", fd0, fd1, absl::GetFlag(FLAGS_fd_growth));
  line("threads", th0, th1, absl::GetFlag(FLAGS_thread_growth));
  return ok;
}

// Once the load has stopped, every RPC the server started must finish and
// no backend call may stay in flight.
bool CheckQuiesced(const std::string& metrics_url) {
  double started = 0, handled = 0, inflight = 0;
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (true) {
    const std::optional<std::string> text = Http("GET", metrics_url);
    if (text) {
      started = MetricSum(*text, "grpc_server_started_total");
      handled = MetricSum(*text, "grpc_server_handled_total");
      inflight = MetricSum(*text, "certbridge_backend_inflight");
      if (started == handled && inflight == 0) break;
    }
    if (absl::Now() > give_up) break;
    absl::SleepFor(absl::Milliseconds(500));
  }
  const bool ok = started > 0 && started == handled && inflight == 0;
  std::cout << absl::StrFormat(
      "server metrics: %.0f RPCs started, %.0f handled, %.0f backend calls "
      "in flight  %s\n",
      started, handled, inflight, ok ? "ok" : "FAIL");
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string target = absl::GetFlag(FLAGS_target);
  const std::string emulator = absl::GetFlag(FLAGS_emulator_url);
  const int pid = absl::GetFlag(FLAGS_server_pid);
  const absl::Duration duration = absl::GetFlag(FLAGS_duration);
  if (target.empty() || emulator.empty() || pid <= 0) {
    std::cerr << "usage: certbridge-soak --target=HOST:PORT "
                 "--emulator_url=URL --server_pid=PID [--metrics_url=URL] "
                 "[--duration=2m] [--workers=8]\n";
    return 2;
  }
  absl::Duration interval = absl::GetFlag(FLAGS_sample_interval);
  if (interval <= absl::ZeroDuration()) {
    interval = std::max(absl::Seconds(2), duration / 60);
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);

  Pool pool;
  for (int i = 0; i < 6; ++i) {
    Pkcs12Options p;
    p.common_name = absl::StrCat("soak-signer-", i);
    p.passkey = kPasskey;
    pool.pkcs12.push_back(MakePkcs12(p));
    CertificateOptions c;
    c.common_name = absl::StrCat("soak-partner-", i);
    pool.pem.push_back(MakePemCertificate(c));
  }
  Pkcs12Options wrong;
  wrong.passkey = "not-the-soak-passkey";
  pool.wrong_passkey_pkcs12 = MakePkcs12(wrong);

  std::atomic<bool> stop{false};
  std::array<std::atomic<long>, kFaults.size()> injected{};
  std::vector<std::thread> threads;
  const int worker_count = absl::GetFlag(FLAGS_workers);
  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < worker_count; ++i) {
    workers.push_back(std::make_unique<Worker>(i, pool, target,
                                               absl::GetFlag(FLAGS_deadline)));
  }
  const absl::Time start = absl::Now();
  for (auto& w : workers) {
    threads.emplace_back([&stop, w = w.get()] { w->Run(stop); });
  }
  std::thread fault_thread;
  if (absl::GetFlag(FLAGS_faults)) {
    fault_thread = std::thread([&] { InjectFaults(emulator, stop, injected); });
  }

  std::cout << absl::StrFormat(
      "soak: %d workers, %s, deadline %s, sample every %s, faults %s\n",
      worker_count, absl::FormatDuration(duration),
      absl::FormatDuration(absl::GetFlag(FLAGS_deadline)),
      absl::FormatDuration(interval),
      absl::GetFlag(FLAGS_faults) ? "on" : "off");
  std::cout << "  time  rss MiB    fds  threads   rpc/s       ok   errors  "
               "faults\n";
  std::vector<Sample> samples;
  long last_calls = 0;
  absl::Time last = start;
  bool server_alive = true;
  for (int k = 1; server_alive; ++k) {
    const absl::Time due = start + interval * k;
    if (due > start + duration) break;
    absl::SleepFor(due - absl::Now());
    const absl::Time now = absl::Now();
    const Sample s = SampleProcess(pid, absl::ToDoubleSeconds(now - start));
    server_alive = s.alive;
    const long ok = g_counters.ok.load(), errors = g_counters.errors.load();
    const double rate = static_cast<double>(ok + errors - last_calls) /
                        absl::ToDoubleSeconds(now - last);
    last_calls = ok + errors;
    last = now;
    if (!server_alive) break;
    samples.push_back(s);
    std::cout << absl::StrFormat("%6.0f %8.1f %6d %8d %7.1f %8d %8d %7d\n", s.t,
                                 s.rss_mib, s.fds, s.threads, rate, ok, errors,
                                 g_counters.faults.load())
              << std::flush;
  }

  stop.store(true);
  if (fault_thread.joinable()) fault_thread.join();
  Http("DELETE", emulator + "/__emulator/faults");
  for (auto& t : threads) t.join();
  workers.clear();  // closes every channel

  bool pass = true;
  std::cout << "\nRPC outcomes (method: code count ...):\n";
  for (int m = 0; m < kMethodCount; ++m) {
    std::string row = absl::StrFormat("  %-7s", kMethodNames[m]);
    for (int c = 0; c < kCodeCount; ++c) {
      const long n = g_counters.by_code[m][c].load();
      if (n > 0) absl::StrAppend(&row, " ", c, ":", n);
    }
    std::cout << row << "\n";
  }
  std::cout << "  (codes: 0 OK, 3 INVALID_ARGUMENT, 4 DEADLINE_EXCEEDED, "
               "5 NOT_FOUND, 6 ALREADY_EXISTS, 8 RESOURCE_EXHAUSTED, "
               "13 INTERNAL, 14 UNAVAILABLE)\n";
  std::cout << "total " << g_counters.ok.load() << " ok, "
            << g_counters.errors.load() << " errors; faults injected "
            << g_counters.faults.load() << " ("
            << g_counters.fault_post_failures.load()
            << " control calls failed):";
  for (std::size_t i = 0; i < kFaults.size(); ++i) {
    std::cout << " " << injected[i].load();
  }
  std::cout << "\n";
  if (!server_alive) {
    std::cout << "FAIL: certbridge-server (pid " << pid << ") died\n";
    return 1;
  }
  if (g_counters.ok.load() == 0) {
    std::cout << "FAIL: no RPC succeeded\n";
    pass = false;
  }
  if (g_counters.hung.load() > 0) {
    std::cout << "FAIL: " << g_counters.hung.load()
              << " RPCs returned more than " << kHangSlack
              << " after their deadline\n";
    pass = false;
  }
  const std::string metrics_url = absl::GetFlag(FLAGS_metrics_url);
  if (!metrics_url.empty() && !CheckQuiesced(metrics_url)) pass = false;
  const Sample idle =
      SampleProcess(pid, absl::ToDoubleSeconds(absl::Now() - start));
  std::cout << absl::StrFormat(
      "after the load: rss %.1f MiB, %d fds, %d threads\n", idle.rss_mib,
      idle.fds, idle.threads);
  if (!CheckFlat(samples, absl::ToDoubleSeconds(duration))) pass = false;
  std::cout << (pass ? "PASS" : "FAIL") << "\n";
  curl_global_cleanup();
  return pass ? 0 : 1;
}
