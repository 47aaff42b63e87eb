# One place for the warning and hardening flags of every provgate target.
# -Wnull-dereference is left out: GCC 12 at -O2 reports it inside libstdc++'s std::string
# for correct code (inlined through boost::system::result), which would fail release builds.
set(PROVGATE_WARNINGS
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
# Errors in the project's own builds (scripts/configure.sh turns it on for every test and CI
# build); off by default, so a packager's newer compiler with new warnings still builds.
if(PROVGATE_WERROR)
  list(APPEND PROVGATE_WARNINGS -Werror)
endif()
# C++20 designated initializers name only the fields that differ from their defaults.
list(APPEND PROVGATE_WARNINGS -Wno-missing-field-initializers)
# GCC 12 at -O3 (Release) reports -Wrestrict inside libstdc++'s std::string whenever a string
# literal is prepended to a std::string (`"x" + std::move(s)`, e.g. the Yealink BootFiles
# and forwarded_test.cpp): a false positive of GCC 12 (GCC bug 105329), not a fault of the
# code, and it comes wherever the optimiser inlines that pattern. Off for optimised GCC 12
# builds only: Debug builds keep the warning, and real overlapping copies still stop the
# sanitizer build (ASan's memcpy-param-overlap).
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12
   AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13 AND NOT CMAKE_BUILD_TYPE STREQUAL "Debug")
  list(APPEND PROVGATE_WARNINGS -Wno-restrict)
endif()

if(PROVGATE_SANITIZE AND PROVGATE_TSAN)
  message(FATAL_ERROR "PROVGATE_SANITIZE and PROVGATE_TSAN exclude each other: configure two builds")
endif()
if(PROVGATE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()
# ThreadSanitizer: serving threads, the audit committer and the store copier share state.
# TSan does not model std::atomic_thread_fence (GCC's -Wtsan): Asio's fenced blocks around a
# handler's completion use one, so the TSan build compiles them out. The handlers' ordering
# then rests on the scheduler's mutex, which TSan sees, and which orders them anyway.
if(PROVGATE_TSAN)
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_compile_definitions(BOOST_ASIO_DISABLE_FENCED_BLOCK)
  add_link_options(-fsanitize=thread)
endif()
# Either sanitizer brings its own allocator: no jemalloc, no allocation-counting test binary.
if(PROVGATE_SANITIZE OR PROVGATE_TSAN)
  set(PROVGATE_ANY_SANITIZER ON)
else()
  set(PROVGATE_ANY_SANITIZER OFF)
endif()

# A libFuzzer build instruments every library for coverage, not only the fuzz targets' own
# files: without it libFuzzer sees no new edges in the code under test and cannot steer its
# inputs into it. AddressSanitizer turns memory faults into crashes the fuzzer reports.
# UBSan is left out: Debian 12's clang 14 cannot assemble UBSan-instrumented C++20
# coroutines ("Cannot represent a difference across sections", src/http/listener.cpp); the
# sanitizer build (GCC, scripts/configure.sh asan) replays every corpus under UBSan.
if(PROVGATE_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link,address -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address)
endif()

# Asio keeps the memory of finished coroutine frames and handlers per thread for reuse, two
# blocks of each kind by default: too few for a serving thread with dozens of connections,
# each with a frame or a socket wait outstanding, so most would be a new allocation. The
# value sizes that per-thread cache, so every translation unit must see the same one: it
# is set here, for all of them.
add_compile_definitions(BOOST_ASIO_RECYCLING_ALLOCATOR_CACHE_SIZE=32)

if(CMAKE_BUILD_TYPE STREQUAL "Release" OR CMAKE_BUILD_TYPE STREQUAL "RelWithDebInfo")
  add_compile_options(-D_FORTIFY_SOURCE=3 -fstack-protector-strong)
  add_link_options(-Wl,-z,relro,-z,now)
endif()

function(provgate_target_flags target)
  target_compile_options(${target} PRIVATE ${PROVGATE_WARNINGS})
  target_include_directories(${target} PUBLIC ${CMAKE_SOURCE_DIR}/src)
endfunction()

# provgate_module(NAME SOURCES a.cpp b.cpp DEPS x y TESTS a_test.cpp [SEPARATE b.cpp a_test.cpp])
# SEPARATE names the sources (of SOURCES or TESTS) that a unity build (CMAKE_UNITY_BUILD, as
# scripts/configure.sh sets it for the test passes) compiles on their own: those that define a
# helper in their anonymous namespace under the same name as another file of the module or
# another test file does (each vendor's Route, say). Generated sources (in the build folder)
# are always compiled on their own: they exist only once built, and scripts/lint.sh reads the
# unity files of a folder that is configured but not built.
function(provgate_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS;TESTS;SEPARATE" ${ARGN})
  add_library(provgate_${name} STATIC ${M_SOURCES})
  list(TRANSFORM M_SEPARATE PREPEND "${CMAKE_CURRENT_SOURCE_DIR}/")
  foreach(file IN LISTS M_SOURCES)
    if(file MATCHES "^${CMAKE_BINARY_DIR}/")
      list(APPEND M_SEPARATE "${file}")
    endif()
  endforeach()
  foreach(file IN LISTS M_SEPARATE)
    set_source_files_properties("${file}" DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}" "${CMAKE_SOURCE_DIR}"
      PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
  endforeach()
  provgate_target_flags(provgate_${name})
  target_link_libraries(provgate_${name} PUBLIC ${M_DEPS})
  if(M_TESTS AND PROVGATE_TESTS)
    provgate_add_tests(provgate_${name} ${M_TESTS})
  endif()
endfunction()
