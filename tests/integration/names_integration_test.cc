// Hostile resource names end to end (issue 10 findings 1 and 2): every
// method shares one name check, dot segments and control bytes never reach
// a backend, and a name that is accepted reaches the backend as exactly the
// path it implies -- checked through the real libcurl transport against
// the emulator's record of the raw request target.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tests/integration/certbridge_harness.h"

namespace certbridge::testing {
namespace {

class NamesIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_ = Harness::Start();
    ASSERT_NE(h_, nullptr);
  }

  grpc::Status Get(const std::string& name) {
    v1::GetCertificateRequest r;
    r.set_name(name);
    v1::Certificate out;
    auto ctx = Harness::Context();
    return h_->stub().GetCertificate(ctx.get(), r, &out);
  }
  grpc::Status Delete(const std::string& name) {
    v1::DeleteCertificateRequest r;
    r.set_name(name);
    v1::DeleteCertificateResponse out;
    auto ctx = Harness::Context();
    return h_->stub().DeleteCertificate(ctx.get(), r, &out);
  }
  grpc::Status Update(const std::string& name) {
    v1::UpdateCertificateRequest r;
    r.mutable_certificate()->set_name(name);
    r.mutable_certificate()->mutable_apinizer()->set_description("d");
    r.mutable_update_mask()->add_paths("apinizer.description");
    v1::Certificate out;
    auto ctx = Harness::Context();
    return h_->stub().UpdateCertificate(ctx.get(), r, &out);
  }
  grpc::Status Create(const std::string& parent, const std::string& id) {
    v1::CreateCertificateRequest r;
    r.set_parent(parent);
    r.set_certificate_id(id);
    auto* a = r.mutable_certificate()->mutable_apinizer();
    a->set_alias("alias");
    a->add_environments("prod");
    a->set_pem_certificate("not checked: the name is refused first");
    v1::Certificate out;
    auto ctx = Harness::Context();
    return h_->stub().CreateCertificate(ctx.get(), r, &out);
  }

  static void ExpectInvalidName(const grpc::Status& s,
                                const std::string& what) {
    RpcError e = DecodeRpcError(s);
    EXPECT_EQ(e.code, grpc::StatusCode::INVALID_ARGUMENT) << what;
    EXPECT_EQ(e.reason, "INVALID_NAME") << what << ": " << e.message;
    EXPECT_EQ(e.error_info_count, 1) << what;
  }

  std::unique_ptr<Harness> h_;
};

constexpr char kCerts[] = "backends/apinizer/projects/Payments/certificates/";

TEST_F(NamesIntegrationTest, DotSegmentsNeverReachTheBackend) {
  // Finding 1: Delete of ".." sent DELETE /apiops/projects/Payments/.
  for (const std::string& name :
       {absl::StrCat(kCerts, ".."), absl::StrCat(kCerts, "."),
        absl::StrCat(kCerts, "%2E%2E"), absl::StrCat(kCerts, "%2e"),
        std::string("backends/apinizer/projects/../certificates/x"),
        std::string("backends/apinizer/projects/%2E%2E/certificates/x"),
        absl::StrCat(kCerts, "..%2F..%2Fprojects")}) {
    SCOPED_TRACE(name);
    ExpectInvalidName(Delete(name), "delete");
    ExpectInvalidName(Get(name), "get");
    ExpectInvalidName(Update(name), "update");
  }
  ExpectInvalidName(Create("backends/apinizer/projects/..", "x"), "parent");
  ExpectInvalidName(Create("backends/apinizer/projects/Payments", ".."),
                    "certificate_id");
  EXPECT_TRUE(h_->emulator().Requests().empty());
}

TEST_F(NamesIntegrationTest, EveryMethodRefusesWhatCreateRefuses) {
  // Finding 2: Get/Update/Delete skipped Create's checks.
  const std::vector<std::string> bad = {
      absl::StrCat(kCerts, std::string(10 * 1024, 'n')),
      absl::StrCat(kCerts, "a%00b"),
      absl::StrCat(kCerts, std::string("a\0b", 3)),
      absl::StrCat(kCerts, "a\nb"),
      absl::StrCat(kCerts, "a%0Ab"),
      absl::StrCat(kCerts, "a\x7f"),
      absl::StrCat(kCerts, "a%7F"),
      absl::StrCat(kCerts, "%FF"),
      absl::StrCat(kCerts, std::string(256, 'x')),
  };
  for (const std::string& name : bad) {
    SCOPED_TRACE(name.substr(0, 80));
    ExpectInvalidName(Get(name), "get");
    ExpectInvalidName(Update(name), "update");
    ExpectInvalidName(Delete(name), "delete");
    const std::string id = name.substr(sizeof(kCerts) - 1);
    grpc::Status create = Create("backends/apinizer/projects/Payments", id);
    EXPECT_EQ(create.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  EXPECT_TRUE(h_->emulator().Requests().empty());
}

// Reference implementation, independent of the server's: decode %XX, and
// the bytes RFC 3986 leaves unreserved stay, everything else is %XX.
bool Decode(const std::string& in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size() ||
        !isxdigit(static_cast<unsigned char>(in[i + 1])) ||
        !isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      return false;
    }
    out->push_back(
        static_cast<char>(std::stoi(in.substr(i + 1, 2), nullptr, 16)));
    i += 2;
  }
  return true;
}

