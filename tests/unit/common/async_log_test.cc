// The server's asynchronous log writes: nothing lost or reordered, errors not
// held back, a full buffer drops and says so. Its own executable: async
// writes cannot be switched off again in the process-wide logger.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/common/log.h"

namespace certbridge {
namespace {

constexpr std::size_t kMaxBuffered = 4096;

class AsyncLogTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    path_ = new std::string(
        absl::StrCat(::testing::TempDir(), "/async_log_", getpid()));
    std::fflush(stderr);
    saved_ = dup(2);
    const int fd = open(path_->c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(dup2(fd, 2), 2);
    close(fd);
    // An interval far beyond any test: only Flush and error lines write.
    Logger::Get().StartAsyncWrites(absl::Hours(1), kMaxBuffered);
  }
  static void TearDownTestSuite() {
    Logger::Get().Flush();
    dup2(saved_, 2);
    close(saved_);
    std::remove(path_->c_str());
    delete path_;
  }

  static std::vector<std::string> Lines() {
    std::ifstream in(*path_);
    std::stringstream all;
    all << in.rdbuf();
    return absl::StrSplit(all.str(), '\n', absl::SkipEmpty());
  }

  static std::string* path_;
  static int saved_;
};
std::string* AsyncLogTest::path_ = nullptr;
int AsyncLogTest::saved_ = -1;

TEST_F(AsyncLogTest, LinesWaitForTheWriterThenArriveWholeAndInOrder) {
  const std::size_t before = Lines().size();
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < 5; ++i) LogInfo("order", {{"t", t}, {"i", i}});
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(Lines().size(), before) << "info lines were written at once";
  Logger::Get().Flush();
  const auto lines = Lines();
  ASSERT_EQ(lines.size(), before + 15);
  int next[3] = {0, 0, 0};
  for (std::size_t k = before; k < lines.size(); ++k) {
    const auto j = nlohmann::json::parse(lines[k]);
    EXPECT_EQ(j["msg"], "order");
    const int t = j["t"].get<int>();
    EXPECT_EQ(j["i"].get<int>(), next[t]++) << "thread " << t << " reordered";
  }
  EXPECT_THAT(next, ::testing::ElementsAre(5, 5, 5));
}

TEST_F(AsyncLogTest, AnErrorLineIsWrittenWithoutAFlush) {
  LogInfo("before the error", {});
  LogError("the error", {});
  // Generous: only a writer that never wakes fails this.
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  bool seen = false;
  while (!seen && absl::Now() < give_up) {
    for (const auto& line : Lines()) {
      if (line.find("the error") != std::string::npos) seen = true;
    }
    if (!seen) absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_TRUE(seen);
  const auto lines = Lines();
  ASSERT_GE(lines.size(), 2u);
  EXPECT_NE(lines[lines.size() - 2].find("before the error"),
            std::string::npos);
}

TEST_F(AsyncLogTest, AFullBufferDropsLinesAndTheNextFlushCountsThem) {
  Logger::Get().Flush();
  const std::uint64_t dropped_before = Logger::Get().dropped();
  const std::string filler(100, 'x');
  for (int i = 0; i < 200; ++i) LogInfo("filler", {{"f", filler}});
  const std::uint64_t dropped = Logger::Get().dropped() - dropped_before;
  EXPECT_GT(dropped, 0u);
  EXPECT_LT(dropped, 200u) << "the buffer kept nothing";
  Logger::Get().Flush();
  const auto lines = Lines();
  const auto last = nlohmann::json::parse(lines.back());
  EXPECT_EQ(last["level"], "error");
  EXPECT_EQ(last["dropped_total"].get<std::uint64_t>(),
            Logger::Get().dropped());
}

}  // namespace
}  // namespace certbridge
