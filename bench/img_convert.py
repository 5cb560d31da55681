#!/usr/bin/env python3
"""Times `vessel-img convert` against `qemu-img convert` on the same 1 GiB image.

Conversions: qcow2 -> raw, raw -> qcow2, raw -> compressed qcow2 (-c). The source is a 1 GiB
raw image (60% data: a mix of random and repetitive text-like bytes, 40% holes) and its qcow2
copy made by qemu-img. Each round runs every conversion once on each tool, alternating which
tool goes first; outputs are checked once per tool with `qemu-img compare` (and `qemu-img
check` for qcow2), outside the timed part. Prints the median wall times and the ratios
Vessel/QEMU (below 1 means Vessel is faster) as a markdown table, with the median CPU time
(user + system, all threads) of each tool.

Method: every timed run starts from the same state. Before it the script deletes the previous
output, writes back the host's dirty pages (sync), then writes a ballast file larger than
anything the run allocates (image size + 512 MiB) into the page cache and deletes it unwritten,
and starts the tool right after. The ballast matters on virtual machines with free page
reporting (virtio-balloon): memory that has been free for more than about two seconds is handed
back to the hypervisor, and the next process to fill those pages (here, with the output's page
cache) pays a host fault per page, about 1 s of system time for 600 MiB. Without the ballast,
whichever tool ran first in a pair paid that (its pages had been freed long before, by an
earlier conversion), while the second reused the pages just freed by deleting the first one's
output. Page-cache pages freed by deleting the ballast are what the tool's page-cache
allocations take next (an anonymous buffer was tried and did not do: its freed pages were not
the ones reused). Both tools write through the page cache (convert's default target cache mode
is unsafe) and the time is the tool's wall time, so the rows compare the tools' CPU and
system-call work, not the disk.

Usage: bench/img_convert.py [-n ROUNDS] [--size MIB] [--dir DIR] [--vessel PATH] [--qemu PATH]
                            [--uncompressed]
--uncompressed leaves out the -c row (minutes of CPU) when only the copy path is measured;
with --dir, an existing src.raw/src.qcow2 of the right size there is reused.
"""

import argparse
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MIB = 1024 * 1024

CONVERSIONS = [
    ("qcow2 -> raw", "src.qcow2", ["-f", "qcow2", "-O", "raw"], "raw"),
    ("raw -> qcow2", "src.raw", ["-f", "raw", "-O", "qcow2"], "qcow2"),
    ("raw -> compressed qcow2", "src.raw", ["-f", "raw", "-c", "-O", "qcow2"], "qcow2"),
]


class BenchError(Exception):
    pass


def run(argv, timeout=1800):
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=timeout)
    if proc.returncode != 0:
        raise BenchError("%s: exit status %d\n%s" % (" ".join(argv), proc.returncode,
                                                      proc.stdout.decode(errors="replace")))
    return proc.stdout.decode(errors="replace")


