"""Display and input end to end: Linux 6.1 on -M virt with virtio-gpu-device (fb console and
/dev/fb0), virtio-keyboard-device and virtio-tablet-device, seen through QMP screendump, a
real VNC client (vncsnapshot), a small RFB client typing keys, and the SDL window under Xvfb.

The guest paints three full-width colour bands into /dev/fb0 from its serial shell; every
capture must show them. Screenshots are kept under build/test-artifacts/display/.
The emulator is build/vessel, or $VESSEL_TEST_EMULATOR (qemu-system-riscv64 checks the test).
"""

import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "monitor"))

import testlib  # noqa: E402
from qmpclient import Qmp, connect_unix, connect_tcp  # noqa: E402
from testlib import Vm  # noqa: E402

TIMEOUT = 600
PARALLEL = False
ARTIFACTS = os.path.join(testlib.BUILD, "test-artifacts", "display")
WIDTH, HEIGHT = 1024, 768
# (red, green, blue) of the bands the guest paints, top to bottom, 256 rows each.
BANDS = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
TOLERANCE = 40


def free_vnc_display():
    """A VNC display number whose port (5900+N) is free now."""
    for n in range(40, 90):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", 5900 + n))
                return n
            except OSError:
                continue
    raise testlib.Skip("no free VNC port")


