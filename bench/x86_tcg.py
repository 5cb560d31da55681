#!/usr/bin/env python3
"""The x86-64 interpreter against QEMU's TCG: the same kernel, initramfs and command line on
`-M pc -accel tcg`, run in alternation.

Each round runs, on each emulator (the default CPU model qemu64, -m 256 -nographic):
  - vessel.test=poweroff: wall time from process start to exit (boot to ACPI poweroff);
  - vessel.test=md5: the guest-measured time of `dd if=/dev/zero bs=1M count=64 | md5sum`
    (from /proc/uptime inside the guest, so boot time is not included).
Prints the medians and the Vessel/QEMU ratios as a markdown table.

Usage: bench/x86_tcg.py [-n ROUNDS] [--kernel PATH] [--vessel PATH] [--qemu PATH]
Needs build/assets/x86_64/initrd.gz (scripts/assets.sh); the kernel defaults to the shared
tiny-bzImage.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("VESSEL_SHARED_ASSETS", os.path.join(os.path.dirname(ROOT), "shared",
                                                             "assets"))
KERNEL = os.path.join(SHARED, "x86_64", "tiny-bzImage")
INITRD = os.path.join(ROOT, "build", "assets", "x86_64", "initrd.gz")
MD5_OF_64MIB_ZEROS = "7f614da9329cd3aebf59b91aadc30bf0"
BOOT_MARKER = "VESSEL-BOOT-OK"


class BenchError(Exception):
    pass


def run_guest(binary, kernel, job, timeout):
    """Boots the guest with vessel.test=job; returns (wall seconds, console output)."""
    cmd = [binary, "-M", "pc", "-accel", "tcg", "-m", "256", "-nographic",
           "-kernel", kernel, "-initrd", INITRD, "-append", "console=ttyS0 vessel.test=" + job]
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BenchError("%s: %s timed out after %d s" % (binary, job, timeout)) from None
    except OSError as e:
        raise BenchError("cannot run %s: %s" % (binary, e.strerror)) from None
    wall = time.monotonic() - start
    out = proc.stdout.decode("utf-8", "replace")
    if proc.returncode != 0 or BOOT_MARKER not in out:
        tail = "\n".join(out.splitlines()[-15:])
        raise BenchError("%s: %s failed (exit status %d):\n%s" % (binary, job, proc.returncode,
                                                                  tail))
    return wall, out


def md5_job(binary, kernel, timeout):
    """The guest-measured seconds of the dd | md5sum job; checks the digest."""
    _, out = run_guest(binary, kernel, "md5", timeout)
    digest = re.search(r"VESSEL-MD5-BEGIN\s+([0-9a-f]{32})\s+VESSEL-MD5-END", out)
    took = re.search(r"VESSEL-MD5-TIME ([0-9.]+)", out)
    if not digest or not took:
        raise BenchError("%s: no md5 result in the output" % binary)
    if digest.group(1) != MD5_OF_64MIB_ZEROS:
        raise BenchError("%s: wrong md5 %s" % (binary, digest.group(1)))
    return float(took.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--rounds", type=int, default=3)
    ap.add_argument("--kernel", default=KERNEL)
    ap.add_argument("--vessel", default=os.path.join(ROOT, "build", "vessel"))
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--timeout", type=int, default=600)
    args = ap.parse_args()
    for path in (args.kernel, INITRD):
        if not os.path.exists(path):
            sys.exit("missing %s (run scripts/assets.sh)" % path)

    emulators = (("Vessel", args.vessel), ("QEMU", args.qemu))
    boot = {name: [] for name, _ in emulators}
    md5 = {name: [] for name, _ in emulators}
    try:
        for r in range(args.rounds):
            for name, binary in emulators:
                wall, _ = run_guest(binary, args.kernel, "poweroff", args.timeout)
                boot[name].append(wall)
                md5[name].append(md5_job(binary, args.kernel, args.timeout))
                print("round %d %s: boot %.2f s, md5 job %.2f s" %
                      (r + 1, name, boot[name][-1], md5[name][-1]), file=sys.stderr)
    except BenchError as e:
        sys.exit("bench: %s" % e)

    med = lambda xs: statistics.median(xs)
    print("| %s, %d rounds (medians) | Vessel | QEMU | Vessel/QEMU |" %
          (os.path.basename(args.kernel), args.rounds))
    print("|---|---|---|---|")
    for label, data in (("boot to poweroff (s)", boot), ("dd 64 MiB \\| md5sum (s)", md5)):
        v, q = med(data["Vessel"]), med(data["QEMU"])
        print("| %s | %.2f | %.2f | %.2f |" % (label, v, q, v / q if q else float("inf")))


if __name__ == "__main__":
    main()
