#include "tests/emulator/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace certbridge::emulator {
namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::size_t kMaxChunkLine = 4096;

bool HasToken(absl::string_view list, absl::string_view token) {
  for (absl::string_view t : absl::StrSplit(list, ',')) {
    if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(t), token)) {
      return true;
    }
  }
  return false;
}

absl::Status ErrnoStatus(absl::string_view what) {
  return absl::UnavailableError(absl::StrCat(what, ": ", std::strerror(errno)));
}

// The oldest queued OpenSSL error as text (and the queue emptied).
std::string OpenSslError() {
  char text[256] = "unknown OpenSSL error";
  if (const unsigned long e = ERR_get_error(); e != 0) {
    ERR_error_string_n(e, text, sizeof(text));
  }
  ERR_clear_error();
  return text;
}

int ClampToInt(std::size_t n) {
  return static_cast<int>(std::min<std::size_t>(n, INT_MAX));
}

}  // namespace

std::string HttpRequest::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

absl::string_view HttpServer::ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Status";
  }
}

// One accepted socket: reads requests, calls the handler, writes replies.
// With `ssl` (a completed TLS session on `fd`) every byte goes through it.
class HttpServer::Connection final : public ConnectionControl {
 public:
  Connection(int fd, SSL* ssl, int stop_fd, const HttpServerOptions& options,
             const std::atomic<bool>& stopping)
      : fd_(fd),
        ssl_(ssl),
        stop_fd_(stop_fd),
        options_(options),
        stopping_(stopping) {}

  void Serve(const HttpHandler& handler) {
    while (!stopping_.load(std::memory_order_relaxed)) {
      HttpRequest request;
      if (!ReadRequest(&request)) break;
      HttpResponse response = handler(request, *this);
      if (response.drop) {
        // SO_LINGER 0 turns the close into an RST, like a crashed server;
        // with TLS no close_notify either.
        linger l{1, 0};
        setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
        return;
      }
      const bool close = response.close || ClientWantsClose(request);
      if (!SendResponse(response, close) || close) break;
    }
    // An orderly end of a TLS session: the client can tell it from a
    // truncation attack only by our close_notify.
    SendCloseNotify();
  }

