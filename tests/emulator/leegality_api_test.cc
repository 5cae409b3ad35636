// LeegalityApi called directly (no sockets): every documented status and
// body of seeds 000-003.
#include "tests/emulator/leegality_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "server/http/multipart.h"
#include "tests/testing/certificate_fixtures.h"

namespace certbridge::emulator {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

constexpr char kToken[] = "tok";
constexpr char kMissingId[] = "0b7c2f7e-6d4a-4c1e-9a55-3b7e7c1f0a52";
constexpr char kTimeRegex[] =
    "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z";

// One PKCS#12 for the whole suite: RSA key generation is slow.
const std::string& Pfx() {
  static const std::string* pfx =
      new std::string(testing::MakePkcs12(testing::Pkcs12Options{}));
  return *pfx;
}

struct Form {
  std::string file_name = "signer.p12";
  std::optional<std::string> file = Pfx();
  std::optional<std::string> passkey = std::string("test-passkey");
  std::optional<std::string> department = std::string(kLeegalityHrDepartmentId);
  std::optional<std::string> enabled;
};

HttpRequest Request(const std::string& method, const std::string& path,
                    const std::optional<Form>& form = std::nullopt) {
  HttpRequest r;
  r.method = method;
  r.path = r.target = path;
  r.version = "HTTP/1.1";
  r.headers["x-auth-token"] = kToken;
  if (form.has_value()) {
    MultipartBuilder b("boundary-123");
    if (form->file) {
      b.AddFile("certificateFile", form->file_name, "application/x-pkcs12",
                *form->file);
    }
    if (form->passkey) b.AddField("passkey", *form->passkey);
    if (form->department) b.AddField("departmentId", *form->department);
    if (form->enabled) b.AddField("enabled", *form->enabled);
    r.body = b.Build();
    r.headers["content-type"] = b.ContentType();
  }
  return r;
}

class LeegalityApiTest : public ::testing::Test {
 protected:
  json Create(Form form = {}) {
    HttpResponse r = api_.Handle(Request("POST", "/api/v1/certificates", form));
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body)["data"];
  }

  static void ExpectError(const HttpResponse& r, int status,
                          const std::string& code, const json& inner,
                          const std::string& message_part) {
    EXPECT_EQ(r.status, status) << r.body;
    json body = json::parse(r.body);
    EXPECT_EQ(body["code"], code) << r.body;
    ASSERT_EQ(body["errors"].size(), 1u) << r.body;
    EXPECT_EQ(body["errors"][0]["code"], inner) << r.body;
    EXPECT_THAT(body["errors"][0]["message"].get<std::string>(),
                HasSubstr(message_part));
    EXPECT_TRUE(body["errors"][0].contains("path"));
  }

  LeegalityApi api_{kToken};
};

TEST(LeegalityHelpersTest, ErrorBodyHasTheSeedShapeAndOrder) {
  EXPECT_EQ(LeegalityErrorBody(404, "LE_ERR_SS_404", "LE_ERR_SS_001", "m",
                               "/api/v1/certificates/x"),
            R"({"code":"LE_ERR_SS_404","errors":[{"message":"m",)"
            R"("path":"/api/v1/certificates/x","code":"LE_ERR_SS_001"}]})");
  EXPECT_EQ(LeegalityErrorBody(500, "", "", "Internal Server Error"),
            R"({"code":"LE_ERR_SS_500","errors":[{"message":)"
            R"("Internal Server Error","path":null,"code":null}]})");
}

TEST(LeegalityHelpersTest, NamesUuidsAndTimes) {
  EXPECT_EQ(LeegalityNameFromFileName("signer.p12"), "signer");
  EXPECT_EQ(LeegalityNameFromFileName("Signer.PFX"), "Signer");
  EXPECT_EQ(LeegalityNameFromFileName("TestCertificate.leegality.com"),
            "TestCertificate.leegality.com");
  EXPECT_EQ(LeegalityNameFromFileName("C:\\certs\\a.pfx"), "a");
  EXPECT_EQ(LeegalityNameFromFileName(".p12"), ".p12");
  EXPECT_TRUE(IsUuid(kMissingId));
  EXPECT_TRUE(IsUuid("46D4E120-ED03-47CC-98C6-529BFF3BBABC"));
  EXPECT_FALSE(IsUuid("invalid-id-123"));
  EXPECT_FALSE(IsUuid("0b7c2f7e-6d4a-4c1e-9a55-3b7e7c1f0a5g"));
  const std::string id = NewUuidV4();
  EXPECT_TRUE(IsUuid(id)) << id;
  EXPECT_EQ(id[14], '4');
  EXPECT_NE(NewUuidV4(), id);
  EXPECT_EQ(FormatLeegalityTime(absl::FromUnixSeconds(1806537599)),
            "2027-03-31T23:59:59Z");
}

