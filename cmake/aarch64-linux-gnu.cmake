# Cross-compiles edgegnn for Debian arm64 (aarch64) with Debian's cross toolchain
# (g++-aarch64-linux-gnu) against arm64 -dev packages unpacked into a sysroot;
# scripts/check-arm64 makes that sysroot and uses this file:
#
#   cmake -S . -B build-arm64 -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
#         -DEDGEGNN_ARM64_SYSROOT=/var/cache/edgegnn-arm64/sysroot
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

# The cache variable does not reach try_compile projects; the environment does.
if(NOT EDGEGNN_ARM64_SYSROOT AND DEFINED ENV{EDGEGNN_ARM64_SYSROOT})
  set(EDGEGNN_ARM64_SYSROOT "$ENV{EDGEGNN_ARM64_SYSROOT}")
endif()
if(NOT EDGEGNN_ARM64_SYSROOT)
  set(EDGEGNN_ARM64_SYSROOT /var/cache/edgegnn-arm64/sysroot)
endif()
set(EDGEGNN_ARM64_SYSROOT "${EDGEGNN_ARM64_SYSROOT}" CACHE PATH "arm64 sysroot (scripts/check-arm64)")
set(ENV{EDGEGNN_ARM64_SYSROOT} "${EDGEGNN_ARM64_SYSROOT}")
if(NOT EXISTS "${EDGEGNN_ARM64_SYSROOT}/usr/lib/aarch64-linux-gnu")
  message(FATAL_ERROR "no arm64 sysroot at ${EDGEGNN_ARM64_SYSROOT}: run scripts/check-arm64")
endif()

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# GCC's note that passing pair<double, double> changed in GCC 10.1: all of it is GCC 12.
set(CMAKE_CXX_FLAGS_INIT -Wno-psabi)
# Compiling and linking take libc and libstdc++ from the cross toolchain (the same
# versions as bookworm's arm64 ones, which run under qemu), everything else from the sysroot.
set(CMAKE_SYSROOT "${EDGEGNN_ARM64_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH "${EDGEGNN_ARM64_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config (libzip, MPI) must read the sysroot's .pc files, not the host's.
set(ENV{PKG_CONFIG_DIR} "")
set(ENV{PKG_CONFIG_LIBDIR}
  "${EDGEGNN_ARM64_SYSROOT}/usr/lib/aarch64-linux-gnu/pkgconfig:${EDGEGNN_ARM64_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${EDGEGNN_ARM64_SYSROOT}")

# The host's mpicxx wrapper would hand FindMPI the x86_64 OpenMPI; take the
# sysroot's mpi-cxx.pc instead.
set(MPI_SKIP_COMPILER_WRAPPER ON)

# Test discovery (gtest_discover_tests) and ctest run the arm64 binaries under qemu.
find_program(EDGEGNN_QEMU_AARCH64 qemu-aarch64-static qemu-aarch64)
if(EDGEGNN_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${EDGEGNN_QEMU_AARCH64};-L;${EDGEGNN_ARM64_SYSROOT}")
endif()
