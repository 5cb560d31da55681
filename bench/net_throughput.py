#!/usr/bin/env python3
"""TCP throughput of the riscv64 test guest's virtio-net, Vessel against QEMU.

For each emulator, in alternation, rounds of: boot the guest (-M virt -m 256 -nographic, the
same kernel and initramfs) with a virtio-net-device on a back end, then
  - host -> guest: the guest wgets a SIZE MiB file from a Python HTTP server on the host side
    (127.0.0.1 through 10.0.2.2 for user networking; the tap's host address for tap) and
    reports the time from /proc/uptime;
  - guest -> host: the host fetches a SIZE MiB file from busybox httpd in the guest (through
    hostfwd on 127.0.0.1 for user networking, directly for tap), timed on the host.
Back ends: `-netdev user` (hostfwd) and `-netdev tap` in a private network namespace with its
own tap device (skipped when namespaces or /dev/net/tun are not available). QEMU runs with
`-netdev ...,id=n0 -device virtio-net-device,netdev=n0` on its virt board, like Vessel.
Prints medians in MB/s and the Vessel/QEMU ratio (above 1 means Vessel is faster) as a
markdown table.

Usage: bench/net_throughput.py [-n ROUNDS] [--size MIB] [--only vessel|qemu]
                               [--vessel PATH] [--qemu PATH] [--no-tap] [--no-user]
"""

import argparse
import datetime
import functools
import http.server
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))

import testlib  # noqa: E402

NETNS = "vessel-bench-%d" % os.getpid()
TAP_HOST, TAP_GUEST = "192.168.78.1", "192.168.78.2"


class Guest:
    """The test guest on one emulator with a shell on its console."""

    def __init__(self, binary, netargs, prefix=()):
        args = (list(prefix[1:]) + [binary] if prefix else []) + testlib.riscv_linux_args(
            extra=netargs)
        self.vm = testlib.Vm(args, binary=prefix[0] if prefix else binary)
        self.n = 0
        self.vm.expect(testlib.BOOT_MARKER, 300)
        self.run("true")

    def run(self, cmd, timeout=300):
        self.n += 1
        self.vm.send("echo S$((%d+0))S; %s; echo E$((%d+0))E$?X\n" % (self.n, cmd, self.n))
        self.vm.expect(r"S%dS" % self.n, timeout)
        m = self.vm.expect(r"([\s\S]*?)E%dE(\d+)X" % self.n, timeout)
        if m.group(2) != "0":
            raise RuntimeError("guest command '%s' failed:\n%s" % (cmd, self.vm.tail()))
        return m.group(1).replace("\r", "")

    def close(self):
        self.vm.kill()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def guest_download(g, url, size_mib):
    """host -> guest: wget into /dev/null, timed by the guest's clock; returns MB/s."""
    out = g.run("read -r t0 _ < /proc/uptime; wget -q -O /dev/null %s; "
                "read -r t1 _ < /proc/uptime; echo T=$t0,$t1" % url)
    t0, t1 = map(float, re.search(r"T=([\d.]+),([\d.]+)", out).groups())
    return size_mib * 1048576 / 1e6 / max(t1 - t0, 0.01)


def host_fetch(url, size_mib, runner=None):
    """guest -> host: the host reads the whole file; returns MB/s."""
    if runner:
        code = ("import time,urllib.request\nt=time.monotonic()\n"
                "n=len(urllib.request.urlopen('%s',timeout=300).read())\n"
                "print(n,time.monotonic()-t)" % url)
        out = subprocess.run(runner + ["python3", "-c", code], capture_output=True, text=True,
                             check=True).stdout.split()
        n, secs = int(out[0]), float(out[1])
    else:
        t = time.monotonic()
        with urllib.request.urlopen(url, timeout=300) as r:
            n = len(r.read())
        secs = time.monotonic() - t
    if n != size_mib * 1048576:
        raise RuntimeError("fetched %d bytes instead of %d" % (n, size_mib * 1048576))
    return n / 1e6 / secs


