// gRPC's own log lines (handshake failures, bind errors) as JSON lines like
// every other line certbridge writes, so log pipelines parse them and an
// operator sees one format.
#ifndef CERTBRIDGE_SERVER_APP_GRPC_LOG_H_
#define CERTBRIDGE_SERVER_APP_GRPC_LOG_H_

namespace certbridge {

/// Process-wide; call once in main before any gRPC object exists.
void RouteGrpcLogsToJson();

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_APP_GRPC_LOG_H_
