#include "server/http/curl_transport.h"

#include <curl/curl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace certbridge {
namespace {

using Clock = std::chrono::steady_clock;

struct SendCommand {
  HttpTransport::Id id;
  HttpRequest request;
  HttpTransport::ResponseCallback done;
};
struct TimerCommand {
  HttpTransport::Id id;
  Clock::time_point when;
  HttpTransport::TimerCallback done;
};
struct CancelCommand {
  HttpTransport::Id id;
};
using Command = std::variant<SendCommand, TimerCommand, CancelCommand>;

struct Transfer {
  HttpTransport::Id id = 0;
  CURL* easy = nullptr;
  HttpRequest request;
  curl_slist* headers = nullptr;
  HttpResponse response;
  HttpTransport::ResponseCallback done;
  std::size_t max_bytes = 0;
  std::size_t header_bytes = 0;
  bool too_large = false;
  char error[CURL_ERROR_SIZE] = {0};
};

long ToMillis(absl::Duration d) {
  const int64_t ms =
      absl::ToInt64Milliseconds(absl::Ceil(d, absl::Milliseconds(1)));
  return ms < 1 ? 1 : static_cast<long>(ms);
}

size_t OnBody(char* data, size_t size, size_t nmemb, void* userp) {
  auto* t = static_cast<Transfer*>(userp);
  const size_t n = size * nmemb;
  if (t->response.body.size() + n > t->max_bytes) {
    t->too_large = true;
    return 0;  // makes libcurl fail the transfer with CURLE_WRITE_ERROR
  }
  t->response.body.append(data, n);
  return n;
}

// Below libcurl's own 300 KiB header limit, whose CURLE_RECV_ERROR would
// read as a connection reset (and be retried): an endless header block is
// a response too large, like an endless body.
constexpr size_t kMaxHeaderBytes = size_t{256} * 1024;

size_t OnHeader(char* data, size_t size, size_t nmemb, void* userp) {
  auto* t = static_cast<Transfer*>(userp);
  const size_t n = size * nmemb;
  t->header_bytes += n;
  if (t->header_bytes > kMaxHeaderBytes) {
    t->too_large = true;
    return 0;  // CURLE_WRITE_ERROR, classified as kResponseTooLarge
  }
  absl::string_view line(data, n);
  if (absl::StartsWith(line, "HTTP/")) {
    // A new status line (after 100-continue): headers start over.
    t->response.headers.clear();
    return n;
  }
  const size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return n;
  t->response.headers.emplace_back(
      absl::AsciiStrToLower(line.substr(0, colon)),
      std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  return n;
}

TransportError Classify(CURLcode code, const Transfer& t) {
  long request_size = 0;
  curl_easy_getinfo(t.easy, CURLINFO_REQUEST_SIZE, &request_size);
  // libcurl counts request bytes only once they were written to the socket,
  // so zero proves the backend never saw this request.
  const bool sent = request_size > 0;
  std::string message =
      t.error[0] != '\0' ? std::string(t.error) : curl_easy_strerror(code);
  TransportError e;
  e.message = std::move(message);
  e.request_may_have_been_sent = sent;
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      e.kind = TransportErrorKind::kDnsFailure;
      e.request_may_have_been_sent = false;
      break;
    case CURLE_COULDNT_CONNECT:
      e.kind = TransportErrorKind::kConnectFailed;
      e.request_may_have_been_sent = false;
      break;
    case CURLE_OPERATION_TIMEDOUT:
      e.kind = sent ? TransportErrorKind::kTimeout
                    : TransportErrorKind::kConnectTimeout;
      break;
    case CURLE_SSL_CONNECT_ERROR:
      e.kind = TransportErrorKind::kTlsHandshake;
      e.request_may_have_been_sent = false;
      break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
      e.kind = TransportErrorKind::kTlsVerification;
      e.request_may_have_been_sent = false;
      break;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
      e.kind = TransportErrorKind::kConnectionReset;
      break;
    case CURLE_WRITE_ERROR:
      e.kind = t.too_large ? TransportErrorKind::kResponseTooLarge
                           : TransportErrorKind::kOther;
      break;
    default:
      e.kind = TransportErrorKind::kOther;
      // Unknown failures are treated as possibly sent: the safe side for
      // non-idempotent calls.
      e.request_may_have_been_sent = true;
      break;
  }
  return e;
}

}  // namespace

class CurlTransport::Impl {
 public:
  explicit Impl(CurlTransportOptions options) : options_(std::move(options)) {}

