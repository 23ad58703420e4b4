#include "core/os/process_runner.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>

#include <catch2/catch.hpp>

#include "core/fs/file.h"
#include "tests/support/temp_dir.h"

using airlock::ErrorCode;
using namespace airlock::os;

namespace {

airlock::Result<ProcessResult> run_process(const std::vector<std::string>& argv, const ProcessOptions& options = {}) {
  PosixProcessRunner runner;
  return runner.run(argv, options);
}

}  // namespace

TEST_CASE("run_process reports exit status, signals, output and environment", "[os][process]") {
  ProcessOptions capture;
  capture.capture_output = true;
  auto ok = run_process({"sh", "-c", "echo out; echo err >&2; exit 0"}, capture);
  REQUIRE(ok.has_value());
  CHECK(ok->ok());
  CHECK(ok->output == "out\nerr\n");

  auto three = run_process({"sh", "-c", "exit 3"});
  REQUIRE(three.has_value());
  CHECK_FALSE(three->ok());
  CHECK(three->exit_code == 3);
  CHECK(three->describe() == "exit status 3");

  auto killed = run_process({"sh", "-c", "kill -9 $$"});
  REQUIRE(killed.has_value());
  CHECK(killed->signal == 9);
  CHECK_THAT(killed->describe(), Catch::Contains("signal 9"));

  ProcessOptions env = capture;
  env.env = {{"AIRLOCK_TEST_VALUE", "a b=c"}};
  env.cwd = "/";
  auto seen = run_process({"sh", "-c", "printf '%s|%s' \"$AIRLOCK_TEST_VALUE\" \"$PWD\""}, env);
  REQUIRE(seen.has_value());
  CHECK(seen->output == "a b=c|/");
}

TEST_CASE("run_process kills a child group past its timeout", "[os][process]") {
  ProcessOptions o;
  o.timeout = std::chrono::milliseconds(300);
  const auto started = std::chrono::steady_clock::now();
  // The grandchild (sleep) is in the same group and goes too.
  auto r = run_process({"sh", "-c", "sleep 30 & sleep 30; wait"}, o);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  REQUIRE(r.has_value());
  CHECK(r->timed_out);
  CHECK_FALSE(r->ok());
  CHECK(took < 10);
}

TEST_CASE("run_process names a program that cannot run", "[os][process]") {
  auto missing = run_process({"airlock-no-such-program-xyz"});
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().code() == ErrorCode::kNotFound);
  CHECK_THAT(missing.error().message(), Catch::Contains("airlock-no-such-program-xyz"));
  ProcessOptions o;
  o.cwd = "/nonexistent-airlock-dir";
  auto nodir = run_process({"true"}, o);
  REQUIRE_FALSE(nodir.has_value());
  CHECK_THAT(nodir.error().message(), Catch::Contains("/nonexistent-airlock-dir"));
  CHECK(program_on_path("sh"));
  CHECK_FALSE(program_on_path("airlock-no-such-program-xyz"));
}

TEST_CASE("run_process hands the child extra descriptors and a null stdout, in our own group", "[os][process]") {
  airlock::test::TempDir dir("process");
  const std::string status_path = (dir.path() / "status").string();
  const int status_fd = ::open(status_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  REQUIRE(status_fd >= 0);
  ProcessOptions o;
  o.stdout_to_null = true;
  o.own_process_group = false;
  o.fds = {{3, status_fd}};
  // fd 3 is the file; stdout goes nowhere; the child shares our process group.
  auto r = run_process({"sh", "-c", "echo to-fd-3 >&3; test \"$(readlink /proc/$$/fd/1)\" = /dev/null && test \"$(cut -d' ' -f5 /proc/$$/stat)\" = \"$0\"",
                        std::to_string(::getpgrp())},
                       o);
  ::close(status_fd);
  REQUIRE(r.has_value());
  CHECK(r->exit_code == 0);
  auto text = airlock::fs::read_text_file(status_path, 1024);
  REQUIRE(text.has_value());
  CHECK(*text == "to-fd-3\n");

  auto seven = run_process({"sh", "-c", "exit 7"}, o);
  REQUIRE(seven.has_value());
  CHECK(seven->exit_code == 7);
  auto killed = run_process({"sh", "-c", "kill -9 $$"}, o);
  REQUIRE(killed.has_value());
  CHECK(killed->signal == 9);
  auto missing = run_process({"airlock-no-such-program-xyz"}, o);
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().code() == ErrorCode::kNotFound);
}
