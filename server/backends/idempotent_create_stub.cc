#include "server/backends/idempotent_create_stub.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/errors.h"
#include "server/resilience/retry_policy.h"

namespace certbridge {

IdempotentCreateStub::IdempotentCreateStub(std::unique_ptr<BackendStub> inner,
                                           IdempotencyStore& store)
    : inner_(std::move(inner)), store_(store) {}

void IdempotentCreateStub::CreateCertificate(
    std::shared_ptr<CallContext> ctx, const ParentName& parent,
    const v1::CreateCertificateRequest& request, Done<v1::Certificate> done) {
  if (request.request_id().empty()) {
    inner_->CreateCertificate(std::move(ctx), parent, request, std::move(done));
    return;
  }
  // The parsed parent, so that two spellings of one parent share ids.
  std::string key =
      absl::StrCat(FormatParentName(parent), "\n", request.request_id());
  const CallContext::Ticket ticket = ctx->NextTicket();
  // Shared by the admission and the cancel hook: whichever of "admitted"
  // and "cancelled" comes second must not touch a consumed `done`.
  auto admitted = [this, ctx, &parent, &request, key, done = std::move(done)](
                      absl::StatusOr<IdempotencyStore::Admission> a) mutable {
    if (!a.ok()) {
      done(std::move(a).status());
      return;
    }
    switch (a->kind) {
      case IdempotencyStore::Admission::kReplayed:
        done(std::move(a->result));
        return;
      case IdempotencyStore::Admission::kMismatch:
        done(MakeValidationError(
            reason::kInvalidArgument, "request_id",
            "was already used for a different CreateCertificate request"));
        return;
      case IdempotencyStore::Admission::kProceed:
        if (a->previous_outcome_unknown) ctx->MarkOutcomeUnknown();
        break;
    }
    Run(std::move(ctx), parent, request, std::move(key), a->claim,
        std::move(done));
  };
  const std::uint64_t handle =
      store_.Begin(key, IdempotencyStore::FingerprintOf(request),
                   ctx->deadline(), std::move(admitted));
  // A repeat waiting for a running call stops waiting when it is cancelled;
  // a no-op once admitted.
  ctx->OnCancel(ticket, [store = &store_, key = std::move(key), handle] {
    store->Cancel(key, handle);
  });
}

void IdempotentCreateStub::Run(std::shared_ptr<CallContext> ctx,
                               const ParentName& parent,
                               const v1::CreateCertificateRequest& request,
                               std::string key, std::uint64_t claim,
                               Done<v1::Certificate> done) {
  inner_->CreateCertificate(
      ctx, parent, request,
      [this, ctx, key = std::move(key), claim,
       done = std::move(done)](absl::StatusOr<v1::Certificate> r) mutable {
        // Only the backend's answers are worth replaying; a failure that
        // never reached it (overload, open circuit, TLS, token endpoint)
        // leaves the id retryable, with any earlier "outcome unknown" kept.
        IdempotencyStore::Outcome outcome = IdempotencyStore::Outcome::kNotSent;
        if (r.ok() || IsBackendAnswer(r.status())) {
          outcome = IdempotencyStore::Outcome::kAnswered;
        } else if (ctx->outcome_unknown()) {
          outcome = IdempotencyStore::Outcome::kUnknown;
        }
        // The answer goes out once it is recorded, so a repeat that
        // arrives after it finds the outcome rather than a running call.
        auto shared =
            std::make_shared<absl::StatusOr<v1::Certificate>>(std::move(r));
        store_.Finish(key, claim, *shared, outcome,
                      [shared, done = std::move(done)]() mutable {
                        done(std::move(*shared));
                      });
      });
}

}  // namespace certbridge
