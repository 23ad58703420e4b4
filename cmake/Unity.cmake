# Unity builds, one per folder. Most of a file's compile time here is not its
# own code but the headers it shares with its neighbours (CLI11, nlohmann/json,
# fmt) and the templates they instantiate: the 13 files of installer/commands/
# take about 190 CPU-s compiled one by one and 22 s compiled as one. So each
# folder of a library is compiled as one translation unit (CMake's
# UNITY_BUILD, GROUP mode), in the order of its files.
#
# What that asks of the code: names in a file's anonymous namespace must not
# clash with those of another file in the same folder, and nothing a file
# declares at namespace scope (`using namespace`, aliases) may leak into its
# neighbours; the build fails on the first clash. Each file still includes
# what it uses: -DAIRLOCK_UNITY_BUILD=OFF compiles file by file, and does
# not fail on a missing #include that a unity build would hide.
# A file with its own COMPILE_DEFINITIONS (the two app.cc) is compiled alone.
option(AIRLOCK_UNITY_BUILD "Compile each library folder as one translation unit (cmake/Unity.cmake)" ON)

# airlock_unity(TARGET): one unity group per folder of TARGET's sources.
function(airlock_unity target)
  if(NOT AIRLOCK_UNITY_BUILD)
    return()
  endif()
  get_target_property(sources ${target} SOURCES)
  foreach(src IN LISTS sources)
    cmake_path(ABSOLUTE_PATH src BASE_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR} OUTPUT_VARIABLE abs)
    cmake_path(RELATIVE_PATH abs BASE_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR} OUTPUT_VARIABLE rel)
    cmake_path(GET rel PARENT_PATH folder)
    if(folder STREQUAL "")
      set(folder "top")
    endif()
    string(REPLACE "/" "_" group "${folder}")
    set_source_files_properties(${src} PROPERTIES UNITY_GROUP ${group})
  endforeach()
  set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_MODE GROUP)
endfunction()
