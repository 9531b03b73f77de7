# The consumer test (label integration): installs this build into a staging prefix and builds and
# runs tests/consumer against it with CMake and with pkg-config. Included by the root CMakeLists.txt
# (this folder's CMakeLists.txt is the consumer project itself). The compile and link flags of this
# build go along (CXXFLAGS, LDFLAGS), as a consumer must use them too; sanitizer builds skip it: it
# checks packaging, not code, and the release build already runs it.
if(CMAKE_CXX_FLAGS MATCHES "-fsanitize")
  return()
endif()
add_test(NAME consumer_staged_install
  COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/staged.sh ${PROJECT_BINARY_DIR} ${PROJECT_BINARY_DIR}/consumer-stage
          ${PROJECT_VERSION})
set_tests_properties(consumer_staged_install PROPERTIES LABELS integration TIMEOUT 600
  ENVIRONMENT "CXXFLAGS=${CMAKE_CXX_FLAGS};LDFLAGS=${CMAKE_EXE_LINKER_FLAGS}")