class Guest:
    """Linux at its serial shell with the display devices, a QMP socket and extra args."""

    def __init__(self, extra=(), env=None):
        testlib.require_riscv_linux()
        self.dir = tempfile.mkdtemp(prefix="vessel-display-")
        sock = os.path.join(self.dir, "qmp.sock")
        args = ["-device", "virtio-gpu-device,xres=%d,yres=%d" % (WIDTH, HEIGHT),
                "-device", "virtio-keyboard-device", "-device", "virtio-tablet-device",
                "-qmp", "unix:%s,server=on,wait=off" % sock] + list(extra)
        if os.path.basename(testlib.emulator()).startswith("qemu"):
            # Linux's virtio-gpu needs virtio 1.0; QEMU's virtio-mmio is legacy by default.
            args += ["-global", "virtio-mmio.force-legacy=false"]
        self.vm = Vm(testlib.riscv_linux_args(append="console=tty0 console=ttyS0", extra=args), env=env)
        self.vm.expect(testlib.BOOT_MARKER, 400)
        self.vm.expect(r"# ", 60)
        self.qmp = Qmp(connect_unix(sock))
        self.seq = 0

    def sh(self, command, timeout=120):
        self.seq += 1
        begin, end = "@B%d@" % self.seq, "@E%d@" % self.seq
        self.vm.send("echo '@B''%d@'; %s; echo '@E''%d@'\r" % (self.seq, command, self.seq))
        m = self.vm.expect(r"(?s)%s\r*\n(.*?)%s" % (re.escape(begin), re.escape(end)), timeout)
        return m.group(1).replace("\r", "")

    def wait_fb(self):
        out = self.sh("for i in $(seq 100); do [ -e /dev/fb0 ] && break; sleep 0.1; done; "
                      "cat /sys/class/graphics/fb0/virtual_size")
        # Kernel messages on the console (a late "tsc: Refined TSC ..." on pc) may interleave,
        # and so may a prompt with the shell's cursor-position query (ESC [6n) for keys typed
        # before.
        out = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out)
        sizes = re.findall(r"(?m)(?:^|\s)(\d+,\d+)$", out)
        assert sizes == ["%d,%d" % (WIDTH, HEIGHT)], out

    def paint_bands(self):
        """Fills /dev/fb0 with BANDS (XRGB8888 little-endian: bytes B, G, R, X)."""
        self.wait_fb()
        # Keep the kernel and the fb console cursor from drawing over the pattern.
        self.sh("dmesg -n 1; echo 0 > /sys/class/graphics/fbcon/cursor_blink")
        for i, (r, g, b) in enumerate(BANDS):
            self.sh("printf '\\%03o\\%03o\\%03o\\000' > /tmp/b%d; "
                    "for k in $(seq 18); do cat /tmp/b%d /tmp/b%d > /tmp/t; mv /tmp/t /tmp/b%d; "
                    "done" % (b, g, r, i, i, i, i))
        # One write per band, each many scanlines long: Linux 6.1's fbdev emulation turns a
        # write that covers exactly one whole scanline (what cat's 4 KiB writes are at
        # 1024x32bpp) into an empty damage rectangle, and such rows never reach the device.
        for i in range(len(BANDS)):
            self.sh("dd if=/tmp/b%d of=/dev/fb0 bs=1048576 seek=%d conv=notrunc 2>/dev/null"
                    % (i, i))
        time.sleep(1)

    def close(self):
        self.vm.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def read_png(path):
    """Decodes an 8-bit RGB, non-interlaced PNG (what screendump writes): (w, h, rows).
    Vessel writes filter 0 only; QEMU uses the others too."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc, = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + body) & 0xffffffff == crc, "bad CRC in %r" % kind
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert (depth, ctype) == (8, 2), "not 8-bit RGB"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = 1 + width * 3
    rows, prev = [], bytes(width * 3)
    for y in range(height):
        kind, line = raw[y * stride], bytearray(raw[y * stride + 1:(y + 1) * stride])
        assert kind <= 4, "bad PNG filter %d" % kind
        for i in range(len(line) if kind else 0):
            a = line[i - 3] if i >= 3 else 0
            b = prev[i]
            c = prev[i - 3] if i >= 3 else 0
            if kind == 1:
                pred = a
            elif kind == 2:
                pred = b
            elif kind == 3:
                pred = (a + b) // 2
            else:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
            line[i] = (line[i] + pred) & 0xff
        rows.append(bytes(line))
        prev = rows[-1]
    return width, height, rows


def parse_ppm(data):
    """A binary 8-bit PPM (P6) as (w, h, pixels); '#' comments may sit between header fields
    (ImageMagick writes one for XWD input)."""
    fields, pos = [], 0
    while len(fields) < 4:
        m = re.compile(rb"\s*(?:#[^\n]*\n\s*)*(\S+)").match(data, pos)
        assert m, "truncated PPM header"
        fields.append(m.group(1))
        pos = m.end()
    assert fields[0] == b"P6" and fields[3] == b"255", fields
    width, height = int(fields[1]), int(fields[2])
    pix = data[pos + 1:pos + 1 + width * height * 3]
    assert len(pix) == width * height * 3, "short PPM"
    return width, height, pix


def read_image(path):
    """Any image ImageMagick reads (JPEG, XWD, PNG) as (w, h, rows of RGB bytes)."""
    if not shutil.which("convert"):
        raise testlib.Skip("ImageMagick (convert) is not installed")
    ppm = subprocess.run(["convert", path, "-depth", "8", "ppm:-"], check=True,
                         stdout=subprocess.PIPE).stdout
    width, height, pix = parse_ppm(ppm)
    return width, height, [pix[y * width * 3:(y + 1) * width * 3] for y in range(height)]


def region_mean(rows, x0, y0, x1, y1):
    total, n = [0, 0, 0], 0
    for y in range(y0, y1, 4):
        row = rows[y]
        for x in range(x0, x1, 4):
            for c in range(3):
                total[c] += row[x * 3 + c]
            n += 1
    return tuple(t / n for t in total)


def check_bands(image, ox=0, oy=0):
    """The three bands are where the guest painted them (image offset by ox, oy)."""
    width, height, rows = image
    assert width >= ox + WIDTH and height >= oy + HEIGHT, (width, height)
    for i, want in enumerate(BANDS):
        got = region_mean(rows, ox + 64, oy + i * 256 + 32, ox + WIDTH - 64, oy + i * 256 + 224)
        assert all(abs(g - w) <= TOLERANCE for g, w in zip(got, want)), \
            "band %d: got %s, want %s" % (i, got, want)


def artifact(name):
    os.makedirs(ARTIFACTS, exist_ok=True)
    return os.path.join(ARTIFACTS, name)


def test_fb_console_on_screendump():
    """The fb console's boot messages are on the display: light text on black."""
    guest = Guest()
    try:
        guest.wait_fb()
        path = artifact("fbcon.png")
        guest.qmp.ok("screendump", {"filename": path, "format": "png"})
        width, height, rows = read_png(path)
        assert (width, height) == (WIDTH, HEIGHT)
        lit = sum(1 for row in rows[:400] for x in range(0, WIDTH * 3, 3) if row[x] > 128)
        dark = sum(1 for row in rows[:400] for x in range(0, WIDTH * 3, 3) if row[x] < 32)
        # Text covers a few percent of the top of the screen, the rest is background.
        assert 2000 < lit < dark, (lit, dark)
        ppm = artifact("fbcon.ppm")
        guest.qmp.ok("screendump", {"filename": ppm})
        assert open(ppm, "rb").read(15).startswith(b"P6\n%d %d\n" % (WIDTH, HEIGHT))
        r = guest.qmp.cmd("screendump", {"filename": path, "format": "bmp"})
        assert "error" in r, r
    finally:
        guest.close()


