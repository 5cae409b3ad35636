// Issue 15 end to end: two certbridge-server processes (replicas A and B)
// share request_id outcomes through one real redis-server, in front of one
// emulator. The emulator's record of the POSTs it received is the evidence
// that counts: a Create the store failed to deduplicate shows up there as a
// second POST (and, for Leegality, a second certificate), whatever the
// replicas answer.
//
// Real processes rather than in-process servers, so that a replica can die
// by SIGKILL with its claim in Redis and its backend call in flight.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "server/common/uuid.h"
#include "tests/integration/certbridge_harness.h"
#include "tests/integration/server_process.h"
#include "tests/testing/certificate_fixtures.h"
#include "tests/testing/redis_server.h"

namespace certbridge::testing {
namespace {

// Distinctive, so that a leak into a log line or a metric is unmistakable.
constexpr char kRedisPassword[] = "redis-pw-Zq7XkP2mW9vL";
constexpr char kApinizerParent[] = "backends/apinizer/projects/Payments";
constexpr char kLeegalityCreates[] = "/api/v1/certificates";
constexpr char kApinizerCreates[] = "/apiops/projects/Payments/certificates/";
constexpr char kStoreUnavailable[] = "IDEMPOTENCY_STORE_UNAVAILABLE";
constexpr char kBeginMetric[] = "certbridge_idempotency_store_requests_total";
constexpr char kDurationMetric[] =
    "certbridge_idempotency_store_request_duration_seconds";
constexpr char kConnectedMetric[] = "certbridge_idempotency_store_connected";
// Generous: a loaded 2-core machine running CI beside this must not fail
// a call or a wait that would succeed given time. None of these is an
// expectation of speed; each only bounds a hang.
constexpr absl::Duration kCallTimeout = absl::Seconds(60);
constexpr absl::Duration kEventTimeout = absl::Seconds(60);

struct CallResult {
  grpc::Status status;
  v1::Certificate certificate;
};

struct ReplicaOptions {
  /// false: no "idempotency" section at all, the configuration of before
  /// issue 15.
  bool redis = true;
  std::string lease = "10s";
  /// At most a quarter of the lease (the configuration insists).
  std::string command = "500ms";
};

struct Replica {
  std::string name;
  std::unique_ptr<ServerProcess> process;
  std::string log_path;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::CertificateService::Stub> stub;

