#include "installer/activation/activation.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "installer/site/os.h"
#include "tests/support/fake_process_runner.h"
#include "tests/support/temp_dir.h"

namespace airlock::installer {
namespace {

// A site whose process runner is the fake: nothing is started.
struct Fixture {
  explicit Fixture(test::FakeProcessRunner::Handler handler = {}) : processes(std::move(handler)) {
    site = std::move(*Site::init(dir.path() / "root", Os{system.clock, system.files, processes}));
  }
  Result<ActivationReport> activate(const ActivationPlan& plan) {
    return run_activation(*site, "llm", "2", plan, [this](const std::string& line) { said.push_back(line); });
  }
  test::TempDir dir;
  SystemOs system;
  test::FakeProcessRunner processes;
  std::unique_ptr<Site> site;
  std::vector<std::string> said;
};

os::ProcessResult exited(int code) {
  os::ProcessResult r;
  r.exit_code = code;
  return r;
}

std::string env_value(const os::ProcessOptions& o, const std::string& name) {
  for (const auto& [k, v] : o.env) {
    if (k == name) {
      return v;
    }
  }
  return "(unset)";
}

TEST_CASE("activation: parse_activation reads the payload's record", "[activation]") {
  auto none = parse_activation("null");
  REQUIRE(none.has_value());
  CHECK(none->empty());

  auto plan = parse_activation(R"({"run":["a b","c"],"health":"h","timeout_seconds":5,"shell":true})");
  REQUIRE(plan.has_value());
  CHECK(plan->run == std::vector<std::string>{"a b", "c"});
  CHECK(plan->health == "h");
  CHECK(plan->timeout_seconds == 5);
  CHECK(plan->shell);

  CHECK(parse_activation(R"({"timeout_seconds":0})")->timeout_seconds == 1);  // never an instant deadline
  CHECK(parse_activation("{}")->timeout_seconds == 120);
}

TEST_CASE("activation: a malformed record is corruption, not an empty plan", "[activation]") {
  for (const char* bad : {"[1,2]", R"({"run":"not a list"})", R"({"run":[1]})",
                          R"({"shell":"yes"})", "{not json", R"({"timeout_seconds":-5})",
                          R"({"timeout_seconds":1.5})", R"({"timeout_seconds":4294967296})"}) {
    INFO(bad);
    auto r = parse_activation(bad);
    // "{not json" parses to a discarded value, which is not null: refused too.
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::kCorruption);
  }
}

TEST_CASE("activation: commands run in order, split into words, in the version's directory", "[activation]") {
  Fixture f;
  ActivationPlan plan;
  plan.run = {"engine --port 8000", "'quoted arg' two"};
  auto r = f.activate(plan);
  REQUIRE(r.has_value());
  CHECK(r->commands == 2);
  CHECK(r->health_tries == 0);
  const auto& calls = f.processes.calls();
  REQUIRE(calls.size() == 2);
  CHECK(calls[0].argv == std::vector<std::string>{"engine", "--port", "8000"});
  CHECK(calls[1].argv == std::vector<std::string>{"quoted arg", "two"});
  const auto& o = calls[0].options;
  CHECK(o.cwd == f.site->version_dir("llm", "2"));
  CHECK(o.stdout_to_stderr);
  CHECK(env_value(o, "HF_HUB_OFFLINE") == "1");
  CHECK(env_value(o, "HF_HUB_CACHE") == (f.site->root() / "hf").string());
  CHECK(env_value(o, "AIRLOCK_DEPLOYMENT") == "llm");
  CHECK(env_value(o, "AIRLOCK_VERSION") == "2");
  CHECK(env_value(o, "AIRLOCK_ROOT") == f.site->root().string());
  REQUIRE(f.said.size() == 2);
  CHECK(f.said[0] == "activate llm 2: run [1/2] engine --port 8000");
}

TEST_CASE("activation: shell = true hands the command to /bin/sh -c as it is", "[activation]") {
  Fixture f;
  ActivationPlan plan;
  plan.shell = true;
  plan.run = {"echo $HOME | tee x"};
  REQUIRE(f.activate(plan).has_value());
  REQUIRE(f.processes.calls().size() == 1);
  CHECK(f.processes.calls()[0].argv == std::vector<std::string>{"/bin/sh", "-c", "echo $HOME | tee x"});
}

TEST_CASE("activation: the first failing command stops the rest and is named", "[activation]") {
  Fixture f([](const std::vector<std::string>& argv, const os::ProcessOptions&) -> Result<os::ProcessResult> {
    return exited(argv[0] == "second" ? 3 : 0);
  });
  ActivationPlan plan;
  plan.run = {"first", "second", "third"};
  auto r = f.activate(plan);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kActivationFailed);
  CHECK_THAT(r.error().message(), Catch::StartsWith("llm 2: run[1] 'second' failed with"));
  CHECK(f.processes.calls().size() == 2);  // "third" never ran
}

TEST_CASE("activation: a command killed at its timeout says so", "[activation]") {
  Fixture f([](const std::vector<std::string>&, const os::ProcessOptions& o) -> Result<os::ProcessResult> {
    CHECK(o.timeout == std::chrono::seconds(7));
    os::ProcessResult r = exited(-1);
    r.timed_out = true;
    return r;
  });
  ActivationPlan plan;
  plan.run = {"sleep 99"};
  plan.timeout_seconds = 7;
  auto r = f.activate(plan);
  REQUIRE_FALSE(r.has_value());
  CHECK_THAT(r.error().message(), Catch::Contains("'sleep 99' did not finish within 7 s and was killed"));
}

TEST_CASE("activation: a program that cannot start is an activation failure naming it", "[activation]") {
  Fixture f([](const std::vector<std::string>&, const os::ProcessOptions&) -> Result<os::ProcessResult> {
    return make_error(ErrorCode::kNotFound, "no such program: engine");
  });
  ActivationPlan plan;
  plan.run = {"engine"};
  auto r = f.activate(plan);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kActivationFailed);
  CHECK_THAT(r.error().message(), Catch::Contains("run[0] 'engine': no such program: engine"));
}

TEST_CASE("activation: a passing health check is tried once, after the commands", "[activation]") {
  Fixture f;
  ActivationPlan plan;
  plan.run = {"start"};
  plan.health = "probe";
  auto r = f.activate(plan);
  REQUIRE(r.has_value());
  CHECK(r->health_tries == 1);
  REQUIRE(f.processes.calls().size() == 2);
  CHECK(f.processes.calls()[1].argv == std::vector<std::string>{"probe"});
}

TEST_CASE("activation: a health check that never passes fails with its last result", "[activation]") {
  Fixture f([](const std::vector<std::string>&, const os::ProcessOptions&) -> Result<os::ProcessResult> {
    return exited(1);
  });
  ActivationPlan plan;
  plan.health = "probe";
  plan.timeout_seconds = 1;  // under the 1 s pause between tries: one try, no sleep
  auto r = f.activate(plan);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == ErrorCode::kActivationFailed);
  CHECK_THAT(r.error().message(), Catch::Contains("health check 'probe' did not pass within 1 s (1 tries; last:"));
}

}  // namespace
}  // namespace airlock::installer
