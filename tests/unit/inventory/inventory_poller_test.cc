// The poller over a fake stub (no layers) and a fake clock: what a sweep
// lists and publishes, one sweep at a time, failures, the jitter, and
// stopping while a list hangs.
#include "server/inventory/inventory_poller.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "server/common/errors.h"
#include "tests/testing/builtin_vendor.h"
#include "tests/unit/inventory/registry_values.h"

namespace certbridge {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

absl::Time Day(int n) {
  return absl::FromUnixSeconds(1800000000) + absl::Hours(24) * n;
}
double Seconds(absl::Time t) {
  return absl::ToDoubleSeconds(t - absl::UnixEpoch());
}
void SetTime(google::protobuf::Timestamp* ts, absl::Time t) {
  ts->set_seconds(absl::ToUnixSeconds(t));
}

class FakeClock final : public Clock {
 public:
  absl::Time Now() const override { return now_; }
  absl::Time now_ = Day(0);
};

// Answers lists with `answer`, or holds them (`hang`) until cancelled --
// or, with `ignore_cancel`, until Release().
class FakeStub final : public BackendStub {
 public:
  struct Held {
    absl::Mutex mu;
    Done<CertificateList> done;
  };

  void ListCertificates(std::shared_ptr<CallContext> ctx,
                        const ParentName& parent,
                        const v1::ListCertificatesRequest& request,
                        Done<CertificateList> done) override {
    std::shared_ptr<Held> held;
    std::optional<absl::StatusOr<CertificateList>> now;
    {
      absl::MutexLock lock(&mu_);
      parents_.push_back(parent);
      requests_.push_back(request.parent());
      contexts_.push_back(ctx);
      // As the REST exchange registers the token it attaches.
      if (!secret_.empty()) ctx->AddSecret(secret_);
      if (++in_flight_ > max_in_flight_) max_in_flight_ = in_flight_;
      if (!hang_) {
        now = answer_(parent);
        --in_flight_;
      } else {
        held = std::make_shared<Held>();
        held->done = std::move(done);
        held_.push_back(held);
      }
    }
    if (now) {
      done(*std::move(now));
      return;
    }
    if (!ignore_cancel_) {
      ctx->OnCancel(ctx->NextTicket(), [this, held] {
        Complete(held, absl::CancelledError("cancelled"));
      });
    }
  }

  void Complete(const std::shared_ptr<Held>& held,
                absl::StatusOr<CertificateList> result) {
    Done<CertificateList> done;
    {
      absl::MutexLock lock(&held->mu);
      if (!held->done) return;
      done = std::move(held->done);
      held->done = nullptr;
    }
    {
      absl::MutexLock lock(&mu_);
      --in_flight_;
    }
    done(std::move(result));
  }

  // Completes every held list with `answer_`.
  void Release() {
    std::vector<std::shared_ptr<Held>> held;
    {
      absl::MutexLock lock(&mu_);
      held.swap(held_);
    }
    for (auto& h : held) Complete(h, answer_(ParentName{}));
  }

  int calls() {
    absl::MutexLock lock(&mu_);
    return static_cast<int>(parents_.size());
  }
  bool WaitForCalls(int n, absl::Duration timeout = absl::Seconds(5)) {
    absl::MutexLock lock(&mu_);
    auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return static_cast<int>(parents_.size()) >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  }

