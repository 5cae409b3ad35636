// Orderings that a library guarantees but ThreadSanitizer cannot see,
// stated where certbridge relies on them. Debian's gRPC is not built with
// -fsanitize=thread: its hand-offs between threads are invisible to TSan,
// which then reports accesses that gRPC's contract orders. In other builds
// these compile to nothing.
#pragma once

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#define CERTBRIDGE_HAPPENS_BEFORE(addr) __tsan_release(addr)
#define CERTBRIDGE_HAPPENS_AFTER(addr) __tsan_acquire(addr)
#else
#define CERTBRIDGE_HAPPENS_BEFORE(addr) static_cast<void>(addr)
#define CERTBRIDGE_HAPPENS_AFTER(addr) static_cast<void>(addr)
#endif
