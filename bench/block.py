#!/usr/bin/env python3
"""Guest disk throughput: Vessel against qemu-system-riscv64 on the same images.

The RISC-V test Linux boots with two virtio-blk-device disks, both `cache=none`:
vda, a 300 MiB image full of data (made once from random bytes; raw, or qcow2 converted by
qemu-img), and vdb, a fresh empty image of the same size and format (aio=threads unless --aio says
otherwise, the same for both emulators). In the guest:

    read:  dd if=/dev/vda of=/dev/null bs=1M count=256 iflag=direct
    write: dd if=/dev/zero of=/dev/vdb bs=1M count=256 oflag=direct

(`write` into qcow2 allocates every cluster on the way). Each boot gets fresh copies of both
images. Every round boots each emulator once per format, alternating which one goes first.
Throughput is 256 MiB divided by the guest's own dd time; the table gives the medians in MB/s
(10^6 bytes per second, as dd reports) and the ratio Vessel/QEMU (above 1: Vessel is faster).

Usage: bench/block.py [-n ROUNDS] [--dir DIR] [--vessel PATH] [--qemu PATH] [--formats raw,qcow2]
                      [--aio threads|io_uring]
"""

import argparse
import datetime
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))

import testlib  # noqa: E402
from testlib import Vm  # noqa: E402

MIB = 1024 * 1024
IMAGE_MIB = 300
DD_MIB = 256
BOOT_TIMEOUT = 600
DD_TIMEOUT = 600

TESTS = [
    ("read", "dd if=/dev/vda of=/dev/null bs=1M count=%d iflag=direct" % DD_MIB),
    ("write", "dd if=/dev/zero of=/dev/vdb bs=1M count=%d oflag=direct" % DD_MIB),
]


class BenchError(Exception):
    pass


def run(argv):
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=600)
    if proc.returncode != 0:
        raise BenchError("%s: exit status %d\n%s" % (" ".join(argv), proc.returncode,
                                                      proc.stdout.decode(errors="replace")))
    return proc.stdout.decode(errors="replace")


def make_templates(workdir, fmt, qemu_img):
    """full.<fmt> (all data) and empty.<fmt> in workdir; returns their paths."""
    raw = os.path.join(workdir, "full.raw")
    if not os.path.exists(raw):
        with open(raw, "wb") as f:
            for _ in range(IMAGE_MIB):
                f.write(os.urandom(MIB))
    full, empty = (os.path.join(workdir, "%s.%s" % (n, fmt)) for n in ("full", "empty"))
    if fmt == "qcow2" and not os.path.exists(full):
        run([qemu_img, "convert", "-f", "raw", "-O", "qcow2", raw, full])
    if not os.path.exists(empty):
        run([qemu_img, "create", "-q", "-f", fmt, empty, "%dM" % IMAGE_MIB])
    return full, empty


def fresh_copies(workdir, fmt, templates):
    """Copies of the templates for one boot (the host page cache of them dropped by sync)."""
    paths = []
    for name, src in zip(("vda", "vdb"), templates):
        dst = os.path.join(workdir, "%s.%s" % (name, fmt))
        if os.path.exists(dst):
            os.unlink(dst)
        run(["cp", "--sparse=always", src, dst])
        paths.append(dst)
    os.sync()
    return paths


def guest_run(vm, n, cmd, timeout):
    vm.send('echo "BE""GIN%d"; %s; echo "E""ND%d=$?"\r' % (n, cmd, n))
    m = vm.expect(r"(?s)BEGIN%d\r*\n(.*?)END%d=(\d+)" % (n, n), timeout)
    out = m.group(1).replace("\r", "")
    if m.group(2) != "0":
        raise BenchError("guest: '%s' failed (%s):\n%s" % (cmd, m.group(2), out))
    return out


def dd_seconds(out):
    """The elapsed time busybox or coreutils dd printed."""
    m = re.search(r"copied,\s*([0-9.]+)\s*s", out)
    if not m:
        raise BenchError("no dd timing in:\n" + out)
    return float(m.group(1))


