// certbridge-server: wiring only. Reads flags and the configuration file,
// starts a CertbridgeServer, serves gRPC until
// SIGINT/SIGTERM.
#include <curl/curl.h>
#include <malloc.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/app/build_info.h"
#include "server/app/certbridge_server.h"
#include "server/app/grpc_log.h"
#include "server/certificates/certificate_checks.h"
#include "server/common/log.h"
#include "server/config/server_config.h"

ABSL_FLAG(std::string, config, "",
          "Path of the JSON configuration file (env CERTBRIDGE_CONFIG).");
ABSL_FLAG(std::string, listen_address, "",
          "gRPC listen address, overriding the configuration file (env "
          "CERTBRIDGE_LISTEN_ADDRESS). Port 0 picks a free port.");
ABSL_FLAG(std::string, metrics_address, "",
          "Prometheus /metrics listen address, overriding the configuration "
          "file (env CERTBRIDGE_METRICS_ADDRESS); \"none\" disables it.");
ABSL_FLAG(std::string, metrics_port_file, "",
          "After start-up, write the bound metrics port to this file.");
ABSL_FLAG(std::string, health_port_file, "",
          "After start-up, write the bound port of health_listen_address to "
          "this file.");
ABSL_FLAG(std::string, port_file, "",
          "After start-up, write the bound gRPC port to this file.");
ABSL_FLAG(std::string, log_level, "",
          "debug, info, warning or error (overrides the configuration).");

namespace certbridge {
namespace {

std::string FlagOrEnv(const absl::Flag<std::string>& flag, const char* env) {
  std::string value = absl::GetFlag(flag);
  if (value.empty()) {
    if (const char* e = std::getenv(env)) value = e;
  }
  return value;
}

int Fail(absl::string_view message) {
  LogError("start-up failed", {{"error", std::string(message)}});
  return 1;
}

// The bound port is written atomically so a watcher never reads half a file.
bool WritePortFile(const std::string& path, int port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

int Run() {
  const std::string config_path = FlagOrEnv(FLAGS_config, "CERTBRIDGE_CONFIG");
  if (config_path.empty()) {
    return Fail(
        "no configuration: pass --config=FILE or set CERTBRIDGE_CONFIG");
  }
  auto config = LoadServerConfig(config_path);
  if (!config.ok()) return Fail(config.status().message());
  const std::string listen =
      FlagOrEnv(FLAGS_listen_address, "CERTBRIDGE_LISTEN_ADDRESS");
  if (!listen.empty()) config->listen_address = listen;
  const std::string metrics =
      FlagOrEnv(FLAGS_metrics_address, "CERTBRIDGE_METRICS_ADDRESS");
  if (!metrics.empty()) {
    config->metrics_address = metrics == "none" ? "" : metrics;
  }
  // Overrides get the file's checks: 127.0.0.1:99999 would otherwise bind
  // some other port.
  if (auto s = CheckAddresses(*config); !s.ok()) {
    return Fail(absl::StrCat("overridden address: ", s.message()));
  }
  std::string level_text = absl::GetFlag(FLAGS_log_level);
  if (level_text.empty()) level_text = config->log_level;
  LogLevel level;
  if (!ParseLogLevel(level_text, &level)) {
    return Fail("--log_level must be debug, info, warning or error");
  }
  Logger::Get().SetLevel(level);
  Logger::Get().StartAsyncWrites();
  RouteGrpcLogsToJson();
  LoadLegacyPkcs12Support();

  auto server = CertbridgeServer::Start(*config);
  if (!server.ok()) return Fail(server.status().message());
  // The metrics and health ports are written first: watchers wait for the
  // gRPC port.
  const std::string metrics_port_file = absl::GetFlag(FLAGS_metrics_port_file);
  if (!metrics_port_file.empty() &&
      !WritePortFile(metrics_port_file, (*server)->metrics_port())) {
    return Fail(
        absl::StrCat("cannot write --metrics_port_file ", metrics_port_file));
  }
  const std::string health_port_file = absl::GetFlag(FLAGS_health_port_file);
  if (!health_port_file.empty() &&
      !WritePortFile(health_port_file, (*server)->health_port())) {
    return Fail(
        absl::StrCat("cannot write --health_port_file ", health_port_file));
  }
  const std::string port_file = absl::GetFlag(FLAGS_port_file);
  if (!port_file.empty() && !WritePortFile(port_file, (*server)->port())) {
    return Fail(absl::StrCat("cannot write --port_file ", port_file));
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  int signal_number = 0;
  // SIGHUP (a closed terminal, or a habit of "reload") must not kill the
  // server without a drain: there is nothing to reload by signal.
  while (sigwait(&signals, &signal_number) == 0 && signal_number == SIGHUP) {
    LogWarning(
        "SIGHUP ignored: token and TLS files are re-read by themselves; "
        "configuration changes need a restart",
        {});
  }
  sigdelset(&signals, SIGHUP);
  LogInfo("shutting down",
          {{"signal", signal_number},
           {"drain_delay_ms",
            absl::ToInt64Milliseconds(config->shutdown_drain_delay)},
           {"grace_period_ms",
            absl::ToInt64Milliseconds(config->shutdown_grace_period)}});
  // Drain on another thread so a second signal can still end the process
  // at once (an operator who means it, or a kubelet past its grace period).
  std::atomic<bool> drained{false};
  std::thread drain([&] {
    (*server)->Shutdown(config->shutdown_drain_delay,
                        config->shutdown_grace_period);
    drained = true;
  });
  const timespec poll = {0, 50L * 1000 * 1000};
  while (!drained) {
    const int again = sigtimedwait(&signals, nullptr, &poll);
    if (again > 0) {
      LogWarning("second signal: exiting without waiting", {{"signal", again}});
      Logger::Get().Flush();  // _Exit runs no atexit handlers
      std::_Exit(128 + again);
    }
  }
  drain.join();
  LogInfo("stopped", {});
  return 0;
}

}  // namespace
}  // namespace certbridge

// glibc raises its mmap threshold each time a large block is freed, after
// which 5 MiB uploads come from the heap and their memory is kept after the
// calls end (measured: 597 MB resident after a burst that peaked at 888).
// A fixed threshold keeps large buffers mmapped, returned to the kernel
// the moment they are freed; fewer arenas bound fragmentation across the
// gRPC, HTTP and check threads.
void ConfigureAllocator() {
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
  mallopt(M_ARENA_MAX, 4);
}

int main(int argc, char** argv) {
  ConfigureAllocator();
  // Debian builds Abseil without NDEBUG, so every absl::Mutex -- gRPC's
  // included -- keeps a lock-order graph for deadlock detection: measured at
  // ~3 % of the server's CPU under load. The tests keep it on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::SetProgramUsageMessage(
      "certbridge-server --config=FILE [--listen_address=HOST:PORT]");
  // --help lists this binary's flags (absl only matches files named after
  // the program by default, and finds none); --version says what is built.
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::EndsWith(file, "server/main.cc");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  usage.version_string = [] {
    return absl::StrCat("certbridge-server ", certbridge::kBuildVersion,
                        " (revision ", certbridge::kBuildRevision, ")\n");
  };
  absl::SetFlagsUsageConfig(usage);
  absl::ParseCommandLine(argc, argv);
  // Block the stop signals in every thread (gRPC's and libcurl's inherit the
  // mask) so main can wait for them with sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  curl_global_init(CURL_GLOBAL_ALL);
  const int rc = certbridge::Run();
  curl_global_cleanup();
  return rc;
}
