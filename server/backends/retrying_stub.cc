#include "server/backends/retrying_stub.h"

#include <functional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/errors.h"
#include "server/common/failure.h"
#include "server/resilience/retry_policy.h"

namespace certbridge {
namespace {

// A call cut short by the caller after its request may have left: the
// backend may still have acted on it.
bool CutShort(const absl::Status& status) {
  return status.code() == absl::StatusCode::kCancelled ||
         status.code() == absl::StatusCode::kDeadlineExceeded;
}

bool IsCircuitOpen(const absl::Status& status) {
  auto info = GetErrorInfo(status);
  return info && info->reason == reason::kBackendCircuitOpen;
}

}  // namespace

/// One call's attempts. Lives (shared) until the final callback; every step
/// runs on the HTTP engine's thread or the caller's.
template <typename T>
class RetryLoop : public std::enable_shared_from_this<RetryLoop<T>> {
 public:
  /// Gets the final error when an attempt's outcome is unknown; returns
  /// true if it took over completing the call.
  using Recover = std::function<bool(const absl::Status&, Done<T>&)>;

  RetryLoop(RetryingStub& stub, std::shared_ptr<CallContext> ctx, Operation op,
            std::function<void(Done<T>)> attempt, Done<T> done, Recover recover)
      : s_(stub),
        ctx_(std::move(ctx)),
        op_(op),
        attempt_(std::move(attempt)),
        done_(std::move(done)),
        recover_(std::move(recover)),
        retry_(stub.retry_->clone()),
        backoff_(stub.backoff_->clone()) {}

  void Attempt() {
    auto self = this->shared_from_this();
    attempt_([self](absl::StatusOr<T> result) {
      self->OnResult(std::move(result));
    });
  }

 private:
  void OnResult(absl::StatusOr<T> result) {
    const absl::Status status = result.status();
    if (result.ok()) {
      s_.budget_.OnSuccess();
      Finish(std::move(result));
      return;
    }
    if (IsCircuitOpen(status) && !last_error_.ok()) {
      // Mid-retry, the backend's own last error says more than "open".
      FinishWithLastError();
      return;
    }
    const FailureTraits traits = ClassifyFailure(status);
    if (traits.retry_any_method || traits.retry_idempotent) {
      s_.budget_.OnFailure();
    }
    if (traits.outcome_unknown ||
        (op_ == Operation::kCreate && CutShort(status))) {
      ctx_->MarkOutcomeUnknown();
    }
    last_error_ = status;
    const bool may_retry = retry_->OnFailure(status, op_);
    if (!may_retry || ctx_->cancelled()) {
      FinishWithLastError();
      return;
    }
    if (!s_.budget_.AllowRetry()) {
      s_.observer_->OnRetryThrottled();
      FinishWithLastError();
      return;
    }
    const absl::Duration delay = backoff_->OnCompletion(GetRetryDelay(status));
    // The deadline is the caller's wall-clock time (gRPC's), so it is
    // compared with the wall clock, not the injected one.
    if (absl::Now() + delay >= ctx_->deadline()) {
      // Waiting would outlive the caller: say why now, not at the deadline.
      FinishWithLastError();
      return;
    }
    const std::string reason = GetErrorInfo(status)->reason;
    BackendObserver::RetryEvent event;
    event.operation = op_;
    event.reason = reason;
    event.delay = delay;
    event.attempts = ctx_->attempts();
    event.request_id = ctx_->request_id();
    event.trace_id = ctx_->trace().trace_id();
    s_.observer_->OnRetry(event);
    auto self = this->shared_from_this();
    ctx_->Sleep(s_.transport_, delay, [self](absl::Status slept) {
      if (!slept.ok()) {
        self->Finish(MakeError(absl::StatusCode::kCancelled,
                               "the call was cancelled", reason::kCancelled));
        return;
      }
      self->Attempt();
    });
  }

  void FinishWithLastError() {
    if (ctx_->outcome_unknown() && recover_) {
      // Hand the caller's completion to the recovery; Finish still runs.
      auto self = this->shared_from_this();
      Done<T> done = [self](absl::StatusOr<T> r) {
        self->Finish(std::move(r));
      };
      if (recover_(last_error_, done)) return;
    }
    Finish(last_error_);
  }

  void Finish(absl::StatusOr<T> result) {
    if (!result.ok()) {
      absl::Status status = result.status();
      SetErrorMetadata(status, metadata::kBackend, s_.backend_);
      SetErrorMetadata(status, metadata::kAttempts,
                       absl::StrCat(ctx_->attempts()));
      result = std::move(status);
    }
    if (done_) {
      Done<T> done = std::move(done_);
      done(std::move(result));
    }
  }

