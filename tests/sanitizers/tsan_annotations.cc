// ThreadSanitizer annotations for the TSan build of scripts/sanitize.sh: the
// happens-before edges that Debian's uninstrumented abseil and gRPC create
// but TSan cannot see. Linked into every TSan executable (see the script),
// never into a normal build.
//
// How: each function below has the (mangled) name of an abseil or gRPC
// function. The script links this object into the executable and exports
// these symbols, so every call -- from certbridge, and from libgrpc/libgpr
// into libabsl, or from libgrpc++ into libgrpc, which all go through the PLT
// -- lands here first. Each one tells TSan what the call means with TSan's
// public annotation interface and then calls the real function (dlsym
// RTLD_NEXT). If a symbol is missing (e.g. Debian changes abseil's inline
// namespace, absl::debian3), dlsym fails and the process aborts at its first
// call instead of silently losing the annotations.
//
// 1. absl::Mutex, absl::CondVar, absl::Notification: absl::Mutex locks with
// atomics and futexes inside libabsl_synchronization, so TSan sees none of
// it and would report every access certbridge -- or gRPC, whose
// grpc_core::Mutex and gpr_mu are absl::Mutex -- protects with one. Between
// __tsan_mutex_pre_* and __tsan_mutex_post_* TSan ignores memory accesses,
// so abseil evaluating a Condition inside Lock/Unlock/Await is not reported.
// Await and CondVar::Wait are an unlock followed by a (long) lock.
//
// 2. The gRPC call boundary. Besides mutexes gRPC hands a call between its
// threads through lock-free queues, so e.g. a reactor's OnDone would seem to
// race with what the thread that called Finish() wrote. These add exactly
// the ordering gRPC guarantees: a batch started on a call happens before the
// completion that drops the batch's reference to it (FinalizeResult's
// grpc_call_unref, which runs before the completion callback such as
// OnDone); the server's start happens before every call is handled; and
// every batch, and every call's last unref (after OnDone), happens before
// grpc_server_destroy returns.
#include <dlfcn.h>
#include <grpc/grpc.h>
#include <sanitizer/tsan_interface.h>

#include <cstdlib>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

using absl::Condition;
using absl::CondVar;
using absl::Duration;
using absl::Mutex;
using absl::Notification;
using absl::Time;

namespace {

constexpr unsigned kRead = __tsan_mutex_read_lock;

template <typename F>
F Next(const char* name) {
  void* f = dlsym(RTLD_NEXT, name);
  if (f == nullptr) std::abort();
  return reinterpret_cast<F>(f);
}

// A lock (pre ... post) around the real call.
class Locking {
 public:
  Locking(const void* mu, unsigned flags)
      : mu_(const_cast<void*>(mu)), flags_(flags) {
    __tsan_mutex_pre_lock(mu_, flags_);
  }
  ~Locking() { __tsan_mutex_post_lock(mu_, flags_, 0); }
  Locking(const Locking&) = delete;
  Locking& operator=(const Locking&) = delete;

 private:
  void* mu_;
  unsigned flags_;
};

// Await / CondVar::Wait: held on entry, released while waiting, held again
// on return.
class Relocking {
 public:
  Relocking(const void* mu, unsigned flags)
      : mu_(const_cast<void*>(mu)), flags_(flags) {
    __tsan_mutex_pre_unlock(mu_, flags_);
    __tsan_mutex_post_unlock(mu_, flags_);
    __tsan_mutex_pre_lock(mu_, flags_);
  }
  ~Relocking() { __tsan_mutex_post_lock(mu_, flags_, 0); }
  Relocking(const Relocking&) = delete;
  Relocking& operator=(const Relocking&) = delete;

 private:
  void* mu_;
  unsigned flags_;
};

void Unlocking(Mutex* mu, unsigned flags, void (*real)(Mutex*)) {
  __tsan_mutex_pre_unlock(mu, flags);
  real(mu);
  __tsan_mutex_post_unlock(mu, flags);
}

bool TryLocking(Mutex* mu, unsigned flags, bool (*real)(Mutex*)) {
  flags |= __tsan_mutex_try_lock;
  __tsan_mutex_pre_lock(mu, flags);
  const bool locked = real(mu);
  __tsan_mutex_post_lock(
      mu, locked ? flags : flags | __tsan_mutex_try_lock_failed, 0);
  return locked;
}

// abseil calls itself through the PLT too (CondVar::WaitWithTimeout calls
// WaitWithDeadline, Notification locks its own mutex): only the outermost
// call on a thread is annotated.
thread_local int t_depth = 0;
class Scope {
 public:
  Scope() : nested_(t_depth++ > 0) {}
  ~Scope() { --t_depth; }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;
  bool nested() const { return nested_; }