TEST(LeegalityHelpersTest, OpenPkcs12ChecksThePasskey) {
  auto expiry = OpenPkcs12(Pfx(), "test-passkey");
  ASSERT_TRUE(expiry.ok()) << expiry.status();
  EXPECT_GT(*expiry, absl::Now() + absl::Hours(24 * 300));
  auto wrong = OpenPkcs12(Pfx(), "secret-wrong-pass");
  EXPECT_FALSE(wrong.ok());
  EXPECT_THAT(std::string(wrong.status().message()),
              Not(HasSubstr("secret-wrong-pass")));
  EXPECT_FALSE(OpenPkcs12(testing::MakePemCertificate(), "x").ok());
  EXPECT_FALSE(OpenPkcs12("", "").ok());
}

TEST_F(LeegalityApiTest, CreateReturns201WithTheCertificateVo) {
  json vo = Create();
  EXPECT_TRUE(IsUuid(vo["id"].get<std::string>()));
  EXPECT_EQ(vo["name"], "signer");
  EXPECT_EQ(vo["certificateType"], "PKCS12_PFX");
  EXPECT_THAT(vo["expiry"].get<std::string>(), MatchesRegex(kTimeRegex));
  EXPECT_THAT(vo["createdAt"].get<std::string>(), MatchesRegex(kTimeRegex));
  EXPECT_EQ(vo["departmentId"], kLeegalityHrDepartmentId);
  EXPECT_EQ(vo["departmentName"], "HR");
  EXPECT_FALSE(vo.contains("passkey"));
  auto stored = api_.state().Get(vo["id"]);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->file, Pfx());
  EXPECT_TRUE(stored->enabled);
}

TEST_F(LeegalityApiTest, CreateAcceptsEnabledFalse) {
  Form form;
  form.enabled = "false";
  json vo = Create(form);
  EXPECT_FALSE(api_.state().Get(vo["id"])->enabled);
}

TEST_F(LeegalityApiTest, Create400HasThePagesQuirkyCodes) {
  Form unknown_department;
  unknown_department.department = kMissingId;
  Form wrong_passkey;
  wrong_passkey.passkey = "nope-nope";
  Form no_file;
  no_file.file.reset();
  Form not_pkcs12;
  not_pkcs12.file = testing::MakePemCertificate();
  Form bad_enabled;
  bad_enabled.enabled = "maybe";
  Form too_big;
  too_big.file = std::string(kLeegalityMaxFileBytes + 1, 'x');
  for (const Form& form : {unknown_department, wrong_passkey, no_file,
                           not_pkcs12, bad_enabled, too_big}) {
    HttpResponse r = api_.Handle(Request("POST", "/api/v1/certificates", form));
    ExpectError(r, 400, "LE_ERR_SS_404", "LE_ERR_SS_001", "");
    EXPECT_THAT(r.body, Not(HasSubstr("nope-nope")));
  }
  EXPECT_EQ(api_.state().size(), 0u);
}

TEST_F(LeegalityApiTest, CreateWithoutMultipartIs415) {
  HttpRequest r = Request("POST", "/api/v1/certificates");
  r.headers["content-type"] = "application/json";
  r.body = R"({"passkey":"x","certificateFile":"a.p12"})";
  ExpectError(api_.Handle(r), 415, "LE_ERR_SS_415", nullptr, "multipart");
}

TEST_F(LeegalityApiTest, DuplicateNameIs409) {
  Create();
  Form same_name;
  same_name.file_name = "signer.pfx";
  HttpResponse r =
      api_.Handle(Request("POST", "/api/v1/certificates", same_name));
  ExpectError(
      r, 409, "LE_ERR_SS_409", "LE_ERR_SS_1101",
      "Certificate with alias 'signer' already exists for organization");
}

