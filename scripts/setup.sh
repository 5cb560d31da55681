#!/bin/sh
# Prepares a Debian 12 machine for building and testing Vessel: installs the missing build and
# test packages (as root; otherwise prints the apt-get command and fails), then runs ./configure
# when config.mak is missing or older than configure. Quick when everything is in place.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/lib-apt.sh"

BUILD_DEPS="gcc make pkg-config libglib2.0-dev libfdt-dev libpixman-1-dev zlib1g-dev libslirp-dev
libjson-glib-dev libsdl2-dev libvncserver-dev python3 liburing-dev libzstd-dev"
TEST_DEPS="opensbi qemu-system-misc qemu-utils gcc-riscv64-linux-gnu binutils-riscv64-linux-gnu
device-tree-compiler cpio socat e2fsprogs iproute2 qemu-system-x86
acpica-tools
vncsnapshot xvfb x11-apps imagemagick
xdotool"

# shellcheck disable=SC2086
apt_require $BUILD_DEPS $TEST_DEPS

cd "$ROOT"
if [ ! -f config.mak ] || [ -n "$(find configure -newer config.mak)" ]; then
    ./configure
fi
