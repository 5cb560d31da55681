#!/bin/sh
# Builds OUT/Image (default build/assets/riscv64): Linux 6.1 from Debian's linux-source-6.1,
# riscv defconfig plus virtio-balloon/input, built-in display drivers (simpledrm, virtio-gpu,
# bochs) with the fb console, as ../shared/assets/riscv64/Image is made. About 20 minutes on
# 2 cores. Installs its build dependencies when run as root.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(mkdir -p "${1:-$ROOT/build/assets/riscv64}" && cd "${1:-$ROOT/build/assets/riscv64}" && pwd)
. "$ROOT/scripts/lib-apt.sh"
apt_require linux-source-6.1 gcc-riscv64-linux-gnu binutils-riscv64-linux-gnu make flex bison bc \
    libssl-dev libelf-dev xz-utils

W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
tar -C "$W" -xf /usr/src/linux-source-6.1.tar.xz
cd "$W"/linux-source-6.1
make ARCH=riscv CROSS_COMPILE=riscv64-linux-gnu- defconfig
./scripts/config --enable VIRTIO_BALLOON --enable VIRTIO_INPUT --enable FB --enable FRAMEBUFFER_CONSOLE \
    --enable DRM --enable DRM_SIMPLEDRM --enable DRM_VIRTIO_GPU --enable DRM_BOCHS \
    --enable DRM_FBDEV_EMULATION --enable INPUT_EVDEV --enable KEYBOARD_ATKBD \
    --enable HW_RANDOM_VIRTIO --disable DEBUG_INFO --enable DEBUG_INFO_NONE
make ARCH=riscv CROSS_COMPILE=riscv64-linux-gnu- olddefconfig
make ARCH=riscv CROSS_COMPILE=riscv64-linux-gnu- -j"$(nproc)" Image
cp arch/riscv/boot/Image "$OUT/Image.tmp"
mv "$OUT/Image.tmp" "$OUT/Image"
echo "built $OUT/Image"
