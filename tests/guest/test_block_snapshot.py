"""-drive snapshot=on and aio=io_uring seen from a Linux guest on -M virt.

snapshot=on: the guest writes to the disk and reads its writes back, yet the image file is
unchanged afterwards and no overlay file is left in $TMPDIR. aio=io_uring with cache=none:
data the guest writes with O_DIRECT dd is in the image file afterwards.
"""

import hashlib
import os
import shutil
import subprocess
import tempfile

import testlib
from testlib import Vm

BOOT_TIMEOUT = 300
CMD_TIMEOUT = 120


class Guest:
    def __init__(self, drive, env=None):
        testlib.require_riscv_linux()
        self.vm = Vm(testlib.riscv_linux_args(extra=[
            "-drive", drive, "-device", "virtio-blk-device,drive=d0"]), env=env)
        self.n = 0
        self.vm.expect(testlib.BOOT_MARKER, BOOT_TIMEOUT)

    def check(self, cmd):
        self.n += 1
        self.vm.send('echo "BE""GIN%d"; %s; echo "E""ND%d=$?"\r' % (self.n, cmd, self.n))
        m = self.vm.expect(r"(?s)BEGIN%d\r*\n(.*?)END%d=(\d+)" % (self.n, self.n), CMD_TIMEOUT)
        out = m.group(1).replace("\r", "")
        assert m.group(2) == "0", "'%s' failed:\n%s" % (cmd, out)
        return out

    def poweroff(self):
        self.vm.send("poweroff -f\r")
        assert self.vm.wait(60) == 0


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_snapshot_on_discards_writes():
    work = tempfile.mkdtemp(prefix="vessel-snap-")
    tmp = os.path.join(work, "tmp")
    os.mkdir(tmp)
    try:
        for fmt in ("raw", "qcow2"):
            img = os.path.join(work, "disk." + fmt)
            with open(img + ".src", "wb") as f:
                f.write(bytes(range(256)) * (16 * 4096))       # 16 MiB pattern
            if fmt == "raw":
                os.rename(img + ".src", img)
            else:
                qemu_img = shutil.which("qemu-img")
                if not qemu_img:
                    raise testlib.Skip("qemu-img not installed (Debian: qemu-utils)")
                subprocess.run([qemu_img, "convert", "-f", "raw", "-O", "qcow2",
                                img + ".src", img], check=True)
                os.unlink(img + ".src")
            before = sha(img)
            env = dict(os.environ, TMPDIR=tmp)
            g = Guest("file=%s,format=%s,if=none,id=d0,snapshot=on" % (img, fmt), env=env)
            try:
                assert os.listdir(tmp) == [], os.listdir(tmp)
                g.check("dd if=/dev/zero of=/dev/vda bs=64k count=32 conv=fsync")
                g.check("echo 3 > /proc/sys/vm/drop_caches")
                out = g.check("dd if=/dev/vda bs=64k count=32 2>/dev/null | md5sum")
                assert out.split()[0] == hashlib.md5(bytes(2 << 20)).hexdigest(), out
                g.poweroff()
            finally:
                g.vm.kill()
            assert sha(img) == before, "snapshot=on changed the %s image" % fmt
            assert os.listdir(tmp) == [], os.listdir(tmp)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_io_uring_direct_writes_reach_the_image():
    work = tempfile.mkdtemp(prefix="vessel-uring-")
    try:
        img = os.path.join(work, "disk.raw")
        with open(img, "wb") as f:
            f.truncate(16 << 20)
        g = Guest("file=%s,format=raw,if=none,id=d0,cache=none,aio=io_uring" % img)
        try:
            g.check("dd if=/dev/urandom of=/tmp/blob bs=64k count=64 2>/dev/null")
            want = g.check("md5sum /tmp/blob").split()[0]
            g.check("dd if=/tmp/blob of=/dev/vda bs=1M count=4 seek=3 oflag=direct")
            g.poweroff()
        finally:
            g.vm.kill()
        with open(img, "rb") as f:
            f.seek(3 << 20)
            assert hashlib.md5(f.read(4 << 20)).hexdigest() == want
    finally:
        shutil.rmtree(work, ignore_errors=True)
