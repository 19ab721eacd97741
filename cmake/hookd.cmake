# Shared build settings for every multus-hookd target.

set(HOOKD_WARNINGS
  -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wconversion -Wsign-conversion
  -Wstrict-prototypes -Wmissing-prototypes -Wundef -Wcast-qual -Wvla
  -Wno-unused-parameter)
if(HOOKD_WERROR)
  list(APPEND HOOKD_WARNINGS -Werror)
endif()

option(HOOKD_FUZZ "Build libFuzzer targets (clang only; see `make fuzz`)" OFF)
set(HOOKD_SAN_FLAGS)
if(HOOKD_FUZZ)
  set(HOOKD_SAN_FLAGS -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
elseif(HOOKD_SANITIZE)
  set(HOOKD_SAN_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
endif()

# hookd_target(<target>): apply project warnings, sanitizers and defines.
function(hookd_target tgt)
  target_compile_options(${tgt} PRIVATE ${HOOKD_WARNINGS} ${HOOKD_SAN_FLAGS})
  target_compile_definitions(${tgt} PRIVATE _GNU_SOURCE
    HOOKD_VERSION="${PROJECT_VERSION}")
  if(HOOKD_SAN_FLAGS)
    target_link_options(${tgt} PRIVATE ${HOOKD_SAN_FLAGS})
  endif()
endfunction()

# hookd_library(<name> <dir>): a module static library from every .c in <dir>.
function(hookd_library name)
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.c)
  add_library(${name} STATIC ${srcs})
  target_include_directories(${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
  hookd_target(${name})
endfunction()

# hookd_unit_test(<name> SOURCES ... LIBS ... [ENV k=v ...]): a cmocka binary.
# Every cmocka_unit_test*(case) found in its sources becomes its own ctest test
# "<name>.<case>", run through the HK_TEST_MAIN filter (test/unit/hk_test.h).
function(hookd_unit_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS;ENV" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} PkgConfig::CMOCKA)
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/test/unit)
  hookd_target(${name})
  set(cases)
  foreach(src ${T_SOURCES})
    get_filename_component(abs ${src} ABSOLUTE)
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${abs})
    file(READ ${abs} text)
    string(REGEX MATCHALL "cmocka_unit_test(_setup_teardown|_setup|_teardown|_prestate)?\\([ \t\r\n]*[A-Za-z0-9_]+"
           found "${text}")
    foreach(m ${found})
      string(REGEX REPLACE ".*\\([ \t\r\n]*" "" c "${m}")
      list(APPEND cases ${c})
    endforeach()
  endforeach()
  list(REMOVE_DUPLICATES cases)
  if(NOT cases)
    message(FATAL_ERROR "${name}: no cmocka_unit_test cases found in ${T_SOURCES}")
  endif()
  foreach(c ${cases})
    add_test(NAME ${name}.${c} COMMAND ${name})
    set_tests_properties(${name}.${c} PROPERTIES
      ENVIRONMENT "HK_TEST_FILTER=${c};${T_ENV}" LABELS unit)
  endforeach()
  set_property(GLOBAL APPEND PROPERTY HOOKD_UNIT_TESTS ${name})
  hookd_valgrind_test(${name} "${T_ENV}")
endfunction()

# hookd_valgrind_test(<binary> [env]): the same test binary from the
# sanitizer-free build `make test` prepares (HOOKD_VALGRIND_BUILD), run whole
# under valgrind as ctest valgrind.<binary> (one per binary, so they run in
# parallel). Call it from the CMakeLists that defines the binary.
function(hookd_valgrind_test name env)
  if(HOOKD_VALGRIND_BUILD)
    file(RELATIVE_PATH rel ${CMAKE_BINARY_DIR} ${CMAKE_CURRENT_BINARY_DIR})
    add_test(NAME valgrind.${name}
             COMMAND ${CMAKE_SOURCE_DIR}/scripts/valgrind-unit.sh --one
                     ${HOOKD_VALGRIND_BUILD}/${rel}/${name})
    set_tests_properties(valgrind.${name} PROPERTIES LABELS valgrind ENVIRONMENT "${env}")
  endif()
endfunction()

# hookd_fuzz_target(<name> SOURCES ... LIBS ... CORPUS <dir>):
# - always builds <name>_replay (the target + test/fuzz/replay_main.c) and adds a
#   ctest that replays every file of the seed corpus (under the sanitizers in the
#   test build);
# - when HOOKD_FUZZ is on (clang, `make fuzz`), builds the libFuzzer binary <name>.
function(hookd_fuzz_target name)
  cmake_parse_arguments(F "" "CORPUS" "SOURCES;LIBS" ${ARGN})
  if(HOOKD_FUZZ)
    add_executable(${name} ${F_SOURCES})
    target_link_libraries(${name} PRIVATE ${F_LIBS})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_compile_definitions(${name} PRIVATE _GNU_SOURCE)
    if(NOT TARGET hookd_fuzzers)
      add_custom_target(hookd_fuzzers)
    endif()
    add_dependencies(hookd_fuzzers ${name})
  else()
    add_executable(${name}_replay ${F_SOURCES} ${CMAKE_SOURCE_DIR}/test/fuzz/replay_main.c)
    target_link_libraries(${name}_replay PRIVATE ${F_LIBS})
    hookd_target(${name}_replay)
    add_test(NAME fuzz_replay.${name} COMMAND ${name}_replay ${F_CORPUS})
    set_tests_properties(fuzz_replay.${name} PROPERTIES LABELS fuzz)
    # With a libFuzzer build beside this one (`make test` makes it when clang is
    # installed), a short real fuzzing run from the seed corpus, every time.
    if(HOOKD_FUZZ_BUILD)
      file(RELATIVE_PATH rel ${CMAKE_BINARY_DIR} ${CMAKE_CURRENT_BINARY_DIR})
      add_test(NAME fuzz_run.${name}
               COMMAND ${CMAKE_SOURCE_DIR}/scripts/fuzz-smoke.sh
                       ${HOOKD_FUZZ_BUILD}/${rel}/${name} ${F_CORPUS}
                       ${CMAKE_CURRENT_BINARY_DIR}/fuzz-run)
      set_tests_properties(fuzz_run.${name} PROPERTIES LABELS fuzz)
    endif()
  endif()
endfunction()
