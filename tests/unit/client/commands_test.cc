// RunCommand end to end over the generated mock stub: local inputs, the
// request sent, what lands on stdout/stderr, and the exit code.
#include "client/commands.h"

#include <algorithm>
#include <chrono>
#include <sstream>
#include <string>
#include <vector>

#include "certbridge/v1/certificate_service_mock.grpc.pb.h"
#include "client/vendors/cli_vendor.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"

namespace certbridge::cli {
namespace {

using ::testing::_;
using ::testing::DoAll;
using ::testing::HasSubstr;
using ::testing::Invoke;
using ::testing::Not;
using ::testing::Return;
using ::testing::SaveArg;
using ::testing::SetArgPointee;
using ::testing::StrictMock;

constexpr char kLeName[] =
    "backends/le/certificates/0f8fad5b-d9cb-469f-a165-70867728950e";
constexpr char kPasskey[] = "pk-from-env-123";
constexpr char kFileBytes[] = "P12-FILE-BYTES-XYZ";

class CommandsTest : public ::testing::Test {
 protected:
  CommandsTest() {
    io_.out = &out_;
    io_.err = &err_;
    io_.read_file =
        [this](const std::string& path) -> absl::StatusOr<std::string> {
      read_paths_.push_back(path);
      if (path == "missing.p12") return absl::NotFoundError("no such file");
      return std::string(kFileBytes);
    };
    io_.env = [](const std::string& name) -> std::optional<std::string> {
      if (name == "PK") return std::string(kPasskey);
      return std::nullopt;
    };
    io_.prompt = [this](absl::string_view) -> absl::StatusOr<std::string> {
      ++prompts_;
      return std::string("typed");
    };
  }

  int Run(std::vector<std::string> args) {
    auto command = ParseCommandLine(args);
    EXPECT_TRUE(command.ok()) << command.status();
    if (!command.ok()) return -1;
    return RunCommand(*command, stub_, io_);
  }