  bool alive() const { return process != nullptr && process->pid() > 0; }
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The value of the sample of `name` whose labels include every one of
// `labels` (`key="value"`); -1 when there is none.
double SampleValue(const std::string& exposition, const std::string& name,
                   const std::vector<std::string>& labels) {
  for (absl::string_view line : absl::StrSplit(exposition, '\n')) {
    if (!absl::StartsWith(line, absl::StrCat(name, "{")) &&
        !absl::StartsWith(line, absl::StrCat(name, " "))) {
      continue;
    }
    bool all = true;
    for (const std::string& label : labels) {
      all = all && absl::StrContains(line, label);
    }
    const std::size_t space = line.rfind(' ');
    double value = 0;
    if (all && space != absl::string_view::npos &&
        absl::SimpleAtod(line.substr(space + 1), &value)) {
      return value;
    }
  }
  return -1;
}

// Polls `condition` until it holds or `timeout` passes. For states only
// observable by asking (a counter, a reconnect); never a stand-in for an
// event the test could wait on.
bool Eventually(const std::function<bool()>& condition,
                absl::Duration timeout) {
  const absl::Time give_up = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() > give_up) return false;
    absl::SleepFor(absl::Milliseconds(50));  // polling, bounded by give_up
  }
  return true;
}

v1::CreateCertificateRequest ApinizerCreateRequest(const std::string& id) {
  v1::CreateCertificateRequest r;
  r.set_parent(kApinizerParent);
  r.set_certificate_id(id);
  auto* a = r.mutable_certificate()->mutable_apinizer();
  a->set_alias(id + "-alias");
  a->set_description("Root CA of " + id);
  a->add_environments("prod");
  CertificateOptions options;
  options.common_name = id;
  a->set_pem_certificate(MakePemCertificate(options));
  return r;
}

class SharedIdempotencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/certbridge-shared-idem.XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    auto emulator = emulator::Emulator::Start({});
    ASSERT_TRUE(emulator.ok()) << emulator.status();
    emulator_ = *std::move(emulator);
    std::ofstream(dir_ + "/leegality.token")
        << emulator::EmulatorOptions().leegality_token;
    std::ofstream(dir_ + "/apinizer.token")
        << emulator::EmulatorOptions().apinizer_token;
    std::ofstream(dir_ + "/redis.password") << kRedisPassword;
    // As a Secret is mounted: the server warns about readable token files.
    for (const char* file :
         {"/leegality.token", "/apinizer.token", "/redis.password"}) {
      std::filesystem::permissions(dir_ + file,
                                   std::filesystem::perms::owner_read |
                                       std::filesystem::perms::owner_write);
    }
  }

  void TearDown() override {
    // Runs after a failed assertion too: every replica's log (and the
    // metrics of those still running) must hold neither a request_id nor
    // the Redis password, whatever the case did.
    std::vector<std::string> metrics(replicas_.size());
    std::vector<std::future<int>> stops(replicas_.size());
    for (std::size_t i = 0; i < replicas_.size(); ++i) {
      Replica& replica = *replicas_[i];
      if (!replica.alive()) continue;
      if (replica.process->metrics_port() > 0) {
        metrics[i] = ScrapeMetrics(replica.process->metrics_port());
      }
      // Log lines are written asynchronously; a clean stop flushes them,
      // so the check below sees every line (a killed replica's last lines
      // are lost with it). An open channel would hold the stop for the
      // whole grace period; in parallel because each stop takes seconds.
      replica.stub.reset();
      replica.channel.reset();
      stops[i] = std::async(
          std::launch::async,
          [process = replica.process.get()] { return process->Stop(); });
    }
    for (std::size_t i = 0; i < replicas_.size(); ++i) {
      if (stops[i].valid()) {
        EXPECT_EQ(stops[i].get(), 0) << replicas_[i]->name;
      }
    }
    for (std::size_t i = 0; i < replicas_.size(); ++i) {
      const std::unique_ptr<Replica>& replica = replicas_[i];
      const std::string log = ReadFile(replica->log_path);
      EXPECT_FALSE(log.empty()) << replica->name << " logged nothing";
      EXPECT_THAT(log, ::testing::Not(::testing::HasSubstr(kRedisPassword)))
          << replica->name;
      EXPECT_THAT(metrics[i],
                  ::testing::Not(::testing::HasSubstr(kRedisPassword)))
          << replica->name;
      for (const std::string& id : request_ids_) {
        EXPECT_THAT(log, ::testing::Not(::testing::HasSubstr(id)))
            << replica->name << " logged request_id " << id;
        EXPECT_THAT(metrics[i], ::testing::Not(::testing::HasSubstr(id)))
            << replica->name << " exported request_id " << id;
      }
      if (HasFailure()) {
        std::cout << "--- " << replica->name << " log:\n" << log;
      }
    }
    if (HasFailure() && redis_ != nullptr) {
      std::cout << "--- redis log:\n" << ReadFile(redis_->log_path());
    }
    replicas_.clear();  // SIGKILLs whatever still runs
    redis_.reset();
    emulator_.reset();
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }

  void StartRedis() {
    RedisServerOptions options;
    options.password = kRedisPassword;
    auto redis = RedisServer::Start(options);
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = *std::move(redis);
  }

  std::string Config(const ReplicaOptions& o) const {
    std::string idempotency;
    if (o.redis) {
      idempotency = absl::StrCat(
          R"("idempotency":{"ttl":"10m","store":"redis","redis":{)",
          R"("address":"127.0.0.1:)", redis_->port(), R"(",)",
          R"("password_file":")", dir_, R"(/redis.password",)",
          R"("database":0,"key_prefix":"certbridge-e2e:",)",
          R"("timeouts":{"connect":"1s","command":")", o.command,
          R"(","lease":")", o.lease,
          R"("},"on_unavailable":"fail","tls":{"enabled":false}}},)");
    }
    // debug: the most a log can say, so the most a leak can show.
    return absl::StrCat(
        R"({"listen_address":"127.0.0.1:0","metrics_address":"127.0.0.1:0",)",
        R"("log_level":"debug",)",
        // A clean stop (TearDown) without the production drain.
        R"("shutdown_drain_delay":"0s","shutdown_grace_period":"5s",)",
        idempotency, R"("backends":[)",
        R"({"name":"leegality","kind":"leegality","base_url":")",
        emulator_->base_url(), R"(","auth":{"token_file":")", dir_,
        R"(/leegality.token"}},)",
        R"({"name":"apinizer","kind":"apinizer","base_url":")",
        emulator_->base_url(), R"(/apiops","auth":{"header":"bearer",)",
        R"("token_file":")", dir_, R"(/apinizer.token"}}]})");
  }

  /// nullptr (and a test failure) if it cannot start.
  Replica* StartReplica(const std::string& name, ReplicaOptions options = {}) {
    const std::string dir = absl::StrCat(dir_, "/", name);
    std::filesystem::create_directories(dir);
    auto replica = std::make_unique<Replica>();
    replica->name = name;
    replica->log_path = dir + "/server.log";
    replica->process =
        ServerProcess::Start(CERTBRIDGE_SERVER_BINARY, dir, Config(options));
    if (replica->process == nullptr) return nullptr;
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(16 * 1024 * 1024);
    replica->channel = grpc::CreateCustomChannel(
        absl::StrCat("127.0.0.1:", replica->process->port()),
        grpc::InsecureChannelCredentials(), args);
    replica->stub = v1::CertificateService::NewStub(replica->channel);
    replicas_.push_back(std::move(replica));
    return replicas_.back().get();
  }

  /// A fresh request_id, remembered for the leak check of TearDown.
  std::string NewRequestId() {
    std::string id = NewUuidV4();
    request_ids_.insert(id);
    return id;
  }

  static CallResult Create(Replica& replica,
                           const v1::CreateCertificateRequest& request) {
    CallResult out;
    auto ctx = Harness::Context(kCallTimeout);
    out.status =
        replica.stub->CreateCertificate(ctx.get(), request, &out.certificate);
    return out;
  }

  int PostsTo(absl::string_view path_prefix) const {
    int n = 0;
    for (const auto& r : emulator_->Requests()) {
      n += r.method == "POST" && absl::StartsWith(r.path, path_prefix);
    }
    return n;
  }

  static double Metric(Replica& replica, const std::string& operation,
                       const std::string& result) {
    return SampleValue(ScrapeMetrics(replica.process->metrics_port()),
                       kBeginMetric,
                       {absl::StrCat("operation=\"", operation, "\""),
                        absl::StrCat("result=\"", result, "\"")});
  }

  static void ExpectStoreUnavailable(const CallResult& r) {
    const RpcError e = DecodeRpcError(r.status);
    EXPECT_EQ(e.code, grpc::StatusCode::UNAVAILABLE) << e.message;
    EXPECT_EQ(e.reason, kStoreUnavailable) << e.message;
  }

  std::string dir_;
  std::unique_ptr<emulator::Emulator> emulator_;
  std::unique_ptr<RedisServer> redis_;
  std::vector<std::unique_ptr<Replica>> replicas_;
  std::set<std::string> request_ids_;
};

