// certbridge-loadgen: the load generator of bench/run.sh.
//
// One operation (--op) against one target (--target):
//   grpc  certbridge's CertificateService through the gRPC callback API,
//         over a few channels (one HTTP/2 connection each);
//   rest  the emulator directly, with libcurl multi: the REST exchanges
//         certbridge makes for that operation, with the same headers, token,
//         request bodies (server/http/multipart.h builds both) and HTTP
//         settings as certbridge's CurlTransport (HTTP/1.1 keep-alive, at
//         most 64 connections per host, a fresh connection for each POST).
// Operations:
//   get     Leegality GetCertificate of --leegality_name
//           (REST: GET /api/v1/certificates/{id});
//   create  Leegality CreateCertificate of a ~5 KB PKCS#12 with its passkey
//           (REST: POST /api/v1/certificates, multipart). The certificates
//           made are deleted after the run, outside the timed window;
//   update  Apinizer UpdateCertificate of --apinizer_name, a description
//           change (REST: what certbridge does for it -- GET the certificate,
//           PUT it back whole with the new description, GET it again);
//   seed    creates one certificate on each backend through certbridge and
//           prints their names as JSON (what get and update then use).
// Modes:
//   closed  --concurrency operations outstanding at all times;
//   open    --rate operations per second on a fixed schedule, each latency
//           measured from its scheduled send time (so a stall delays every
//           operation due during it: no coordinated omission).
// A failed operation (a gRPC status other than OK; for REST a transport
// error, a non-2xx status or a body that does not parse as the vendor's
// answer) counts as an error, at any time of the run. Successes count when
// they complete inside the timed window, after --warmup.
//
// Prints one line of JSON: rps, p50/p99/p999 in microseconds, ok, errors,
// duration, and -- given --server_pid / --emulator_pid -- those processes'
// CPU time and context switches over the window and their RSS, threads and
// open fds before, in the middle of and after the load.
//
// --report=FILE reads such lines (bench/run.sh adds --label and --pair) and
// prints the Markdown tables of bench/run.sh; --report_peak=FILE prints the
// highest median proxied closed-loop rate among the "get" points.
#include <curl/curl.h>
#include <dirent.h>
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "certbridge/v1/certificate_service.grpc.pb.h"
#include "server/common/uuid.h"
#include "server/http/multipart.h"
#include "tests/testing/certificate_fixtures.h"

ABSL_FLAG(std::string, target, "grpc",
          "grpc: certbridge (--grpc_address); rest: the emulator directly "
          "(--emulator_url).");
ABSL_FLAG(std::string, op, "get", "get, create, update or seed.");
ABSL_FLAG(std::string, mode, "closed",
          "closed (--concurrency) or open "
          "(--rate).");
ABSL_FLAG(int, concurrency, 1, "Closed loop: operations outstanding.");
ABSL_FLAG(double, rate, 0, "Open loop: operations started per second.");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(5), "Timed window.");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(1),
          "Load before the timed window (connections, caches); not counted "
          "except for errors.");
ABSL_FLAG(int, per_channel, 64,
          "gRPC: outstanding RPCs per channel (one HTTP/2 connection each; "
          "certbridge allows 100 streams per connection).");
ABSL_FLAG(int, channels, 0,
          "gRPC: channels; 0 = ceil(concurrency / per_channel), at least 1.");
ABSL_FLAG(int, max_host_connections, 64,
          "REST: connections to the emulator at most; 64 is certbridge's "
          "CurlTransport default (0: one per outstanding request).");
ABSL_FLAG(bool, fresh_post, true,
          "REST: each POST on a new connection, as certbridge's transport "
          "does (a POST resent on a dead keep-alive connection could create "
          "twice).");
ABSL_FLAG(int, max_in_flight, 20000,
          "Open loop: operations in flight at most; beyond, a due operation "
          "counts as an error.");
ABSL_FLAG(absl::Duration, deadline, absl::Seconds(10),
          "Per operation (gRPC deadline; REST timeout of each request).");
ABSL_FLAG(std::string, grpc_address, "", "certbridge host:port.");
ABSL_FLAG(std::string, emulator_url, "",
          "Emulator base URL: REST target, cleanup, request log.");
ABSL_FLAG(std::string, leegality_token_file, "", "The Leegality token.");
ABSL_FLAG(std::string, apinizer_token_file, "", "The Apinizer token.");
ABSL_FLAG(std::string, leegality_name, "",
          "get: backends/leegality/certificates/{id}.");
ABSL_FLAG(std::string, apinizer_name, "",
          "update: backends/apinizer/projects/{project}/certificates/{name}.");
ABSL_FLAG(int, pkcs12_bytes, 5120, "create: size of the PKCS#12 uploaded.");
ABSL_FLAG(bool, cleanup, true,
          "create: delete the certificates made, after the timed window.");
ABSL_FLAG(int, server_pid, 0, "certbridge-server's pid, read in /proc.");
ABSL_FLAG(int, emulator_pid, 0, "certbridge-emulator's pid, read in /proc.");
ABSL_FLAG(std::string, label, "", "Copied into the JSON line (run.sh).");
ABSL_FLAG(int, pair, 0, "Copied into the JSON line (run.sh).");
ABSL_FLAG(std::string, report, "",
          "Print bench/run.sh's Markdown tables from this JSON-lines file.");
ABSL_FLAG(std::string, report_peak, "",
          "Print the peak median proxied rate of the get points in this "
          "JSON-lines file.");

namespace {

namespace v1 = certbridge::v1;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::ordered_json;

constexpr char kPasskey[] = "bench-passkey";
// The emulator's HR department (tests/emulator/leegality_api.h).
constexpr char kDepartmentId[] = "18b45e41-0d2c-4b0c-9a55-3b7e7c1f0a52";
constexpr char kLeegalityParent[] = "backends/leegality";
constexpr char kApinizerProject[] = "Payments";
// As certbridge's CurlTransportOptions.
constexpr char kUserAgent[] = "certbridge/0.1";
constexpr long kMaxTotalConnections = 256;
constexpr long kMaxIdleConnections = 256;
constexpr long kConnectTimeoutMs = 5000;

enum class Op { kGet, kCreate, kUpdate };

std::chrono::nanoseconds ToChrono(absl::Duration d) {
  return std::chrono::nanoseconds(absl::ToInt64Nanoseconds(d));
}

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// ------------------------------------------------------------- /proc

struct Usage {
  bool ok = false;
  double cpu_us = 0;      // utime + stime, all threads (also exited ones)
  long ctx_switches = 0;  // voluntary + nonvoluntary, live threads
};

struct Footprint {
  long rss_kb = -1;
  long threads = -1;
  long fds = -1;
};

long StatusField(const std::string& path, absl::string_view key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!absl::StartsWith(line, key)) continue;
    absl::string_view v = absl::StripPrefix(line, key);
    v = absl::StripAsciiWhitespace(absl::StripSuffix(v, "kB"));
    long n = 0;
    if (absl::SimpleAtoi(v, &n)) return n;
  }
  return -1;
}

