#include "server/http/multipart.h"

#include <gtest/gtest.h>

namespace certbridge {
namespace {

TEST(MultipartTest, EncodesFieldsAndFileExactly) {
  MultipartBuilder b("XyZ");
  // AddFile keeps a view: the bytes must outlive Build() (ASan found this
  // test passing a temporary).
  const std::string file("\x00\x01\r\n", 4);
  b.AddField("passkey", "pw")
      .AddFile("certificateFile", "a.p12", "application/x-pkcs12", file);
  const std::string body = b.Build();
  EXPECT_EQ(body, std::string("--XyZ\r\nContent-Disposition: form-data; "
                              "name=\"passkey\"\r\n\r\npw\r\n"
                              "--XyZ\r\nContent-Disposition: form-data; "
                              "name=\"certificateFile\"; filename=\"a.p12\"\r\n"
                              "Content-Type: application/x-pkcs12\r\n\r\n") +
                      std::string("\x00\x01\r\n", 4) + "\r\n--XyZ--\r\n");
  EXPECT_EQ(b.ContentType(), "multipart/form-data; boundary=XyZ");
}

TEST(MultipartTest, PicksNewBoundaryWhenContentContainsIt) {
  MultipartBuilder b("abc");
  b.AddFile("f", "x", "", "data--abc--data");
  const std::string body = b.Build();
  const std::string prefix = "multipart/form-data; boundary=";
  const std::string boundary = b.ContentType().substr(prefix.size());
  EXPECT_NE(boundary, "abc");
  EXPECT_EQ(body.find("data--abc--data"), body.find("\r\n\r\n") + 4);
  EXPECT_EQ(body.substr(0, boundary.size() + 2), "--" + boundary);
  EXPECT_EQ(body.substr(body.size() - boundary.size() - 6),
            "--" + boundary + "--\r\n");
}

TEST(MultipartTest, EscapesQuotesAndNewlinesInNames) {
  MultipartBuilder b("B");
  b.AddFile("f", "evil\"\r\nX-Injected: 1.p12", "", "");
  const std::string body = b.Build();
  EXPECT_EQ(body.find("\r\nX-Injected"), std::string::npos);
  EXPECT_NE(body.find("filename=\"evil%22%0D%0AX-Injected: 1.p12\""),
            std::string::npos);
}

TEST(MultipartTest, RandomBoundariesDiffer) {
  EXPECT_NE(RandomBoundary(), RandomBoundary());
  EXPECT_GE(RandomBoundary().size(), 32u);
}

}  // namespace
}  // namespace certbridge