def serve_dir(root, bind):
    http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
    srv = http.server.ThreadingHTTPServer((bind, 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def guest_prepare(g, size_mib):
    g.run("mkdir -p /www && dd if=/dev/zero of=/www/big bs=1M count=%d 2>/dev/null && "
          "httpd -p 80 -h /www" % size_mib)


def round_user(binary, size_mib, tmp):
    port = free_port()
    srv = serve_dir(tmp, "127.0.0.1")
    g = Guest(binary, ["-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:%d-:80" % port,
                       "-device", "virtio-net-device,netdev=n0"])
    try:
        g.run("ifconfig eth0 10.0.2.15 netmask 255.255.255.0 up && "
              "route add default gw 10.0.2.2")
        guest_prepare(g, size_mib)
        h2g = guest_download(g, "http://10.0.2.2:%d/big" % srv.server_address[1], size_mib)
        g2h = host_fetch("http://127.0.0.1:%d/big" % port, size_mib)
        return h2g, g2h
    finally:
        g.close()
        srv.shutdown()
        srv.server_close()


def tap_setup():
    r = subprocess.run(["ip", "netns", "add", NETNS], capture_output=True)
    if r.returncode:
        return "ip netns add: " + r.stderr.decode().strip()
    ns = ["ip", "netns", "exec", NETNS]
    for cmd in (["ip", "tuntap", "add", "dev", "vtap0", "mode", "tap"],
                ["ip", "addr", "add", TAP_HOST + "/24", "dev", "vtap0"],
                ["ip", "link", "set", "vtap0", "up"], ["ip", "link", "set", "lo", "up"]):
        r = subprocess.run(ns + cmd, capture_output=True)
        if r.returncode:
            return " ".join(cmd) + ": " + r.stderr.decode().strip()
    return None


def round_tap(binary, size_mib, tmp):
    ns = ["ip", "netns", "exec", NETNS]
    srv = subprocess.Popen(ns + ["python3", "-m", "http.server", "8000", "--bind", TAP_HOST,
                                 "--directory", tmp],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    g = Guest(binary, ["-netdev", "tap,id=n0,ifname=vtap0,script=no,downscript=no",
                       "-device", "virtio-net-device,netdev=n0"], prefix=ns)
    try:
        g.run("ifconfig eth0 %s netmask 255.255.255.0 up" % TAP_GUEST)
        guest_prepare(g, size_mib)
        g.run("for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O /dev/null http://%s:8000/ && "
              "break; sleep 1; done" % TAP_HOST)
        h2g = guest_download(g, "http://%s:8000/big" % TAP_HOST, size_mib)
        g2h = host_fetch("http://%s/big" % TAP_GUEST, size_mib, runner=ns)
        return h2g, g2h
    finally:
        g.close()
        srv.kill()
        srv.wait()


def version(binary):
    try:
        out = subprocess.run([binary, "-version"], capture_output=True, text=True).stdout
        return out.split("\n")[0]
    except OSError:
        return "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=3, help="rounds (default 3)")
    ap.add_argument("--size", type=int, default=32, help="MiB per transfer (default 32)")
    ap.add_argument("--only", choices=("vessel", "qemu"))
    ap.add_argument("--vessel", default=os.path.join(ROOT, "build", "vessel"))
    ap.add_argument("--qemu", default=shutil.which("qemu-system-riscv64") or "")
    ap.add_argument("--no-tap", action="store_true")
    ap.add_argument("--no-user", action="store_true", help="tap rows only")
    args = ap.parse_args()
    testlib.require_riscv_linux()

    emus = [e for e in (("Vessel", args.vessel), ("QEMU", args.qemu))
            if e[1] and (not args.only or e[0].lower() == args.only)]
    tmp = tempfile.mkdtemp()
    with open(os.path.join(tmp, "big"), "wb") as f:
        f.write(b"\0" * (args.size * 1048576))
    backends = [] if args.no_user else [("user", round_user)]
    tap_note = None
    if not args.no_tap:
        tap_note = tap_setup()
        if tap_note is None:
            backends.append(("tap", round_tap))
    results = {}
    try:
        for _ in range(args.n):
            for bname, fn in backends:
                for ename, binary in emus:
                    h2g, g2h = fn(binary, args.size, tmp)
                    results.setdefault((bname, "host -> guest", ename), []).append(h2g)
                    results.setdefault((bname, "guest -> host", ename), []).append(g2h)
                    print("%s %s: host->guest %.1f MB/s, guest->host %.1f MB/s"
                          % (ename, bname, h2g, g2h), file=sys.stderr)
    finally:
        subprocess.run(["ip", "netns", "del", NETNS], capture_output=True)
        shutil.rmtree(tmp)

    cpu = subprocess.run(["sh", "-c", "lscpu | sed -n 's/^Model name: *//p'"],
                         capture_output=True, text=True).stdout.strip()
    print("%s; %s, %d CPUs (nproc); %d rounds, medians; %s MiB per transfer; %s; %s"
          % (datetime.date.today(), cpu, os.cpu_count(), args.n, args.size,
             version(args.vessel), version(args.qemu) if args.qemu else "no QEMU"))
    print()
    print("| back end | direction | Vessel (MB/s) | QEMU (MB/s) | Vessel/QEMU |")
    print("| --- | --- | ---: | ---: | ---: |")
    for bname, _ in backends:
        for d in ("host -> guest", "guest -> host"):
            v = results.get((bname, d, "Vessel"))
            q = results.get((bname, d, "QEMU"))
            vm = statistics.median(v) if v else None
            qm = statistics.median(q) if q else None
            print("| %s | %s | %s | %s | %s |" % (
                bname, d, "%.1f" % vm if vm else "-", "%.1f" % qm if qm else "-",
                "%.2f" % (vm / qm) if vm and qm else "-"))
    if tap_note:
        print("\ntap rows skipped: %s" % tap_note)


if __name__ == "__main__":
    main()
