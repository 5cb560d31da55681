"""Display and input on the x86 pc board under the interpreter: the tiny kernel (bochs DRM,
fbcon, atkbd and psmouse built in) with -device bochs-display or -device VGA shows its fb
console on a QMP screendump and through a real VNC client (vncsnapshot), the colour bands it
paints into /dev/fb0 are on both, and keys typed over RFB reach a shell on tty1 through the
PS/2 keyboard behind the i8042. The same holds for the SDL window under Xvfb: xwd captures the
fb console and the bands, and keys typed into the window with xdotool reach the tty1 shell.
Screenshots are kept under build/test-artifacts/display/.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "monitor"))

import testlib  # noqa: E402
import test_display as td  # noqa: E402
from qmpclient import Qmp, connect_unix  # noqa: E402
from testlib import Vm  # noqa: E402

TIMEOUT = 900
PARALLEL = False
BOOT_TIMEOUT = 400

X86_ASSETS = os.path.join(os.path.dirname(testlib.ROOT), "shared", "assets", "x86_64")
X86_ASSETS = os.environ.get("VESSEL_TEST_X86_ASSETS", X86_ASSETS)
TINY_BZIMAGE = os.path.join(X86_ASSETS, "tiny-bzImage")
INITRD = os.path.join(testlib.ASSETS, "x86_64", "initrd.gz")


class PcGuest(td.Guest):
    """The tiny kernel on -M pc -accel tcg at its serial shell, with a display device."""

    def __init__(self, display="bochs-display", extra=(), env=None):
        testlib.require_file(TINY_BZIMAGE, "the shared x86_64 assets")
        testlib.require_file(INITRD, "run scripts/assets.sh")
        self.dir = tempfile.mkdtemp(prefix="vessel-pc-display-")
        sock = os.path.join(self.dir, "qmp.sock")
        args = ["-M", "pc", "-accel", "tcg", "-cpu", "Skylake-Client", "-m", "256",
                "-nographic", "-kernel", TINY_BZIMAGE, "-initrd", INITRD,
                "-append", "console=tty0 console=ttyS0",
                "-device", display, "-qmp", "unix:%s,server=on,wait=off" % sock] + list(extra)
        self.vm = Vm(args, env=env)
        self.vm.expect(testlib.BOOT_MARKER, BOOT_TIMEOUT)
        self.vm.expect(r"# ", 60)
        self.qmp = Qmp(connect_unix(sock))
        self.seq = 0


def check_fbcon(path):
    """Light text on black at the top of a WIDTH x HEIGHT screen."""
    width, height, rows = td.read_png(path)
    assert (width, height) == (td.WIDTH, td.HEIGHT), (width, height)
    lit = sum(1 for row in rows[:400] for x in range(0, width * 3, 3) if row[x] > 128)
    dark = sum(1 for row in rows[:400] for x in range(0, width * 3, 3) if row[x] < 32)
    assert 2000 < lit < dark, (lit, dark)


def run_display(display, name):
    guest = PcGuest(display)
    try:
        guest.wait_fb()
        out = guest.sh("cat /sys/class/graphics/fb0/name")
        assert "bochs" in out, out
        path = td.artifact("pc-%s-fbcon.png" % name)
        guest.qmp.ok("screendump", {"filename": path, "format": "png"})
        check_fbcon(path)
        guest.paint_bands()
        path = td.artifact("pc-%s-bands.png" % name)
        guest.qmp.ok("screendump", {"filename": path, "format": "png"})
        td.check_bands(td.read_png(path))
    finally:
        guest.close()


def test_bochs_display_screendump():
    run_display("bochs-display", "bochs")


def test_vga_screendump():
    run_display("VGA", "vga")


def test_ps2_keys_and_vnc_snapshot():
    """Keys typed over RFB go through the i8042 to a shell on tty1; vncsnapshot sees the
    bands painted into the bochs framebuffer."""
    n = td.free_vnc_display()
    guest = PcGuest(extra=["-vnc", "127.0.0.1:%d" % n])
    try:
        out = guest.sh("cat /proc/bus/input/devices")
        assert "AT Translated Set 2 keyboard" in out, out
        assert "PS/2" in out and "Mouse" in out, out
        guest.sh("(setsid sh -c 'exec sh </dev/tty1 >/dev/ttyS0 2>&1' &)")
        time.sleep(1)
        rfb = td.Rfb(5900 + n)
        assert (rfb.width, rfb.height) == (td.WIDTH, td.HEIGHT)
        rfb.type("echo PS2.Typed.OK\n")
        guest.vm.expect(r"PS2\.Typed\.OK", 60)
        rfb.close()
        if not shutil.which("vncsnapshot"):
            return
        guest.paint_bands()
        path = td.artifact("pc-vnc.jpg")
        subprocess.run(["vncsnapshot", "-quiet", "-allowblank", "127.0.0.1:%d" % n, path],
                       check=True, timeout=60)
        td.check_bands(td.read_image(path))
    finally:
        guest.close()


def xwd_window(display, title, name):
    """Captures the X window titled title on display into artifact name: (w, h, rows)."""
    path = td.artifact(name)
    with open(path, "wb") as f:
        subprocess.run(["xwd", "-name", title, "-silent", "-display", display],
                       stdout=f, check=True, timeout=30)
    return td.read_image(path)


def test_sdl_window_and_keys_under_xvfb():
    """-display sdl on the pc board: the SDL window shows the fb console and the painted
    bands, and keys typed into it with xdotool reach a shell on tty1 through the i8042."""
    for tool in ("Xvfb", "xwd", "xdotool"):
        if not shutil.which(tool):
            raise testlib.Skip("%s is not installed" % tool)
    display = ":%d" % (td.free_vnc_display() + 50)
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "2048x1536x24", "-nolisten",
                             "tcp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    guest = None
    try:
        time.sleep(1)
        env = dict(os.environ, DISPLAY=display, SDL_VIDEODRIVER="x11")
        guest = PcGuest(extra=["-display", "sdl", "-name", "pcsdl"], env=env)
        guest.wait_fb()
        title = "Vessel (pcsdl)"
        # The fb console's boot messages: light text on black in the window.
        width, height, rows = xwd_window(display, title, "pc-sdl-fbcon.xwd")
        assert (width, height) == (td.WIDTH, td.HEIGHT), (width, height)
        lit = sum(1 for row in rows[:400] for x in range(0, width * 3, 3) if row[x] > 128)
        dark = sum(1 for row in rows[:400] for x in range(0, width * 3, 3) if row[x] < 32)
        assert 2000 < lit < dark, (lit, dark)
        # A shell reading the virtual terminal, answering on the serial port; the keys go to
        # the focused SDL window through XTEST, as a person's would.
        guest.sh("(setsid sh -c 'exec sh </dev/tty1 >/dev/ttyS0 2>&1' &)")
        time.sleep(1)
        xenv = dict(os.environ, DISPLAY=display)
        wid = subprocess.run(["xdotool", "search", "--sync", "--name", "^Vessel \\(pcsdl\\)$"],
                             env=xenv, check=True, timeout=30, stdout=subprocess.PIPE,
                             text=True).stdout.split()[0]
        subprocess.run(["xdotool", "windowfocus", "--sync", wid], env=xenv, check=True,
                       timeout=30)
        subprocess.run(["xdotool", "type", "--delay", "60", "echo SDL.Typed.OK"], env=xenv,
                       check=True, timeout=60)
        subprocess.run(["xdotool", "key", "Return"], env=xenv, check=True, timeout=30)
        guest.vm.expect(r"SDL\.Typed\.OK", 60)
        guest.paint_bands()
        time.sleep(1)
        image = xwd_window(display, title, "pc-sdl-bands.xwd")
        assert image[:2] == (td.WIDTH, td.HEIGHT), image[:2]
        td.check_bands(image)
    finally:
        if guest:
            guest.close()
        xvfb.kill()
        xvfb.wait()
