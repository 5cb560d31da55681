"""Shared helpers for Vessel's python tests (run by tests/run.py).

Paths to the build and the guest assets, Skip, and Vm: an emulator process with its console on
a pty (or pipes) that tests drive with expect() and send().
"""

import atexit
import os
import pty
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
VESSEL = os.path.join(BUILD, "vessel")
ASSETS = os.path.join(BUILD, "assets")
RISCV_KERNEL = os.path.join(ASSETS, "riscv64", "Image")
RISCV_INITRD = os.path.join(ASSETS, "riscv64", "initrd.gz")
QEMU_RISCV = "qemu-system-riscv64"

# The initramfs /init prints this once userspace runs (scripts/initramfs/init).
BOOT_MARKER = "VESSEL-BOOT-OK"


class Skip(unittest.SkipTest):
    """Raised by a test that cannot run here (missing binary, asset or host feature)."""


def emulator():
    """The emulator the guest tests drive: $VESSEL_TEST_EMULATOR (a path or a name on PATH,
    e.g. qemu-system-riscv64 to check the tests themselves), else build/vessel."""
    return os.environ.get("VESSEL_TEST_EMULATOR") or VESSEL


def require_file(path, hint=""):
    """Skips the test when path does not exist."""
    if not os.path.exists(path):
        raise Skip("%s not found%s" % (os.path.relpath(path, ROOT), hint and "; " + hint))
    return path


def require_emulator(binary=None):
    """Returns the emulator binary's path, or skips when it is not built or installed."""
    binary = binary or emulator()
    if os.sep in binary:
        return require_file(binary, "run make")
    found = shutil.which(binary)
    if not found:
        raise Skip("%s is not installed" % binary)
    return found


def require_riscv_linux():
    """Skips unless build/assets/riscv64/{Image,initrd.gz} exist (scripts/assets.sh)."""
    require_file(RISCV_KERNEL, "run scripts/assets.sh")
    require_file(RISCV_INITRD, "run scripts/assets.sh")


def riscv_linux_args(append="", memory="256", smp=1, extra=()):
    """Arguments that boot the test kernel and initramfs on -M virt with the serial console."""
    args = ["-M", "virt", "-m", str(memory), "-nographic",
            "-kernel", RISCV_KERNEL, "-initrd", RISCV_INITRD,
            "-append", ("console=ttyS0 " + append).strip()]
    if smp != 1:
        args += ["-smp", str(smp)]
    return args + list(extra)


def tempdir(prefix):
    """A fresh directory, removed with everything in it when the test process exits."""
    path = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, path, True)
    return path


_live_vms = set()


@atexit.register
def _kill_live_vms():
    for vm in list(_live_vms):
        vm.kill()


class VmError(AssertionError):
    """expect() timed out or the process ended first; the message carries the console tail."""


class Vm:
    """An emulator process whose console (stdin/stdout, stderr merged) is a pty or pipes.

    Use as a context manager (or call kill()); processes left running are killed at exit.
    """

    def __init__(self, args, binary=None, console="pty", env=None, cwd=None):
        self.binary = binary or require_emulator()
        self.args = [self.binary] + [str(a) for a in args]
        self._buf = ""
        self._pos = 0
        self._cond = threading.Condition()
        self._eof = False
        self.returncode = None
        if console == "pty":
            master, slave = pty.openpty()
            self.proc = subprocess.Popen(self.args, stdin=slave, stdout=slave, stderr=slave,
                                         env=env, cwd=cwd, close_fds=True)
            os.close(slave)
            self._rfd = master
            self._wfd = master
        elif console == "pipe":
            self.proc = subprocess.Popen(self.args, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                         env=env, cwd=cwd)
            self._rfd = self.proc.stdout.fileno()
            self._wfd = self.proc.stdin.fileno()
        else:
            raise ValueError("console must be 'pty' or 'pipe'")
        self.pid = self.proc.pid
        self.started = time.monotonic()
        _live_vms.add(self)
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()

    def _read_loop(self):
        while True:
            try:
                data = os.read(self._rfd, 65536)
            except OSError:
                data = b""
            with self._cond:
                if not data:
                    self._eof = True
                    self._cond.notify_all()
                    return
                self._buf += data.decode("utf-8", "replace")
                self._cond.notify_all()

    @property
    def output(self):
        """Everything the console printed so far."""
        with self._cond:
            return self._buf

    def tail(self, lines=40):
        """The last lines of output, with the terminal's carriage returns dropped."""
        return "\n".join(self.output.replace("\r", "").split("\n")[-lines:])

    def expect(self, pattern, timeout=60):
        """Waits for the regex pattern (str or compiled) in output not yet consumed by an
        earlier expect(); returns the match. Raises VmError on timeout or end of output."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                m = regex.search(self._buf, self._pos)
                if m:
                    self._pos = m.end()
                    return m
                if self._eof:
                    self.proc.poll()
                    raise VmError("console closed (exit status %s) before '%s' appeared:\n%s"
                                  % (self.proc.returncode, regex.pattern, self.tail()))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise VmError("'%s' did not appear within %g s:\n%s"
                                  % (regex.pattern, timeout, self.tail()))
                self._cond.wait(min(left, 1.0))

    def send(self, text):
        """Types text on the console."""
        data = text.encode() if isinstance(text, str) else text
        while data:
            n = os.write(self._wfd, data)
            data = data[n:]

    def wait(self, timeout=60):
        """Waits for the process to end; returns its exit status (negative for a signal).
        Raises VmError when it is still running after timeout."""
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise VmError("still running after %g s:\n%s" % (timeout, self.tail())) from None
        self._reader.join(5)
        self._close()
        return self.returncode

    def cpu_seconds(self):
        """User plus system CPU time the process (all its threads) has used so far."""
        with open("/proc/%d/stat" % self.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.returncode = self.proc.returncode
        self._reader.join(5)
        self._close()

    def _close(self):
        _live_vms.discard(self)
        if self._rfd is None:
            return
        if self.proc.stdout is None:
            os.close(self._rfd)
        else:
            self.proc.stdout.close()
            self.proc.stdin.close()
        self._rfd = self._wfd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()
        return False
