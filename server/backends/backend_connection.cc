#include "server/backends/backend_connection.h"

#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "server/common/errors.h"
#include "server/common/failure.h"
#include "server/common/log.h"
#include "server/resilience/retry_policy.h"

namespace certbridge {
namespace {

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

// A call cut short by the caller after its request may have left: the
// backend may still have acted on it.
bool CutShort(const absl::Status& status) {
  return status.code() == absl::StatusCode::kCancelled ||
         status.code() == absl::StatusCode::kDeadlineExceeded;
}

absl::BitGen& Rng() {
  thread_local absl::BitGen gen;
  return gen;
}

}  // namespace

/// One RPC's attempts against one backend. Lives (shared) until the final
/// callback; every step runs on the HTTP engine's thread or the caller's.
template <typename T>
class RetryingCall : public std::enable_shared_from_this<RetryingCall<T>> {
 public:
  using Final = absl::AnyInvocable<void(absl::StatusOr<T>, bool)>;
  /// Gets the final error when an earlier attempt's outcome is unknown;
  /// returns true if it took over completing the call.
  using Recover = std::function<bool(const absl::Status&, Done<T>&)>;

  RetryingCall(BackendConnection& connection, std::shared_ptr<CallContext> ctx,
               Operation op, std::function<void(Done<T>)> attempt, Final done,
               bool outcome_unknown, Recover recover)
      : c_(connection),
        ctx_(std::move(ctx)),
        op_(op),
        attempt_(std::move(attempt)),
        done_(std::move(done)),
        outcome_unknown_(outcome_unknown),
        recover_(std::move(recover)) {}

  void Attempt() {
    if (c_.breaker_ != nullptr) {
      absl::Status open = c_.breaker_->Allow();
      c_.ReportCircuitState();
      if (!open.ok()) {
        c_.observer_->OnRejected("circuit_open");
        // Mid-retry, the backend's own last error says more than "open".
        Finish(last_error_.ok() ? std::move(open) : last_error_);
        return;
      }
    }
    ctx_->AddAttempt();
    auto self = this->shared_from_this();
    attempt_([self](absl::StatusOr<T> result) {
      self->OnResult(std::move(result));
    });
  }

 private:
  void OnResult(absl::StatusOr<T> result) {
    const absl::Status status = result.status();
    if (c_.breaker_ != nullptr) {
      c_.breaker_->Record(BreakerOutcome(status));
      c_.ReportCircuitState();
    }
    if (result.ok()) {
      c_.budget_.OnSuccess();
      Finish(std::move(result));
      return;
    }
    const FailureTraits traits = ClassifyFailure(status);
    if (traits.retry_any_method || traits.retry_idempotent) {
      c_.budget_.OnFailure();
    }
    outcome_unknown_ = outcome_unknown_ || traits.outcome_unknown ||
                       (op_ == Operation::kCreate && CutShort(status));
    last_error_ = status;
    if (!IsRetryable(status, op_) || ctx_->cancelled() ||
        ctx_->attempts() >= c_.retry_.max_attempts) {
      FinishWithLastError();
      return;
    }
    if (!c_.budget_.AllowRetry()) {
      c_.observer_->OnRetryThrottled();
      FinishWithLastError();
      return;
    }
    const absl::Duration delay =
        BackoffDelay(c_.retry_, ctx_->attempts(), GetRetryDelay(status), Rng());
    if (absl::Now() + delay >= ctx_->deadline()) {
      // Waiting would outlive the caller: say why now, not at the deadline.
      FinishWithLastError();
      return;
    }
    c_.observer_->OnRetry(op_, GetErrorInfo(status)->reason);
    if (Logger::Get().Enabled(LogLevel::kDebug)) {
      LogDebug("retry scheduled",
               {{"backend", c_.name_},
                {"operation", std::string(OperationName(op_))},
                {"reason", GetErrorInfo(status)->reason},
                {"delay_us", absl::ToInt64Microseconds(delay)},
                {"attempts", ctx_->attempts()},
                {"request_id", ctx_->request_id()}});
    }
    auto self = this->shared_from_this();
    ctx_->Sleep(*c_.transport_, delay, [self](absl::Status slept) {
      if (!slept.ok()) {
        self->Finish(MakeError(absl::StatusCode::kCancelled,
                               "the call was cancelled", reason::kCancelled));
        return;
      }
      self->Attempt();
    });
  }

  void FinishWithLastError() {
    if (outcome_unknown_ && recover_) {
      // Hand the caller's completion to the recovery; Annotate still runs.
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
      SetErrorMetadata(status, metadata::kBackend, c_.name_);
      SetErrorMetadata(status, metadata::kAttempts,
                       absl::StrCat(ctx_->attempts()));
      result = std::move(status);
    }
    if (done_) {
      Final done = std::move(done_);
      done(std::move(result), outcome_unknown_);
    }
  }

