#pragma once
// airlock-bundler: the connected side. Parses argv with CLI11, dispatches to
// commands/<verb>.cc, maps errors to exit codes.

namespace airlock::bundler {
int run(int argc, char** argv);
}
