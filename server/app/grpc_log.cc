#include "server/app/grpc_log.h"

#include <grpc/support/log.h>

#include "server/common/log.h"
#include "server/common/quote.h"

namespace certbridge {
namespace {

void ToJson(gpr_log_func_args* args) {
  // gRPC's ERROR lines are mostly about peers (a client's failed handshake,
  // a reset stream): worth a warning, not an alert.
  const LogLevel level =
      args->severity == GPR_LOG_SEVERITY_ERROR  ? LogLevel::kWarning
      : args->severity == GPR_LOG_SEVERITY_INFO ? LogLevel::kInfo
                                                : LogLevel::kDebug;
  if (!Logger::Get().Enabled(level)) return;
  Logger::Get().Log(
      level, "grpc",
      {{"source", BoundText(args->file == nullptr ? "" : args->file, 128)},
       {"line", args->line},
       {"error",
        BoundText(args->message == nullptr ? "" : args->message, 1024)}});
}

}  // namespace

void RouteGrpcLogsToJson() {
  // Reads GRPC_VERBOSITY; until it has run, gRPC drops every line.
  gpr_log_verbosity_init();
  gpr_set_log_function(&ToJson);
}

}  // namespace certbridge
