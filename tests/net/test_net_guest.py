"""Networking with a Linux guest: -netdev user (DHCP, DNS, HTTP through 10.0.2.2, hostfwd),
tap in a private network namespace, two guests over a stream/socket netdev, filter-dump.

Only loopback and network namespaces the tests create are used as network targets.
"""

import hashlib
import http.server
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
import urllib.request

import testlib
from testlib import Skip, Vm

TIMEOUT = 900
BOOT_TIMEOUT = 300


def md5_of(text):
    """The md5sum digest in a command's output."""
    m = re.search(r"\b([0-9a-f]{32})\b", text)
    assert m, "no md5 digest in %r" % text
    return m.group(1)


def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Guest:
    """A booted guest with a shell on its console; run() returns (status, output)."""

    def __init__(self, extra, binary=None, prefix=()):
        testlib.require_riscv_linux()
        # loglevel=1: no kernel messages (link up, ...) in the middle of command output.
        args = list(prefix) + testlib.riscv_linux_args("loglevel=1", extra=extra)
        if prefix:
            args.insert(len(prefix), testlib.require_emulator())
        self.vm = Vm(args, binary=binary)
        self.n = 0
        self.vm.expect(testlib.BOOT_MARKER, BOOT_TIMEOUT)
        self.run("true", 60)

    def run(self, cmd, timeout=120):
        self.n += 1
        n = self.n
        # The markers only appear once the shell evaluated them, never in the echo.
        self.vm.send("echo S$((%d+0))S; %s; echo E$((%d+0))E$?X\n" % (n, cmd, n))
        self.vm.expect(r"S%dS" % n, timeout)
        m = self.vm.expect(r"([\s\S]*?)E%dE(\d+)X" % n, timeout)
        return int(m.group(2)), m.group(1).replace("\r", "")

    def check(self, cmd, timeout=120):
        status, out = self.run(cmd, timeout)
        assert status == 0, "'%s' failed (%d):\n%s\n%s" % (cmd, status, out, self.vm.tail())
        return out

    def static_ip(self, addr="10.0.2.15/24", gw="10.0.2.2"):
        self.check("ip link set eth0 up")
        self.check("ip addr add %s dev eth0" % addr)
        if gw:
            self.check("ip route add default via %s" % gw)

    def kill(self):
        self.vm.kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()
        return False


