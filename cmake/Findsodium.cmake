# Findsodium.cmake: finds libsodium and defines the imported target sodium::sodium.
#
# libsodium ships no CMake package, only a pkg-config file (libsodium.pc). The build and the
# installed apigwConfig.cmake both use this module, so a consumer finds libsodium exactly the way
# the build did. pkg-config only supplies hints (it is optional); sodium_INCLUDE_DIR and
# sodium_LIBRARY can be set by hand for a libsodium outside the usual places.
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(PC_sodium QUIET libsodium)
endif()

find_path(sodium_INCLUDE_DIR sodium.h HINTS ${PC_sodium_INCLUDEDIR} ${PC_sodium_INCLUDE_DIRS})
find_library(sodium_LIBRARY NAMES sodium libsodium HINTS ${PC_sodium_LIBDIR} ${PC_sodium_LIBRARY_DIRS})
set(sodium_VERSION ${PC_sodium_VERSION})

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(sodium
  REQUIRED_VARS sodium_LIBRARY sodium_INCLUDE_DIR
  VERSION_VAR sodium_VERSION)
mark_as_advanced(sodium_INCLUDE_DIR sodium_LIBRARY)

if(sodium_FOUND AND NOT TARGET sodium::sodium)
  add_library(sodium::sodium UNKNOWN IMPORTED)
  set_target_properties(sodium::sodium PROPERTIES
    IMPORTED_LOCATION "${sodium_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${sodium_INCLUDE_DIR}")
endif()
