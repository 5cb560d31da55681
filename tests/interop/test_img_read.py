"""Images made by qemu-img read back bit-exactly through vessel-img.

Each test builds one kind of image with qemu-img and qemu-io, then compares
`vessel-img convert -O raw` with `qemu-img convert -O raw` byte for byte.
"""

from interop.test_img_common import Workdir, pattern_writes

MIB = 1024 * 1024
SIZE = 8 * MIB


def _qcow2_case(opts, size=SIZE, seed=1):
    with Workdir() as w:
        args = ["create", "-q", "-f", "qcow2"] + (["-o", opts] if opts else [])
        w.qemu(*(args + ["img.qcow2", str(size)]))
        w.qemu_io("img.qcow2", "qcow2", pattern_writes(size, seed))
        w.assert_reads_same("img.qcow2")
        w.assert_reads_same("img.qcow2", "qcow2")


def test_qcow2_default():
    _qcow2_case(None)


def test_qcow2_compat_010():
    _qcow2_case("compat=0.10", seed=2)


def test_qcow2_compat_11_lazy_refcounts():
    _qcow2_case("compat=1.1,lazy_refcounts=on", seed=3)


def test_qcow2_cluster_512():
    _qcow2_case("cluster_size=512", seed=4)


def test_qcow2_cluster_2m():
    _qcow2_case("cluster_size=2M", size=16 * MIB, seed=5)


def test_qcow2_cluster_4k_refcount_bits_1():
    _qcow2_case("cluster_size=4096,refcount_bits=1", seed=6)


def test_qcow2_refcount_bits_64():
    _qcow2_case("refcount_bits=64", seed=7)


def test_qcow2_odd_size():
    _qcow2_case(None, size=SIZE + 12345, seed=8)


def test_qcow2_preallocation():
    for mode in ("metadata", "falloc", "full"):
        _qcow2_case("preallocation=" + mode, size=4 * MIB, seed=9)


def test_qcow2_compressed():
    with Workdir() as w:
        w.qemu("create", "-q", "-f", "raw", "src.raw", str(SIZE))
        w.qemu_io("src.raw", "raw", pattern_writes(SIZE, 10) + [
            "write -P 0x5a %d %d" % (3 * MIB, MIB)])
        w.qemu("convert", "-c", "-f", "raw", "-O", "qcow2", "src.raw", "c.qcow2")
        w.assert_reads_same("c.qcow2")
        # Partly overwritten compressed clusters, and a small-cluster compressed image.
        w.qemu_io("c.qcow2", "qcow2", ["write -P 0x77 %d 4096" % (3 * MIB + 8192)])
        w.assert_reads_same("c.qcow2")
        w.qemu("convert", "-c", "-f", "raw", "-O", "qcow2", "-o", "cluster_size=4096",
               "src.raw", "c4k.qcow2")
        w.assert_reads_same("c4k.qcow2")


def test_backing_chain():
    with Workdir() as w:
        w.qemu("create", "-q", "-f", "raw", "base.raw", str(SIZE))
        w.qemu_io("base.raw", "raw", pattern_writes(SIZE, 11))
        w.qemu("create", "-q", "-f", "qcow2", "-b", "base.raw", "-F", "raw", "mid.qcow2")
        w.qemu_io("mid.qcow2", "qcow2", ["write -P 0x21 %d 65536" % MIB,
                                         "write -z 0 4096", "discard %d 65536" % (2 * MIB)])
        w.qemu("create", "-q", "-f", "qcow2", "-o", "cluster_size=4096",
               "-b", "mid.qcow2", "-F", "qcow2", "top.qcow2", str(SIZE + 2 * MIB))
        w.qemu_io("top.qcow2", "qcow2", ["write -P 0x31 %d 512" % (MIB + 1024),
                                         "write -P 0x32 %d 8192" % (SIZE + 4096)])
        w.assert_reads_same("top.qcow2")
        w.assert_reads_same("mid.qcow2")


def test_snapshots():
    with Workdir() as w:
        w.qemu("create", "-q", "-f", "qcow2", "s.qcow2", str(SIZE))
        w.qemu_io("s.qcow2", "qcow2", pattern_writes(SIZE, 12))
        w.qemu("snapshot", "-c", "one", "s.qcow2")
        w.qemu_io("s.qcow2", "qcow2", ["write -P 0x99 0 131072", "write -z %d 65536" % MIB])
        w.qemu("snapshot", "-c", "two", "s.qcow2")
        w.qemu_io("s.qcow2", "qcow2", ["write -P 0x98 65536 4096"])
        w.assert_reads_same("s.qcow2")
        # After reverting with qemu-img the old content is what vessel-img reads.
        w.qemu("snapshot", "-a", "one", "s.qcow2")
        w.assert_reads_same("s.qcow2")


def test_raw():
    with Workdir() as w:
        w.qemu("create", "-q", "-f", "raw", "r.raw", str(SIZE + 512))
        w.qemu_io("r.raw", "raw", pattern_writes(SIZE, 13))
        w.assert_reads_same("r.raw", "raw")
