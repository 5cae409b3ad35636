// Integration tests need libcurl initialised once, before any thread, as
// certbridge-server's main does.
#include <curl/curl.h>
#include <gtest/gtest.h>

#include "server/certificates/certificate_checks.h"

int main(int argc, char** argv) {
  curl_global_init(CURL_GLOBAL_ALL);
  certbridge::LoadLegacyPkcs12Support();
  ::testing::InitGoogleTest(&argc, argv);
  const int rc = RUN_ALL_TESTS();
  curl_global_cleanup();
  return rc;
}
