# apigw_install.cmake: what `cmake --install` puts where, the CMake package (find_package(apigw)),
# the pkg-config file and the .deb packages (CPack). Included by the root CMakeLists.txt once every
# module is declared. The layout and the reasons: docs/design/packaging.md.
#
# Two install components, which become the two .deb packages:
#   runtime  the apigw-ws tool, shared libraries (BUILD_SHARED_LIBS=ON), the browser client, docs
#   dev      headers, static libraries, the CMake package files and apigw.pc
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# The umbrella target apigw::apigw: every library module, for consumers that do not care which
# module a header belongs to.
get_property(apigw_modules GLOBAL PROPERTY APIGW_MODULES)
add_library(apigw INTERFACE)
add_library(apigw::apigw ALIAS apigw)
foreach(module IN LISTS apigw_modules)
  target_link_libraries(apigw INTERFACE apigw_${module})
endforeach()

install(TARGETS apigw apigw_settings EXPORT apigwTargets COMPONENT dev)
# `cmake --install --strip` (and cpack) strip executables and shared libraries but leave archives
# alone; their debug information would make most of the .deb's size. --strip-debug keeps the symbols
# a static link needs.
if(NOT BUILD_SHARED_LIBS AND CMAKE_STRIP)
  foreach(module IN LISTS apigw_modules)
    install(CODE "if(CMAKE_INSTALL_DO_STRIP)
  execute_process(COMMAND \"${CMAKE_STRIP}\" --strip-debug
    \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/$<TARGET_FILE_NAME:apigw_${module}>\"
    COMMAND_ERROR_IS_FATAL ANY)
endif()" COMPONENT dev)
  endforeach()
endif()
# version.hpp is generated into the build folder; it installs beside the source headers of core.
install(DIRECTORY ${PROJECT_BINARY_DIR}/generated/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)

install(TARGETS apigw-ws RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
if(BUILD_SHARED_LIBS)
  # The tool finds the shared modules beside it wherever the prefix is, not only in /usr.
  set_target_properties(apigw-ws PROPERTIES INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}")
endif()
# The browser client is a file a backend serves (static_root) or a page imports; it is also the npm
# package (web/package.json), whose files are the same.
install(FILES ${PROJECT_SOURCE_DIR}/web/apigw-ws.js ${PROJECT_SOURCE_DIR}/web/apigw-ws.d.ts
              ${PROJECT_SOURCE_DIR}/web/package.json ${PROJECT_SOURCE_DIR}/web/README.md
  DESTINATION ${CMAKE_INSTALL_DATADIR}/apigw-ws/web COMPONENT runtime)
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE ${PROJECT_SOURCE_DIR}/NOTICE ${PROJECT_SOURCE_DIR}/CHANGELOG.md
  DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/apigw-ws COMPONENT runtime)
# Debian policy 12.5: every package has /usr/share/doc/<package>/copyright, here in the
# machine-readable format (DEP-5). One file serves both packages; the test data NOTICE names is not
# shipped, so only the project's own licence is listed.
install(FILES ${CMAKE_CURRENT_LIST_DIR}/debian/copyright DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/apigw-ws
  COMPONENT runtime)
install(FILES ${CMAKE_CURRENT_LIST_DIR}/debian/copyright DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/apigw-ws-dev
  COMPONENT dev)

# ---- CMake package: find_package(apigw 0.1 CONFIG REQUIRED) ----
set(APIGW_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/apigw)
install(EXPORT apigwTargets NAMESPACE apigw:: DESTINATION ${APIGW_CMAKE_DIR} COMPONENT dev)
# The same targets straight from this build folder, for a consumer that points apigw_DIR here
# (apigwConfig.cmake only refers to files beside itself, so it serves both places).
export(EXPORT apigwTargets NAMESPACE apigw:: FILE ${PROJECT_BINARY_DIR}/apigwTargets.cmake)
configure_file(${CMAKE_CURRENT_LIST_DIR}/Findsodium.cmake ${PROJECT_BINARY_DIR}/Findsodium.cmake COPYONLY)

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/apigwConfig.cmake.in
  ${PROJECT_BINARY_DIR}/apigwConfig.cmake
  INSTALL_DESTINATION ${APIGW_CMAKE_DIR})
