"""Helpers shared by the vessel-img interop tests (no tests of its own).

vessel-img is build/vessel-img, or $VESSEL_IMG (set VESSEL_IMG=qemu-img to check the tests
themselves against the reference). qemu-img and qemu-io build and inspect the images.
"""

import json
import os
import shutil
import subprocess
import tempfile

from testlib import BUILD, Skip

VESSEL_IMG = os.environ.get("VESSEL_IMG") or os.path.join(BUILD, "vessel-img")
TIMEOUT = 120


def tools():
    """(vessel-img, qemu-img, qemu-io) paths; skips when one is missing."""
    vimg = VESSEL_IMG if os.sep in VESSEL_IMG else shutil.which(VESSEL_IMG)
    if not vimg or not os.path.exists(vimg):
        raise Skip("vessel-img not built (make build/vessel-img)")
    qimg, qio = shutil.which("qemu-img"), shutil.which("qemu-io")
    if not qimg or not qio:
        raise Skip("qemu-img / qemu-io not installed (Debian: qemu-utils)")
    return vimg, qimg, qio


class Workdir:
    """A temporary directory with helpers that run the three tools inside it."""

    def __init__(self):
        self.vimg, self.qimg, self.qio = tools()
        self.dir = tempfile.mkdtemp(prefix="vessel-img-test-")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def path(self, name):
        return os.path.join(self.dir, name)

    def run(self, argv, expect=0):
        """Runs argv in the directory; returns (status, stdout, stderr). When expect is not
        None, a different exit status fails the test with the command's output."""
        proc = subprocess.run([str(a) for a in argv], cwd=self.dir, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=TIMEOUT)
        out = proc.stdout.decode("utf-8", "replace")
        err = proc.stderr.decode("utf-8", "replace")
        if expect is not None and proc.returncode != expect:
            raise AssertionError("%s: exit status %d, expected %d\nstdout:\n%s\nstderr:\n%s"
                                 % (" ".join(map(str, argv)), proc.returncode, expect, out, err))
        return proc.returncode, out, err

    def vessel(self, *args, expect=0):
        return self.run([self.vimg] + list(args), expect)

    def qemu(self, *args, expect=0):
        return self.run([self.qimg] + list(args), expect)

    def qemu_io(self, image, fmt, commands):
        """Runs qemu-io commands (e.g. "write -P 0x11 0 64k") on image."""
        argv = [self.qio, "-f", fmt]
        for c in commands:
            argv += ["-c", c]
        self.run(argv + [image])

    def raw_of(self, tool, image, fmt=None, name=None):
        """The image's guest-visible content as bytes, converted to raw by tool."""
        out = name or "%s.%s.raw" % (os.path.basename(image), os.path.basename(tool))
        argv = [tool, "convert"] + (["-f", fmt] if fmt else []) + ["-O", "raw", image, out]
        self.run(argv)
        with open(self.path(out), "rb") as f:
            data = f.read()
        os.unlink(self.path(out))
        return data

    def assert_reads_same(self, image, fmt=None):
        """vessel-img and qemu-img read image to the same bytes."""
        want = self.raw_of(self.qimg, image, fmt)
        got = self.raw_of(self.vimg, image, fmt)
        if got != want:
            assert_same_bytes(got, want, "%s read by vessel-img" % image)

    def qemu_check_clean(self, image, fmt="qcow2"):
        """qemu-img check finds no errors and no leaks."""
        status, out, err = self.qemu("check", "-f", fmt, "--output=json", image, expect=None)
        if status != 0:
            raise AssertionError("qemu-img check %s: exit status %d\n%s%s"
                                 % (image, status, out, err))
        report = json.loads(out)
        for key in ("corruptions", "leaks", "check-errors"):
            if report.get(key, 0):
                raise AssertionError("qemu-img check %s: %s=%d" % (image, key, report[key]))

    def qemu_equal(self, image, reference, fmt="qcow2", ref_fmt="raw"):
        """qemu-img compare finds image's content equal to reference."""
        status, out, err = self.qemu("compare", "-f", fmt, "-F", ref_fmt, image, reference,
                                     expect=None)
        if status != 0:
            raise AssertionError("qemu-img compare %s %s: exit status %d\n%s%s"
                                 % (image, reference, status, out, err))

    def info_json(self, tool, image, *extra):
        _, out, _ = self.run([tool, "info", "--output=json"] + list(extra) + [image])
        return json.loads(out)


def assert_same_bytes(got, want, what):
    if len(got) != len(want):
        raise AssertionError("%s: %d bytes, expected %d" % (what, len(got), len(want)))
    for i in range(0, len(got), 4096):
        if got[i:i + 4096] != want[i:i + 4096]:
            off = i + next(j for j in range(4096) if got[i + j] != want[i + j])
            raise AssertionError("%s: first difference at byte %d (0x%02x, expected 0x%02x)"
                                 % (what, off, got[off], want[off]))
    raise AssertionError("%s: bytes differ" % what)


def pattern_writes(size, seed=1):
    """qemu-io write commands that leave a recognisable mix of data, zeroes and holes in an
    image of size bytes (size a multiple of 1 MiB): patterned runs at unaligned offsets, an
    explicit zero range and untouched gaps."""
    mib = 1024 * 1024
    cmds = ["write -P 0x%02x 0 %d" % ((seed * 17) & 0xff, 192 * 1024),
            "write -P 0x%02x %d 3000" % ((seed * 31 + 5) & 0xff, 300 * 1024 + 512),
            "write -z %d %d" % (mib, 128 * 1024)]
    if size >= 4 * mib:
        cmds += ["write -P 0x%02x %d %d" % ((seed * 7 + 3) & 0xff, 2 * mib - 4096, 8192),
                 "write -P 0x%02x %d 65536" % ((seed * 13 + 1) & 0xff, size - 65536)]
    return cmds


def write_file(path, data):
    with open(path, "wb") as f:
        f.write(data)


def read_file(path):
    with open(path, "rb") as f:
        return f.read()
