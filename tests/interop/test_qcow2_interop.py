"""qcow2 driver interop with QEMU 7.2, through build/vessel-img.

Images qemu-img/qemu-io write (compat 0.10 and 1.1, cluster sizes 512..2M, refcount_bits 1..64,
compressed clusters, backing chains, internal snapshots) are read by our driver (vessel-img
convert to raw) and must equal what qemu-img itself reads, byte for byte. Images our driver
writes (vessel-img convert -O qcow2, with and without -c, onto a backing file) must pass
`qemu-img check` and compare equal with `qemu-img compare`.
"""

import os
import shutil
import subprocess
import tempfile

from testlib import BUILD, Skip

VESSEL_IMG = os.path.join(BUILD, "vessel-img")
TIMEOUT = 300


class Tools:
    def __init__(self):
        self.qimg, self.qio = shutil.which("qemu-img"), shutil.which("qemu-io")
        if not os.path.exists(VESSEL_IMG):
            raise Skip("build/vessel-img not built")
        if not self.qimg or not self.qio:
            raise Skip("qemu-img / qemu-io not installed (Debian: qemu-utils)")
        self.dir = tempfile.mkdtemp(prefix="vessel-qcow2-interop-")

    def path(self, name):
        return os.path.join(self.dir, name)

    def run(self, *argv):
        proc = subprocess.run(list(argv), cwd=self.dir, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=TIMEOUT)
        if proc.returncode != 0:
            raise AssertionError("%s failed (%d):\n%s" % (" ".join(argv), proc.returncode,
                                                         proc.stdout.decode(errors="replace")))
        return proc.stdout.decode(errors="replace")

    def qemu_io(self, image, *cmds, fmt="qcow2"):
        argv = [self.qio, "-f", fmt]
        for c in cmds:
            argv += ["-c", c]
        self.run(*(argv + [image]))

    def assert_reads_like_qemu(self, image):
        """Our driver's view of image (all of it, through backing files) equals QEMU's."""
        ours, theirs = self.path("ours.raw"), self.path("theirs.raw")
        for p in (ours, theirs):
            if os.path.exists(p):
                os.unlink(p)
        self.run(VESSEL_IMG, "convert", "-O", "raw", image, ours)
        self.run(self.qimg, "convert", "-O", "raw", image, theirs)
        with open(ours, "rb") as a, open(theirs, "rb") as b:
            while True:
                x, y = a.read(1 << 20), b.read(1 << 20)
                if x != y:
                    raise AssertionError("%s reads differently through Vessel" % image)
                if not x:
                    break

    def assert_clean(self, image):
        self.run(self.qimg, "check", "-q", image)

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


PATTERN_CMDS = [
    "write -P 0x11 0 1000",
    "write -P 0x22 65000 200000",
    "write -P 0x33 3M 1536k",
    "write -z 3300k 64k",
    "discard 3400k 32k",
    "write -P 0x44 7M 4096",
]


def test_reads_qemu_images_every_layout():
    t = Tools()
    try:
        for opts in ["compat=0.10", "compat=1.1", "cluster_size=512", "cluster_size=2M",
                     "cluster_size=4k,refcount_bits=1", "cluster_size=8k,refcount_bits=2",
                     "refcount_bits=4", "refcount_bits=8", "refcount_bits=32",
                     "cluster_size=1k,refcount_bits=64", "lazy_refcounts=on",
                     "preallocation=metadata"]:
            img = t.path("img.qcow2")
            t.run(t.qimg, "create", "-q", "-f", "qcow2", "-o", opts, img, "8M")
            t.qemu_io(img, *PATTERN_CMDS)
            t.assert_reads_like_qemu(img)
    finally:
        t.close()


def test_reads_compressed_and_writes_compressed():
    t = Tools()
    try:
        raw = t.path("src.raw")
        with open(raw, "wb") as f:
            for i in range(256):
                f.write((b"vessel block %d " % i) * 300)
            f.write(os.urandom(300000))
            f.write(b"\0" * (-f.tell() % 512))
        for cs in ["512", "4k", "64k", "2M"]:
            theirs = t.path("theirs.qcow2")
            t.run(t.qimg, "convert", "-c", "-O", "qcow2", "-o", "cluster_size=" + cs, raw, theirs)
            t.assert_reads_like_qemu(theirs)
            ours = t.path("ours-c.qcow2")
            if os.path.exists(ours):
                os.unlink(ours)
            t.run(VESSEL_IMG, "convert", "-c", "-f", "raw", "-O", "qcow2", "-o",
                  "cluster_size=" + cs, raw, ours)
            t.assert_clean(ours)
            t.run(t.qimg, "compare", "-q", "-f", "qcow2", "-F", "raw", ours, raw)
    finally:
        t.close()


