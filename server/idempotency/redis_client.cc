// RedisClient: one thread per client runs a poll() loop over a non-blocking
// socket (plain or OpenSSL) and an eventfd that callers use to wake it.
// hiredis only encodes commands and parses replies; everything that can
// block or wait (resolve, connect, TLS, AUTH, timeouts, backoff) is ours, so
// that no caller thread ever waits on Redis.
#include "server/idempotency/redis_client.h"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace certbridge {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kReadChunk = std::size_t{64} * 1024;
// Bounds the time one busy connection can keep the loop from its timers.
constexpr int kMaxReadsPerWake = 16;
// Past this, a timeout is "never": avoids overflowing steady_clock.
constexpr absl::Duration kForever = absl::Hours(24 * 365);

Clock::time_point DeadlineAfter(Clock::time_point now, absl::Duration d) {
  if (d >= kForever) return Clock::time_point::max();
  return now + std::chrono::duration_cast<Clock::duration>(
                   absl::ToChronoNanoseconds(d));
}

// Reply objects are built by our own hiredis object functions instead of
// hiredis' defaults (freeReplyObject's redisReply): the default createArray
// callocs the announced element count at once, so a "*2000000000" header
// alone would allocate gigabytes. Ours grow arrays as elements arrive and
// count elements and string bytes, so the loop can enforce max_reply_bytes
// on what a reply really costs.
struct ReplyBudget {
  std::size_t bytes = 0;
  std::size_t elements = 0;
  std::size_t max_bytes = 0;
  std::size_t max_elements = 0;
  bool exceeded = false;
  bool malformed = false;
};

// hiredis builds a reply depth first and only ever adds to the innermost
// open array, so a pointer to an element stays valid for as long as hiredis
// uses it even though its parent's vector may reallocate later.
void* Attach(const redisReadTask* task, RedisReply value,
             std::size_t string_bytes) {
  auto* budget = static_cast<ReplyBudget*>(task->privdata);
  budget->bytes += string_bytes;
  ++budget->elements;
  if (budget->bytes > budget->max_bytes ||
      budget->elements > budget->max_elements) {
    budget->exceeded = true;
  }
  if (task->parent == nullptr) return new RedisReply(std::move(value));
  auto* parent = static_cast<RedisReply*>(task->parent->obj);
  parent->elements.push_back(std::move(value));
  return &parent->elements.back();
}

void* CreateString(const redisReadTask* task, char* str, size_t len) {
  RedisReply reply;
  switch (task->type) {
    case REDIS_REPLY_STATUS:
      reply.type = RedisReply::Type::kStatus;
      break;
    case REDIS_REPLY_ERROR:
      reply.type = RedisReply::Type::kError;
      break;
    default:
      reply.type = RedisReply::Type::kString;
      break;
  }
  reply.str.assign(str, len);
  return Attach(task, std::move(reply), len);
}

void* CreateArray(const redisReadTask* task, int elements) {
  RedisReply reply;
  reply.type = RedisReply::Type::kArray;
  if (elements < 0) {
    static_cast<ReplyBudget*>(task->privdata)->malformed = true;
  } else {
    // Reserve only a little: the count is the peer's claim, not data.
    reply.elements.reserve(std::min(elements, 64));
  }
  return Attach(task, std::move(reply), 0);
}

void* CreateInteger(const redisReadTask* task, long long value) {
  RedisReply reply;
  reply.type = RedisReply::Type::kInteger;
  reply.integer = value;
  return Attach(task, std::move(reply), 0);
}

void* CreateNil(const redisReadTask* task) {
  return Attach(task, RedisReply{}, 0);
}

// hiredis frees only root objects (a finished reply we did not take, or a
// partial one on error); children live inside their parent.
void FreeObject(void* obj) { delete static_cast<RedisReply*>(obj); }

redisReplyObjectFunctions reply_functions = {
    CreateString, CreateArray, CreateInteger, CreateNil, FreeObject};

std::string Errno(int err) { return std::strerror(err); }

