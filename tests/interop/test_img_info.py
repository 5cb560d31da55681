"""vessel-img reports what qemu-img reports: info, map, check (exit codes with leaked and
corrupted clusters), compare exit codes, create's "Formatting" line, error conventions."""

import json
import os
import struct

from interop.test_img_common import Workdir, pattern_writes

MIB = 1024 * 1024
SIZE = 8 * MIB

INFO_KEYS = ("virtual-size", "format", "cluster-size", "backing-filename",
             "backing-filename-format", "full-backing-filename", "dirty-flag")
SPEC_KEYS = ("compat", "lazy-refcounts", "refcount-bits", "compression-type", "corrupt",
             "extended-l2")


def _images(w):
    """A set of images covering the info fields: (name, extra info args)."""
    w.qemu("create", "-q", "-f", "qcow2", "plain.qcow2", str(SIZE))
    w.qemu_io("plain.qcow2", "qcow2", pattern_writes(SIZE, 1))
    w.qemu("create", "-q", "-f", "qcow2", "-o", "compat=0.10,cluster_size=4096",
           "v2.qcow2", str(SIZE))
    w.qemu("create", "-q", "-f", "qcow2", "-o", "lazy_refcounts=on,refcount_bits=64",
           "lazy.qcow2", str(SIZE))
    w.qemu("create", "-q", "-f", "qcow2", "-o", "refcount_bits=1,cluster_size=512",
           "rc1.qcow2", "3M")
    os.mkdir(w.path("sub"))
    w.qemu("create", "-q", "-f", "qcow2", "-b", "../plain.qcow2", "-F", "qcow2",
           "sub/top.qcow2")
    w.qemu_io("sub/top.qcow2", "qcow2", ["write -P 0x31 %d 65536" % MIB])
    w.qemu("create", "-q", "-f", "qcow2", "-b", "plain.qcow2", "-F", "qcow2", "near.qcow2")
    w.qemu("create", "-q", "-f", "raw", "r.raw", "5M")
    w.qemu("create", "-q", "-f", "qcow2", "snap.qcow2", str(SIZE))
    w.qemu("snapshot", "-c", "one", "snap.qcow2")
    w.qemu("snapshot", "-c", "two", "snap.qcow2")
    return ["plain.qcow2", "v2.qcow2", "lazy.qcow2", "rc1.qcow2", "sub/top.qcow2",
            "near.qcow2", "r.raw", "snap.qcow2"]


def _same_fields(got, want, where):
    for key in INFO_KEYS:
        assert got.get(key) == want.get(key), "%s: %s is %r, qemu-img says %r" % (
            where, key, got.get(key), want.get(key))
    if "format-specific" in want:
        gspec = got["format-specific"]["data"]
        wspec = want["format-specific"]["data"]
        assert got["format-specific"]["type"] == want["format-specific"]["type"], where
        for key in SPEC_KEYS:
            assert gspec.get(key) == wspec.get(key), "%s: format-specific %s is %r, not %r" % (
                where, key, gspec.get(key), wspec.get(key))
    else:
        assert "format-specific" not in got, where
    gsn = [(s["id"], s["name"], s["vm-state-size"]) for s in got.get("snapshots", [])]
    wsn = [(s["id"], s["name"], s["vm-state-size"]) for s in want.get("snapshots", [])]
    assert gsn == wsn, "%s: snapshots %r, qemu-img says %r" % (where, gsn, wsn)


def test_info_json_matches_qemu():
    with Workdir() as w:
        for name in _images(w):
            for extra in ((), ("-f", "qcow2" if name.endswith("qcow2") else "raw")):
                got = w.info_json(w.vimg, name, *extra)
                want = w.info_json(w.qimg, name, *extra)
                _same_fields(got, want, name)
        got = w.info_json(w.vimg, "sub/top.qcow2", "--backing-chain")
        want = w.info_json(w.qimg, "sub/top.qcow2", "--backing-chain")
        assert len(got) == len(want) == 2, got
        for g, q in zip(got, want):
            _same_fields(g, q, "chain " + q["filename"])
            assert g["filename"] == q["filename"], (g["filename"], q["filename"])


def _human_lines(text):
    """info's human output without the host-dependent lines (disk size, snapshot dates)."""
    keep = []
    for line in text.splitlines():
        if line.startswith("disk size:"):
            continue
        if line[:1].isdigit() and ":" in line:   # snapshot rows: id and tag only
            line = " ".join(line.split()[:2])
        keep.append(line)
    return keep