  RetryingStub& s_;
  const std::shared_ptr<CallContext> ctx_;
  const Operation op_;
  const std::function<void(Done<T>)> attempt_;
  Done<T> done_;
  const Recover recover_;
  const std::unique_ptr<RetryPolicy> retry_;
  const std::unique_ptr<BackoffPolicy> backoff_;
  absl::Status last_error_;
};

RetryingStub::RetryingStub(std::string backend,
                           std::unique_ptr<BackendStub> inner,
                           std::unique_ptr<RetryPolicy> retry,
                           std::unique_ptr<BackoffPolicy> backoff,
                           RetryBudgetConfig budget, HttpTransport& transport,
                           std::shared_ptr<BackendObserver> observer)
    : backend_(std::move(backend)),
      inner_(std::move(inner)),
      retry_(std::move(retry)),
      backoff_(std::move(backoff)),
      budget_(budget),
      transport_(transport),
      observer_(std::move(observer)) {}

void RetryingStub::CreateCertificate(
    std::shared_ptr<CallContext> ctx, const ParentName& parent,
    const v1::CreateCertificateRequest& request, Done<v1::Certificate> done) {
  BackendStub* inner = inner_.get();
  // "Already exists" after an attempt that may have created it: if what
  // exists is what was asked for, the create succeeded.
  RetryLoop<v1::Certificate>::Recover recover = [inner, ctx, &parent, &request](
                                                    const absl::Status& error,
                                                    Done<v1::Certificate>& d) {
    if (error.code() != absl::StatusCode::kAlreadyExists) return false;
    inner->RecoverCreate(ctx, parent, request, error, std::move(d));
    return true;
  };
  std::make_shared<RetryLoop<v1::Certificate>>(
      *this, ctx, Operation::kCreate,
      [inner, ctx, &parent, &request](Done<v1::Certificate> d) {
        inner->CreateCertificate(ctx, parent, request, std::move(d));
      },
      std::move(done), std::move(recover))
      ->Attempt();
}

void RetryingStub::GetCertificate(std::shared_ptr<CallContext> ctx,
                                  const CertificateName& name,
                                  const v1::GetCertificateRequest& request,
                                  Done<v1::Certificate> done) {
  BackendStub* inner = inner_.get();
  std::make_shared<RetryLoop<v1::Certificate>>(
      *this, ctx, Operation::kGet,
      [inner, ctx, &name, &request](Done<v1::Certificate> d) {
        inner->GetCertificate(ctx, name, request, std::move(d));
      },
      std::move(done), nullptr)
      ->Attempt();
}

void RetryingStub::UpdateCertificate(
    std::shared_ptr<CallContext> ctx, const CertificateName& name,
    const v1::UpdateCertificateRequest& request, Done<v1::Certificate> done) {
  BackendStub* inner = inner_.get();
  std::make_shared<RetryLoop<v1::Certificate>>(
      *this, ctx, Operation::kUpdate,
      [inner, ctx, &name, &request](Done<v1::Certificate> d) {
        inner->UpdateCertificate(ctx, name, request, std::move(d));
      },
      std::move(done), nullptr)
      ->Attempt();
}

void RetryingStub::DeleteCertificate(
    std::shared_ptr<CallContext> ctx, const CertificateName& name,
    const v1::DeleteCertificateRequest& request,
    Done<v1::DeleteCertificateResponse> done) {
  BackendStub* inner = inner_.get();
  // Not found after an attempt that may have deleted it: deleted.
  RetryLoop<v1::DeleteCertificateResponse>::Recover recover =
      [resource = FormatCertificateName(name)](
          const absl::Status& error, Done<v1::DeleteCertificateResponse>& d) {
        if (error.code() != absl::StatusCode::kNotFound) return false;
        v1::DeleteCertificateResponse response;
        response.set_name(resource);
        d(std::move(response));
        return true;
      };
  std::make_shared<RetryLoop<v1::DeleteCertificateResponse>>(
      *this, ctx, Operation::kDelete,
      [inner, ctx, &name, &request](Done<v1::DeleteCertificateResponse> d) {
        inner->DeleteCertificate(ctx, name, request, std::move(d));
      },
      std::move(done), std::move(recover))
      ->Attempt();
}

void RetryingStub::ListCertificates(std::shared_ptr<CallContext> ctx,
                                    const ParentName& parent,
                                    const v1::ListCertificatesRequest& request,
                                    Done<CertificateList> done) {
  BackendStub* inner = inner_.get();
  // A read: retried like Get, nothing to recover.
  std::make_shared<RetryLoop<CertificateList>>(
      *this, ctx, Operation::kList,
      [inner, ctx, &parent, &request](Done<CertificateList> d) {
        inner->ListCertificates(ctx, parent, request, std::move(d));
      },
      std::move(done), nullptr)
      ->Attempt();
}

}  // namespace certbridge
