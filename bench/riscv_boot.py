#!/usr/bin/env python3
"""Boots the riscv64 test guest on Vessel and on QEMU, in alternation, and compares them.

Each round runs, on each emulator (-M virt -m 256 -nographic, the same kernel, initramfs and
-append):
  - vessel.test=poweroff: wall time from process start to exit, and the process's peak RSS
    (wait4's ru_maxrss: the 256 MiB guest right after boot, since it powers off at once);
  - vessel.test=md5: the guest-measured time of `dd if=/dev/zero bs=1M count=64 | md5sum`
    (from /proc/uptime inside the guest, so boot time is not included).
Prints the medians and the Vessel/QEMU ratios as a markdown table.

Usage: bench/riscv_boot.py [-n ROUNDS] [--only vessel|qemu] [--vessel PATH] [--qemu PATH]
Needs build/assets/riscv64/{Image,initrd.gz} (scripts/assets.sh).
"""

import argparse
import datetime
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ASSETS = os.path.join(ROOT, "build", "assets", "riscv64")
KERNEL = os.path.join(ASSETS, "Image")
INITRD = os.path.join(ASSETS, "initrd.gz")
MD5_OF_64MIB_ZEROS = "7f614da9329cd3aebf59b91aadc30bf0"
BOOT_MARKER = "VESSEL-BOOT-OK"


class BenchError(Exception):
    pass


def run_guest(binary, job, timeout):
    """Boots the guest with vessel.test=job; returns (wall seconds, peak RSS KiB, output)."""
    cmd = [binary, "-M", "virt", "-m", "256", "-nographic", "-kernel", KERNEL,
           "-initrd", INITRD, "-append", "console=ttyS0 vessel.test=" + job]
    start = time.monotonic()
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
    except OSError as e:
        raise BenchError("cannot run %s: %s" % (binary, e.strerror)) from None
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    out = proc.stdout.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stdout.close()
    if proc.returncode != 0 or BOOT_MARKER not in out:
        tail = "\n".join(out.splitlines()[-15:])
        why = "timed out after %d s" % timeout if wall >= timeout else \
              "exit status %d" % proc.returncode
        raise BenchError("%s with vessel.test=%s: %s\n%s" % (binary, job, why, tail))
    return wall, usage.ru_maxrss, out


def measure(binary, timeout):
    """One round on one emulator: {metric: value}."""
    boot_wall, rss_kib, _ = run_guest(binary, "poweroff", timeout)
    _, _, out = run_guest(binary, "md5", timeout)
    m = re.search(r"VESSEL-MD5-BEGIN\s+([0-9a-f]{32})\s+VESSEL-MD5-END\s+VESSEL-MD5-TIME ([0-9.]+)",
                  out)
    if not m:
        raise BenchError("%s: no md5 result in the guest output" % binary)
    if m.group(1) != MD5_OF_64MIB_ZEROS:
        raise BenchError("%s: wrong md5 %s (expected %s)" % (binary, m.group(1),
                                                           MD5_OF_64MIB_ZEROS))
    return {"boot": boot_wall, "md5": float(m.group(2)), "rss": rss_kib / 1024.0}


METRICS = [
    ("boot", "boot to poweroff, wall time (s)", "%.2f"),
    ("md5", "md5sum of 64 MiB in the guest (s)", "%.2f"),
    ("rss", "peak RSS, 256 MiB guest after boot (MiB)", "%.0f"),
]


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    except OSError:
        out = ""
    m = re.search(r"^Model name:\s*(.+)$", out, re.M)
    return m.group(1).strip() if m else platform.processor() or "unknown CPU"


def qemu_version(binary):
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True,
                             check=False).stdout
    except OSError:
        return "?"
    m = re.search(r"version (\S+)", out)
    return m.group(1) if m else "?"


def vessel_commit():
    try:
        out = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                             capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        out = ""
    return out or "?"


def table(results, rounds, qemu_ver):
    lines = ["## riscv64 Linux guest: Vessel vs QEMU", "",
             "%s; %s, %d CPUs (nproc); %d rounds, medians; Vessel %s; QEMU %s;"
             " -M virt -m 256 -nographic"
             % (datetime.date.today().isoformat(), cpu_model(), os.cpu_count(), rounds,
                vessel_commit(), qemu_ver),
             "",
             "| metric | Vessel | QEMU | Vessel/QEMU |",
             "| --- | ---: | ---: | ---: |"]
    for key, label, fmt in METRICS:
        med = {}
        for emu in ("vessel", "qemu"):
            vals = [r[key] for r in results.get(emu, [])]
            med[emu] = statistics.median(vals) if vals else None
        cells = [fmt % med[e] if med[e] is not None else "-" for e in ("vessel", "qemu")]
        ratio = "%.2f" % (med["vessel"] / med["qemu"]) \
            if med["vessel"] is not None and med["qemu"] else "-"
        lines.append("| %s | %s | %s | %s |" % (label, cells[0], cells[1], ratio))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", "--rounds", type=int, default=5, help="rounds (default 5)")
    ap.add_argument("--only", choices=("vessel", "qemu"), help="run one emulator only")
    ap.add_argument("--vessel", default=os.path.join(ROOT, "build", "vessel"))
    ap.add_argument("--qemu", default="qemu-system-riscv64")
    ap.add_argument("--timeout", type=int, default=600, help="per boot, seconds (default 600)")
    args = ap.parse_args()

    for path in (KERNEL, INITRD):
        if not os.path.exists(path):
            sys.exit("bench: %s is missing; run scripts/assets.sh" % path)
    binaries = {"vessel": args.vessel, "qemu": args.qemu}
    order = [args.only] if args.only else ["vessel", "qemu"]
    results = {emu: [] for emu in order}
    try:
        for n in range(args.rounds):
            for emu in order:
                r = measure(binaries[emu], args.timeout)
                results[emu].append(r)
                print("round %d %-6s boot %.2f s, md5 %.2f s, rss %.0f MiB"
                      % (n + 1, emu, r["boot"], r["md5"], r["rss"]), file=sys.stderr)
    except BenchError as e:
        sys.exit("bench: %s" % e)
    print(table(results, args.rounds, qemu_version(args.qemu) if "qemu" in order else "-"))


if __name__ == "__main__":
    main()