def test_info_human_matches_qemu():
    with Workdir() as w:
        for name in _images(w):
            _, got, _ = w.vessel("info", name)
            _, want, _ = w.qemu("info", name)
            assert _human_lines(got) == _human_lines(want), "%s:\n%s\nqemu-img:\n%s" % (
                name, got, want)
        _, got, _ = w.vessel("info", "--backing-chain", "sub/top.qcow2")
        _, want, _ = w.qemu("info", "--backing-chain", "sub/top.qcow2")
        assert _human_lines(got) == _human_lines(want), got


def test_map_matches_qemu():
    with Workdir() as w:
        w.qemu("create", "-q", "-f", "qcow2", "base.qcow2", str(SIZE))
        w.qemu_io("base.qcow2", "qcow2", pattern_writes(SIZE, 2))
        w.qemu("create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", "top.qcow2")
        w.qemu_io("top.qcow2", "qcow2", ["write -P 0x44 %d 131072" % (4 * MIB),
                                         "write -z %d 65536" % (6 * MIB)])
        for name in ("base.qcow2", "top.qcow2"):
            _, got, _ = w.vessel("map", "--output=json", name)
            _, want, _ = w.qemu("map", "--output=json", name)
            assert json.loads(got) == json.loads(want), "%s:\n%s\nqemu-img:\n%s" % (
                name, got, want)
            _, got, _ = w.vessel("map", name)
            _, want, _ = w.qemu("map", name)
            assert got == want, "%s:\n%s\nqemu-img:\n%s" % (name, got, want)
        _, got, _ = w.vessel("map", "--output=json", "--start-offset=1M", "--max-length=4M",
                             "top.qcow2")
        _, want, _ = w.qemu("map", "--output=json", "--start-offset=1M", "--max-length=4M",
                            "top.qcow2")
        assert json.loads(got) == json.loads(want), (got, want)


def _refcount_block(path):
    """(cluster size, file offset of the first refcount block, refcount bits)."""
    with open(path, "rb") as f:
        hdr = f.read(104)
    cluster_bits = struct.unpack(">I", hdr[20:24])[0]
    rt_offset = struct.unpack(">Q", hdr[48:56])[0]
    order = struct.unpack(">I", hdr[96:100])[0] if struct.unpack(">I", hdr[4:8])[0] >= 3 else 4
    with open(path, "rb") as f:
        f.seek(rt_offset)
        block = struct.unpack(">Q", f.read(8))[0]
    return 1 << cluster_bits, block, 1 << order


def _set_refcount16(path, cluster, value):
    csize, block, bits = _refcount_block(path)
    assert bits == 16
    with open(path, "r+b") as f:
        f.seek(block + 2 * cluster)
        f.write(struct.pack(">H", value))


def _leaky_image(w, name):
    """A qcow2 image whose refcounts claim two clusters past the last used one (leaks)."""
    w.qemu("create", "-q", "-f", "qcow2", name, "16M")
    w.qemu_io(name, "qcow2", ["write -P 1 0 128k"])
    size = os.path.getsize(w.path(name))
    csize = _refcount_block(w.path(name))[0]
    first = size // csize
    _set_refcount16(w.path(name), first, 1)
    _set_refcount16(w.path(name), first + 1, 1)
    with open(w.path(name), "r+b") as f:
        f.truncate(size + 2 * csize)


def _check(w, tool, *args):
    status, out, err = w.run([tool, "check"] + list(args), expect=None)
    return status, out, err


def test_check_clean_and_leaks():
    with Workdir() as w:
        w.qemu("create", "-q", "-f", "qcow2", "ok.qcow2", str(SIZE))
        w.qemu_io("ok.qcow2", "qcow2", pattern_writes(SIZE, 3))
        for tool in (w.vimg, w.qimg):
            status, out, _ = _check(w, tool, "ok.qcow2")
            assert status == 0 and out.startswith("No errors were found on the image."), out
        got = json.loads(_check(w, w.vimg, "--output=json", "ok.qcow2")[1])
        want = json.loads(_check(w, w.qimg, "--output=json", "ok.qcow2")[1])
        assert got == want, (got, want)

        _leaky_image(w, "leak.qcow2")
        status, out, _ = _check(w, w.vimg, "leak.qcow2")
        assert status == 3, (status, out)
        assert "2 leaked clusters were found on the image." in out, out
        got = json.loads(_check(w, w.vimg, "--output=json", "leak.qcow2")[1])
        want = json.loads(_check(w, w.qimg, "--output=json", "leak.qcow2")[1])
        assert got == want, (got, want)
        assert got["leaks"] == 2, got

        status, out, _ = _check(w, w.vimg, "-r", "leaks", "leak.qcow2")
        assert status == 0, (status, out)
        assert "2 leaked clusters" in out and "No errors were found" in out, out
        w.qemu_check_clean("leak.qcow2")


