// certbridge-client-example: CertificateClient in a few lines. Lists the
// certificates under --parent (blocking call, every page), then reads one
// (--name, or the first listed) with the callback-based call, and prints
// both. Exit 0 on success, 1 when a call fails (the error and its details on
// stderr), 2 on usage errors.
//
//   certbridge-client-example --address=127.0.0.1:50051
//       --parent=backends/apinizer/projects/Payments [--name=NAME]
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "client/library/certificate_client.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/security/credentials.h"

ABSL_FLAG(std::string, address, "127.0.0.1:50051", "certbridge's address.");
ABSL_FLAG(std::string, parent, "",
          "Required. backends/{backend} or backends/{backend}/projects/{p}.");
ABSL_FLAG(std::string, name, "",
          "The certificate to read; empty: the first one listed.");
ABSL_FLAG(int, page_size, 50, "Certificates per ListCertificates page.");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(30),
          "Deadline of each call, retries included.");

namespace {

namespace v1 = certbridge::v1;

// The status with what certbridge's details say about it.
void PrintError(absl::string_view what, const absl::Status& status) {
  std::cerr << what << ": " << absl::StatusCodeToString(status.code()) << ": "
            << status.message() << "\n";
  const certbridge::ErrorDetails details = certbridge::GetErrorDetails(status);
  if (!details.reason.empty()) {
    std::cerr << "  reason: " << details.reason << "\n";
  }
  std::vector<std::string> metadata;
  for (const auto& [key, value] : details.metadata) {
    metadata.push_back(absl::StrCat(key, "=", value));
  }
  if (!metadata.empty()) {
    std::cerr << "  metadata: " << absl::StrJoin(metadata, " ") << "\n";
  }
  if (details.retry_delay) {
    std::cerr << "  retry after: " << absl::FormatDuration(*details.retry_delay)
              << "\n";
  }
}

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options)
           .ok()) {
    return "{}\n";
  }
  return json;
}

// Every page of the parent's certificates, with the blocking call.
absl::StatusOr<std::vector<v1::Certificate>> ListAll(
    const certbridge::CertificateClient& client, const std::string& parent) {
  std::vector<v1::Certificate> all;
  v1::ListCertificatesRequest request;
  request.set_parent(parent);
  request.set_page_size(absl::GetFlag(FLAGS_page_size));
  do {
    absl::StatusOr<v1::ListCertificatesResponse> page =
        client.ListCertificates(request);
    if (!page.ok()) return page.status();
    for (v1::Certificate& cert : *page->mutable_certificates()) {
      all.push_back(std::move(cert));
    }
    // A token that does not move on would loop forever.
    if (page->next_page_token() == request.page_token()) break;
    request.set_page_token(page->next_page_token());
  } while (!request.page_token().empty());
  return all;
}

// One certificate with the callback-based call, waited for here; a real
// program would carry on with other work instead.
absl::StatusOr<v1::Certificate> GetWithCallback(
    const certbridge::CertificateClient& client, const std::string& name) {
  v1::GetCertificateRequest request;
  request.set_name(name);
  absl::StatusOr<v1::Certificate> result;
  absl::Notification done;
  client.GetCertificateAsync(
      std::move(request), [&result, &done](absl::StatusOr<v1::Certificate> r) {
        result = std::move(r);
        done.Notify();
      });
  done.WaitForNotification();
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "certbridge-client-example --address=HOST:PORT --parent=PARENT "
      "[--name=NAME]\nLists PARENT's certificates and prints one of them.");
  absl::ParseCommandLine(argc, argv);
  const std::string parent = absl::GetFlag(FLAGS_parent);
  if (parent.empty()) {
    std::cerr << "certbridge-client-example: --parent is required\n";
    return 2;
  }

  certbridge::CertificateClientOptions options;
  options.default_timeout = absl::GetFlag(FLAGS_timeout);
  // The channel carries the retry policy of docs/grpc_service_config.json.
  const certbridge::CertificateClient client(
      certbridge::CreateCertificateChannel(absl::GetFlag(FLAGS_address),
                                           grpc::InsecureChannelCredentials()),
      options);

  absl::StatusOr<std::vector<v1::Certificate>> listed = ListAll(client, parent);
  if (!listed.ok()) {
    PrintError("list " + parent, listed.status());
    return 1;
  }
  std::cout << "listed " << listed->size() << " certificate(s) under " << parent
            << "\n";
  for (const v1::Certificate& cert : *listed) {
    std::cout << "  " << cert.name() << "\n";
  }

  std::string name = absl::GetFlag(FLAGS_name);
  if (name.empty()) {
    if (listed->empty()) return 0;
    name = listed->front().name();
  }
  absl::StatusOr<v1::Certificate> cert = GetWithCallback(client, name);
  if (!cert.ok()) {
    PrintError("get " + name, cert.status());
    return 1;
  }
  std::cout << "certificate " << cert->name() << ":\n" << ToJson(*cert);
  return 0;
}
