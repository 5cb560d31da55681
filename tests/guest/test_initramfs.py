"""scripts/mkinitramfs.py: the newc archive it writes, checked with GNU cpio."""

import gzip
import os
import subprocess
import sys
import tempfile

import testlib

MKINITRAMFS = os.path.join(testlib.ROOT, "scripts", "mkinitramfs.py")


def mkinitramfs(list_text, files=None):
    """Runs mkinitramfs.py on list_text; returns (exit status, stderr, gunzipped archive)."""
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in (files or {}).items():
            with open(os.path.join(tmp, name), "wb") as f:
                f.write(data)
        with open(os.path.join(tmp, "list"), "w") as f:
            f.write(list_text)
        out = os.path.join(tmp, "out.gz")
        proc = subprocess.run([sys.executable, MKINITRAMFS, os.path.join(tmp, "list"), out],
                              capture_output=True, text=True)
        data = gzip.decompress(open(out, "rb").read()) if proc.returncode == 0 else b""
        return proc.returncode, proc.stderr, data


def cpio_list(archive):
    """`cpio -itv` lines of archive."""
    proc = subprocess.run(["cpio", "-itv", "--quiet"], input=archive, capture_output=True)
    assert proc.returncode == 0, "cpio rejected the archive: %s" % proc.stderr.decode()
    return [" ".join(ln.split()) for ln in proc.stdout.decode().splitlines()]


def test_entries_and_device_node():
    status, err, archive = mkinitramfs(
        "# comment\n\ndir /dev 0755 0 0\nnod /dev/console 0600 0 0 c 5 1\n"
        "file /init init.sh 0755 0 0\nslink /bin/sh busybox 0777 0 0\n",
        {"init.sh": b"#!/bin/sh\necho hi\n"})
    assert status == 0, err
    lines = cpio_list(archive)
    assert len(lines) == 4, lines
    assert lines[0].startswith("drwxr-xr-x") and lines[0].endswith(" dev"), lines[0]
    assert lines[1].startswith("crw-------") and " 5, 1 " in lines[1] \
        and lines[1].endswith(" dev/console"), lines[1]
    assert lines[2].startswith("-rwxr-xr-x") and " 18 " in lines[2] \
        and lines[2].endswith(" init"), lines[2]
    assert lines[3].startswith("lrwxrwxrwx") and lines[3].endswith(" bin/sh -> busybox"), lines[3]
    proc = subprocess.run(["cpio", "-i", "--quiet", "--to-stdout", "init"], input=archive,
                          capture_output=True)
    assert proc.stdout == b"#!/bin/sh\necho hi\n", proc.stdout


def test_reproducible():
    text = "file /a a 0644 0 0\n"
    first = mkinitramfs(text, {"a": b"x" * 1000})
    second = mkinitramfs(text, {"a": b"x" * 1000})
    assert first[0] == 0 and first[2] == second[2]


def test_bad_lines_are_reported():
    for bad in ("nod /dev/x 0600 0 0 z 1 1\n", "file /a missing-file 0644 0 0\n",
                "dir /d 09 0 0\n", "fifo /p 0644 0 0\n"):
        status, err, _ = mkinitramfs(bad)
        assert status == 1 and "line 1" in err, (bad, status, err)


def test_guest_initramfs_has_init_and_console():
    testlib.require_file(testlib.RISCV_INITRD, "run scripts/assets.sh")
    with open(testlib.RISCV_INITRD, "rb") as f:
        lines = cpio_list(gzip.decompress(f.read()))
    names = {ln.split(" -> ")[0].rsplit(" ", 1)[-1]: ln for ln in lines}
    assert names["init"].startswith("-rwx"), lines
    assert names["dev/console"].startswith("crw") and " 5, 1 " in names["dev/console"], lines
    assert names["bin/busybox"].startswith("-rwx"), lines
