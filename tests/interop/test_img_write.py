"""Images written by vessel-img are valid for qemu-img.

Every image vessel-img creates or modifies (create, convert with and without -c, snapshot,
resize, rebase, amend) must pass `qemu-img check` with no errors or leaks, and
`qemu-img compare` must find it equal to the content it should have.
"""

import json
import os

from interop.test_img_common import Workdir, pattern_writes, read_file, write_file

MIB = 1024 * 1024
SIZE = 8 * MIB


def _source(w, name="src.raw", size=SIZE, seed=1):
    """A raw image with a mix of data, zeroes and holes, written by qemu-io."""
    w.qemu("create", "-q", "-f", "raw", name, str(size))
    w.qemu_io(name, "raw", pattern_writes(size, seed) + [
        "write -P 0x%02x %d %d" % (0x40 + seed, 3 * MIB, 256 * 1024)])
    return name


def _qemu_info(w, image):
    return w.info_json(w.qimg, image)


def test_create_qcow2_options():
    cases = [
        (), ("-o", "compat=0.10"), ("-o", "compat=1.1,lazy_refcounts=on"),
        ("-o", "cluster_size=512"), ("-o", "cluster_size=2M"),
        ("-o", "refcount_bits=1"), ("-o", "refcount_bits=64,cluster_size=4096"),
        ("-o", "preallocation=metadata"), ("-o", "preallocation=falloc"),
        ("-o", "preallocation=full"), ("-o", "compression_type=zlib"),
    ]
    with Workdir() as w:
        w.qemu("create", "-q", "-f", "raw", "zero.raw", str(SIZE))
        for i, opts in enumerate(cases):
            name = "c%d.qcow2" % i
            w.vessel("create", "-q", "-f", "qcow2", *opts, name, "8M")
            w.qemu_check_clean(name)
            w.qemu_equal(name, "zero.raw")
            info = _qemu_info(w, name)
            assert info["virtual-size"] == SIZE, (opts, info)
            spec = info["format-specific"]["data"]
            text = ",".join(opts)
            if "compat=0.10" in text:
                assert spec["compat"] == "0.10", (opts, spec)
            else:
                assert spec["compat"] == "1.1", (opts, spec)
            if "lazy_refcounts=on" in text:
                assert spec["lazy-refcounts"] is True, (opts, spec)
            for bits in ("1", "64"):
                if "refcount_bits=" + bits in text:
                    assert spec["refcount-bits"] == int(bits), (opts, spec)
            for cs, val in (("512", 512), ("2M", 2 * MIB), ("4096", 4096)):
                if "cluster_size=" + cs in text:
                    assert info["cluster-size"] == val, (opts, info)
            # qemu can use the image: write through qemu-io, check again.
            w.qemu_io(name, "qcow2", pattern_writes(SIZE, i + 1))
            w.qemu_check_clean(name)


def test_create_raw_and_sizes():
    with Workdir() as w:
        sizes = (("1.5M", 1572864), ("100", 512), ("1000", 1024), ("64k", 65536),
                 ("1G", 1 << 30))
        for size, want in sizes:
            w.vessel("create", "-q", "-f", "raw", "r.raw", size)
            assert os.path.getsize(w.path("r.raw")) == want, size
            assert _qemu_info(w, "r.raw")["virtual-size"] == want, size
        w.vessel("create", "-q", "-f", "raw", "-o", "preallocation=full", "p.raw", "1M")
        assert read_file(w.path("p.raw")) == bytes(MIB)


def test_create_backing():
    with Workdir() as w:
        _source(w, "base.raw")
        w.qemu("convert", "-f", "raw", "-O", "qcow2", "base.raw", "base.qcow2")
        w.vessel("create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", "top.qcow2")
        w.qemu_check_clean("top.qcow2")
        info = _qemu_info(w, "top.qcow2")
        assert info["virtual-size"] == SIZE
        assert info["backing-filename"] == "base.qcow2"
        assert info["backing-filename-format"] == "qcow2"
        w.qemu_equal("top.qcow2", "base.raw")
        # -o backing_file= and a larger overlay
        w.vessel("create", "-q", "-f", "qcow2", "-o", "backing_file=base.raw,backing_fmt=raw",
                 "top2.qcow2", "16M")
        w.qemu_check_clean("top2.qcow2")
        assert _qemu_info(w, "top2.qcow2")["virtual-size"] == 16 * MIB
        status, _, _ = w.qemu("compare", "top2.qcow2", "base.raw", expect=None)
        assert status == 0, "larger overlay should read zeroes past its backing"


