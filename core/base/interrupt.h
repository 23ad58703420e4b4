#pragma once
// Cooperative interruption: the CLI's SIGINT/SIGTERM handler sets a flag;
// long loops in core poll it and fail with kInterrupted, so the caller cleans
// up (staging, temp directories) and exits 130 instead of dying midway.

#include "core/base/error.h"

namespace airlock {

void request_interrupt();  // async-signal-safe
bool interrupt_requested();
// kInterrupted once an interrupt was requested, else ok.
Status check_interrupt();
// Installs SIGINT and SIGTERM handlers that call request_interrupt().
void install_interrupt_handlers();

}  // namespace airlock
