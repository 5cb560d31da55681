#!/usr/bin/env python3
"""The pc board under KVM, Vessel against qemu-system-x86_64, run in alternation.

Each round runs, on each emulator (-M pc -accel kvm -m 128 -nographic, the PVH payload of
tests/guest/x86 as -kernel):
  - `exit`: the payload powers off through PM1a as its first action. Wall time from process
    start to exit is the start-up cost (process start to first KVM_RUN plus the few guest
    instructions; QEMU's figure includes its firmware: SeaBIOS and the PVH option ROM run
    before the payload).
  - memory, on the `pio 10000` run: the process's VmHWM (peak RSS since exec, polled from
    /proc/PID/status every millisecond; wait4's ru_maxrss would include the RSS of this Python
    process, which the child had before exec) and the resident pages of the guest RAM mapping
    (the anonymous mapping of -m's size) at the same moment. VMM overhead = peak RSS minus
    guest RAM touched.
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


class BenchError(Exception):
    pass


GUEST_RAM_KIB = 128 * 1024


def guest_ram_rss_kib(pid):
    """Resident KiB of the guest RAM: anonymous mappings of -m's size (up to 4 MiB of
    alignment slack)."""
    total, size, anon = 0, 0, False
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            fields = line.split()
            if "-" in fields[0] and len(fields) >= 5:
                anon = len(fields) == 5 or fields[5].startswith("[anon")
            elif fields[0] == "Size:":
                size = int(fields[1])
            elif fields[0] == "Rss:" and anon and GUEST_RAM_KIB <= size <= GUEST_RAM_KIB + 4096:
                total += int(fields[1])
    return total


def run(binary, append, timeout=120, memory=False):
    """Runs the payload; returns (wall seconds, output, peak RSS KiB, guest RAM RSS KiB)
    (the two memory figures only when memory is set)."""
    args = [binary, "-M", "pc", "-accel", "kvm", "-m", "128", "-nographic",
            "-kernel", PAYLOAD, "-append", append]
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    killer = threading.Timer(timeout, proc.kill)
    killer.start()
    chunks = []
    reader = threading.Thread(target=lambda: chunks.append(proc.stdout.read()))
    reader.start()
    hwm = guest = 0
    while memory and reader.is_alive():
        try:
            with open("/proc/%d/status" % proc.pid) as f:
                status = f.read()
            exe = os.readlink("/proc/%d/exe" % proc.pid)
            if os.path.basename(exe) == os.path.basename(binary):
                m = re.search(r"VmHWM:\s+(\d+)", status)
                if m and not re.search(r"State:\s+Z", status):
                    guest = guest_ram_rss_kib(proc.pid)
                    hwm = int(m.group(1))
        except (OSError, ValueError):
            pass
        time.sleep(0.001)
    reader.join()
    killer.cancel()
    status = proc.wait()
    wall = time.perf_counter() - t0
    text = b"".join(chunks).decode("utf-8", "replace")
    if status != 0 or "poweroff failed" in text:
        raise BenchError("%s -append '%s' failed (status %d):\n%s"
                         % (binary, append, status, text[-2000:]))
    if memory and not hwm:
        raise BenchError("%s exited before its memory could be read" % binary)
    return wall, text, hwm, guest


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
    res = {k: {"start": [], "rss": [], "guest": [], "overhead": [], "tsc": [], "exit_us": []}
           for k in emus}
    for r in range(a.n):
        for name, binary in emus.items():
            res[name]["start"].append(run(binary, "exit")[0])
            w1, t1, hwm, guest = run(binary, "pio 10000", memory=True)
            res[name]["rss"].append(hwm)
            res[name]["guest"].append(guest)
            res[name]["overhead"].append(hwm - guest)
            w2 = run(binary, "pio 110000")[0]
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
    print("| guest RAM touched (MiB) | %.2f | %.2f | |" % (v["guest"] / 1024, q["guest"] / 1024))
    print("| VMM overhead: peak RSS - guest RAM touched (MiB) | %.1f | %.1f | %.2f |"
          % (v["overhead"] / 1024, q["overhead"] / 1024, v["overhead"] / q["overhead"]))
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
