"""virtio-balloon end to end: Linux 6.1 on -M virt with -device virtio-balloon-device and a
QMP socket. The balloon target moves the guest's MemTotal and the emulator's RSS; the
guest's statistics come back through qom-get; query-balloon and BALLOON_CHANGE follow.

The emulator is build/vessel, or $VESSEL_TEST_EMULATOR (qemu-system-riscv64 checks the test).
"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "monitor"))

import testlib  # noqa: E402
from qmpclient import Qmp, connect_unix  # noqa: E402
from testlib import Vm  # noqa: E402

TIMEOUT = 1200
PARALLEL = False
BOOT_TIMEOUT = 400
MIB = 1 << 20
RAM_MIB = 512
PATH = "/machine/peripheral/balloon0"


class Guest:
    """Linux booted to its shell with a balloon and a QMP socket."""

    def __init__(self, device_opts=""):
        testlib.require_riscv_linux()
        self.dir = testlib.tempdir("vessel-balloon-")
        sock = os.path.join(self.dir, "qmp.sock")
        extra = ["-device", "virtio-balloon-device,id=balloon0" + device_opts,
                 "-qmp", "unix:%s,server=on,wait=off" % sock]
        self.vm = Vm(testlib.riscv_linux_args(memory=RAM_MIB, extra=extra))
        self.qmp = None
        self.seq = 0
        try:
            self.vm.expect(testlib.BOOT_MARKER, BOOT_TIMEOUT)
            self.vm.expect(r"# ", 60)
            self.qmp = Qmp(connect_unix(sock))
        except BaseException:
            self.vm.kill()
            raise

    def sh(self, command, timeout=120):
        """Runs a shell command; returns its output (between two markers)."""
        self.seq += 1
        begin, end = "@B%d@" % self.seq, "@E%d@" % self.seq
        # The markers are split in the typed line so that only the output matches them.
        self.vm.send("echo '@B''%d@'; %s; echo '@E''%d@'\r" % (self.seq, command, self.seq))
        m = self.vm.expect(r"(?s)%s\r*\n(.*?)%s" % (re.escape(begin), re.escape(end)), timeout)
        return m.group(1).replace("\r", "")

    def meminfo(self, field):
        """A /proc/meminfo field, in KiB."""
        out = self.sh("grep '^%s:' /proc/meminfo" % field)
        m = re.search(r"%s:\s+(\d+) kB" % field, out)
        assert m, "no %s in %r" % (field, out)
        return int(m.group(1))

    def rss_kib(self):
        with open("/proc/%d/status" % self.vm.pid) as f:
            return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1))

    def actual(self):
        return self.qmp.ok("query-balloon")["actual"]

    def wait_for(self, what, cond, timeout=180):
        """Polls cond() until it returns a true value; fails with what after timeout."""
        deadline = time.monotonic() + timeout
        while True:
            v = cond()
            if v:
                return v
            if time.monotonic() > deadline:
                raise AssertionError("%s: not reached within %d s" % (what, timeout))
            time.sleep(1)

    def close(self):
        if self.qmp:
            self.qmp.close()
        self.vm.kill()


def test_balloon_inflate_deflate_stats_events():
    g = Guest()
    try:
        # The driver is bound and the balloon starts empty.
        drivers = g.sh("cat /sys/bus/virtio/devices/*/modalias; "
                       "ls /sys/bus/virtio/drivers/virtio_balloon")
        assert "virtio:d00000005v" in drivers, drivers
        assert g.actual() == RAM_MIB * MIB
        assert g.qmp.hmp("info balloon") == "balloon: actual=%d\r\n" % RAM_MIB
        total0 = g.meminfo("MemTotal")
        print("MemTotal before: %d KiB" % total0)

        # Give the host something to take back: dd's 200 MiB buffer touches guest memory,
        # which is free again when dd exits.
        out = g.sh("dd if=/dev/zero of=/dev/null bs=200M count=1", timeout=300)
        assert "209715200 bytes" in out, out
        rss0 = g.rss_kib()
        print("RSS after touching memory: %d KiB" % rss0)

        # Shrink the guest to 256 MiB.
        g.qmp.events.clear()
        assert g.qmp.ok("balloon", {"value": 256 * MIB}) == {}
        g.wait_for("balloon inflated to 256 MiB", lambda: g.actual() == 256 * MIB)
        total1 = g.meminfo("MemTotal")
        rss1 = g.rss_kib()
        print("MemTotal after inflating: %d KiB, RSS %d KiB" % (total1, rss1))
        assert total0 - total1 == 256 * 1024, (total0, total1)
        # The host got back most of the 256 MiB (the balloon takes free pages, and at
        # least 200 MiB of them had been touched).
        assert rss0 - rss1 > 150 * 1024, (rss0, rss1)
        assert g.qmp.hmp("info balloon") == "balloon: actual=256\r\n"

        # BALLOON_CHANGE: the last event reports the final size; at most one a second.
        g.qmp.wait_event("BALLOON_CHANGE", 10)
        time.sleep(2.5)
        g.qmp.cmd("query-status")
        changes = [e for e in g.qmp.events if e["event"] == "BALLOON_CHANGE"]
        g.qmp.events.clear()
        final = changes[-1] if changes else None
        if final is None or final["data"]["actual"] != 256 * MIB:
            raise AssertionError("last BALLOON_CHANGE %r is not 256 MiB" % final)
        stamps = [e["timestamp"]["seconds"] + e["timestamp"]["microseconds"] / 1e6
                  for e in changes]
        for a, b in zip(stamps, stamps[1:]):
            assert b - a >= 0.9, "BALLOON_CHANGE events %.3f s apart" % (b - a)

        # Guest statistics through qom-get, as libvirt reads them.
        assert g.qmp.ok("qom-get", {"path": PATH, "property": "guest-stats-polling-interval"}) == 0
        # The driver sent one buffer when it probed; polling asks for newer ones.
        enabled = int(time.time())
        assert g.qmp.ok("qom-set", {"path": PATH, "property": "guest-stats-polling-interval",
                                    "value": 2}) == {}
        assert g.qmp.ok("qom-get", {"path": PATH, "property": "guest-stats-polling-interval"}) == 2

        def fresh_stats():
            r = g.qmp.cmd("qom-get", {"path": PATH, "property": "guest-stats"})
            if "error" in r:
                assert r["error"]["desc"] == "guest hasn't updated any stats yet", r
                return None
            return r["return"] if r["return"]["last-update"] >= enabled else None

        stats = g.wait_for("guest statistics", fresh_stats, 60)
        print("guest-stats: %r" % stats)
        s = stats["stats"]
        assert set(s) == {"stat-swap-in", "stat-swap-out", "stat-major-faults",
                          "stat-minor-faults", "stat-free-memory", "stat-total-memory",
                          "stat-available-memory", "stat-disk-caches", "stat-htlb-pgalloc",
                          "stat-htlb-pgfail"}, s
        assert s["stat-total-memory"] == total1 * 1024, (s["stat-total-memory"], total1)
        assert 0 < s["stat-free-memory"] < s["stat-total-memory"]
        assert s["stat-minor-faults"] > 0
        # Polling goes on: last-update moves.
        first = stats["last-update"]
        g.wait_for("a newer statistics update",
                   lambda: (fresh_stats() or {"last-update": 0})["last-update"] > first, 30)

        # Grow the guest back: MemTotal returns.
        assert g.qmp.hmp("balloon %d" % RAM_MIB) == ""
        g.wait_for("balloon deflated", lambda: g.actual() == RAM_MIB * MIB)
        total2 = g.meminfo("MemTotal")
        print("MemTotal after deflating: %d KiB" % total2)
        assert total2 == total0, (total0, total2)
        g.qmp.wait_event("BALLOON_CHANGE", 10)
    finally:
        g.close()


def test_balloon_errors():
    """Without a balloon: QEMU's DeviceNotActive; bad targets refused."""
    testlib.require_emulator()
    d = testlib.tempdir("vessel-balloon-")
    sock = os.path.join(d, "qmp.sock")
    args = ["-M", "virt", "-m", "64", "-display", "none", "-serial", "null", "-S",
            "-bios", "none", "-qmp", "unix:%s,server=on,wait=off" % sock]
    with Vm(args, console="pipe"):
        q = Qmp(connect_unix(sock))
        for cmd, cargs in (("balloon", {"value": 64 * MIB}), ("query-balloon", None)):
            r = q.cmd(cmd, cargs)
            assert r.get("error") == {"class": "DeviceNotActive",
                                      "desc": "No balloon device has been activated"}, r
        r = q.cmd("human-monitor-command", {"command-line": "info balloon"})
        assert "No balloon device has been activated" in r["return"], r
        q.close()
    with Vm(args + ["-device", "virtio-balloon-device,id=b0"], console="pipe"):
        q = Qmp(connect_unix(sock))
        for value in (0, -MIB):
            r = q.cmd("balloon", {"value": value})
            assert r.get("error") == {"class": "GenericError",
                                      "desc": "Parameter 'target' expects a size"}, r
        assert q.ok("query-balloon") == {"actual": 64 * MIB}
        r = q.cmd("qom-set", {"path": "/machine/peripheral/b0",
                              "property": "guest-stats-polling-interval", "value": -1})
        assert r["error"]["desc"] == "timer value must be greater than zero", r
        q.close()
    with Vm(args + ["-device", "virtio-balloon-device,id=b0",
                    "-device", "virtio-balloon-device,id=b1"], console="pipe") as vm:
        status = vm.wait(30)
        assert status != 0
        assert "Only one balloon device is supported" in vm.output, vm.output


def test_free_page_reporting():
    """free-page-reporting=on: memory the guest frees goes back to the host by itself."""
    g = Guest(",free-page-reporting=on")
    try:
        out = g.sh("dd if=/dev/zero of=/dev/null bs=200M count=1", timeout=300)
        assert "209715200 bytes" in out, out
        # dd touched 200 MiB; right after it the RSS holds most of it, later the guest's
        # reports (2 s after pages are freed) hand it back without any balloon target.
        peak = g.rss_kib()
        print("RSS after dd: %d KiB" % peak)
        assert peak > 200 * 1024, peak
        low = g.wait_for("RSS to fall by 150 MiB",
                         lambda: (lambda r: r if peak - r > 150 * 1024 else None)(g.rss_kib()),
                         60)
        print("RSS after reporting: %d KiB" % low)
        # Reported pages are still the guest's: no balloon, full MemTotal, memory usable.
        assert g.actual() == RAM_MIB * MIB
        out = g.sh("dd if=/dev/zero of=/dev/null bs=200M count=1", timeout=300)
        assert "209715200 bytes" in out, out
    finally:
        g.close()