// Case 1. Counting POSTs is the proof: a repeat that B sent again would be a
// second POST (which the emulator's Leegality refuses, 409 for the alias in
// use, so B would fail instead of replaying).
TEST_F(SharedIdempotencyTest, RepeatOnTheOtherReplicaGetsTheFirstOutcome) {
  ASSERT_NO_FATAL_FAILURE(StartRedis());
  Replica* a = StartReplica("a");
  ASSERT_NE(a, nullptr);
  Replica* b = StartReplica("b");
  ASSERT_NE(b, nullptr);
  v1::CreateCertificateRequest request = LeegalityCreateRequest("one.p12");
  request.set_request_id(NewRequestId());

  const CallResult first = Create(*a, request);
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  const CallResult repeat = Create(*b, request);
  ASSERT_TRUE(repeat.status.ok()) << repeat.status.error_message();

  EXPECT_EQ(repeat.certificate.name(), first.certificate.name());
  EXPECT_EQ(PostsTo(kLeegalityCreates), 1);
  EXPECT_EQ(emulator_->leegality().size(), 1u);
  // Both asked Redis: A to claim the id, B to find its outcome.
  EXPECT_GT(Metric(*a, "begin", "ok"), 0);
  EXPECT_GT(Metric(*b, "begin", "ok"), 0);
}