// The most useful text OpenSSL has for the last failure on this thread.
std::string OpenSslError() {
  unsigned long e = ERR_peek_last_error();
  ERR_clear_error();
  if (e == 0) return "unknown TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

// Errors by which a node says it cannot serve writes now, not that the
// command was wrong: a replica (READONLY; after a failover the address may
// lead to the new primary on a fresh connection), a replica cut off from
// its primary (MASTERDOWN), a node still loading its data (LOADING).
// Its code, or "" when it is not one of them. Redis 7 keeps the code of an
// error a script's redis.call() raised; Redis 6 and older wrap it ("ERR
// Error running script ...: -READONLY You can't write ...").
std::string NodeUnfitCode(const std::string& error) {
  const bool script = error.rfind("ERR Error running script", 0) == 0;
  for (const char* code : {"READONLY", "MASTERDOWN", "LOADING"}) {
    const std::size_t n = std::strlen(code);
    if (error.compare(0, n, code) == 0 &&
        (error.size() == n || error[n] == ' ')) {
      return code;
    }
    if (script &&
        error.find(absl::StrCat("-", code, " ")) != std::string::npos) {
      return code;
    }
  }
  return "";
}

bool IsIpLiteral(const std::string& name) {
  in6_addr addr6{};
  in_addr addr4{};
  return inet_pton(AF_INET, name.c_str(), &addr4) == 1 ||
         inet_pton(AF_INET6, name.c_str(), &addr6) == 1;
}

struct SslCtxDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxDeleter>;

}  // namespace

class RedisClient::Impl {
 public:
  Impl(RedisOptions options, SslCtxPtr ssl_ctx, int wake_fd)
      : options_(std::move(options)),
        where_(absl::StrCat("redis ", options_.host, ":", options_.port)),
        ssl_ctx_(std::move(ssl_ctx)),
        wake_fd_(wake_fd) {
    budget_.max_bytes = options_.max_reply_bytes;
    budget_.max_elements =
        std::max<std::size_t>(options_.max_reply_bytes / 16, std::size_t{1});
    thread_ = std::thread([this] { Run(); });
  }

