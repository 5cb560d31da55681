"""Linux boots on -M virt: the test kernel and busybox initramfs (scripts/assets.sh).

The emulator is build/vessel, or $VESSEL_TEST_EMULATOR (qemu-system-riscv64 checks the tests).
Timeouts are generous: the interpreter is young.
"""

import hashlib
import os
import re
import time

import testlib
from testlib import Vm

TIMEOUT = 900
BOOT_TIMEOUT = 300


def boot(append, smp=1, console="pty", env=None):
    testlib.require_riscv_linux()
    return Vm(testlib.riscv_linux_args(append, smp=smp), console=console, env=env)


def check_poweroff(smp):
    """Boots to the marker with smp harts online; poweroff -f must end the process with 0."""
    with boot("vessel.test=poweroff", smp=smp) as vm:
        vm.expect(r"smp: Brought up \d+ nodes?, %d CPUs?" % smp, BOOT_TIMEOUT)
        vm.expect(testlib.BOOT_MARKER, BOOT_TIMEOUT)
        status = vm.wait(60)
        assert status == 0, "exit status %d after poweroff" % status


def test_boot_poweroff():
    check_poweroff(1)


def test_boot_poweroff_smp4():
    check_poweroff(4)


def test_boot_interactive_shell():
    with boot("") as vm:
        vm.expect(testlib.BOOT_MARKER, BOOT_TIMEOUT)
        vm.expect(r"# ", 60)  # busybox sh's root prompt: the shell reads the console now
        vm.send("echo $((6*7))\r")
        vm.expect(r"(?m)^42\r*\n", 60)
        vm.send("poweroff -f\r")
        status = vm.wait(60)
        assert status == 0, "exit status %d after poweroff -f" % status


def test_idle_guest_costs_little_cpu():
    with boot("vessel.test=idle") as vm:
        vm.expect(testlib.BOOT_MARKER, BOOT_TIMEOUT)
        time.sleep(2)  # let the last boot work (deferred initcalls, console flush) settle
        cpu0, t0 = vm.cpu_seconds(), time.monotonic()
        time.sleep(10)
        cpu1, t1 = vm.cpu_seconds(), time.monotonic()
        share = (cpu1 - cpu0) / (t1 - t0)
        print("idle guest: %.2f%% of a core" % (share * 100))
        assert share < 0.02, "idle guest used %.1f%% of a core (limit 2%%)" % (share * 100)


def guest_md5_of_busybox(env):
    """md5sum of /bin/busybox computed by the guest (compute-bound: hot code)."""
    with boot("", env=env) as vm:
        vm.expect(testlib.BOOT_MARKER, BOOT_TIMEOUT)
        vm.expect(r"# ", 60)
        vm.send("for i in 1 2 3; do md5sum /bin/busybox; done; poweroff -f\r")
        m = vm.expect(r"(?m)^([0-9a-f]{32})  /bin/busybox\r*\n", 120)
        assert vm.wait(60) == 0
        return m.group(1)


def test_guest_md5_with_and_without_jit():
    """The same guest result compiled to host code (default) and interpreted only."""
    with open(os.path.join(testlib.BUILD, "assets", "riscv64", "busybox"), "rb") as f:
        want = hashlib.md5(f.read()).hexdigest()
    assert guest_md5_of_busybox(None) == want
    assert guest_md5_of_busybox(dict(os.environ, VESSEL_JIT="off")) == want


def test_perfmap_names_jit_code():
    """-perfmap: /tmp/perf-PID.map lists the JIT's host code as perf expects it."""
    if testlib.emulator() != testlib.VESSEL:
        raise testlib.unittest.SkipTest("-perfmap is Vessel's (QEMU 7.2 has none)")
    testlib.require_riscv_linux()
    with Vm(testlib.riscv_linux_args("vessel.test=poweroff", extra=["-perfmap"])) as vm:
        vm.expect(testlib.BOOT_MARKER, BOOT_TIMEOUT)
        assert vm.wait(60) == 0
        path = "/tmp/perf-%d.map" % vm.pid
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    finally:
        if os.path.exists(path):
            os.unlink(path)
    assert len(lines) > 100, "only %d lines in %s" % (len(lines), path)
    for line in lines:
        m = re.fullmatch(r"([0-9a-f]+) ([0-9a-f]+) riscv-0x([0-9a-f]+)", line)
        assert m, "bad perf map line %r" % line
        assert int(m.group(1), 16) and int(m.group(2), 16), line