Usage ReadUsage(int pid) {
  Usage u;
  if (pid <= 0) return u;
  const std::optional<std::string> stat =
      ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  if (!stat) return u;
  // Fields after the command name, which may hold spaces: state is field 3,
  // utime field 14, stime field 15.
  const std::size_t paren = stat->rfind(')');
  if (paren == std::string::npos) return u;
  const std::vector<absl::string_view> f = absl::StrSplit(
      absl::string_view(*stat).substr(paren + 2), ' ', absl::SkipEmpty());
  long utime = 0;
  long stime = 0;
  if (f.size() < 13 || !absl::SimpleAtoi(f[11], &utime) ||
      !absl::SimpleAtoi(f[12], &stime)) {
    return u;
  }
  u.cpu_us = static_cast<double>(utime + stime) * 1e6 /
             static_cast<double>(sysconf(_SC_CLK_TCK));
  // /proc/<pid>/status counts the main thread only: sum the tasks.
  const std::string task_dir = absl::StrCat("/proc/", pid, "/task");
  if (DIR* dir = opendir(task_dir.c_str())) {
    while (dirent* e = readdir(dir)) {
      if (e->d_name[0] == '.') continue;
      const std::string status =
          absl::StrCat(task_dir, "/", e->d_name, "/status");
      for (const char* key :
           {"voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:"}) {
        const long n = StatusField(status, key);
        if (n > 0) u.ctx_switches += n;
      }
    }
    closedir(dir);
  }
  u.ok = true;
  return u;
}

Footprint ReadFootprint(int pid) {
  Footprint f;
  if (pid <= 0) return f;
  const std::string status = absl::StrCat("/proc/", pid, "/status");
  f.rss_kb = StatusField(status, "VmRSS:");
  f.threads = StatusField(status, "Threads:");
  if (DIR* dir = opendir(absl::StrCat("/proc/", pid, "/fd").c_str())) {
    f.fds = 0;
    while (dirent* e = readdir(dir)) f.fds += e->d_name[0] != '.' ? 1 : 0;
    closedir(dir);
  }
  return f;
}

Json FootprintJson(const Footprint& f) {
  return Json{{"rss_kb", f.rss_kb}, {"threads", f.threads}, {"fds", f.fds}};
}

// ------------------------------------------------------------- results

// Latencies of the operations that succeed inside [begin, end], and every
// error. Called from many threads.
class Recorder {
 public:
  /// Before any operation starts.
  void SetWindow(Clock::time_point begin, Clock::time_point end) {
    begin_ = begin;
    end_ = end;
  }

  void Ok(Clock::time_point start, Clock::time_point done) {
    if (done < begin_ || done > end_) {
      ok_outside_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    Shard& shard =
        shards_[std::hash<std::thread::id>{}(std::this_thread::get_id()) %
                kShards];
    std::lock_guard<std::mutex> lock(shard.mu);
    shard.latencies_ns.push_back(
        std::chrono::duration_cast<std::chrono::nanoseconds>(done - start)
            .count());
  }

  void Error(const std::string& kind, const std::string& detail) {
    std::lock_guard<std::mutex> lock(errors_mu_);
    ++errors_[kind];
    if (first_error_.empty()) first_error_ = absl::StrCat(kind, ": ", detail);
  }

  std::vector<std::int64_t> Latencies() {
    std::vector<std::int64_t> all;
    for (Shard& s : shards_) {
      std::lock_guard<std::mutex> lock(s.mu);
      all.insert(all.end(), s.latencies_ns.begin(), s.latencies_ns.end());
    }
    std::sort(all.begin(), all.end());
    return all;
  }

  long ErrorCount() {
    std::lock_guard<std::mutex> lock(errors_mu_);
    long n = 0;
    for (const auto& [kind, count] : errors_) n += count;
    return n;
  }

  Json ErrorsJson() {
    std::lock_guard<std::mutex> lock(errors_mu_);
    Json out = Json::object();
    for (const auto& [kind, count] : errors_) out[kind] = count;
    return out;
  }

  std::string FirstError() {
    std::lock_guard<std::mutex> lock(errors_mu_);
    return first_error_;
  }

  long OkOutside() const { return ok_outside_.load(); }

 private:
  static constexpr std::size_t kShards = 16;
  struct Shard {
    std::mutex mu;
    std::vector<std::int64_t> latencies_ns;
  };
  Clock::time_point begin_;
  Clock::time_point end_;
  std::array<Shard, kShards> shards_;
  std::atomic<long> ok_outside_{0};
  std::mutex errors_mu_;
  std::map<std::string, long> errors_;
  std::string first_error_;
};

// Nearest-rank percentile of sorted values, in microseconds.
double PercentileUs(const std::vector<std::int64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  const auto n = static_cast<double>(sorted.size());
  std::size_t rank = static_cast<std::size_t>(std::ceil(q * n));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return static_cast<double>(sorted[rank - 1]) / 1e3;
}

// ------------------------------------------------------------- setup

struct Setup {
  Op op = Op::kGet;
  std::string grpc_address;
  std::string emulator_url;
  std::string leegality_token;
  std::string apinizer_token;
  std::string leegality_name;  // get (gRPC)
  std::string leegality_id;    // get (REST)
  std::string apinizer_name;   // update (gRPC)
  std::string apinizer_project;
  std::string apinizer_certificate;
  std::string pkcs12;   // create
  std::string run_tag;  // create: file names are bench-<tag>-<n>.p12
  absl::Duration deadline;
  int max_in_flight = 0;
};

// Certificates made by create runs, deleted afterwards.
class Created {
 public:
  void Add(std::string id) {
    std::lock_guard<std::mutex> lock(mu_);
    ids_.push_back(std::move(id));
  }
  std::vector<std::string> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::move(ids_);
  }

 private:
  std::mutex mu_;
  std::vector<std::string> ids_;
};

std::string FileName(const Setup& setup, std::uint64_t n) {
  return absl::StrCat("bench-", setup.run_tag, "-", n, ".p12");
}

// The part of `name` after `marker`, up to the next '/'.
std::string Segment(absl::string_view name, absl::string_view marker) {
  const std::size_t at = name.find(marker);
  if (at == absl::string_view::npos) return "";
  absl::string_view rest = name.substr(at + marker.size());
  return std::string(rest.substr(0, rest.find('/')));
}

// ------------------------------------------------------------- drivers

class Driver {
 public:
  virtual ~Driver() = default;
  /// Closed loop: keeps `concurrency` operations outstanding until Stop().
  virtual void StartClosed(int concurrency) = 0;
  /// Open loop: before the first StartOne.
  virtual void StartOpen() {}
  /// Open loop: starts one operation; its latency counts from `scheduled`.
  virtual void StartOne(Clock::time_point scheduled) = 0;
  /// No new operations after this.
  virtual void Stop() = 0;
  /// Waits until no operation is outstanding; false on timeout.
  virtual bool WaitIdle(absl::Duration timeout) = 0;
};

