"""Netdev command line and monitor commands (no guest OS needed): -netdev/-nic parsing and
errors, info network, info usernet, set_link, hostfwd_add/remove, netdev_add/netdev_del."""

import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "monitor"))

import testlib  # noqa: E402
from qmpclient import VmQmp, free_port  # noqa: E402

TIMEOUT = 120


def run_vessel(*args, timeout=20):
    binary = testlib.require_emulator()
    return subprocess.run([binary, "-M", "virt", "-display", "none", "-bios", "none", "-S"]
                          + list(args), capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def test_netdev_errors():
    cases = [
        (["-netdev", "user"], "Parameter 'id' is missing"),
        (["-netdev", "bogus,id=x"], "Parameter 'type' does not accept value 'bogus'"),
        (["-netdev", "user,id=n0", "-netdev", "user,id=n0"], "Duplicate ID 'n0' for netdev"),
        (["-netdev", "user,id=n0,frobnicate=1"], "invalid parameter 'frobnicate'"),
        (["-netdev", "user,id=n0,net=10.0.2.0/33"], "Invalid netmask"),
        (["-netdev", "user,id=n0,host=10.0.3.2"], "doesn't belong to network"),
        (["-netdev", "user,id=n0,hostfwd=tcp::x-:80"], "Invalid host forwarding rule"),
        (["-netdev", "user,id=n0,hostfwd=sctp::1-:80"], "Bad protocol name"),
        (["-netdev", "tap,id=t0,vhost=on"], "vhost"),
        (["-netdev", "socket,id=s0"], "exactly one of"),
        (["-netdev", "stream,id=s0,addr.type=inet,addr.host=127.0.0.1,addr.port=1"],
         "can't connect"),
        (["-device", "virtio-net-device,netdev=nope"], "can't find value 'nope'"),
        (["-netdev", "user,id=n0", "-device", "virtio-net-device,netdev=n0",
          "-device", "virtio-net-device,netdev=n0"], "it's in use"),
        (["-device", "virtio-net-device,mac=52:54:00"], "doesn't take value '52:54:00'"),
        (["-object", "filter-dump,id=f,netdev=none,file=/dev/null"], "can't find value 'none'"),
        (["-object", "bogus-object,id=x"], "invalid object type: bogus-object"),
    ]
    for args, msg in cases:
        r = run_vessel(*args)
        assert r.returncode == 1, (args, r.returncode, r.stderr)
        assert msg in r.stderr, (args, r.stderr)


def test_netdev_help():
    r = subprocess.run([testlib.require_emulator(), "-netdev", "help"], capture_output=True,
                       text=True, timeout=20)
    assert r.returncode == 0
    for t in ("user", "tap", "socket", "stream", "dgram"):
        assert "\n%s\n" % t in r.stdout + "\n", r.stdout


def test_info_network_and_usernet():
    port = free_port()
    with VmQmp(["-nic", "user,hostfwd=tcp:127.0.0.1:%d-:80" % port,
                "-netdev", "user,id=n1,net=192.168.50.0/24,restrict=on",
                "-device", "virtio-net-device,id=nic1,netdev=n1,mac=52:54:00:aa:bb:cc",
                "-netdev", "user,id=lonely"]) as vm:
        q = vm.qmp()
        out = q.hmp("info network")
        lines = out.replace("\r", "").split("\n")
        assert ("virtio-net-device.0: index=0,type=nic,model=virtio-net-device,"
                "macaddr=52:54:00:12:34:56") in lines, out
        assert " \\ __org.qemu.nic0: index=0,type=user,net=10.0.2.0,restrict=off" in lines, out
        assert ("nic1: index=0,type=nic,model=virtio-net-device,macaddr=52:54:00:aa:bb:cc"
                in lines), out
        assert " \\ n1: index=0,type=user,net=192.168.50.0,restrict=on" in lines, out
        assert "lonely: index=0,type=user,net=10.0.2.0,restrict=off" in lines, out
        usernet = q.hmp("info usernet")
        assert "Hub -1 (__org.qemu.nic0):" in usernet, usernet
        assert "TCP[HOST_FORWARD]" in usernet and str(port) in usernet, usernet
        # The forwarded port really listens on the host.
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_hostfwd_add_remove():
    port = free_port()
    with VmQmp(["-netdev", "user,id=n0", "-device", "virtio-net-device,netdev=n0"]) as vm:
        q = vm.qmp()
        assert q.hmp("hostfwd_add n0 tcp:127.0.0.1:%d-:22" % port) == ""
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        assert "HOST_FORWARD" in q.hmp("info usernet")
        out = q.hmp("hostfwd_remove n0 tcp:127.0.0.1:%d" % port)
        assert out.strip() == "host forwarding rule for tcp:127.0.0.1:%d removed" % port, out
        out = q.hmp("hostfwd_remove n0 tcp:127.0.0.1:%d" % port)
        assert "not found" in out, out
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            raise AssertionError("the removed forward still listens")
        except ConnectionRefusedError:
            pass
        # One argument: the first user netdev.
        assert q.hmp("hostfwd_add udp::%d-:53" % free_port()) == ""
        out = q.hmp("hostfwd_add n0 tcp::notaport-:22")
        assert "Invalid host forwarding rule" in out, out
        out = q.hmp("hostfwd_add nosuch tcp::1234-:22")
        assert "unrecognized" in out, out


def test_set_link_and_netdev_add_del():
    with VmQmp(["-netdev", "user,id=n0", "-device", "virtio-net-device,id=net0,netdev=n0"]) as vm:
        q = vm.qmp()
        q.ok("set_link", {"name": "net0", "up": False})
        q.ok("set_link", {"name": "n0", "up": True})
        r = q.cmd("set_link", {"name": "nosuch", "up": True})
        assert r["error"]["class"] == "DeviceNotFound", r
        assert r["error"]["desc"] == "Device 'nosuch' not found", r
        r = q.cmd("set_link", {"name": "n0"})
        assert "error" in r, r
        assert q.hmp("set_link net0 off") == ""

        q.ok("netdev_add", {"type": "user", "id": "hot0", "net": "10.9.0.0/24"})
        assert "hot0: index=0,type=user,net=10.9.0.0" in q.hmp("info network")
        r = q.cmd("netdev_add", {"type": "user", "id": "hot0"})
        assert "Duplicate ID 'hot0' for netdev" in r["error"]["desc"], r
        r = q.cmd("netdev_add", {"type": "user"})
        assert "Parameter 'id' is missing" in r["error"]["desc"], r
        q.ok("netdev_add", {"type": "stream", "id": "st0", "server": True,
                            "addr.type": "inet", "addr.host": "127.0.0.1",
                            "addr.port": str(free_port())})
        q.ok("netdev_del", {"id": "hot0"})
        q.ok("netdev_del", {"id": "st0"})
        r = q.cmd("netdev_del", {"id": "hot0"})
        assert r["error"]["class"] == "DeviceNotFound", r
        assert "hot0" not in q.hmp("info network")
        assert q.hmp("netdev_add user,id=hmp0") == ""
        assert "hmp0: index=0" in q.hmp("info network")
        assert q.hmp("netdev_del hmp0") == ""
        stats = q.hmp("info netstats")
        assert "net0: rx_packets=" in stats and "n0: rx_packets=" in stats, stats
