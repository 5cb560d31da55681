#!/bin/sh
# Builds OUT/busybox (default build/assets/riscv64): busybox 1.35 from Debian's source package,
# defconfig + CONFIG_STATIC, cross-compiled for riscv64, as ../shared/assets/riscv64/busybox is
# made. Needs deb-src entries; as root it adds them for the installed suite when missing.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(mkdir -p "${1:-$ROOT/build/assets/riscv64}" && cd "${1:-$ROOT/build/assets/riscv64}" && pwd)
. "$ROOT/scripts/lib-apt.sh"
apt_require gcc-riscv64-linux-gnu binutils-riscv64-linux-gnu make dpkg-dev bzip2
apt_require_sources

W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$W"
apt-get source --download-only busybox
tar xjf busybox_*.orig.tar.bz2
cd busybox-*/
make defconfig
sed -i 's/# CONFIG_STATIC is not set/CONFIG_STATIC=y/; s/CONFIG_TC=y/# CONFIG_TC is not set/' .config
make CROSS_COMPILE=riscv64-linux-gnu- -j"$(nproc)"
cp busybox "$OUT/busybox.tmp"
mv "$OUT/busybox.tmp" "$OUT/busybox"
echo "built $OUT/busybox"
