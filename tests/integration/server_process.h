// certbridge-server as a child process, for tests that measure the process
// itself (memory, threads, file descriptors) rather than the library.
#ifndef CERTBRIDGE_TESTS_INTEGRATION_SERVER_PROCESS_H_
#define CERTBRIDGE_TESTS_INTEGRATION_SERVER_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>

namespace certbridge::testing {

/// What /proc/<pid>/status and /proc/<pid>/fd say about a process.
struct ProcessSample {
  long rss_kib = 0;   // VmRSS
  long peak_kib = 0;  // VmHWM
  int threads = 0;
  int fds = 0;
};
ProcessSample SampleProcess(pid_t pid);

class ServerProcess {
 public:
  /// Starts `binary` with `config_json` (written to a file in `dir`);
  /// nullptr (and a test failure) if it does not report its port within
  /// 30 s. Its stderr goes to dir/server.log. The process is SIGKILLed
  /// when the calling thread ends (PR_SET_PDEATHSIG).
  static std::unique_ptr<ServerProcess> Start(const std::string& binary,
                                              const std::string& dir,
                                              const std::string& config_json);
  /// SIGKILLs the process if it is still running, and reaps it.
  ~ServerProcess();

  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  /// The bound metrics port (0 when metrics_address is empty).
  int metrics_port() const { return metrics_port_; }
  /// Where its stderr (the JSON log) goes.
  const std::string& log_path() const { return log_path_; }
  /// SIGTERM and wait (SIGKILL and a test failure after 60 s); the exit
  /// status (or -1).
  int Stop();
  /// SIGKILL and reap: a replica that dies without a word.
  void Kill();

 private:
  ServerProcess() = default;
  pid_t pid_ = -1;
  int port_ = 0;
  int metrics_port_ = 0;
  std::string log_path_;
};

}  // namespace certbridge::testing

#endif  // CERTBRIDGE_TESTS_INTEGRATION_SERVER_PROCESS_H_