// Counts operations in flight; WaitIdle blocks until none is.
class InFlight {
 public:
  long Add() { return n_.fetch_add(1) + 1; }
  long Count() const { return n_.load(); }
  void Done() {
    if (n_.fetch_sub(1) == 1) {
      std::lock_guard<std::mutex> lock(mu_);
      cv_.notify_all();
    }
  }
  bool WaitIdle(absl::Duration timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, ToChrono(timeout), [this] { return n_ == 0; });
  }

 private:
  std::atomic<long> n_{0};
  std::mutex mu_;
  std::condition_variable cv_;
};

// ---- gRPC: the callback API, one channel per --per_channel operations.

class GrpcDriver final : public Driver {
 public:
  GrpcDriver(const Setup& setup, Recorder& recorder, Created& created,
             int channels, int per_channel)
      : setup_(setup),
        recorder_(recorder),
        created_(created),
        per_channel_(per_channel) {
    for (int i = 0; i < channels; ++i) {
      grpc::ChannelArguments args;
      // Its own subchannel, hence its own TCP connection.
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      channels_.push_back(grpc::CreateCustomChannel(
          setup_.grpc_address, grpc::InsecureChannelCredentials(), args));
      stubs_.push_back(v1::CertificateService::NewStub(channels_.back()));
    }
    get_.set_name(setup_.leegality_name);
  }

  ~GrpcDriver() override {
    Stop();
    in_flight_.WaitIdle(setup_.deadline + absl::Seconds(5));
  }

  bool Connect(absl::Duration timeout) {
    const auto deadline = std::chrono::system_clock::now() + ToChrono(timeout);
    for (const auto& channel : channels_) {
      if (!channel->WaitForConnected(deadline)) return false;
    }
    return true;
  }

  void StartClosed(int concurrency) override {
    closed_ = true;
    const Clock::time_point now = Clock::now();
    for (int slot = 0; slot < concurrency; ++slot) {
      in_flight_.Add();
      Issue(slot, now);
    }
  }

  void StartOne(Clock::time_point scheduled) override {
    if (in_flight_.Count() >= setup_.max_in_flight) {
      recorder_.Error("in_flight_cap", "open loop: too many in flight");
      return;
    }
    in_flight_.Add();
    Issue(-1, scheduled);
  }

  void Stop() override { stop_ = true; }
  bool WaitIdle(absl::Duration timeout) override {
    return in_flight_.WaitIdle(timeout);
  }

 private:
  struct Call {
    grpc::ClientContext ctx;
    v1::CreateCertificateRequest create;
    v1::UpdateCertificateRequest update;
    v1::Certificate response;
    Clock::time_point start;
    int slot = -1;
  };

  v1::CertificateService::Stub& StubFor(int slot) {
    const std::uint64_t n = seq_.fetch_add(1, std::memory_order_relaxed);
    const std::size_t i = slot >= 0
                              ? static_cast<std::size_t>(slot / per_channel_)
                              : static_cast<std::size_t>(n);
    return *stubs_[i % stubs_.size()];
  }

  void Issue(int slot, Clock::time_point start) {
    auto* call = new Call;
    call->slot = slot;
    call->start = start;
    call->ctx.set_deadline(std::chrono::system_clock::now() +
                           ToChrono(setup_.deadline));
    v1::CertificateService::Stub& stub = StubFor(slot);
    auto done = [this, call](const grpc::Status& status) {
      OnDone(call, status);
    };
    switch (setup_.op) {
      case Op::kGet:
        stub.async()->GetCertificate(&call->ctx, &get_, &call->response,
                                     std::move(done));
        break;
      case Op::kCreate: {
        call->create.set_parent(kLeegalityParent);
        auto& l = *call->create.mutable_certificate()->mutable_leegality();
        l.set_pkcs12_file(setup_.pkcs12);
        l.set_passkey(kPasskey);
        l.set_file_name(FileName(setup_, names_.fetch_add(1)));
        l.set_department_id(kDepartmentId);
        l.set_enabled(true);
        stub.async()->CreateCertificate(&call->ctx, &call->create,
                                        &call->response, std::move(done));
        break;
      }
      case Op::kUpdate: {
        call->update.mutable_certificate()->set_name(setup_.apinizer_name);
        call->update.mutable_certificate()->mutable_apinizer()->set_description(
            absl::StrCat("bench update ", names_.fetch_add(1)));
        call->update.mutable_update_mask()->add_paths("apinizer.description");
        stub.async()->UpdateCertificate(&call->ctx, &call->update,
                                        &call->response, std::move(done));
        break;
      }
    }
  }

  void OnDone(Call* call, const grpc::Status& status) {
    const Clock::time_point now = Clock::now();
    if (status.ok()) {
      recorder_.Ok(call->start, now);
      if (setup_.op == Op::kCreate) {
        created_.Add(Segment(call->response.name(), "/certificates/"));
      }
    } else {
      recorder_.Error(absl::StrCat("grpc_", status.error_code()),
                      status.error_message());
    }
    const int slot = call->slot;
    delete call;
    if (closed_ && !stop_) {
      Issue(slot, Clock::now());  // still in flight: the count stays
      return;
    }
    in_flight_.Done();
  }

  const Setup& setup_;
  Recorder& recorder_;
  Created& created_;
  const int per_channel_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<v1::CertificateService::Stub>> stubs_;
  v1::GetCertificateRequest get_;
  std::atomic<bool> closed_{false};
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> seq_{0};
  std::atomic<std::uint64_t> names_{0};
  InFlight in_flight_;
};

// ---- REST: libcurl multi on one thread, one easy handle per outstanding
// operation.

size_t AppendBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

Json ParseJson(const std::string& body) {
  return Json::parse(body, nullptr, /*allow_exceptions=*/false);
}

