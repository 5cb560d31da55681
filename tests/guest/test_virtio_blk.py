"""virtio-blk-device on -M virt: Linux mounts an ext4 image built on the host, writes to it,
and the host (debugfs) and a second boot see the data; read-only drives refuse writes; a
qcow2 image survives kill -9 in the middle of a write loop (qemu-img check).

Needs e2fsprogs (mke2fs, debugfs) and, for the qcow2 cases, qemu-utils (qemu-img).
"""

import hashlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import testlib
from testlib import Vm

TIMEOUT = 900
BOOT_TIMEOUT = 300
CMD_TIMEOUT = 120


def require_tool(name, package):
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if not path:
        raise testlib.Skip("%s not installed (Debian: %s)" % (name, package))
    return path


def make_ext4(workdir, name, files, size="32M", fmt="raw"):
    """An ext4 image holding files ({name: bytes}); converted to qcow2 when fmt says so."""
    mke2fs = require_tool("mke2fs", "e2fsprogs")
    content = os.path.join(workdir, name + ".d")
    os.makedirs(content)
    for fname, data in files.items():
        with open(os.path.join(content, fname), "wb") as f:
            f.write(data)
    raw = os.path.join(workdir, name + ".raw")
    subprocess.run([mke2fs, "-q", "-F", "-t", "ext4", "-d", content, raw, size], check=True,
                   capture_output=True)
    if fmt == "raw":
        return raw
    qemu_img = require_tool("qemu-img", "qemu-utils")
    image = os.path.join(workdir, name + ".qcow2")
    subprocess.run([qemu_img, "convert", "-f", "raw", "-O", "qcow2", raw, image], check=True,
                   capture_output=True)
    os.unlink(raw)
    return image


def host_cat(image, path, fmt="raw"):
    """The file's content as the host's debugfs reads it from the image."""
    debugfs = require_tool("debugfs", "e2fsprogs")
    raw = image
    if fmt != "raw":
        qemu_img = require_tool("qemu-img", "qemu-utils")
        raw = image + ".check.raw"
        subprocess.run([qemu_img, "convert", "-f", fmt, "-O", "raw", image, raw], check=True,
                       capture_output=True)
    proc = subprocess.run([debugfs, "-R", "cat " + path, raw], capture_output=True)
    if raw != image:
        os.unlink(raw)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


def drive_args(image, fmt, extra=""):
    return ["-drive", "file=%s,format=%s,if=none,id=d0%s" % (image, fmt, extra),
            "-device", "virtio-blk-device,drive=d0,serial=VESSEL-SN-1"]


class Guest:
    """A booted test Linux whose shell runs commands and reports their exit status."""

    def __init__(self, extra):
        testlib.require_riscv_linux()
        self.vm = Vm(testlib.riscv_linux_args(extra=extra))
        self.n = 0
        try:
            self.vm.expect(testlib.BOOT_MARKER, BOOT_TIMEOUT)
        except testlib.VmError as e:
            self.vm.kill()
            skip_unsupported_format(str(e))
            raise

    def run(self, cmd, timeout=CMD_TIMEOUT):
        """Runs cmd; returns (exit status, its output). The markers are split by quotes on
        the command line so that the console's echo of it never matches them."""
        self.n += 1
        self.vm.send('echo "BE""GIN%d"; %s; echo "E""ND%d=$?"\r' % (self.n, cmd, self.n))
        m = self.vm.expect(r"(?s)BEGIN%d\r*\n(.*?)END%d=(\d+)" % (self.n, self.n), timeout)
        return int(m.group(2)), m.group(1).replace("\r", "")

    def check(self, cmd, timeout=CMD_TIMEOUT):
        status, out = self.run(cmd, timeout)
        assert status == 0, "'%s' failed with %d:\n%s" % (cmd, status, out)
        return out

    def poweroff(self):
        self.vm.send("poweroff -f\r")
        status = self.vm.wait(60)
        assert status == 0, "exit status %d after poweroff -f" % status

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.vm.kill()
        return False


