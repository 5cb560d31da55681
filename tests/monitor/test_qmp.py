"""QMP: wire format, negotiation, every command, argument checking, events and hostile input.

Each test boots build/vessel -M virt with a payload that sleeps in WFI (or paused with -S) and a
QMP socket, and talks to it with tests/monitor/qmpclient.py. Run with tests/run.py or directly:
python3 tests/monitor/test_qmp.py [name...].
"""

import json
import shutil
import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testlib  # noqa: E402
from qmpclient import Qmp, VmQmp, connect_tcp, connect_unix, free_port  # noqa: E402

TIMEOUT = 120

EXPECTED_COMMANDS = [
    "qmp_capabilities", "query-version", "query-commands", "query-status", "stop", "cont",
    "system_reset", "system_powerdown", "quit", "query-cpus-fast", "query-machines",
    "query-target", "query-kvm", "query-name", "query-uuid", "query-block", "query-blockstats",
    "query-chardev", "query-memory-size-summary", "qom-list", "qom-get", "qom-set",
    "device_add", "device_del", "memsave", "pmemsave", "human-monitor-command",
]


def test_greeting_and_negotiation():
    with VmQmp() as v:
        q = v.qmp(negotiate=False)
        g = q.greeting["QMP"]
        assert g["version"]["qemu"] == {"major": 7, "minor": 2, "micro": 0}, g
        assert g["version"]["package"].startswith("Vessel "), g
        assert g["capabilities"] == [], g
        r = q.cmd("query-status")
        assert r == {"error": {"class": "CommandNotFound",
                               "desc": "Expecting capabilities negotiation with "
                                       "'qmp_capabilities'"}}, r
        r = q.cmd("qmp_capabilities", {"enable": ["oob"]})
        assert r == {"error": {"class": "GenericError",
                               "desc": "Capability 'oob' not available"}}, r
        r = q.cmd("qmp_capabilities", {"enable": "oob"})
        assert r["error"]["desc"] == "Invalid parameter type for 'enable', expected: array", r
        assert q.cmd("qmp_capabilities") == {"return": {}}
        r = q.cmd("qmp_capabilities")
        assert r == {"error": {"class": "CommandNotFound",
                               "desc": "Capabilities negotiation is already complete, "
                                       "command ignored"}}, r
        assert all(line.endswith(b"\r\n") for line in q.raw_lines)


def test_id_echoed_verbatim():
    with VmQmp() as v:
        q = v.qmp()
        for ident in [1, "abc", None, [1, {"a": [True, False]}], {"x": "y"}, 2.5, -7]:
            r = q.cmd("query-name", id=ident)
            assert "id" in r and r["id"] == ident, (ident, r)
        r = q.cmd("no-such-command", id="e1")
        assert r["id"] == "e1" and r["error"]["class"] == "CommandNotFound", r
        assert r["error"]["desc"] == "The command no-such-command has not been found", r


def test_query_commands_and_every_command_answers():
    with VmQmp() as v:
        q = v.qmp()
        names = [c["name"] for c in q.ok("query-commands")]
        for name in EXPECTED_COMMANDS:
            assert name in names, "%s missing from query-commands" % name
        # Commands that need nothing and change nothing must succeed without arguments.
        for name in ["query-version", "query-status", "query-cpus-fast", "query-machines",
                     "query-target", "query-kvm", "query-name", "query-uuid", "query-block",
                     "query-blockstats", "query-chardev", "query-memory-size-summary"]:
            q.ok(name)
        # The others name their missing parameter.
        for name, missing in [("qom-list", "path"), ("qom-get", "path"), ("device_add", "driver"),
                              ("device_del", "id"), ("memsave", "val"), ("pmemsave", "val"),
                              ("human-monitor-command", "command-line")]:
            r = q.cmd(name)
            assert r == {"error": {"class": "GenericError",
                                   "desc": "Parameter '%s' is missing" % missing}}, (name, r)