std::string StringAt(const Json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

// What certbridge re-sends of an Apinizer certificate on update.
struct ApinizerFields {
  std::string alias;
  std::string description;
  std::vector<std::string> environments;
  std::string pem;
};

// As certbridge's ParseApinizerCertificate + PemFromBase64: the first
// entry's alias and content, each environment once.
std::optional<ApinizerFields> ParseApinizerGet(const std::string& body,
                                               const std::string& name) {
  const Json doc = ParseJson(body);
  if (!doc.is_object() || StringAt(doc, "status") == "FAILURE") {
    return std::nullopt;
  }
  auto list = doc.find("resultList");
  if (list == doc.end() || !list->is_array() || list->size() != 1) {
    return std::nullopt;
  }
  const Json& item = (*list)[0];
  if (StringAt(item, "name") != name) return std::nullopt;
  ApinizerFields f;
  f.description = StringAt(item, "description");
  std::string content;
  auto envs = item.find("certificateEnvironmentList");
  if (envs == item.end() || !envs->is_array()) return std::nullopt;
  std::set<std::string> seen;
  for (const Json& e : *envs) {
    const std::string env = StringAt(e, "environmentName");
    if (seen.insert(env).second) f.environments.push_back(env);
    if (f.alias.empty()) f.alias = StringAt(e, "alias");
    if (content.empty()) content = StringAt(e, "base64EncodedContent");
  }
  std::string der;
  if (content.empty() || !absl::Base64Unescape(content, &der)) {
    return std::nullopt;
  }
  f.pem = "-----BEGIN CERTIFICATE-----\n";
  for (std::size_t i = 0; i < content.size(); i += 64) {
    absl::StrAppend(&f.pem, content.substr(i, 64), "\n");
  }
  absl::StrAppend(&f.pem, "-----END CERTIFICATE-----\n");
  return f;
}

class RestDriver final : public Driver {
 public:
  RestDriver(const Setup& setup, Recorder& recorder, Created& created,
             long max_host_connections, bool fresh_post)
      : setup_(setup),
        recorder_(recorder),
        created_(created),
        fresh_post_(fresh_post) {
    multi_ = curl_multi_init();
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS,
                      max_host_connections);
    curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                      max_host_connections > 0 ? kMaxTotalConnections : 0L);
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS,
                      max_host_connections > 0 ? kMaxIdleConnections : 2048L);
    leegality_url_ = absl::StrCat(setup_.emulator_url, "/api/v1/certificates");
    apinizer_url_ = absl::StrCat(setup_.emulator_url, "/apiops/projects/",
                                 setup_.apinizer_project, "/certificates/",
                                 setup_.apinizer_certificate, "/");
  }

  ~RestDriver() override {
    Stop();
    in_flight_.WaitIdle(setup_.deadline + absl::Seconds(5));
    quit_ = true;
    curl_multi_wakeup(multi_);
    if (thread_.joinable()) thread_.join();
    for (auto& t : transfers_) {
      if (t->active) curl_multi_remove_handle(multi_, t->easy);
      curl_slist_free_all(t->headers);
      curl_easy_cleanup(t->easy);
    }
    curl_multi_cleanup(multi_);
  }

  void StartClosed(int concurrency) override {
    closed_slots_ = concurrency;
    in_flight_.Add();  // released by the loop once the slots are started
    thread_ = std::thread([this] { Run(); });
  }

  void StartOpen() override {
    thread_ = std::thread([this] { Run(); });
  }

  void StartOne(Clock::time_point scheduled) override {
    if (in_flight_.Count() >= setup_.max_in_flight) {
      recorder_.Error("in_flight_cap", "open loop: too many in flight");
      return;
    }
    in_flight_.Add();
    {
      std::lock_guard<std::mutex> lock(due_mu_);
      due_.push_back(scheduled);
    }
    curl_multi_wakeup(multi_);
  }

  void Stop() override { stop_ = true; }
  bool WaitIdle(absl::Duration timeout) override {
    return in_flight_.WaitIdle(timeout);
  }

 private:
  struct Transfer {
    CURL* easy = nullptr;
    curl_slist* headers = nullptr;
    std::string url;
    std::string body;
    std::string response;
    char error[CURL_ERROR_SIZE] = {0};
    Clock::time_point start;
    int step = 0;
    bool active = false;
    ApinizerFields fields;  // update: what step 0 read
  };

  void Run() {
    for (int i = 0; i < closed_slots_; ++i) {
      in_flight_.Add();
      Begin(NewTransfer(), Clock::now());
    }
    if (closed_slots_ > 0) in_flight_.Done();
    while (!quit_) {
      std::vector<Clock::time_point> due;
      {
        std::lock_guard<std::mutex> lock(due_mu_);
        due.swap(due_);
      }
      for (const Clock::time_point t : due) Begin(NewTransfer(), t);
      int running = 0;
      curl_multi_perform(multi_, &running);
      int pending = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi_, &pending)) {
        if (msg->msg != CURLMSG_DONE) continue;
        Transfer* t = nullptr;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
        const CURLcode code = msg->data.result;
        curl_multi_remove_handle(multi_, t->easy);
        t->active = false;
        OnDone(*t, code);
      }
      curl_multi_poll(multi_, nullptr, 0, 100, nullptr);
    }
  }

  Transfer& NewTransfer() {
    if (!free_.empty()) {
      Transfer* t = free_.back();
      free_.pop_back();
      return *t;
    }
    transfers_.push_back(std::make_unique<Transfer>());
    transfers_.back()->easy = curl_easy_init();
    return *transfers_.back();
  }

  void Begin(Transfer& t, Clock::time_point start) {
    t.start = start;
    t.step = 0;
    switch (setup_.op) {
      case Op::kGet:
        Send(t, "GET", absl::StrCat(leegality_url_, "/", setup_.leegality_id),
             "", "");
        break;
      case Op::kCreate: {
        certbridge::MultipartBuilder builder(certbridge::RandomBoundary());
        const std::string file_name = FileName(setup_, names_++);
        builder.AddFile("certificateFile", file_name, "application/x-pkcs12",
                        setup_.pkcs12);
        builder.AddField("passkey", kPasskey);
        builder.AddField("departmentId", kDepartmentId);
        builder.AddField("enabled", "true");
        std::string body = builder.Build();
        Send(t, "POST", leegality_url_, builder.ContentType(), std::move(body));
        break;
      }
      case Op::kUpdate:
        Send(t, "GET", apinizer_url_, "", "");
        break;
    }
  }

  // One HTTP request with certbridge's options (CurlTransport::Configure)
  // and headers (RestExchange::Attempt).
  void Send(Transfer& t, const char* method, std::string url,
            const std::string& content_type, std::string body) {
    CURL* e = t.easy;
    curl_easy_reset(e);
    curl_slist_free_all(t.headers);
    t.headers = nullptr;
    t.url = std::move(url);
    t.body = std::move(body);
    t.response.clear();
    t.error[0] = '\0';
    if (!content_type.empty()) {
      t.headers = curl_slist_append(
          t.headers, absl::StrCat("Content-Type: ", content_type).c_str());
    }
    const bool leegality = setup_.op != Op::kUpdate;
    t.headers = curl_slist_append(
        t.headers,
        (leegality
             ? absl::StrCat("X-Auth-Token: ", setup_.leegality_token)
             : absl::StrCat("Authorization: Bearer ", setup_.apinizer_token))
            .c_str());
    t.headers = curl_slist_append(t.headers, "Accept: application/json");
    t.headers = curl_slist_append(
        t.headers,
        absl::StrCat("X-Request-ID: ", certbridge::NewUuidV4(rng_)).c_str());
    t.headers = curl_slist_append(t.headers, "Expect:");
    curl_easy_setopt(e, CURLOPT_URL, t.url.c_str());
    curl_easy_setopt(e, CURLOPT_PRIVATE, &t);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.error);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &AppendBody);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t.response);
    curl_easy_setopt(
        e, CURLOPT_TIMEOUT_MS,
        static_cast<long>(absl::ToInt64Milliseconds(setup_.deadline)));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, kConnectTimeoutMs);
    curl_easy_setopt(e, CURLOPT_USERAGENT, kUserAgent);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t.headers);
    const std::string m = method;
    const bool fresh = m == "POST" && fresh_post_;
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, fresh ? 1L : 0L);
    if (m == "GET") {
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
      if (m != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, t.body.data());
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(t.body.size()));
    }
    t.active = true;
    if (curl_multi_add_handle(multi_, e) != CURLM_OK) {
      t.active = false;
      Finish(t, false, "curl", "curl_multi_add_handle failed",
             /*next=*/false);
    }
  }

  void OnDone(Transfer& t, CURLcode code) {
    if (code != CURLE_OK) {
      Finish(
          t, false, absl::StrCat("curl_", static_cast<int>(code)),
          t.error[0] != '\0' ? std::string(t.error) : curl_easy_strerror(code));
      return;
    }
    long status = 0;
    curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
      Finish(t, false, absl::StrCat("http_", status),
             t.response.substr(0, 200));
      return;
    }
    switch (setup_.op) {
      case Op::kGet: {
        const Json doc = ParseJson(t.response);
        if (!absl::EqualsIgnoreCase(StringAt(doc, "id"), setup_.leegality_id)) {
          Finish(t, false, "bad_body", t.response.substr(0, 200));
          return;
        }
        Finish(t, true, "", "");
        return;
      }
      case Op::kCreate: {
        const Json doc = ParseJson(t.response);
        const std::string id = doc.is_object() && doc.contains("data")
                                   ? StringAt(doc["data"], "id")
                                   : "";
        if (id.empty()) {
          Finish(t, false, "bad_body", t.response.substr(0, 200));
          return;
        }
        created_.Add(id);
        Finish(t, true, "", "");
        return;
      }
      case Op::kUpdate:
        UpdateStep(t);
        return;
    }
  }

  // GET, then PUT the whole certificate with the new description, then GET
  // again: ApinizerStub::UpdateCertificate for a description-only mask.
  void UpdateStep(Transfer& t) {
    if (t.step == 1) {
      const Json doc = ParseJson(t.response);
      const bool failed = !doc.is_object() ||
                          StringAt(doc, "status") == "FAILURE" ||
                          !doc.contains("deploymentResult");
      if (failed) {
        Finish(t, false, "bad_body", t.response.substr(0, 200));
        return;
      }
      t.step = 2;
      Send(t, "GET", apinizer_url_, "", "");
      return;
    }
    std::optional<ApinizerFields> read =
        ParseApinizerGet(t.response, setup_.apinizer_certificate);
    if (!read) {
      Finish(t, false, "bad_body", t.response.substr(0, 200));
      return;
    }
    if (t.step == 2) {
      Finish(t, true, "", "");
      return;
    }
    t.fields = *std::move(read);
    t.fields.description = absl::StrCat("bench update ", names_++);
    certbridge::MultipartBuilder builder(certbridge::RandomBoundary());
    builder.AddField("certificateName", setup_.apinizer_certificate);
    builder.AddField("alias", t.fields.alias);
    builder.AddField("certificateDescription", t.fields.description);
    builder.AddField("environmentList",
                     absl::StrJoin(t.fields.environments, ","));
    builder.AddFile("pemEncodedFile",
                    absl::StrCat(setup_.apinizer_certificate, ".pem"),
                    "application/x-pem-file", t.fields.pem);
    std::string body = builder.Build();
    t.step = 1;
    Send(t, "PUT", apinizer_url_, builder.ContentType(), std::move(body));
  }

  // Records the operation; in a closed loop, starts the next one (unless
  // `next` is false: a failure to even start one is not retried at once).
  void Finish(Transfer& t, bool ok, const std::string& kind,
              const std::string& detail, bool next = true) {
    if (ok) {
      recorder_.Ok(t.start, Clock::now());
    } else {
      recorder_.Error(kind, detail);
    }
    if (next && closed_slots_ > 0 && !stop_) {
      Begin(t, Clock::now());
      return;
    }
    free_.push_back(&t);
    in_flight_.Done();
  }

  const Setup& setup_;
  Recorder& recorder_;
  Created& created_;
  const bool fresh_post_;
  CURLM* multi_ = nullptr;
  std::string leegality_url_;
  std::string apinizer_url_;
  int closed_slots_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> quit_{false};
  InFlight in_flight_;
  std::mutex due_mu_;
  std::vector<Clock::time_point> due_;
  // Loop thread only.
  std::vector<std::unique_ptr<Transfer>> transfers_;
  std::vector<Transfer*> free_;
  absl::BitGen rng_;
  std::uint64_t names_ = 0;
};