TEST_F(LeegalityApiTest, GetReturnsTheBareVo) {
  json vo = Create();
  const std::string id = vo["id"];
  HttpResponse r = api_.Handle(Request("GET", "/api/v1/certificates/" + id));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body), vo);
  // The real server's /api/api/v1 path works too.
  EXPECT_EQ(
      api_.Handle(Request("GET", "/api/api/v1/certificates/" + id)).status,
      200);
}

TEST_F(LeegalityApiTest, GetErrors) {
  ExpectError(
      api_.Handle(Request("GET", "/api/v1/certificates/invalid-id-123")), 400,
      "LE_ERR_SS_400", nullptr, "Invalid UUID provided.");
  HttpResponse r = api_.Handle(
      Request("GET", std::string("/api/v1/certificates/") + kMissingId));
  ExpectError(
      r, 404, "LE_ERR_SS_404", "LE_ERR_SS_001",
      std::string("Certificate with id ") + kMissingId + " does not exist");
  EXPECT_EQ(json::parse(r.body)["errors"][0]["path"],
            std::string("/api/v1/certificates/") + kMissingId);
}

TEST_F(LeegalityApiTest, AuthIsCheckedFirst) {
  for (const char* method : {"GET", "PUT", "DELETE", "POST"}) {
    HttpRequest r = Request(method, "/api/v1/certificates/x");
    r.headers.erase("x-auth-token");
    ExpectError(api_.Handle(r), 401, "LE_ERR_SS_401", "LE_ERR_SS_303",
                "Invalid or expired token");
    r.headers["x-auth-token"] = "wrong";
    EXPECT_EQ(api_.Handle(r).status, 401);
  }
  HttpRequest bearer =
      Request("GET", std::string("/api/v1/certificates/") + kMissingId);
  bearer.headers.erase("x-auth-token");
  bearer.headers["authorization"] = std::string("Bearer ") + kToken;
  EXPECT_EQ(api_.Handle(bearer).status, 404);
}

TEST_F(LeegalityApiTest, UpdateReturnsTheEnvelopeWithNullCode) {
  json vo = Create();
  const std::string path =
      "/api/v1/certificates/" + vo["id"].get<std::string>();
  Form form;
  form.file.reset();
  form.passkey.reset();
  form.department = kLeegalityLegalDepartmentId;
  HttpResponse r = api_.Handle(Request("PUT", path, form));
  ASSERT_EQ(r.status, 200) << r.body;
  json body = json::parse(r.body);
  EXPECT_TRUE(body["code"].is_null());
  EXPECT_TRUE(body["message"].is_null());
  EXPECT_EQ(body["data"]["departmentId"], kLeegalityLegalDepartmentId);
  EXPECT_EQ(body["data"]["departmentName"], "Legal");
  EXPECT_EQ(body["data"]["name"], "signer");
  EXPECT_EQ(api_.state().Get(vo["id"])->file, Pfx()) << "file kept";
}

TEST_F(LeegalityApiTest, UpdateReplacesTheFileWithItsPasskey) {
  json vo = Create();
  const std::string path =
      "/api/v1/certificates/" + vo["id"].get<std::string>();
  testing::Pkcs12Options options;
  options.passkey = "rotated";
  const std::string new_file = testing::MakePkcs12(options);
  Form form;
  form.file = new_file;
  form.passkey = "rotated";
  form.department.reset();
  EXPECT_EQ(api_.Handle(Request("PUT", path, form)).status, 200);
  EXPECT_EQ(api_.state().Get(vo["id"])->file, new_file);
  EXPECT_EQ(api_.state().Get(vo["id"])->passkey, "rotated");
}

