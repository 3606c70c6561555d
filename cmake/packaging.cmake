# The Debian package (cpack -G DEB in the build folder):
# segflow_<version>_<arch>.deb with /usr/bin/segflow, /etc/segflow/segflow.toml
# (a conffile), the systemd units, and a man page made from --help. Run-time
# dependencies by Debian package name come from dpkg-shlibdeps.
include(GNUInstallDirs)
install(TARGETS segflow RUNTIME DESTINATION bin)
install(FILES ${PROJECT_SOURCE_DIR}/config/segflow.toml DESTINATION /etc/segflow)
# segflow.service: the plain queue service; segflow-segmenter.service: the
# PlanktoScope's MQTT segmenter in its place (tools/systemd). Enable one.
file(GLOB segflow_units ${PROJECT_SOURCE_DIR}/packaging/*.service
  ${PROJECT_SOURCE_DIR}/tools/systemd/*.service)
install(FILES ${segflow_units} DESTINATION /lib/systemd/system)

set(man_page ${CMAKE_CURRENT_BINARY_DIR}/man/segflow.1.gz)
add_custom_command(OUTPUT ${man_page}
  COMMAND ${CMAKE_COMMAND} "-DSEGFLOW=${CMAKE_CROSSCOMPILING_EMULATOR};$<TARGET_FILE:segflow>"
          -DVERSION=${PROJECT_VERSION} -DOUT=${man_page}
          -P ${PROJECT_SOURCE_DIR}/cmake/man_page.cmake
  DEPENDS segflow ${PROJECT_SOURCE_DIR}/cmake/man_page.cmake
  COMMENT "man page from segflow --help" VERBATIM)
add_custom_target(man_page ALL DEPENDS ${man_page})
install(FILES ${man_page} DESTINATION share/man/man1)

if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  set(deb_arch arm64)
else()
  set(deb_arch amd64)
endif()
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME segflow)
set(CPACK_PACKAGE_VENDOR segflow)
set(CPACK_PACKAGE_CONTACT "segflow maintainers <segflow@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "plankton-image segmentation pipeline (PlanktoScope layout) to EcoTaxa archives")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${deb_arch})
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS adduser)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS mosquitto) # the segmenter unit's MQTT broker
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/packaging/postinst ${PROJECT_SOURCE_DIR}/packaging/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