// ------------------------------------------------------------- plain HTTP

struct SimpleRequest {
  std::string method;
  std::string url;
  std::string header;  // one auth header, or empty
};

// Runs `requests` `parallel` at a time; returns how many failed (non-2xx or
// transport errors). Used outside the timed window.
long RunRequests(const std::vector<SimpleRequest>& requests, int parallel) {
  CURLM* multi = curl_multi_init();
  struct Handle {
    CURL* easy = nullptr;
    curl_slist* headers = nullptr;
    std::string sink;
  };
  std::vector<Handle> handles(static_cast<std::size_t>(
      std::max(1, std::min<int>(parallel, static_cast<int>(requests.size())))));
  std::vector<Handle*> idle;
  for (Handle& h : handles) {
    h.easy = curl_easy_init();
    idle.push_back(&h);
  }
  std::size_t next = 0;
  long failed = 0;
  long running_count = 0;
  while (next < requests.size() || running_count > 0) {
    while (next < requests.size() && !idle.empty()) {
      Handle* h = idle.back();
      idle.pop_back();
      const SimpleRequest& r = requests[next++];
      curl_easy_reset(h->easy);
      curl_slist_free_all(h->headers);
      h->headers = nullptr;
      if (!r.header.empty()) {
        h->headers = curl_slist_append(h->headers, r.header.c_str());
      }
      h->sink.clear();
      curl_easy_setopt(h->easy, CURLOPT_URL, r.url.c_str());
      curl_easy_setopt(h->easy, CURLOPT_CUSTOMREQUEST, r.method.c_str());
      curl_easy_setopt(h->easy, CURLOPT_HTTPHEADER, h->headers);
      curl_easy_setopt(h->easy, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt(h->easy, CURLOPT_TIMEOUT_MS, 10000L);
      curl_easy_setopt(h->easy, CURLOPT_WRITEFUNCTION, &AppendBody);
      curl_easy_setopt(h->easy, CURLOPT_WRITEDATA, &h->sink);
      curl_easy_setopt(h->easy, CURLOPT_PRIVATE, h);
      curl_multi_add_handle(multi, h->easy);
      ++running_count;
    }
    int running = 0;
    curl_multi_perform(multi, &running);
    int pending = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &pending)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Handle* h = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &h);
      long status = 0;
      curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &status);
      if (msg->data.result != CURLE_OK || status < 200 || status > 299) {
        ++failed;
      }
      curl_multi_remove_handle(multi, h->easy);
      idle.push_back(h);
      --running_count;
    }
    if (running_count > 0) curl_multi_poll(multi, nullptr, 0, 100, nullptr);
  }
  for (Handle& h : handles) {
    curl_slist_free_all(h.headers);
    curl_easy_cleanup(h.easy);
  }
  curl_multi_cleanup(multi);
  return failed;
}

