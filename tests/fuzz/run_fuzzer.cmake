# Runs one fuzzer for ctest (tests/fuzz/CMakeLists.txt):
#   cmake -DFUZZER=exe -DCORPUS=seed-dir -DWORK=scratch-dir -DMODE=corpus|run
#         [-DSECONDS=n] -P run_fuzzer.cmake
# corpus: every seed file is executed once, by name, and the count checked.
# run:    fuzzes for SECONDS from WORK/corpus (seeds copied in first); new
#         inputs stay in WORK, crashes go to WORK/artifacts/. The full output
#         is in WORK/<mode>.log; its last lines are printed.
cmake_minimum_required(VERSION 3.25)
set(common -rss_limit_mb=2048 -timeout=10 -artifact_prefix=${WORK}/artifacts/)
file(MAKE_DIRECTORY ${WORK}/artifacts)
set(log ${WORK}/${MODE}.log)

if(MODE STREQUAL "corpus")
  file(GLOB seeds LIST_DIRECTORIES false ${CORPUS}/*)
  list(LENGTH seeds expected)
  if(expected EQUAL 0)
    message(FATAL_ERROR "no seeds in ${CORPUS}")
  endif()
  execute_process(COMMAND ${FUZZER} ${common} ${seeds}
    RESULT_VARIABLE rc OUTPUT_FILE ${log} ERROR_FILE ${log} TIMEOUT 280)
elseif(MODE STREQUAL "run")
  file(MAKE_DIRECTORY ${WORK}/corpus)
  file(COPY ${CORPUS}/ DESTINATION ${WORK}/corpus)
  math(EXPR limit "${SECONDS} + 60")
  execute_process(COMMAND ${FUZZER} ${common} -max_total_time=${SECONDS}
                          -print_final_stats=1 ${WORK}/corpus
    RESULT_VARIABLE rc OUTPUT_FILE ${log} ERROR_FILE ${log} TIMEOUT ${limit})
else()
  message(FATAL_ERROR "MODE must be corpus or run")
endif()

file(READ ${log} out)
string(LENGTH "${out}" size)
if(size GREATER 6000)
  math(EXPR from "${size} - 6000")
  string(SUBSTRING "${out}" ${from} -1 out)
endif()
message("${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${FUZZER} failed (${rc}); full output: ${log}")
endif()
if(MODE STREQUAL "corpus")
  file(STRINGS ${log} executed REGEX "^Executed ")
  list(LENGTH executed ran)
  if(NOT ran EQUAL expected)
    message(FATAL_ERROR "executed ${ran} of ${expected} seeds")
  endif()
  message("all ${expected} seeds of ${CORPUS} executed")
endif()
