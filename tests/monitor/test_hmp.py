"""HMP: golden output of the info commands, x/xp formats, line editing and history, the
monitor on the -nographic console (Ctrl-a c) and on piped stdio.
"""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testlib  # noqa: E402
from qmpclient import WFI_LOOP, Hmp, VmQmp, connect_unix  # noqa: E402

TIMEOUT = 120


def hmp_vm(extra=(), paused=True):
    """A VM with QMP plus an HMP unix socket; returns (VmQmp, hmp socket path)."""
    path = os.path.join(testlib.tempdir("vessel-mon-"), "hmp.sock")
    v = VmQmp(extra=["-monitor", "unix:%s,server=on,wait=off" % path] + list(extra),
              paused=paused)
    return v, path


def test_hmp_golden_info():
    v, path = hmp_vm(["-name", "golden"])
    with v:
        h = Hmp(connect_unix(path))
        assert h.banner.startswith("QEMU 7.2.0 monitor (Vessel "), h.banner
        assert h.banner.endswith(" - type 'help' for more information\r\n"), h.banner
        golden = {
            "info status": "VM status: paused (prelaunch)\r\n",
            "info name": "golden\r\n",
            "info kvm": "kvm support: disabled\r\n",
            "info uuid": "00000000-0000-0000-0000-000000000000\r\n",
            "info memory_size_summary": "base memory: %d\r\n" % (64 << 20),
            "info network": "",
            "info block": "",
            "info blockstats": "",
            "stop": "",
            "nonsense": "unknown command: 'nonsense'\r\n",
            "info nonsense": "unknown command: 'info nonsense'\r\n",
            "xp": "unexpected end of expression\r\nTry \"help xp\" for more information\r\n",
            "xp /4q 0": "Error: invalid char in format: 'q'\r\n",
            "cpu 7": "Error: Invalid CPU index 7\r\n",
            "info status extra": "extraneous characters at the end of line\r\n"
                                 "Try \"help info status\" for more information\r\n",
            "qom-get /machine/plic num-sources": "96\r\n",
            "qom-get /machine/nowhere type": "Error: Device '/machine/nowhere' not found\r\n",
            "device_del nothing": "Error: Device 'nothing' not found\r\n",
        }
        for line, want in golden.items():
            got = h.run(line)
            assert got == want, (line, got, want)
        assert h.run("info version").startswith("7.2.0 (Vessel ")
        chardev = h.run("info chardev")
        assert "serial0: filename=null\r\n" in chardev, chardev
        assert "compat_monitor1: filename=unix:%s,server=on\r\n" % path in chardev, chardev
        assert h.run("info cpus").startswith("* CPU #0: thread_id=")
        helptext = h.run("help")
        for cmd in ["cont|c  -- resume emulation", "stop|s  -- stop emulation",
                    "x /fmt addr -- ", "xp /fmt addr -- ", "quit|q  -- quit the emulator",
                    "info [subcommand] -- "]:
            assert cmd in helptext, (cmd, helptext)
        infohelp = h.run("info")
        for sub in ["status", "registers", "cpus", "mtree", "qtree", "qom-tree", "block",
                    "blockstats", "chardev", "version", "kvm", "network"]:
            assert "info %s " % sub in infohelp, (sub, infohelp)
        assert h.run("help stop") == "stop|s  -- stop emulation\r\n"
        regs = h.run("info registers")
        assert " pc       0000000000001000" in regs, regs
        assert "riscv_virt_board.ram" in h.run("info mtree")
        tree = h.run("info qom-tree")
        assert tree.startswith("/machine (") and "\r\n  /plic (riscv.sifive.plic)\r\n" in tree
        assert "dev: riscv.sifive.plic, id \"plic\"\r\n" in h.run("info qtree")
        h.run("cont")
        assert h.run("info status") == "VM status: running\r\n"


