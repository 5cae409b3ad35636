#include "client/passkey_source.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iterator>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "client/file_io.h"

namespace certbridge::cli {
namespace {

// A passkey file is small; the cap only guards against a wrong path.
constexpr std::size_t kMaxPasskeyFileBytes = std::size_t{64} * 1024;

// What a signal handler needs to give the terminal its echo back. Written
// before the handlers are installed and cleared after they are removed.
volatile std::sig_atomic_t g_tty_fd = -1;
struct termios g_saved_termios;

extern "C" void RestoreTerminalAndReraise(int sig) {
  const int fd = g_tty_fd;
  if (fd >= 0) tcsetattr(fd, TCSAFLUSH, &g_saved_termios);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

constexpr int kRestoreSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

void WriteAll(int fd, absl::string_view text) {
  while (!text.empty()) {
    const ssize_t n = write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

absl::Status NoTerminal(absl::string_view why) {
  return absl::FailedPreconditionError(
      absl::StrCat("cannot prompt for the passkey (", why,
                   "); use --passkey_file=PATH or --passkey_env=VAR"));
}

}  // namespace

absl::StatusOr<std::string> ReadPasskeyFile(const std::string& path) {
  auto contents = ReadFileCapped(path, kMaxPasskeyFileBytes);
  if (!contents.ok()) return contents.status();
  std::string passkey = *std::move(contents);
  if (absl::EndsWith(passkey, "\r\n")) {
    passkey.resize(passkey.size() - 2);
  } else if (absl::EndsWith(passkey, "\n")) {
    passkey.pop_back();
  }
  return passkey;
}

absl::StatusOr<std::string> ReadPasskeyEnv(const std::string& name,
                                           const EnvLookup& lookup) {
  auto value = lookup(name);
  if (!value) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--passkey_env: environment variable ", name, " is not set"));
  }
  return *value;
}

absl::StatusOr<std::string> PromptOnTerminal(absl::string_view prompt) {
  const int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return NoTerminal(std::strerror(errno));
  struct termios saved;
  if (tcgetattr(fd, &saved) != 0) {
    const int err = errno;
    close(fd);
    return NoTerminal(std::strerror(err));
  }
  g_saved_termios = saved;
  g_tty_fd = fd;
  struct sigaction action;
  std::memset(&action, 0, sizeof(action));
  action.sa_handler = &RestoreTerminalAndReraise;
  sigemptyset(&action.sa_mask);
  struct sigaction previous[std::size(kRestoreSignals)];
  for (std::size_t i = 0; i < std::size(kRestoreSignals); ++i) {
    sigaction(kRestoreSignals[i], &action, &previous[i]);
  }

  struct termios quiet = saved;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHOE | ECHOK | ECHONL);
  quiet.c_lflag |= ICANON;
  tcsetattr(fd, TCSAFLUSH, &quiet);
  WriteAll(fd, prompt);

  std::string line;
  bool got_newline = false;
  absl::Status status;
  while (true) {
    char c;
    const ssize_t n = read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = absl::FailedPreconditionError(
          absl::StrCat("reading the passkey: ", std::strerror(errno)));
      break;
    }
    if (n == 0) break;  // Ctrl-D
    if (c == '\n') {
      got_newline = true;
      break;
    }
    line.push_back(c);
  }

  tcsetattr(fd, TCSAFLUSH, &saved);
  WriteAll(fd, "\n");
  for (std::size_t i = 0; i < std::size(kRestoreSignals); ++i) {
    sigaction(kRestoreSignals[i], &previous[i], nullptr);
  }
  g_tty_fd = -1;
  close(fd);

  if (!status.ok()) return status;
  if (!got_newline && line.empty()) {
    return absl::CancelledError("no passkey entered");
  }
  if (absl::EndsWith(line, "\r")) line.pop_back();
  return line;
}

absl::StatusOr<std::string> ResolvePasskey(
    const std::optional<std::string>& passkey_file,
    const std::optional<std::string>& passkey_env, const EnvLookup& lookup,
    const Prompter& prompt) {
  if (passkey_file) return ReadPasskeyFile(*passkey_file);
  if (passkey_env) return ReadPasskeyEnv(*passkey_env, lookup);
  return prompt("PKCS#12 passkey: ");
}

std::optional<std::string> LookupProcessEnv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

}  // namespace certbridge::cli
