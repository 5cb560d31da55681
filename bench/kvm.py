#!/usr/bin/env python3
"""The pc board under KVM, Vessel against qemu-system-x86_64, run in alternation.

Each round runs, on each emulator (-M pc -accel kvm -m 128 -nographic, the PVH payload of
tests/guest/x86 as -kernel):
  - `exit`: the payload powers off through PM1a as its first action. Wall time from process
    start to exit is the start-up cost (process start to first KVM_RUN plus the few guest
    instructions; QEMU's figure includes its firmware: SeaBIOS and the PVH option ROM run
    before the payload). wait4's ru_maxrss is the memory cost: the guest touches well under
    1 MiB (page tables, stack, the payload), so RSS minus that is the VMM's overhead.
  - `pio 10000`: the payload times 10,000 `outb` to an unused port (each one a VM exit that
    the VMM handles) with the TSC and prints the count; `pio 110000` minus `pio 10000`
    wall time gives the per-exit cost in microseconds independent of the TSC rate.
Prints the medians and the Vessel/QEMU ratios as a markdown table.

Usage: bench/kvm.py [-n ROUNDS] [--vessel PATH] [--qemu PATH]
Needs /dev/kvm and build/tests/guest/x86/payload.elf (make).
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
PAYLOAD = os.path.join(ROOT, "build", "tests", "guest", "x86", "payload.elf")
GUEST_TOUCHED_KIB = 1024      # upper bound of the guest RAM the payload touches


class BenchError(Exception):
    pass


def run(binary, append, timeout=120):
    """Runs the payload; returns (wall seconds, peak RSS KiB, output)."""
    args = [binary, "-M", "pc", "-accel", "kvm", "-m", "128", "-nographic",
            "-kernel", PAYLOAD, "-append", append]
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    killer = threading.Timer(timeout, proc.kill)
    killer.start()
    out = proc.stdout.read()
    killer.cancel()
    _, status, rusage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    text = out.decode("utf-8", "replace")
    if os.WEXITSTATUS(status) != 0 or "poweroff failed" in text:
        raise BenchError("%s -append '%s' failed (status %d):\n%s"
                         % (binary, append, status, text[-2000:]))
    return wall, rusage.ru_maxrss, text


def pio_tsc(text):
    m = re.search(r"pio: (\d+) exits (\d+) tsc", text)
    if not m:
        raise BenchError("no pio line in:\n" + text[-2000:])
    return int(m.group(2)) / int(m.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=5, help="rounds (default 5)")
    ap.add_argument("--vessel", default=os.path.join(ROOT, "build", "vessel"))
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    a = ap.parse_args()
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        sys.exit("bench/kvm.py: /dev/kvm is not usable")
    if not os.path.exists(PAYLOAD):
        sys.exit("bench/kvm.py: %s is missing: run make" % PAYLOAD)
    emus = {"vessel": a.vessel, "qemu": a.qemu}
    res = {k: {"start": [], "rss": [], "tsc": [], "exit_us": []} for k in emus}
    for r in range(a.n):
        for name, binary in emus.items():
            wall, rss, _ = run(binary, "exit")
            res[name]["start"].append(wall)
            res[name]["rss"].append(rss)
            w1, _, t1 = run(binary, "pio 10000")
            w2, _, _ = run(binary, "pio 110000")
            res[name]["tsc"].append(pio_tsc(t1))
            res[name]["exit_us"].append((w2 - w1) / 100000 * 1e6)
        print("round %d/%d done" % (r + 1, a.n), file=sys.stderr)

    med = {k: {m: statistics.median(v) for m, v in d.items()} for k, d in res.items()}
    v, q = med["vessel"], med["qemu"]
    print("pc / KVM, %s, %d rounds, medians (%s, %s)"
          % (datetime.date.today(), a.n, platform.node(), platform.machine()))
    print()
    print("| measure | Vessel | QEMU | Vessel/QEMU |")
    print("|---|---|---|---|")
    print("| start-up to power-off (ms) | %.1f | %.1f | %.2f |"
          % (v["start"] * 1e3, q["start"] * 1e3, v["start"] / q["start"]))
    print("| peak RSS (MiB) | %.1f | %.1f | %.2f |"
          % (v["rss"] / 1024, q["rss"] / 1024, v["rss"] / q["rss"]))
    print("| VMM overhead: RSS - %d KiB guest (MiB) | %.1f | %.1f | %.2f |"
          % (GUEST_TOUCHED_KIB, (v["rss"] - GUEST_TOUCHED_KIB) / 1024,
             (q["rss"] - GUEST_TOUCHED_KIB) / 1024,
             (v["rss"] - GUEST_TOUCHED_KIB) / (q["rss"] - GUEST_TOUCHED_KIB)))
    print("| PIO exit, guest TSC cycles | %.0f | %.0f | %.2f |"
          % (v["tsc"], q["tsc"], v["tsc"] / q["tsc"]))
    print("| PIO exit, wall (us) | %.2f | %.2f | %.2f |"
          % (v["exit_us"], q["exit_us"], v["exit_us"] / q["exit_us"]))
    print("| 10,000 PIO exits (ms) | %.1f | %.1f | |"
          % (v["exit_us"] * 10, q["exit_us"] * 10))


if __name__ == "__main__":
    try:
        main()
    except BenchError as e:
        sys.exit("bench/kvm.py: %s" % e)