  ~Impl() {
    if (thread_.joinable()) {
      stopping_.store(true);
      Wake();
      thread_.join();
    }
    for (CURL* easy : free_handles_) curl_easy_cleanup(easy);
    if (multi_ != nullptr) curl_multi_cleanup(multi_);
    if (epoll_fd_ >= 0) close(epoll_fd_);
    if (wake_fd_ >= 0) close(wake_fd_);
  }

  absl::Status Start() {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epoll_fd_ < 0 || wake_fd_ < 0) {
      return absl::InternalError(
          absl::StrCat("epoll/eventfd: ", std::strerror(errno)));
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_fd_;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);

    multi_ = curl_multi_init();
    if (multi_ == nullptr) return absl::InternalError("curl_multi_init");
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &Impl::OnSocket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &Impl::OnTimer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS,
                      options_.max_host_connections);
    curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                      options_.max_total_connections);
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS,
                      options_.max_idle_connections);
    thread_ = std::thread([this] { Run(); });
    return absl::OkStatus();
  }

  Id NextId() { return next_id_.fetch_add(1, std::memory_order_relaxed); }

  void Enqueue(Command command) {
    std::unique_lock<std::mutex> lock(mu_);
    if (stopped_) {
      lock.unlock();
      // The loop is gone: nothing will ever run this, so it ends now.
      CompleteStopped(std::move(command));
      return;
    }
    const bool was_empty = commands_.empty();
    commands_.push_back(std::move(command));
    lock.unlock();
    // The loop drains the queue on every iteration, so only the transition
    // from empty needs a wake-up, and never from the loop thread itself.
    if (was_empty && std::this_thread::get_id() != loop_thread_id_) Wake();
  }

 private:
  static void CompleteStopped(Command command) {
    if (auto* send = std::get_if<SendCommand>(&command)) {
      send->done(TransportError{TransportErrorKind::kCancelled, false,
                                "the HTTP engine has stopped"});
    } else if (auto* timer = std::get_if<TimerCommand>(&command)) {
      timer->done(absl::CancelledError("the HTTP engine has stopped"));
    }
  }

  void Wake() {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
  }

  static int OnSocket(CURL* /*easy*/, curl_socket_t fd, int what, void* userp,
                      void* socketp) {
    auto* self = static_cast<Impl*>(userp);
    if (what == CURL_POLL_REMOVE) {
      // The fd may already be closed; a failing DEL is harmless.
      epoll_ctl(self->epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
      curl_multi_assign(self->multi_, fd, nullptr);
      return 0;
    }
    epoll_event ev{};
    ev.data.fd = fd;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) ev.events |= EPOLLIN;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) {
      ev.events |= EPOLLOUT;
    }
    if (socketp == nullptr) {
      if (epoll_ctl(self->epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0 &&
          errno == EEXIST) {
        epoll_ctl(self->epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
      }
      curl_multi_assign(self->multi_, fd, self);
    } else if (epoll_ctl(self->epoll_fd_, EPOLL_CTL_MOD, fd, &ev) != 0 &&
               errno == ENOENT) {
      epoll_ctl(self->epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    }
    return 0;
  }

  // libcurl's timer is one-shot: it asks for a single future call, and -1
  // cancels it. Keeping it as a periodic timer spins (performance study).
  static int OnTimer(CURLM* /*multi*/, long timeout_ms, void* userp) {
    auto* self = static_cast<Impl*>(userp);
    if (timeout_ms < 0) {
      self->curl_deadline_.reset();
    } else {
      self->curl_deadline_ =
          Clock::now() + std::chrono::milliseconds(timeout_ms);
    }
    return 0;
  }

  void Run() {
    loop_thread_id_ = std::this_thread::get_id();
    std::vector<epoll_event> events(128);
    int running = 0;
    while (!stopping_.load()) {
      const int timeout = NextWaitMillis();
      const int n = epoll_wait(epoll_fd_, events.data(),
                               static_cast<int>(events.size()), timeout);
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == wake_fd_) {
          uint64_t value;
          while (read(wake_fd_, &value, sizeof(value)) > 0) {
          }
          continue;
        }
        int flags = 0;
        if (events[i].events & EPOLLIN) flags |= CURL_CSELECT_IN;
        if (events[i].events & EPOLLOUT) flags |= CURL_CSELECT_OUT;
        if (events[i].events & (EPOLLERR | EPOLLHUP)) flags |= CURL_CSELECT_ERR;
        curl_multi_socket_action(multi_, fd, flags, &running);
      }
      DrainCommands();
      if (curl_deadline_ && *curl_deadline_ <= Clock::now()) {
        curl_deadline_.reset();
        curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
      }
      FireTimers();
      CollectDone();
    }
    Shutdown();
  }

  int NextWaitMillis() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!commands_.empty()) return 0;
    }
    std::optional<Clock::time_point> next = curl_deadline_;
    if (!timers_.empty()) {
      const auto first = timers_.begin()->first.first;
      if (!next || first < *next) next = first;
    }
    if (!next) return -1;
    const auto now = Clock::now();
    if (*next <= now) return 0;
    // Round up so we never wake a hair early and spin.
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(*next - now);
    return static_cast<int>(std::min<int64_t>(ms.count(), 60'000));
  }

  void DrainCommands() {
    std::vector<Command> batch;
    {
      std::lock_guard<std::mutex> lock(mu_);
      batch.swap(commands_);
    }
    for (Command& c : batch) {
      if (auto* send = std::get_if<SendCommand>(&c)) {
        StartTransfer(std::move(*send));
      } else if (auto* timer = std::get_if<TimerCommand>(&c)) {
        timer_ids_[timer->id] = timer->when;
        timers_.emplace(std::make_pair(timer->when, timer->id),
                        std::move(timer->done));
      } else {
        CancelNow(std::get<CancelCommand>(c).id);
      }
    }
  }

  CURL* AcquireHandle() {
    if (!free_handles_.empty()) {
      CURL* easy = free_handles_.back();
      free_handles_.pop_back();
      return easy;
    }
    return curl_easy_init();
  }

  void ReleaseHandle(CURL* easy) {
    curl_easy_reset(easy);
    free_handles_.push_back(easy);
  }

  void StartTransfer(SendCommand command) {
    auto t = std::make_unique<Transfer>();
    t->id = command.id;
    t->request = std::move(command.request);
    t->done = std::move(command.done);
    t->max_bytes = options_.max_response_bytes;
    t->easy = AcquireHandle();
    if (t->easy == nullptr) {
      auto done = std::move(t->done);
      done(TransportError{TransportErrorKind::kOther, false,
                          "curl_easy_init failed"});
      return;
    }
    Configure(*t);
    if (curl_multi_add_handle(multi_, t->easy) != CURLM_OK) {
      auto done = std::move(t->done);
      curl_slist_free_all(t->headers);
      ReleaseHandle(t->easy);
      done(TransportError{TransportErrorKind::kOther, false,
                          "curl_multi_add_handle failed"});
      return;
    }
    transfers_.emplace(t->id, std::move(t));
  }

  void Configure(Transfer& t) {
    CURL* e = t.easy;
    const HttpRequest& r = t.request;
    curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(e, CURLOPT_PRIVATE, &t);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    // Stubs build paths from validated, escaped segments; libcurl must send
    // them as they are instead of resolving dot segments itself.
    curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.error);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &OnBody);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &OnHeader);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, ToMillis(r.timeout));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     ToMillis(std::min(r.connect_timeout, r.timeout)));
    curl_easy_setopt(e, CURLOPT_USERAGENT, options_.user_agent.c_str());
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    if (!options_.system_ca_path.empty()) {
      curl_easy_setopt(e, CURLOPT_CAPATH, options_.system_ca_path.c_str());
    }
    if (!r.ca_file.empty()) {
      // The configured bundle replaces the system store: Debian's libcurl
      // also consults /etc/ssl/certs (its default CAPATH) unless told not to.
      curl_easy_setopt(e, CURLOPT_CAINFO, r.ca_file.c_str());
      curl_easy_setopt(e, CURLOPT_CAPATH, nullptr);
    }
    for (const auto& [name, value] : r.headers) {
      t.headers =
          curl_slist_append(t.headers, absl::StrCat(name, ": ", value).c_str());
    }
    // Without this libcurl may wait a second for "100 Continue" before
    // sending a large body.
    t.headers = curl_slist_append(t.headers, "Expect:");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t.headers);
    // When a reused keep-alive connection dies before the response, libcurl
    // silently sends the request again on a new one. GET and PUT (a full
    // replacement: sent twice, same result) may take that. A POST resent
    // could create twice, and a DELETE resent after the first one worked
    // answers not-found for a call that succeeded -- the service can only
    // turn that into OK when it knows an earlier attempt went out -- so
    // those get a fresh connection and every failure reaches the retry
    // policy.
    const bool may_reuse = r.method == "GET" || r.method == "PUT";
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, may_reuse ? 0L : 1L);
    if (r.method == "GET") {
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
      if (r.method != "POST") {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
      }
      const absl::string_view body = r.body_view();
      if (r.method == "POST" || !body.empty()) {
        // Not copied: the Transfer keeps the shared body alive.
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.data());
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(body.size()));
      }
    }
  }

  void CollectDone() {
    int pending = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &pending)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Transfer* raw = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &raw);
      const CURLcode code = msg->data.result;
      auto it = transfers_.find(raw->id);
      std::unique_ptr<Transfer> t = std::move(it->second);
      transfers_.erase(it);
      HttpResult result;
      if (code == CURLE_OK) {
        long status = 0;
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
        t->response.status_code = static_cast<int>(status);
        result = std::move(t->response);
      } else {
        result = Classify(code, *t);
      }
      Finish(std::move(t), std::move(result));
    }
  }

  void Finish(std::unique_ptr<Transfer> t, HttpResult result) {
    curl_multi_remove_handle(multi_, t->easy);
    curl_slist_free_all(t->headers);
    ReleaseHandle(t->easy);
    auto done = std::move(t->done);
    t.reset();
    done(std::move(result));
  }

  void FireTimers() {
    const auto now = Clock::now();
    while (!timers_.empty() && timers_.begin()->first.first <= now) {
      auto node = timers_.extract(timers_.begin());
      timer_ids_.erase(node.key().second);
      node.mapped()(absl::OkStatus());
    }
  }

  void CancelNow(Id id) {
    if (auto it = transfers_.find(id); it != transfers_.end()) {
      std::unique_ptr<Transfer> t = std::move(it->second);
      transfers_.erase(it);
      Finish(std::move(t),
             TransportError{TransportErrorKind::kCancelled, true, "cancelled"});
      return;
    }
    if (auto it = timer_ids_.find(id); it != timer_ids_.end()) {
      auto node = timers_.extract(std::make_pair(it->second, id));
      timer_ids_.erase(it);
      if (!node.empty()) node.mapped()(absl::CancelledError("cancelled"));
    }
  }

  // Completes everything still pending as cancelled. Completions can start
  // new work (a retry timer, a read-back, a token fetch); that is drained
  // and cancelled too, until nothing is left, so every `done` runs once.
  // Afterwards Enqueue() completes new commands at once (see there).
  void Shutdown() {
    while (true) {
      DrainCommands();
      if (transfers_.empty() && timer_ids_.empty()) {
        std::lock_guard<std::mutex> lock(mu_);
        if (commands_.empty()) {
          stopped_ = true;
          break;
        }
        continue;
      }
      while (!transfers_.empty()) CancelNow(transfers_.begin()->first);
      while (!timer_ids_.empty()) CancelNow(timer_ids_.begin()->first);
    }
  }

  CurlTransportOptions options_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  CURLM* multi_ = nullptr;
  std::thread thread_;
  std::atomic<std::thread::id> loop_thread_id_{};
  std::atomic<bool> stopping_{false};
  std::atomic<Id> next_id_{1};

  std::mutex mu_;
  std::vector<Command> commands_;  // guarded by mu_
  bool stopped_ = false;           // guarded by mu_

  // Loop-thread state.
  std::optional<Clock::time_point> curl_deadline_;
  std::unordered_map<Id, std::unique_ptr<Transfer>> transfers_;
  std::map<std::pair<Clock::time_point, Id>, TimerCallback> timers_;
  std::unordered_map<Id, Clock::time_point> timer_ids_;
  std::vector<CURL*> free_handles_;
};