  absl::Mutex mu_;
  std::function<absl::StatusOr<CertificateList>(const ParentName&)> answer_ =
      [](const ParentName&) { return CertificateList{}; };
  bool hang_ = false;
  bool ignore_cancel_ = false;
  std::string secret_;
  std::vector<ParentName> parents_;
  std::vector<std::string> requests_;
  std::vector<std::shared_ptr<CallContext>> contexts_;
  std::vector<std::shared_ptr<Held>> held_;
  int in_flight_ = 0;
  int max_in_flight_ = 0;
};

v1::Certificate Leegality(const std::string& id, std::optional<absl::Time> t) {
  v1::Certificate c;
  c.set_name("backends/lee/certificates/" + id);
  auto* l = c.mutable_leegality();
  if (t) SetTime(l->mutable_expire_time(), *t);
  return c;
}

v1::Certificate Apinizer(const std::string& project, const std::string& name,
                         const std::map<std::string, absl::Time>& envs) {
  v1::Certificate c;
  c.set_name("backends/api/projects/" + project + "/certificates/" + name);
  auto* a = c.mutable_apinizer();
  for (const auto& [env, t] : envs) {
    auto* d = a->add_deployments();
    d->set_environment(env);
    SetTime(d->mutable_end_time(), t);
  }
  return c;
}

class InventoryPollerTest : public ::testing::Test {
 protected:
  std::unique_ptr<InventoryPoller> Make(const std::string& kind,
                                        InventoryConfig config,
                                        InventoryPollerOptions options = {}) {
    auto stub = std::make_unique<FakeStub>();
    stub_ = stub.get();
    const std::string name = kind == "apinizer" ? "api" : "lee";
    connection_ = std::make_unique<BackendConnection>(name, BuiltinVendor(kind),
                                                      std::move(stub));
    options.clock = &clock_;
    config.enabled = true;
    return std::make_unique<InventoryPoller>(*connection_, std::move(config),
                                             metrics_.ForBackend(name),
                                             std::move(options));
  }

  std::map<std::string, std::string> Labels(const std::string& backend,
                                            const std::string& project,
                                            const std::string& cert,
                                            const std::string& env = "") {
    return {{"backend", backend},
            {"project", project},
            {"certificate", cert},
            {"environment", env}};
  }

