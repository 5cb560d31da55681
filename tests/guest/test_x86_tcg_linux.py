"""x86-64 pc board under the interpreter (-accel tcg): the userspace LAPIC/IOAPIC/PIC/PIT,
then Linux to the busybox initramfs of scripts/assets.sh (build/assets/x86_64/initrd.gz).

The bare-metal payload (tests/guest/x86) checks LAPIC timer interrupts and an IOAPIC-routed
COM1 interrupt; the Linux tests boot the tiny kernel (bzImage with the 64-bit boot protocol,
and the PVH ELF), with -smp 2, and Debian's stock kernel with its virtio modules; the guest's
poweroff must end the process (ACPI S5) with status 0.
The tests use the default CPU model (qemu64, AMD vendor) unless VESSEL_TEST_X86_CPU names
another; test_tiny_skylake_poweroff always runs the Intel model Skylake-Client.
"""

import os
import subprocess
import time

import testlib
from testlib import Vm

TIMEOUT = 900
BOOT_TIMEOUT = 400
PARALLEL = False

X86_ASSETS = os.path.join(os.path.dirname(testlib.ROOT), "shared", "assets", "x86_64")
X86_ASSETS = os.environ.get("VESSEL_TEST_X86_ASSETS", X86_ASSETS)
TINY_BZIMAGE = os.path.join(X86_ASSETS, "tiny-bzImage")
TINY_VMLINUX = os.path.join(X86_ASSETS, "tiny-vmlinux")
DEBIAN_KERNEL = os.path.join(X86_ASSETS, "vmlinuz")
INITRD = os.path.join(testlib.ASSETS, "x86_64", "initrd.gz")
PAYLOAD = os.path.join(testlib.BUILD, "tests", "guest", "x86", "payload.elf")
CPU = os.environ.get("VESSEL_TEST_X86_CPU")


def linux_args(kernel, append, smp=1, memory="256", cpu=CPU):
    testlib.require_file(kernel, "the shared x86_64 assets")
    testlib.require_file(INITRD, "run scripts/assets.sh")
    return (["-M", "pc", "-accel", "tcg"] + (["-cpu", cpu] if cpu else []) +
            ["-m", memory, "-smp", str(smp), "-nographic", "-kernel", kernel, "-initrd", INITRD,
             "-append", "console=ttyS0 " + append])


def run_payload(append, timeout=60):
    """Boots the bare-metal payload under tcg; returns (exit status, console output)."""
    testlib.require_file(PAYLOAD, "run make")
    args = [testlib.require_emulator(testlib.VESSEL), "-M", "pc", "-accel", "tcg", "-m", "128",
            "-nographic", "-kernel", PAYLOAD, "-append", append]
    proc = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout)
    return proc.returncode, proc.stdout.replace("\r", "") + proc.stderr


def test_payload_lapic_timer():
    status, out = run_payload("timer")
    assert "timer: " in out and "interrupts ok" in out, out
    assert status == 0, out


def test_payload_com1_through_ioapic():
    status, out = run_payload("com1irq")
    assert "com1 irq: 1 ok" in out, out
    assert status == 0, out


def check_poweroff(kernel, smp=1, cpu=CPU):
    with Vm(linux_args(kernel, "vessel.test=poweroff", smp=smp, cpu=cpu)) as vm:
        vm.expect(r"smp: Brought up 1 node, %d CPUs?" % smp, BOOT_TIMEOUT)
        vm.expect(testlib.BOOT_MARKER, BOOT_TIMEOUT)
        status = vm.wait(120)
        assert status == 0, "exit status %d after poweroff" % status
        return vm.output


def test_tiny_bzimage_poweroff():
    out = check_poweroff(TINY_BZIMAGE)
    assert "..TIMER: vector=" in out, "IRQ 0 did not reach the IOAPIC"


def test_tiny_pvh_poweroff():
    out = check_poweroff(TINY_VMLINUX)
    if not CPU:
        assert "smpboot: CPU0: AMD" in out, "default model qemu64 is not AMD"


def test_tiny_skylake_poweroff():
    """The Intel-vendor model: Linux takes its Intel paths (and glibc its Intel CPUID leaves)."""
    out = check_poweroff(TINY_VMLINUX, cpu="Skylake-Client")
    assert "smpboot: CPU0: Intel" in out, out[-3000:]


def test_tiny_smp2_poweroff():
    check_poweroff(TINY_BZIMAGE, smp=2)


def test_tiny_interactive_shell():
    with Vm(linux_args(TINY_BZIMAGE, "")) as vm:
        vm.expect(testlib.BOOT_MARKER, BOOT_TIMEOUT)
        vm.expect(r"# ", 120)
        vm.send("echo $((6*7))\r")
        vm.expect(r"(?m)^42\r*\n", 60)
        vm.send("poweroff -f\r")
        assert vm.wait(120) == 0


def test_tiny_idle_costs_little_cpu():
    """HLT sleeps until the next LAPIC timer interrupt: an idle guest costs little."""
    with Vm(linux_args(TINY_BZIMAGE, "vessel.test=idle")) as vm:
        vm.expect(testlib.BOOT_MARKER, BOOT_TIMEOUT)
        time.sleep(3)
        # The quietest of up to six 3-second windows: other work on the host can slow the
        # tail of the boot, but a guest that spins instead of sleeping is busy in all of them.
        shares = []
        while len(shares) < 6 and (not shares or min(shares) >= 0.05):
            cpu0, t0 = vm.cpu_seconds(), time.monotonic()
            time.sleep(3)
            cpu1, t1 = vm.cpu_seconds(), time.monotonic()
            shares.append((cpu1 - cpu0) / (t1 - t0))
        print("idle x86 guest: %s%% of a core" % ", ".join("%.2f" % (x * 100) for x in shares))
        assert min(shares) < 0.05, "idle guest used %s%% of a core (limit 5%%)" % (
            ", ".join("%.1f" % (x * 100) for x in shares))


def test_debian_kernel_with_modules():
    with Vm(linux_args(DEBIAN_KERNEL, "vessel.test=poweroff", memory="512")) as vm:
        vm.expect(testlib.BOOT_MARKER, BOOT_TIMEOUT)
        status = vm.wait(120)
        out = vm.output
        assert "init: could not load" not in out, vm.tail()
        assert status == 0, "exit status %d after poweroff" % status
