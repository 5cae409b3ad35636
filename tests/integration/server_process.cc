#include "tests/integration/server_process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

extern char** environ;

namespace certbridge::testing {

ProcessSample SampleProcess(pid_t pid) {
  ProcessSample out;
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    auto value = [&](absl::string_view key, long* field) {
      if (absl::StartsWith(line, key)) {
        absl::string_view rest = absl::StripAsciiWhitespace(absl::StripSuffix(
            absl::string_view(line).substr(key.size()), "kB"));
        (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(rest), field);
      }
    };
    long threads = 0;
    value("VmRSS:", &out.rss_kib);
    value("VmHWM:", &out.peak_kib);
    value("Threads:", &threads);
    if (threads != 0) out.threads = static_cast<int>(threads);
  }
  std::error_code ignored;
  for (auto it = std::filesystem::directory_iterator(
           absl::StrCat("/proc/", pid, "/fd"), ignored);
       it != std::filesystem::directory_iterator(); ++it) {
    ++out.fds;
  }
  return out;
}

std::unique_ptr<ServerProcess> ServerProcess::Start(
    const std::string& binary, const std::string& dir,
    const std::string& config_json) {
  const std::string config = dir + "/config.json";
  const std::string port_file = dir + "/grpc.port";
  const std::string metrics_port_file = dir + "/metrics.port";
  const std::string log = dir + "/server.log";
  std::ofstream(config) << config_json;
  std::filesystem::remove(port_file);
  std::filesystem::remove(metrics_port_file);
  std::string config_flag = "--config=" + config;
  std::string port_flag = "--port_file=" + port_file;
  std::string metrics_port_flag = "--metrics_port_file=" + metrics_port_file;
  char* argv[] = {const_cast<char*>(binary.c_str()), config_flag.data(),
                  port_flag.data(), metrics_port_flag.data(), nullptr};
  std::unique_ptr<ServerProcess> p(new ServerProcess());
  p->log_path_ = log;
  // fork/exec rather than posix_spawn for PR_SET_PDEATHSIG: a test binary
  // that crashes or is killed by ctest's timeout takes its servers with it.
  const pid_t parent = getpid();
  p->pid_ = fork();
  if (p->pid_ < 0) {
    ADD_FAILURE() << "cannot start " << binary;
    return nullptr;
  }
  if (p->pid_ == 0) {
    // Only async-signal-safe calls between fork and exec.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) dup2(fd, STDERR_FILENO);
    execve(binary.c_str(), argv, environ);
    _exit(127);
  }
  // Polls for the port file, generously: a loaded machine can take a while
  // to exec and start the server.
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (absl::Now() < give_up) {
    std::ifstream in(port_file);
    int port = 0;
    if (in >> port && port > 0) {
      p->port_ = port;
      // Written before the gRPC port file, so complete by now.
      std::ifstream metrics_in(metrics_port_file);
      if (!(metrics_in >> p->metrics_port_)) p->metrics_port_ = 0;
      return p;
    }
    if (waitpid(p->pid_, nullptr, WNOHANG) == p->pid_) {
      p->pid_ = -1;
      break;
    }
    absl::SleepFor(absl::Milliseconds(20));  // polling, bounded by give_up
  }
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  ADD_FAILURE() << "certbridge-server did not start: " << text.str();
  return nullptr;
}

int ServerProcess::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  // Bounded, so a server that hangs in shutdown fails the test instead of
  // hanging it: SIGKILL after 60 s (a clean stop takes well under that
  // even on a loaded machine).
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  pid_t reaped = 0;
  while ((reaped = waitpid(pid_, &status, WNOHANG)) == 0 &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(10));  // polling, bounded by give_up
  }
  if (reaped == 0) {
    ADD_FAILURE() << "certbridge-server did not stop within 60 s of SIGTERM";
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return -1;
  }
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void ServerProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

}  // namespace certbridge::testing