# Until 1.0 a minor release may change the API (CHANGELOG.md), so 0.1 accepts 0.1.x only.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/apigwConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/apigwConfig.cmake ${PROJECT_BINARY_DIR}/apigwConfigVersion.cmake
              ${CMAKE_CURRENT_LIST_DIR}/Findsodium.cmake
  DESTINATION ${APIGW_CMAKE_DIR} COMPONENT dev)

# ---- pkg-config: apigw.pc ----
# Relocatable: the prefix is found from the .pc file's own place, so a staged or moved install works.
file(RELATIVE_PATH apigw_pc_prefix /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
string(REGEX REPLACE "/$" "" apigw_pc_prefix "${apigw_pc_prefix}")
set(apigw_pc_cflags "")
foreach(definition IN LISTS APIGW_INTERFACE_DEFINITIONS)
  string(APPEND apigw_pc_cflags " -D${definition}")
endforeach()
# Link order: a module only uses modules declared before it, so the reverse of declaration order
# lists each library before the ones it needs (what a static link requires).
set(apigw_pc_libs "")
list(REVERSE apigw_modules)
foreach(module IN LISTS apigw_modules)
  string(APPEND apigw_pc_libs " -lapigw_${module}")
endforeach()
configure_file(${CMAKE_CURRENT_LIST_DIR}/apigw.pc.in ${PROJECT_BINARY_DIR}/apigw.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/apigw.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)

# ---- .deb packages (cpack -G DEB in the build folder) ----
set(CPACK_PACKAGE_NAME apigw-ws)
set(CPACK_PACKAGE_VENDOR "the apigw-ws authors")
set(CPACK_PACKAGE_CONTACT "the apigw-ws authors")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Backend toolkit for AWS API Gateway WebSocket APIs, and a local gateway")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_STRIP_FILES ON)  # the release preset builds with -g; the packages ship without it
set(CPACK_COMPONENTS_ALL runtime dev)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # apigw-ws_0.1.0_amd64.deb, apigw-ws-dev_0.1.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)  # apigw-ws-dev depends on apigw-ws (= version)
set(CPACK_COMPONENT_DEV_DEPENDS runtime)

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME apigw-ws)
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION
  "the apigw-ws command-line tool (local gateway, send, sessions, users, api apply) and the browser client")
# Declared by hand rather than with CPACK_DEBIAN_PACKAGE_SHLIBDEPS, which needs dpkg-shlibdeps
# (dpkg-dev, absent from a machine with only g++): this is what dpkg-shlibdeps answers for the tool
# on Debian 12 (docs/design/packaging.md says how to check it again).
set(CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS
  "libboost-json1.81.0 (>= 1.81.0), libboost-url1.81.0 (>= 1.81.0), libc6 (>= 2.34), libfmt9 (>= 9.1.0+ds1), libgcc-s1 (>= 3.0), libpq5 (>= 9.0~), libsodium23 (>= 1.0.14), libspdlog1.10 (>= 1:1.10.0), libsqlite3-0 (>= 3.37.0), libssl3 (>= 3.0.0), libstdc++6 (>= 12)")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME apigw-ws-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_COMPONENT_DEV_DESCRIPTION
  "apigw C++ headers, libraries, CMake package (find_package(apigw)) and pkg-config file (apigw.pc)")
# What the installed headers include and apigwConfig.cmake finds.
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
  "libboost1.81-dev, libboost-json1.81-dev, libboost-url1.81-dev, libssl-dev, libsqlite3-dev, libpq-dev, libsodium-dev, libfmt-dev, libspdlog-dev, pkg-config")
include(CPack)
