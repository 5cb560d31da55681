#!/bin/sh
# Runs every RISC-V guest payload on an emulator: tests/guest/riscv/run.sh [emulator] [elf...]
# The emulator defaults to qemu-system-riscv64; each payload must print PASS and exit 0.
emu=${1:-qemu-system-riscv64}
[ $# -gt 0 ] && shift
dir=$(dirname "$0")/../../../build/tests/guest/riscv
elfs=${*:-$(ls "$dir"/*.elf)}
fails=0
for elf in $elfs; do
    out=$(timeout 20 "$emu" -M virt -bios none -nographic -kernel "$elf" </dev/null 2>&1)
    rc=$?
    last=$(printf '%s\n' "$out" | grep -a -E '^(PASS|FAIL)' | tail -n 1)
    if [ $rc -eq 0 ] && [ "$last" = "PASS" ]; then
        echo "ok   $(basename "$elf" .elf)"
    else
        echo "FAIL $(basename "$elf" .elf) (exit $rc): ${last:-$(printf '%s\n' "$out" | tail -n 3)}"
        fails=$((fails + 1))
    fi
done
[ $fails -eq 0 ]