// The emulator records every request, bodies too: emptied around each run
// so that its memory does not grow from run to run.
void ClearEmulatorLog(const std::string& emulator_url) {
  if (emulator_url.empty()) return;
  RunRequests(
      {{"DELETE", absl::StrCat(emulator_url, "/__emulator/requests"), ""}}, 1);
}

// ------------------------------------------------------------- seed

// Creates one certificate for the runs to read and update; its name, or
// nothing (said on stderr) when the create failed.
std::optional<std::string> SeedOne(v1::CertificateService::Stub& stub,
                                   const v1::CreateCertificateRequest& request,
                                   absl::string_view what) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::Certificate created;
  const grpc::Status s = stub.CreateCertificate(&ctx, request, &created);
  if (!s.ok()) {
    std::cerr << "seed: " << what << " create: " << s.error_code() << " "
              << s.error_message() << "\n";
    return std::nullopt;
  }
  return created.name();
}

int Seed(const Setup& setup) {
  auto stub = v1::CertificateService::NewStub(grpc::CreateChannel(
      setup.grpc_address, grpc::InsecureChannelCredentials()));
  Json out;
  {
    v1::CreateCertificateRequest request;
    request.set_parent(kLeegalityParent);
    auto& l = *request.mutable_certificate()->mutable_leegality();
    l.set_pkcs12_file(setup.pkcs12);
    l.set_passkey(kPasskey);
    l.set_file_name(absl::StrCat("bench-seed-", setup.run_tag, ".p12"));
    l.set_department_id(kDepartmentId);
    l.set_enabled(true);
    std::optional<std::string> name = SeedOne(*stub, request, "Leegality");
    if (!name) return 1;
    out["leegality_name"] = *name;
  }
  {
    const std::string id = absl::StrCat("bench-seed-", setup.run_tag);
    v1::CreateCertificateRequest request;
    request.set_parent(
        absl::StrCat("backends/apinizer/projects/", kApinizerProject));
    request.set_certificate_id(id);
    auto& a = *request.mutable_certificate()->mutable_apinizer();
    a.set_alias(id + "-alias");
    a.set_description("bench seed");
    a.add_environments("prod");
    a.add_environments("uat");
    certbridge::testing::CertificateOptions c;
    c.common_name = id;
    a.set_pem_certificate(certbridge::testing::MakePemCertificate(c));
    std::optional<std::string> name = SeedOne(*stub, request, "Apinizer");
    if (!name) return 1;
    out["apinizer_name"] = *name;
  }
  std::cout << out.dump() << std::endl;
  return 0;
}

// ------------------------------------------------------------- report

double Median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::optional<std::vector<Json>> ReadLines(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::vector<Json> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    Json j = Json::parse(line, nullptr, false);
    if (j.is_object()) out.push_back(std::move(j));
  }
  return out;
}

double Num(const Json& j, std::initializer_list<const char*> path) {
  const Json* at = &j;
  for (const char* key : path) {
    if (!at->is_object() || !at->contains(key)) return std::nan("");
    at = &(*at)[key];
  }
  return at->is_number() ? at->get<double>() : std::nan("");
}

struct Point {
  std::string label;
  std::vector<Json> grpc;
  std::vector<Json> rest;
};

std::vector<Point> GroupPoints(const std::vector<Json>& lines) {
  std::vector<Point> points;
  for (const Json& j : lines) {
    const std::string label = j.value("label", "");
    auto it = std::find_if(points.begin(), points.end(),
                           [&](const Point& p) { return p.label == label; });
    if (it == points.end()) {
      points.push_back(Point{label, {}, {}});
      it = points.end() - 1;
    }
    (j.value("target", "") == "grpc" ? it->grpc : it->rest).push_back(j);
  }
  return points;
}

double MedianOf(const std::vector<Json>& runs,
                std::initializer_list<const char*> path) {
  std::vector<double> v;
  for (const Json& r : runs) {
    const double x = Num(r, path);
    if (!std::isnan(x)) v.push_back(x);
  }
  return Median(v);
}

std::string Fmt(double v, int decimals = 0) {
  if (std::isnan(v)) return "-";
  return absl::StrFormat("%.*f", decimals, v);
}