absl::StatusOr<std::unique_ptr<CurlTransport>> CurlTransport::Create(
    CurlTransportOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  if (auto s = impl->Start(); !s.ok()) return s;
  return std::unique_ptr<CurlTransport>(new CurlTransport(std::move(impl)));
}

CurlTransport::CurlTransport(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

CurlTransport::~CurlTransport() = default;

HttpTransport::Id CurlTransport::Send(HttpRequest request,
                                      ResponseCallback done) {
  const Id id = impl_->NextId();
  impl_->Enqueue(SendCommand{id, std::move(request), std::move(done)});
  return id;
}

HttpTransport::Id CurlTransport::Schedule(absl::Duration delay,
                                          TimerCallback done) {
  const Id id = impl_->NextId();
  // Any delay is accepted: one too long for the clock's range (an infinite
  // one included) waits until cancelled instead of overflowing into "now".
  const auto now = Clock::now();
  const absl::Duration room =
      absl::FromChrono(Clock::time_point::max() - now) - absl::Seconds(1);
  const auto when =
      delay >= room ? Clock::time_point::max() - std::chrono::seconds(1)
                    : now + std::chrono::nanoseconds(absl::ToInt64Nanoseconds(
                                std::max(delay, absl::ZeroDuration())));
  impl_->Enqueue(TimerCommand{id, when, std::move(done)});
  return id;
}

void CurlTransport::Cancel(Id id) { impl_->Enqueue(CancelCommand{id}); }

}  // namespace certbridge