def test_check_corruption_and_unsupported():
    with Workdir() as w:
        w.qemu("create", "-q", "-f", "qcow2", "bad.qcow2", "16M")
        w.qemu_io("bad.qcow2", "qcow2", ["write -P 1 0 128k"])
        # The first data cluster (after header, L1, refcount table and block, L2) loses
        # its refcount: a corruption qemu-img reports with exit status 2.
        _, out, _ = w.qemu("map", "--output=json", "bad.qcow2")
        data_cluster = json.loads(out)[0]["offset"] // 65536
        _set_refcount16(w.path("bad.qcow2"), data_cluster, 0)
        status, out, _ = _check(w, w.qimg, "bad.qcow2")
        assert status == 2, "qemu-img check: %d" % status
        status, out, _ = _check(w, w.vimg, "bad.qcow2")
        assert status == 2, (status, out)
        assert "errors were found on the image." in out, out
        got = json.loads(_check(w, w.vimg, "--output=json", "bad.qcow2")[1])
        assert got.get("corruptions", 0) > 0, got
        status, out, _ = _check(w, w.vimg, "-r", "all", "bad.qcow2")
        assert status == 0, (status, out)
        w.qemu_check_clean("bad.qcow2")

        w.qemu("create", "-q", "-f", "raw", "r.raw", "1M")
        status, _, err = _check(w, w.vimg, "-f", "raw", "r.raw")
        assert status == 63 and "does not support checks" in err, (status, err)


def test_compare_exit_codes():
    with Workdir() as w:
        w.qemu("create", "-q", "-f", "qcow2", "a.qcow2", str(SIZE))
        w.qemu_io("a.qcow2", "qcow2", pattern_writes(SIZE, 4))
        w.qemu("convert", "-O", "raw", "a.qcow2", "a.raw")
        w.qemu("create", "-q", "-f", "raw", "b.raw", str(SIZE))
        w.qemu("create", "-q", "-f", "raw", "big.raw", str(2 * SIZE))
        w.run(["cp", w.path("a.raw"), w.path("c.raw")])
        w.qemu_io("c.raw", "raw", ["write -P 0xfe %d 1" % (5 * MIB + 1000)])
        cases = [("a.qcow2", "a.raw"), ("a.qcow2", "c.raw"), ("a.raw", "b.raw"),
                 ("b.raw", "big.raw"), ("a.qcow2", "missing.raw")]
        for args in cases:
            for extra in ((), ("-s",)):
                got = w.vessel("compare", *(extra + args), expect=None)
                want = w.qemu("compare", *(extra + args), expect=None)
                assert got[0] == want[0], "compare %s: status %d, qemu-img %d" % (
                    args, got[0], want[0])
                assert got[1] == want[1], "compare %s:\n%s\nqemu-img:\n%s" % (
                    args, got[1], want[1])
        status, out, _ = w.vessel("compare", "a.qcow2", "c.raw", expect=1)
        assert out == "Content mismatch at offset %d!\n" % (5 * MIB + 512), out


def test_create_output_and_errors():
    with Workdir() as w:
        w.qemu("create", "-q", "-f", "qcow2", "base.qcow2", "4M")
        cases = [("-f", "qcow2", "x.qcow2", "64M"),
                 ("-f", "qcow2", "-o", "compat=0.10,preallocation=metadata", "x.qcow2", "10M"),
                 ("-f", "qcow2", "-o", "cluster_size=512,lazy_refcounts=on,refcount_bits=1",
                  "x.qcow2", "1G"),
                 ("-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", "x.qcow2"),
                 ("-f", "raw", "x.raw", "10M"),
                 ("-f", "raw", "-o", "preallocation=full", "x.raw", "1M")]
        for args in cases:
            _, got, _ = w.vessel("create", *args)
            _, want, _ = w.qemu("create", *args)
            assert got == want, "create %s:\n%s\nqemu-img:\n%s" % (args, got, want)
        prog = os.path.basename(w.vimg)
        for args in (("bogus",), ("create", "-f", "qcow2", "y.qcow2"),
                     ("create", "-f", "nosuchfmt", "y.img", "1M"),
                     ("create", "-f", "qcow2", "y.qcow2", "12x"),
                     ("info", "missing.qcow2"), ("info",), ("info", "-x", "a")):
            status, out, err = w.vessel(*args, expect=None)
            assert status == 1, (args, status)
            assert err.startswith(prog + ": "), (args, err)
            assert not os.path.exists(w.path("y.qcow2")), args
