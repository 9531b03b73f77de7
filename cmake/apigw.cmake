include(GNUInstallDirs)

# apigw_add_module(<name> SOURCES ... [DEPS ...] [PRIVATE_DEPS ...])
# Declares library apigw_<name> (alias apigw::<name>) from src/<name>/, with the public headers in
# include/apigw/<name>/. DEPS lists what it may use: other modules by short name (core, net, ...) or
# imported targets. The dependency rule (docs/design/README.md) is visible here, one line per module.
# The library is static unless BUILD_SHARED_LIBS is on. It joins the export set apigwTargets as
# apigw::<name> (what find_package(apigw) gives consumers) and is appended to the global property
# APIGW_MODULES, in declaration order, which is a valid dependency order (a module only uses modules
# declared before it); the umbrella target apigw::apigw and apigw.pc are built from that list.
function(apigw_add_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(apigw_${name} ${ARG_SOURCES})
  add_library(apigw::${name} ALIAS apigw_${name})
  # A 0.x minor release may break the ABI, so the soname carries major.minor.
  set_target_properties(apigw_${name} PROPERTIES
    EXPORT_NAME ${name}
    VERSION ${PROJECT_VERSION}
    SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
  target_include_directories(apigw_${name}
    PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(apigw_${name} PUBLIC apigw_settings)
  foreach(dep IN LISTS ARG_DEPS)
    if(TARGET apigw_${dep})
      target_link_libraries(apigw_${name} PUBLIC apigw_${dep})
    else()
      target_link_libraries(apigw_${name} PUBLIC ${dep})
    endif()
  endforeach()
  foreach(dep IN LISTS ARG_PRIVATE_DEPS)
    if(TARGET apigw_${dep})
      target_link_libraries(apigw_${name} PRIVATE apigw_${dep})
    else()
      target_link_libraries(apigw_${name} PRIVATE ${dep})
    endif()
  endforeach()
  set_property(GLOBAL APPEND PROPERTY APIGW_MODULES ${name})

  # Shared libraries (and the soname link) belong to the runtime package; static archives and the
  # headers only serve compiling against apigw, so they go with the development files.
  install(TARGETS apigw_${name} EXPORT apigwTargets
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/apigw/${name}
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/apigw COMPONENT dev
    FILES_MATCHING PATTERN "*.hpp")
endfunction()

# apigw_add_test(<name> SOURCES ... DEPS ... LABELS ... [TIMEOUT s] [ONE_PROCESS])
# A GoogleTest executable whose tests are registered with ctest under the given labels
# (unit, integration, pg). Each test is its own ctest entry (and process), unless ONE_PROCESS:
# then the whole executable is one ctest entry named <name>, for suites that share an expensive
# fixture such as a throwaway PostgreSQL server started once by a global environment.
function(apigw_add_test name)
  cmake_parse_arguments(ARG "ONE_PROCESS" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PRIVATE apigw_settings GTest::gtest GTest::gmock GTest::gtest_main)
  foreach(dep IN LISTS ARG_DEPS)
    if(TARGET apigw_${dep})
      target_link_libraries(${name} PRIVATE apigw_${dep})
    else()
      target_link_libraries(${name} PRIVATE ${dep})
    endif()
  endforeach()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  set(test_env "APIGW_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
  # A sender or control-plane client on the default credentials chain must never ask the real
  # instance metadata address from a test. A property of its own: a second ENVIRONMENT entry would
  # not survive gtest_discover_tests (see below).
  set(test_env_change "AWS_EC2_METADATA_DISABLED=set:true")
  if(ARG_ONE_PROCESS)
    add_test(NAME ${name} COMMAND ${name})
    set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT} ENVIRONMENT "${test_env}"
                                            ENVIRONMENT_MODIFICATION "${test_env_change}")
  else()
    # gtest_discover_tests writes PROPERTIES into a script unquoted: a second label would become a
    # property name of its own (and `ctest -L faults` would find nothing). Suites with several
    # labels are registered as one entry (ONE_PROCESS) instead.
    list(LENGTH ARG_LABELS label_count)
    if(label_count GREATER 1)
      message(FATAL_ERROR "apigw_add_test(${name}): several LABELS need ONE_PROCESS")
    endif()
    gtest_discover_tests(${name}
      DISCOVERY_TIMEOUT 60
      PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT} ENVIRONMENT "${test_env}"
                 ENVIRONMENT_MODIFICATION "${test_env_change}")
  endif()
endfunction()