// Case 2. A's POST is held in the emulator until B has been seen polling
// for A's outcome (its "poll" counter), so B's repeat certainly arrived
// while A's call was running, not after it.
TEST_F(SharedIdempotencyTest, RepeatWhileTheFirstCallRunsWaitsForIt) {
  ASSERT_NO_FATAL_FAILURE(StartRedis());
  Replica* a = StartReplica("a");
  ASSERT_NE(a, nullptr);
  Replica* b = StartReplica("b");
  ASSERT_NE(b, nullptr);
  v1::CreateCertificateRequest request = LeegalityCreateRequest("held.p12");
  request.set_request_id(NewRequestId());
  emulator::FaultSpec hold;
  hold.method = "POST";
  hold.path_prefix = kLeegalityCreates;
  hold.hold = true;
  emulator_->AddFault(hold);

  std::future<CallResult> first;
  std::future<CallResult> repeat;
  // Declared after the futures, so it runs before their destructors wait:
  // a failed assertion below must not leave A's POST held until the
  // deadline.
  auto release = absl::MakeCleanup([this] { emulator_->ReleaseHeld(); });
  first = std::async(std::launch::async, [&] { return Create(*a, request); });
  ASSERT_TRUE(emulator_->WaitUntilHeld(1, kEventTimeout));
  repeat = std::async(std::launch::async, [&] { return Create(*b, request); });
  ASSERT_TRUE(
      Eventually([&] { return Metric(*b, "poll", "ok") > 0; }, kEventTimeout))
      << "B never polled for A's outcome";
  EXPECT_EQ(PostsTo(kLeegalityCreates), 1) << "B sent while A's call ran";
  emulator_->ReleaseHeld();

  const CallResult a_result = first.get();
  const CallResult b_result = repeat.get();
  ASSERT_TRUE(a_result.status.ok()) << a_result.status.error_message();
  ASSERT_TRUE(b_result.status.ok()) << b_result.status.error_message();
  EXPECT_EQ(b_result.certificate.name(), a_result.certificate.name());
  EXPECT_EQ(PostsTo(kLeegalityCreates), 1);
  EXPECT_EQ(emulator_->leegality().size(), 1u);
}

// Case 3. Apinizer, because there the caller names the certificate: a
// repeat after a crash can tell "A's POST already created it" from "someone
// else's certificate" by reading it back, which is the recovery an
// "outcome unknown" entry exists to enable. Leegality assigns the id itself
// and certbridge has no read-back for it (BackendStub::RecoverCreate), so
// there the same crash ends in ALREADY_EXISTS and proves nothing about the
// store. The emulator applies A's POST and then holds
// the reply, so A dies after the backend acted and before any outcome was
// recorded: the worst case. B's repeat then POSTs (the entry is unknown, not
// answered), meets Apinizer's "already exist" and reads the certificate
// back: it must answer with A's certificate, and the backend must have
// applied exactly one POST.
TEST_F(SharedIdempotencyTest, KilledReplicasCallIsRecoveredByTheOther) {
  ASSERT_NO_FATAL_FAILURE(StartRedis());
  ReplicaOptions short_lease;
  short_lease.lease = "1s";
  short_lease.command = "250ms";
  Replica* a = StartReplica("a", short_lease);
  ASSERT_NE(a, nullptr);
  Replica* b = StartReplica("b", short_lease);
  ASSERT_NE(b, nullptr);
  const std::string id = "crash-root";
  v1::CreateCertificateRequest request = ApinizerCreateRequest(id);
  request.set_request_id(NewRequestId());
  const std::size_t certificates_before =
      emulator_->apinizer().CertificateCount();
  emulator::FaultSpec hold;
  hold.method = "POST";
  hold.path_prefix = kApinizerCreates;
  hold.hold_after_apply = true;
  emulator_->AddFault(hold);

  std::future<CallResult> first;
  auto release = absl::MakeCleanup([this] { emulator_->ReleaseHeld(); });
  first = std::async(std::launch::async, [&] { return Create(*a, request); });
  ASSERT_TRUE(emulator_->WaitUntilHeld(1, kEventTimeout));
  ASSERT_TRUE(emulator_->apinizer().Find("Payments", id).has_value())
      << "A's POST was not applied before its reply was held";
  a->process->Kill();
  EXPECT_FALSE(first.get().status.ok());
  ASSERT_TRUE(emulator_->WaitForRequest(
      [](const emulator::RecordedRequest& r) {
        return r.method == "POST" && r.client_closed;
      },
      kEventTimeout))
      << "the emulator never saw A go away";

  // Sent at once: B finds A's claim, waits for its lease (1 s) to lapse,
  // then takes the id over as "outcome unknown".
  const CallResult repeat = Create(*b, request);
  ASSERT_TRUE(repeat.status.ok()) << DecodeRpcError(repeat.status).reason
                                  << ": " << repeat.status.error_message();
  EXPECT_EQ(repeat.certificate.name(),
            absl::StrCat(kApinizerParent, "/certificates/", id));
  EXPECT_EQ(repeat.certificate.apinizer().alias(), id + "-alias");

  // Indexes into the log, which is in arrival order.
  const std::vector<emulator::RecordedRequest> log = emulator_->Requests();
  std::vector<std::size_t> posts;
  for (std::size_t i = 0; i < log.size(); ++i) {
    if (log[i].method == "POST" &&
        absl::StartsWith(log[i].path, kApinizerCreates)) {
      posts.push_back(i);
    }
  }
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_TRUE(log[posts[0]].client_closed) << "A's: applied, never answered";
  EXPECT_EQ(log[posts[1]].status, 400) << "B's: refused as a duplicate";
  EXPECT_EQ(emulator_->apinizer().CertificateCount(), certificates_before + 1);
  // The read-back that turned B's "already exist" into A's certificate.
  bool read_back = false;
  for (std::size_t i = posts[1] + 1; i < log.size(); ++i) {
    read_back = read_back ||
                (log[i].method == "GET" && absl::StrContains(log[i].path, id));
  }
  EXPECT_TRUE(read_back);
}