 private:
  bool nested_;
};

char g_server_started;  // released by grpc_server_start
char g_batches;  // released by every batch and unref; acquired at destroy

}  // namespace

// REAL(type, symbol): the real function, looked up once.
#define REAL(type, sym) static const auto real = Next<type>(#sym)

extern "C" {

// absl::Mutex ------------------------------------------------------------
void _ZN4absl7debian35Mutex4LockEv(Mutex* mu) {
  REAL(void (*)(Mutex*), _ZN4absl7debian35Mutex4LockEv);
  Scope scope;
  if (scope.nested()) return real(mu);
  Locking l(mu, 0);
  real(mu);
}
void _ZN4absl7debian35Mutex10ReaderLockEv(Mutex* mu) {
  REAL(void (*)(Mutex*), _ZN4absl7debian35Mutex10ReaderLockEv);
  Scope scope;
  if (scope.nested()) return real(mu);
  Locking l(mu, kRead);
  real(mu);
}
void _ZN4absl7debian35Mutex6UnlockEv(Mutex* mu) {
  REAL(void (*)(Mutex*), _ZN4absl7debian35Mutex6UnlockEv);
  Scope scope;
  if (scope.nested()) return real(mu);
  Unlocking(mu, 0, real);
}
void _ZN4absl7debian35Mutex12ReaderUnlockEv(Mutex* mu) {
  REAL(void (*)(Mutex*), _ZN4absl7debian35Mutex12ReaderUnlockEv);
  Scope scope;
  if (scope.nested()) return real(mu);
  Unlocking(mu, kRead, real);
}
bool _ZN4absl7debian35Mutex7TryLockEv(Mutex* mu) {
  REAL(bool (*)(Mutex*), _ZN4absl7debian35Mutex7TryLockEv);
  Scope scope;
  if (scope.nested()) return real(mu);
  return TryLocking(mu, 0, real);
}
bool _ZN4absl7debian35Mutex13ReaderTryLockEv(Mutex* mu) {
  REAL(bool (*)(Mutex*), _ZN4absl7debian35Mutex13ReaderTryLockEv);
  Scope scope;
  if (scope.nested()) return real(mu);
  return TryLocking(mu, kRead, real);
}

// Lock when a condition holds (held on return even after a timeout).
void _ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE(Mutex* mu,
                                                       const Condition& c) {
  REAL(void (*)(Mutex*, const Condition&),
       _ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE);
  Scope scope;
  if (scope.nested()) return real(mu, c);
  Locking l(mu, 0);
  real(mu, c);
}
bool _ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    Mutex* mu, const Condition& c, Duration d) {
  REAL(
      bool (*)(Mutex*, const Condition&, Duration),
      _ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE);
  Scope scope;
  if (scope.nested()) return real(mu, c, d);
  Locking l(mu, 0);
  return real(mu, c, d);
}
bool _ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE(
    Mutex* mu, const Condition& c, Time t) {
  REAL(
      bool (*)(Mutex*, const Condition&, Time),
      _ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE);
  Scope scope;
  if (scope.nested()) return real(mu, c, t);
  Locking l(mu, 0);
  return real(mu, c, t);
}
void _ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE(
    Mutex* mu, const Condition& c) {
  REAL(void (*)(Mutex*, const Condition&),
       _ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE);
  Scope scope;
  if (scope.nested()) return real(mu, c);
  Locking l(mu, kRead);
  real(mu, c);
}
bool _ZN4absl7debian35Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    Mutex* mu, const Condition& c, Duration d) {
  REAL(
      bool (*)(Mutex*, const Condition&, Duration),
      _ZN4absl7debian35Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE);
  Scope scope;
  if (scope.nested()) return real(mu, c, d);
  Locking l(mu, kRead);
  return real(mu, c, d);
}
bool _ZN4absl7debian35Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE(
    Mutex* mu, const Condition& c, Time t) {
  REAL(
      bool (*)(Mutex*, const Condition&, Time),
      _ZN4absl7debian35Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE);
  Scope scope;
  if (scope.nested()) return real(mu, c, t);
  Locking l(mu, kRead);
  return real(mu, c, t);
}