def _convert_case(w, args, name, src="src.raw"):
    w.vessel("convert", "-f", "raw", *args, src, name)
    w.qemu_check_clean(name)
    w.qemu_equal(name, src)


def test_convert_to_qcow2():
    with Workdir() as w:
        _source(w)
        _convert_case(w, ["-O", "qcow2"], "a.qcow2")
        _convert_case(w, ["-O", "qcow2", "-o", "cluster_size=4096,compat=0.10"], "b.qcow2")
        _convert_case(w, ["-O", "qcow2", "-o", "cluster_size=2M"], "c.qcow2")
        _convert_case(w, ["-O", "qcow2", "-o", "refcount_bits=1,cluster_size=512"], "d.qcow2")
        _convert_case(w, ["-O", "qcow2", "-S", "0"], "e.qcow2")
        _convert_case(w, ["-O", "qcow2", "-W", "-p"], "f.qcow2")
        # qcow2 -> qcow2 and qcow2 -> raw
        w.vessel("convert", "-O", "qcow2", "a.qcow2", "a2.qcow2")
        w.qemu_check_clean("a2.qcow2")
        w.qemu_equal("a2.qcow2", "src.raw")
        w.vessel("convert", "-O", "raw", "a.qcow2", "a.raw")
        assert read_file(w.path("a.raw")) == read_file(w.path("src.raw"))
        # Sparse output: the zero areas of the source stay unallocated in the target.
        alloc_src = _qemu_info(w, "e.qcow2")["actual-size"]
        alloc_sparse = _qemu_info(w, "a.qcow2")["actual-size"]
        assert alloc_sparse < alloc_src, (alloc_sparse, alloc_src)


def test_convert_compressed():
    with Workdir() as w:
        _source(w)
        _convert_case(w, ["-c", "-O", "qcow2"], "c.qcow2")
        _convert_case(w, ["-c", "-O", "qcow2", "-o", "cluster_size=4096"], "c4k.qcow2")
        _convert_case(w, ["-c", "-W", "-O", "qcow2"], "cw.qcow2")
        _, out, _ = w.qemu("check", "--output=json", "c.qcow2")
        report = json.loads(out)
        assert report.get("compressed-clusters", 0) > 0, report
        # qemu can overwrite parts of compressed clusters
        w.qemu_io("c.qcow2", "qcow2", ["write -P 0x66 %d 4096" % (3 * MIB + 8192)])
        w.qemu_io("src.raw", "raw", ["write -P 0x66 %d 4096" % (3 * MIB + 8192)])
        w.qemu_check_clean("c.qcow2")
        w.qemu_equal("c.qcow2", "src.raw")


