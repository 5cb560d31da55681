"""virtio-*-pci wrappers on the pc board: the transport-independent device is the child
"virtio-backend", and the wrapper's path serves its properties (qom-get/qom-set), as in QEMU.
The board is started paused (-S) under KVM with the bare-metal payload as its kernel."""

import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "monitor"))
sys.path.insert(0, HERE)

import testlib  # noqa: E402
from qmpclient import Qmp, connect_unix  # noqa: E402
from test_x86_kvm import PAYLOAD, require_kvm  # noqa: E402

PATH = "/machine/peripheral/b0"


class PausedPc:
    """vessel -M pc -S with a QMP socket and the given extra arguments."""

    def __init__(self, extra):
        require_kvm()
        testlib.require_file(PAYLOAD, "run make")
        self.dir = tempfile.TemporaryDirectory()
        sock = os.path.join(self.dir.name, "qmp.sock")
        self.vm = testlib.Vm(["-M", "pc", "-accel", "kvm", "-m", "128", "-S",
                              "-display", "none", "-kernel", PAYLOAD,
                              "-qmp", "unix:%s,server=on,wait=off" % sock] + list(extra),
                             console="pipe")
        self.qmp = Qmp(connect_unix(sock))

    def close(self):
        self.qmp.close()
        self.vm.kill()
        self.dir.cleanup()


def test_balloon_pci_properties_through_wrapper():
    pc = PausedPc(["-device", "virtio-balloon-pci,id=b0"])
    try:
        q = pc.qmp
        names = {p["name"]: p["type"] for p in q.ok("qom-list", {"path": PATH})}
        assert names.get("virtio-backend") == "child<virtio-balloon-device>", names
        assert "guest-stats-polling-interval" in names and "addr" in names, names
        assert q.ok("qom-get", {"path": PATH, "property": "type"}) == "virtio-balloon-pci"

        # The balloon's own handlers run on the balloon, reached through the wrapper.
        stats = q.ok("qom-get", {"path": PATH, "property": "guest-stats"})
        assert stats["last-update"] == 0 and "stat-free-memory" in stats["stats"], stats
        assert q.ok("qom-get", {"path": PATH,
                                "property": "guest-stats-polling-interval"}) == 0
        q.ok("qom-set", {"path": PATH, "property": "guest-stats-polling-interval",
                         "value": 2})
        assert q.ok("qom-get", {"path": PATH,
                                "property": "guest-stats-polling-interval"}) == 2
        assert q.ok("qom-get", {"path": PATH + "/virtio-backend",
                                "property": "guest-stats-polling-interval"}) == 2
        r = q.cmd("qom-get", {"path": PATH, "property": "guest-stats"})
        assert r["error"]["desc"] == "guest hasn't updated any stats yet", r
        r = q.cmd("qom-set", {"path": PATH, "property": "guest-stats-polling-interval",
                              "value": -1})
        assert "error" in r, r
        r = q.cmd("qom-get", {"path": PATH, "property": "no-such-property"})
        assert "virtio-balloon-pci.no-such-property" in r["error"]["desc"], r
        # The balloon commands find the embedded device.
        assert q.ok("query-balloon")["actual"] == 128 << 20
    finally:
        pc.close()


def test_blk_pci_drive_property():
    with tempfile.NamedTemporaryFile(suffix=".raw") as img:
        img.truncate(1 << 20)
        img.flush()
        pc = PausedPc(["-drive", "file=%s,format=raw,if=none,id=d0" % img.name,
                       "-device", "virtio-blk-pci,id=b0,drive=d0"])
        try:
            assert pc.qmp.ok("qom-get", {"path": PATH, "property": "drive"}) == "d0"
            names = {p["name"] for p in pc.qmp.ok("qom-list", {"path": PATH})}
            assert {"drive", "virtio-backend", "addr"} <= names, names
        finally:
            pc.close()


def test_unknown_wrapper_property_refused():
    require_kvm()
    testlib.require_file(PAYLOAD, "run make")
    vm = testlib.Vm(["-M", "pc", "-accel", "kvm", "-S", "-display", "none", "-kernel",
                     PAYLOAD, "-device", "virtio-balloon-pci,bogus=1"], console="pipe")
    try:
        assert vm.wait(30) == 1
        assert "bogus" in vm.output, vm.output
    finally:
        vm.kill()
