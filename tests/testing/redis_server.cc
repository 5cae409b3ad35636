// See redis_server.h.
#include "tests/testing/redis_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/testing/reserved_port.h"

namespace certbridge::testing {
namespace {

constexpr char kRedisServer[] = "/usr/bin/redis-server";
constexpr auto kStartTimeout = std::chrono::seconds(30);
constexpr auto kPollInterval = std::chrono::milliseconds(20);

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A blocking PING over plain TCP; true on +PONG or -NOAUTH (both mean the
// server is up and answering).
bool Pings(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  timeval tv{};
  tv.tv_sec = 2;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = false;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) ==
      0) {
    const char ping[] = "PING\r\n";
    if (send(fd, ping, sizeof(ping) - 1, MSG_NOSIGNAL) ==
        static_cast<ssize_t>(sizeof(ping) - 1)) {
      char buf[64] = {};
      ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
      ok = n > 0 &&
           (absl::StartsWith(buf, "+PONG") || absl::StartsWith(buf, "-NOAUTH"));
    }
  }
  close(fd);
  return ok;
}

bool Accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok =
      connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

}  // namespace

RedisServer::RedisServer(RedisServerOptions options, std::string dir)
    : options_(std::move(options)), dir_(std::move(dir)) {}

absl::StatusOr<std::unique_ptr<RedisServer>> RedisServer::Start(
    RedisServerOptions options) {
  if (access(kRedisServer, X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(kRedisServer, " not found: run scripts/bootstrap.sh"));
  }
  std::string tmpl =
      (std::filesystem::temp_directory_path() / "certbridge-redis-XXXXXX")
          .string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp: ", std::strerror(errno)));
  }
  std::unique_ptr<RedisServer> server(
      new RedisServer(std::move(options), buf.data()));
  absl::Status last;
  // The port is free between Release() and redis-server's bind; another
  // process may take it, so a bind failure means "try another port".
  for (int attempt = 0; attempt < 5; ++attempt) {
    ReservedPort reserved;
    last = server->Launch(reserved.Release());
    if (last.ok()) return server;
    if (last.code() != absl::StatusCode::kFailedPrecondition) break;
  }
  return last;
}

RedisServer::~RedisServer() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string RedisServer::log_path() const { return dir_ + "/redis.log"; }

absl::Status RedisServer::Launch(int port) {
  port_ = port;
  std::string port_text = std::to_string(port);
  std::vector<std::string> args = {
      kRedisServer,   "--bind",    "127.0.0.1",   "--save", "",
      "--appendonly", "no",        "--daemonize", "no",     "--dir",
      dir_,           "--logfile", log_path()};
  if (options_.tls) {
    args.insert(args.end(),
                {"--port", "0", "--tls-port", port_text, "--tls-cert-file",
                 options_.tls_cert_file, "--tls-key-file",
                 options_.tls_key_file, "--tls-ca-cert-file",
                 options_.tls_ca_file, "--tls-auth-clients", "no"});
  } else {
    args.insert(args.end(), {"--port", port_text});
  }
  if (!options_.password.empty()) {
    args.insert(args.end(), {"--requirepass", options_.password});
  }
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  // A fresh log per launch: readiness and bind errors are read from it.
  std::filesystem::remove(log_path());

  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    int null_fd = open("/dev/null", O_RDWR);
    if (null_fd >= 0) {
      dup2(null_fd, STDIN_FILENO);
      dup2(null_fd, STDOUT_FILENO);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  pid_ = pid;
  paused_ = false;

  auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      std::string log = ReadFile(log_path());
      if (absl::StrContains(log, "Address already in use")) {
        return absl::FailedPreconditionError(
            absl::StrCat("redis-server: port ", port, " taken"));
      }
      return absl::InternalError(absl::StrCat(
          "redis-server exited at start (status ", status, "); log:\n", log));
    }
    if (absl::StrContains(ReadFile(log_path()),
                          "Ready to accept connections") &&
        (options_.tls ? Accepts(port) : Pings(port))) {
      return absl::OkStatus();
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
  return absl::DeadlineExceededError(absl::StrCat(
      "redis-server not ready after 30 s; log:\n", ReadFile(log_path())));
}

absl::Status RedisServer::Stop() {
  if (pid_ <= 0) return absl::OkStatus();
  kill(pid_, SIGTERM);
  // A paused process handles SIGTERM only once continued.
  if (paused_) kill(pid_, SIGCONT);
  paused_ = false;
  auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::OkStatus();
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
  return absl::DeadlineExceededError("redis-server ignored SIGTERM for 30 s");
}

absl::Status RedisServer::Pause() {
  if (pid_ <= 0) return absl::FailedPreconditionError("not running");
  if (kill(pid_, SIGSTOP) != 0) {
    return absl::InternalError(absl::StrCat("SIGSTOP: ", std::strerror(errno)));
  }
  // SIGSTOP is asynchronous: wait until the kernel reports it stopped.
  int status = 0;
  if (waitpid(pid_, &status, WUNTRACED) != pid_ || !WIFSTOPPED(status)) {
    return absl::InternalError("redis-server did not stop");
  }
  paused_ = true;
  return absl::OkStatus();
}

absl::Status RedisServer::Resume() {
  if (pid_ <= 0) return absl::FailedPreconditionError("not running");
  if (kill(pid_, SIGCONT) != 0) {
    return absl::InternalError(absl::StrCat("SIGCONT: ", std::strerror(errno)));
  }
  paused_ = false;
  return absl::OkStatus();
}

absl::Status RedisServer::Restart() {
  absl::Status stopped = Stop();
  if (!stopped.ok()) return stopped;
  // The old process is gone, but its port may be briefly held; redis-server
  // sets SO_REUSEADDR, so only a real squatter would keep failing.
  absl::Status last;
  for (int attempt = 0; attempt < 50; ++attempt) {
    last = Launch(port_);
    if (last.code() != absl::StatusCode::kFailedPrecondition) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return last;
}

}  // namespace certbridge::testing
