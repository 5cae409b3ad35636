// ThreadSanitizer annotations for absl::Mutex, absl::CondVar and
// absl::Notification, for the TSan build of scripts/sanitize.sh only.
//
// Debian's libabsl_synchronization is not built with -fsanitize=thread, and
// absl::Mutex locks with atomics and futexes, not pthreads: TSan sees none
// of it, so every access that certbridge protects with an absl::Mutex would
// be reported as a race. sanitize.sh links this file into every TSan
// executable with -Wl,--wrap=<symbol> for each __wrap_ function below. The
// linker redirects only references from the objects it links (ours), not
// gRPC's calls inside libgrpc; ours now go through these wrappers, which
// tell TSan about the lock and unlock with its public mutex annotations and
// call the real function (__real_<symbol>).
//
// Between __tsan_mutex_pre_* and __tsan_mutex_post_* TSan ignores memory
// accesses, so absl evaluating a Condition inside Lock/Unlock/Await is not
// reported. Await and CondVar::Wait are an unlock followed by a (long) lock.
// The mangled names carry Debian's inline namespace (absl::debian3): if it
// changes, the TSan link fails (undefined __real_ symbol) instead of
// silently losing the annotations.
#include <sanitizer/tsan_interface.h>

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

// A lock (pre ... post) around the real call.
class Locking {
 public:
  Locking(Mutex* mu, unsigned flags) : mu_(mu), flags_(flags) {
    __tsan_mutex_pre_lock(mu_, flags_);
  }
  ~Locking() { __tsan_mutex_post_lock(mu_, flags_, 0); }
  Locking(const Locking&) = delete;
  Locking& operator=(const Locking&) = delete;

 private:
  Mutex* mu_;
  unsigned flags_;
};

// Await / CondVar::Wait: the caller holds the lock; it is released while
// waiting and held again on return.
class Relocking {
 public:
  Relocking(Mutex* mu, unsigned flags) : mu_(mu), flags_(flags) {
    __tsan_mutex_pre_unlock(mu_, flags_);
    __tsan_mutex_post_unlock(mu_, flags_);
    __tsan_mutex_pre_lock(mu_, flags_);
  }
  ~Relocking() { __tsan_mutex_post_lock(mu_, flags_, 0); }
  Relocking(const Relocking&) = delete;
  Relocking& operator=(const Relocking&) = delete;

 private:
  Mutex* mu_;
  unsigned flags_;
};

bool TryLocked(Mutex* mu, unsigned flags, bool (*real)(Mutex*)) {
  flags |= __tsan_mutex_try_lock;
  __tsan_mutex_pre_lock(mu, flags);
  const bool locked = real(mu);
  __tsan_mutex_post_lock(mu, locked ? flags : flags | __tsan_mutex_try_lock_failed,
                         0);
  return locked;
}

}  // namespace

#define REAL(s) __real__ZN4absl7debian3##s
#define WRAP(s) __wrap__ZN4absl7debian3##s

