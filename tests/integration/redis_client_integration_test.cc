// RedisClient against a real redis-server (tests/testing/redis_server.h)
// and, for replies no real server sends, a scripted loopback peer: replies
// and errors, pipelining from many threads, AUTH and SELECT, TLS, a paused,
// killed and restarted server, the pending bound, shutdown with commands in
// flight, and oversized replies. Waits are generous (a loaded 2-core CI
// machine) and never a bare sleep used as synchronisation.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/idempotency/redis_client.h"
#include "tests/emulator/test_pki.h"
#include "tests/testing/redis_server.h"
#include "tests/testing/reserved_port.h"

namespace certbridge {
namespace {

using ::certbridge::testing::RedisServer;
using ::certbridge::testing::RedisServerOptions;
using ::certbridge::testing::ReservedPort;
using ::testing::HasSubstr;
using ::testing::Not;

using Result = absl::StatusOr<RedisReply>;

// Long enough that only a lost callback (a bug) reaches it.
constexpr auto kCallbackWait = std::chrono::seconds(60);
constexpr absl::Duration kEventually = absl::Seconds(30);

RedisOptions OptionsFor(int port) {
  RedisOptions options;
  options.host = "127.0.0.1";
  options.port = port;
  // Generous, for a loaded machine; tests that want a timeout set their own.
  options.connect_timeout = absl::Seconds(10);
  options.command_timeout = absl::Seconds(10);
  options.reconnect_backoff_initial = absl::Milliseconds(20);
  options.reconnect_backoff_max = absl::Milliseconds(200);
  return options;
}

std::unique_ptr<RedisClient> MakeClient(RedisOptions options) {
  auto client = RedisClient::Create(std::move(options));
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

// Runs one command and waits for its callback.
Result Call(RedisClient& client, std::vector<std::string> argv,
            absl::Duration timeout = absl::ZeroDuration()) {
  auto promise = std::make_shared<std::promise<Result>>();
  std::future<Result> future = promise->get_future();
  auto done = [promise](Result r) { promise->set_value(std::move(r)); };
  if (timeout == absl::ZeroDuration()) {
    client.Command(std::move(argv), done);
  } else {
    client.Command(std::move(argv), timeout, done);
  }
  if (future.wait_for(kCallbackWait) != std::future_status::ready) {
    return absl::DeadlineExceededError("test: callback never ran");
  }
  return future.get();
}

// Retries `argv` until it succeeds (the client reconnects in the
// background and fails fast meanwhile).
Result CallEventually(RedisClient& client, const std::vector<std::string>& argv,
                      absl::Duration within = kEventually) {
  absl::Time deadline = absl::Now() + within;
  Result last = absl::UnknownError("not tried");
  while (absl::Now() < deadline) {
    last = Call(client, argv);
    if (last.ok()) return last;
    absl::SleepFor(absl::Milliseconds(20));  // Poll interval, not a sync.
  }
  return last;
}

void ExpectString(const Result& r, const std::string& value) {
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->type, RedisReply::Type::kString);
  EXPECT_EQ(r->str, value);
}

RedisServerOptions WithPassword(std::string password) {
  RedisServerOptions options;
  options.password = std::move(password);
  return options;
}

std::unique_ptr<RedisServer> StartServer(RedisServerOptions options = {}) {
  auto server = RedisServer::Start(std::move(options));
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

TEST(RedisClientTest, RepliesOfEveryType) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto client = MakeClient(OptionsFor(server->port()));
  ASSERT_NE(client, nullptr);

  Result set = Call(*client, {"SET", "k", std::string("v\0w", 3)});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->type, RedisReply::Type::kStatus);
  EXPECT_EQ(set->str, "OK");
  ExpectString(Call(*client, {"GET", "k"}), std::string("v\0w", 3));