def skip_unsupported_format(console):
    """Skips when the emulator refused the image format (qcow2 before the block layer has it)."""
    if re.search(r"(?i)(unknown|unsupported|not supported).{0,40}(format|driver)|"
                 r"(format|driver).{0,40}(unknown|unsupported|not supported)", console):
        raise testlib.Skip("the emulator does not support this image format yet: %s"
                           % console.strip().splitlines()[-1])


def read_write_persist(fmt):
    with tempfile.TemporaryDirectory() as tmp:
        image = make_ext4(tmp, "disk", {"hello.txt": b"hello from the host\n"}, fmt=fmt)
        token = "written-by-guest-%d" % os.getpid()
        with Guest(drive_args(image, fmt)) as g:
            assert "VESSEL-SN-1" in g.check("cat /sys/block/vda/serial")
            size = int(g.check("cat /sys/block/vda/size").strip())
            assert size == 32 * 2048, "capacity %d sectors" % size
            g.check("mkdir -p /mnt && mount -t ext4 /dev/vda /mnt")
            assert "hello from the host" in g.check("cat /mnt/hello.txt")
            g.check("echo %s > /mnt/guest.txt" % token)
            # Enough data for many requests in flight, with a checksum to compare.
            g.check("dd if=/dev/urandom of=/mnt/blob bs=64k count=64 2>/dev/null")
            blob_md5 = g.check("md5sum /mnt/blob").split()[0]
            g.check("sync && umount /mnt")
            g.poweroff()
        assert host_cat(image, "/guest.txt", fmt).decode().strip() == token
        assert hashlib.md5(host_cat(image, "/blob", fmt)).hexdigest() == blob_md5

        # Second boot: the guest reads back what the first one wrote.
        with Guest(drive_args(image, fmt)) as g:
            g.check("mkdir -p /mnt && mount -t ext4 /dev/vda /mnt")
            assert token in g.check("cat /mnt/guest.txt")
            assert g.check("md5sum /mnt/blob").split()[0] == blob_md5
            g.check("umount /mnt")
            g.poweroff()


def test_raw_read_write_persistence():
    read_write_persist("raw")


def test_qcow2_read_write_persistence():
    read_write_persist("qcow2")


def test_if_virtio_drive():
    """-drive if=virtio gets its virtio-blk-device without -device."""
    with tempfile.TemporaryDirectory() as tmp:
        image = make_ext4(tmp, "disk", {"a.txt": b"via if=virtio\n"}, size="8M")
        with Guest(["-drive", "file=%s,format=raw,if=virtio" % image]) as g:
            assert int(g.check("cat /sys/block/vda/size").strip()) == 8 * 2048
            g.check("mkdir -p /mnt && mount -t ext4 -o ro /dev/vda /mnt")
            assert "via if=virtio" in g.check("cat /mnt/a.txt")
            g.poweroff()


def test_readonly_drive():
    with tempfile.TemporaryDirectory() as tmp:
        image = make_ext4(tmp, "disk", {"a.txt": b"read only\n"}, size="8M")
        with open(image, "rb") as f:
            before = f.read()
        with Guest(drive_args(image, "raw", ",readonly=on")) as g:
            assert g.check("cat /sys/block/vda/ro").strip() == "1"
            g.check("mkdir -p /mnt && mount -t ext4 -o ro /dev/vda /mnt")
            assert "read only" in g.check("cat /mnt/a.txt")
            g.check("umount /mnt")
            status, out = g.run("dd if=/dev/zero of=/dev/vda bs=512 count=8 conv=fsync")
            assert status != 0, "writing to a read-only disk succeeded:\n" + out
            g.poweroff()
        with open(image, "rb") as f:
            assert f.read() == before, "the read-only image changed"