class HostHttp:
    """A host HTTP server on 127.0.0.1 (random port) serving directory root."""

    def __init__(self, root, bind="127.0.0.1"):
        handler = lambda *a, **kw: http.server.SimpleHTTPRequestHandler(  # noqa: E731
            *a, directory=root, **kw)
        http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None
        self.server = http.server.ThreadingHTTPServer((bind, 0), handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_dhcp_lease():
    with Guest(["-nic", "user"]) as g:
        g.check("ip link set eth0 up")
        out = g.check("udhcpc -i eth0 -n -q -t 5 -s /bin/true", 120)
        assert "lease of 10.0.2.15 obtained" in out, out


def test_dhcp_custom_network():
    with Guest(["-netdev", "user,id=n0,net=192.168.76.0/24,dhcpstart=192.168.76.9",
                "-device", "virtio-net-device,netdev=n0"]) as g:
        g.check("ip link set eth0 up")
        out = g.check("udhcpc -i eth0 -n -q -t 5 -s /bin/true", 120)
        assert "lease of 192.168.76.9 obtained" in out, out


def test_http_download_from_host():
    tmp = tempfile.mkdtemp()
    data = os.urandom(3 * 1024 * 1024 + 17)
    with open(os.path.join(tmp, "blob"), "wb") as f:
        f.write(data)
    srv = HostHttp(tmp)
    try:
        with Guest(["-nic", "user"]) as g:
            g.static_ip()
            out = g.check("wget -q -O - http://10.0.2.2:%d/blob | md5sum" % srv.port, 300)
            assert md5_of(out) == hashlib.md5(data).hexdigest(), out
    finally:
        srv.close()
        shutil.rmtree(tmp)


def fetch(url, attempts=30):
    last = None
    for _ in range(attempts):
        try:
            with urllib.request.urlopen(url, timeout=20) as r:
                return r.read()
        except OSError as e:
            last = e
            time.sleep(1)
    raise AssertionError("could not fetch %s: %s" % (url, last))


def test_hostfwd_guest_httpd():
    """The issue's scenario: -nic user,hostfwd=tcp::PORT-:80 serves a guest page to the host."""
    port = free_port()
    with Guest(["-nic", "user,hostfwd=tcp:127.0.0.1:%d-:80" % port]) as g:
        g.static_ip()
        g.check("mkdir -p /www && echo vessel-page-$((6*7)) > /www/index.html")
        g.check("httpd -p 80 -h /www")
        body = fetch("http://127.0.0.1:%d/" % port)
        assert body.strip() == b"vessel-page-42", body
        # A larger page goes through intact as well (guest -> host bulk data).
        g.check("dd if=/dev/urandom of=/www/big bs=1k count=2048 2>/dev/null")
        digest = md5_of(g.check("md5sum /www/big"))
        big = fetch("http://127.0.0.1:%d/big" % port)
        assert hashlib.md5(big).hexdigest() == digest


def test_hostfwd_udp_and_restrict():
    """restrict=on keeps the guest from the host while hostfwd still reaches it."""
    port = free_port()
    tmp = tempfile.mkdtemp()
    srv = HostHttp(tmp)
    try:
        with Guest(["-nic", "user,restrict=on,hostfwd=tcp:127.0.0.1:%d-:80" % port]) as g:
            g.static_ip()
            status, out = g.run("wget -q -T 5 -O - http://10.0.2.2:%d/ >/dev/null" % srv.port, 60)
            assert status != 0, "restrict=on let the guest connect out:\n" + out
            g.check("mkdir -p /www && echo inbound-ok > /www/index.html && httpd -p 80 -h /www")
            assert fetch("http://127.0.0.1:%d/" % port).strip() == b"inbound-ok"
    finally:
        srv.close()
        shutil.rmtree(tmp)


DNS_SERVER = r'''
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
print("ready", flush=True)
while True:
    q, addr = s.recvfrom(512)
    tid, flags, qd = struct.unpack(">HHH", q[:6])
    end = 12
    while q[end]:
        end += q[end] + 1
    question = q[12:end + 5]
    qtype = struct.unpack(">H", q[end + 1:end + 3])[0]
    answers = b""
    count = 0
    if qtype == 1:
        answers = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([10, 0, 2, 99])
        count = 1
    s.sendto(struct.pack(">HHHHHH", tid, 0x8180, 1, count, 0, 0) + question + answers, addr)
'''


def test_dns_through_slirp():
    """The guest resolves a name through slirp's DNS at 10.0.2.3. The emulator runs in a
    private network and mount namespace whose resolv.conf points at a tiny responder on the
    namespace's loopback, so no outside resolver is involved."""
    if not shutil.which("unshare"):
        raise Skip("unshare is not installed")
    tmp = tempfile.mkdtemp()
    try:
        with open(os.path.join(tmp, "resolv.conf"), "w") as f:
            f.write("nameserver 127.0.0.1\n")
        with open(os.path.join(tmp, "dns.py"), "w") as f:
            f.write(DNS_SERVER)
        probe = subprocess.run(["unshare", "-n", "-m", "true"], capture_output=True)
        if probe.returncode != 0:
            raise Skip("cannot create namespaces: %s" % probe.stderr.decode().strip())
        script = ("ip link set lo up && mount --bind %s/resolv.conf /etc/resolv.conf && "
                  "(python3 %s/dns.py >/dev/null 2>&1 &) && sleep 0.5 && exec \"$@\""
                  % (tmp, tmp))
        prefix = ["-n", "-m", "sh", "-c", script, "sh"]
        with Guest(["-nic", "user"], binary=shutil.which("unshare"), prefix=prefix) as g:
            g.static_ip()
            out = g.check("nslookup vessel-test.example 10.0.2.3", 120)
            assert "10.0.2.99" in out, out
    finally:
        shutil.rmtree(tmp)


def test_ipv6_slirp():
    """IPv6 is on by default: the guest gets a fec0::/64 address and reaches slirp's host."""
    with Guest(["-nic", "user"]) as g:
        g.check("ip link set eth0 up")
        for _ in range(60):
            status, out = g.run("ip -6 addr show dev eth0 | grep -q 'inet6 fec0:'", 30)
            if status == 0:
                break
            time.sleep(1)
        assert status == 0, g.check("ip -6 addr show dev eth0")
        g.check("ping -6 -c 2 fec0::2", 60)


def netns_or_skip(name):
    for tool in ("ip",):
        if not shutil.which(tool):
            raise Skip("%s is not installed" % tool)
    r = subprocess.run(["ip", "netns", "add", name], capture_output=True)
    if r.returncode != 0:
        raise Skip("cannot create a network namespace: %s" % r.stderr.decode().strip())


def test_tap_in_private_netns():
    name = "vessel-tap-%d" % os.getpid()
    netns_or_skip(name)
    tmp = tempfile.mkdtemp()
    try:
        def ns(*cmd, check=True):
            return subprocess.run(["ip", "netns", "exec", name] + list(cmd), check=check,
                                  capture_output=True)
        r = ns("ip", "tuntap", "add", "dev", "vtap0", "mode", "tap", check=False)
        if r.returncode != 0:
            raise Skip("cannot create a tap device: %s" % r.stderr.decode().strip())
        ns("ip", "addr", "add", "192.168.77.1/24", "dev", "vtap0")
        ns("ip", "link", "set", "vtap0", "up")
        ns("ip", "link", "set", "lo", "up")
        data = os.urandom(2 * 1024 * 1024 + 5)
        with open(os.path.join(tmp, "blob"), "wb") as f:
            f.write(data)
        httpd = subprocess.Popen(["ip", "netns", "exec", name, "python3", "-m", "http.server",
                                  "8000", "--bind", "192.168.77.1", "--directory", tmp],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            with Guest(["-netdev", "tap,id=t0,ifname=vtap0,script=no,downscript=no",
                        "-device", "virtio-net-device,netdev=t0"],
                       binary="/usr/bin/ip", prefix=["netns", "exec", name]) as g:
                g.static_ip("192.168.77.2/24", None)
                g.check("ping -c 2 192.168.77.1", 60)
                # host -> guest
                out = g.check("wget -q -O - http://192.168.77.1:8000/blob | md5sum", 300)
                assert md5_of(out) == hashlib.md5(data).hexdigest(), out
                # guest -> host
                g.check("mkdir -p /www && dd if=/dev/urandom of=/www/up bs=1k count=1024 "
                        "2>/dev/null && httpd -p 80 -h /www")
                digest = md5_of(g.check("md5sum /www/up"))
                got = ns("python3", "-c", "import urllib.request,hashlib;print(hashlib.md5("
                         "urllib.request.urlopen('http://192.168.77.2/up',timeout=60).read())"
                         ".hexdigest())")
                assert got.stdout.decode().strip() == digest
                # Device resets in the middle of guest -> host transfers (the tap writes
                # frames without the big lock; a reset must wait for that burst): the
                # emulator survives and the link works afterwards.
                g.check("dd if=/dev/zero of=/www/big bs=1M count=64 2>/dev/null")
                dev = g.check("basename $(readlink /sys/class/net/eth0/device)").split()[-1]
                drv = "/sys/bus/virtio/drivers/virtio_net"
                for _ in range(3):
                    fetch = subprocess.Popen(
                        ["ip", "netns", "exec", name, "python3", "-c",
                         "import time,urllib.request\nt=time.monotonic()\ntry:\n "
                         "urllib.request.urlopen('http://192.168.77.2/big',timeout=20).read()\n"
                         "except OSError:\n pass\nprint('fetch during resets: %.2f s' % "
                         "(time.monotonic()-t))"])
                    time.sleep(0.05)
                    g.check("echo %s > %s/unbind; echo %s > %s/bind" % (dev, drv, dev, drv))
                    g.static_ip("192.168.77.2/24", None)
                    fetch.wait(60)
                got = ns("python3", "-c", "import urllib.request,hashlib;print(hashlib.md5("
                         "urllib.request.urlopen('http://192.168.77.2/up',timeout=60).read())"
                         ".hexdigest())")
                assert got.stdout.decode().strip() == digest
        finally:
            httpd.kill()
            httpd.wait()
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
        shutil.rmtree(tmp)


def two_guests(netdev_a, netdev_b):
    a = Guest(["-netdev", netdev_a, "-device", "virtio-net-device,netdev=n0,mac=52:54:00:00:00:0a"])
    try:
        b = Guest(["-netdev", netdev_b,
                   "-device", "virtio-net-device,netdev=n0,mac=52:54:00:00:00:0b"])
        try:
            a.static_ip("192.168.100.1/24", None)
            b.static_ip("192.168.100.2/24", None)
            b.check("ping -c 2 192.168.100.1", 60)
            a.check("ping -c 2 192.168.100.2", 60)
            # bulk data a -> b through busybox httpd/wget
            a.check("mkdir -p /www && dd if=/dev/urandom of=/www/f bs=1k count=1024 "
                    "2>/dev/null && httpd -p 80 -h /www")
            digest = md5_of(a.check("md5sum /www/f"))
            out = b.check("wget -q -O - http://192.168.100.1/f | md5sum", 300)
            assert md5_of(out) == digest, out
        finally:
            b.kill()
    finally:
        a.kill()


def test_two_guests_stream():
    port = free_port()
    two_guests("stream,id=n0,server=on,addr.type=inet,addr.host=127.0.0.1,addr.port=%d" % port,
               "stream,id=n0,server=off,addr.type=inet,addr.host=127.0.0.1,addr.port=%d" % port)


def test_two_guests_socket_udp():
    pa, pb = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    two_guests("socket,id=n0,udp=127.0.0.1:%d,localaddr=127.0.0.1:%d" % (pb, pa),
               "socket,id=n0,udp=127.0.0.1:%d,localaddr=127.0.0.1:%d" % (pa, pb))


def test_filter_dump_pcap():
    tmp = tempfile.mkdtemp()
    path = os.path.join(tmp, "dump.pcap")
    try:
        with Guest(["-netdev", "user,id=n0", "-device", "virtio-net-device,netdev=n0",
                    "-object", "filter-dump,id=f0,netdev=n0,file=%s" % path]) as g:
            g.check("ip link set eth0 up")
            g.check("udhcpc -i eth0 -n -q -t 5 -s /bin/true", 120)
        with open(path, "rb") as f:
            data = f.read()
        magic, vmaj, vmin, _, _, snap, link = struct.unpack("<IHHiIII", data[:24])
        assert (magic, vmaj, vmin, link) == (0xa1b2c3d4, 2, 4, 1)
        off, frames, dhcp_replies = 24, 0, 0
        while off + 16 <= len(data):
            _, _, incl, orig = struct.unpack("<IIII", data[off:off + 16])
            frame = data[off + 16:off + 16 + incl]
            off += 16 + incl
            frames += 1
            # IPv4 UDP from port 67 to 68: a DHCP reply from slirp
            if len(frame) > 42 and frame[12:14] == b"\x08\x00" and frame[23] == 17 and \
                    frame[34:36] == b"\x00\x43" and frame[36:38] == b"\x00\x44":
                dhcp_replies += 1
        assert off == len(data), "truncated pcap record"
        assert frames >= 2 and dhcp_replies >= 1, (frames, dhcp_replies)
    finally:
        shutil.rmtree(tmp)