  Result incr = Call(*client, {"INCR", "n"});
  ASSERT_TRUE(incr.ok()) << incr.status();
  EXPECT_EQ(incr->type, RedisReply::Type::kInteger);
  EXPECT_EQ(incr->integer, 1);

  Result nil = Call(*client, {"GET", "missing"});
  ASSERT_TRUE(nil.ok()) << nil.status();
  EXPECT_EQ(nil->type, RedisReply::Type::kNil);

  Result array = Call(*client, {"EVAL", "return {1, 'two', {3}, false}", "0"});
  ASSERT_TRUE(array.ok()) << array.status();
  ASSERT_EQ(array->type, RedisReply::Type::kArray);
  ASSERT_EQ(array->elements.size(), 4u);
  EXPECT_EQ(array->elements[0].type, RedisReply::Type::kInteger);
  EXPECT_EQ(array->elements[0].integer, 1);
  EXPECT_EQ(array->elements[1].str, "two");
  ASSERT_EQ(array->elements[2].type, RedisReply::Type::kArray);
  ASSERT_EQ(array->elements[2].elements.size(), 1u);
  EXPECT_EQ(array->elements[2].elements[0].integer, 3);
  EXPECT_EQ(array->elements[3].type, RedisReply::Type::kNil);

  Result empty = Call(*client, {"LRANGE", "nolist", "0", "-1"});
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->type, RedisReply::Type::kArray);
  EXPECT_TRUE(empty->elements.empty());
  EXPECT_TRUE(client->connected());
}

TEST(RedisClientTest, RedisErrorIsAnErrorReplyNotAStatus) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto client = MakeClient(OptionsFor(server->port()));
  ASSERT_NE(client, nullptr);

  Result noscript = Call(*client, {"EVALSHA", std::string(40, 'a'), "0"});
  ASSERT_TRUE(noscript.ok()) << noscript.status();
  EXPECT_EQ(noscript->type, RedisReply::Type::kError);
  EXPECT_THAT(noscript->str, ::testing::StartsWith("NOSCRIPT"));
  // The connection is still good: the next reply matches its command.
  ExpectString(Call(*client, {"ECHO", "after"}), "after");
}

TEST(RedisClientTest, InvalidCommandsFailInline) {
  auto client = MakeClient(OptionsFor(ReservedPort().port()));
  ASSERT_NE(client, nullptr);
  bool ran = false;
  client->Command({}, [&](Result r) {
    ran = true;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  });
  EXPECT_TRUE(ran);
  EXPECT_FALSE(RedisClient::Create(RedisOptions{}).ok());  // No host.
  RedisOptions bad_ca = OptionsFor(6379);
  bad_ca.tls = true;
  bad_ca.tls_ca_file = "/nonexistent/ca.pem";
  EXPECT_EQ(RedisClient::Create(bad_ca).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RedisClientTest, PipelinesConcurrentCommandsInOrder) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto client = MakeClient(OptionsFor(server->port()));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(CallEventually(*client, {"PING"}).ok());

  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  std::mutex mu;
  std::vector<std::string> mismatches;
  std::atomic<int> callbacks{0};
  std::promise<void> all_done;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string value = absl::StrCat("t", t, "-", i);
        // Alternate two commands so a shifted match shows as a wrong type.
        std::vector<std::string> argv =
            i % 2 == 0 ? std::vector<std::string>{"ECHO", value}
                       : std::vector<std::string>{"INCR", "counter"};
        client->Command(std::move(argv), [&, value, i](Result r) {
          bool ok =
              r.ok() && (i % 2 == 0 ? r->type == RedisReply::Type::kString &&
                                          r->str == value
                                    : r->type == RedisReply::Type::kInteger);
          if (!ok) {
            std::lock_guard<std::mutex> lock(mu);
            mismatches.push_back(value + ": " +
                                 (r.ok() ? r->str : r.status().ToString()));
          }
          if (callbacks.fetch_add(1) + 1 == kThreads * kPerThread) {
            all_done.set_value();
          }
        });
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_EQ(all_done.get_future().wait_for(kCallbackWait),
            std::future_status::ready);
  EXPECT_EQ(callbacks.load(), kThreads * kPerThread);
  EXPECT_TRUE(mismatches.empty()) << absl::StrJoin(mismatches, "\n");
  ExpectString(Call(*client, {"GET", "counter"}),
               std::to_string(kThreads * (kPerThread / 2)));
}