std::string Encode(const std::string& in) {
  std::string out;
  for (unsigned char c : in) {
    if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += absl::StrFormat("%%%02X", c);
    }
  }
  return out;
}

// Pieces the generator strings together: dot segments and their escapes,
// every kind of %-escape, separators, reserved characters, Unicode,
// control bytes (escaped, as proto strings must be UTF-8) and plain text.
std::string RandomSegment(std::mt19937& rng) {
  static const std::vector<std::string> kPieces = {".",
                                                   "..",
                                                   "%2E",
                                                   "%2e",
                                                   "%2E%2E",
                                                   "%2F",
                                                   "%2f",
                                                   "%5C",
                                                   "%25",
                                                   "%",
                                                   "%G0",
                                                   "%0",
                                                   "%00",
                                                   "%0A",
                                                   "%0D",
                                                   "%7F",
                                                   "%FF",
                                                   "%C0%AE",
                                                   "%E2%82%AC",
                                                   ":",
                                                   "@",
                                                   "!",
                                                   "$",
                                                   "&",
                                                   "'",
                                                   "(",
                                                   ")",
                                                   "*",
                                                   "+",
                                                   ",",
                                                   ";",
                                                   "=",
                                                   "?",
                                                   "#",
                                                   "[",
                                                   "]",
                                                   " ",
                                                   "~",
                                                   "-",
                                                   "_",
                                                   "\xC3\xA7",
                                                   "\xE2\x82\xAC",
                                                   "\xF0\x9F\x98\x80",
                                                   "Payments",
                                                   "root-ca",
                                                   "a",
                                                   "Z",
                                                   "0",
                                                   "%20",
                                                   "%41",
                                                   "%7E",
                                                   "%C3%A7"};
  std::uniform_int_distribution<size_t> piece(0, kPieces.size() - 1);
  std::uniform_int_distribution<int> count(1, 6);
  std::string out;
  const int n = count(rng);
  for (int i = 0; i < n; ++i) out += kPieces[piece(rng)];
  // Now and then, lengths around the 255-byte segment limit.
  std::uniform_int_distribution<int> pad(0, 9);
  if (pad(rng) == 0) out += std::string(250 + pad(rng), 'x');
  return out;
}

TEST_F(NamesIntegrationTest, AcceptedNamesReachTheBackendAsExactlyTheirPath) {
  std::mt19937 rng(20261201);
  int sent = 0;
  int refused = 0;
  for (int i = 0; i < 400; ++i) {
    const std::string project_raw =
        i % 4 == 0 ? "Payments" : RandomSegment(rng);
    const std::string cert_raw = RandomSegment(rng);
    const std::string name = absl::StrCat(
        "backends/apinizer/projects/", project_raw, "/certificates/", cert_raw);
    SCOPED_TRACE(name);
    h_->emulator().ClearRequests();
    const grpc::Status s = Get(name);
    const auto requests = h_->emulator().Requests();
    const RpcError e = DecodeRpcError(s);
    if (e.reason == "INVALID_NAME") {
      EXPECT_TRUE(requests.empty()) << "refused names send nothing";
      ++refused;
      continue;
    }
    // The server accepted it: the decoded segments must be valid names by
    // the reference rules, and the request path must be exactly theirs.
    std::string project, cert;
    ASSERT_TRUE(Decode(project_raw, &project));
    ASSERT_TRUE(Decode(cert_raw, &cert));
    for (const std::string& segment : {project, cert}) {
      EXPECT_NE(segment, ".");
      EXPECT_NE(segment, "..");
      EXPECT_EQ(segment.find_first_of(std::string("/\\\0", 3)),
                std::string::npos);
      EXPECT_LE(segment.size(), 255u);
    }
    ASSERT_EQ(requests.size(), 1u) << e.message;
    EXPECT_EQ(requests[0].method, "GET");
    EXPECT_EQ(requests[0].path,
              absl::StrCat("/apiops/projects/", Encode(project),
                           "/certificates/", Encode(cert), "/"));
    ++sent;
  }
  // Both branches were exercised in earnest.
  EXPECT_GT(sent, 50);
  EXPECT_GT(refused, 50);
  std::cout << "names sent: " << sent << ", refused: " << refused << "\n";
}

}  // namespace
}  // namespace certbridge::testing