  BackendConnection& c_;
  const std::shared_ptr<CallContext> ctx_;
  const Operation op_;
  const std::function<void(Done<T>)> attempt_;
  Final done_;
  bool outcome_unknown_;
  const Recover recover_;
  absl::Status last_error_;
};

BackendConnection::BackendConnection(const BackendConfig& config,
                                     std::unique_ptr<BackendStub> stub,
                                     HttpTransport& transport,
                                     IdempotencyStore* idempotency,
                                     std::shared_ptr<BackendObserver> observer,
                                     const Clock& clock)
    : name_(config.name),
      kind_(config.kind),
      retry_(config.retry),
      stub_(std::move(stub)),
      transport_(&transport),
      idempotency_(idempotency),
      breaker_(config.circuit_breaker.enabled
                   ? std::make_unique<CircuitBreaker>(
                         config.name, config.circuit_breaker, clock)
                   : nullptr),
      budget_(config.retry_budget),
      limiter_(config.max_concurrent_calls),
      observer_(observer != nullptr
                    ? std::move(observer)
                    : std::shared_ptr<BackendObserver>(
                          &BackendObserver::Noop(), [](BackendObserver*) {})) {
  ReportCircuitState();
}

BackendConnection::BackendConnection(std::string name, BackendKind kind,
                                     std::unique_ptr<BackendStub> stub)
    : name_(std::move(name)),
      kind_(kind),
      retry_(RetryConfig{1}),
      stub_(std::move(stub)),
      transport_(nullptr),
      idempotency_(nullptr),
      budget_(RetryBudgetConfig{}),
      limiter_(1 << 30),
      observer_(&BackendObserver::Noop(), [](BackendObserver*) {}) {}

bool BackendConnection::Admit() {
  if (!limiter_.TryAcquire()) {
    observer_->OnRejected("overloaded");
    return false;
  }
  observer_->OnInflight(+1);
  return true;
}

void BackendConnection::Leave() {
  limiter_.Release();
  observer_->OnInflight(-1);
}

void BackendConnection::ReportCircuitState() {
  if (breaker_ == nullptr) return;
  const CircuitBreaker::State state = breaker_->state();
  int value = 0;
  switch (state) {
    case CircuitBreaker::State::kClosed:
      value = 0;
      break;
    case CircuitBreaker::State::kHalfOpen:
      value = 1;
      break;
    case CircuitBreaker::State::kOpen:
      value = 2;
      break;
  }
  observer_->OnCircuitState(value);
  const int previous = reported_state_.exchange(value);
  if (previous == value || previous == -1) return;
  // Once per transition: an operator reads the story of an outage here.
  const nlohmann::json fields = {{"backend", name_},
                                 {"state", CircuitBreaker::StateName(state)}};
  if (state == CircuitBreaker::State::kOpen) {
    LogWarning("circuit breaker opened: failing calls fast", fields);
  } else {
    LogInfo(state == CircuitBreaker::State::kClosed
                ? "circuit breaker closed"
                : "circuit breaker half-open: letting a probe through",
            fields);
  }
}

BackendConnection::~BackendConnection() = default;

template <typename T>
void BackendConnection::Run(std::shared_ptr<CallContext> ctx, Operation op,
                            std::function<void(Done<T>)> attempt,
                            Done<T> done) {
  auto call = std::make_shared<RetryingCall<T>>(
      *this, std::move(ctx), op, std::move(attempt),
      [done = std::move(done)](absl::StatusOr<T> r, bool) mutable {
        done(std::move(r));
      },
      /*outcome_unknown=*/false, nullptr);
  call->Attempt();
}

namespace {

absl::Status Overloaded(const std::string& backend, int limit) {
  return MakeError(absl::StatusCode::kResourceExhausted,
                   absl::StrCat("backend ", backend, ": ", limit,
                                " calls already in flight; try again later"),
                   reason::kBackendOverloaded, {{metadata::kBackend, backend}});
}

}  // namespace

// Gives the concurrency slot back when the call completes.
template <typename T>
Done<T> Releasing(BackendConnection& connection, Done<T> done) {
  return [&connection, done = std::move(done)](absl::StatusOr<T> r) mutable {
    connection.Leave();
    done(std::move(r));
  };
}

void BackendConnection::CreateCertificate(
    std::shared_ptr<CallContext> ctx, const ParentName& parent,
    const v1::CreateCertificateRequest& request, Done<v1::Certificate> done) {
  std::string key;
  bool previous_unknown = false;
  if (idempotency_ != nullptr && !request.request_id().empty()) {
    // The parsed parent, so that two spellings of one parent share ids.
    key = absl::StrCat(FormatParentName(parent), "\n", request.request_id());
    const CallContext::Ticket ticket = ctx->NextTicket();
    auto admission = idempotency_->Begin(
        key, IdempotencyStore::FingerprintOf(request), done);
    switch (admission.kind) {
      case IdempotencyStore::Admission::kReplayed:
        done(std::move(admission.result));
        return;
      case IdempotencyStore::Admission::kJoined:
        // Waits for the first call; a cancelled repeat stops waiting.
        ctx->OnCancel(ticket,
                      [store = idempotency_, key, waiter = admission.waiter] {
                        store->Abandon(key, waiter);
                      });
        return;
      case IdempotencyStore::Admission::kMismatch:
        done(MakeValidationError(
            reason::kInvalidArgument, "request_id",
            "was already used for a different CreateCertificate request"));
        return;
      case IdempotencyStore::Admission::kProceed:
        previous_unknown = admission.previous_outcome_unknown;
        break;
    }
  }
  if (!Admit()) {
    absl::Status s = Overloaded(name_, limiter_.limit());
    if (!key.empty()) {
      idempotency_->Finish(key, s, IdempotencyStore::Outcome::kNotSent);
    }
    done(std::move(s));
    return;
  }
  done = Releasing(*this, std::move(done));
  BackendStub* stub = stub_.get();
  auto final_done = [this, key, done = std::move(done)](
                        absl::StatusOr<v1::Certificate> r,
                        bool outcome_unknown) mutable {
    if (!key.empty()) {
      // Only the backend's answers are worth replaying; a failure that
      // never reached it (open circuit, TLS, token endpoint) leaves the id
      // retryable, with any earlier "outcome unknown" kept.
      IdempotencyStore::Outcome outcome = IdempotencyStore::Outcome::kNotSent;
      if (r.ok() || IsBackendAnswer(r.status())) {
        outcome = IdempotencyStore::Outcome::kAnswered;
      } else if (outcome_unknown) {
        outcome = IdempotencyStore::Outcome::kUnknown;
      }
      idempotency_->Finish(key, r, outcome);
    }
    done(std::move(r));
  };
  // "Already exists" after an attempt that may have created it: if what
  // exists is what was asked for, the create succeeded.
  RetryingCall<v1::Certificate>::Recover recover =
      [stub, ctx, &parent, &request](const absl::Status& error,
                                     Done<v1::Certificate>& d) {
        if (error.code() != absl::StatusCode::kAlreadyExists) return false;
        stub->RecoverCreate(ctx, parent, request, error, std::move(d));
        return true;
      };
  auto call = std::make_shared<RetryingCall<v1::Certificate>>(
      *this, ctx, Operation::kCreate,
      [stub, ctx, &parent, &request](Done<v1::Certificate> d) {
        stub->CreateCertificate(ctx, parent, request, std::move(d));
      },
      std::move(final_done), previous_unknown, std::move(recover));
  call->Attempt();
}

void BackendConnection::GetCertificate(std::shared_ptr<CallContext> ctx,
                                       const CertificateName& name,
                                       const v1::GetCertificateRequest& request,
                                       Done<v1::Certificate> done) {
  if (!Admit()) {
    done(Overloaded(name_, limiter_.limit()));
    return;
  }
  BackendStub* stub = stub_.get();
  Run<v1::Certificate>(
      ctx, Operation::kGet,
      [stub, ctx, &name, &request](Done<v1::Certificate> d) {
        stub->GetCertificate(ctx, name, request, std::move(d));
      },
      Releasing(*this, std::move(done)));
}

void BackendConnection::UpdateCertificate(
    std::shared_ptr<CallContext> ctx, const CertificateName& name,
    const v1::UpdateCertificateRequest& request, Done<v1::Certificate> done) {
  if (!Admit()) {
    done(Overloaded(name_, limiter_.limit()));
    return;
  }
  BackendStub* stub = stub_.get();
  Run<v1::Certificate>(
      ctx, Operation::kUpdate,
      [stub, ctx, &name, &request](Done<v1::Certificate> d) {
        stub->UpdateCertificate(ctx, name, request, std::move(d));
      },
      Releasing(*this, std::move(done)));
}

void BackendConnection::DeleteCertificate(
    std::shared_ptr<CallContext> ctx, const CertificateName& name,
    const v1::DeleteCertificateRequest& request,
    Done<v1::DeleteCertificateResponse> done) {
  if (!Admit()) {
    done(Overloaded(name_, limiter_.limit()));
    return;
  }
  BackendStub* stub = stub_.get();
  // Not found after an attempt that may have deleted it: deleted.
  RetryingCall<v1::DeleteCertificateResponse>::Recover recover =
      [resource = FormatCertificateName(name)](
          const absl::Status& error, Done<v1::DeleteCertificateResponse>& d) {
        if (error.code() != absl::StatusCode::kNotFound) return false;
        v1::DeleteCertificateResponse response;
        response.set_name(resource);
        d(std::move(response));
        return true;
      };
  auto call = std::make_shared<RetryingCall<v1::DeleteCertificateResponse>>(
      *this, ctx, Operation::kDelete,
      [stub, ctx, &name, &request](Done<v1::DeleteCertificateResponse> d) {
        stub->DeleteCertificate(ctx, name, request, std::move(d));
      },
      [done = Releasing(*this, std::move(done))](
          absl::StatusOr<v1::DeleteCertificateResponse> r, bool) mutable {
        done(std::move(r));
      },
      /*outcome_unknown=*/false, std::move(recover));
  call->Attempt();
}

}  // namespace certbridge
