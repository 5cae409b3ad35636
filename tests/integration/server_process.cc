#include "tests/integration/server_process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
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
  const std::string log = dir + "/server.log";
  std::ofstream(config) << config_json;
  std::filesystem::remove(port_file);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  std::string config_flag = "--config=" + config;
  std::string port_flag = "--port_file=" + port_file;
  char* argv[] = {const_cast<char*>(binary.c_str()), config_flag.data(),
                  port_flag.data(), nullptr};
  std::unique_ptr<ServerProcess> p(new ServerProcess());
  const int rc =
      posix_spawn(&p->pid_, binary.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    ADD_FAILURE() << "cannot start " << binary;
    return nullptr;
  }
  // Polls for the port file, generously: a loaded machine can take a while
  // to exec and start the server.
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (absl::Now() < give_up) {
    std::ifstream in(port_file);
    int port = 0;
    if (in >> port && port > 0) {
      p->port_ = port;
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
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

}  // namespace certbridge::testing
