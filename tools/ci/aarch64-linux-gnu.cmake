# Cross-compiles for Debian arm64 (Raspberry Pi OS Bookworm) from an amd64
# Debian with crossbuild-essential-arm64 and the :arm64 -dev packages.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(PKG_CONFIG_EXECUTABLE aarch64-linux-gnu-pkg-config)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
# ctest and catch_discover_tests run the arm64 binaries through qemu.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64-static)