def test_x_and_xp_formats():
    v, path = hmp_vm()
    with v:
        h = Hmp(connect_unix(path))
        ram = 0x80000000
        want_w = [0x10500073, 0xFFDFF06F]
        assert h.run("xp /2xw 0x%x" % ram) == \
            "%016x: 0x%08x 0x%08x\r\n" % (ram, want_w[0], want_w[1])
        assert h.run("xp /1xg 0x80000000") == "0000000080000000: 0xffdff06f10500073\r\n"
        data = WFI_LOOP
        assert h.run("xp /8xb 0x80000000") == "0000000080000000: " + \
            " ".join("0x%02x" % b for b in data) + "\r\n"
        # Signed, unsigned and octal halfwords; expressions for the address.
        halves = [int.from_bytes(data[i:i + 2], "little") for i in (0, 2, 4)]
        signed = [x - 0x10000 if x & 0x8000 else x for x in halves]
        assert h.run("xp /3dh 0x80000000+0") == "0000000080000000:" + \
            "".join(" %5d" % x for x in signed) + "\r\n"
        assert h.run("xp /3uh (0x40000000*2)") == "0000000080000000:" + \
            "".join(" %5u" % x for x in halves) + "\r\n"
        assert h.run("xp /2ow 0x80000000") == "0000000080000000:" + \
            "".join(" %11s" % ("0%o" % x) for x in want_w) + "\r\n"
        assert h.run("xp /4c 0x80000000") == "0000000080000000: 's' '\\x00' 'P' '\\x10'\r\n"
        # The format is remembered: a bare count reuses the last format and size.
        assert h.run("xp /2 0x80000000") == "0000000080000000: 's' '\\x00'\r\n"
        # 20 words wrap at 16 bytes per line; paging is off, so x equals xp.
        lines = h.run("x /20xw 0x1000").splitlines()
        assert len(lines) == 5 and lines[1].startswith("0000000000001010:"), lines
        assert h.run("xp /20xw 0x1000").splitlines() == lines
        assert h.run("xp /2xw 0x4000000000") == "0000004000000000: Cannot access memory\r\n"
        assert h.run("xp /100000xg 0").startswith("Error: at most")


def test_line_editing_and_history():
    v, path = hmp_vm()
    with v:
        h = Hmp(connect_unix(path))
        # Backspace (DEL and ^H) and typing after it.
        out = h.type("info stata\x7fus\r")
        assert out.endswith("VM status: paused (prelaunch)\r\n"), repr(out)
        out = h.type("info nam\x08\x08ame\r")
        assert out.endswith("\r\n"), repr(out)
        # Ctrl-a goes home, Ctrl-e to the end; left arrow moves back; insertion in the middle.
        out = h.type("nfo stat\x01i\x05us\r")
        assert out.endswith("VM status: paused (prelaunch)\r\n"), repr(out)
        out = h.type("info sttus\x1b[D\x1b[D\x1b[Da\r")
        assert out.endswith("VM status: paused (prelaunch)\r\n"), repr(out)
        # Up arrow recalls the previous line; up twice the one before; down comes back.
        h.run("info kvm")
        out = h.type("\x1b[A\r")
        assert out.endswith("kvm support: disabled\r\n"), repr(out)
        out = h.type("\x1b[A\x1b[A\x1b[B\r")
        assert out.endswith("kvm support: disabled\r\n"), repr(out)
        # Ctrl-u clears the line, Ctrl-k cuts the rest.
        out = h.type("garbage\x15info kvm\r")
        assert out.endswith("kvm support: disabled\r\n"), repr(out)
        out = h.type("info kvmXYZ\x1b[D\x1b[D\x1b[D\x0b\r")
        assert out.endswith("kvm support: disabled\r\n"), repr(out)
        # A line beyond the limit is cut, not a crash.
        out = h.type("x" * 10000 + "\r")
        assert "unknown command" in out
        assert h.run("info status") == "VM status: paused (prelaunch)\r\n"


def test_monitor_on_nographic_console():
    binary = testlib.require_emulator()
    bios = os.path.join(testlib.tempdir("vessel-mon-"), "wfi.bin")
    with open(bios, "wb") as f:
        f.write(WFI_LOOP)
    with testlib.Vm(["-M", "virt", "-m", "64", "-nographic", "-bios", bios], binary=binary) as vm:
        time.sleep(0.5)
        vm.send(b"\x01c")
        vm.expect(r"QEMU 7\.2\.0 monitor .*\r*\n\(qemu\) ", 20)
        vm.send("info status\r")
        vm.expect(r"VM status: running\r*\n\(qemu\) ", 20)
        vm.send("info chardev\r")
        vm.expect(r"serial0: filename=mux", 20)
        vm.send(b"\x01c")
        vm.send(b"\x01c")
        vm.expect(r"\(qemu\) ", 20)
        vm.send("quit\r")
        assert vm.wait(20) == 0


def test_monitor_on_piped_stdio():
    binary = testlib.require_emulator()
    p = subprocess.run([binary, "-M", "virt", "-bios", "none", "-S", "-display", "none",
                        "-serial", "null", "-monitor", "stdio"],
                       input=b"info status\nxp /1xw 0x1000\nquit\n", stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=30)
    out = p.stdout.decode(errors="replace")
    assert p.returncode == 0, out
    assert "(qemu) info status\r\nVM status: paused (prelaunch)\r\n(qemu) " in out, out
    assert "\r\n0000000000001000: 0x" in out, out


if __name__ == "__main__":
    names = sys.argv[1:] or [n for n in dir() if n.startswith("test_")]
    for n in names:
        globals()[n]()
        print("ok", n)
