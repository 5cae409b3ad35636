#include "server/app/reflection_v1.h"

#include <set>
#include <utility>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"

namespace certbridge {
namespace {

namespace v1 = grpc::reflection::v1;
using google::protobuf::DescriptorPool;
using google::protobuf::FileDescriptor;

// The file and, transitively, what it imports -- minus what this stream
// already sent, as gRPC's v1alpha service does.
void AddFile(const FileDescriptor* file, std::set<std::string>* sent,
             v1::FileDescriptorResponse* out) {
  if (file == nullptr || !sent->insert(file->name()).second) return;
  google::protobuf::FileDescriptorProto proto;
  file->CopyTo(&proto);
  out->add_file_descriptor_proto(proto.SerializeAsString());
  for (int i = 0; i < file->dependency_count(); ++i) {
    AddFile(file->dependency(i), sent, out);
  }
}

void NotFound(v1::ServerReflectionResponse* response, const std::string& what) {
  response->mutable_error_response()->set_error_code(
      static_cast<int>(grpc::StatusCode::NOT_FOUND));
  response->mutable_error_response()->set_error_message(what + " not found");
}

}  // namespace

ReflectionV1::ReflectionV1(std::vector<std::string> services)
    : services_(std::move(services)) {}

grpc::Status ReflectionV1::ServerReflectionInfo(
    grpc::ServerContext* /*context*/,
    grpc::ServerReaderWriter<v1::ServerReflectionResponse,
                             v1::ServerReflectionRequest>* stream) {
  const DescriptorPool* pool = DescriptorPool::generated_pool();
  std::set<std::string> sent;
  v1::ServerReflectionRequest request;
  while (stream->Read(&request)) {
    v1::ServerReflectionResponse response;
    response.set_valid_host(request.host());
    *response.mutable_original_request() = request;
    switch (request.message_request_case()) {
      case v1::ServerReflectionRequest::kListServices:
        for (const std::string& name : services_) {
          response.mutable_list_services_response()->add_service()->set_name(
              name);
        }
        break;
      case v1::ServerReflectionRequest::kFileByFilename: {
        const FileDescriptor* file =
            pool->FindFileByName(request.file_by_filename());
        if (file == nullptr) {
          NotFound(&response, "file");
        } else {
          AddFile(file, &sent, response.mutable_file_descriptor_response());
        }
        break;
      }
      case v1::ServerReflectionRequest::kFileContainingSymbol: {
        const FileDescriptor* file =
            pool->FindFileContainingSymbol(request.file_containing_symbol());
        if (file == nullptr) {
          NotFound(&response, "symbol");
        } else {
          AddFile(file, &sent, response.mutable_file_descriptor_response());
        }
        break;
      }
      case v1::ServerReflectionRequest::kFileContainingExtension: {
        const auto& ext = request.file_containing_extension();
        const auto* type = pool->FindMessageTypeByName(ext.containing_type());
        const auto* field = type == nullptr ? nullptr
                                            : pool->FindExtensionByNumber(
                                                  type, ext.extension_number());
        if (field == nullptr) {
          NotFound(&response, "extension");
        } else {
          AddFile(field->file(), &sent,
                  response.mutable_file_descriptor_response());
        }
        break;
      }
      case v1::ServerReflectionRequest::kAllExtensionNumbersOfType: {
        const auto* type = pool->FindMessageTypeByName(
            request.all_extension_numbers_of_type());
        if (type == nullptr) {
          NotFound(&response, "type");
          break;
        }
        std::vector<const google::protobuf::FieldDescriptor*> extensions;
        pool->FindAllExtensions(type, &extensions);
        auto* out = response.mutable_all_extension_numbers_response();
        out->set_base_type_name(type->full_name());
        for (const auto* e : extensions) out->add_extension_number(e->number());
        break;
      }
      default:
        response.mutable_error_response()->set_error_code(
            static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
        response.mutable_error_response()->set_error_message(
            "unknown reflection request");
        break;
    }
    if (!stream->Write(response)) break;
  }
  return grpc::Status::OK;
}

}  // namespace certbridge