def boot_and_measure(binary, fmt, disks, aio):
    args = testlib.riscv_linux_args()
    for i, path in enumerate(disks):
        args += ["-drive", "file=%s,format=%s,if=none,id=d%d,cache=none,aio=%s"
                 % (path, fmt, i, aio),
                 "-device", "virtio-blk-device,drive=d%d" % i]
    if "qemu" in os.path.basename(binary):
        args += ["-global", "virtio-mmio.force-legacy=false"]
    results = {}
    with Vm(args, binary=binary) as vm:
        vm.expect(testlib.BOOT_MARKER, BOOT_TIMEOUT)
        guest_run(vm, 0, "echo 3 > /proc/sys/vm/drop_caches", 60)
        for n, (name, cmd) in enumerate(TESTS, 1):
            out = guest_run(vm, n, cmd, DD_TIMEOUT)
            results[name] = DD_MIB * MIB / dd_seconds(out) / 1e6
        vm.send("poweroff -f\r")
        vm.wait(60)
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", "--rounds", type=int, default=3)
    ap.add_argument("--dir", help="work directory (default: a temporary one, removed after)")
    ap.add_argument("--vessel", default=os.path.join(ROOT, "build", "vessel"))
    ap.add_argument("--qemu", default=shutil.which("qemu-system-riscv64"))
    ap.add_argument("--formats", default="raw,qcow2")
    ap.add_argument("--aio", default="threads", help="-drive aio= for both (threads, io_uring)")
    args = ap.parse_args()
    qemu_img = shutil.which("qemu-img")
    if not args.qemu or not qemu_img:
        sys.exit("bench/block.py needs qemu-system-riscv64 and qemu-img "
                 "(Debian: qemu-system-misc, qemu-utils)")
    if not os.path.exists(args.vessel):
        sys.exit("%s not built (run make)" % args.vessel)
    testlib.require_riscv_linux()
    workdir = args.dir or tempfile.mkdtemp(prefix="vessel-bench-block-")
    os.makedirs(workdir, exist_ok=True)
    formats = args.formats.split(",")
    tools = [("Vessel", args.vessel), ("QEMU", args.qemu)]
    samples = {(fmt, t, tool): [] for fmt in formats for t, _ in TESTS for tool, _ in tools}
    try:
        for fmt in formats:
            templates = make_templates(workdir, fmt, qemu_img)
            for r in range(args.rounds):
                order = tools if r % 2 == 0 else tools[::-1]
                for tool, binary in order:
                    disks = fresh_copies(workdir, fmt, templates)
                    res = boot_and_measure(binary, fmt, disks, args.aio)
                    for t, mbs in res.items():
                        samples[(fmt, t, tool)].append(mbs)
                    print("round %d %s %-6s %s" % (r + 1, fmt, tool,
                          "  ".join("%s %.1f MB/s" % kv for kv in res.items())),
                          file=sys.stderr, flush=True)
    finally:
        if not args.dir:
            shutil.rmtree(workdir, ignore_errors=True)

    qver = run([args.qemu, "--version"]).splitlines()[0]
    print("Guest sequential I/O, %d MiB O_DIRECT dd, cache=none,aio=%s, virtio-blk-device, "
          "median of %d boots" % (DD_MIB, args.aio, args.rounds))
    print("Host: %s, %d CPUs, %s; %s; %s\n" % (platform.processor() or platform.machine(),
          os.cpu_count(), platform.release(), qver, datetime.date.today().isoformat()))
    print("| image | test | Vessel MB/s | QEMU MB/s | Vessel/QEMU |")
    print("|---|---|---|---|---|")
    for fmt in formats:
        for t, _ in TESTS:
            v = statistics.median(samples[(fmt, t, "Vessel")])
            q = statistics.median(samples[(fmt, t, "QEMU")])
            print("| %s | %s | %.1f | %.1f | %.2fx |" % (fmt, t, v, q, v / q))


if __name__ == "__main__":
    main()
