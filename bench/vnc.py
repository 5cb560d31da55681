#!/usr/bin/env python3
"""VNC full-screen update rate and bytes per frame: Vessel vs QEMU, same guest, same run.

Each emulator boots the riscv64 test guest (-M virt -m 256) with virtio-gpu-device at
1024x768 and -vnc on 127.0.0.1. From its serial shell the guest builds two full-screen
XRGB8888 images (3 MiB each; busybox's machine code as pixels, offset by one pixel between
the two, so every frame changes every pixel and compresses like real content, not like a
solid fill) and then redraws /dev/fb0 with them in turn, one 3 MiB `dd` per frame, for
--seconds. Meanwhile a small RFB 3.8 client (this file; 32 bpp true colour, one encoding)
asks for incremental updates back to back and counts what arrives. Reported per emulator
and encoding:
  - guest frames/s: full-screen redraws the guest completed (its own count);
  - VNC frames/s: pixels received per second / (1024 x 768), i.e. full-screen equivalents;
  - KiB/frame: bytes received per full-screen equivalent (headers included);
  - updates/s: FramebufferUpdate messages per second.
Rounds alternate between the emulators; the tables show medians.

QEMU runs with -device virtio-gpu-device and -global virtio-mmio.force-legacy=false (Linux's
virtio-gpu driver needs a virtio 1.0 device; QEMU's virtio-mmio is legacy by default).

Usage: bench/vnc.py [-n ROUNDS] [--seconds S] [--encodings raw,zrle] [--only vessel|qemu]
                    [--vessel PATH] [--qemu PATH]
Needs build/assets/riscv64/{Image,initrd.gz} (scripts/assets.sh).
"""

import argparse
import datetime
import os
import platform
import re
import socket
import statistics
import struct
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))

import testlib  # noqa: E402

WIDTH, HEIGHT = 1024, 768
FRAME_BYTES = WIDTH * HEIGHT * 4
ENCODINGS = {"raw": 0, "zlib": 6, "zrle": 16}
ENC_DESKTOP_SIZE = -223
ENC_LAST_RECT = -224


class BenchError(Exception):
    pass


class Guest:
    """The test guest at its serial shell with virtio-gpu and a VNC server on display n."""

    def __init__(self, binary, vnc_display, extra=()):
        args = testlib.riscv_linux_args(extra=[
            "-device", "virtio-gpu-device,xres=%d,yres=%d" % (WIDTH, HEIGHT),
            "-vnc", "127.0.0.1:%d" % vnc_display] + list(extra))
        self.vm = testlib.Vm(args, binary=binary)
        self.seq = 0
        try:
            self.vm.expect(testlib.BOOT_MARKER, 400)
            self.vm.expect(r"# ", 60)
        except testlib.VmError as e:
            self.vm.kill()
            raise BenchError(str(e)) from None

    def sh(self, command, timeout=120):
        """Runs command in the guest shell; returns its output."""
        self.seq += 1
        begin, end = "@B%d@" % self.seq, "@E%d@" % self.seq
        self.vm.send("echo '@B''%d@'; %s; echo '@E''%d@'\r" % (self.seq, command, self.seq))
        m = self.vm.expect(r"(?s)%s\r*\n(.*?)%s" % (re.escape(begin), re.escape(end)), timeout)
        return m.group(1).replace("\r", "")

    def prepare(self):
        """Waits for /dev/fb0 and builds the two frame images /tmp/f0 and /tmp/f1."""
        size = self.sh("for i in $(seq 100); do [ -e /dev/fb0 ] && break; sleep 0.1; done; "
                       "cat /sys/class/graphics/fb0/virtual_size").strip()
        if size != "%d,%d" % (WIDTH, HEIGHT):
            raise BenchError("guest framebuffer is %r, not %dx%d" % (size, WIDTH, HEIGHT))
        self.sh("dmesg -n 1; echo 0 > /sys/class/graphics/fbcon/cursor_blink; "
                "while [ $(stat -c %%s /tmp/src 2>/dev/null || echo 0) -lt %d ]; do "
                "cat /bin/busybox >> /tmp/src; done; "
                "head -c %d /tmp/src > /tmp/f0; tail -c +5 /tmp/src | head -c %d > /tmp/f1; "
                "rm /tmp/src" % (FRAME_BYTES + 4, FRAME_BYTES, FRAME_BYTES), timeout=300)

    def start_redraw(self, seconds):
        """Starts the redraw loop in the background; at its end it prints the frames drawn
        and the guest's uptime before and after."""
        # One write per frame: many scanlines per write, which Linux 6.1's fbdev emulation
        # turns into a full-width damage rectangle (see docs/display.md).
        self.vm.send("read t0 x < /proc/uptime; end=$(($(date +%%s) + %d)); n=0; "
                     "while [ $(date +%%s) -lt $end ]; do "
                     "dd if=/tmp/f$((n %% 2)) of=/dev/fb0 bs=%d 2>/dev/null; n=$((n + 1)); "
                     "done; read t1 x < /proc/uptime; echo REDRAWN=$n $t0 $t1\r"
                     % (seconds, FRAME_BYTES))

    def redraw_rate(self, seconds):
        """Frames per second the loop started by start_redraw drew (waits for its end)."""
        m = self.vm.expect(r"REDRAWN=(\d+) ([\d.]+) ([\d.]+)", seconds + 120)
        return int(m.group(1)) / (float(m.group(3)) - float(m.group(2)))

    def close(self):
        self.vm.kill()


