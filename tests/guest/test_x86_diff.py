"""Differential test of the x86 interpreter against the host CPU: thousands of generated ring-3
instruction sequences (tests/guest/x86/diff/gen.py) run in the bare-metal harness under
-accel kvm (natively: the oracle) and under -accel tcg; every result must match except what the
SDM leaves undefined. VESSEL_DIFF_SEED=<n> reproduces a run (default: a fixed seed, so make check
is reproducible; VESSEL_DIFF_SEED=random explores), VESSEL_DIFF_COUNT sets its size."""

import json
import os
import random
import socket
import struct
import subprocess
import sys
import tempfile
import time

import testlib

sys.path.insert(0, os.path.join(testlib.ROOT, "tests", "guest", "x86", "diff"))
import gen  # noqa: E402

HARNESS = os.path.join(testlib.ROOT, "build", "tests", "guest", "x86", "diff", "diff.elf")
KVM_GET_API_VERSION = 0xAE00
MAX_REPORTED = 8
DEFAULT_SEED = 20261122


def require_kvm():
    import fcntl
    try:
        fd = os.open("/dev/kvm", os.O_RDWR)
    except OSError as e:
        raise testlib.Skip("/dev/kvm unusable: %s" % e)
    try:
        if fcntl.ioctl(fd, KVM_GET_API_VERSION) != 12:
            raise testlib.Skip("/dev/kvm has an unexpected API version")
    finally:
        os.close(fd)


def qmp(path, commands, timeout=30):
    """Sends the commands (dicts) after qmp_capabilities; returns their replies."""
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise AssertionError("no QMP socket at %s" % path)
        time.sleep(0.05)
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(path)
    f = s.makefile("rwb")
    f.readline()
    replies = []
    for cmd in [{"execute": "qmp_capabilities"}] + commands:
        f.write(json.dumps(cmd).encode() + b"\r\n")
        f.flush()
        while True:
            msg = json.loads(f.readline())
            if "return" in msg or "error" in msg:
                replies.append(msg)
                break
    s.close()
    return replies[1:]


def run_harness(accel, blob_path, count, tmp):
    """Runs all cases under accel; returns the parsed result records."""
    sock = os.path.join(tmp, "qmp-%s.sock" % accel)
    out = os.path.join(tmp, "results-%s.bin" % accel)
    args = ["-M", "pc", "-accel", accel, "-m", "256", "-nographic", "-kernel", HARNESS,
            "-initrd", blob_path, "-qmp", "unix:%s,server=on,wait=off" % sock]
    with testlib.Vm(args, binary=testlib.require_emulator(testlib.VESSEL), console="pipe") as vm:
        m = vm.expect(r"diff: (done 0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+)\r?\n|[^\n]*\n)",
                      timeout=300)
        assert m.group(2), "%s: harness failed: %s" % (accel, vm.tail())
        n, addr, size = (int(m.group(i), 16) for i in (2, 3, 4))
        assert n == count, m.group(0)
        r = qmp(sock, [{"execute": "pmemsave", "arguments": {"val": addr, "size": size,
                                                               "filename": out}},
                       {"execute": "quit"}])
        assert "return" in r[0], r
        vm.wait(30)
    with open(out, "rb") as f:
        return gen.parse_results(f.read(), count)


def disassemble(code):
    try:
        with tempfile.NamedTemporaryFile(suffix=".bin") as f:
            f.write(code)
            f.flush()
            p = subprocess.run(["objdump", "-D", "-b", "binary", "-mi386:x86-64",
                                "--adjust-vma=%#x" % gen.CODE_BASE, f.name],
                               capture_output=True, text=True, timeout=10)
        lines = [ln for ln in p.stdout.splitlines() if ln.strip().startswith("1000")]
        return "\n".join("    " + ln.strip() for ln in lines)
    except (OSError, subprocess.SubprocessError):
        return "    (objdump unavailable)"


FX_FIELDS = [("fcw", 0, 2), ("fsw", 2, 4), ("ftw", 4, 5), ("mxcsr", 24, 28)] + \
    [("st%d" % i, 32 + 16 * i, 42 + 16 * i) for i in range(8)] + \
    [("xmm%d" % i, 160 + 16 * i, 176 + 16 * i) for i in range(16)]


def pvm_gp(a, b, case):
    """PVM (this host's /dev/kvm) reflects a ring-3 #GP to the guest as #UD: a #UD from the
    oracle where tcg raised #GP, before the final ud2, is that #GP; its error code is lost."""
    end = gen.CODE_BASE + len(case.code) - len(gen.END)
    return a["vector"] == 6 and b["vector"] == 13 and a["rip"] == b["rip"] != end


