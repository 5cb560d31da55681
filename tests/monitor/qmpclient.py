"""A small QMP/HMP client and VM launcher for the monitor tests (python3 stdlib only).

Qmp speaks the wire protocol over a unix or tcp socket and keeps events aside; Hmp drives a
human monitor socket; start_vm boots build/vessel with a QMP socket and a payload that just
waits for interrupts, so that a running guest costs no CPU.
"""

import json
import os
import socket
import struct
import time

import testlib

# wfi; j .-4 : a guest that sleeps forever.
WFI_LOOP = struct.pack("<II", 0x10500073, 0xFFDFF06F)


class QmpError(AssertionError):
    pass


NO_ID = object()


def connect_unix(path, timeout=10):
    """Connects to a unix socket, retrying until it exists."""
    deadline = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def connect_tcp(port, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=timeout)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class Qmp:
    """One QMP session. cmd() returns the whole response dict; events go to self.events."""

    def __init__(self, sock, negotiate=True, timeout=20):
        self.sock = sock
        self.sock.settimeout(timeout)
        self.buf = b""
        self.events = []
        self.raw_lines = []
        self.greeting = self.recv()
        if negotiate:
            r = self.cmd("qmp_capabilities")
            if r != {"return": {}}:
                raise QmpError("negotiation failed: %r" % r)

    def send_raw(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def send(self, name, args=None, id=NO_ID):
        msg = {"execute": name}
        if args is not None:
            msg["arguments"] = args
        if id is not NO_ID:
            msg["id"] = id
        self.send_raw(json.dumps(msg) + "\n")

    def recv_line(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(1 << 20)
            if not data:
                raise QmpError("connection closed; pending %r" % self.buf[:200])
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        self.raw_lines.append(line + b"\n")
        return line + b"\n"

    def recv(self):
        """The next message, events included."""
        line = self.recv_line()
        if not line.endswith(b"\r\n"):
            raise QmpError("message does not end in CRLF: %r" % line[-20:])
        return json.loads(line)

    def response(self):
        """The next message that is not an event."""
        while True:
            msg = self.recv()
            if "event" in msg:
                self.events.append(msg)
            else:
                return msg

    def cmd(self, name, args=None, id=NO_ID):
        self.send(name, args, id)
        return self.response()

    def ok(self, name, args=None):
        """Runs a command that must succeed; returns its "return" value."""
        r = self.cmd(name, args)
        if "return" not in r:
            raise QmpError("%s %r failed: %r" % (name, args, r))
        return r["return"]

    def hmp(self, line):
        return self.ok("human-monitor-command", {"command-line": line})

    def wait_event(self, name, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e["event"] == name:
                    return self.events.pop(i)
            left = deadline - time.monotonic()
            if left <= 0:
                raise QmpError("no %s event within %g s (got %r)" % (name, timeout, self.events))
            self.sock.settimeout(left)
            try:
                self.events.append(self.recv())
            except socket.timeout:
                pass
            finally:
                self.sock.settimeout(20)

    def close(self):
        self.sock.close()


class Hmp:
    """A human monitor session over a socket: run() returns a command's output lines."""

    def __init__(self, sock, timeout=20):
        self.sock = sock
        self.sock.settimeout(timeout)
        self.buf = b""
        self.banner = self.until_prompt()

    def until_prompt(self):
        # Redraws print "\r(qemu) ..."; a fresh prompt follows a line end.
        while not self.buf.endswith(b"\n(qemu) "):
            data = self.sock.recv(65536)
            if not data:
                raise AssertionError("HMP connection closed; got %r" % self.buf[-300:])
            self.buf += data
        out, self.buf = self.buf[:-len(b"(qemu) ")], b""
        return out.decode(errors="replace")

    def type(self, keys):
        """Sends raw keys and returns everything up to the next prompt."""
        self.sock.sendall(keys if isinstance(keys, bytes) else keys.encode())
        return self.until_prompt()

    def run(self, line):
        """Runs one command; returns its output (the echoed line removed) with \\r\\n ends."""
        out = self.type(line + "\r")
        echo = line + "\r\n"
        if not out.startswith(echo):
            raise AssertionError("echo %r missing from %r" % (echo, out[:200]))
        return out[len(echo):]

    def close(self):
        self.sock.close()


class VmQmp:
    """build/vessel with a QMP unix socket (more monitors through extra args)."""

    def __init__(self, extra=(), paused=True, payload=True, qmp=True):
        binary = testlib.require_emulator()
        self.dir = testlib.tempdir("vessel-mon-")
        self.qmp_path = os.path.join(self.dir, "qmp.sock")
        args = ["-M", "virt", "-m", "64", "-display", "none", "-serial", "null"]
        if payload:
            bios = os.path.join(self.dir, "wfi.bin")
            with open(bios, "wb") as f:
                f.write(WFI_LOOP)
            args += ["-bios", bios]
        else:
            args += ["-bios", "none"]
        if paused:
            args.append("-S")
        if qmp:
            args += ["-qmp", "unix:%s,server=on,wait=off" % self.qmp_path]
        self.vm = testlib.Vm(args + list(extra), binary=binary, console="pipe")

    def path(self, name):
        return os.path.join(self.dir, name)

    def qmp(self, negotiate=True):
        return Qmp(connect_unix(self.qmp_path), negotiate)

    def wait_socket(self, timeout=30):
        """Waits until the QMP socket exists (for clients that do not retry)."""
        deadline = time.monotonic() + timeout
        while not os.path.exists(self.qmp_path):
            assert self.alive(), "vessel exited before creating %s" % self.qmp_path
            assert time.monotonic() < deadline, "no QMP socket at %s" % self.qmp_path
            time.sleep(0.02)

    def alive(self):
        return self.vm.proc.poll() is None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.vm.kill()
        return False


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