TEST(RedisClientTest, WrongPasswordIsUnavailableWithoutThePassword) {
  const std::string server_password = "server-pass-7f3a";
  const std::string client_password = "client-pass-9c1d";
  auto server = StartServer(WithPassword(server_password));
  ASSERT_NE(server, nullptr);
  RedisOptions options = OptionsFor(server->port());
  options.password = client_password;
  auto client = MakeClient(options);
  ASSERT_NE(client, nullptr);

  Result r = Call(*client, {"PING"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("AUTH refused"));
  EXPECT_THAT(r.status().message(),
              HasSubstr(absl::StrCat("127.0.0.1:", server->port())));
  EXPECT_THAT(r.status().message(), Not(HasSubstr(client_password)));
  EXPECT_THAT(r.status().message(), Not(HasSubstr(server_password)));
  // Later commands fail fast with the same cause, still without it.
  Result again = Call(*client, {"PING"});
  EXPECT_EQ(again.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(again.status().message(), Not(HasSubstr(client_password)));
  EXPECT_FALSE(client->connected());

  // No password at all: the server's NOAUTH, as a connection error.
  auto no_password = MakeClient(OptionsFor(server->port()));
  ASSERT_NE(no_password, nullptr);
  Result noauth = Call(*no_password, {"GET", "k"});
  EXPECT_EQ(noauth.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(noauth.status().message(), HasSubstr("NOAUTH"));
}

TEST(RedisClientTest, PasswordAndDatabaseApplyBeforeCommands) {
  const std::string password = "pass-for-db-test";
  auto server = StartServer(WithPassword(password));
  ASSERT_NE(server, nullptr);
  RedisOptions db3 = OptionsFor(server->port());
  db3.password = password;
  db3.database = 3;
  auto client = MakeClient(db3);
  ASSERT_NE(client, nullptr);

  // Issued before the connection exists: must still run after AUTH/SELECT.
  Result set = Call(*client, {"SET", "where", "db3"});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->type, RedisReply::Type::kStatus);
  Result info = Call(*client, {"CLIENT", "INFO"});
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_THAT(info->str, HasSubstr(" db=3 "));

  RedisOptions db0 = OptionsFor(server->port());
  db0.password = password;
  db0.username = "default";  // The ACL form: AUTH default <password>.
  auto other = MakeClient(db0);
  ASSERT_NE(other, nullptr);
  Result in_db0 = Call(*other, {"GET", "where"});
  ASSERT_TRUE(in_db0.ok()) << in_db0.status();
  EXPECT_EQ(in_db0->type, RedisReply::Type::kNil);

  auto again = MakeClient(db3);
  ASSERT_NE(again, nullptr);
  ExpectString(Call(*again, {"GET", "where"}), "db3");
}

TEST(RedisClientTest, PausedServerTimesOutAndRecovers) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  RedisOptions options = OptionsFor(server->port());
  options.connect_timeout = absl::Milliseconds(500);
  auto client = MakeClient(options);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(CallEventually(*client, {"SET", "k", "v"}).ok());

  ASSERT_TRUE(server->Pause().ok());
  const absl::Duration timeout = absl::Milliseconds(300);
  absl::Time start = absl::Now();
  Result r = Call(*client, {"GET", "k"}, timeout);
  absl::Duration took = absl::Now() - start;
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("timed out"));
  EXPECT_LT(took, 10 * timeout);  // Failed by its timeout, not a hang.

  ASSERT_TRUE(server->Resume().ok());
  ExpectString(CallEventually(*client, {"GET", "k"}), "v");
}

