#include "server/backends/breaker_stub.h"

#include <utility>

#include "server/common/failure.h"
#include "server/resilience/retry_policy.h"

namespace certbridge {

CircuitBreaker::Outcome BreakerOutcome(const absl::Status& status) {
  if (status.ok()) return CircuitBreaker::Outcome::kSuccess;
  if (ClassifyFailure(status).breaker_failure) {
    return CircuitBreaker::Outcome::kFailure;
  }
  // Cancellation, the deadline and our own refusals say nothing about the
  // backend; any other failure with facts is the backend answering.
  if (!GetFailureFacts(status)) return CircuitBreaker::Outcome::kNeutral;
  return CircuitBreaker::Outcome::kSuccess;
}

BreakerStub::BreakerStub(std::unique_ptr<BackendStub> inner,
                         std::unique_ptr<CircuitBreaker> breaker,
                         std::shared_ptr<BackendObserver> observer)
    : inner_(std::move(inner)),
      breaker_(std::move(breaker)),
      observer_(std::move(observer)) {
  ReportState();
}

void BreakerStub::ReportState() const {
  if (breaker_ == nullptr) return;
  switch (breaker_->state()) {
    case CircuitBreaker::State::kClosed:
      observer_->OnCircuitState(0);
      break;
    case CircuitBreaker::State::kHalfOpen:
      observer_->OnCircuitState(1);
      break;
    case CircuitBreaker::State::kOpen:
      observer_->OnCircuitState(2);
      break;
  }
}

template <typename T, typename Attempt>
void BreakerStub::Guard(CallContext& ctx, Attempt attempt, Done<T> done) {
  if (breaker_ != nullptr) {
    absl::Status open = breaker_->Allow();
    ReportState();
    if (!open.ok()) {
      observer_->OnRejected("circuit_open");
      done(std::move(open));
      return;
    }
  }
  ctx.AddAttempt();
  if (breaker_ == nullptr) {
    attempt(std::move(done));
    return;
  }
  attempt([this, done = std::move(done)](absl::StatusOr<T> r) mutable {
    breaker_->Record(BreakerOutcome(r.status()));
    ReportState();
    done(std::move(r));
  });
}

void BreakerStub::CreateCertificate(std::shared_ptr<CallContext> ctx,
                                    const ParentName& parent,
                                    const v1::CreateCertificateRequest& request,
                                    Done<v1::Certificate> done) {
  Guard<v1::Certificate>(
      *ctx,
      [&, ctx](Done<v1::Certificate> d) {
        inner_->CreateCertificate(ctx, parent, request, std::move(d));
      },
      std::move(done));
}

void BreakerStub::GetCertificate(std::shared_ptr<CallContext> ctx,
                                 const CertificateName& name,
                                 const v1::GetCertificateRequest& request,
                                 Done<v1::Certificate> done) {
  Guard<v1::Certificate>(
      *ctx,
      [&, ctx](Done<v1::Certificate> d) {
        inner_->GetCertificate(ctx, name, request, std::move(d));
      },
      std::move(done));
}

void BreakerStub::UpdateCertificate(std::shared_ptr<CallContext> ctx,
                                    const CertificateName& name,
                                    const v1::UpdateCertificateRequest& request,
                                    Done<v1::Certificate> done) {
  Guard<v1::Certificate>(
      *ctx,
      [&, ctx](Done<v1::Certificate> d) {
        inner_->UpdateCertificate(ctx, name, request, std::move(d));
      },
      std::move(done));
}

void BreakerStub::DeleteCertificate(std::shared_ptr<CallContext> ctx,
                                    const CertificateName& name,
                                    const v1::DeleteCertificateRequest& request,
                                    Done<v1::DeleteCertificateResponse> done) {
  Guard<v1::DeleteCertificateResponse>(
      *ctx,
      [&, ctx](Done<v1::DeleteCertificateResponse> d) {
        inner_->DeleteCertificate(ctx, name, request, std::move(d));
      },
      std::move(done));
}

void BreakerStub::ListCertificates(std::shared_ptr<CallContext> ctx,
                                   const ParentName& parent,
                                   const v1::ListCertificatesRequest& request,
                                   Done<CertificateList> done) {
  Guard<CertificateList>(
      *ctx,
      [&, ctx](Done<CertificateList> d) {
        inner_->ListCertificates(ctx, parent, request, std::move(d));
      },
      std::move(done));
}

void BreakerStub::RecoverCreate(std::shared_ptr<CallContext> ctx,
                                const ParentName& parent,
                                const v1::CreateCertificateRequest& request,
                                absl::Status conflict,
                                Done<v1::Certificate> done) {
  inner_->RecoverCreate(std::move(ctx), parent, request, std::move(conflict),
                        std::move(done));
}

}  // namespace certbridge
