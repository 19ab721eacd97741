# install() rules and the Debian package (CPack DEB). See docs/deploy.md.
#   make install DESTDIR=/tmp/root    the files as the package lays them out
#   make package                      build/release/multus-hookd_<version>_<arch>.deb
include(GNUInstallDirs)
set(pkg ${CMAKE_SOURCE_DIR}/packaging)

install(TARGETS multus-hookd RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
# Debian 12 keeps units under /lib (moving them to /usr/lib is for a later release).
install(FILES ${pkg}/multus-hookd.service DESTINATION /lib/systemd/system)
install(FILES ${CMAKE_SOURCE_DIR}/docs/examples/config-minimal.json
        DESTINATION /etc/multus-hookd RENAME config.json)

set(docdir ${CMAKE_INSTALL_DATAROOTDIR}/doc/multus-hookd)
file(GLOB pkg_docs ${CMAKE_SOURCE_DIR}/docs/*.md)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${pkg_docs} ${pkg}/debian/copyright
        DESTINATION ${docdir})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/examples/ DESTINATION ${docdir}/examples)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/deploy/ DESTINATION ${docdir}/deploy)

# Debian wants the changelog and the man page gzip -9n (no name, no timestamp).
find_program(GZIP_EXE gzip REQUIRED)
set(gz ${CMAKE_BINARY_DIR}/packaging)
add_custom_command(OUTPUT ${gz}/changelog.Debian.gz ${gz}/multus-hookd.8.gz
  COMMAND ${CMAKE_COMMAND} -E make_directory ${gz}
  COMMAND ${GZIP_EXE} -9n -c ${pkg}/debian/changelog > ${gz}/changelog.Debian.gz
  COMMAND ${GZIP_EXE} -9n -c ${pkg}/multus-hookd.8 > ${gz}/multus-hookd.8.gz
  DEPENDS ${pkg}/debian/changelog ${pkg}/multus-hookd.8)
add_custom_target(hookd_package_files ALL
  DEPENDS ${gz}/changelog.Debian.gz ${gz}/multus-hookd.8.gz)
install(FILES ${gz}/changelog.Debian.gz DESTINATION ${docdir})
install(FILES ${gz}/multus-hookd.8.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME multus-hookd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_CONTACT "multus-hookd maintainers <multus-hookd@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Multus ENIs for EKS workers held by Auto Scaling lifecycle hooks")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
"multus-hookd receives the launch and terminate lifecycle events of Auto
Scaling groups (EventBridge API destination, SNS or SQS), attaches one ENI per
Multus subnet of the instance's Availability Zone at fixed device indexes,
with first-free static addresses or with EC2's while the pod ranges are kept
by subnet CIDR reservations, completes each lifecycle action exactly once and
removes the ENIs on termination.")
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/multus-hookd/multus-hookd")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${pkg}/debian/postinst ${pkg}/debian/prerm ${pkg}/debian/postrm ${pkg}/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