TEST(RedisClientTest, KilledServerFailsFastAndRestartRecovers) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto client = MakeClient(OptionsFor(server->port()));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(CallEventually(*client, {"PING"}).ok());
  EXPECT_TRUE(client->connected());

  ASSERT_TRUE(server->Stop().ok());
  // A long command timeout: an answer well before it means "failed fast",
  // not "timed out".
  const absl::Duration timeout = absl::Seconds(60);
  for (int i = 0; i < 3; ++i) {
    absl::Time start = absl::Now();
    Result r = Call(*client, {"PING"}, timeout);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_THAT(r.status().message(),
                HasSubstr(absl::StrCat("127.0.0.1:", server->port())));
    EXPECT_LT(absl::Now() - start, timeout / 4);
  }
  EXPECT_FALSE(client->connected());

  ASSERT_TRUE(server->Restart().ok());
  Result back = CallEventually(*client, {"SET", "after", "restart"});
  ASSERT_TRUE(back.ok()) << back.status();
  ExpectString(Call(*client, {"GET", "after"}), "restart");
  EXPECT_TRUE(client->connected());
}

// A failover behind one address demotes the node a client is connected to
// without closing the connection. The client must leave it (for whatever
// the address leads to next) rather than fail every write on it.
TEST(RedisClientTest, ReadOnlyReplicaAnswerMakesTheClientReconnect) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto client = MakeClient(OptionsFor(server->port()));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(CallEventually(*client, {"SET", "k", "v"}).ok());

  // Demoted: a replica of a primary that never answers (a reserved port,
  // nothing listening), read-only and serving stale reads.
  const ReservedPort nowhere;
  ASSERT_TRUE(
      Call(*client, {"REPLICAOF", "127.0.0.1", std::to_string(nowhere.port())})
          .ok());
  // The connection the READONLY answer will come on (whether or not Redis
  // dropped its clients when demoted).
  Result before = CallEventually(*client, {"CLIENT", "ID"});
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_EQ(before->type, RedisReply::Type::kInteger);

  Result write = Call(*client, {"SET", "k", "w"});
  ASSERT_TRUE(write.ok()) << write.status();
  EXPECT_EQ(write->type, RedisReply::Type::kError);
  EXPECT_THAT(write->str, ::testing::StartsWith("READONLY"));

  Result after = CallEventually(*client, {"CLIENT", "ID"});
  ASSERT_TRUE(after.ok()) << after.status();
  ASSERT_EQ(after->type, RedisReply::Type::kInteger);
  EXPECT_NE(after->integer, before->integer) << "kept the demoted connection";

  // The same from inside a script (what the idempotency store sends).
  Result scripted = Call(
      *client, {"EVAL", "return redis.call('SET', KEYS[1], 'w')", "1", "k"});
  ASSERT_TRUE(scripted.ok()) << scripted.status();
  EXPECT_EQ(scripted->type, RedisReply::Type::kError);
  Result after_script = CallEventually(*client, {"CLIENT", "ID"});
  ASSERT_TRUE(after_script.ok()) << after_script.status();
  EXPECT_NE(after_script->integer, after->integer)
      << "kept the demoted connection after a script's READONLY";
  EXPECT_THAT(client->last_error(), Not(HasSubstr("READONLY")))
      << "connected again, so no error";

  // Promoted again (what the new primary is): writes go through.
  ASSERT_TRUE(CallEventually(*client, {"REPLICAOF", "NO", "ONE"}).ok());
  ASSERT_TRUE(CallEventually(*client, {"SET", "k", "x"}).ok());
  ExpectString(Call(*client, {"GET", "k"}), "x");
}

