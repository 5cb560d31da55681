"""A management script that only uses socat drives a Linux guest: pause, inspect, balloon,
power down.

Boots the test kernel and initramfs (scripts/assets.sh) with a QMP socket; all monitor traffic
goes through socat processes fed with fixed JSON lines, as a shell script would do it.
"""

import json
import os
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import testlib  # noqa: E402

TIMEOUT = 900
BOOT_TIMEOUT = 300


class SocatSession:
    """socat between a unix socket and pipes; lines() parses what came back so far."""

    def __init__(self, path, lines, linger=120):
        script = "".join(json.dumps(m) + "\n" for m in lines)
        # The shell keeps socat's input open so that it stays connected for the events.
        self.proc = subprocess.Popen(["sh", "-c", 'printf "%%s" "$1"; sleep %d' % linger,
                                      "sh", script], stdout=subprocess.PIPE)
        self.socat = subprocess.Popen(["socat", "-", "UNIX-CONNECT:" + path],
                                      stdin=self.proc.stdout, stdout=subprocess.PIPE)
        self.proc.stdout.close()
        self.msgs = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.socat.stdout:
            with self.cond:
                self.msgs.append(json.loads(raw))
                self.cond.notify_all()
        with self.cond:
            self.msgs.append(None)
            self.cond.notify_all()

    def wait_for(self, pred, timeout=30, what="message"):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for m in self.msgs:
                    if m is not None and pred(m):
                        return m
                left = deadline - time.monotonic()
                if left <= 0 or (self.msgs and self.msgs[-1] is None):
                    raise AssertionError("no %s from socat; got %r" % (what, self.msgs[-8:]))
                self.cond.wait(min(left, 1))

    def reply(self, ident, timeout=30):
        return self.wait_for(lambda m: m.get("id") == ident, timeout, "reply %r" % ident)

    def event(self, name, timeout=30):
        return self.wait_for(lambda m: m.get("event") == name, timeout, "%s event" % name)

    def close(self):
        for p in (self.proc, self.socat):
            if p.poll() is None:
                p.kill()
            p.wait()


def test_socat_script_pauses_inspects_balloons_and_powers_down_linux():
    testlib.require_riscv_linux()
    if not shutil.which("socat"):
        raise testlib.Skip("socat is not installed")
    path = os.path.join(testlib.tempdir("vessel-mon-"), "qmp.sock")
    dump = os.path.join(os.path.dirname(path), "pc.bin")
    args = testlib.riscv_linux_args("", extra=[
        "-qmp", "unix:%s,server=on,wait=off" % path,
        "-device", "virtio-balloon-device,id=balloon0"])
    with testlib.Vm(args, binary=testlib.require_emulator()) as vm:
        vm.expect(testlib.BOOT_MARKER, BOOT_TIMEOUT)
        # Once the shell waits for input the guest idles in the kernel.
        vm.expect("# ", BOOT_TIMEOUT)
        time.sleep(1)
        s = SocatSession(path, [
            {"execute": "qmp_capabilities"},
            {"execute": "stop", "id": "stop"},
            {"execute": "query-status", "id": "status"},
            {"execute": "human-monitor-command", "id": "regs",
             "arguments": {"command-line": "info registers"}},
            {"execute": "query-cpus-fast", "id": "cpus"},
        ])
        try:
            assert "QMP" in s.wait_for(lambda m: "QMP" in m)
            s.reply("stop")
            s.event("STOP")
            assert s.reply("status")["return"] == {"status": "paused", "singlestep": False,
                                                   "running": False}
            regs = s.reply("regs")["return"]
            pc_line = [ln for ln in regs.splitlines() if ln.startswith(" pc ")][0]
            pc = int(pc_line.split()[1], 16)
            assert pc >= 0xFFFFFFFF80000000, "paused outside the kernel: %s" % pc_line
            assert s.reply("cpus")["return"][0]["thread-id"] > 0
        finally:
            s.close()

        # A second one-shot script reads the kernel code at pc through the page tables.
        s = SocatSession(path, [
            {"execute": "qmp_capabilities"},
            {"execute": "memsave", "id": "save",
             "arguments": {"val": pc, "size": 16, "filename": dump}},
            {"execute": "human-monitor-command", "id": "x",
             "arguments": {"command-line": "x /4xw 0x%x" % pc}},
            {"execute": "cont", "id": "cont"},
            {"execute": "system_powerdown", "id": "powerdown"},
        ])
        try:
            assert s.reply("save") == {"return": {}, "id": "save"}
            with open(dump, "rb") as f:
                code = f.read()
            words = [int.from_bytes(code[i:i + 4], "little") for i in range(0, 16, 4)]
            assert s.reply("x")["return"] == "%016x: %s\r\n" % (
                pc, " ".join("0x%08x" % w for w in words))
            assert code != bytes(16), "kernel code at pc reads as zeros"
            s.reply("cont")
            s.event("RESUME")
            # Balloon the guest down to 192 MiB: the guest gives the pages back and
            # BALLOON_CHANGE reports the new size; query-balloon from a fresh socat agrees.
            target = 192 << 20
            b = SocatSession(path, [
                {"execute": "qmp_capabilities"},
                {"execute": "balloon", "id": "bal", "arguments": {"value": target}},
            ])
            try:
                assert b.reply("bal") == {"return": {}, "id": "bal"}
                b.wait_for(lambda m: m.get("event") == "BALLOON_CHANGE" and
                           m["data"]["actual"] == target, 120, "BALLOON_CHANGE to target")
            finally:
                b.close()
            q = SocatSession(path, [
                {"execute": "qmp_capabilities"},
                {"execute": "query-balloon", "id": "qb"},
            ])
            try:
                assert q.reply("qb")["return"] == {"actual": target}
            finally:
                q.close()
            s.reply("powerdown")
            s.event("POWERDOWN")
            try:
                e = s.event("SHUTDOWN", timeout=15)
            except AssertionError:
                # The virt board has no power button the guest could see yet: the guest's
                # own poweroff completes the power-down, and socat sees it as an event.
                vm.send("poweroff -f\n")
                e = s.event("SHUTDOWN", timeout=120)
            assert e["data"] == {"guest": True, "reason": "guest-shutdown"}, e
            assert vm.wait(60) == 0
        finally:
            s.close()
