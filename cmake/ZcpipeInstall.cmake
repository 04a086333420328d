# Installs the libraries, public headers, the zcpipe command and a package config, so that
# `find_package(zcpipe)` gives a program the zcpipe::* targets (see examples/).
include(CMakePackageConfigHelpers)

install(TARGETS zcpipe_shm zcpipe_workgroup zcpipe_stages zcpipe_pipeline zcpipe
        EXPORT zcpipeTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        FILE_SET HEADERS DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILE_SET generated DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT zcpipeTargets NAMESPACE zcpipe:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/zcpipe)

configure_package_config_file(cmake/zcpipeConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/zcpipeConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/zcpipe)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/zcpipeConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/zcpipeConfig.cmake ${PROJECT_BINARY_DIR}/zcpipeConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/zcpipe)