TEST_F(LeegalityApiTest, UpdateErrors) {
  json vo = Create();
  const std::string path =
      "/api/v1/certificates/" + vo["id"].get<std::string>();
  Form bad_department;
  bad_department.file.reset();
  bad_department.passkey.reset();
  bad_department.department = kMissingId;
  ExpectError(api_.Handle(Request("PUT", path, bad_department)), 400,
              "LE_ERR_SS_400", nullptr, "Invalid request parameter: ");
  Form file_without_passkey;
  file_without_passkey.passkey.reset();
  ExpectError(api_.Handle(Request("PUT", path, file_without_passkey)), 400,
              "LE_ERR_SS_400", nullptr, "passkey");
  Form wrong_passkey;
  wrong_passkey.passkey = "nope";
  ExpectError(api_.Handle(Request("PUT", path, wrong_passkey)), 400,
              "LE_ERR_SS_400", nullptr, "Invalid request parameter: ");
  ExpectError(
      api_.Handle(Request(
          "PUT", std::string("/api/v1/certificates/") + kMissingId, Form{})),
      404, "LE_ERR_SS_404", "LE_ERR_SS_001", "does not exist");
  EXPECT_EQ(api_.state().Get(vo["id"])->department_id,
            kLeegalityHrDepartmentId);
}

TEST_F(LeegalityApiTest, DeleteReturnsTheSeedBodyThen404) {
  json vo = Create();
  const std::string path =
      "/api/v1/certificates/" + vo["id"].get<std::string>();
  HttpResponse r = api_.Handle(Request("DELETE", path));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body),
            json::parse(R"({"code":"LE_SS_002","message":)"
                        R"("Requested record has been deleted.","data":{}})"));
  ExpectError(api_.Handle(Request("DELETE", path)), 404, "LE_ERR_SS_404",
              "LE_ERR_SS_001", "does not exist");
  EXPECT_EQ(api_.Handle(Request("GET", path)).status, 404);
}

TEST_F(LeegalityApiTest, ResetRestoresSeededState) {
  Create();
  api_.state().AddDepartment(kMissingId, "Ops");
  api_.Reset();
  EXPECT_EQ(api_.state().size(), 0u);
  EXPECT_FALSE(api_.state().DepartmentName(kMissingId).has_value());
  EXPECT_EQ(*api_.state().DepartmentName(kLeegalityLegalDepartmentId), "Legal");
}

}  // namespace
}  // namespace certbridge::emulator

namespace certbridge::emulator {
namespace {

using ::testing::ElementsAre;

// The reports (C5, C6) over certificates put straight into the state.
class LeegalityReportsTest : public ::testing::Test {
 protected:
  void Add(const std::string& name, absl::Duration expires_in,
           bool enabled = true, bool has_expiry = true,
           const std::string& department = kLeegalityHrDepartmentId) {
    LeegalityCertificate c;
    c.name = name;
    c.expiry = now_ + expires_in;
    c.has_expiry = has_expiry;
    c.enabled = enabled;
    c.created_at = now_;
    c.department_id = department;
    ASSERT_TRUE(api_.state().Insert(c).ok());
  }
  HttpResponse Get(const std::string& path, const std::string& query = "") {
    HttpRequest r;
    r.method = "GET";
    r.path = path;
    r.query = query;
    r.target = query.empty() ? path : path + "?" + query;
    r.headers["x-auth-token"] = kToken;
    return api_.Handle(r);
  }
  std::vector<std::string> Names(const HttpResponse& r) {
    EXPECT_EQ(r.status, 200) << r.body;
    const json body = json::parse(r.body);
    // Data-only envelope: nothing but `data`.
    EXPECT_EQ(body.size(), 1u) << r.body;
    std::vector<std::string> names;
    for (const json& vo : body["data"]) names.push_back(vo["name"]);
    return names;
  }