// A node that stays read-only (the address still leads to a replica) passes
// every handshake. Each write makes the client leave it, and the backoff
// keeps growing across those reconnects instead of starting afresh at each
// successful handshake: a few connections in two seconds of writes, not one
// per write. (A slower machine only makes fewer.)
TEST(RedisClientTest, StayingReadOnlyDoesNotMakeAReconnectStorm) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto admin = MakeClient(OptionsFor(server->port()));
  ASSERT_NE(admin, nullptr);
  const ReservedPort nowhere;
  ASSERT_TRUE(CallEventually(*admin, {"REPLICAOF", "127.0.0.1",
                                      std::to_string(nowhere.port())})
                  .ok());
  auto connections = [&]() -> long long {
    Result info = CallEventually(*admin, {"INFO", "stats"});
    if (!info.ok()) return -1;
    const std::string key = "total_connections_received:";
    const std::size_t at = info->str.find(key);
    return at == std::string::npos
               ? -1
               : std::atoll(info->str.c_str() + at + key.size());
  };

  RedisOptions options = OptionsFor(server->port());
  options.reconnect_backoff_initial = absl::Milliseconds(20);
  options.reconnect_backoff_max = absl::Seconds(2);
  auto client = MakeClient(options);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(CallEventually(*client, {"PING"}).ok());
  const long long start = connections();
  ASSERT_GE(start, 0);
  int readonly = 0;
  for (const absl::Time end = absl::Now() + absl::Seconds(2);
       absl::Now() < end;) {
    Result r = Call(*client, {"SET", "k", "w"});
    readonly += r.ok() && r->type == RedisReply::Type::kError;
    absl::SleepFor(absl::Milliseconds(5));  // a steady trickle of writes
  }
  const long long made = connections() - start;
  EXPECT_GE(readonly, 2);
  // 20, 40, 80, ... ms: at most ~7 in 2 s. Restarting at 20 ms each time
  // would be dozens.
  EXPECT_LE(made, 12) << readonly << " READONLY answers";
}

TEST(RedisClientTest, ConnectionRefusedAtStart) {
  ReservedPort port;  // Bound, not listening: connects are refused.
  auto client = MakeClient(OptionsFor(port.port()));
  ASSERT_NE(client, nullptr);
  Result r = Call(*client, {"PING"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr(port.address()));
  EXPECT_THAT(r.status().message(), HasSubstr("refused"));
  EXPECT_FALSE(client->connected());
}

TEST(RedisClientTest, FullQueueFailsAtOnceAndShutdownCancelsTheRest) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  RedisOptions options = OptionsFor(server->port());
  options.max_pending = 4;
  options.command_timeout = absl::Seconds(120);
  auto client = MakeClient(options);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(CallEventually(*client, {"PING"}).ok());
  ASSERT_TRUE(server->Pause().ok());

  std::vector<Result> results(4, absl::UnknownError("not run"));
  std::atomic<int> runs{0};
  for (int i = 0; i < 4; ++i) {
    client->Command({"PING"}, [&, i](Result r) {
      results[i] = std::move(r);
      runs.fetch_add(1);
    });
  }
  bool ran_inline = false;
  client->Command({"PING"}, [&](Result r) {
    ran_inline = true;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  });
  EXPECT_TRUE(ran_inline);
  EXPECT_EQ(runs.load(), 0);

  client.reset();  // Joins the client's thread: every callback has run.
  EXPECT_EQ(runs.load(), 4);
  for (const Result& r : results) {
    EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled) << r.status();
  }
  ASSERT_TRUE(server->Resume().ok());
}

