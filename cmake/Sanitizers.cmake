option(AIRLOCK_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(AIRLOCK_FUZZ "Build the libFuzzer harnesses in fuzz/ (clang only; implies the sanitizers)" OFF)

if(AIRLOCK_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "AIRLOCK_FUZZ needs clang (libFuzzer); configure with -DCMAKE_CXX_COMPILER=clang++-16")
  endif()
  # libstdc++ 12 offers std::expected only when __cpp_concepts >= 202002L.
  # Clang 16 implements what that needs (P0848, conditionally trivial special
  # members) but still reports 201907L, so the fuzz build states it.
  if(CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 16 AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 19)
    add_compile_options(-D__cpp_concepts=202002L -Wno-macro-redefined)
  endif()
  # Coverage instrumentation everywhere; only the harnesses link libFuzzer's main.
  add_compile_options(-fsanitize=fuzzer-no-link)
  set(AIRLOCK_SANITIZE ON)
endif()

if(AIRLOCK_SANITIZE)
  # -O1 and line tables only, after the build type's flags (the last -O and
  # -g win): what a sanitizer report needs, at about 0.85 of -O2 -g's
  # compile time, which is most of scripts/test.sh's stage 2.
  add_compile_options(-O1 -gline-tables-only)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