def test_status_stop_cont_and_events():
    with VmQmp() as v:
        q = v.qmp()
        assert q.ok("query-status") == {"status": "prelaunch", "singlestep": False,
                                        "running": False}
        q.ok("cont")
        e = q.wait_event("RESUME")
        assert set(e) == {"event", "timestamp"}, e
        assert set(e["timestamp"]) == {"seconds", "microseconds"}, e
        assert abs(e["timestamp"]["seconds"] - time.time()) < 60, e
        assert q.ok("query-status")["status"] == "running"
        q.ok("stop")
        q.wait_event("STOP")
        assert q.ok("query-status") == {"status": "paused", "singlestep": False,
                                        "running": False}
        assert q.hmp("info status") == "VM status: paused\r\n"
        q.ok("cont")
        q.wait_event("RESUME")
        assert q.hmp("info status") == "VM status: running\r\n"


def test_events_reach_every_negotiated_client():
    with VmQmp(paused=False) as v:
        a, b = v.qmp(), v.qmp()
        silent = v.qmp(negotiate=False)
        a.ok("stop")
        a.wait_event("STOP")
        b.wait_event("STOP")
        # A client still in capabilities negotiation gets no events.
        silent.sock.settimeout(1)
        try:
            data = silent.sock.recv(4096)
        except socket.timeout:
            data = b""
        assert data == b"", data
        b.ok("cont")
        a.wait_event("RESUME")


def test_reset_powerdown_quit():
    with VmQmp(paused=False) as v:
        q = v.qmp()
        q.ok("system_reset")
        e = q.wait_event("RESET")
        assert e["data"] == {"guest": False, "reason": "host-qmp-system-reset"}, e
        q.ok("system_powerdown")
        q.wait_event("POWERDOWN")
        assert q.ok("query-status")["running"]
        q.ok("quit")
        e = q.wait_event("SHUTDOWN")
        assert e["data"] == {"guest": False, "reason": "host-qmp-quit"}, e
        assert v.vm.wait(20) == 0
        assert not os.path.exists(v.qmp_path), "the QMP socket file was left behind"


def test_query_shapes():
    with VmQmp(extra=["-smp", "2", "-name", "guest-one"], paused=False) as v:
        q = v.qmp()
        assert q.ok("query-version")["qemu"] == {"major": 7, "minor": 2, "micro": 0}
        assert q.ok("query-name") == {"name": "guest-one"}
        assert q.hmp("info name") == "guest-one\r\n"
        assert q.ok("query-uuid") == {"UUID": "00000000-0000-0000-0000-000000000000"}
        kvm = q.ok("query-kvm")
        assert kvm["enabled"] is False and isinstance(kvm["present"], bool), kvm
        assert q.ok("query-target") == {"arch": "riscv64"}
        assert q.ok("query-memory-size-summary") == {"base-memory": 64 << 20}
        machines = {m["name"]: m for m in q.ok("query-machines")}
        assert "virt" in machines and machines["virt"]["cpu-max"] >= 2, machines
        cpus = q.ok("query-cpus-fast")
        assert [c["cpu-index"] for c in cpus] == [0, 1], cpus
        tids = set(os.listdir("/proc/%d/task" % v.vm.pid))
        for c in cpus:
            assert c["target"] == "riscv64" and c["props"] == {"core-id": c["cpu-index"]}, c
            assert str(c["thread-id"]) in tids and c["thread-id"] != v.vm.pid, c
            assert q.ok("qom-get", {"path": c["qom-path"], "property": "type"}) \
                == "rv64-riscv-cpu"
        labels = {c["label"]: c for c in q.ok("query-chardev")}
        assert labels["serial0"]["filename"] == "null", labels
        assert labels["compat_monitor0"]["filename"] == "unix:%s,server=on" % v.qmp_path
        text = q.hmp("info cpus")
        assert text.startswith("* CPU #0: thread_id=%d\r\n" % cpus[0]["thread-id"]), text
        assert "  CPU #1: thread_id=%d\r\n" % cpus[1]["thread-id"] in text, text


