#include "server/inventory/inventory_poller.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/random/distributions.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/common/errors.h"
#include "server/common/log.h"
#include "server/common/redact.h"
#include "server/common/resource_name.h"
#include "server/common/uuid.h"

namespace certbridge {

// One list call of a sweep. Shared with the stack's completion, which may
// arrive after the poller gave up waiting on a stop: the parent and request
// the stack reads live here, not on the sweep's stack frame.
struct InventoryPoller::PendingList {
  std::shared_ptr<CallContext> ctx;
  ParentName parent;
  v1::ListCertificatesRequest request;
  absl::Mutex mu;
  bool done ABSL_GUARDED_BY(mu) = false;
  bool stop ABSL_GUARDED_BY(mu) = false;
  std::optional<absl::StatusOr<CertificateList>> result ABSL_GUARDED_BY(mu);
};

absl::Status CheckInventoryConfig(const InventoryConfig& config,
                                  const Vendor& vendor,
                                  absl::string_view path) {
  if (!config.enabled) return absl::OkStatus();
  const std::string field = absl::StrCat(path, ".inventory.projects");
  if (vendor.names_have_project() && config.projects.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": ", vendor.display_name(),
        " certificates live in projects: list the projects to sweep"));
  }
  if (!vendor.names_have_project() && !config.projects.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", vendor.display_name(),
                     " backends have no projects; remove the key"));
  }
  return absl::OkStatus();
}

absl::Duration JitteredInterval(absl::Duration interval, double jitter,
                                absl::BitGenRef gen) {
  if (jitter <= 0) return interval;
  const double factor =
      absl::Uniform(absl::IntervalClosed, gen, 1.0 - jitter, 1.0 + jitter);
  return interval * factor;
}

std::string InventoryErrorReason(const absl::Status& status) {
  absl::Status with_info = status;
  EnsureErrorInfo(with_info);
  std::optional<ErrorInfo> info = GetErrorInfo(with_info);
  std::string reason = info ? info->reason : "";
  // Reasons are certbridge's own constants; the check only keeps a stray
  // value from becoming an unbounded label.
  const bool token =
      !reason.empty() && reason.size() <= 64 &&
      std::all_of(reason.begin(), reason.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
      });
  return token ? reason : "OTHER";
}

InventoryPoller::InventoryPoller(
    BackendConnection& connection, InventoryConfig config,
    std::unique_ptr<BackendInventoryMetrics> metrics,
    InventoryPollerOptions options)
    : connection_(connection),
      config_(std::move(config)),
      metrics_(std::move(metrics)),
      options_(std::move(options)) {
  metrics_->SetInterval(config_.interval);
}

InventoryPoller::~InventoryPoller() { Stop(); }

void InventoryPoller::Start() {
  absl::MutexLock lock(&mu_);
  if (stopping_ || thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

void InventoryPoller::Stop() {
  std::shared_ptr<PendingList> pending;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    pending = pending_;
  }
  if (pending != nullptr) {
    pending->ctx->Cancel();
    absl::MutexLock lock(&pending->mu);
    pending->stop = true;
  }
  if (thread_.joinable()) thread_.join();
}

void InventoryPoller::Run() {
  absl::Duration delay =
      options_.first_delay <= absl::ZeroDuration()
          ? absl::ZeroDuration()
          : options_.first_delay * absl::Uniform(options_.random(), 0.0, 1.0);
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), delay)) return;
    }
    SweepOnce().IgnoreError();  // counted and logged by the sweep
    delay =
        JitteredInterval(config_.interval, options_.jitter, options_.random());
  }
}

absl::Status InventoryPoller::SweepOnce() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::CancelledError("the inventory is stopping");
    if (in_flight_) {
      return absl::FailedPreconditionError(
          "an inventory sweep of this backend is in flight");
    }
    in_flight_ = true;
  }
  absl::Status status = Sweep();
  absl::MutexLock lock(&mu_);
  in_flight_ = false;
  if (!status.ok() && !stopping_) {
    const std::string reason = InventoryErrorReason(status);
    metrics_->OnSweepFailed(reason);
    LogWarning("inventory sweep failed",
               {{"backend", connection_.name()},
                {"reason", reason},
                {"code", absl::StatusCodeToString(status.code())}});
  }
  return status;
}

