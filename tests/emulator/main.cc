// certbridge-emulator: serves the emulated vendor REST APIs until SIGINT or
// SIGTERM. Wiring only; see emulator.h.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/app/build_info.h"
#include "tests/emulator/emulator.h"

ABSL_FLAG(std::string, host, "127.0.0.1", "Address to listen on.");
ABSL_FLAG(int, port, 8089, "Port to listen on; 0 picks a free one.");
ABSL_FLAG(std::string, port_file, "",
          "If set, the bound port is written there once listening.");
ABSL_FLAG(std::string, leegality_token, "",
          "Token Leegality requests must carry (default: env "
          "EMULATOR_LEEGALITY_TOKEN, else emulator-leegality-token).");
ABSL_FLAG(std::string, apinizer_token, "",
          "Token Apinizer requests must carry (default: env "
          "EMULATOR_APINIZER_TOKEN, else emulator-apinizer-token).");
ABSL_FLAG(std::string, leegality_client_id, "",
          "Client id POST /api/v1/auth/token accepts (default: "
          "emulator-client).");
ABSL_FLAG(std::string, leegality_client_secret, "",
          "Client secret POST /api/v1/auth/token accepts (default: env "
          "EMULATOR_LEEGALITY_CLIENT_SECRET, else emulator-secret).");
ABSL_FLAG(std::string, apinizer_client_id, "",
          "client_id POST /apiops/auth/token accepts (default: "
          "emulator-client).");
ABSL_FLAG(std::string, apinizer_client_secret, "",
          "client_secret POST /apiops/auth/token accepts (default: env "
          "EMULATOR_APINIZER_CLIENT_SECRET, else emulator-secret).");
ABSL_FLAG(absl::Duration, token_ttl, absl::Hours(1),
          "Lifetime of tokens the token endpoints issue, e.g. 30s.");
ABSL_FLAG(std::string, tls_cert_file, "",
          "PEM certificate (chain); with --tls_key_file the emulator serves "
          "HTTPS.");
ABSL_FLAG(std::string, tls_key_file, "", "PEM private key for HTTPS.");

namespace {

// The flag if set, else the environment variable `env` (none when ""), else
// `fallback`. Secrets can come from the environment so that they do not
// show in `ps`.
std::string TokenFrom(const std::string& flag, const char* env,
                      const std::string& fallback) {
  if (!flag.empty()) return flag;
  const char* value = *env != '\0' ? std::getenv(env) : nullptr;
  return value != nullptr && *value != '\0' ? value : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "certbridge-emulator [--host=ADDR] [--port=N] [--port_file=FILE]: the "
      "Leegality SignStation and Apinizer API Ops REST emulator");
  // --help lists this binary's flags; --version says what is built.
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::EndsWith(file, "tests/emulator/main.cc");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  usage.version_string = [] {
    return absl::StrCat("certbridge-emulator ", certbridge::kBuildVersion,
                        " (revision ", certbridge::kBuildRevision, ")\n");
  };
  absl::SetFlagsUsageConfig(usage);
  absl::ParseCommandLine(argc, argv);
  using certbridge::emulator::Emulator;
  using certbridge::emulator::EmulatorOptions;
  using certbridge::emulator::RecordedRequest;

  // Block the signals before any thread starts so that every thread
  // inherits the mask and sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  EmulatorOptions options;
  options.host = absl::GetFlag(FLAGS_host);
  options.port = absl::GetFlag(FLAGS_port);
  options.leegality_token =
      TokenFrom(absl::GetFlag(FLAGS_leegality_token),
                "EMULATOR_LEEGALITY_TOKEN", options.leegality_token);
  options.apinizer_token =
      TokenFrom(absl::GetFlag(FLAGS_apinizer_token), "EMULATOR_APINIZER_TOKEN",
                options.apinizer_token);
  options.leegality_client_id =
      TokenFrom(absl::GetFlag(FLAGS_leegality_client_id), "",
                options.leegality_client_id);
  options.leegality_client_secret = TokenFrom(
      absl::GetFlag(FLAGS_leegality_client_secret),
      "EMULATOR_LEEGALITY_CLIENT_SECRET", options.leegality_client_secret);
  options.apinizer_client_id = TokenFrom(
      absl::GetFlag(FLAGS_apinizer_client_id), "", options.apinizer_client_id);
  options.apinizer_client_secret = TokenFrom(
      absl::GetFlag(FLAGS_apinizer_client_secret),
      "EMULATOR_APINIZER_CLIENT_SECRET", options.apinizer_client_secret);
  options.token_ttl = absl::GetFlag(FLAGS_token_ttl);
  options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  options.tls_key_file = absl::GetFlag(FLAGS_tls_key_file);
  options.on_request = [](const RecordedRequest& r) {
    // One line per request, never headers or bodies (tokens, passkeys).
    std::string line = absl::StrCat(
        absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", r.arrival,
                         absl::UTCTimeZone()),
        " ", r.api.empty() ? "-" : r.api, " ", r.method, " ", r.path, " ",
        r.status, r.reset ? " reset" : "",
        r.client_closed ? " client_closed" : "", " ",
        absl::ToInt64Milliseconds(absl::Now() - r.arrival), "ms\n");
    std::fwrite(line.data(), 1, line.size(), stderr);
  };

  auto emulator = Emulator::Start(options);
  if (!emulator.ok()) {
    std::cerr << "certbridge-emulator: " << emulator.status() << "\n";
    return 1;
  }
  const std::string port_file = absl::GetFlag(FLAGS_port_file);
  if (!port_file.empty()) {
    // Write then rename, so a script polling for the file never reads a
    // partial port.
    const std::string tmp = port_file + ".tmp";
    {
      std::ofstream out(tmp);
      out << (*emulator)->port() << "\n";
      if (!out) {
        std::cerr << "certbridge-emulator: cannot write " << tmp << "\n";
        return 1;
      }
    }
    if (std::rename(tmp.c_str(), port_file.c_str()) != 0) {
      std::cerr << "certbridge-emulator: cannot rename to " << port_file
                << "\n";
      return 1;
    }
  }
  std::cerr << "certbridge-emulator listening on " << (*emulator)->base_url()
            << " (leegality: /api/v1/certificates, apinizer: /apiops/, "
               "control: /__emulator/)"
            << std::endl;

  int sig = 0;
  sigwait(&signals, &sig);
  std::cerr << "certbridge-emulator: signal " << sig << ", stopping"
            << std::endl;
  emulator->reset();
  return 0;
}