def test_qom_list_get_set():
    with VmQmp() as v:
        q = v.qmp()
        props = {p["name"]: p["type"] for p in q.ok("qom-list", {"path": "/machine"})}
        assert props["type"] == "string" and props["plic"] == "child<riscv.sifive.plic>", props
        plic = {p["name"]: p["type"] for p in q.ok("qom-list", {"path": "/machine/plic"})}
        assert plic["num-sources"] == "uint32", plic
        assert q.ok("qom-get", {"path": "/machine/plic", "property": "num-sources"}) == 96
        assert q.ok("qom-get", {"path": "/machine/plic", "property": "type"}) \
            == "riscv.sifive.plic"
        r = q.cmd("qom-get", {"path": "/machine/nothing", "property": "type"})
        assert r["error"] == {"class": "DeviceNotFound",
                              "desc": "Device '/machine/nothing' not found"}, r
        r = q.cmd("qom-get", {"path": "/machine/plic", "property": "nope"})
        assert r["error"]["desc"] == "Property 'riscv.sifive.plic.nope' not found", r
        r = q.cmd("qom-set", {"path": "/machine/plic", "property": "num-sources",
                              "value": "many"})
        assert r["error"]["desc"] == "Invalid parameter type for 'num-sources', " \
                                     "expected: integer", r
        # Realized devices refuse the change; the value stays.
        r = q.cmd("qom-set", {"path": "/machine/plic", "property": "num-sources", "value": 8})
        assert "error" in r, r
        assert q.ok("qom-get", {"path": "/machine/plic", "property": "num-sources"}) == 96


def test_argument_checking_before_side_effects():
    with VmQmp(paused=False) as v:
        q = v.qmp()
        cases = [
            ("stop", {"now": True}, "Parameter 'now' is unexpected"),
            ("qom-get", {"path": 1, "property": "x"},
             "Invalid parameter type for 'path', expected: string"),
            ("pmemsave", {"val": "0", "size": 1, "filename": "/dev/null"},
             "Invalid parameter type for 'val', expected: integer"),
            ("pmemsave", {"val": 0, "size": 1.5, "filename": "/dev/null"},
             "Invalid parameter type for 'size', expected: integer"),
            ("memsave", {"val": 0, "size": 1, "filename": ["x"]},
             "Invalid parameter type for 'filename', expected: string"),
        ]
        for name, args, desc in cases:
            r = q.cmd(name, args)
            assert r == {"error": {"class": "GenericError", "desc": desc}}, (name, r)
        assert q.ok("query-status")["running"], "a rejected stop must not stop the VM"
        for msg, desc in [({"execute": "stop", "extra": 1}, "QMP input member 'extra' is "
                                                             "unexpected"),
                          ({"arguments": {}}, "QMP input lacks member 'execute'"),
                          ({"execute": ["stop"]}, "QMP input member 'execute' must be a string"),
                          ({"execute": "stop", "arguments": [1]},
                           "QMP input member 'arguments' must be an object")]:
            q.send_raw(json.dumps(msg) + "\n")
            r = q.response()
            assert r["error"] == {"class": "GenericError", "desc": desc}, (msg, r)
        assert q.ok("query-status")["running"]


def test_malformed_json_is_answered_and_skipped():
    with VmQmp() as v:
        q = v.qmp()
        for junk in [b"{\"foo\n", b"]\n", b"[1, 2]\n", b"42\n", b"\"str\"\n", b"{,}\n",
                     b"nonsense\n", b"{\"execute\": \"stop\",,}\n", b"\xff\xfe{}\n"]:
            q.send_raw(junk)
            r = q.response()
            assert r["error"]["class"] == "GenericError", (junk, r)
            # Whatever the junk was, the session goes on.
            while True:
                r = q.cmd("query-name", id="after")
                if r.get("id") == "after":
                    break
            assert r == {"return": {}, "id": "after"}, (junk, r)