namespace {

// A backend that echoes the token it was sent inside a certificate, project
// or environment name must not get it published as a label. Only the
// call's known secrets are looked for: Redact's key-material layer alone
// would also blank legitimate hex-looking names.
std::string WithoutSecrets(std::string text,
                           const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    if (secret.size() >= kMinSecretBytes && absl::StrContains(text, secret)) {
      return Redact(text, secrets);
    }
  }
  return text;
}

}  // namespace

absl::Status InventoryPoller::Sweep() {
  std::vector<ParentName> parents;
  if (config_.projects.empty()) {
    parents.push_back({connection_.name(), false, ""});
  } else {
    for (const std::string& p : config_.projects) {
      parents.push_back({connection_.name(), true, p});
    }
  }
  const Vendor& vendor = connection_.vendor();
  std::vector<ExpirySeries> series;
  std::size_t certificates = 0;
  // All projects or nothing: a partial answer would remove the series of
  // the projects that failed, as if their certificates were gone.
  for (ParentName& parent : parents) {
    const std::string fallback_project = parent.project;
    std::vector<std::string> secrets;
    auto list = ListParent(std::move(parent), &secrets);
    if (!list.ok()) return list.status();
    certificates += list->certificates.size();
    for (const v1::Certificate& cert : list->certificates) {
      std::vector<EnvironmentExpiry> expiries = vendor.ExpiriesOf(cert);
      if (expiries.empty()) continue;
      // The id or name the resource name carries, as the vendor reports
      // it; the raw name only if a vendor ever lists one that does not
      // parse.
      std::string project = fallback_project;
      std::string id = cert.name();
      if (auto name = ParseCertificateName(cert.name(), "name"); name.ok()) {
        id = std::move(name->certificate);
        if (name->has_project) project = std::move(name->project);
      }
      project = WithoutSecrets(std::move(project), secrets);
      id = WithoutSecrets(std::move(id), secrets);
      for (EnvironmentExpiry& e : expiries) {
        series.push_back({project, id,
                          WithoutSecrets(std::move(e.environment), secrets),
                          e.expire_time});
      }
    }
  }
  metrics_->OnSweepSucceeded(series, certificates,
                             static_cast<std::size_t>(config_.max_series),
                             options_.clock->Now());
  return absl::OkStatus();
}

absl::StatusOr<CertificateList> InventoryPoller::ListParent(
    ParentName parent, std::vector<std::string>* secrets) {
  const absl::Duration budget =
      std::min(config_.interval, options_.max_call_time);
  auto pending = std::make_shared<PendingList>();
  pending->ctx = std::make_shared<CallContext>(
      options_.clock->Now() + budget, absl::StrCat("inventory-", NewUuidV4()));
  pending->parent = std::move(parent);
  pending->request.set_parent(FormatParentName(pending->parent));
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::CancelledError("the inventory is stopping");
    pending_ = pending;
  }
  connection_.ListCertificates(
      pending->ctx, pending->parent, pending->request,
      [pending](absl::StatusOr<CertificateList> result) {
        absl::MutexLock lock(&pending->mu);
        pending->result = std::move(result);
        pending->done = true;
      });
  absl::StatusOr<CertificateList> out =
      absl::CancelledError("the inventory is stopping");
  {
    absl::MutexLock lock(&pending->mu);
    pending->mu.Await(absl::Condition(
        +[](PendingList* p) { return p->done || p->stop; }, pending.get()));
    // Cancelled, the stack ends the call at once; a stack that does not is
    // left behind after the grace rather than holding up shutdown.
    if (!pending->done) {
      pending->mu.AwaitWithTimeout(absl::Condition(&pending->done),
                                   options_.cancel_grace);
    }
    if (pending->done) out = *std::move(pending->result);
  }
  *secrets = pending->ctx->secrets();
  absl::MutexLock lock(&mu_);
  if (pending_ == pending) pending_.reset();
  return out;
}

}  // namespace certbridge