  FakeClock clock_;
  prometheus::Registry registry_;
  InventoryMetrics metrics_{registry_};
  std::unique_ptr<BackendConnection> connection_;
  FakeStub* stub_ = nullptr;
};

TEST_F(InventoryPollerTest, LeegalitySweepPublishesEachExpiry) {
  InventoryConfig config;
  config.interval = absl::Minutes(7);
  auto poller = Make("leegality", config);
  // Before any sweep: the interval the stale alert divides by, and 0 as
  // the last success.
  EXPECT_EQ(Value(registry_, "certbridge_inventory_interval_seconds",
                  {{"backend", "lee"}}),
            420);
  EXPECT_EQ(
      Value(registry_, "certbridge_inventory_last_success_timestamp_seconds",
            {{"backend", "lee"}}),
      0);
  stub_->answer_ = [](const ParentName&) {
    return CertificateList{{Leegality("id-1", Day(10)),
                            Leegality("id-2", Day(20)),
                            Leegality("no-expiry", std::nullopt)}};
  };
  clock_.now_ = Day(3);
  ASSERT_TRUE(poller->SweepOnce().ok());
  ASSERT_EQ(stub_->calls(), 1);
  EXPECT_EQ(stub_->parents_[0].backend, "lee");
  EXPECT_FALSE(stub_->parents_[0].has_project);
  EXPECT_EQ(stub_->requests_[0], "backends/lee");
  EXPECT_EQ(SeriesCount(registry_), 2u);  // none for no-expiry
  EXPECT_EQ(Value(registry_, kExpiry, Labels("lee", "", "id-1")),
            Seconds(Day(10)));
  EXPECT_EQ(Value(registry_, kExpiry, Labels("lee", "", "id-2")),
            Seconds(Day(20)));
  EXPECT_EQ(Value(registry_, "certbridge_certificates", {{"backend", "lee"}}),
            3);
  EXPECT_EQ(
      Value(registry_, "certbridge_inventory_last_success_timestamp_seconds",
            {{"backend", "lee"}}),
      Seconds(Day(3)));
}

TEST_F(InventoryPollerTest, EchoedTokenNeverBecomesALabel) {
  InventoryConfig config;
  config.projects = {"Payments"};
  auto poller = Make("apinizer", config);
  stub_->secret_ = "bearer-token-4c1e9a55";
  stub_->answer_ = [](const ParentName&) {
    v1::Certificate c;
    c.set_name(
        "backends/api/projects/Payments/certificates/"
        "leak-bearer-token-4c1e9a55");
    auto* d = c.mutable_apinizer()->add_deployments();
    d->set_environment("prod bearer-token-4c1e9a55");
    SetTime(d->mutable_end_time(), Day(9));
    return CertificateList{{c}};
  };
  ASSERT_TRUE(poller->SweepOnce().ok());
  EXPECT_EQ(SeriesCount(registry_), 1u);
  std::ostringstream text;
  prometheus::TextSerializer().Serialize(text, registry_.Collect());
  EXPECT_THAT(text.str(), Not(HasSubstr("bearer-token-4c1e9a55")));
  EXPECT_THAT(text.str(), HasSubstr("leak-[REDACTED]"));
}

TEST_F(InventoryPollerTest, SweepHasItsOwnContext) {
  InventoryConfig config;
  config.interval = absl::Minutes(10);
  auto poller = Make("leegality", config);
  clock_.now_ = Day(1);
  ASSERT_TRUE(poller->SweepOnce().ok());
  ASSERT_EQ(stub_->calls(), 1);
  // min(interval, 60 s).
  EXPECT_EQ(stub_->contexts_[0]->deadline(), Day(1) + absl::Seconds(60));
  EXPECT_TRUE(
      absl::StartsWith(stub_->contexts_[0]->request_id(), "inventory-"));
}

TEST_F(InventoryPollerTest, DeadlineIsTheIntervalWhenShorter) {
  InventoryConfig config;
  config.interval = absl::Seconds(20);
  auto poller = Make("leegality", config);
  clock_.now_ = Day(1);
  ASSERT_TRUE(poller->SweepOnce().ok());
  EXPECT_EQ(stub_->contexts_[0]->deadline(), Day(1) + absl::Seconds(20));
  ASSERT_TRUE(poller->SweepOnce().ok());
  EXPECT_NE(stub_->contexts_[0]->request_id(),
            stub_->contexts_[1]->request_id());
}

TEST_F(InventoryPollerTest, ApinizerSweepsEachProjectPerEnvironment) {
  InventoryConfig config;
  config.projects = {"Payments", "My Project"};
  auto poller = Make("apinizer", config);
  stub_->answer_ = [](const ParentName& parent) {
    if (parent.project == "Payments") {
      return CertificateList{
          {Apinizer("Payments", "root", {{"prod", Day(5)}, {"uat", Day(6)}})}};
    }
    return CertificateList{
        {Apinizer("My%20Project", "other", {{"prod", Day(7)}}),
         Apinizer("My%20Project", "undeployed", {})}};
  };
  ASSERT_TRUE(poller->SweepOnce().ok());
  ASSERT_EQ(stub_->calls(), 2);
  EXPECT_TRUE(stub_->parents_[0].has_project);
  EXPECT_EQ(stub_->parents_[0].project, "Payments");
  EXPECT_EQ(stub_->requests_[1], "backends/api/projects/My%20Project");
  EXPECT_EQ(SeriesCount(registry_), 3u);
  EXPECT_EQ(
      Value(registry_, kExpiry, Labels("api", "Payments", "root", "prod")),
      Seconds(Day(5)));
  EXPECT_EQ(Value(registry_, kExpiry, Labels("api", "Payments", "root", "uat")),
            Seconds(Day(6)));
  EXPECT_EQ(
      Value(registry_, kExpiry, Labels("api", "My Project", "other", "prod")),
      Seconds(Day(7)));
  EXPECT_EQ(Value(registry_, "certbridge_certificates", {{"backend", "api"}}),
            3);
}

TEST_F(InventoryPollerTest, VanishedCertificatesLoseTheirSeries) {
  auto poller = Make("leegality", {});
  stub_->answer_ = [](const ParentName&) {
    return CertificateList{{Leegality("a", Day(10)), Leegality("b", Day(20))}};
  };
  ASSERT_TRUE(poller->SweepOnce().ok());
  EXPECT_EQ(SeriesCount(registry_), 2u);
  stub_->answer_ = [](const ParentName&) {
    return CertificateList{{Leegality("b", Day(20))}};
  };
  ASSERT_TRUE(poller->SweepOnce().ok());
  EXPECT_EQ(SeriesCount(registry_), 1u);
  EXPECT_EQ(Value(registry_, kExpiry, Labels("lee", "", "a")), std::nullopt);
}

TEST_F(InventoryPollerTest, CapLeavesOutTheLatestAndSaysHowMany) {
  InventoryConfig config;
  config.max_series = 2;
  auto poller = Make("leegality", config);
  stub_->answer_ = [](const ParentName&) {
    return CertificateList{{Leegality("late", Day(90)),
                            Leegality("soon", Day(1)),
                            Leegality("mid", Day(30))}};
  };
  ASSERT_TRUE(poller->SweepOnce().ok());
  EXPECT_EQ(SeriesCount(registry_), 2u);
  EXPECT_EQ(Value(registry_, kExpiry, Labels("lee", "", "late")), std::nullopt);
  EXPECT_EQ(Value(registry_, "certbridge_inventory_series_dropped",
                  {{"backend", "lee"}}),
            1);
}

TEST_F(InventoryPollerTest, FailureKeepsSeriesAndCountsTheReason) {
  InventoryConfig config;
  config.projects = {"A", "B"};
  auto poller = Make("apinizer", config);
  stub_->answer_ = [](const ParentName& parent) {
    return CertificateList{
        {Apinizer(parent.project, "c-" + parent.project, {{"prod", Day(5)}})}};
  };
  clock_.now_ = Day(1);
  ASSERT_TRUE(poller->SweepOnce().ok());
  ASSERT_EQ(SeriesCount(registry_), 2u);
  // One project failing fails the sweep: B's series are not taken as gone.
  stub_->answer_ =
      [](const ParentName& parent) -> absl::StatusOr<CertificateList> {
    if (parent.project == "B") {
      return MakeError(absl::StatusCode::kUnavailable, "down",
                       reason::kBackendUnavailable);
    }
    return CertificateList{};
  };
  clock_.now_ = Day(2);
  absl::Status s = poller->SweepOnce();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(SeriesCount(registry_), 2u);
  EXPECT_EQ(Value(registry_, kExpiry, Labels("api", "A", "c-A", "prod")),
            Seconds(Day(5)));
  EXPECT_EQ(Value(registry_, "certbridge_inventory_errors_total",
                  {{"backend", "api"}, {"reason", "BACKEND_UNAVAILABLE"}}),
            1);
  EXPECT_EQ(
      Value(registry_, "certbridge_inventory_last_success_timestamp_seconds",
            {{"backend", "api"}}),
      Seconds(Day(1)));
  EXPECT_EQ(Value(registry_, "certbridge_certificates", {{"backend", "api"}}),
            2);
  // A status without an ErrorInfo is counted under its code's reason.
  stub_->answer_ = [](const ParentName&) -> absl::StatusOr<CertificateList> {
    return absl::InternalError("boom");
  };
  EXPECT_FALSE(poller->SweepOnce().ok());
  EXPECT_EQ(Value(registry_, "certbridge_inventory_errors_total",
                  {{"backend", "api"},
                   {"reason", DefaultReason(absl::StatusCode::kInternal)}}),
            1);
}

TEST_F(InventoryPollerTest, NeverTwoSweepsInFlight) {
  auto poller = Make("leegality", {});
  stub_->hang_ = true;
  stub_->answer_ = [](const ParentName&) {
    return CertificateList{{Leegality("a", Day(10))}};
  };
  absl::Status first;
  std::thread t([&] { first = poller->SweepOnce(); });
  ASSERT_TRUE(stub_->WaitForCalls(1));
  absl::Status second = poller->SweepOnce();
  EXPECT_EQ(second.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(stub_->calls(), 1);
  stub_->Release();
  t.join();
  EXPECT_TRUE(first.ok()) << first;
  EXPECT_EQ(SeriesCount(registry_), 1u);
  // A refused overlap is not a failure of the backend.
  EXPECT_EQ(Value(registry_, "certbridge_inventory_errors_total",
                  {{"backend", "lee"}, {"reason", "FAILED_PRECONDITION"}}),
            std::nullopt);
}

TEST_F(InventoryPollerTest, BackgroundSweepsRepeatOneAtATime) {
  InventoryConfig config;
  config.interval = absl::Milliseconds(20);
  InventoryPollerOptions options;
  options.first_delay = absl::ZeroDuration();
  auto poller = Make("leegality", config, options);
  // Completed from another thread, late: a scheduler that did not wait for
  // the end of a sweep would start the next one meanwhile.
  stub_->hang_ = true;
  std::atomic<bool> done{false};
  std::thread releaser([&] {
    while (!done) {
      absl::SleepFor(absl::Milliseconds(50));
      stub_->Release();
    }
  });
  poller->Start();
  EXPECT_TRUE(stub_->WaitForCalls(4));
  poller->Stop();
  done = true;
  releaser.join();
  absl::MutexLock lock(&stub_->mu_);
  EXPECT_EQ(stub_->max_in_flight_, 1);
}

TEST_F(InventoryPollerTest, StopCancelsAHungSweepPromptly) {
  InventoryPollerOptions options;
  options.first_delay = absl::ZeroDuration();
  auto poller = Make("leegality", {}, options);
  stub_->hang_ = true;
  poller->Start();
  ASSERT_TRUE(stub_->WaitForCalls(1));
  const absl::Time start = absl::Now();
  poller->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_TRUE(stub_->contexts_[0]->cancelled());
  // Shutting down is no backend failure.
  for (const char* reason : {"CANCELLED", "BACKEND_UNAVAILABLE"}) {
    EXPECT_EQ(Value(registry_, "certbridge_inventory_errors_total",
                    {{"backend", "lee"}, {"reason", reason}})
                  .value_or(0),
              0);
  }
  EXPECT_EQ(poller->SweepOnce().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(stub_->calls(), 1);
}

TEST_F(InventoryPollerTest, StopGivesUpOnAStackThatIgnoresCancel) {
  InventoryPollerOptions options;
  options.first_delay = absl::ZeroDuration();
  options.cancel_grace = absl::Milliseconds(100);
  auto poller = Make("leegality", {}, options);
  stub_->hang_ = true;
  stub_->ignore_cancel_ = true;
  poller->Start();
  ASSERT_TRUE(stub_->WaitForCalls(1));
  const absl::Time start = absl::Now();
  poller->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  poller.reset();
  // The late completion touches only state it keeps alive.
  stub_->Release();
}

TEST_F(InventoryPollerTest, StopBeforeTheFirstSweepCallsNothing) {
  InventoryPollerOptions options;
  options.first_delay = absl::Hours(1);
  auto poller = Make("leegality", {}, options);
  poller->Start();
  const absl::Time start = absl::Now();
  poller->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_EQ(stub_->calls(), 0);
}

TEST(JitteredIntervalTest, StaysWithinBoundsAndSpreads) {
  absl::BitGen gen;
  const absl::Duration interval = absl::Minutes(5);
  absl::Duration lo = absl::InfiniteDuration();
  absl::Duration hi = -absl::InfiniteDuration();
  for (int i = 0; i < 2000; ++i) {
    const absl::Duration d = JitteredInterval(interval, 0.1, gen);
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  EXPECT_GE(lo, absl::Seconds(270));
  EXPECT_LE(hi, absl::Seconds(330));
  EXPECT_LT(lo, absl::Seconds(280));
  EXPECT_GT(hi, absl::Seconds(320));
  EXPECT_EQ(JitteredInterval(interval, 0, gen), interval);
}

TEST(CheckInventoryConfigTest, ProjectsMatchTheVendor) {
  InventoryConfig c;
  c.enabled = true;
  absl::Status s =
      CheckInventoryConfig(c, BuiltinVendor("apinizer"), "backends[1]");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("backends[1].inventory.projects"));
  c.projects = {"p"};
  EXPECT_TRUE(
      CheckInventoryConfig(c, BuiltinVendor("apinizer"), "backends[1]").ok());
  s = CheckInventoryConfig(c, BuiltinVendor("leegality"), "backends[0]");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("backends[0].inventory.projects"));
  c.enabled = false;
  EXPECT_TRUE(
      CheckInventoryConfig(c, BuiltinVendor("leegality"), "backends[0]").ok());
}

TEST(InventoryErrorReasonTest, BoundedReasons) {
  EXPECT_EQ(InventoryErrorReason(MakeError(absl::StatusCode::kUnavailable, "x",
                                           reason::kBackendCircuitOpen)),
            "BACKEND_CIRCUIT_OPEN");
  EXPECT_EQ(InventoryErrorReason(
                MakeError(absl::StatusCode::kUnavailable, "x", "not a token!")),
            "OTHER");
  EXPECT_EQ(InventoryErrorReason(absl::DeadlineExceededError("late")),
            DefaultReason(absl::StatusCode::kDeadlineExceeded));
}

}  // namespace
}  // namespace certbridge
