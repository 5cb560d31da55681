"""x86-64 pc board under KVM: the bare-metal payload (tests/guest/x86) prints over COM1, takes
LAPIC timer and IOAPIC-routed COM1 interrupts, reads CPUID and the CMOS RTC, walks PCI
configuration space, resets through the i8042 and powers off through PM1a.
VESSEL_TEST_X86_EMULATOR=qemu-system-x86_64 runs the same checks against QEMU."""

import calendar
import fcntl
import os
import re
import subprocess
import tempfile
import time

import testlib

PAYLOAD = os.path.join(testlib.ROOT, "build", "tests", "guest", "x86", "payload.elf")
KVM_GET_API_VERSION = 0xAE00


def require_kvm():
    """Skips unless /dev/kvm opens and answers KVM_GET_API_VERSION with 12."""
    try:
        fd = os.open("/dev/kvm", os.O_RDWR)
    except OSError as e:
        raise testlib.Skip("/dev/kvm unusable: %s" % e)
    try:
        if fcntl.ioctl(fd, KVM_GET_API_VERSION) != 12:
            raise testlib.Skip("/dev/kvm has an unexpected API version")
    finally:
        os.close(fd)


def run_payload(append, extra=(), timeout=60):
    """Boots the payload with -append append; returns (exit status, console output)."""
    require_kvm()
    testlib.require_file(PAYLOAD, "run make")
    binary = testlib.require_emulator(os.environ.get("VESSEL_TEST_X86_EMULATOR") or
                                      testlib.VESSEL)
    args = [binary, "-M", "pc", "-accel", "kvm", "-m", "128", "-nographic",
            "-kernel", PAYLOAD, "-append", append] + list(extra)
    proc = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout)
    return proc.returncode, proc.stdout.replace("\r", "") + proc.stderr


def test_hello_and_poweroff():
    status, out = run_payload("hello")
    assert "x86 payload: hello\nhello\n" in out, out
    assert "poweroff failed" not in out, out
    assert status == 0, out


def test_lapic_timer_interrupts():
    status, out = run_payload("timer")
    assert "timer: " in out and "interrupts ok" in out, out
    assert status == 0, out


def test_com1_interrupt_through_ioapic():
    status, out = run_payload("com1irq")
    assert "com1 irq: 1 ok" in out, out
    assert out.count("x86 payload: com1irq") == 1, "the guest was reset:\n" + out
    assert status == 0, out


def test_cpuid_model_and_kvm_leaves():
    status, out = run_payload("cpuid", ["-cpu", "qemu64"])
    # Under KVM the vendor is the host's (as QEMU does); the hypervisor bit and leaves show.
    assert re.search(r"cpuid: vendor (GenuineIntel|AuthenticAMD) hypervisor 1 "
                     r"leaf40000000 KVMKVMKVM", out), out
    assert status == 0, out


def test_pio_exits():
    status, out = run_payload("pio 1000")
    assert "pio: 1000 exits" in out, out
    assert status == 0, out


def test_pvh_start_info():
    status, out = run_payload("info")
    assert "start_info memmap entries" in out and "rsdp 0x00000000000" in out, out
    assert status == 0, out


def test_smp_boots():
    status, out = run_payload("hello", ["-smp", "2"])
    assert "hello\n" in out and status == 0, out


def test_same_payload_under_tcg():
    """The board does not care which accelerator runs it: the interpreter boots it too."""
    testlib.require_file(PAYLOAD, "run make")
    binary = testlib.require_emulator(testlib.VESSEL)
    proc = subprocess.run([binary, "-M", "pc", "-accel", "tcg", "-nographic", "-kernel",
                           PAYLOAD, "-append", "hello"], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60)
    out = proc.stdout.replace("\r", "") + proc.stderr
    assert "x86 payload: hello\nhello\n" in out, out
    assert proc.returncode == 0, out


def test_unknown_cpu_model():
    require_kvm()
    testlib.require_file(PAYLOAD, "run make")
    binary = testlib.require_emulator(testlib.VESSEL)
    proc = subprocess.run([binary, "-M", "pc", "-accel", "kvm", "-cpu", "nosuchcpu",
                           "-nographic", "-kernel", PAYLOAD], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1 and "nosuchcpu" in proc.stderr, proc.stderr


def test_cmos_rtc_time_and_memory_size():
    before = time.time()
    status, out = run_payload("rtc")
    after = time.time()
    m = re.search(r"rtc: (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) above16m (\d+)", out)
    assert m, out
    guest = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S"))
    assert before - 2 <= guest <= after + 2, (m.group(1), before, after)
    # -m 128: (128 MiB - 16 MiB) / 64 KiB
    assert int(m.group(2)) == 1792, out
    assert status == 0, out


def test_pci_config_walk():
    with tempfile.NamedTemporaryFile(suffix=".raw") as img:
        img.truncate(1 << 20)
        img.flush()
        status, out = run_payload("pci", ["-drive", "file=%s,format=raw,if=none,id=d0" % img.name,
                                          "-device", "virtio-blk-pci,drive=d0"])
    # The host bridge at 00.0 and the virtio block device (modern or transitional id).
    assert re.search(r"pci: slot 0 id 0x0*[0-9a-f]{4}8086 class 0x0*60000\n", out), out
    assert re.search(r"pci: slot \d+ id 0x0*(1042|1001)1af4 class 0x0*10000\n", out), out
    assert status == 0, out


def test_i8042_reset_restores_lapic():
    status, out = run_payload("kbdreset")
    assert out.count("kbdreset: resetting") == 1, out
    assert "kbdreset: back, lvt timer masked 1" in out, out
    assert status == 0, out


def test_smp_ap_started_by_init_sipi():
    """The BSP wakes the APs with INIT and SIPI; each reaches long mode and prints."""
    status, out = run_payload("smp 1", ["-smp", "2"])
    assert "smp: ap 1 up in long mode\n" in out, out
    assert "smp: bsp 0, 1 aps started, ids 0x0000000000000002 ok" in out, out
    assert status == 0, out


def test_smp_three_cpus():
    status, out = run_payload("smp 2", ["-smp", "3"])
    assert "smp: ap 1 up" in out and "smp: ap 2 up" in out, out
    assert "smp: bsp 0, 2 aps started, ids 0x0000000000000006 ok" in out, out
    assert status == 0, out


def fnv1a(data):
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xffffffff
    return h


def test_virtio_blk_pci_reads_sector0():
    """The payload finds the modern virtio-pci capabilities, sets up queue 0, notifies and
    polls the used ring; the FNV-1a of sector 0 matches the image's."""
    sector0 = os.urandom(512)
    with tempfile.NamedTemporaryFile(suffix=".raw") as img:
        img.write(sector0)
        img.truncate(3 << 20)
        img.flush()
        status, out = run_payload("virtio-blk",
                                  ["-drive", "file=%s,format=raw,if=none,id=d0" % img.name,
                                   "-device", "virtio-blk-pci,drive=d0"])
    m = re.search(r"virtio-blk: capacity (\d+) used (\d+) status (\d+) len (\d+) "
                  r"sector0 fnv1a 0x([0-9a-f]+)", out)
    assert m, out
    assert m.group(1) == str(3 << 11) and m.group(2) == "1" and m.group(3) == "0", out
    assert int(m.group(4)) == 513, out
    assert int(m.group(5), 16) == fnv1a(sector0), (out, hex(fnv1a(sector0)))
    assert status == 0, out