def test_convert_existing_target_and_backing():
    with Workdir() as w:
        _source(w)
        # -n into a qcow2 that holds other data: everything must be overwritten.
        w.qemu("create", "-q", "-f", "qcow2", "t.qcow2", str(SIZE))
        w.qemu_io("t.qcow2", "qcow2", ["write -P 0xee 0 %d" % SIZE])
        w.vessel("convert", "-n", "-f", "raw", "-O", "qcow2", "src.raw", "t.qcow2")
        w.qemu_check_clean("t.qcow2")
        w.qemu_equal("t.qcow2", "src.raw")
        # --target-is-zero into a fresh image
        w.qemu("create", "-q", "-f", "qcow2", "z.qcow2", str(SIZE))
        w.vessel("convert", "-n", "--target-is-zero", "-f", "raw", "-O", "qcow2", "src.raw",
                 "z.qcow2")
        w.qemu_check_clean("z.qcow2")
        w.qemu_equal("z.qcow2", "src.raw")
        # -B: the target only holds what differs from its backing file.
        w.qemu("convert", "-f", "raw", "-O", "qcow2", "src.raw", "base.qcow2")
        w.qemu("create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", "top.qcow2")
        w.qemu_io("top.qcow2", "qcow2", ["write -P 0x12 %d 65536" % (5 * MIB)])
        w.qemu("convert", "-O", "raw", "top.qcow2", "top.raw")
        w.vessel("convert", "-O", "qcow2", "-B", "base.qcow2", "-F", "qcow2", "top.qcow2",
                 "out.qcow2")
        w.qemu_check_clean("out.qcow2")
        info = _qemu_info(w, "out.qcow2")
        assert info["backing-filename"] == "base.qcow2", info
        w.qemu_equal("out.qcow2", "top.raw")
        _, out, _ = w.qemu("map", "--output=json", "out.qcow2")
        top_layer = [e for e in json.loads(out) if e["depth"] == 0 and e["data"]]
        assert sum(e["length"] for e in top_layer) <= 2 * 65536, top_layer
        # Several sources are concatenated.
        w.vessel("convert", "-f", "raw", "-O", "raw", "src.raw", "src.raw", "two.raw")
        assert read_file(w.path("two.raw")) == read_file(w.path("src.raw")) * 2


def test_snapshot():
    with Workdir() as w:
        _source(w)
        w.qemu("convert", "-f", "raw", "-O", "qcow2", "src.raw", "s.qcow2")
        w.vessel("snapshot", "-c", "first", "s.qcow2")
        w.qemu_check_clean("s.qcow2")
        w.qemu_io("s.qcow2", "qcow2", ["write -P 0x77 0 %d" % MIB, "write -z %d 65536" % (3 * MIB)])
        w.vessel("snapshot", "-c", "second", "s.qcow2")
        w.qemu_check_clean("s.qcow2")
        _, out, _ = w.qemu("snapshot", "-l", "s.qcow2")
        assert "first" in out and "second" in out, out
        _, vout, _ = w.vessel("snapshot", "-l", "s.qcow2")
        assert [l.split()[:2] for l in vout.splitlines()[2:]] == \
            [l.split()[:2] for l in out.splitlines()[2:]], (vout, out)
        w.vessel("snapshot", "-a", "first", "s.qcow2")
        w.qemu_check_clean("s.qcow2")
        w.qemu_equal("s.qcow2", "src.raw")
        w.vessel("snapshot", "-d", "second", "s.qcow2")
        w.vessel("snapshot", "-d", "first", "s.qcow2")
        w.qemu_check_clean("s.qcow2")
        _, out, _ = w.qemu("snapshot", "-l", "s.qcow2")
        assert out.strip() == "", out
        w.qemu_equal("s.qcow2", "src.raw")
        status, _, err = w.vessel("snapshot", "-d", "nosuch", "s.qcow2", expect=None)
        assert status == 1 and "nosuch" in err, (status, err)


def test_resize():
    with Workdir() as w:
        _source(w)
        w.qemu("convert", "-f", "raw", "-O", "qcow2", "src.raw", "r.qcow2")
        _, out, _ = w.vessel("resize", "r.qcow2", "+8M")
        assert out == "Image resized.\n", out
        w.qemu_check_clean("r.qcow2")
        assert _qemu_info(w, "r.qcow2")["virtual-size"] == 16 * MIB
        w.qemu("create", "-q", "-f", "raw", "big.raw", str(16 * MIB))
        w.qemu_io("big.raw", "raw", pattern_writes(SIZE, 1) + [
            "write -P 0x41 %d %d" % (3 * MIB, 256 * 1024)])
        w.qemu_equal("r.qcow2", "big.raw")
        status, _, err = w.vessel("resize", "r.qcow2", "--", "-4M", expect=None)
        assert status == 1 and "--shrink" in err, err
        w.vessel("resize", "--shrink", "r.qcow2", "--", "-8M")
        w.qemu_check_clean("r.qcow2")
        assert _qemu_info(w, "r.qcow2")["virtual-size"] == SIZE
        w.qemu_equal("r.qcow2", "src.raw")
        # raw, absolute size
        w.vessel("resize", "-f", "raw", "src.raw", "9M")
        data = read_file(w.path("src.raw"))
        assert len(data) == 9 * MIB and data[SIZE:] == bytes(MIB)