// Thousands-grouped integer ("12 345"), for rates.
std::string Rate(double v) {
  if (std::isnan(v)) return "-";
  std::string digits = absl::StrFormat("%.0f", v);
  std::string out;
  const int n = static_cast<int>(digits.size());
  for (int i = 0; i < n; ++i) {
    if (i > 0 && (n - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[static_cast<std::size_t>(i)]);
  }
  return out;
}

// Latency in µs, milliseconds once large.
std::string Lat(double us) {
  if (std::isnan(us)) return "-";
  if (us >= 10000) return absl::StrFormat("%.1f ms", us / 1000);
  return absl::StrFormat("%.0f", us);
}

long SumOf(const std::vector<Json>& runs, const char* key) {
  long n = 0;
  for (const Json& r : runs) n += r.value(key, 0L);
  return n;
}

int Report(const std::string& path) {
  const std::optional<std::vector<Json>> lines = ReadLines(path);
  if (!lines) {
    std::cerr << "cannot read " << path << "\n";
    return 2;
  }
  const std::vector<Point> points = GroupPoints(*lines);
  std::cout
      << "### Throughput and latency (proxied = certbridge gRPC, direct = "
         "REST to the emulator; medians over pairs; ratio = proxied ÷ direct "
         "RPC/s, the median of the per-pair ratios)\n\n"
      << "| point | pairs | proxied RPC/s | direct RPC/s | ratio | p50 µs "
         "prox / dir | p99 µs prox / dir | p99.9 µs prox / dir | errors "
         "prox / dir |\n"
      << "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const Point& p : points) {
    // The median of the per-pair ratios: pairs ran back to back, so a
    // ratio compares runs under the same machine conditions.
    std::vector<double> ratios;
    for (const Json& g : p.grpc) {
      for (const Json& r : p.rest) {
        if (g.value("pair", -1) == r.value("pair", -2) && Num(r, {"rps"}) > 0) {
          ratios.push_back(Num(g, {"rps"}) / Num(r, {"rps"}));
        }
      }
    }
    auto both = [&](const char* key) {
      return absl::StrCat(Lat(MedianOf(p.grpc, {key})), " / ",
                          Lat(MedianOf(p.rest, {key})));
    };
    std::cout << "| " << p.label << " | "
              << std::min(p.grpc.size(), p.rest.size()) << " | "
              << Rate(MedianOf(p.grpc, {"rps"})) << " | "
              << Rate(MedianOf(p.rest, {"rps"})) << " | "
              << Fmt(Median(ratios), 2) << " | " << both("p50_us") << " | "
              << both("p99_us") << " | " << both("p999_us") << " | "
              << SumOf(p.grpc, "errors") << " / " << SumOf(p.rest, "errors")
              << " |\n";
  }
  std::cout
      << "\n### Cost (certbridge-server during the proxied runs; per RPC = "
         "over the timed window ÷ RPCs completed in it)\n\n"
      << "| point | server CPU µs/RPC | server ctx sw/RPC | server RSS MiB "
         "before / during / after | threads b / d / a | fds b / d / a | "
         "emulator CPU µs/op prox / dir | loadgen CPU µs/op prox / dir |\n"
      << "|---|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const Point& p : points) {
    auto per_op = [](const std::vector<Json>& runs, const char* what,
                     const char* key) {
      std::vector<double> v;
      for (const Json& r : runs) {
        const double n = Num(r, {"ok"});
        const double x = Num(r, {what, key});
        if (n > 0 && !std::isnan(x)) v.push_back(x / n);
      }
      return Median(v);
    };
    auto three = [&](const char* key, double scale, int decimals) {
      std::string out;
      for (const char* when : {"before", "during", "after"}) {
        if (!out.empty()) out += " / ";
        out += Fmt(MedianOf(p.grpc, {"server", when, key}) * scale, decimals);
      }
      return out;
    };
    std::cout << "| " << p.label << " | "
              << Fmt(per_op(p.grpc, "server", "cpu_us"), 1) << " | "
              << Fmt(per_op(p.grpc, "server", "ctx_switches"), 2) << " | "
              << three("rss_kb", 1.0 / 1024, 1) << " | "
              << three("threads", 1, 0) << " | " << three("fds", 1, 0) << " | "
              << Fmt(per_op(p.grpc, "emulator", "cpu_us"), 1) << " / "
              << Fmt(per_op(p.rest, "emulator", "cpu_us"), 1) << " | "
              << Fmt(per_op(p.grpc, "loadgen", "cpu_us"), 1) << " / "
              << Fmt(per_op(p.rest, "loadgen", "cpu_us"), 1) << " |\n";
  }
  return 0;
}

int ReportPeak(const std::string& path) {
  const std::optional<std::vector<Json>> lines = ReadLines(path);
  if (!lines) {
    std::cerr << "cannot read " << path << "\n";
    return 2;
  }
  double peak = 0;
  for (const Point& p : GroupPoints(*lines)) {
    if (p.grpc.empty() || p.grpc[0].value("op", "") != "get" ||
        p.grpc[0].value("mode", "") != "closed") {
      continue;
    }
    peak = std::max(peak, MedianOf(p.grpc, {"rps"}));
  }
  std::cout << absl::StrFormat("%.0f", peak) << "\n";
  return peak > 0 ? 0 : 1;
}

// ------------------------------------------------------------- main

std::optional<Op> ParseOp(const std::string& s) {
  if (s == "get") return Op::kGet;
  if (s == "create") return Op::kCreate;
  if (s == "update") return Op::kUpdate;
  return std::nullopt;
}

std::string Token(const std::string& file) {
  if (file.empty()) return "";
  return std::string(absl::StripAsciiWhitespace(ReadFile(file).value_or("")));
}

std::string RandomTag() {
  absl::BitGen gen;
  return absl::StrFormat("%08x", absl::Uniform<std::uint32_t>(gen));
}