  WaitResult Wait(absl::Duration duration) override {
    const absl::Time deadline = absl::Now() + duration;
    bool watch_tls_input = ssl_ != nullptr;
    while (true) {
      if (stopping_.load()) return WaitResult::kServerStopping;
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) return WaitResult::kElapsed;
      const int ms = static_cast<int>(std::min<int64_t>(
          absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1))),
          1000 * 1000));
      // POLLRDHUP (not POLLIN) for plain HTTP: a pipelined request must not
      // make this spin, but the peer's FIN or RST must end the wait at once.
      // With TLS also POLLIN until application data (or part of a record)
      // is seen: a client may send close_notify and keep the TCP
      // connection open for a moment, and only reading the record tells.
      const short events =
          static_cast<short>(POLLRDHUP | (watch_tls_input ? POLLIN : 0));
      pollfd fds[2] = {{fd_, events, 0}, {stop_fd_, POLLIN, 0}};
      const int r = poll(fds, 2, ms);
      if (r < 0) {
        if (errno == EINTR) continue;
        return WaitResult::kClientClosed;
      }
      if (fds[1].revents != 0) return WaitResult::kServerStopping;
      if ((fds[0].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0) {
        return WaitResult::kClientClosed;
      }
      if ((fds[0].revents & POLLIN) != 0) {
        switch (PeekTls()) {
          case Peek::kClosed:
            return WaitResult::kClientClosed;
          case Peek::kData:
            watch_tls_input = false;
            break;
          case Peek::kNothing:
            break;
        }
      }
    }
  }

 private:
  static bool ClientWantsClose(const HttpRequest& request) {
    auto it = request.headers.find("connection");
    if (request.version == "HTTP/1.0") {
      return it == request.headers.end() || !HasToken(it->second, "keep-alive");
    }
    return it != request.headers.end() && HasToken(it->second, "close");
  }

  std::size_t Buffered() const { return buf_.size() - pos_; }

  enum class Peek { kClosed, kData, kNothing };

  // Processes the TLS records that have arrived, without blocking: a
  // close_notify or a broken stream means the client has gone.
  Peek PeekTls() {
    const int flags = fcntl(fd_, F_GETFL);
    fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
    char byte;
    const int n = SSL_peek(ssl_, &byte, 1);
    const int error = n > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl_, n);
    fcntl(fd_, F_SETFL, flags);
    if (n > 0) return Peek::kData;
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
      // Either the records carried no application data (a key update) and
      // the socket is drained, or only part of a record is here: then the
      // socket stays readable, and watching it would spin.
      int unread = 0;
      ioctl(fd_, FIONREAD, &unread);
      return unread > 0 ? Peek::kData : Peek::kNothing;
    }
    NoteTlsError(error);
    return Peek::kClosed;
  }

  // After a fatal TLS error OpenSSL forbids SSL_shutdown; a clean
  // close_notify from the peer does not count.
  void NoteTlsError(int error) {
    if (error != SSL_ERROR_ZERO_RETURN) tls_failed_ = true;
    ERR_clear_error();
  }

  void SendCloseNotify() {
    if (ssl_ == nullptr || tls_failed_ ||
        stopping_.load(std::memory_order_relaxed) ||
        (SSL_get_shutdown(ssl_) & SSL_SENT_SHUTDOWN) != 0) {
      return;
    }
    // One-way: we do not wait for the client's close_notify.
    if (SSL_shutdown(ssl_) < 0) NoteTlsError(SSL_get_error(ssl_, -1));
  }

  // recv() or SSL_read(): >0 bytes, 0 on EOF or any error.
  std::size_t Read(char* out, std::size_t size) {
    if (ssl_ != nullptr) {
      const int n = SSL_read(ssl_, out, ClampToInt(size));
      if (n > 0) return static_cast<std::size_t>(n);
      NoteTlsError(SSL_get_error(ssl_, n));
      return 0;
    }
    ssize_t n;
    do {
      n = recv(fd_, out, size, 0);
    } while (n < 0 && errno == EINTR);
    return n > 0 ? static_cast<std::size_t>(n) : 0;
  }

  // Appends what the socket has to buf_; false on EOF, error or shutdown.
  bool Fill() {
    if (pos_ == buf_.size()) {
      buf_.clear();
      pos_ = 0;
    } else if (pos_ > kReadChunk) {
      buf_.erase(0, pos_);
      pos_ = 0;
    }
    const std::size_t old = buf_.size();
    buf_.resize(old + kReadChunk);
    const std::size_t n = Read(&buf_[old], kReadChunk);
    buf_.resize(old + n);
    return n > 0;
  }

  bool SendAll(absl::string_view data) {
    if (ssl_ != nullptr) {
      while (!data.empty()) {
        const int n = SSL_write(ssl_, data.data(), ClampToInt(data.size()));
        if (n <= 0) {
          NoteTlsError(SSL_get_error(ssl_, n));
          return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
      }
      return true;
    }
    while (!data.empty()) {
      const ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  bool SendResponse(const HttpResponse& response, bool close) {
    std::string head;
    head.reserve(256);
    absl::StrAppend(&head, "HTTP/1.1 ", response.status, " ",
                    ReasonPhrase(response.status), "\r\n");
    bool has_type = false;
    for (const auto& [name, value] : response.headers) {
      if (absl::EqualsIgnoreCase(name, "content-length") ||
          absl::EqualsIgnoreCase(name, "connection")) {
        continue;
      }
      if (absl::EqualsIgnoreCase(name, "content-type")) has_type = true;
      absl::StrAppend(&head, name, ": ", value, "\r\n");
    }
    if (!has_type && !response.body.empty()) {
      head += "Content-Type: application/json\r\n";
    }
    absl::StrAppend(&head, "Content-Length: ", response.body.size(),
                    "\r\nConnection: ", close ? "close" : "keep-alive",
                    "\r\n\r\n");
    if (response.body.size() <= kReadChunk) {
      head += response.body;
      return SendAll(head);
    }
    return SendAll(head) && SendAll(response.body);
  }

  // Replies with a plain error and reports that the connection must close.
  bool Reject(int status, absl::string_view message) {
    HttpResponse r;
    r.status = status;
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = absl::StrCat("{\"error\":\"", message, "\"}");
    SendResponse(r, /*close=*/true);
    // Let the client read the reply before the close can turn into an RST
    // because of unread request bytes.
    SendCloseNotify();
    shutdown(fd_, SHUT_WR);
    return false;
  }

  // Reads one request; false when the connection must close (EOF, error,
  // or a rejection that has already been answered).
  bool ReadRequest(HttpRequest* request) {
    // The head.
    std::size_t scanned = pos_;
    std::size_t end;
    while (true) {
      // Tolerate empty lines between requests (RFC 9112 §2.2).
      while (Buffered() >= 2 && buf_[pos_] == '\r' && buf_[pos_ + 1] == '\n') {
        pos_ += 2;
        scanned = std::max(scanned, pos_);
      }
      end = buf_.find("\r\n\r\n", scanned);
      if (end != std::string::npos) break;
      if (Buffered() > options_.max_header_bytes) {
        return Reject(431, "request head too large");
      }
      scanned = buf_.size() >= 3 ? std::max(pos_, buf_.size() - 3) : pos_;
      const std::size_t before = pos_;
      if (!Fill()) return false;
      // Fill() may have compacted the buffer.
      if (pos_ != before) scanned = pos_;
    }
    absl::string_view head(buf_.data() + pos_, end - pos_);
    pos_ = end + 4;
    if (head.size() > options_.max_header_bytes) {
      return Reject(431, "request head too large");
    }

    const std::size_t line_end = head.find("\r\n");
    absl::string_view line = head.substr(0, line_end);
    std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
    if (parts.size() != 3 || parts[0].empty() || parts[1].empty() ||
        !absl::StartsWith(parts[2], "HTTP/1.")) {
      return Reject(400, "malformed request line");
    }
    request->method = std::string(parts[0]);
    request->target = std::string(parts[1]);
    request->version = std::string(parts[2]);
    const std::size_t q = request->target.find('?');
    request->path = request->target.substr(0, q);
    if (q != std::string::npos) request->query = request->target.substr(q + 1);

    if (line_end != absl::string_view::npos) {
      absl::string_view rest = head.substr(line_end + 2);
      for (absl::string_view h : absl::StrSplit(rest, "\r\n")) {
        const std::size_t colon = h.find(':');
        if (colon == absl::string_view::npos || colon == 0 || h[0] == ' ' ||
            h[0] == '\t') {
          return Reject(400, "malformed header");
        }
        std::string name = absl::AsciiStrToLower(h.substr(0, colon));
        std::string value(absl::StripAsciiWhitespace(h.substr(colon + 1)));
        auto [it, inserted] = request->headers.emplace(name, value);
        if (!inserted) absl::StrAppend(&it->second, ", ", value);
      }
    }

    // The body.
    const bool expects_continue =
        request->version != "HTTP/1.0" &&
        absl::EqualsIgnoreCase(request->Header("expect"), "100-continue");
    auto te = request->headers.find("transfer-encoding");
    if (te != request->headers.end()) {
      if (!HasToken(te->second, "chunked")) {
        return Reject(501, "unsupported transfer-encoding");
      }
      if (expects_continue && Buffered() == 0 &&
          !SendAll("HTTP/1.1 100 Continue\r\n\r\n")) {
        return false;
      }
      return ReadChunked(&request->body);
    }
    auto cl = request->headers.find("content-length");
    if (cl == request->headers.end()) return true;
    std::uint64_t length = 0;
    if (cl->second.empty() ||
        !std::all_of(cl->second.begin(), cl->second.end(),
                     [](char c) { return c >= '0' && c <= '9'; }) ||
        !absl::SimpleAtoi(cl->second, &length)) {
      return Reject(400, "bad content-length");
    }
    if (length > options_.max_body_bytes) {
      return Reject(413, "request body too large");
    }
    if (expects_continue && length > Buffered() &&
        !SendAll("HTTP/1.1 100 Continue\r\n\r\n")) {
      return false;
    }
    std::string& body = request->body;
    const std::size_t want = static_cast<std::size_t>(length);
    const std::size_t have = std::min(want, Buffered());
    body.assign(buf_, pos_, have);
    pos_ += have;
    if (have < want) {
      // Receive the rest straight into the body: no second copy.
      body.resize(want);
      std::size_t got = have;
      while (got < want) {
        const std::size_t n = Read(&body[got], want - got);
        if (n == 0) return false;
        got += n;
      }
    }
    return true;
  }

  // Makes at least `n` bytes available after pos_.
  bool Need(std::size_t n) {
    while (Buffered() < n) {
      if (!Fill()) return false;
    }
    return true;
  }

  bool ReadChunked(std::string* body) {
    while (true) {
      std::size_t eol;
      while ((eol = buf_.find("\r\n", pos_)) == std::string::npos) {
        if (Buffered() > kMaxChunkLine) return Reject(400, "bad chunk");
        if (!Fill()) return false;
      }
      absl::string_view size_line(buf_.data() + pos_, eol - pos_);
      size_line = size_line.substr(0, size_line.find(';'));
      size_line = absl::StripAsciiWhitespace(size_line);
      std::uint64_t size = 0;
      if (size_line.empty() || size_line.size() > 15 ||
          !absl::SimpleHexAtoi(size_line, &size)) {
        return Reject(400, "bad chunk size");
      }
      pos_ = eol + 2;
      if (size == 0) break;
      if (body->size() + size > options_.max_body_bytes) {
        return Reject(413, "request body too large");
      }
      const std::size_t chunk = static_cast<std::size_t>(size);
      if (!Need(chunk + 2)) return false;
      body->append(buf_, pos_, chunk);
      pos_ += chunk;
      if (buf_.compare(pos_, 2, "\r\n") != 0) return Reject(400, "bad chunk");
      pos_ += 2;
    }
    // Trailer section: header lines up to an empty line.
    while (true) {
      std::size_t eol;
      while ((eol = buf_.find("\r\n", pos_)) == std::string::npos) {
        if (Buffered() > options_.max_header_bytes) {
          return Reject(431, "trailers too large");
        }
        if (!Fill()) return false;
      }
      const bool empty = eol == pos_;
      pos_ = eol + 2;
      if (empty) return true;
    }
  }

  const int fd_;
  SSL* const ssl_;
  const int stop_fd_;
  const HttpServerOptions& options_;
  const std::atomic<bool>& stopping_;
  bool tls_failed_ = false;
  std::string buf_;
  std::size_t pos_ = 0;
};

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : options_(std::move(options)), handler_(std::move(handler)) {}

absl::Status HttpServer::LoadTls() {
  const std::string& cert = options_.tls_cert_file;
  const std::string& key = options_.tls_key_file;
  if (cert.empty() && key.empty()) return absl::OkStatus();
  if (cert.empty() || key.empty()) {
    return absl::InvalidArgumentError(
        "tls_cert_file and tls_key_file must be set together");
  }
  ssl_ctx_ = SSL_CTX_new(TLS_server_method());
  if (ssl_ctx_ == nullptr) {
    return absl::InternalError(absl::StrCat("SSL_CTX_new: ", OpenSslError()));
  }
  SSL_CTX_set_min_proto_version(ssl_ctx_, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ssl_ctx_, cert.c_str()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot load TLS certificate ", cert, ": ", OpenSslError()));
  }
  if (SSL_CTX_use_PrivateKey_file(ssl_ctx_, key.c_str(), SSL_FILETYPE_PEM) !=
          1 ||
      SSL_CTX_check_private_key(ssl_ctx_) != 1) {
    // The message names the file, never its content.
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot load TLS key ", key, " for ", cert, ": ", OpenSslError()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    HttpServerOptions options, HttpHandler handler) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(options.port);
  const int gai =
      getaddrinfo(options.host.empty() ? nullptr : options.host.c_str(),
                  port.c_str(), &hints, &found);
  if (gai != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot resolve ", options.host, ": ", gai_strerror(gai)));
  }
  std::unique_ptr<HttpServer> server(
      new HttpServer(std::move(options), std::move(handler)));
  if (absl::Status tls = server->LoadTls(); !tls.ok()) {
    freeaddrinfo(found);
    return tls;
  }
  const int fd = socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC,
                        found->ai_protocol);
  if (fd < 0) {
    freeaddrinfo(found);
    return ErrnoStatus("socket");
  }
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, found->ai_addr, found->ai_addrlen) != 0 ||
      listen(fd, 1024) != 0) {
    absl::Status s = ErrnoStatus(absl::StrCat(
        "bind/listen ", server->options_.host, ":", server->options_.port));
    freeaddrinfo(found);
    close(fd);
    return s;
  }
  freeaddrinfo(found);
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  server->port_ = ntohs(addr.ss_family == AF_INET6
                            ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                            : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  server->listen_fd_ = fd;
  server->stop_fd_ = eventfd(0, EFD_CLOEXEC);
  if (server->stop_fd_ < 0) return ErrnoStatus("eventfd");
  server->acceptor_ = std::thread(&HttpServer::AcceptLoop, server.get());
  return server;
}

HttpServer::~HttpServer() {
  Stop();
  SSL_CTX_free(ssl_ctx_);
}

void HttpServer::AcceptLoop() {
  while (!stopping_.load()) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0 && errno != EINTR) break;
    if (stopping_.load() || fds[1].revents != 0) break;
    if ((fds[0].revents & POLLIN) == 0) continue;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      continue;
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    ReapFinished();
    std::lock_guard<std::mutex> lock(mu_);
    const std::uint64_t id = next_id_++;
    open_fds_[id] = fd;
    threads_[id] = std::thread(&HttpServer::ServeConnection, this, id, fd);
  }
}