// Case 4. Without Redis no replica can know whether the id was used, so
// "fail" refuses before sending; everything that needs no id is unaffected.
TEST_F(SharedIdempotencyTest, RedisDownFailsOnlyCreatesWithARequestId) {
  ASSERT_NO_FATAL_FAILURE(StartRedis());
  Replica* a = StartReplica("a");
  ASSERT_NE(a, nullptr);
  Replica* b = StartReplica("b");
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(redis_->Stop().ok());

  v1::CreateCertificateRequest with_id = LeegalityCreateRequest("down.p12");
  with_id.set_request_id(NewRequestId());
  for (Replica* replica : {a, b}) {
    SCOPED_TRACE(replica->name);
    const CallResult r = Create(*replica, with_id);
    ExpectStoreUnavailable(r);
  }
  EXPECT_EQ(PostsTo(kLeegalityCreates), 0);

  const CallResult created =
      Create(*a, LeegalityCreateRequest("no-request-id.p12"));
  ASSERT_TRUE(created.status.ok()) << created.status.error_message();
  EXPECT_EQ(PostsTo(kLeegalityCreates), 1);
  const std::string& name = created.certificate.name();

  v1::GetCertificateRequest get;
  get.set_name(name);
  v1::Certificate got;
  auto get_ctx = Harness::Context(kCallTimeout);
  const grpc::Status gs = b->stub->GetCertificate(get_ctx.get(), get, &got);
  ASSERT_TRUE(gs.ok()) << gs.error_message();
  EXPECT_EQ(got.name(), name);

  v1::UpdateCertificateRequest update;
  update.mutable_certificate()->set_name(name);
  update.mutable_certificate()->mutable_leegality()->set_department_id(
      kLegalDepartment);
  update.mutable_update_mask()->add_paths("leegality.department_id");
  v1::Certificate updated;
  auto update_ctx = Harness::Context(kCallTimeout);
  const grpc::Status us =
      b->stub->UpdateCertificate(update_ctx.get(), update, &updated);
  ASSERT_TRUE(us.ok()) << us.error_message();
  EXPECT_EQ(updated.leegality().department_id(), kLegalDepartment);

  v1::DeleteCertificateRequest del;
  del.set_name(name);
  v1::DeleteCertificateResponse deleted;
  auto delete_ctx = Harness::Context(kCallTimeout);
  const grpc::Status ds =
      a->stub->DeleteCertificate(delete_ctx.get(), del, &deleted);
  ASSERT_TRUE(ds.ok()) << ds.error_message();
  EXPECT_EQ(emulator_->leegality().size(), 0u);
}