int Fail(const std::string& message) {
  std::cerr << "certbridge-loadgen: " << message << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  if (!absl::GetFlag(FLAGS_report).empty()) {
    return Report(absl::GetFlag(FLAGS_report));
  }
  if (!absl::GetFlag(FLAGS_report_peak).empty()) {
    return ReportPeak(absl::GetFlag(FLAGS_report_peak));
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);

  Setup setup;
  setup.grpc_address = absl::GetFlag(FLAGS_grpc_address);
  setup.emulator_url = absl::GetFlag(FLAGS_emulator_url);
  setup.leegality_token = Token(absl::GetFlag(FLAGS_leegality_token_file));
  setup.apinizer_token = Token(absl::GetFlag(FLAGS_apinizer_token_file));
  setup.deadline = absl::GetFlag(FLAGS_deadline);
  setup.max_in_flight = absl::GetFlag(FLAGS_max_in_flight);
  setup.run_tag = RandomTag();
  const std::string op_name = absl::GetFlag(FLAGS_op);
  const std::string target = absl::GetFlag(FLAGS_target);
  const std::string mode = absl::GetFlag(FLAGS_mode);
  const bool rest = target == "rest";

  if (op_name == "create" || op_name == "seed") {
    certbridge::testing::Pkcs12Options p;
    p.common_name = "certbridge-bench";
    p.passkey = kPasskey;
    p.exact_size = static_cast<std::size_t>(absl::GetFlag(FLAGS_pkcs12_bytes));
    setup.pkcs12 = certbridge::testing::MakePkcs12(p);
  }
  if (op_name == "seed") {
    if (setup.grpc_address.empty()) return Fail("seed needs --grpc_address");
    return Seed(setup);
  }
  const std::optional<Op> op = ParseOp(op_name);
  if (!op) return Fail("--op: get, create, update or seed");
  setup.op = *op;
  if (target != "grpc" && target != "rest") return Fail("--target: grpc|rest");
  if (mode != "closed" && mode != "open") return Fail("--mode: closed|open");
  if (!rest && setup.grpc_address.empty()) {
    return Fail("--target=grpc needs --grpc_address");
  }
  if ((rest || setup.op == Op::kCreate) &&
      (setup.emulator_url.empty() || setup.leegality_token.empty() ||
       setup.apinizer_token.empty())) {
    return Fail(
        "--target=rest and --op=create need --emulator_url and both token "
        "files");
  }
  setup.leegality_name = absl::GetFlag(FLAGS_leegality_name);
  setup.leegality_id = Segment(setup.leegality_name, "/certificates/");
  setup.apinizer_name = absl::GetFlag(FLAGS_apinizer_name);
  setup.apinizer_project = Segment(setup.apinizer_name, "/projects/");
  setup.apinizer_certificate = Segment(setup.apinizer_name, "/certificates/");
  if (setup.op == Op::kGet && setup.leegality_id.empty()) {
    return Fail("--op=get needs --leegality_name");
  }
  if (setup.op == Op::kUpdate && setup.apinizer_certificate.empty()) {
    return Fail("--op=update needs --apinizer_name");
  }
  const int concurrency = std::max(1, absl::GetFlag(FLAGS_concurrency));
  const double rate = absl::GetFlag(FLAGS_rate);
  if (mode == "open" && rate <= 0) return Fail("--mode=open needs --rate");
  const int per_channel = std::max(1, absl::GetFlag(FLAGS_per_channel));
  int channels = absl::GetFlag(FLAGS_channels);
  if (channels <= 0) channels = (concurrency + per_channel - 1) / per_channel;
  channels = std::max(1, channels);

  const int server_pid = absl::GetFlag(FLAGS_server_pid);
  const int emulator_pid = absl::GetFlag(FLAGS_emulator_pid);
  const int self_pid = static_cast<int>(getpid());

  ClearEmulatorLog(setup.emulator_url);
  const Footprint server_before = ReadFootprint(server_pid);
  const Footprint emulator_before = ReadFootprint(emulator_pid);

  const absl::Duration warmup = absl::GetFlag(FLAGS_warmup);
  const absl::Duration duration = absl::GetFlag(FLAGS_duration);
  Created created;
  Recorder recorder;
  std::unique_ptr<Driver> driver;
  if (rest) {
    driver = std::make_unique<RestDriver>(
        setup, recorder, created,
        static_cast<long>(absl::GetFlag(FLAGS_max_host_connections)),
        absl::GetFlag(FLAGS_fresh_post));
  } else {
    auto grpc_driver = std::make_unique<GrpcDriver>(setup, recorder, created,
                                                    channels, per_channel);
    if (!grpc_driver->Connect(absl::Seconds(10))) {
      return Fail(absl::StrCat("cannot connect to ", setup.grpc_address));
    }
    driver = std::move(grpc_driver);
  }
  // The warm-up starts once the channels are connected.
  const Clock::time_point t0 = Clock::now();
  const Clock::time_point begin = t0 + ToChrono(warmup);
  const Clock::time_point end = begin + ToChrono(duration);
  recorder.SetWindow(begin, end);

  std::thread scheduler;
  if (mode == "closed") {
    driver->StartClosed(concurrency);
  } else {
    driver->StartOpen();
    scheduler = std::thread([&] {
      for (std::uint64_t k = 0;; ++k) {
        const Clock::time_point due =
            t0 + std::chrono::nanoseconds(static_cast<std::int64_t>(
                     std::llround(static_cast<double>(k) * 1e9 / rate)));
        if (due >= end) break;
        std::this_thread::sleep_until(due);
        driver->StartOne(due);
      }
    });
  }

  std::this_thread::sleep_until(begin);
  const Usage server0 = ReadUsage(server_pid);
  const Usage emulator0 = ReadUsage(emulator_pid);
  const Usage self0 = ReadUsage(self_pid);
  std::this_thread::sleep_until(begin + (end - begin) / 2);
  const Footprint server_during = ReadFootprint(server_pid);
  const Footprint emulator_during = ReadFootprint(emulator_pid);
  std::this_thread::sleep_until(end);
  const Usage server1 = ReadUsage(server_pid);
  const Usage emulator1 = ReadUsage(emulator_pid);
  const Usage self1 = ReadUsage(self_pid);
  if (scheduler.joinable()) scheduler.join();
  driver->Stop();
  const bool drained = driver->WaitIdle(setup.deadline + absl::Seconds(5));
  driver.reset();  // closes the channels
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const Footprint server_after = ReadFootprint(server_pid);
  const Footprint emulator_after = ReadFootprint(emulator_pid);

  long cleanup_failed = 0;
  std::size_t cleaned = 0;
  if (setup.op == Op::kCreate && absl::GetFlag(FLAGS_cleanup)) {
    std::vector<SimpleRequest> deletes;
    for (const std::string& id : created.Take()) {
      deletes.push_back(
          {"DELETE",
           absl::StrCat(setup.emulator_url, "/api/v1/certificates/", id),
           absl::StrCat("X-Auth-Token: ", setup.leegality_token)});
    }
    cleaned = deletes.size();
    cleanup_failed = RunRequests(deletes, 16);
  }
  ClearEmulatorLog(setup.emulator_url);

  const std::vector<std::int64_t> lat = recorder.Latencies();
  const double seconds = absl::ToDoubleSeconds(duration);
  long errors = recorder.ErrorCount();
  if (!drained) {
    recorder.Error("not_drained", "operations still outstanding");
    ++errors;
  }
  Json out;
  out["label"] = absl::GetFlag(FLAGS_label);
  out["pair"] = absl::GetFlag(FLAGS_pair);
  out["target"] = target;
  out["op"] = op_name;
  out["mode"] = mode;
  out["concurrency"] = mode == "closed" ? concurrency : 0;
  out["rate"] = mode == "open" ? rate : 0.0;
  out["channels"] = rest ? 0 : channels;
  out["duration_s"] = seconds;
  out["rps"] = static_cast<double>(lat.size()) / seconds;
  out["ok"] = lat.size();
  out["errors"] = errors;
  out["p50_us"] = PercentileUs(lat, 0.50);
  out["p99_us"] = PercentileUs(lat, 0.99);
  out["p999_us"] = PercentileUs(lat, 0.999);
  out["max_us"] = PercentileUs(lat, 1.0);
  out["ok_outside_window"] = recorder.OkOutside();
  if (errors > 0) {
    out["error_kinds"] = recorder.ErrorsJson();
    out["first_error"] = recorder.FirstError();
  }
  auto process = [](const Usage& a, const Usage& b, const Footprint& before,
                    const Footprint& during, const Footprint& after) {
    Json j;
    if (a.ok && b.ok) {
      j["cpu_us"] = b.cpu_us - a.cpu_us;
      j["ctx_switches"] = b.ctx_switches - a.ctx_switches;
    }
    j["before"] = FootprintJson(before);
    j["during"] = FootprintJson(during);
    j["after"] = FootprintJson(after);
    return j;
  };
  if (server_pid > 0) {
    out["server"] =
        process(server0, server1, server_before, server_during, server_after);
  }
  if (emulator_pid > 0) {
    out["emulator"] = process(emulator0, emulator1, emulator_before,
                              emulator_during, emulator_after);
  }
  out["loadgen"] = Json{{"cpu_us", self1.cpu_us - self0.cpu_us}};
  if (setup.op == Op::kCreate) {
    out["cleanup"] =
        Json{{"deleted", cleaned - static_cast<std::size_t>(cleanup_failed)},
             {"failed", cleanup_failed}};
  }
  std::cout << out.dump() << std::endl;
  return errors == 0 ? 0 : 1;
}