def test_backing_chain_and_snapshots():
    t = Tools()
    try:
        base, mid, top = t.path("base.qcow2"), t.path("mid.qcow2"), t.path("top.qcow2")
        t.run(t.qimg, "create", "-q", "-f", "qcow2", "-o", "compat=0.10", base, "8M")
        t.qemu_io(base, "write -P 0x55 0 8M")
        t.run(t.qimg, "create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", mid)
        t.qemu_io(mid, "write -P 0x66 1M 1M", "write -z 4M 512k")
        t.run(t.qimg, "create", "-q", "-f", "qcow2", "-o", "cluster_size=4k", "-b",
              "mid.qcow2", "-F", "qcow2", top, "12M")
        t.qemu_io(top, "write -P 0x77 1536k 5000", "write -P 0x78 9M 1M")
        t.assert_reads_like_qemu(top)
        t.run(t.qimg, "snapshot", "-c", "snap1", top)
        t.qemu_io(top, "write -P 0x79 0 2M")
        t.run(t.qimg, "snapshot", "-c", "snap2", top)
        t.qemu_io(top, "write -P 0x7a 1M 64k")
        t.assert_reads_like_qemu(top)
        # Our writes onto a chain: convert into a new overlay of the same base.
        out = t.path("out.qcow2")
        t.run(VESSEL_IMG, "convert", "-O", "qcow2", "-B", "mid.qcow2", "-o",
              "backing_fmt=qcow2", top, out)
        t.assert_clean(out)
        t.run(t.qimg, "compare", "-q", top, out)
    finally:
        t.close()


def test_our_images_pass_qemu_check_every_layout():
    t = Tools()
    try:
        src = t.path("src.qcow2")
        t.run(t.qimg, "create", "-q", "-f", "qcow2", src, "8M")
        t.qemu_io(src, *PATTERN_CMDS)
        for opts in ["compat=0.10", "compat=1.1", "cluster_size=512",
                     "cluster_size=2M,refcount_bits=64", "cluster_size=4k,refcount_bits=1",
                     "lazy_refcounts=on", "preallocation=metadata", "preallocation=falloc"]:
            out = t.path("out.qcow2")
            if os.path.exists(out):
                os.unlink(out)
            t.run(VESSEL_IMG, "convert", "-O", "qcow2", "-o", opts, src, out)
            t.assert_clean(out)
            t.run(t.qimg, "compare", "-q", src, out)
    finally:
        t.close()


def test_zstd_compression_both_ways():
    t = Tools()
    try:
        raw = t.path("src.raw")
        with open(raw, "wb") as f:
            for i in range(512):
                f.write((b"zstd cluster %d " % i) * 200)
            f.write(os.urandom(200000))
            f.write(b"\0" * (-f.tell() % 512))
        for cs in ["4k", "64k", "2M"]:
            opts = "compression_type=zstd,cluster_size=" + cs
            theirs = t.path("theirs-z.qcow2")
            t.run(t.qimg, "convert", "-c", "-O", "qcow2", "-o", opts, raw, theirs)
            # A partial overwrite turns one compressed cluster into a normal one.
            t.qemu_io(theirs, "write -P 0x5a 5000 3000")
            t.assert_reads_like_qemu(theirs)
            if "compression type: zstd" not in t.run(VESSEL_IMG, "info", theirs):
                raise AssertionError("vessel-img info does not report zstd")
            ours = t.path("ours-z.qcow2")
            if os.path.exists(ours):
                os.unlink(ours)
            t.run(VESSEL_IMG, "convert", "-c", "-f", "raw", "-O", "qcow2", "-o", opts, raw, ours)
            t.assert_clean(ours)
            if "compression type: zstd" not in t.run(t.qimg, "info", ours):
                raise AssertionError("qemu-img does not see zstd in our image")
            check = t.run(t.qimg, "check", ours)
            if " 0.00% compressed" in check or "compressed" not in check:
                raise AssertionError("our zstd image has no compressed clusters:\n" + check)
            t.run(t.qimg, "compare", "-q", "-f", "qcow2", "-F", "raw", ours, raw)
        # compat=0.10 has no compression type field.
        proc = subprocess.run([VESSEL_IMG, "create", "-f", "qcow2", "-o",
                               "compat=0.10,compression_type=zstd", t.path("v2.qcow2"), "1M"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=TIMEOUT)
        if proc.returncode == 0 or b"compatibility level 1.1" not in proc.stdout:
            raise AssertionError("compat=0.10 with zstd not refused: %r" % proc.stdout)
    finally:
        t.close()
