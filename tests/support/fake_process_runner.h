#pragma once
// A ProcessRunner (core/os/process_runner.h) that starts nothing: it records
// every call (argv and options) and answers with what the test's handler
// returns. A handler may write to the descriptors in options.fds, as the
// child would (gpgv's --status-fd).

#include <functional>
#include <string>
#include <vector>

#include "core/os/process_runner.h"

namespace airlock::test {

class FakeProcessRunner final : public os::ProcessRunner {
 public:
  using Handler = std::function<Result<os::ProcessResult>(const std::vector<std::string>&, const os::ProcessOptions&)>;
  struct Call {
    std::vector<std::string> argv;
    os::ProcessOptions options;
  };

  // Without a handler every program "exits 0".
  explicit FakeProcessRunner(Handler handler = {}) : m_handler(std::move(handler)) {}

  Result<os::ProcessResult> run(const std::vector<std::string>& argv, const os::ProcessOptions& options) override {
    m_calls.push_back(Call{argv, options});
    if (m_handler) {
      return m_handler(argv, options);
    }
    os::ProcessResult ok;
    ok.exit_code = 0;
    return ok;
  }

  const std::vector<Call>& calls() const { return m_calls; }

 private:
  Handler m_handler;
  std::vector<Call> m_calls;
};

}  // namespace airlock::test
