#include "installer/activation/process.h"

#include <chrono>

#include <catch2/catch.hpp>

#include "installer/targets/targets.h"

using airlock::ErrorCode;
using namespace airlock::installer;

TEST_CASE("run_process reports exit status, signals, output and environment", "[process]") {
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

TEST_CASE("run_process kills a child group past its timeout", "[process]") {
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

TEST_CASE("run_process names a program that cannot run", "[process]") {
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

TEST_CASE("a local model's synthetic commit depends on its files only", "[targets]") {
  const std::string a = local_model_commit({{"config.json", std::string(64, 'a')}, {"w.safetensors", std::string(64, 'b')}});
  const std::string b = local_model_commit({{"w.safetensors", std::string(64, 'b')}, {"config.json", std::string(64, 'a')}});
  CHECK(a == b);  // order does not matter
  CHECK(a.size() == 40);
  CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(a != local_model_commit({{"config.json", std::string(64, 'a')}, {"w.safetensors", std::string(64, 'c')}}));
  CHECK(a != local_model_commit({{"config2.json", std::string(64, 'a')}, {"w.safetensors", std::string(64, 'b')}}));
}