  const absl::Time now_ = absl::Now();
  LeegalityApi api_{kToken};
};

TEST_F(LeegalityReportsTest, ExpiringSoonListsEnabledWithExpirySoonestFirst) {
  Add("in-20-days", absl::Hours(24 * 20));
  Add("in-5-days", absl::Hours(24 * 5));
  Add("expired", -absl::Hours(24 * 3));
  Add("in-40-days", absl::Hours(24 * 40));
  Add("disabled", absl::Hours(24 * 2), /*enabled=*/false);
  Add("no-expiry", absl::Hours(24), true, /*has_expiry=*/false);
  // Default horizon: 30 days.
  EXPECT_THAT(Names(Get("/api/v1/certificates/expiring-soon")),
              ElementsAre("expired", "in-5-days", "in-20-days"));
  EXPECT_THAT(Names(Get("/api/api/v1/certificates/expiring-soon", "days=10")),
              ElementsAre("expired", "in-5-days"));
  // A horizon past every expiry: still no disabled or expiry-less one.
  EXPECT_THAT(Names(Get("/api/v1/certificates/expiring-soon", "days=3000000")),
              ElementsAre("expired", "in-5-days", "in-20-days", "in-40-days"));
  const json vo =
      json::parse(Get("/api/v1/certificates/expiring-soon").body)["data"][0];
  EXPECT_THAT(vo["expiry"].get<std::string>(), MatchesRegex(kTimeRegex));
  EXPECT_EQ(vo["departmentName"], "HR");
}

TEST_F(LeegalityReportsTest, DepartmentFilterAndBadParameters) {
  Add("hr", absl::Hours(24));
  Add("legal", absl::Hours(48), true, true, kLeegalityLegalDepartmentId);
  EXPECT_THAT(
      Names(Get("/api/v1/certificates/expiring-soon",
                std::string("departmentId=") + kLeegalityLegalDepartmentId)),
      ElementsAre("legal"));
  EXPECT_THAT(Names(Get("/api/v1/certificates/expiring-soon",
                        std::string("days=7&departmentId=") + kMissingId)),
              ElementsAre());
  HttpResponse r = Get("/api/v1/certificates/expiring-soon", "days=soon");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body)["code"], "LE_ERR_SS_400");
  EXPECT_EQ(Get("/api/v1/certificates/expiring-soon", "days=-1").status, 400);
  // Beyond a Java int.
  EXPECT_EQ(Get("/api/v1/certificates/expiring-soon", "days=2147483648").status,
            400);
  r = Get("/api/v1/certificates/summary", "departmentId=not-a-uuid");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("Invalid UUID provided."));
  // Reports are read-only.
  HttpRequest post;
  post.method = "POST";
  post.path = post.target = "/api/v1/certificates/expiring-soon";
  post.headers["x-auth-token"] = kToken;
  EXPECT_EQ(api_.Handle(post).status, 405);
  // And need the token like every endpoint.
  HttpRequest anonymous;
  anonymous.method = "GET";
  anonymous.path = anonymous.target = "/api/v1/certificates/summary";
  EXPECT_EQ(api_.Handle(anonymous).status, 401);
}

TEST_F(LeegalityReportsTest, SummaryCountsTotalActiveAndExpiringSoon) {
  Add("soon", absl::Hours(24 * 3));
  Add("later", absl::Hours(24 * 90));
  Add("expired", -absl::Hours(24));
  Add("disabled", absl::Hours(24 * 3), /*enabled=*/false);
  Add("no-expiry", absl::Hours(24), true, /*has_expiry=*/false);
  Add("legal", absl::Hours(24 * 3), true, true, kLeegalityLegalDepartmentId);
  HttpResponse r = Get("/api/v1/certificates/summary");
  ASSERT_EQ(r.status, 200) << r.body;
  json body = json::parse(r.body);
  EXPECT_EQ(body["code"], "LE_SS_001");
  EXPECT_TRUE(body["message"].is_string());
  EXPECT_EQ(body["data"]["totalCertificates"], 6);
  EXPECT_EQ(body["data"]["activeCertificates"],
            4);  // soon later no-expiry legal
  EXPECT_EQ(body["data"]["expiringSoonCertificates"], 3);  // soon expired legal
  body = json::parse(
      Get("/api/v1/certificates/summary",
          std::string("days=365&departmentId=") + kLeegalityHrDepartmentId)
          .body);
  EXPECT_EQ(body["data"]["totalCertificates"], 5);
  EXPECT_EQ(body["data"]["expiringSoonCertificates"], 3);  // soon later expired
}

TEST_F(LeegalityReportsTest, AReportPathIsNotTakenForAnId) {
  // GET /certificates/{id} still answers 400 for ids that are not UUIDs.
  HttpResponse r = Get("/api/v1/certificates/expiring");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("Invalid UUID provided."));
}

}  // namespace
}  // namespace certbridge::emulator
