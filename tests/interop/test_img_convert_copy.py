"""vessel-img convert through the copy path (bdrv_copy_range, zero detection on the source's
mapping) writes what qemu-img convert writes.

The source has data runs at unaligned offsets with all-zero 4 KiB blocks inside them, runs
of zeroes shorter than 4 KiB, holes, and an odd size. For raw and qcow2 sources and targets
and several -S values, the output must read the same as qemu-img's and map the same
(`qemu-img map`: which ranges are data and which are zero), and qcow2 outputs must pass
`qemu-img check`.
"""

import json

from interop.test_img_common import Workdir

KIB = 1024
MIB = 1024 * KIB
SIZE = 6 * MIB + 3 * 512


def _source(w):
    w.qemu("create", "-q", "-f", "raw", "src.raw", str(SIZE))
    w.qemu_io("src.raw", "raw", [
        "write -P 0x11 0 %d" % (700 * KIB + 100),
        "write -z %d %d" % (64 * KIB, 8 * KIB),          # aligned zero blocks inside data
        "write -z %d %d" % (200 * KIB + 1000, 2 * KIB),  # zeroes shorter than a block
        "write -P 0x22 %d %d" % (MIB + 4095, 3 * MIB),
        "write -z %d %d" % (2 * MIB, 12 * KIB),
        "write -P 0x33 %d %d" % (SIZE - 5000, 5000),
    ])
    w.qemu("convert", "-f", "raw", "-O", "qcow2", "src.raw", "src.qcow2")


def _map(w, image, fmt):
    _, out, _ = w.qemu("map", "-f", fmt, "--output=json", image)
    merged = []
    for e in json.loads(out):
        if merged and merged[-1][2:] == (e["data"], e["zero"]) and \
                merged[-1][0] + merged[-1][1] == e["start"]:
            merged[-1] = (merged[-1][0], merged[-1][1] + e["length"]) + merged[-1][2:]
        else:
            merged.append((e["start"], e["length"], e["data"], e["zero"]))
    return merged


def test_convert_copy_matches_qemu():
    with Workdir() as w:
        _source(w)
        for sfmt in ("raw", "qcow2"):
            for tfmt in ("raw", "qcow2"):
                for sparse in ([], ["-S", "0"], ["-S", "64k"], ["-W"]):
                    args = ["convert", "-f", sfmt, "-O", tfmt] + sparse + ["src." + sfmt]
                    w.vessel(*(args + ["v." + tfmt]))
                    w.qemu(*(args + ["q." + tfmt]))
                    w.qemu_equal("v." + tfmt, "q." + tfmt, fmt=tfmt, ref_fmt=tfmt)
                    if tfmt == "qcow2":
                        w.qemu_check_clean("v.qcow2")
                    got, want = _map(w, "v." + tfmt, tfmt), _map(w, "q." + tfmt, tfmt)
                    assert got == want, (sfmt, tfmt, sparse, got, want)


def test_convert_copy_existing_target():
    with Workdir() as w:
        _source(w)
        w.qemu("create", "-q", "-f", "qcow2", "t.qcow2", str(SIZE))
        w.qemu_io("t.qcow2", "qcow2", ["write -P 0x77 0 %d" % SIZE])
        w.vessel("convert", "-n", "-f", "qcow2", "-O", "qcow2", "src.qcow2", "t.qcow2")
        w.qemu_check_clean("t.qcow2")
        w.qemu_equal("t.qcow2", "src.raw")