TEST(RedisClientTest, DestroyWithCommandsInFlightRunsEachCallbackOnce) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto client = MakeClient(OptionsFor(server->port()));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(CallEventually(*client, {"PING"}).ok());

  constexpr int kCommands = 100;
  std::vector<std::atomic<int>> runs(kCommands);
  std::atomic<int> ok{0};
  for (int i = 0; i < kCommands; ++i) {
    client->Command({"INCR", "n"}, [&, i](Result r) {
      runs[i].fetch_add(1);
      if (r.ok()) {
        ok.fetch_add(1);
      } else {
        EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled)
            << r.status();
      }
    });
  }
  client.reset();
  for (int i = 0; i < kCommands; ++i) EXPECT_EQ(runs[i].load(), 1) << i;
  // Whatever got answered before the shutdown did run; the rest did not
  // come back as successes.
  auto check = MakeClient(OptionsFor(server->port()));
  ASSERT_NE(check, nullptr);
  Result n = Call(*check, {"GET", "n"});
  ASSERT_TRUE(n.ok()) << n.status();
  if (n->type == RedisReply::Type::kString) {
    EXPECT_GE(std::stoi(n->str), ok.load());
  } else {
    EXPECT_EQ(ok.load(), 0);
  }
}

TEST(RedisClientTest, CallbackMayIssueTheNextCommand) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto client = MakeClient(OptionsFor(server->port()));
  ASSERT_NE(client, nullptr);
  std::promise<Result> second;
  client->Command({"SET", "chain", "1"}, [&](Result first) {
    ASSERT_TRUE(first.ok()) << first.status();
    client->Command({"GET", "chain"},
                    [&](Result r) { second.set_value(std::move(r)); });
  });
  auto future = second.get_future();
  ASSERT_EQ(future.wait_for(kCallbackWait), std::future_status::ready);
  ExpectString(future.get(), "1");
}

class RedisTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           absl::StrCat(
               "certbridge-redis-tls-", getpid(), "-",
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    pki_ = emulator::MakeTestPki();
    ASSERT_TRUE(emulator::WritePkiFiles(pki_, dir_.string()).ok());
    RedisServerOptions options;
    options.tls = true;
    options.tls_cert_file = (dir_ / "server.pem").string();
    options.tls_key_file = (dir_ / "server.key").string();
    options.tls_ca_file = (dir_ / "ca.pem").string();
    server_ = StartServer(options);
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override {
    server_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  RedisOptions TlsOptions() const {
    RedisOptions options = OptionsFor(server_->port());
    options.tls = true;
    options.tls_ca_file = (dir_ / "ca.pem").string();
    return options;
  }

  std::filesystem::path dir_;
  emulator::TestPki pki_;
  std::unique_ptr<RedisServer> server_;
};

TEST_F(RedisTlsTest, VerifiedConnectionByIpAndByName) {
  auto by_ip = MakeClient(TlsOptions());
  ASSERT_NE(by_ip, nullptr);
  ASSERT_TRUE(Call(*by_ip, {"SET", "tls", "yes"}).ok());
  ExpectString(Call(*by_ip, {"GET", "tls"}), "yes");

  RedisOptions options = TlsOptions();
  // A name: resolved with getaddrinfo (each address tried in turn; the
  // server listens on 127.0.0.1 only), sent as SNI, checked against the
  // certificate's DNS SAN.
  options.host = "localhost";
  auto by_name = MakeClient(options);
  ASSERT_NE(by_name, nullptr);
  ExpectString(Call(*by_name, {"GET", "tls"}), "yes");
  // A large value crosses many TLS records both ways.
  std::string big(3 * 1024 * 1024, 'x');
  ASSERT_TRUE(Call(*by_name, {"SET", "big", big}).ok());
  ExpectString(Call(*by_name, {"GET", "big"}), big);
}

TEST_F(RedisTlsTest, UntrustedCaOrWrongNameIsUnavailable) {
  emulator::TestPki other = emulator::MakeTestPki();
  std::filesystem::path other_ca = dir_ / "other-ca.pem";
  {
    FILE* f = std::fopen(other_ca.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(other.ca_pem.c_str(), f);
    std::fclose(f);
  }
  RedisOptions untrusted = TlsOptions();
  untrusted.tls_ca_file = other_ca.string();
  auto client = MakeClient(untrusted);
  ASSERT_NE(client, nullptr);
  Result r = Call(*client, {"PING"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("TLS"));
  EXPECT_THAT(r.status().message(), HasSubstr("verify"));

  RedisOptions wrong_name = TlsOptions();
  wrong_name.tls_server_name = "not-this-server.example";
  auto named = MakeClient(wrong_name);
  ASSERT_NE(named, nullptr);
  Result n = Call(*named, {"PING"});
  EXPECT_EQ(n.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(n.status().message(), HasSubstr("TLS"));

  RedisOptions plain = OptionsFor(server_->port());  // TLS port, no TLS.
  plain.connect_timeout = absl::Seconds(1);
  auto no_tls = MakeClient(plain);
  ASSERT_NE(no_tls, nullptr);
  EXPECT_EQ(Call(*no_tls, {"PING"}).status().code(),
            absl::StatusCode::kUnavailable);
}

// A loopback peer that answers the client's PING, then answers the next
// command with `header` followed by `filler` repeated until `limit` bytes
// are sent or the client hangs up. Counts what the kernel accepted.
class HostilePeer {
 public:
  HostilePeer(std::string header, std::string filler, std::size_t limit)
      : header_(std::move(header)), filler_(std::move(filler)), limit_(limit) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(
        bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(listen_fd_, 4), 0);
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~HostilePeer() {
    shutdown(listen_fd_, SHUT_RDWR);
    thread_.join();
    close(listen_fd_);
  }
  int port() const { return port_; }
  std::size_t sent() const { return sent_.load(); }

 private:
  void Serve() {
    int fd = accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) return;
    timeval tv{};
    tv.tv_sec = 30;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    char buf[4096];
    if (recv(fd, buf, sizeof(buf), 0) > 0 &&  // The handshake's PING.
        send(fd, "+PONG\r\n", 7, MSG_NOSIGNAL) == 7 &&
        recv(fd, buf, sizeof(buf), 0) > 0 &&
        SendAll(fd, header_.data(), header_.size())) {
      while (sent_.load() < limit_ &&
             SendAll(fd, filler_.data(), filler_.size())) {
      }
    }
    close(fd);
  }
  bool SendAll(int fd, const char* data, std::size_t size) {
    while (size > 0) {
      ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent_.fetch_add(static_cast<std::size_t>(n));
      data += n;
      size -= static_cast<std::size_t>(n);
    }
    return true;
  }

  std::string header_;
  std::string filler_;
  std::size_t limit_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<std::size_t> sent_{0};
  std::thread thread_;
};

void ExpectReplyRefused(const std::string& header, const std::string& filler) {
  constexpr std::size_t kHundredMiB = std::size_t{100} * 1024 * 1024;
  HostilePeer peer(header, filler, kHundredMiB);
  RedisOptions options = OptionsFor(peer.port());
  options.max_reply_bytes = 1024 * 1024;
  options.command_timeout = absl::Seconds(120);
  auto client = MakeClient(options);
  ASSERT_NE(client, nullptr);
  Result r = Call(*client, {"GET", "huge"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("too large"));
  client.reset();
  // The client hung up near its 1 MiB limit; socket buffers add a few MiB,
  // nowhere near the 100 MiB the peer meant to send.
  EXPECT_LT(peer.sent(), kHundredMiB / 4);
}

TEST(RedisClientTest, HugeBulkStringIsAConnectionErrorWithBoundedMemory) {
  ExpectReplyRefused("$104857600\r\n", std::string(64 * 1024, 'x'));
}

TEST(RedisClientTest, HugeArrayIsAConnectionErrorWithBoundedMemory) {
  std::string integers;
  for (int i = 0; i < 16 * 1024; ++i) integers += ":1\r\n";
  ExpectReplyRefused("*2000000000\r\n", integers);
}

}  // namespace
}  // namespace certbridge
