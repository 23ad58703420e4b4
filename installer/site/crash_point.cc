#include "installer/site/crash_point.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>

#ifdef AIRLOCK_TEST_HOOKS
namespace airlock::installer {

void crash_point(std::string_view step) {
  static const char* const wanted = std::getenv("AIRLOCK_TEST_CRASH_AT");
  if (wanted != nullptr && step == wanted) {
    ::kill(::getpid(), SIGKILL);
  }
}

}  // namespace airlock::installer
#endif  // AIRLOCK_TEST_HOOKS