// Await: held on entry and on return.
void _ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(Mutex* mu,
                                                    const Condition& c) {
  REAL(void (*)(Mutex*, const Condition&),
       _ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE);
  Scope scope;
  if (scope.nested()) return real(mu, c);
  Relocking l(mu, 0);
  real(mu, c);
}
bool _ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    Mutex* mu, const Condition& c, Duration d) {
  REAL(
      bool (*)(Mutex*, const Condition&, Duration),
      _ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE);
  Scope scope;
  if (scope.nested()) return real(mu, c, d);
  Relocking l(mu, 0);
  return real(mu, c, d);
}
bool _ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE(
    Mutex* mu, const Condition& c, Time t) {
  REAL(bool (*)(Mutex*, const Condition&, Time),
       _ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE);
  Scope scope;
  if (scope.nested()) return real(mu, c, t);
  Relocking l(mu, 0);
  return real(mu, c, t);
}

// absl::CondVar: Wait* unlock `mu` while waiting. Readers' waits are rare
// (none in certbridge or gRPC's use); they are treated as writers'.
void _ZN4absl7debian37CondVar4WaitEPNS0_5MutexE(CondVar* cv, Mutex* mu) {
  REAL(void (*)(CondVar*, Mutex*), _ZN4absl7debian37CondVar4WaitEPNS0_5MutexE);
  Scope scope;
  if (scope.nested()) return real(cv, mu);
  Relocking l(mu, 0);
  real(cv, mu);
}
bool _ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE(
    CondVar* cv, Mutex* mu, Duration d) {
  REAL(bool (*)(CondVar*, Mutex*, Duration),
       _ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE);
  Scope scope;
  if (scope.nested()) return real(cv, mu, d);
  Relocking l(mu, 0);
  return real(cv, mu, d);
}
bool _ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE(
    CondVar* cv, Mutex* mu, Time t) {
  REAL(bool (*)(CondVar*, Mutex*, Time),
       _ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE);
  Scope scope;
  if (scope.nested()) return real(cv, mu, t);
  Relocking l(mu, 0);
  return real(cv, mu, t);
}

// absl::Notification: Notify happens before a wait that sees it.
void _ZN4absl7debian312Notification6NotifyEv(Notification* n) {
  REAL(void (*)(Notification*), _ZN4absl7debian312Notification6NotifyEv);
  Scope scope;
  if (scope.nested()) return real(n);
  __tsan_release(n);
  real(n);
}
void _ZNK4absl7debian312Notification19WaitForNotificationEv(
    const Notification* n) {
  REAL(void (*)(const Notification*),
       _ZNK4absl7debian312Notification19WaitForNotificationEv);
  Scope scope;
  if (scope.nested()) return real(n);
  real(n);
  __tsan_acquire(const_cast<Notification*>(n));
}
bool _ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE(
    const Notification* n, Duration d) {
  REAL(
      bool (*)(const Notification*, Duration),
      _ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE);
  Scope scope;
  if (scope.nested()) return real(n, d);
  const bool notified = real(n, d);
  if (notified) __tsan_acquire(const_cast<Notification*>(n));
  return notified;
}

// gRPC call boundary -----------------------------------------------------
grpc_call_error grpc_call_start_batch(grpc_call* call, const grpc_op* ops,
                                      size_t nops, void* tag, void* reserved) {
  REAL(grpc_call_error(*)(grpc_call*, const grpc_op*, size_t, void*, void*),
       grpc_call_start_batch);
  __tsan_release(call);
  __tsan_release(&g_batches);
  return real(call, ops, nops, tag, reserved);
}
void grpc_call_ref(grpc_call* call) {
  REAL(void (*)(grpc_call*), grpc_call_ref);
  __tsan_acquire(&g_server_started);
  __tsan_acquire(call);
  real(call);
}
void grpc_call_unref(grpc_call* call) {
  REAL(void (*)(grpc_call*), grpc_call_unref);
  // A reference count: each unref is ordered with the others on the call.
  __tsan_acquire(call);
  __tsan_release(call);
  __tsan_release(&g_batches);
  real(call);
}
void grpc_server_start(grpc_server* server) {
  REAL(void (*)(grpc_server*), grpc_server_start);
  __tsan_release(&g_server_started);
  real(server);
}
void grpc_server_destroy(grpc_server* server) {
  REAL(void (*)(grpc_server*), grpc_server_destroy);
  real(server);
  __tsan_acquire(&g_batches);
}

}  // extern "C"
