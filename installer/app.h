#pragma once
// airlock-installer: the isolated side. No network code is linked.

namespace airlock::installer {
int run(int argc, char** argv);
}