  StrictMock<v1::MockCertificateServiceStub> stub_;
  std::ostringstream out_;
  std::ostringstream err_;
  std::vector<std::string> read_paths_;
  int prompts_ = 0;
  CommandIo io_;
};

v1::Certificate EchoLeegality(const v1::CreateCertificateRequest& request) {
  // A misbehaving server that echoes the input-only fields back.
  v1::Certificate cert = request.certificate();
  cert.set_name(
      "backends/le/certificates/0f8fad5b-d9cb-469f-a165-70867728950e");
  return cert;
}

TEST_F(CommandsTest, CreateLeegalitySendsPasskeyButNeverPrintsIt) {
  v1::CreateCertificateRequest sent;
  EXPECT_CALL(stub_, CreateCertificate(_, _, _))
      .WillOnce(Invoke([&sent](grpc::ClientContext*,
                               const v1::CreateCertificateRequest& request,
                               v1::Certificate* response) {
        sent = request;
        *response = EchoLeegality(request);
        return grpc::Status::OK;
      }));
  EXPECT_EQ(Run({"create", "backends/le", "--file=a.p12", "--passkey_env=PK",
                 "--enabled=true"}),
            kExitOk);
  EXPECT_EQ(sent.certificate().leegality().passkey(), kPasskey);
  EXPECT_EQ(sent.certificate().leegality().pkcs12_file(), kFileBytes);
  EXPECT_EQ(prompts_, 0);
  EXPECT_THAT(out_.str(), HasSubstr(kLeName));
  EXPECT_THAT(out_.str(), HasSubstr("\"enabled\": true"));
  for (const std::string& s : {out_.str(), err_.str()}) {
    EXPECT_THAT(s, Not(HasSubstr(kPasskey)));
    EXPECT_THAT(s, Not(HasSubstr("passkey")));
    EXPECT_THAT(s, Not(HasSubstr("pkcs12_file")));
  }
}

TEST_F(CommandsTest, PromptsWhenNoPasskeySourceGiven) {
  v1::UpdateCertificateRequest sent;
  EXPECT_CALL(stub_, UpdateCertificate(_, _, _))
      .WillOnce(DoAll(SaveArg<1>(&sent), Return(grpc::Status::OK)));
  EXPECT_EQ(Run({"update", kLeName, "--file=new.p12"}), kExitOk);
  EXPECT_EQ(prompts_, 1);
  EXPECT_EQ(sent.certificate().leegality().passkey(), "typed");
}

TEST_F(CommandsTest, UnreadableFileIsLocalErrorWithoutRpc) {
  EXPECT_EQ(
      Run({"create", "backends/le", "--file=missing.p12", "--passkey_env=PK"}),
      kExitLocalError);
  EXPECT_THAT(err_.str(), HasSubstr("certctl: no such file"));
  EXPECT_EQ(out_.str(), "");
}

TEST_F(CommandsTest, MissingPasskeyEnvIsLocalError) {
  EXPECT_EQ(
      Run({"create", "backends/le", "--file=a.p12", "--passkey_env=UNSET"}),
      kExitLocalError);
  EXPECT_THAT(err_.str(), HasSubstr("UNSET is not set"));
}

TEST_F(CommandsTest, BadUpdateIsRejectedBeforeReadingOrPrompting) {
  EXPECT_EQ(Run({"update", kLeName, "--file=new.p12",
                 "--update_mask=leegality.enabled"}),
            kExitLocalError);
  EXPECT_TRUE(read_paths_.empty());
  EXPECT_EQ(prompts_, 0);
}

TEST_F(CommandsTest, RpcErrorIsRenderedWithTheExitCodeOfItsClass) {
  google::rpc::Status proto;
  proto.set_code(static_cast<int>(grpc::StatusCode::NOT_FOUND));
  google::rpc::ErrorInfo info;
  info.set_reason("CERTIFICATE_NOT_FOUND");
  (*info.mutable_metadata())["backend"] = "le";
  proto.add_details()->PackFrom(info);
  EXPECT_CALL(stub_, GetCertificate(_, _, _))
      .WillOnce(Return(grpc::Status(grpc::StatusCode::NOT_FOUND, "gone",
                                    proto.SerializeAsString())));
  EXPECT_EQ(Run({"get", kLeName}), kExitNotFound);
  EXPECT_EQ(err_.str(),
            "ERROR: NOT_FOUND: gone\nreason: CERTIFICATE_NOT_FOUND\n"
            "metadata: backend=le\n");
  EXPECT_EQ(out_.str(), "");
}

// Through the client library's absl::Status a code outside the canonical
// set keeps its number: exit 1 and its CODE_n name, as before.
TEST_F(CommandsTest, NonCanonicalCodeKeepsItsExitCodeAndName) {
  EXPECT_CALL(stub_, GetCertificate(_, _, _))
      .WillOnce(Return(grpc::Status(static_cast<grpc::StatusCode>(20), "odd")));
  EXPECT_EQ(Run({"get", kLeName}), kExitRpcFailed);
  EXPECT_EQ(err_.str(), "ERROR: CODE_20: odd\n");
}

TEST_F(CommandsTest, SetsDeadlineFromTimeout) {
  std::chrono::system_clock::time_point deadline;
  EXPECT_CALL(stub_, GetCertificate(_, _, _))
      .WillOnce(Invoke([&deadline](grpc::ClientContext* context,
                                   const v1::GetCertificateRequest&,
                                   v1::Certificate*) {
        deadline = context->deadline();
        return grpc::Status::OK;
      }));
  const auto before = std::chrono::system_clock::now();
  EXPECT_EQ(Run({"get", kLeName, "--timeout=90s", "--x_request_id=r-1"}),
            kExitOk);
  EXPECT_GE(deadline, before + std::chrono::seconds(89));
  EXPECT_LE(deadline, before + std::chrono::seconds(95));
}

TEST_F(CommandsTest, DeletePrintsResponseAndWarnsOnFailedUndeploy) {
  v1::DeleteCertificateResponse response;
  response.set_name("backends/ap/projects/p/certificates/c");
  response.mutable_undeployment_result()->set_state(
      v1::DeploymentResult::FAILED);
  response.mutable_undeployment_result()->set_message("gateway down");
  v1::DeleteCertificateRequest sent;
  EXPECT_CALL(stub_, DeleteCertificate(_, _, _))
      .WillOnce(DoAll(SaveArg<1>(&sent), SetArgPointee<2>(response),
                      Return(grpc::Status::OK)));
  // Issue 11 finding 4: OK with a failed undeployment is not success.
  EXPECT_EQ(Run({"delete", "backends/ap/projects/p/certificates/c",
                 "--jwk_delete_action=DELETE"}),
            kExitDeploymentFailed);
  EXPECT_EQ(sent.jwk_delete_action(), v1::JWK_DELETE_ACTION_DELETE);
  EXPECT_THAT(out_.str(), HasSubstr("\"state\": \"FAILED\""));
  EXPECT_EQ(err_.str(), "WARNING: deployment FAILED: gateway down\n");
}

TEST_F(CommandsTest, HelpPrintsUsage) {
  EXPECT_EQ(Run({"help"}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("Usage:"));
  EXPECT_THAT(out_.str(), HasSubstr("Exit codes:"));
}

// Issue 11 finding 9: one exit code per class of gRPC status.
TEST(ExitCodeTest, EveryCodeHasItsClass) {
  using C = grpc::StatusCode;
  EXPECT_EQ(ExitCodeFor(C::OK), kExitOk);
  EXPECT_EQ(ExitCodeFor(C::NOT_FOUND), kExitNotFound);
  for (C c : {C::INVALID_ARGUMENT, C::FAILED_PRECONDITION, C::OUT_OF_RANGE}) {
    EXPECT_EQ(ExitCodeFor(c), kExitBadRequest) << c;
  }
  for (C c : {C::ALREADY_EXISTS, C::ABORTED}) {
    EXPECT_EQ(ExitCodeFor(c), kExitConflict) << c;
  }
  for (C c : {C::PERMISSION_DENIED, C::UNAUTHENTICATED}) {
    EXPECT_EQ(ExitCodeFor(c), kExitDenied) << c;
  }
  for (C c : {C::UNAVAILABLE, C::DEADLINE_EXCEEDED, C::RESOURCE_EXHAUSTED}) {
    EXPECT_EQ(ExitCodeFor(c), kExitRetryLater) << c;
  }
  for (C c : {C::INTERNAL, C::UNKNOWN, C::DATA_LOSS, C::UNIMPLEMENTED}) {
    EXPECT_EQ(ExitCodeFor(c), kExitServerFailure) << c;
  }
  EXPECT_EQ(ExitCodeFor(C::CANCELLED), kExitRpcFailed);
}

// Issue 11 finding 9: every create carries a request_id; one certctl made
// is printed so a failed create can be repeated safely.
TEST_F(CommandsTest, CreateWithoutRequestIdGetsOneAndSaysWhich) {
  io_.new_request_id = [] {
    return std::string("11111111-2222-4333-8444-555555555555");
  };
  v1::CreateCertificateRequest sent;
  EXPECT_CALL(stub_, CreateCertificate(_, _, _))
      .WillOnce(DoAll(SaveArg<1>(&sent), Return(grpc::Status::OK)));
  EXPECT_EQ(Run({"create", "backends/ap/projects/p", "--file=c.pem",
                 "--certificate_id=c", "--alias=a", "--environments=prod"}),
            kExitOk);
  EXPECT_EQ(sent.request_id(), "11111111-2222-4333-8444-555555555555");
  EXPECT_THAT(err_.str(),
              HasSubstr("--request_id=11111111-2222-4333-8444-555555555555"));
  // A given one is kept.
  EXPECT_CALL(stub_, CreateCertificate(_, _, _))
      .WillOnce(DoAll(SaveArg<1>(&sent), Return(grpc::Status::OK)));
  EXPECT_EQ(Run({"create", "backends/ap/projects/p", "--file=c.pem",
                 "--certificate_id=c", "--alias=a", "--environments=prod",
                 "--request_id=aaaaaaaa-2222-4333-8444-555555555555"}),
            kExitOk);
  EXPECT_EQ(sent.request_id(), "aaaaaaaa-2222-4333-8444-555555555555");
}

TEST_F(CommandsTest, OutputFormatsAndTheTerminalDefault) {
  v1::Certificate cert;
  cert.set_name("backends/ap/projects/p/certificates/c");
  cert.mutable_apinizer()->set_alias("a");
  cert.mutable_apinizer()->add_environments("prod");
  EXPECT_CALL(stub_, GetCertificate(_, _, _))
      .Times(5)
      .WillRepeatedly(DoAll(SetArgPointee<2>(cert), Return(grpc::Status::OK)));
  const std::string name = "backends/ap/projects/p/certificates/c";
  EXPECT_EQ(Run({"get", name, "--output=yaml"}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("\"apinizer\":\n  \"alias\": \"a\"\n"));
  EXPECT_THAT(out_.str(), HasSubstr("  \"environments\":\n    - \"prod\"\n"));
  out_.str("");
  EXPECT_EQ(Run({"get", name, "--output=table"}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("apinizer.environments[0]  prod\n"));
  out_.str("");
  // For scripts: NAME=$(certctl create ... --output=name).
  EXPECT_EQ(Run({"get", name, "--output=name"}), kExitOk);
  EXPECT_EQ(out_.str(), name + "\n");
  out_.str("");
  EXPECT_EQ(Run({"get", name}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("\"alias\": \"a\"")) << "JSON off a tty";
  out_.str("");
  io_.out_is_terminal = true;
  EXPECT_EQ(Run({"get", name}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("name                      backends/ap"))
      << out_.str();
}

TEST_F(CommandsTest, VersionAndCompletion) {
  EXPECT_EQ(Run({"version"}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("certctl 0."));
  out_.str("");
  EXPECT_EQ(Run({"completion", "bash"}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("complete -F _certctl certctl"));
}

}  // namespace
}  // namespace certbridge::cli

namespace certbridge::cli {
namespace {

v1::Certificate ListedLeegality(const std::string& id, int64_t expiry_seconds,
                                bool enabled) {
  v1::Certificate c;
  c.set_name("backends/le/certificates/" + id);
  c.set_display_name("signer " + id.substr(0, 4));
  auto* l = c.mutable_leegality();
  l->set_id(id);
  l->mutable_expire_time()->set_seconds(expiry_seconds);
  l->set_enabled(enabled);
  l->set_department_name("HR");
  // A misbehaving server that sends input-only fields back.
  l->set_passkey("leaked-passkey");
  return c;
}

TEST_F(CommandsTest, ListSendsTheRequestAndPrintsATableOnATerminal) {
  io_.out_is_terminal = true;
  v1::ListCertificatesRequest sent;
  v1::ListCertificatesResponse page;
  *page.add_certificates() = ListedLeegality(
      "0f8fad5b-d9cb-469f-a165-70867728950e", 1'800'000'000, true);
  *page.add_certificates() = ListedLeegality(
      "1f8fad5b-d9cb-469f-a165-70867728950e", 1'900'000'000, false);
  page.set_next_page_token("tok-2");
  EXPECT_CALL(stub_, ListCertificates(_, _, _))
      .WillOnce(DoAll(SaveArg<1>(&sent), SetArgPointee<2>(page),
                      Return(grpc::Status::OK)));
  EXPECT_EQ(Run({"list", "backends/le",
                 "--filter=expire_time < \"2030-01-01T00:00:00Z\"",
                 "--order_by=expire_time desc", "--page_size=2"}),
            0);
  EXPECT_EQ(sent.parent(), "backends/le");
  EXPECT_EQ(sent.filter(), "expire_time < \"2030-01-01T00:00:00Z\"");
  EXPECT_EQ(sent.order_by(), "expire_time desc");
  EXPECT_EQ(sent.page_size(), 2);
  EXPECT_TRUE(sent.page_token().empty());
  const std::string out = out_.str();
  EXPECT_THAT(out, HasSubstr("NAME"));
  EXPECT_THAT(out, HasSubstr("EXPIRES"));
  EXPECT_THAT(out, HasSubstr("ENABLED"));
  EXPECT_THAT(out, HasSubstr("2027-01-15T08:00:00Z"));
  EXPECT_THAT(out, HasSubstr("false"));
  EXPECT_THAT(out, HasSubstr("--page_token=tok-2"));
  EXPECT_THAT(out, Not(HasSubstr("leaked-passkey")));
  // Header plus two rows plus the "more" line.
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 4);
}

TEST_F(CommandsTest, ListAllFollowsTokensAndPrintsOneJsonList) {
  v1::ListCertificatesResponse first, second;
  *first.add_certificates() = ListedLeegality(
      "0f8fad5b-d9cb-469f-a165-70867728950e", 1'800'000'000, true);
  first.set_next_page_token("tok-2");
  first.set_total_size(2);
  *second.add_certificates() = ListedLeegality(
      "1f8fad5b-d9cb-469f-a165-70867728950e", 1'900'000'000, true);
  second.set_total_size(2);
  std::vector<std::string> tokens;
  EXPECT_CALL(stub_, ListCertificates(_, _, _))
      .WillOnce(DoAll(Invoke([&tokens](grpc::ClientContext*,
                                       const v1::ListCertificatesRequest& r,
                                       v1::ListCertificatesResponse*) {
                        tokens.push_back(r.page_token());
                      }),
                      SetArgPointee<2>(first), Return(grpc::Status::OK)))
      .WillOnce(DoAll(Invoke([&tokens](grpc::ClientContext*,
                                       const v1::ListCertificatesRequest& r,
                                       v1::ListCertificatesResponse*) {
                        tokens.push_back(r.page_token());
                      }),
                      SetArgPointee<2>(second), Return(grpc::Status::OK)));
  EXPECT_EQ(Run({"list", "backends/le", "--all", "--output=json"}), 0);
  EXPECT_EQ(tokens, (std::vector<std::string>{"", "tok-2"}));
  const std::string out = out_.str();
  EXPECT_THAT(out, HasSubstr("0f8fad5b-d9cb-469f-a165-70867728950e"));
  EXPECT_THAT(out, HasSubstr("1f8fad5b-d9cb-469f-a165-70867728950e"));
  EXPECT_THAT(out, Not(HasSubstr("next_page_token")));
  EXPECT_THAT(out, Not(HasSubstr("leaked-passkey")));
}

TEST_F(CommandsTest, ListNamesAndErrors) {
  v1::ListCertificatesResponse page;
  *page.add_certificates() = ListedLeegality(
      "0f8fad5b-d9cb-469f-a165-70867728950e", 1'800'000'000, true);
  EXPECT_CALL(stub_, ListCertificates(_, _, _))
      .WillOnce(DoAll(SetArgPointee<2>(page), Return(grpc::Status::OK)))
      .WillOnce(Return(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                    "filter: only expire_time")));
  EXPECT_EQ(Run({"list", "backends/le", "--output=name"}), 0);
  EXPECT_EQ(out_.str(),
            "backends/le/certificates/0f8fad5b-d9cb-469f-a165-70867728950e\n");
  EXPECT_EQ(Run({"list", "backends/le", "--filter=name=x"}), 4);
  EXPECT_THAT(err_.str(), HasSubstr("INVALID_ARGUMENT"));
}

TEST_F(CommandsTest, ListFlagsAreCheckedBeforeAnyCall) {
  // StrictMock: no call may be made.
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"list"},
           {"list",
            "backends/le/certificates/0f8fad5b-d9cb-469f-a165-70867728950e"},
           {"list", "backends/le", "--page_size=-1"},
           {"list", "backends/le", "--page_size=ten"},
           {"list", "backends/le", "--all=maybe"},
           {"list", "backends/le", "--file=x.p12"},
           {"get", kLeName, "--filter=x"}}) {
    EXPECT_FALSE(ParseCommandLine(args).ok()) << args.back();
  }
  auto apinizer = ParseCommandLine(
      {"list", "backends/api/projects/My%20Project", "--all=false"});
  ASSERT_TRUE(apinizer.ok()) << apinizer.status();
  EXPECT_EQ(apinizer->verb, Verb::kList);
  EXPECT_FALSE(apinizer->all);
  EXPECT_EQ(apinizer->vendor->kind(), "apinizer");
}

}  // namespace
}  // namespace certbridge::cli