extern "C" {

// absl::Mutex ------------------------------------------------------------
void REAL(5Mutex4LockEv)(Mutex*);
void WRAP(5Mutex4LockEv)(Mutex* mu) {
  Locking l(mu, 0);
  REAL(5Mutex4LockEv)(mu);
}
void REAL(5Mutex10ReaderLockEv)(Mutex*);
void WRAP(5Mutex10ReaderLockEv)(Mutex* mu) {
  Locking l(mu, kRead);
  REAL(5Mutex10ReaderLockEv)(mu);
}
void REAL(5Mutex6UnlockEv)(Mutex*);
void WRAP(5Mutex6UnlockEv)(Mutex* mu) {
  __tsan_mutex_pre_unlock(mu, 0);
  REAL(5Mutex6UnlockEv)(mu);
  __tsan_mutex_post_unlock(mu, 0);
}
void REAL(5Mutex12ReaderUnlockEv)(Mutex*);
void WRAP(5Mutex12ReaderUnlockEv)(Mutex* mu) {
  __tsan_mutex_pre_unlock(mu, kRead);
  REAL(5Mutex12ReaderUnlockEv)(mu);
  __tsan_mutex_post_unlock(mu, kRead);
}
bool REAL(5Mutex7TryLockEv)(Mutex*);
bool WRAP(5Mutex7TryLockEv)(Mutex* mu) {
  return TryLocked(mu, 0, &REAL(5Mutex7TryLockEv));
}
bool REAL(5Mutex13ReaderTryLockEv)(Mutex*);
bool WRAP(5Mutex13ReaderTryLockEv)(Mutex* mu) {
  return TryLocked(mu, kRead, &REAL(5Mutex13ReaderTryLockEv));
}
void REAL(5MutexD1Ev)(Mutex*);
void WRAP(5MutexD1Ev)(Mutex* mu) {
  REAL(5MutexD1Ev)(mu);
  __tsan_mutex_destroy(mu, 0);
}
void REAL(5MutexD2Ev)(Mutex*);
void WRAP(5MutexD2Ev)(Mutex* mu) {
  REAL(5MutexD2Ev)(mu);
  __tsan_mutex_destroy(mu, 0);
}

// Lock when a condition holds (held on return even after a timeout).
void REAL(5Mutex8LockWhenERKNS0_9ConditionE)(Mutex*, const Condition&);
void WRAP(5Mutex8LockWhenERKNS0_9ConditionE)(Mutex* mu, const Condition& c) {
  Locking l(mu, 0);
  REAL(5Mutex8LockWhenERKNS0_9ConditionE)(mu, c);
}
bool REAL(5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE)(
    Mutex*, const Condition&, Duration);
bool WRAP(5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE)(
    Mutex* mu, const Condition& c, Duration d) {
  Locking l(mu, 0);
  return REAL(5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE)(
      mu, c, d);
}
bool REAL(5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE)(
    Mutex*, const Condition&, Time);
bool WRAP(5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE)(
    Mutex* mu, const Condition& c, Time t) {
  Locking l(mu, 0);
  return REAL(5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE)(mu, c,
                                                                        t);
}
void REAL(5Mutex14ReaderLockWhenERKNS0_9ConditionE)(Mutex*, const Condition&);
void WRAP(5Mutex14ReaderLockWhenERKNS0_9ConditionE)(Mutex* mu,
                                                    const Condition& c) {
  Locking l(mu, kRead);
  REAL(5Mutex14ReaderLockWhenERKNS0_9ConditionE)(mu, c);
}

// Await: held on entry and on return.
void REAL(5Mutex5AwaitERKNS0_9ConditionE)(Mutex*, const Condition&);
void WRAP(5Mutex5AwaitERKNS0_9ConditionE)(Mutex* mu, const Condition& c) {
  Relocking l(mu, 0);
  REAL(5Mutex5AwaitERKNS0_9ConditionE)(mu, c);
}
bool REAL(5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE)(
    Mutex*, const Condition&, Duration);
bool WRAP(5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE)(
    Mutex* mu, const Condition& c, Duration d) {
  Relocking l(mu, 0);
  return REAL(5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE)(mu, c,
                                                                         d);
}
bool REAL(5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE)(
    Mutex*, const Condition&, Time);
bool WRAP(5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE)(
    Mutex* mu, const Condition& c, Time t) {
  Relocking l(mu, 0);
  return REAL(5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE)(mu, c, t);
}

// absl::CondVar: Wait* unlock `mu` while waiting.
void REAL(7CondVar4WaitEPNS0_5MutexE)(CondVar*, Mutex*);
void WRAP(7CondVar4WaitEPNS0_5MutexE)(CondVar* cv, Mutex* mu) {
  Relocking l(mu, 0);
  REAL(7CondVar4WaitEPNS0_5MutexE)(cv, mu);
}
bool REAL(7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE)(CondVar*,
                                                                Mutex*,
                                                                Duration);
bool WRAP(7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE)(CondVar* cv,
                                                                Mutex* mu,
                                                                Duration d) {
  Relocking l(mu, 0);
  return REAL(7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE)(cv, mu, d);
}
bool REAL(7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE)(CondVar*, Mutex*,
                                                             Time);
bool WRAP(7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE)(CondVar* cv,
                                                             Mutex* mu,
                                                             Time t) {
  Relocking l(mu, 0);
  return REAL(7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE)(cv, mu, t);
}

// absl::Notification: Notify happens before a wait that sees it.
void REAL(12Notification6NotifyEv)(Notification*);
void WRAP(12Notification6NotifyEv)(Notification* n) {
  __tsan_release(n);
  REAL(12Notification6NotifyEv)(n);
}
void __real__ZNK4absl7debian312Notification19WaitForNotificationEv(
    const Notification*);
void __wrap__ZNK4absl7debian312Notification19WaitForNotificationEv(
    const Notification* n) {
  __real__ZNK4absl7debian312Notification19WaitForNotificationEv(n);
  __tsan_acquire(const_cast<Notification*>(n));
}
bool __real__ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE(
    const Notification*, Duration);
bool __wrap__ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE(
    const Notification* n, Duration d) {
  const bool notified =
      __real__ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE(
          n, d);
  if (notified) __tsan_acquire(const_cast<Notification*>(n));
  return notified;
}

}  // extern "C"