def test_nesting_and_size_limits():
    with VmQmp() as v:
        q = v.qmp()
        q.send_raw("[" * 100 + "]" * 100 + "\n")
        r = q.response()
        assert r["error"]["desc"] == "JSON nesting depth limit exceeded", r
        assert q.cmd("query-name", id=1) == {"return": {}, "id": 1}
        # 1 MiB is fine (and echoed back as an id) ...
        big = "x" * (1 << 20)
        r = q.cmd("query-name", id=big)
        assert r == {"return": {}, "id": big}
        # ... 11 MiB is refused, and the rest of that line is skipped.
        q.send_raw('{"execute": "query-name", "id": "' + "y" * (11 << 20) + '"}\n')
        r = q.response()
        assert r["error"]["desc"] == "JSON token size limit exceeded", r
        assert q.cmd("query-name", id=2) == {"return": {}, "id": 2}
        # Deep nesting that never closes must not grow memory or block the session.
        q.send_raw("[" * 200000 + "\n")
        r = q.response()
        assert r["error"]["desc"] == "JSON nesting depth limit exceeded", r
        assert q.cmd("query-name", id=3) == {"return": {}, "id": 3}


def test_client_dropping_mid_command_is_harmless():
    with VmQmp(paused=False) as v:
        for payload in [b'{"execute": "qmp_capabilities"}\n{"execute": "query-st',
                        b'{"execute": "qmp_capabilities"}\n'
                        b'{"execute": "human-monitor-command", '
                        b'"arguments": {"command-line": "info qtree"}}\n' * 200]:
            s = connect_unix(v.qmp_path)
            s.sendall(payload)
            s.close()
        # A client that never reads its answers while events pile up.
        lazy = connect_unix(v.qmp_path)
        lazy.sendall(b'{"execute": "qmp_capabilities"}\n')
        q = v.qmp()
        for _ in range(20):
            q.ok("stop")
            q.ok("cont")
        assert q.ok("query-status")["running"]
        lazy.close()
        assert v.alive()
        assert v.qmp().ok("query-status")["running"]