void HttpServer::ServeConnection(std::uint64_t id, int fd) {
  if (ssl_ctx_ != nullptr) {
    ServeTls(fd);
  } else {
    Connection connection(fd, nullptr, stop_fd_, options_, stopping_);
    connection.Serve(handler_);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    open_fds_.erase(id);
    finished_.push_back(id);
  }
  // Closed after leaving open_fds_, so Stop() never shuts down a reused fd.
  close(fd);
}

void HttpServer::ServeTls(int fd) {
  // OpenSSL writes with write(2), not send(MSG_NOSIGNAL): a reply to a client
  // that has gone would raise SIGPIPE and kill the test binary. Blocked in
  // this (connection-only) thread the write fails with EPIPE instead, and
  // the pending signal is discarded when the thread ends.
  sigset_t sigpipe;
  sigemptyset(&sigpipe);
  sigaddset(&sigpipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &sigpipe, nullptr);

  SSL* ssl = SSL_new(ssl_ctx_);
  if (ssl == nullptr || SSL_set_fd(ssl, fd) != 1) {
    ERR_clear_error();
    SSL_free(ssl);
    return;
  }
  // Blocking, in this thread, so a slow or silent client delays nobody
  // else; Stop() shuts the socket down, which ends a pending SSL_accept.
  if (SSL_accept(ssl) != 1) {
    if (!stopping_.load()) handshake_failures_.fetch_add(1);
    ERR_clear_error();
    SSL_free(ssl);
    return;
  }
  {
    Connection connection(fd, ssl, stop_fd_, options_, stopping_);
    connection.Serve(handler_);
  }
  ERR_clear_error();
  SSL_free(ssl);
}

void HttpServer::ReapFinished() {
  std::vector<std::thread> done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (std::uint64_t id : finished_) {
      auto it = threads_.find(id);
      if (it == threads_.end()) continue;
      done.push_back(std::move(it->second));
      threads_.erase(it);
    }
    finished_.clear();
  }
  for (std::thread& t : done) t.join();
}

void HttpServer::Stop() {
  std::lock_guard<std::mutex> stop_lock(stop_mu_);
  if (stopped_) return;
  stopped_ = true;
  stopping_.store(true);
  const std::uint64_t one = 1;
  if (write(stop_fd_, &one, sizeof(one)) < 0) {
    // The eventfd cannot be full after one write; nothing else to do.
  }
  shutdown(listen_fd_, SHUT_RDWR);
  if (acceptor_.joinable()) acceptor_.join();
  close(listen_fd_);
  std::map<std::uint64_t, std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, fd] : open_fds_) shutdown(fd, SHUT_RDWR);
    threads.swap(threads_);
    finished_.clear();
  }
  for (auto& [id, t] : threads) t.join();
  close(stop_fd_);
}

}  // namespace certbridge::emulator
