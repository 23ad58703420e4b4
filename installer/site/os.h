#pragma once
// The installer's seams for the OS (core/os/): the clock, the install
// transaction's file-system calls and the one process runner. installer/app.cc
// makes the real ones (SystemClock, PosixFileSystem, PosixProcessRunner) and
// hands them to every Site it opens; unit tests hand in the fakes of
// tests/support/ instead. Not owned: they outlive every Site that uses them.

#include "core/os/clock.h"
#include "core/os/file_system.h"
#include "core/os/process_runner.h"

namespace airlock::installer {

struct Os {
  const os::Clock& clock;
  os::FileSystem& files;
  os::ProcessRunner& processes;
};

// The real ones, owned, for a program's run() and for tools.
struct SystemOs {
  os::SystemClock clock;
  os::PosixFileSystem files;
  os::PosixProcessRunner processes;
  Os os() { return Os{clock, files, processes}; }
};

}  // namespace airlock::installer