// Case 5. The replicas reconnect by themselves; until they have, a Create
// with a request_id fails UNAVAILABLE unsent, so trying again is safe and
// the certificate is created once.
TEST_F(SharedIdempotencyTest, RedisBackOnTheSamePortServesRequestIdsAgain) {
  ASSERT_NO_FATAL_FAILURE(StartRedis());
  Replica* a = StartReplica("a");
  ASSERT_NE(a, nullptr);
  Replica* b = StartReplica("b");
  ASSERT_NE(b, nullptr);
  v1::CreateCertificateRequest request = LeegalityCreateRequest("back.p12");
  request.set_request_id(NewRequestId());
  auto connected = [](Replica& replica) {
    return SampleValue(ScrapeMetrics(replica.process->metrics_port()),
                       kConnectedMetric, {});
  };
  ASSERT_TRUE(Eventually([&] { return connected(*a) == 1; }, kEventTimeout));
  ASSERT_TRUE(redis_->Stop().ok());
  ExpectStoreUnavailable(Create(*a, request));
  // What an operator's alert watches, and the log line that says why.
  EXPECT_TRUE(Eventually([&] { return connected(*a) == 0; }, kEventTimeout));
  EXPECT_TRUE(Eventually(
      [&] {
        return absl::StrContains(ReadFile(a->log_path),
                                 "idempotency store disconnected");
      },
      kEventTimeout));
  ASSERT_TRUE(redis_->Restart().ok());

  // Until the outcome is OK every failure must be the store's, unsent.
  auto until_ok = [&](Replica& replica, CallResult* out) {
    return Eventually(
        [&] {
          *out = Create(replica, request);
          if (!out->status.ok()) ExpectStoreUnavailable(*out);
          return out->status.ok() || ::testing::Test::HasFailure();
        },
        kEventTimeout);
  };
  CallResult first;
  ASSERT_TRUE(until_ok(*a, &first)) << first.status.error_message();
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  CallResult repeat;
  ASSERT_TRUE(until_ok(*b, &repeat)) << repeat.status.error_message();
  ASSERT_TRUE(repeat.status.ok()) << repeat.status.error_message();
  EXPECT_EQ(repeat.certificate.name(), first.certificate.name());
  EXPECT_EQ(PostsTo(kLeegalityCreates), 1);
  EXPECT_EQ(emulator_->leegality().size(), 1u);
  EXPECT_TRUE(Eventually([&] { return connected(*b) == 1; }, kEventTimeout));
  // Each answered round trip is timed, under its operation.
  EXPECT_GE(SampleValue(ScrapeMetrics(b->process->metrics_port()),
                        kDurationMetric + std::string("_count"),
                        {"operation=\"begin\""}),
            1);
}

// Case 6. The fingerprint travels with the id, so the other replica knows
// the id was spent on a different request.
TEST_F(SharedIdempotencyTest, SameIdForADifferentRequestIsInvalid) {
  ASSERT_NO_FATAL_FAILURE(StartRedis());
  Replica* a = StartReplica("a");
  ASSERT_NE(a, nullptr);
  Replica* b = StartReplica("b");
  ASSERT_NE(b, nullptr);
  const std::string request_id = NewRequestId();
  v1::CreateCertificateRequest first = LeegalityCreateRequest("first.p12");
  first.set_request_id(request_id);
  v1::CreateCertificateRequest other = LeegalityCreateRequest("other.p12");
  other.set_request_id(request_id);

  const CallResult created = Create(*a, first);
  ASSERT_TRUE(created.status.ok()) << created.status.error_message();
  const CallResult refused = Create(*b, other);
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << refused.status.error_message();
  EXPECT_EQ(PostsTo(kLeegalityCreates), 1);
  EXPECT_EQ(emulator_->leegality().size(), 1u);
}

// Case 7. No "idempotency" section: the per-process store of before, no
// Redis anywhere (none is started), and none of the shared store's metrics.
TEST_F(SharedIdempotencyTest, DefaultConfigurationNeedsNoRedis) {
  ReplicaOptions memory;
  memory.redis = false;
  Replica* a = StartReplica("a", memory);
  ASSERT_NE(a, nullptr);
  v1::CreateCertificateRequest request = LeegalityCreateRequest("local.p12");
  request.set_request_id(NewRequestId());

  const CallResult first = Create(*a, request);
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  const CallResult repeat = Create(*a, request);
  ASSERT_TRUE(repeat.status.ok()) << repeat.status.error_message();
  EXPECT_EQ(repeat.certificate.name(), first.certificate.name());
  v1::CreateCertificateRequest other = LeegalityCreateRequest("other.p12");
  other.set_request_id(request.request_id());
  EXPECT_EQ(Create(*a, other).status.error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(PostsTo(kLeegalityCreates), 1);
  EXPECT_EQ(emulator_->leegality().size(), 1u);
  EXPECT_THAT(ScrapeMetrics(a->process->metrics_port()),
              ::testing::Not(::testing::HasSubstr(kBeginMetric)));
}

}  // namespace
}  // namespace certbridge::testing