def test_qcow2_survives_kill_during_writes():
    qemu_img = require_tool("qemu-img", "qemu-utils")
    with tempfile.TemporaryDirectory() as tmp:
        image = make_ext4(tmp, "disk", {}, size="64M", fmt="qcow2")
        with Guest(drive_args(image, "qcow2")) as g:
            g.check("mkdir -p /mnt && mount -t ext4 /dev/vda /mnt")
            g.vm.send("i=0; while true; do dd if=/dev/urandom of=/mnt/f$((i % 40)) bs=64k "
                      "count=8 2>/dev/null; sync; i=$((i+1)); echo LOOP$i; done\r")
            g.vm.expect(r"LOOP3\b", CMD_TIMEOUT)
            time.sleep(1.5)
            g.vm.proc.send_signal(signal.SIGKILL)
            g.vm.proc.wait(30)
        proc = subprocess.run([qemu_img, "check", "-f", "qcow2", image], capture_output=True,
                              text=True)
        # 0: clean; 3: only leaked clusters, which a crash may leave behind.
        assert proc.returncode in (0, 3), "qemu-img check (%d):\n%s%s" % (
            proc.returncode, proc.stdout, proc.stderr)


def run_quick(args):
    """Runs the emulator to completion (errors at start-up); returns (status, output)."""
    emulator = testlib.require_emulator()
    proc = subprocess.run([emulator, "-M", "virt", "-display", "none", "-S"] + args,
                          capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL)
    return proc.returncode, proc.stdout + proc.stderr


def test_device_command_line():
    status, out = run_quick(["-device", "help"])
    assert status == 0 and re.search(r'name "virtio-blk-device", bus virtio-bus', out), out
    status, out = run_quick(["-device", "virtio-blk-device,help"])
    assert status == 0 and re.search(r"(?m)^  drive=<str> +- ", out), out
    assert re.search(r"(?m)^  queue-size=<uint16> +- .*\(default: 256\)", out), out
    with tempfile.TemporaryDirectory() as tmp:
        image = os.path.join(tmp, "d.raw")
        with open(image, "wb") as f:
            f.truncate(1 << 20)
        drives = ["-drive", "file=%s,format=raw,if=none,id=d0" % image,
                  "-drive", "file=%s,format=raw,if=none,id=d1,readonly=on" % image]
        cases = [
            (["-device", "virtio-blk-device"], "drive property not set"),
            (["-device", "virtio-blk-device,drive=nope"],
             "Property 'virtio-blk-device.drive' can't find value 'nope'"),
            (["-device", "virtio-blk-device,drive=d0,foo=1"],
             "Property 'virtio-blk-device.foo' not found"),
            (["-device", "virtio-blk-device,drive=d0,id=1x"],
             "Parameter 'id' expects an identifier"),
            (["-device", "virtio-blk-device,drive=d0,bus=zz"], "Bus 'zz' not found"),
            (["-device", "virtio-blk-device,drive=d0,bus=virtio-mmio-bus.7",
              "-device", "virtio-blk-device,drive=d1,bus=virtio-mmio-bus.7"],
             "Bus 'virtio-mmio-bus.7' is full"),
            (["-device", "virtio-blk-device,drive=d0,id=a",
              "-device", "virtio-blk-device,drive=d1,id=a"], "Duplicate ID 'a' for device"),
            (["-device", "virtio-blk-device,drive=d0",
              "-device", "virtio-blk-device,drive=d0"],
             "Drive 'd0' is already in use by another device"),
            (["-device", "nosuch"], "'nosuch' is not a valid device model name"),
            (["-device", "virtio-blk-device,drive=d0,queue-size=3"],
             "invalid queue-size property (3), must be a power of 2"),
            (["-device", "virtio-blk-device,drive=d0,num-queues=0"],
             "num-queues property must be larger than 0"),
            (["-device", "virtio-blk-device,drive=d0,logical_block_size=100"],
             "logical_block_size doesn't take value 100"),
        ]
        for args, message in cases:
            status, out = run_quick(drives + args)
            assert status == 1 and message in out, (args, status, out)