class RfbCounter:
    """An RFB 3.8 client without authentication that counts the updates it receives."""

    def __init__(self, port, encoding):
        deadline = time.monotonic() + 20
        while True:
            try:
                self.s = socket.create_connection(("127.0.0.1", port), timeout=20)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise BenchError("no VNC server on port %d" % port) from None
                time.sleep(0.2)
        self.buf = bytearray()
        if not self.recv(12).startswith(b"RFB 003."):
            raise BenchError("not an RFB server")
        self.s.sendall(b"RFB 003.008\n")
        types = self.recv(self.recv(1)[0])
        if 1 not in types:
            raise BenchError("server wants authentication: %r" % types)
        self.s.sendall(b"\x01")
        if struct.unpack(">I", self.recv(4))[0] != 0:
            raise BenchError("security handshake failed")
        self.s.sendall(b"\x01")
        self.width, self.height = struct.unpack(">HH", self.recv(4))
        self.recv(16)
        self.recv(struct.unpack(">I", self.recv(4))[0])
        # 32 bpp, depth 24, little-endian true colour, x8r8g8b8.
        self.s.sendall(struct.pack(">B3xBBBBHHHBBB3x", 0, 32, 24, 0, 1, 255, 255, 255,
                                   16, 8, 0))
        encs = [encoding, ENC_DESKTOP_SIZE, ENC_LAST_RECT]
        self.s.sendall(struct.pack(">BxH%di" % len(encs), 2, len(encs), *encs))
        self.request(incremental=False)

    def recv(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(1 << 20)
            if not chunk:
                raise BenchError("VNC server closed the connection")
            self.buf += chunk
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def request(self, incremental=True):
        self.s.sendall(struct.pack(">BBHHHH", 3, 1 if incremental else 0, 0, 0,
                                   self.width, self.height))

    def read_message(self):
        """Reads one server message: (is a FramebufferUpdate, pixels it carried, bytes)."""
        kind = self.recv(1)[0]
        if kind == 0:
            nrects = struct.unpack(">xH", self.recv(3))[0]
            pixels, size = 0, 4
            for _ in range(nrects):
                x, y, w, h, enc = struct.unpack(">HHHHi", self.recv(12))
                size += 12
                if enc == ENC_LAST_RECT:
                    break
                if enc == ENC_DESKTOP_SIZE:
                    self.width, self.height = w, h
                    continue
                if enc == 0:
                    n = w * h * 4
                elif enc in (6, 16):
                    n = struct.unpack(">I", self.recv(4))[0]
                    size += 4
                else:
                    raise BenchError("server sent encoding %d, not asked for" % enc)
                self.recv(n)
                size += n
                pixels += w * h
            return True, pixels, size
        if kind == 1:
            count = struct.unpack(">xHH", self.recv(5))[1]
            self.recv(count * 6)
            return False, 0, 6 + count * 6
        if kind == 2:
            return False, 0, 1
        if kind == 3:
            n = struct.unpack(">3xI", self.recv(7))[0]
            self.recv(n)
            return False, 0, 8 + n
        raise BenchError("unknown server message %d" % kind)

    def first_frame(self):
        """Waits for the answer to the initial full request and asks for changes only."""
        while not self.read_message()[0]:
            pass
        self.request()

    def count(self, seconds):
        """Counts updates for seconds, asking for the next one as each arrives:
        (pixels, bytes, updates, elapsed seconds)."""
        pixels = size = updates = 0
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            try:
                is_update, p, n = self.read_message()
            except socket.timeout:
                raise BenchError("no update for %g s while the guest redraws"
                                 % self.s.gettimeout()) from None
            if is_update:
                updates += 1
                pixels += p
                self.request()
            size += n
        return pixels, size, updates, time.monotonic() - start

    def close(self):
        self.s.close()


def free_vnc_display():
    for n in range(60, 99):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", 5900 + n))
                return n
            except OSError:
                continue
    raise BenchError("no free VNC port")


def measure(binary, extra, encoding, seconds):
    """One boot: the guest redraws for `seconds` while the client counts."""
    n = free_vnc_display()
    guest = Guest(binary, n, extra)
    try:
        guest.prepare()
        client = RfbCounter(5900 + n, ENCODINGS[encoding])
        try:
            client.first_frame()
            # The client counts inside the redraw: 1 s to settle, 2 s of margin at the end
            # (the loop's end is in whole seconds of the guest clock).
            guest.start_redraw(seconds + 3)
            client.count(1)
            pixels, size, updates, elapsed = client.count(seconds)
        finally:
            client.close()
        guest_fps = guest.redraw_rate(seconds + 3)
    finally:
        guest.close()
    vnc_frames = pixels / (WIDTH * HEIGHT)
    return {
        "guest_fps": guest_fps,
        "vnc_fps": vnc_frames / elapsed,
        "kib_per_frame": size / vnc_frames / 1024 if vnc_frames else float("nan"),
        "updates_s": updates / elapsed,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=3, help="rounds (default 3)")
    ap.add_argument("--seconds", type=int, default=20, help="redraw time per run")
    ap.add_argument("--encodings", default="raw,zrle",
                    help="comma-separated, of %s" % ",".join(ENCODINGS))
    ap.add_argument("--only", choices=("vessel", "qemu"))
    ap.add_argument("--vessel", default=testlib.VESSEL)
    ap.add_argument("--qemu", default=testlib.QEMU_RISCV)
    args = ap.parse_args()
    encodings = args.encodings.split(",")
    for e in encodings:
        if e not in ENCODINGS:
            ap.error("unknown encoding %r" % e)
    for path in (testlib.RISCV_KERNEL, testlib.RISCV_INITRD):
        if not os.path.exists(path):
            sys.exit("%s is missing: run scripts/assets.sh" % path)
    emulators = [("vessel", args.vessel, []),
                 ("qemu", args.qemu, ["-global", "virtio-mmio.force-legacy=false"])]
    emulators = [e for e in emulators if args.only in (None, e[0])]
    results = {(name, enc): [] for name, _, _ in emulators for enc in encodings}
    try:
        for r in range(args.n):
            for enc in encodings:
                for name, binary, extra in emulators:
                    m = measure(binary, extra, enc, args.seconds)
                    results[(name, enc)].append(m)
                    print("round %d %-6s %-4s guest %.1f frames/s, vnc %.1f frames/s, "
                          "%.0f KiB/frame, %.1f updates/s" % (
                              r + 1, name, enc, m["guest_fps"], m["vnc_fps"],
                              m["kib_per_frame"], m["updates_s"]), file=sys.stderr)
    except BenchError as e:
        sys.exit("bench/vnc.py: %s" % e)
    print("%s, %s, %d rounds of %d s, medians" % (
        datetime.date.today().isoformat(), platform.processor() or platform.machine(),
        args.n, args.seconds))
    print()
    print("| emulator | encoding | guest frames/s | VNC frames/s | KiB/frame | updates/s |")
    print("|---|---|---|---|---|---|")
    for (name, enc), ms in results.items():
        med = {k: statistics.median(m[k] for m in ms) for k in ms[0]}
        print("| %s | %s | %.1f | %.1f | %.0f | %.1f |" % (
            name, enc, med["guest_fps"], med["vnc_fps"], med["kib_per_frame"],
            med["updates_s"]))


if __name__ == "__main__":
    main()
