#include "tests/emulator/multipart_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/http/multipart.h"

namespace certbridge::emulator {
namespace {

TEST(MultipartBoundaryTest, ReadsPlainAndQuotedBoundaries) {
  EXPECT_EQ(*MultipartBoundary("multipart/form-data; boundary=abc123"),
            "abc123");
  EXPECT_EQ(*MultipartBoundary("Multipart/Form-Data;boundary=\"a b;c\""),
            "a b;c");
  EXPECT_EQ(
      *MultipartBoundary("multipart/form-data; charset=utf-8; boundary=x-y"),
      "x-y");
}

TEST(MultipartBoundaryTest, RejectsOtherMediaTypesAndMissingBoundary) {
  EXPECT_FALSE(MultipartBoundary("application/json").ok());
  EXPECT_FALSE(MultipartBoundary("").ok());
  EXPECT_FALSE(MultipartBoundary("multipart/form-data").ok());
  EXPECT_FALSE(MultipartBoundary("multipart/form-data; boundary=").ok());
  EXPECT_FALSE(
      MultipartBoundary("multipart/form-data; boundary=" + std::string(71, 'b'))
          .ok());
}

TEST(ParseMultipartTest, RoundTripsTheClientBuilder) {
  const std::string binary("\x00\x01\r\n--\xff\r\n", 8);
  MultipartBuilder builder("fixed-boundary");
  builder.AddFile("certificateFile", "legal signer.pfx", "application/x-pkcs12",
                  binary);
  builder.AddField("passkey", "pw");
  builder.AddField("departmentId", "");
  const std::string body = builder.Build();
  auto boundary = MultipartBoundary(builder.ContentType());
  ASSERT_TRUE(boundary.ok()) << boundary.status();
  auto parts = ParseMultipart(body, *boundary);
  ASSERT_TRUE(parts.ok()) << parts.status();
  ASSERT_EQ(parts->size(), 3u);
  const MultipartPart& file = (*parts)[0];
  EXPECT_EQ(file.name, "certificateFile");
  ASSERT_TRUE(file.filename.has_value());
  EXPECT_EQ(*file.filename, "legal signer.pfx");
  EXPECT_EQ(file.content_type, "application/x-pkcs12");
  EXPECT_EQ(file.data, binary);
  EXPECT_EQ((*parts)[1].name, "passkey");
  EXPECT_FALSE((*parts)[1].filename.has_value());
  EXPECT_EQ((*parts)[1].data, "pw");
  EXPECT_EQ((*parts)[2].data, "");
  EXPECT_EQ(FindPart(*parts, "passkey"), &(*parts)[1]);
  EXPECT_EQ(FindPart(*parts, "nope"), nullptr);
}

TEST(ParseMultipartTest, SkipsPreambleAndEpilogue) {
  const std::string body =
      "preamble\r\n--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
      "1\r\n--b\r\ncontent-disposition: form-data; name=\"f\"; "
      "filename=\"x.p12\"\r\n\r\n\r\n--b--\r\nepilogue";
  auto parts = ParseMultipart(body, "b");
  ASSERT_TRUE(parts.ok()) << parts.status();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].data, "1");
  EXPECT_EQ(*(*parts)[1].filename, "x.p12");
  EXPECT_EQ((*parts)[1].data, "");
}

TEST(ParseMultipartTest, DataMayContainTheBoundaryWithoutCrlf) {
  const std::string ok_body =
      "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
      "x--b y\r\n--b--";
  auto ok = ParseMultipart(ok_body, "b");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ((*ok)[0].data, "x--b y");
}

TEST(ParseMultipartTest, RejectsBrokenBodies) {
  EXPECT_FALSE(ParseMultipart("", "b").ok());
  EXPECT_FALSE(ParseMultipart("no boundary here", "b").ok());
  // No closing delimiter.
  EXPECT_FALSE(ParseMultipart("--b\r\nContent-Disposition: form-data; "
                              "name=\"a\"\r\n\r\nvalue",
                              "b")
                   .ok());
  // No Content-Disposition.
  EXPECT_FALSE(
      ParseMultipart("--b\r\nContent-Type: text/plain\r\n\r\nv\r\n--b--", "b")
          .ok());
  // Not form-data / no name.
  EXPECT_FALSE(
      ParseMultipart("--b\r\nContent-Disposition: attachment\r\n\r\nv\r\n--b--",
                     "b")
          .ok());
  // Unterminated headers.
  EXPECT_FALSE(
      ParseMultipart("--b\r\nContent-Disposition: form-data", "b").ok());
  // Junk after the boundary.
  EXPECT_FALSE(ParseMultipart("--bjunk\r\n\r\n\r\n--b--", "b").ok());
}

TEST(ParseMultipartTest, EmptyFormIsJustTheCloseDelimiter) {
  auto parts = ParseMultipart("--b--\r\n", "b");
  ASSERT_TRUE(parts.ok()) << parts.status();
  EXPECT_TRUE(parts->empty());
}

}  // namespace
}  // namespace certbridge::emulator
