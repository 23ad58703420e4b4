# Cross build for 64-bit Arm Linux (Grace Hopper / Grace Blackwell: GH200,
# GB200) on a Debian 12 x86_64 machine, with Debian's cross compiler and
# multiarch libraries; no sysroot. packaging/install-deps.sh installs:
#   g++-aarch64-linux-gnu           the compiler and the arm64 glibc/libstdc++
#   libssl-dev:arm64 libsodium-dev:arm64 libsqlite3-dev:arm64
#   libzstd-dev:arm64 zlib1g-dev:arm64  libraries, in /usr/lib/aarch64-linux-gnu
# Header-only libraries (fmt, toml++, nlohmann-json, CLI11) come from the
# build machine's packages: their headers do not depend on the architecture.
# Meant for the installer alone, linked statically (packaging/build-release.sh):
#   cmake -S . -B build-release/aarch64 -G Ninja \
#     -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake \
#     -DAIRLOCK_STATIC_INSTALLER=ON -DAIRLOCK_BUILD_BUNDLER=OFF -DAIRLOCK_BUILD_TESTS=OFF
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# Programs (pkg-config, the emulator) are the build machine's; libraries,
# headers and CMake packages are searched in the normal places, where
# CMAKE_LIBRARY_ARCHITECTURE picks /usr/lib/aarch64-linux-gnu.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
# pkg-config reads only the arm64 .pc files (and the architecture-free ones).
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
# try_run and tests run under user-mode emulation, when it is there.
find_program(AIRLOCK_QEMU_AARCH64 qemu-aarch64-static)
if(AIRLOCK_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${AIRLOCK_QEMU_AARCH64})
endif()