class Rfb:
    """A minimal RFB 3.8 client (no authentication) that sends key events."""

    def __init__(self, port):
        self.s = connect_tcp(port)
        self.s.settimeout(20)
        version = self.recv(12)
        assert version.startswith(b"RFB 003."), version
        self.s.sendall(b"RFB 003.008\n")
        count = self.recv(1)[0]
        types = self.recv(count)
        assert 1 in types, "server offers no 'None' security: %r" % types
        self.s.sendall(b"\x01")
        assert struct.unpack(">I", self.recv(4))[0] == 0, "security handshake failed"
        self.s.sendall(b"\x01")                      # ClientInit: shared
        self.width, self.height = struct.unpack(">HH", self.recv(4))
        self.recv(16)
        name_len, = struct.unpack(">I", self.recv(4))
        self.name = self.recv(name_len)

    def recv(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            assert chunk, "server closed the connection"
            buf += chunk
        return buf

    def key(self, keysym, down):
        self.s.sendall(struct.pack(">BBxxI", 4, 1 if down else 0, keysym))
        time.sleep(0.02)

    def type(self, text):
        for ch in text:
            if ch == "\n":
                sym, shift = 0xff0d, False
            else:
                sym, shift = ord(ch), ch.isupper()
            if shift:
                self.key(0xffe1, True)
            self.key(sym, True)
            self.key(sym, False)
            if shift:
                self.key(0xffe1, False)

    def close(self):
        self.s.close()


def test_vnc_snapshot_and_keys():
    """vncsnapshot captures the painted bands; keys typed over RFB reach a shell on tty1."""
    if not shutil.which("vncsnapshot"):
        raise testlib.Skip("vncsnapshot is not installed")
    n = free_vnc_display()
    guest = Guest(extra=["-vnc", "127.0.0.1:%d" % n])
    try:
        info = guest.qmp.ok("query-vnc")
        assert info["enabled"] and info["service"] == str(5900 + n), info
        assert info["auth"] == "none"
        # A shell reading the virtual terminal, answering on the serial port.
        guest.sh("(setsid sh -c 'exec sh </dev/tty1 >/dev/ttyS0 2>&1' &)")
        time.sleep(1)
        rfb = Rfb(5900 + n)
        assert (rfb.width, rfb.height) == (WIDTH, HEIGHT)
        clients = guest.qmp.ok("query-vnc")["clients"]
        assert len(clients) == 1 and clients[0]["host"] == "127.0.0.1", clients
        rfb.type("echo VNC.typed.ok\n")
        guest.vm.expect(r"VNC\.typed\.ok", 30)
        rfb.close()
        guest.paint_bands()
        path = artifact("vnc.jpg")
        subprocess.run(["vncsnapshot", "-quiet", "-allowblank", "127.0.0.1:%d" % n, path],
                       check=True, timeout=60)
        check_bands(read_image(path))
    finally:
        guest.close()


def test_vnc_password():
    """password=on: query-vnc says vnc auth; set_password works only with a VNC password."""
    n = free_vnc_display()
    guest = Guest(extra=["-vnc", "127.0.0.1:%d,password=on" % n])
    try:
        assert guest.qmp.ok("query-vnc")["auth"] == "vnc"
        guest.qmp.ok("set_password", {"protocol": "vnc", "password": "secret"})
        r = guest.qmp.cmd("set_password", {"protocol": "spice", "password": "x"})
        assert "error" in r, r
        s = connect_tcp(5900 + n)
        s.settimeout(10)
        s.recv(12)
        s.sendall(b"RFB 003.008\n")
        count = s.recv(1)[0]
        assert 2 in s.recv(count), "VNC authentication not offered"
        s.close()
    finally:
        guest.close()


def test_sdl_window_under_xvfb():
    """The SDL window shows the painted bands; xwd captures it from the Xvfb screen."""
    for tool in ("Xvfb", "xwd"):
        if not shutil.which(tool):
            raise testlib.Skip("%s is not installed" % tool)
    display = ":%d" % (free_vnc_display() + 50)
    # Large enough for the window wherever the X server puts it (no window manager here).
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "2048x1536x24", "-nolisten",
                             "tcp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    guest = None
    try:
        time.sleep(1)
        env = dict(os.environ, DISPLAY=display, SDL_VIDEODRIVER="x11")
        guest = Guest(extra=["-display", "sdl", "-name", "sdltest"], env=env)
        guest.paint_bands()
        time.sleep(1)
        path = artifact("sdl.xwd")
        # The window is found by its title, so this also checks the title.
        with open(path, "wb") as f:
            subprocess.run(["xwd", "-name", "Vessel (sdltest)", "-silent", "-display", display],
                           stdout=f, check=True, timeout=30)
        image = read_image(path)
        assert image[:2] == (WIDTH, HEIGHT), image[:2]
        check_bands(image)
    finally:
        if guest:
            guest.close()
        xvfb.kill()
        xvfb.wait()


def test_sdl_without_display_fails():
    """-display sdl with no X or Wayland display: one error line and exit status 1."""
    binary = testlib.require_emulator()
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")}
    r = subprocess.run([binary, "-M", "virt", "-m", "64", "-display", "sdl", "-serial", "none",
                        "-monitor", "none"], env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30, text=True)
    if "not compiled in" in r.stdout:
        raise testlib.Skip("built without SDL")
    lines = r.stdout.strip().splitlines()
    assert r.returncode == 1, (r.returncode, r.stdout)
    # "Could not initialize SDL: no usable display ...", or "Could not load SDL" without it.
    assert len(lines) == 1 and "Could not" in lines[0] and "SDL" in lines[0], r.stdout