  ~Impl() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    Wake();
    thread_.join();
    close(wake_fd_);
  }

  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  void Command(const std::vector<std::string>& argv, absl::Duration timeout,
               Callback done) {
    if (argv.empty()) {
      std::move(done)(
          absl::InvalidArgumentError(absl::StrCat(where_, ": empty command")));
      return;
    }
    if (timeout <= absl::ZeroDuration()) {
      std::move(done)(absl::InvalidArgumentError(
          absl::StrCat(where_, ": command timeout must be positive")));
      return;
    }
    // Encoding here, on the caller's thread, keeps the loop thread free for
    // I/O and lets the argv (possibly large values) be dropped at once.
    std::vector<const char*> args;
    std::vector<size_t> lens;
    args.reserve(argv.size());
    lens.reserve(argv.size());
    for (const std::string& arg : argv) {
      args.push_back(arg.data());
      lens.push_back(arg.size());
    }
    char* cmd = nullptr;
    int len = redisFormatCommandArgv(&cmd, static_cast<int>(argv.size()),
                                     args.data(), lens.data());
    if (len < 0 || cmd == nullptr) {
      std::move(done)(
          absl::InternalError(absl::StrCat(where_, ": cannot encode command")));
      return;
    }
    Pending pending;
    pending.wire.assign(cmd, static_cast<std::size_t>(len));
    redisFreeCommand(cmd);
    pending.done = std::move(done);
    pending.timeout = timeout;
    pending.deadline = DeadlineAfter(Clock::now(), timeout);
    bool wake = false;
    absl::Status refused = Enqueue(pending, wake);
    if (!refused.ok()) {
      std::move(pending.done)(std::move(refused));
      return;
    }
    if (wake) Wake();
  }

  bool connected() const { return connected_.load(std::memory_order_relaxed); }

  std::string last_error() const {
    std::lock_guard<std::mutex> lock(mu_);
    return fail_fast_;
  }

  absl::Duration default_timeout() const { return options_.command_timeout; }

 private:
  enum class Step { kUser, kAuth, kSelect, kPing };
  enum class Phase { kIdle, kTcpConnect, kTlsHandshake, kHandshake, kReady };

  struct Pending {
    std::string wire;
    Callback done;
    Clock::time_point deadline;
    absl::Duration timeout;
    Step step = Step::kUser;
  };

  // Takes `pending` (moves from it) unless it returns an error.
  absl::Status Enqueue(Pending& pending, bool& wake) {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      return absl::CancelledError(
          absl::StrCat(where_, ": client shutting down"));
    }
    // A new Status, not a copy of one the loop thread holds (see Complete).
    if (!fail_fast_.empty()) return absl::UnavailableError(fail_fast_);
    if (pending_ >= options_.max_pending) {
      return absl::ResourceExhaustedError(absl::StrCat(
          where_, ": ", options_.max_pending, " commands already pending"));
    }
    ++pending_;
    // The loop drains the whole queue on each wake-up (after reading the
    // eventfd), so only the first command of a batch has to wake it.
    wake = incoming_.empty();
    incoming_.push_back(std::move(pending));
    return absl::OkStatus();
  }

  void Wake() {
    uint64_t one = 1;
    // Fails only when the counter would overflow: it is already signalled.
    (void)!write(wake_fd_, &one, sizeof(one));
  }

  void Run() {
    // OpenSSL writes to the socket with write(), which raises SIGPIPE on a
    // connection the server closed; blocked on this thread, the signal stays
    // pending here and the write fails with EPIPE, which we handle.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);

    for (;;) {
      std::vector<Pending> incoming;
      bool stopping = false;
      {
        std::lock_guard<std::mutex> lock(mu_);
        incoming.swap(incoming_);
        stopping = stopping_;
      }
      if (stopping) {
        Shutdown(std::move(incoming));
        return;
      }
      Accept(std::move(incoming));
      if (phase_ == Phase::kIdle && Clock::now() >= next_attempt_) {
        StartConnect();
      }
      if (phase_ == Phase::kHandshake || phase_ == Phase::kReady) Flush();
      ExpireDeadlines(Clock::now());

      pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {fd_, 0, 0}};
      nfds_t count = 1;
      if (fd_ >= 0) {
        fds[1].events = SocketEvents();
        count = 2;
      }
      int n = poll(fds, count, PollTimeoutMs(Clock::now()));
      if (n < 0) continue;  // EINTR; nothing else is expected here.
      if ((fds[0].revents & POLLIN) != 0) {
        uint64_t value = 0;
        (void)!read(wake_fd_, &value, sizeof(value));
      }
      if (count == 2 && fds[1].revents != 0) HandleSocket();
    }
  }

  void Accept(std::vector<Pending> incoming) {
    for (Pending& p : incoming) {
      if (phase_ == Phase::kReady) {
        Send(std::move(p));
      } else if (failing_) {
        // Queued just before the connection failed: fail fast like the
        // commands that arrive from now on.
        Complete(p, FailFastStatus());
      } else {
        waiting_.push_back(std::move(p));
      }
    }
  }

  // Name resolution blocks (getaddrinfo has no asynchronous form we can
  // poll). It runs here, on the client's own thread, where it can delay
  // only Redis commands and never a gRPC or curl thread; numeric addresses
  // return at once. connect_timeout cannot cut a slow resolver short.
  void StartConnect() {
    connect_deadline_ = DeadlineAfter(Clock::now(), options_.connect_timeout);
    addresses_.clear();
    next_address_ = 0;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* result = nullptr;
    std::string port = std::to_string(options_.port);
    int rc = getaddrinfo(options_.host.c_str(), port.c_str(), &hints, &result);
    if (rc != 0) {
      ConnectionLost(absl::UnavailableError(
          absl::StrCat(where_, ": cannot resolve host: ", gai_strerror(rc))));
      return;
    }
    for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
      Address address;
      std::memcpy(
          &address.storage, ai->ai_addr,
          std::min<std::size_t>(ai->ai_addrlen, sizeof(address.storage)));
      address.len = ai->ai_addrlen;
      address.family = ai->ai_family;
      addresses_.push_back(address);
    }
    freeaddrinfo(result);
    phase_ = Phase::kTcpConnect;
    last_connect_error_ = "no address";
    TryNextAddress();
  }

  void TryNextAddress() {
    while (next_address_ < addresses_.size()) {
      const Address& address = addresses_[next_address_++];
      fd_ =
          socket(address.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd_ < 0) {
        last_connect_error_ = absl::StrCat("socket: ", Errno(errno));
        continue;
      }
      if (connect(fd_, reinterpret_cast<const sockaddr*>(&address.storage),
                  address.len) == 0) {
        OnTcpConnected();
        return;
      }
      if (errno == EINPROGRESS) return;  // Wait for POLLOUT.
      last_connect_error_ = absl::StrCat("connect: ", Errno(errno));
      close(fd_);
      fd_ = -1;
    }
    ConnectionLost(absl::UnavailableError(
        absl::StrCat(where_, ": ", last_connect_error_)));
  }

  void OnTcpConnected() {
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    reader_ = redisReaderCreateWithFunctions(&reply_functions);
    if (reader_ == nullptr) {
      ConnectionLost(absl::UnavailableError(
          absl::StrCat(where_, ": cannot create the reply reader")));
      return;
    }
    reader_->privdata = &budget_;
    ResetBudget();
    if (!options_.tls) {
      BeginHandshake();
      return;
    }
    ssl_ = SSL_new(ssl_ctx_.get());
    if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1) {
      ConnectionLost(absl::UnavailableError(
          absl::StrCat(where_, ": TLS setup failed: ", OpenSslError())));
      return;
    }
    const std::string& name = options_.tls_server_name.empty()
                                  ? options_.host
                                  : options_.tls_server_name;
    bool ok = true;
    if (IsIpLiteral(name)) {
      // SNI must not carry an IP address (RFC 6066); check the IP SANs.
      ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), name.c_str()) ==
           1;
    } else {
      // SSL_set_tlsext_host_name() spelled out: the macro's C cast trips
      // -Wold-style-cast.
      ok = SSL_ctrl(ssl_, SSL_CTRL_SET_TLSEXT_HOSTNAME,
                    TLSEXT_NAMETYPE_host_name,
                    const_cast<char*>(name.c_str())) == 1 &&
           SSL_set1_host(ssl_, name.c_str()) == 1;
    }
    if (!ok) {
      ConnectionLost(absl::UnavailableError(absl::StrCat(
          where_, ": TLS setup failed for name ", name, ": ", OpenSslError())));
      return;
    }
    SSL_set_connect_state(ssl_);
    phase_ = Phase::kTlsHandshake;
    ContinueTls();
  }

  void ContinueTls() {
    ERR_clear_error();
    errno = 0;
    int rc = SSL_do_handshake(ssl_);
    if (rc == 1) {
      BeginHandshake();
      return;
    }
    int err = SSL_get_error(ssl_, rc);
    if (err == SSL_ERROR_WANT_READ) {
      tls_wants_write_ = false;
      return;
    }
    if (err == SSL_ERROR_WANT_WRITE) {
      tls_wants_write_ = true;
      return;
    }
    std::string detail;
    long verify = SSL_get_verify_result(ssl_);
    if (verify != X509_V_OK) {
      detail = absl::StrCat("certificate verify failed: ",
                            X509_verify_cert_error_string(verify));
      ERR_clear_error();
    } else if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
      detail = errno != 0 ? Errno(errno) : "connection closed by server";
    } else {
      detail = OpenSslError();
    }
    ConnectionLost(absl::UnavailableError(
        absl::StrCat(where_, ": TLS handshake failed: ", detail)));
  }

  // AUTH and SELECT go first on every connection and user commands wait
  // until they succeed: pipelined behind a failing AUTH or SELECT, a
  // command could run unauthenticated or in database 0. PING proves the
  // server answers (a stopped server still accepts TCP connections).
  void BeginHandshake() {
    phase_ = Phase::kHandshake;
    auto internal = [this](Step step, const std::vector<std::string>& argv) {
      std::vector<const char*> args;
      std::vector<size_t> lens;
      for (const std::string& arg : argv) {
        args.push_back(arg.data());
        lens.push_back(arg.size());
      }
      char* cmd = nullptr;
      int len = redisFormatCommandArgv(&cmd, static_cast<int>(argv.size()),
                                       args.data(), lens.data());
      if (len < 0 || cmd == nullptr) return false;
      Pending p;
      p.wire.assign(cmd, static_cast<std::size_t>(len));
      redisFreeCommand(cmd);
      p.step = step;
      Send(std::move(p));
      return true;
    };
    bool ok = true;
    if (options_.password.has_value()) {
      std::vector<std::string> auth = {"AUTH"};
      if (options_.username.has_value()) auth.push_back(*options_.username);
      auth.push_back(*options_.password);
      ok = internal(Step::kAuth, auth);
    }
    if (ok && options_.database != 0) {
      ok = internal(Step::kSelect,
                    {"SELECT", std::to_string(options_.database)});
    }
    ok = ok && internal(Step::kPing, {"PING"});
    if (!ok) {
      ConnectionLost(absl::UnavailableError(
          absl::StrCat(where_, ": cannot encode the connection handshake")));
      return;
    }
    Flush();
  }

  void OnReady() {
    phase_ = Phase::kReady;
    if (!unfit_) attempts_ = 0;
    failing_ = false;
    connected_.store(true, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(mu_);
      fail_fast_.clear();
    }
    std::deque<Pending> waiting;
    waiting.swap(waiting_);
    for (Pending& p : waiting) Send(std::move(p));
  }

  void Send(Pending p) {
    wbuf_.append(p.wire);
    p.wire = std::string();
    inflight_.push_back(std::move(p));
  }

  short SocketEvents() const {
    switch (phase_) {
      case Phase::kTcpConnect:
        return POLLOUT;
      case Phase::kTlsHandshake:
        return tls_wants_write_ ? POLLOUT : POLLIN;
      case Phase::kHandshake:
      case Phase::kReady: {
        bool want_out =
            (wpos_ < wbuf_.size() && !write_wants_read_) || read_wants_write_;
        return static_cast<short>(POLLIN | (want_out ? POLLOUT : 0));
      }
      case Phase::kIdle:
        break;
    }
    return 0;
  }

  void HandleSocket() {
    switch (phase_) {
      case Phase::kTcpConnect: {
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
          err = errno;
        }
        if (err == 0) {
          OnTcpConnected();
          return;
        }
        last_connect_error_ = absl::StrCat("connect: ", Errno(err));
        close(fd_);
        fd_ = -1;
        TryNextAddress();
        return;
      }
      case Phase::kTlsHandshake:
        ContinueTls();
        return;
      case Phase::kHandshake:
      case Phase::kReady:
        // Try both directions on any event: TLS may need to read to write
        // and the other way round, and a spare attempt costs one EAGAIN.
        ReadSome();
        if (phase_ == Phase::kHandshake || phase_ == Phase::kReady) Flush();
        return;
      case Phase::kIdle:
        return;
    }
  }

  bool Open() const {
    return phase_ == Phase::kHandshake || phase_ == Phase::kReady;
  }

  void Flush() {
    write_wants_read_ = false;
    while (wpos_ < wbuf_.size()) {
      const char* data = wbuf_.data() + wpos_;
      std::size_t size = std::min<std::size_t>(wbuf_.size() - wpos_, 1 << 20);
      if (ssl_ != nullptr) {
        ERR_clear_error();
        errno = 0;
        int n = SSL_write(ssl_, data, static_cast<int>(size));
        if (n > 0) {
          wpos_ += static_cast<std::size_t>(n);
          continue;
        }
        int err = SSL_get_error(ssl_, n);
        if (err == SSL_ERROR_WANT_WRITE) return;
        if (err == SSL_ERROR_WANT_READ) {
          write_wants_read_ = true;
          return;
        }
        ConnectionLost(TlsIoError("write", err));
        return;
      }
      ssize_t n = send(fd_, data, size, MSG_NOSIGNAL);
      if (n >= 0) {
        wpos_ += static_cast<std::size_t>(n);
        continue;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      ConnectionLost(absl::UnavailableError(
          absl::StrCat(where_, ": write: ", Errno(errno))));
      return;
    }
    wbuf_.clear();
    wpos_ = 0;
  }

  void ReadSome() {
    read_wants_write_ = false;
    char buf[kReadChunk];
    for (int i = 0; i < kMaxReadsPerWake && Open(); ++i) {
      std::size_t got = 0;
      if (ssl_ != nullptr) {
        ERR_clear_error();
        errno = 0;
        int n = SSL_read(ssl_, buf, sizeof(buf));
        if (n <= 0) {
          int err = SSL_get_error(ssl_, n);
          if (err == SSL_ERROR_WANT_READ) return;
          if (err == SSL_ERROR_WANT_WRITE) {
            read_wants_write_ = true;
            return;
          }
          ConnectionLost(TlsIoError("read", err));
          return;
        }
        got = static_cast<std::size_t>(n);
      } else {
        ssize_t n = recv(fd_, buf, sizeof(buf), 0);
        if (n == 0) {
          ConnectionLost(absl::UnavailableError(
              absl::StrCat(where_, ": connection closed by server")));
          return;
        }
        if (n < 0) {
          if (errno == EINTR) continue;
          if (errno == EAGAIN || errno == EWOULDBLOCK) return;
          ConnectionLost(absl::UnavailableError(
              absl::StrCat(where_, ": read: ", Errno(errno))));
          return;
        }
        got = static_cast<std::size_t>(n);
      }
      Feed(buf, got);
    }
  }

  absl::Status TlsIoError(const char* what, int err) {
    std::string detail;
    if (err == SSL_ERROR_ZERO_RETURN ||
        (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && errno == 0)) {
      detail = "connection closed by server";
    } else if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
      detail = Errno(errno);
    } else {
      detail = OpenSslError();
    }
    return absl::UnavailableError(
        absl::StrCat(where_, ": TLS ", what, ": ", detail));
  }

  void Feed(const char* data, std::size_t size) {
    if (redisReaderFeed(reader_, data, size) != REDIS_OK) {
      ConnectionLost(absl::UnavailableError(
          absl::StrCat(where_, ": cannot buffer the reply")));
      return;
    }
    for (;;) {
      void* obj = nullptr;
      if (redisReaderGetReply(reader_, &obj) != REDIS_OK) {
        ConnectionLost(absl::UnavailableError(absl::StrCat(
            where_, ": protocol error: ", redisReaderGetError(reader_))));
        return;
      }
      std::unique_ptr<RedisReply> reply(static_cast<RedisReply*>(obj));
      if (budget_.malformed) {
        ConnectionLost(absl::UnavailableError(
            absl::StrCat(where_, ": protocol error: negative array length")));
        return;
      }
      if (budget_.exceeded) {
        ConnectionLost(TooLarge());
        return;
      }
      if (reply == nullptr) break;
      ResetBudget();
      Dispatch(std::move(*reply));
      if (!Open()) return;
    }
    // Raw bytes of the reply still being received (a long bulk string is
    // only handed to us once complete).
    if (reader_->len - reader_->pos > options_.max_reply_bytes) {
      ConnectionLost(TooLarge());
    }
  }

  absl::Status TooLarge() const {
    return absl::UnavailableError(absl::StrCat(
        where_, ": reply too large (over ", options_.max_reply_bytes,
        " bytes or ", budget_.max_elements, " elements)"));
  }

  void ResetBudget() {
    budget_.bytes = 0;
    budget_.elements = 0;
    budget_.exceeded = false;
    budget_.malformed = false;
  }

  std::string Redact(std::string text) const {
    if (options_.password.has_value() && !options_.password->empty()) {
      absl::StrReplaceAll({{*options_.password, "<redacted>"}}, &text);
    }
    return text;
  }

  void Dispatch(RedisReply reply) {
    if (inflight_.empty()) {
      ConnectionLost(absl::UnavailableError(
          absl::StrCat(where_, ": protocol error: reply to no command")));
      return;
    }
    Pending p = std::move(inflight_.front());
    inflight_.pop_front();
    bool error = reply.type == RedisReply::Type::kError;
    switch (p.step) {
      case Step::kUser: {
        // Managed Redis fails over behind one DNS name and demotes the old
        // primary without closing its clients: staying on this connection
        // would fail every write until a restart. The caller still gets the
        // node's answer; later commands go to whatever the address
        // resolves to next, after the usual backoff.
        const std::string unfit = error ? NodeUnfitCode(reply.str) : "";
        if (unfit.empty() && unfit_) {
          // A node that serves again: backoff starts afresh next time.
          unfit_ = false;
          attempts_ = 0;
        }
        Complete(p, std::move(reply));
        if (!unfit.empty() && phase_ == Phase::kReady) {
          // Such a node passes the handshake (PING is allowed on a
          // replica), so the backoff must keep growing across reconnects
          // until a command succeeds, or each pod would reconnect every
          // few milliseconds while the address still leads there.
          unfit_ = true;
          ConnectionLost(absl::UnavailableError(
              absl::StrCat(where_, ": the server answered ", unfit,
                           " (cannot serve writes now); reconnecting")));
        }
        return;
      }
      case Step::kAuth:
        // A configuration error rather than an outage, but to the caller
        // it is the same: Redis cannot serve. One code (UNAVAILABLE) for
        // "no Redis" keeps callers simple; the message says which.
        if (error) {
          ConnectionLost(absl::UnavailableError(
              absl::StrCat(where_, ": AUTH refused: ", Redact(reply.str))));
        }
        return;
      case Step::kSelect:
        if (error) {
          ConnectionLost(absl::UnavailableError(
              absl::StrCat(where_, ": SELECT ", options_.database,
                           " refused: ", Redact(reply.str))));
        }
        return;
      case Step::kPing:
        if (error) {
          ConnectionLost(absl::UnavailableError(absl::StrCat(
              where_, ": PING refused",
              reply.str.rfind("NOAUTH", 0) == 0 ? " (is a password needed?)"
                                                : "",
              ": ", Redact(reply.str))));
          return;
        }
        OnReady();
        return;
    }
  }

  void ExpireDeadlines(Clock::time_point now) {
    if ((phase_ == Phase::kTcpConnect || phase_ == Phase::kTlsHandshake ||
         phase_ == Phase::kHandshake) &&
        now >= connect_deadline_) {
      const char* during = phase_ == Phase::kTcpConnect ? "TCP connect"
                           : phase_ == Phase::kTlsHandshake
                               ? "TLS handshake"
                               : "AUTH/SELECT/PING";
      ConnectionLost(absl::UnavailableError(
          absl::StrCat(where_, ": connect timed out after ",
                       absl::FormatDuration(options_.connect_timeout),
                       " (during ", during, ")")));
    }
    if (!waiting_.empty()) {
      std::deque<Pending> keep;
      for (Pending& p : waiting_) {
        if (p.deadline <= now) {
          Complete(p, absl::UnavailableError(
                          absl::StrCat(where_, ": command timed out after ",
                                       absl::FormatDuration(p.timeout),
                                       " waiting for a connection")));
        } else {
          keep.push_back(std::move(p));
        }
      }
      waiting_.swap(keep);
    }
    // Replies come back in order: a command whose reply may still arrive
    // cannot be skipped without pairing later replies with the wrong
    // commands. So its timeout ends the connection and all in flight on it.
    for (auto it = inflight_.begin(); it != inflight_.end(); ++it) {
      if (it->step == Step::kUser && it->deadline <= now) {
        Pending p = std::move(*it);
        inflight_.erase(it);
        Complete(p, absl::UnavailableError(
                        absl::StrCat(where_, ": command timed out after ",
                                     absl::FormatDuration(p.timeout),
                                     " (connection closed; reconnecting)")));
        ConnectionLost(
            absl::UnavailableError(absl::StrCat(
                where_,
                ": connection closed because an earlier command timed out")),
            /*reconnect_now=*/true);
        return;
      }
    }
  }

  int PollTimeoutMs(Clock::time_point now) const {
    Clock::time_point wake = Clock::time_point::max();
    if (phase_ == Phase::kIdle) wake = next_attempt_;
    if (phase_ == Phase::kTcpConnect || phase_ == Phase::kTlsHandshake ||
        phase_ == Phase::kHandshake) {
      wake = std::min(wake, connect_deadline_);
    }
    for (const Pending& p : waiting_) wake = std::min(wake, p.deadline);
    for (const Pending& p : inflight_) {
      if (p.step == Step::kUser) wake = std::min(wake, p.deadline);
    }
    if (wake == Clock::time_point::max()) return -1;
    if (wake <= now) return 0;
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(wake - now).count();
    return static_cast<int>(std::min<long long>(ms, 60LL * 1000));
  }

  void CloseConnection() {
    if (ssl_ != nullptr) {
      SSL_free(ssl_);
      ssl_ = nullptr;
    }
    if (fd_ >= 0) {
      close(fd_);
      fd_ = -1;
    }
    if (reader_ != nullptr) {
      redisReaderFree(reader_);
      reader_ = nullptr;
    }
    ResetBudget();
    wbuf_.clear();
    wbuf_.shrink_to_fit();
    wpos_ = 0;
    tls_wants_write_ = false;
    read_wants_write_ = false;
    write_wants_read_ = false;
    connected_.store(false, std::memory_order_relaxed);
  }

  // Ends the connection (or attempt) and fails what was sent on it. Unless
  // told to reconnect at once (a command timeout on a healthy connection),
  // Redis is considered down: commands fail fast until a reconnect, retried
  // with capped exponential backoff and jitter, succeeds.
  void ConnectionLost(const absl::Status& status, bool reconnect_now = false) {
    CloseConnection();
    phase_ = Phase::kIdle;
    std::deque<Pending> inflight;
    inflight.swap(inflight_);
    if (reconnect_now) {
      next_attempt_ = Clock::now();
    } else {
      failing_ = true;
      last_error_ = status;
      next_attempt_ = Clock::now() + NextBackoff();
      {
        std::lock_guard<std::mutex> lock(mu_);
        fail_fast_ = std::string(FailFastStatus().message());
      }
    }
    for (Pending& p : inflight) {
      if (p.step == Step::kUser) Complete(p, status);
    }
    if (!reconnect_now) {
      std::deque<Pending> waiting;
      waiting.swap(waiting_);
      for (Pending& p : waiting) Complete(p, status);
    }
  }

  absl::Status FailFastStatus() const {
    return absl::UnavailableError(absl::StrCat(
        last_error_.message(), " (disconnected; reconnecting in background)"));
  }

  Clock::duration NextBackoff() {
    absl::Duration cap = options_.reconnect_backoff_initial;
    for (int i = 0; i < attempts_ && cap < options_.reconnect_backoff_max;
         ++i) {
      cap *= 2;
    }
    cap = std::min(cap, options_.reconnect_backoff_max);
    ++attempts_;
    // Half fixed, half random: spreads replicas' reconnects without ever
    // retrying in a tight loop.
    absl::Duration delay = cap / 2 + absl::Uniform(gen_, 0.0, 1.0) * (cap / 2);
    return std::chrono::duration_cast<Clock::duration>(
        absl::ToChronoNanoseconds(delay));
  }

  void Complete(Pending& p, absl::StatusOr<RedisReply> result) {
    pending_.fetch_sub(1, std::memory_order_relaxed);
    // One error often goes to many callbacks, which hand it to other
    // threads. Each gets a Status of its own rather than a copy sharing one
    // reference-counted rep: abseil is not built with TSan, which then sees
    // the last Unref's delete as racing with another thread's read.
    if (!result.ok()) {
      result = absl::Status(result.status().code(), result.status().message());
    }
    std::move(p.done)(std::move(result));
  }

  void Shutdown(std::vector<Pending> incoming) {
    CloseConnection();
    absl::Status status =
        absl::CancelledError(absl::StrCat(where_, ": client shutting down"));
    for (Pending& p : inflight_) {
      if (p.step == Step::kUser) Complete(p, status);
    }
    inflight_.clear();
    for (Pending& p : waiting_) Complete(p, status);
    waiting_.clear();
    for (Pending& p : incoming) Complete(p, status);
  }

  struct Address {
    sockaddr_storage storage{};
    socklen_t len = 0;
    int family = AF_INET;
  };

  const RedisOptions options_;
  const std::string where_;  // "redis host:port", the prefix of errors.
  const SslCtxPtr ssl_ctx_;
  const int wake_fd_;

  mutable std::mutex mu_;
  std::vector<Pending> incoming_;  // Guarded by mu_.
  bool stopping_ = false;          // Guarded by mu_.
  // Guarded by mu_; the error of a fail-fast Command(), empty while
  // connected or connecting for the first time.
  std::string fail_fast_;
  // Accepted and not completed; changed under mu_ when added, decremented
  // by the loop alone.
  std::atomic<std::size_t> pending_{0};
  std::atomic<bool> connected_{false};

  // Owned by the loop thread.
  Phase phase_ = Phase::kIdle;
  Clock::time_point next_attempt_ = Clock::now();
  Clock::time_point connect_deadline_;
  int attempts_ = 0;
  // The last connection was left for answering READONLY, MASTERDOWN or
  // LOADING, and no command has succeeded since.
  bool unfit_ = false;
  bool failing_ = false;
  absl::Status last_error_;
  std::vector<Address> addresses_;
  std::size_t next_address_ = 0;
  std::string last_connect_error_;
  int fd_ = -1;
  SSL* ssl_ = nullptr;
  redisReader* reader_ = nullptr;
  ReplyBudget budget_;
  std::string wbuf_;
  std::size_t wpos_ = 0;
  bool tls_wants_write_ = false;
  bool read_wants_write_ = false;
  bool write_wants_read_ = false;
  std::deque<Pending> waiting_;   // Before the connection is ready.
  std::deque<Pending> inflight_;  // Sent, in reply order.
  absl::BitGen gen_;

  std::thread thread_;  // Last: starts after every member is initialised.
};

