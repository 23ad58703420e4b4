# Every dependency is a Debian package (see packaging/debian-packages.txt).
#
# The C and C++ libraries both programs share are reached through the
# dep:: targets defined here, so that one switch decides how they link:
#   default                      the packages' shared libraries, as found by
#                                find_package / pkg-config (OpenSSL::Crypto,
#                                fmt::fmt, PkgConfig::*);
#   AIRLOCK_STATIC_INSTALLER=ON  fmt and toml++ header-only (Debian ships no
#                                static archive of either), and the C
#                                libraries linked by name with the flags of
#                                `pkg-config --static`: the installer, linked
#                                with -static, takes libcrypto.a, libsodium.a,
#                                libsqlite3.a, libzstd.a, libz.a; the bundler,
#                                in the same build tree, still links their
#                                shared libraries. See docs/ARCHITECTURE.md.
find_package(PkgConfig REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(CLI11 REQUIRED)
find_package(Threads REQUIRED)
if(AIRLOCK_BUILD_BUNDLER)
  # The bundler's own (and the tests'): never linked by the installer.
  pkg_check_modules(ARCHIVE REQUIRED IMPORTED_TARGET libarchive)
  pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
endif()
if(AIRLOCK_BUILD_TESTS)
  find_package(Catch2 2 REQUIRED)
endif()

if(NOT AIRLOCK_STATIC_INSTALLER)
  find_package(OpenSSL 3 REQUIRED)
  find_package(fmt REQUIRED)
  pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
  pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
  pkg_check_modules(ZLIB REQUIRED IMPORTED_TARGET zlib)
  pkg_check_modules(SQLITE REQUIRED IMPORTED_TARGET sqlite3)
  pkg_check_modules(TOMLPP REQUIRED IMPORTED_TARGET tomlplusplus)
  foreach(pair crypto=OpenSSL::Crypto fmt=fmt::fmt sodium=PkgConfig::SODIUM zstd=PkgConfig::ZSTD
               sqlite=PkgConfig::SQLITE tomlpp=PkgConfig::TOMLPP zlib=PkgConfig::ZLIB)
    string(REPLACE "=" ";" pair "${pair}")
    list(GET pair 0 name)
    list(GET pair 1 target)
    add_library(dep::${name} INTERFACE IMPORTED)
    target_link_libraries(dep::${name} INTERFACE ${target})
  endforeach()
  return()
endif()

# AIRLOCK_STATIC_INSTALLER: dep::NAME from `pkg-config --static MODULE`, the
# libraries by name (-lcrypto -ldl -pthread), never by the path of a .so.
function(airlock_static_dep name module)
  pkg_check_modules(PC_${name} REQUIRED ${module})
  add_library(dep::${name} INTERFACE IMPORTED)
  target_include_directories(dep::${name} INTERFACE ${PC_${name}_STATIC_INCLUDE_DIRS})
  target_compile_options(dep::${name} INTERFACE ${PC_${name}_STATIC_CFLAGS_OTHER})
  target_link_directories(dep::${name} INTERFACE ${PC_${name}_STATIC_LIBRARY_DIRS})
  target_link_libraries(dep::${name} INTERFACE ${PC_${name}_STATIC_LIBRARIES})
  target_link_options(dep::${name} INTERFACE ${PC_${name}_STATIC_LDFLAGS_OTHER})
endfunction()
airlock_static_dep(crypto "libcrypto>=3")
airlock_static_dep(sodium libsodium)
airlock_static_dep(zstd libzstd)
airlock_static_dep(sqlite sqlite3)
airlock_static_dep(zlib zlib)

# Header-only C++ libraries: the same headers for every target architecture,
# so a cross build takes them from the build machine's packages.
function(airlock_header_only name header definition)
  find_path(AIRLOCK_${name}_INCLUDE_DIR ${header} REQUIRED)
  add_library(dep::${name} INTERFACE IMPORTED)
  target_include_directories(dep::${name} INTERFACE ${AIRLOCK_${name}_INCLUDE_DIR})
  target_compile_definitions(dep::${name} INTERFACE ${definition})
endfunction()
airlock_header_only(fmt fmt/format.h FMT_HEADER_ONLY=1)
airlock_header_only(tomlpp toml++/toml.h TOML_HEADER_ONLY=1)