def test_rebase():
    with Workdir() as w:
        w.qemu("create", "-q", "-f", "qcow2", "base1.qcow2", str(SIZE))
        w.qemu_io("base1.qcow2", "qcow2", pattern_writes(SIZE, 3))
        w.qemu("create", "-q", "-f", "qcow2", "base2.qcow2", str(SIZE))
        w.qemu_io("base2.qcow2", "qcow2", ["write -P 0x02 0 %d" % (512 * 1024)])
        w.qemu("create", "-q", "-f", "qcow2", "-b", "base1.qcow2", "-F", "qcow2", "top.qcow2")
        w.qemu_io("top.qcow2", "qcow2", ["write -P 0x03 %d 65536" % (4 * MIB)])
        w.qemu("convert", "-O", "raw", "top.qcow2", "before.raw")
        w.vessel("rebase", "-b", "base2.qcow2", "-F", "qcow2", "top.qcow2")
        w.qemu_check_clean("top.qcow2")
        info = _qemu_info(w, "top.qcow2")
        assert info["backing-filename"] == "base2.qcow2", info
        w.qemu_equal("top.qcow2", "before.raw")
        # Safe rebase onto nothing: the image becomes standalone.
        w.vessel("rebase", "-b", "", "top.qcow2")
        w.qemu_check_clean("top.qcow2")
        assert "backing-filename" not in _qemu_info(w, "top.qcow2")
        w.qemu_equal("top.qcow2", "before.raw")
        # Unsafe: only the name changes.
        w.qemu("create", "-q", "-f", "qcow2", "-b", "base1.qcow2", "-F", "qcow2", "u.qcow2")
        w.vessel("rebase", "-u", "-b", "base2.qcow2", "-F", "qcow2", "u.qcow2")
        w.qemu_check_clean("u.qcow2")
        assert _qemu_info(w, "u.qcow2")["backing-filename"] == "base2.qcow2"
        w.qemu_equal("u.qcow2", "base2.qcow2", ref_fmt="qcow2")


def test_amend():
    with Workdir() as w:
        _source(w)
        w.qemu("convert", "-f", "raw", "-O", "qcow2", "src.raw", "a.qcow2")
        steps = [("compat=0.10", {"compat": "0.10"}),
                 ("compat=1.1,lazy_refcounts=on", {"compat": "1.1", "lazy-refcounts": True}),
                 ("lazy_refcounts=off", {"lazy-refcounts": False})]
        _amend_steps(w, steps)
        status, _, err = w.vessel("amend", "-f", "raw", "-o", "size=1M", "src.raw", expect=None)
        assert status == 1 and err, err


def _amend_steps(w, steps):
    for opts, want in steps:
        w.vessel("amend", "-o", opts, "a.qcow2")
        w.qemu_check_clean("a.qcow2")
        w.qemu_equal("a.qcow2", "src.raw")
        spec = _qemu_info(w, "a.qcow2")["format-specific"]["data"]
        for k, v in want.items():
            assert spec[k] == v, (opts, spec)


def test_amend_refcount_bits():
    with Workdir() as w:
        _source(w)
        w.qemu("convert", "-f", "raw", "-O", "qcow2", "src.raw", "a.qcow2")
        _amend_steps(w, [("refcount_bits=64", {"refcount-bits": 64}),
                         ("refcount_bits=1", {"refcount-bits": 1}),
                         ("refcount_bits=16", {"refcount-bits": 16})])


def test_write_raw_roundtrip():
    with Workdir() as w:
        data = bytes(range(256)) * 4096 + bytes(MIB) + b"\x5a" * 3000
        write_file(w.path("in.raw"), data + bytes(-len(data) % 512))
        w.vessel("convert", "-f", "raw", "-O", "qcow2", "in.raw", "x.qcow2")
        w.vessel("convert", "-O", "raw", "x.qcow2", "out.raw")
        assert read_file(w.path("out.raw")) == read_file(w.path("in.raw"))