absl::StatusOr<std::unique_ptr<RedisClient>> RedisClient::Create(
    RedisOptions options) {
  if (options.host.empty()) {
    return absl::InvalidArgumentError("redis: host is empty");
  }
  std::string where = absl::StrCat("redis ", options.host, ":", options.port);
  if (options.port <= 0 || options.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": bad port"));
  }
  if (options.database < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": database must not be negative"));
  }
  if (options.max_pending == 0 || options.max_reply_bytes == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": max_pending and max_reply_bytes must be > 0"));
  }
  if (options.connect_timeout <= absl::ZeroDuration() ||
      options.command_timeout <= absl::ZeroDuration() ||
      options.reconnect_backoff_initial <= absl::ZeroDuration() ||
      options.reconnect_backoff_max < options.reconnect_backoff_initial) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": timeouts and backoff must be positive"));
  }
  if (options.username.has_value() && !options.password.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": a username needs a password"));
  }
  SslCtxPtr ctx;
  if (options.tls) {
    ctx.reset(SSL_CTX_new(TLS_client_method()));
    if (ctx == nullptr) {
      return absl::InternalError(
          absl::StrCat(where, ": SSL_CTX_new: ", OpenSslError()));
    }
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
    // Partial writes and a moving buffer: the write buffer is a std::string
    // that grows while a write is pending.
    SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE |
                                    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    int rc = options.tls_ca_file.empty()
                 ? SSL_CTX_set_default_verify_paths(ctx.get())
                 : SSL_CTX_load_verify_locations(
                       ctx.get(), options.tls_ca_file.c_str(), nullptr);
    if (rc != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": cannot load TLS CA file '",
                       options.tls_ca_file, "': ", OpenSslError()));
    }
  }
  int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) {
    return absl::InternalError(
        absl::StrCat(where, ": eventfd: ", Errno(errno)));
  }
  auto impl =
      std::make_unique<Impl>(std::move(options), std::move(ctx), wake_fd);
  return std::unique_ptr<RedisClient>(new RedisClient(std::move(impl)));
}

RedisClient::RedisClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RedisClient::~RedisClient() = default;

void RedisClient::Command(const std::vector<std::string>& argv, Callback done) {
  impl_->Command(argv, impl_->default_timeout(), std::move(done));
}

void RedisClient::Command(const std::vector<std::string>& argv,
                          absl::Duration timeout, Callback done) {
  impl_->Command(argv, timeout, std::move(done));
}

bool RedisClient::connected() const { return impl_->connected(); }

std::string RedisClient::last_error() const { return impl_->last_error(); }

}  // namespace certbridge
