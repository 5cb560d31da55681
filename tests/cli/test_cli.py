"""Command line tests: build/vessel with good and bad options, checking exit status and messages.

Each test_* function raises AssertionError on failure (tests/run.py runs them; they also run
directly: python3 tests/cli/test_cli.py [name...]).
"""

import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import testlib  # noqa: E402

TIMEOUT = 120
PAYLOAD = os.path.join(testlib.BUILD, "tests", "guest", "riscv", "rv64i.elf")


def run(*args, stdin=subprocess.DEVNULL, timeout=30):
    """Runs vessel with args; returns (status, stdout, stderr)."""
    p = subprocess.run([testlib.require_emulator(testlib.VESSEL)] + list(args), stdin=stdin,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def expect_error(args, pattern):
    """vessel args must fail with status 1 and exactly one stderr line matching pattern."""
    status, out, err = run(*args)
    lines = err.strip().split("\n")
    assert status == 1, "%s: status %d (want 1), stderr %r" % (args, status, err)
    assert len(lines) == 1, "%s: want one error line, got %r" % (args, err)
    assert re.search(pattern, lines[0]), "%s: %r does not match %r" % (args, lines[0], pattern)
    assert lines[0].startswith("vessel: "), "%s: %r lacks the 'vessel: ' prefix" % (args, lines[0])


def require_payload():
    return testlib.require_file(PAYLOAD, "install gcc-riscv64-linux-gnu and run make")


def spawn(args, **kw):
    return subprocess.Popen([testlib.require_emulator(testlib.VESSEL)] + list(args),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, **kw)


def finish(proc, timeout=20):
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError("vessel still running after %d s: %r" % (timeout, err))
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")


# ---- informational options -------------------------------------------------------------------

def test_version():
    for opt in ("-version", "--version"):
        status, out, err = run(opt)
        assert status == 0, (opt, status, err)
        assert re.match(r"Vessel emulator version \d+\.\d+\.\d+ \(QEMU-compatible 7\.2", out), out


def test_help():
    for opt in ("-h", "-help", "--help"):
        status, out, err = run(opt)
        assert status == 0, (opt, status, err)
        assert out.startswith("usage: vessel"), out[:80]
        for o in ("-machine", "-kernel", "-serial", "-chardev", "-nographic", "-daemonize"):
            assert re.search(r"(?m)^(-\S+, )*%s\b" % o, out), "%s missing from %s help" % (o, opt)


def test_machine_help():
    for args in (["-M", "help"], ["-machine", "help"], ["--machine", "type=help"]):
        status, out, err = run(*args)
        assert status == 0, (args, status, err)
        assert re.search(r"(?m)^virt\s+.*\(default\)$", out), out


def test_accel_help():
    status, out, err = run("-accel", "help")
    assert status == 0, err
    assert re.search(r"(?m)^tcg$", out), out


def test_log_help():
    status, out, err = run("-d", "help")
    assert status == 0, err
    for item in ("guest_errors", "unimp", "int", "in_asm"):
        assert re.search(r"(?m)^%s\s" % item, out), out


# ---- bad command lines -----------------------------------------------------------------------

def test_unknown_option():
    expect_error(["-foo"], r"^vessel: -foo: invalid option")
    expect_error(["--no-such-thing"], r"^vessel: --no-such-thing: invalid option")
    expect_error(["stray"], r"unexpected argument 'stray'")


def test_missing_argument():
    for opt in ("-m", "-kernel", "-M", "-serial", "--chardev", "-smp"):
        expect_error([opt], r"^vessel: %s: requires an argument$" % re.escape(opt))


def test_bad_memory():
    expect_error(["-m", "abc"], r"^vessel: -m: invalid size 'abc'$")
    expect_error(["-m", "12Q"], r"^vessel: -m: invalid size '12Q'$")
    expect_error(["-m", "-5"], r"^vessel: -m: invalid size '-5'$")
    expect_error(["-m", "0"], r"^vessel: -m: .*greater than 0")
    expect_error(["-m", "256,slots=2"], r"^vessel: -m: invalid parameter 'slots'")


def test_bad_smp():
    expect_error(["-smp", "x"], r"^vessel: -smp: .*'cpus'.*'x'")
    expect_error(["-smp", "0"], r"^vessel: -smp: invalid number of CPUs 0")
    expect_error(["-smp", "cpus=4,sockets=3"], r"^vessel: -smp: invalid CPU topology")
    expect_error(["-smp", "100000"], r"^vessel: -smp: ")
    expect_error(["-M", "virt", "-smp", "9999"], r"^vessel: -smp: .*maximum for machine 'virt'")


def test_missing_kernel_file():
    path = "/nonexistent/vessel-kernel"
    expect_error(["-M", "virt", "-kernel", path],
                 r"^vessel: -kernel: could not open '%s': No such file" % re.escape(path))
    expect_error(["-M", "virt", "-kernel", "/dev/null", "-initrd", path],
                 r"^vessel: -initrd: could not open")


def test_bad_machine_and_accel():
    expect_error(["-M", "nosuch"], r"^vessel: -M: unsupported machine type 'nosuch'")
    expect_error(["-M", "virt,bogus=1"], r"^vessel: -M: invalid parameter 'bogus'")
    expect_error(["-accel", "nosuch"], r"^vessel: -accel: invalid accelerator 'nosuch'")


def test_bad_display_chardev_serial():
    expect_error(["-display", "gtk"], r"^vessel: -display: Parameter 'type' does not accept value 'gtk'")
    expect_error(["-chardev", "nosuch,id=c0"], r"'nosuch' is not a valid char driver")
    expect_error(["-chardev", "null"], r"^vessel: -chardev: no id specified")
    expect_error(["-chardev", "null,id=c0,colour=red"], r"invalid parameter 'colour'")
    expect_error(["-serial", "foo:bar"], r"^vessel: -serial foo:bar: .*not a valid char driver")
    expect_error(["-serial", "chardev:nosuch"], r"chardev 'nosuch' not found")
    expect_error(["-serial", "null"] * 5, r"too many serial ports")
    expect_error(["-d", "nosuch"], r"^vessel: -d: unknown log item 'nosuch'")


def test_option_dependencies():
    expect_error(["-append", "console=ttyS0"], r"-append only allowed with -kernel")
    expect_error(["-daemonize", "-nographic"], r"-nographic cannot be used with -daemonize")
    expect_error(["-daemonize", "-serial", "mon:stdio"], r"cannot be used with -daemonize")
    expect_error(["-D", "/nonexistent/dir/log"], r"^vessel: -D: cannot open log file")


# ---- running machines ------------------------------------------------------------------------

def test_serial_file_and_log():
    require_payload()
    with tempfile.TemporaryDirectory() as tmp:
        out_path = os.path.join(tmp, "serial.txt")
        status, out, err = run("-M", "virt", "-bios", "none", "-kernel", PAYLOAD, "-display",
                               "none", "-serial", "file:" + out_path, "-name", "guest=cli",
                               timeout=60)
        assert status == 0, (status, err)
        with open(out_path) as f:
            text = f.read()
        assert re.search(r"(?m)^PASS", text), text
        assert "PASS" not in out, "serial output leaked to stdout: %r" % out


def test_sigterm_exit():
    proc = spawn(["-M", "virt", "-S", "-display", "none"])
    time.sleep(0.5)
    assert proc.poll() is None, "vessel exited early: %r" % (proc.communicate(),)
    proc.send_signal(signal.SIGTERM)
    status, out, err = finish(proc)
    assert status == 0, (status, err)
    assert "vessel: terminating on signal 15" in err, err


def test_nographic_piped_stdin_ctrl_a_x():
    proc = subprocess.Popen([testlib.require_emulator(testlib.VESSEL), "-M", "virt", "-S",
                             "-nographic"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    time.sleep(0.5)
    proc.stdin.write(b"\x01h")
    proc.stdin.flush()
    time.sleep(0.3)
    proc.stdin.write(b"\x01x")
    proc.stdin.flush()
    status, out, err = finish(proc)
    assert status == 0, (status, err)
    assert "C-a x    exit emulator" in out, out
    assert "vessel: terminated" in out, out


def test_tty_raw_mode_restored():
    """-nographic on a terminal: raw mode while running, original mode after Ctrl-a x."""
    vessel = testlib.require_emulator(testlib.VESSEL)
    script = 'stty -g; "$0" -M virt -S -nographic; echo "status=$?"; stty -g'
    pid, fd = pty.fork()
    if pid == 0:
        os.execv("/bin/sh", ["sh", "-c", script, vessel])
    buf = b""
    deadline = time.monotonic() + 20
    sent = False
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            buf += data
        if not sent and time.monotonic() > deadline - 18:
            os.write(fd, b"\x01x")
            sent = True
    os.waitpid(pid, 0)
    os.close(fd)
    text = buf.decode(errors="replace").replace("\r", "")
    modes = re.findall(r"(?m)^([0-9a-f]+(?::[0-9a-f]+){10,})$", text)
    assert "vessel: terminated" in text, text
    assert "status=0" in text, text
    assert len(modes) == 2 and modes[0] == modes[1], "terminal mode changed: %r" % text


def test_daemonize_pidfile():
    with tempfile.TemporaryDirectory() as tmp:
        pidfile = os.path.join(tmp, "vessel.pid")
        status, out, err = run("-M", "virt", "-S", "-display", "none", "-daemonize",
                               "-pidfile", pidfile)
        assert status == 0, (status, err)
        with open(pidfile) as f:
            pid = int(f.read())
        os.kill(pid, 0)  # the daemon runs
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while os.path.exists(pidfile) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not os.path.exists(pidfile), "pid file left behind after the daemon exited"


def test_daemonize_error_reaches_parent():
    with tempfile.TemporaryDirectory() as tmp:
        status, out, err = run("-M", "virt", "-S", "-display", "none", "-daemonize", "-chardev",
                               "socket,id=s0,path=%s/missing/sock" % tmp)
        assert status == 1, (status, err)
        assert "vessel: -chardev: failed to connect" in err, err


def test_pty_serial_message():
    proc = spawn(["-M", "virt", "-S", "-display", "none", "-serial", "pty"])
    line = proc.stderr.readline().decode()
    time.sleep(0.5)  # the message comes before the signal handlers are installed
    proc.send_signal(signal.SIGTERM)
    status, out, err = finish(proc)
    m = re.match(r"char device redirected to (/dev/pts/\d+) \(label serial0\)$", line.strip())
    assert m, line
    assert status == 0, (status, err)


def test_socket_serial_wait_for_client():
    """-serial unix:PATH,server (wait=on by default): the machine starts once a client connects."""
    require_payload()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "serial.sock")
        proc = spawn(["-M", "virt", "-bios", "none", "-kernel", PAYLOAD, "-display", "none",
                      "-serial", "unix:%s,server" % path])
        deadline = time.monotonic() + 10
        while not os.path.exists(path) and time.monotonic() < deadline:
            time.sleep(0.05)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        s.settimeout(30)
        data = b""
        try:
            while b"PASS" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        finally:
            s.close()
        status, out, err = finish(proc, 60)
        assert b"PASS" in data, data
        assert "waiting for connection on: disconnected:unix:%s,server=on" % path in err, err
        assert status == 0, (status, err)


if __name__ == "__main__":
    names = sys.argv[1:] or sorted(n for n in dir() if n.startswith("test_"))
    failed = 0
    for name in names:
        try:
            globals()[name]()
            print("PASS", name)
        except testlib.Skip as e:
            print("SKIP", name, e)
        except AssertionError as e:
            failed += 1
            print("FAIL", name, e)
    sys.exit(1 if failed else 0)
