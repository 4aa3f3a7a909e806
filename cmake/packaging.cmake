# SPDX-License-Identifier: Apache-2.0
# Debian package: `cpack -G DEB` in the build directory writes
# vhuctl_VERSION_ARCH.deb with what `cmake --install` installs under /usr.
# Depends come from dpkg-shlibdeps (dpkg-dev), as a Debian build does.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME vhuctl)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_CONTACT "vhuctl developers <vhuctl@invalid.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "command-line vhost-user front-end")
# The extended description: cpack indents it as debian/control wants.
set(CPACK_PACKAGE_DESCRIPTION
    "vhuctl connects to the Unix socket of a vhost-user back-end (such as
qemu-storage-daemon, virtiofsd or DPDK's vhost library) and drives it the
way a hypervisor would: every protocol request is a command, and the
decoded replies are printed as text or as one JSON document.

It is meant for testing, debugging and scripting back-ends: probe what a
back-end offers, negotiate features, set up memory and rings, watch the
back-end channel, and check error handling with raw requests.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "bash-completion")
# libcrypto is loaded with dlopen by device-state (its SHA-256), so
# shlibdeps cannot see it; cpack appends shlibdeps' list to this one.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libssl3")
# libpcap is loaded with dlopen by the commands that write or read pcap
# files (net send --pcap, net recv -w), so shlibdeps cannot see it.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libpcap0.8")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Debian ships stripped binaries (debug information goes to -dbgsym).
set(CPACK_STRIP_FILES ON)
# Only what the project installs: no test or generator binaries exist as
# install targets, so the default component set is the whole package.
include(CPack)
