# What `cmake --install` puts where, and the two Debian packages CPack makes
# of it (packaging/build-debs.sh): airlock-bundler (the program, its man page,
# airlock-manifest(5), bash completion) and airlock-installer (the same for
# the isolated side). Both take the version from project(), the maintainer
# from packaging/debian/changelog, whose newest entry must be that version.

include(GNUInstallDirs)

set(AIRLOCK_DEBIAN_DIR ${PROJECT_SOURCE_DIR}/packaging/debian)
file(STRINGS ${AIRLOCK_DEBIAN_DIR}/changelog AIRLOCK_CHANGELOG_TOP LIMIT_COUNT 1)
if(NOT AIRLOCK_CHANGELOG_TOP MATCHES "^airlock \\(${PROJECT_VERSION}\\) ")
  message(FATAL_ERROR "packaging/debian/changelog: the newest entry (${AIRLOCK_CHANGELOG_TOP}) is not version "
    "${PROJECT_VERSION} of project(); add an entry for it")
endif()
file(STRINGS ${AIRLOCK_DEBIAN_DIR}/changelog AIRLOCK_CHANGELOG_TRAILER REGEX "^ -- " LIMIT_COUNT 1)
string(REGEX REPLACE "^ -- (.*>)  .*$" "\\1" AIRLOCK_MAINTAINER "${AIRLOCK_CHANGELOG_TRAILER}")

find_program(AIRLOCK_STRIP NAMES ${CMAKE_STRIP} strip)
set(AIRLOCK_COMPONENTS)
foreach(component bundler installer)
  if(TARGET airlock-${component})  # a build of the installer alone has no bundler
    list(APPEND AIRLOCK_COMPONENTS ${component})
  endif()
endforeach()
foreach(component ${AIRLOCK_COMPONENTS})
  set(pkg airlock-${component})
  install(TARGETS ${pkg} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT ${component})
  # Stripped as dh_strip strips (CPACK_STRIP_FILES would leave .comment and .note).
  install(CODE "execute_process(COMMAND ${AIRLOCK_STRIP} --strip-unneeded --remove-section=.comment
      --remove-section=.note \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/${pkg}\"
      COMMAND_ERROR_IS_FATAL ANY)" COMPONENT ${component})
  install(FILES ${AIRLOCK_DEBIAN_DIR}/copyright DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${pkg}
    COMPONENT ${component})
  if(TARGET airlock_docs)
    install(FILES ${PROJECT_BINARY_DIR}/docs/${pkg}.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1
      COMPONENT ${component})
    install(FILES ${PROJECT_BINARY_DIR}/docs/completions/${pkg}
      DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/bash-completion/completions COMPONENT ${component})
    # A native package's changelog is changelog.gz (Debian policy 12.7).
    install(FILES ${PROJECT_BINARY_DIR}/docs/changelog.gz DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${pkg}
      COMPONENT ${component})
  endif()
endforeach()
if(TARGET airlock_docs AND TARGET airlock-bundler)
  # Only the bundler reads manifests; one package owns the page.
  install(FILES ${PROJECT_BINARY_DIR}/docs/airlock-manifest.5.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man5
    COMPONENT bundler)
endif()
if(TARGET airlock-bundler)
  # The bundler's help names the isolated machine's dpkg status file
  # (--target-status); it reads only the file it is given.
  install(FILES ${AIRLOCK_DEBIAN_DIR}/airlock-bundler.lintian-overrides
    DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/lintian/overrides RENAME airlock-bundler COMPONENT bundler)
endif()
if(AIRLOCK_STATIC_INSTALLER)
  # Static on purpose: it must start on a machine that has none of our libraries.
  install(FILES ${AIRLOCK_DEBIAN_DIR}/airlock-installer.lintian-overrides
    DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/lintian/overrides RENAME airlock-installer COMPONENT installer)
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME airlock)
set(CPACK_PACKAGE_VENDOR "Airlock maintainers")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${AIRLOCK_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_COMPONENTS_ALL ${AIRLOCK_COMPONENTS})
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # NAME_VERSION_ARCH.deb
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${AIRLOCK_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # Depends from dpkg-shlibdeps
set(CPACK_DEBIAN_BUNDLER_PACKAGE_NAME airlock-bundler)
set(CPACK_DEBIAN_INSTALLER_PACKAGE_NAME airlock-installer)
set(CPACK_DEBIAN_BUNDLER_PACKAGE_RECOMMENDS "gpgv")
set(CPACK_DEBIAN_BUNDLER_PACKAGE_SUGGESTS "strace, iproute2")  # rehearse
set(CPACK_DEBIAN_INSTALLER_PACKAGE_SUGGESTS "gpg, skopeo, podman | docker.io, strace, iproute2")
string(CONCAT CPACK_COMPONENT_BUNDLER_DESCRIPTION
  "pack LLM deployments into signed bundles for an air gap\n"
  "Airlock moves a self-hosted LLM deployment across an air gap.\n"
  "airlock-bundler, on the connected side, resolves a deployment manifest\n"
  "(a model from a directory or the Hugging Face Hub, OCI images, Debian\n"
  "packages, Python wheels, files), pins every source, and writes a signed,\n"
  "encrypted, chunked bundle split into volumes sized for removable media.")
set(AIRLOCK_INSTALLER_LINKING "It holds no network code.")
if(AIRLOCK_STATIC_INSTALLER)
  string(APPEND AIRLOCK_INSTALLER_LINKING " It is linked statically, so it also runs\n"
    "where none of its libraries is installed.")
endif()
string(CONCAT CPACK_COMPONENT_INSTALLER_DESCRIPTION
  "verify and install Airlock bundles on an isolated site\n"
  "Airlock moves a self-hosted LLM deployment across an air gap.\n"
  "airlock-installer, on the isolated side, verifies every signature and\n"
  "hash of a bundle, installs it offline, records every version in a\n"
  "SQLite ledger, activates it with automatic rollback, and rolls back in\n"
  "one command.\n"
  "${AIRLOCK_INSTALLER_LINKING}")
include(CPack)