def differences(case, a, b):
    """Names and values of the architecturally defined results that differ."""
    d = []
    if a["rip"] != b["rip"]:
        d.append(("rip", a["rip"], b["rip"]))
    if pvm_gp(a, b, case):
        return d
    if a["vector"] != b["vector"]:
        d.append(("vector", a["vector"], b["vector"]))
        return d
    if a["vector"] in (8, 10, 11, 12, 13, 14, 17) and a["error"] != b["error"]:
        d.append(("error code", a["error"], b["error"]))
    if a["vector"] == 14 and a["cr2"] != b["cr2"]:
        d.append(("cr2", a["cr2"], b["cr2"]))
    for i in range(16):
        if i not in case.undef_regs and a["gprs"][i] != b["gprs"][i]:
            d.append((gen.REG64[i], a["gprs"][i], b["gprs"][i]))
    mask = gen.COMPARED_FLAGS & ~case.undef_flags_at(a["rip"])
    if (a["rflags"] ^ b["rflags"]) & mask:
        d.append(("rflags (mask %#x)" % mask, a["rflags"] & mask, b["rflags"] & mask))
    for name, lo, hi in FX_FIELDS:
        if a["fx"][lo:hi] != b["fx"][lo:hi]:
            d.append((name, a["fx"][lo:hi][::-1].hex(), b["fx"][lo:hi][::-1].hex()))
    wa, wb = bytearray(a["window"]), bytearray(b["window"])
    if case.window_mask:
        off, m = case.window_mask
        for w in (wa, wb):
            struct.pack_into("<Q", w, off, struct.unpack_from("<Q", w, off)[0] & m)
    if wa != wb:
        diffs = [i for i in range(gen.WSIZE) if wa[i] != wb[i]]
        lo, hi = diffs[0] & ~7, (diffs[-1] | 7) + 1
        d.append(("window[%#x:%#x]" % (lo, hi), wa[lo:hi].hex(), wb[lo:hi].hex()))
    return d


def describe(seed, index, case, diffs):
    init = " ".join("%s=%#x" % (gen.REG64[i], v) for i, v in enumerate(case.regs))
    lines = ["seed %d case %d (%s): %s" % (seed, index, case.kind, "; ".join(case.asm)),
             "  bytes: %s" % case.code.hex(" "), disassemble(case.code),
             "  initial: %s rflags=%#x mxcsr=%#x" % (init, case.rflags,
                                                      struct.unpack_from("<I", case.fx, 24)[0])]
    for name, k, t in diffs:
        lines.append("  %-22s kvm %s  tcg %s" % (name, k if isinstance(k, str) else "%#x" % k,
                                                t if isinstance(t, str) else "%#x" % t))
    return "\n".join(lines)


def test_tcg_matches_host_cpu():
    require_kvm()
    testlib.require_file(HARNESS, "run make")
    # A fixed seed by default keeps `make check` reproducible; VESSEL_DIFF_SEED=random
    # explores (do that, with a larger VESSEL_DIFF_COUNT, after touching the x86 interpreter).
    seed_env = os.environ.get("VESSEL_DIFF_SEED") or str(DEFAULT_SEED)
    seed = random.randrange(1 << 32) if seed_env == "random" else int(seed_env)
    count = int(os.environ.get("VESSEL_DIFF_COUNT") or 3000)
    print("x86 diff: seed %d, %d cases (VESSEL_DIFF_SEED=%d to reproduce)" % (seed, count, seed))
    cases = gen.generate(seed, count)
    with tempfile.TemporaryDirectory() as tmp:
        blob_path = os.path.join(tmp, "cases.bin")
        with open(blob_path, "wb") as f:
            f.write(gen.blob(cases))
        kvm = run_harness("kvm", blob_path, count, tmp)
        tcg = run_harness("tcg", blob_path, count, tmp)
    failures = []
    harness_faults = [i for i, r in enumerate(kvm) if r["vector"] & 0x100]
    assert not harness_faults, "seed %d: the harness faulted in ring 0 on cases %s" % (
        seed, harness_faults[:10])
    for i, (case, a, b) in enumerate(zip(cases, kvm, tcg)):
        d = differences(case, a, b)
        if d:
            failures.append(describe(seed, i, case, d))
    assert not failures, "%d of %d cases differ (seed %d); first %d:\n%s" % (
        len(failures), count, seed, min(len(failures), MAX_REPORTED),
        "\n\n".join(failures[:MAX_REPORTED]))
