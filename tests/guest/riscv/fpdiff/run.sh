#!/bin/sh
# Usage: run.sh [EMULATOR...]
# Builds fpdiff.elf (riscv64 bare metal) and fpdiff-host (target/riscv/fpu.c on the host),
# then runs "EMULATOR -M virt -bios none -nographic -kernel fpdiff.elf" for each EMULATOR and
# compares every output with the host build's. Default EMULATOR: qemu-system-riscv64.
# Environment: OUT (build directory, default build/tests/guest/riscv/fpdiff under the tree),
# TIMEOUT (seconds per emulator run, default 300). Exit status 0 when all outputs match.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
out=${OUT:-$root/build/tests/guest/riscv/fpdiff}
timeout_s=${TIMEOUT:-300}
mkdir -p "$out"

riscv64-linux-gnu-gcc -march=rv64gc -mabi=lp64d -mcmodel=medany -O2 -nostdlib -ffreestanding \
    -fno-stack-protector -fno-pic -static -Wl,--build-id=none -Wl,--no-warn-rwx-segments -Wall -Wextra \
    -Wno-unused-parameter -T "$here/link.ld" \
    -o "$out/fpdiff.elf" "$here/fpdiff.c"
cc -O2 -std=gnu11 -Wall -Wextra -Wno-unused-parameter -DFPDIFF_HOST -I"$root" -o "$out/fpdiff-host" \
    "$here/fpdiff.c" "$root/target/riscv/fpu.c"

"$out/fpdiff-host" > "$out/host.txt"
[ $# -gt 0 ] || set -- qemu-system-riscv64
status=0
n=0
for emu in "$@"; do
    n=$((n + 1))
    # The UART may translate LF to CRLF on the terminal side; compare lines without CR.
    timeout "$timeout_s" $emu -M virt -bios none -nographic -kernel "$out/fpdiff.elf" \
        </dev/null 2>"$out/emu$n.err" | tr -d '\r' > "$out/emu$n.txt" || true
    if ! grep -q '^fpdiff done$' "$out/emu$n.txt"; then
        echo "FAIL: $emu: no complete output (see $out/emu$n.txt, $out/emu$n.err)"
        status=1
    elif diff -u "$out/host.txt" "$out/emu$n.txt" > "$out/emu$n.diff"; then
        echo "PASS: $emu matches target/riscv/fpu.c ($(wc -l < "$out/host.txt") lines)"
    else
        echo "FAIL: $emu differs from target/riscv/fpu.c:"
        grep '^[-+][a-z]' "$out/emu$n.diff" | head -40
        status=1
    fi
done
exit $status