def make_source(workdir, size_mib, qemu_img):
    """Writes src.raw (size_mib MiB) and src.qcow2 in workdir, once."""
    raw = os.path.join(workdir, "src.raw")
    qcow2 = os.path.join(workdir, "src.qcow2")
    if os.path.exists(qcow2) and os.path.getsize(raw) == size_mib * MIB:
        return
    text = b"".join(b"vessel %08d lorem ipsum dolor sit amet, consectetur adipiscing\n" % i
                    for i in range(1024))
    with open(raw, "wb") as f:
        f.truncate(size_mib * MIB)
        for i in range(size_mib):
            if i % 5 in (3, 4):
                continue                       # a hole: 40% of the image
            f.seek(i * MIB)
            rnd = os.urandom(256 * 1024)
            body = (text * ((768 * 1024) // len(text) + 1))[:768 * 1024]
            f.write(rnd + body)
    run([qemu_img, "convert", "-f", "raw", "-O", "qcow2", raw, qcow2])


def prime_memory(workdir, mib):
    """Fills mib MiB of page cache with a file and deletes it: the run reuses resident pages."""
    ballast = os.path.join(workdir, "ballast")
    block = b"\x01" * (8 * MIB)
    with open(ballast, "wb") as f:
        for _ in range(mib // 8):
            f.write(block)
    os.unlink(ballast)


def timed_convert(tool, workdir, src, args, out, prime_mib):
    target = os.path.join(workdir, out)
    if os.path.exists(target):
        os.unlink(target)
    # Write back the previous run's output first, so that its writeback does not land in
    # this run's time. Neither tool flushes its own output (convert's cache mode is unsafe).
    os.sync()
    prime_memory(workdir, prime_mib)
    argv = [tool, "convert"] + args + [os.path.join(workdir, src), target]
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if proc.returncode != 0:
        raise BenchError("%s: exit status %d\n%s" % (" ".join(argv), proc.returncode, err))
    return wall, usage.ru_utime + usage.ru_stime


def verify(qemu_img, workdir, out, fmt):
    target = os.path.join(workdir, out)
    run([qemu_img, "compare", "-f", fmt, "-F", "raw", target, os.path.join(workdir, "src.raw")])
    if fmt == "qcow2":
        run([qemu_img, "check", target])


def machine():
    model = platform.processor() or platform.machine()
    try:
        for line in run(["lscpu"]).splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except (BenchError, OSError):
        pass
    return "%s, %d CPUs (nproc)" % (model, os.cpu_count() or 0)


def versions(vessel, qemu_img):
    qv = run([qemu_img, "--version"]).split()[2]
    try:
        commit = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                check=True).stdout.decode().strip()
    except (subprocess.CalledProcessError, OSError):
        commit = "unknown"
    return commit, qv


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", dest="rounds", type=int, default=6,
                    help="rounds (default 6; even, so each tool goes first equally often)")
    ap.add_argument("--size", type=int, default=1024, help="image size in MiB (default 1024)")
    ap.add_argument("--dir", help="work directory (default: a new one under $TMPDIR)")
    ap.add_argument("--vessel", default=os.path.join(ROOT, "build", "vessel-img"))
    ap.add_argument("--qemu", default=shutil.which("qemu-img") or "qemu-img")
    ap.add_argument("--uncompressed", action="store_true", help="leave out the -c row")
    args = ap.parse_args()
    conversions = [c for c in CONVERSIONS if not (args.uncompressed and "-c" in c[2])]
    for tool in (args.vessel, args.qemu):
        if not (shutil.which(tool) or os.path.exists(tool)):
            sys.exit("%s not found" % tool)

    prime = args.size + 512
    workdir = args.dir or tempfile.mkdtemp(prefix="vessel-img-bench-")
    os.makedirs(workdir, exist_ok=True)
    tools = [("Vessel", args.vessel), ("QEMU", args.qemu)]
    times = {(name, t): [] for name, _, _, _ in CONVERSIONS for t, _ in tools}
    cpus = {key: [] for key in times}
    try:
        print("preparing a %d MiB source in %s ..." % (args.size, workdir), file=sys.stderr)
        make_source(workdir, args.size, args.qemu)
        for name, src, cargs, fmt in conversions:
            for label, tool in tools:
                out = "check.%s" % fmt
                timed_convert(tool, workdir, src, cargs, out, prime)
                verify(args.qemu, workdir, out, fmt)
                os.unlink(os.path.join(workdir, out))
        for r in range(args.rounds):
            order = tools if r % 2 == 0 else tools[::-1]
            for name, src, cargs, fmt in conversions:
                for label, tool in order:
                    t, cpu = timed_convert(tool, workdir, src, cargs, "out." + fmt, prime)
                    times[(name, label)].append(t)
                    cpus[(name, label)].append(cpu)
                    print("round %d: %-24s %-6s %.2f s (CPU %.2f s)"
                          % (r + 1, name, label, t, cpu), file=sys.stderr)
    except BenchError as e:
        sys.exit("bench: %s" % e)
    finally:
        if not args.dir:
            shutil.rmtree(workdir, ignore_errors=True)

    commit, qv = versions(args.vessel, args.qemu)
    print("%s; %s; %d rounds, medians; Vessel %s; QEMU %s; %d MiB image (60%% data)\n"
          % (datetime.date.today().isoformat(), machine(), args.rounds, commit, qv, args.size))
    print("| conversion | Vessel (s) | QEMU (s) | Vessel/QEMU | Vessel MiB/s | QEMU MiB/s "
          "| Vessel CPU (s) | QEMU CPU (s) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, _, _, _ in conversions:
        v = statistics.median(times[(name, "Vessel")])
        q = statistics.median(times[(name, "QEMU")])
        print("| %s | %.2f | %.2f | %.2f | %.0f | %.0f | %.2f | %.2f |"
              % (name, v, q, v / q, args.size / v, args.size / q,
                 statistics.median(cpus[(name, "Vessel")]),
                 statistics.median(cpus[(name, "QEMU")])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