def test_fifty_clients_at_once():
    with VmQmp(paused=False) as v:
        clients = [Qmp(connect_unix(v.qmp_path), negotiate=False) for _ in range(50)]
        errors = []

        def work(i, q):
            try:
                q.ok("qmp_capabilities")
                for n in range(5):
                    r = q.cmd("query-status", id=[i, n])
                    assert r == {"return": {"status": "running", "singlestep": False,
                                            "running": True}, "id": [i, n]}, r
            except BaseException as e:  # collected and reported by the main thread
                errors.append((i, e))

        threads = [threading.Thread(target=work, args=(i, q)) for i, q in enumerate(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors[:3]
        assert len(v.qmp().ok("query-chardev")) >= 2
        for q in clients:
            q.close()


def test_several_monitors_tcp_chardev_and_pretty():
    port = free_port()
    with VmQmp() as v:
        chr_path = v.path("mon.sock")
        pretty_path = v.path("pretty.sock")
        v.vm.kill()
        v2 = VmQmp(extra=["-chardev", "socket,id=qmpchr,path=%s,server=on,wait=off" % chr_path,
                          "-mon", "chardev=qmpchr,mode=control",
                          "-qmp", "tcp:127.0.0.1:%d,server=on,wait=off" % port,
                          "-qmp-pretty", "unix:%s,server=on,wait=off" % pretty_path])
        with v2:
            a = v2.qmp()
            b = Qmp(connect_unix(chr_path))
            c = Qmp(connect_tcp(port))
            d = connect_unix(pretty_path)
            greeting = read_pretty(d)
            assert greeting["QMP"]["capabilities"] == [], greeting
            d.sendall(b'{"execute": "qmp_capabilities"}\n')
            assert read_pretty(d) == {"return": {}}
            a.ok("cont")
            for q in (a, b, c):
                q.wait_event("RESUME")
                assert q.ok("query-status")["running"]
            labels = [x["label"] for x in a.ok("query-chardev")]
            assert "qmpchr" in labels and "compat_monitor0" in labels, labels


def read_pretty(sock):
    """One indented (multi-line) QMP message; it must end in CRLF like any other."""
    text = b""
    while True:
        text += sock.recv(4096)
        if text.endswith(b"\r\n"):
            try:
                msg = json.loads(text)
            except ValueError:
                continue
            assert text.count(b"\n") > 1, text
            return msg


def test_memsave_and_pmemsave():
    with VmQmp() as v:
        q = v.qmp()
        phys = v.path("phys.bin")
        virt = v.path("virt.bin")
        q.ok("pmemsave", {"val": 0x80000000, "size": 8, "filename": phys})
        with open(phys, "rb") as f:
            assert f.read() == bytes.fromhex("730050106ff0dfff"), "payload not in RAM"
        # Before the guest enables paging, virtual and physical addresses coincide.
        q.ok("memsave", {"val": 0x1000, "size": 4096 * 3, "filename": virt})
        q.ok("pmemsave", {"val": 0x1000, "size": 4096 * 3, "filename": phys})
        with open(virt, "rb") as a, open(phys, "rb") as b:
            data = a.read()
            assert data == b.read() and len(data) == 4096 * 3
        r = q.cmd("pmemsave", {"val": 0x4000000000, "size": 16, "filename": phys})
        assert r["error"]["desc"] == "Invalid addr 0x0000004000000000/size 16 specified", r
        r = q.cmd("memsave", {"val": 0x1000, "size": 16, "filename": phys, "cpu-index": 5})
        assert r["error"]["desc"] == "Invalid CPU index 5", r
        r = q.cmd("pmemsave", {"val": 0x1000, "size": 16,
                               "filename": v.path("no/such/dir/x")})
        assert r["error"]["desc"].startswith("Could not open '"), r
        word = int.from_bytes(data[:4], "little")
        assert q.hmp("xp /1xw 0x1000") == "0000000000001000: 0x%08x\r\n" % word


def test_device_add_and_del_errors():
    with VmQmp() as v:
        q = v.qmp()
        r = q.cmd("device_add", {"driver": "no-such-device"})
        assert r["error"]["class"] == "GenericError" and "no-such-device" in \
            r["error"]["desc"], r
        r = q.cmd("device_add", {"driver": "x,y=z"})
        assert r["error"]["desc"] == "'x,y=z' is not a valid device model name", r
        r = q.cmd("device_add", {"driver": "virtio-blk-device", "drive": {"a": 1}})
        assert r["error"]["desc"] == "Invalid parameter type for 'drive', expected: string", r
        r = q.cmd("device_del", {"id": "nothing"})
        assert r["error"] == {"class": "DeviceNotFound", "desc": "Device 'nothing' not found"}


def test_human_monitor_command():
    with VmQmp() as v:
        q = v.qmp()
        assert q.hmp("info status") == "VM status: paused (prelaunch)\r\n"
        assert q.hmp("nonsense") == "unknown command: 'nonsense'\r\n"
        assert q.hmp("") == ""
        assert "pc" in q.hmp("info registers")
        r = q.cmd("human-monitor-command", {"command-line": "info registers",
                                            "cpu-index": 3})
        assert r["error"]["desc"] == "Invalid CPU index 3", r
        q.hmp("cont")
        q.wait_event("RESUME")
        assert q.ok("query-status")["running"]


def test_socat_is_an_independent_client():
    if not shutil.which("socat"):
        raise testlib.Skip("socat is not installed")
    with VmQmp() as v:
        v.wait_socket()
        script = "\n".join(json.dumps(m) for m in [
            {"execute": "qmp_capabilities"},
            {"execute": "query-status", "id": "s"},
            {"execute": "cont"},
        ]) + "\n"
        p = subprocess.run(["socat", "-t", "2", "-", "UNIX-CONNECT:" + v.qmp_path],
                           input=script.encode(), stdout=subprocess.PIPE, timeout=30)
        msgs = [json.loads(line) for line in p.stdout.decode().splitlines() if line.strip()]
        assert "QMP" in msgs[0], msgs
        assert {"return": {"status": "prelaunch", "singlestep": False, "running": False},
                "id": "s"} in msgs, msgs
        assert any(m.get("event") == "RESUME" for m in msgs), msgs
        assert v.qmp().ok("query-status")["running"]


if __name__ == "__main__":
    names = sys.argv[1:] or [n for n in dir() if n.startswith("test_")]
    for n in names:
        globals()[n]()
        print("ok", n)
