"""End to end: the daemon under systemd's notification protocol (Type=notify).

The test plays systemd: it binds a Unix datagram socket, gives the daemon its
path as NOTIFY_SOCKET (and WATCHDOG_USEC), starts it against the simulator, and
reads what arrives. READY=1 must come only once the listeners answer (the
ready file is written and both ports accept connections) and the first
credentials were resolved (the probe's GetCallerIdentity reached the
simulator); WATCHDOG=1 keeps arriving; STOPPING=1 arrives on SIGTERM. Without
NOTIFY_SOCKET the daemon sends nothing (every other e2e test runs so)."""

import os
import signal
import socket
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_harness import World, http, wait_for  # noqa: E402


class Notify(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.w = World(name="sd-notify")
        cls.addClassCleanup(cls.w.close)
        cls.w.build_network(("sig",))
        cls.sock_dir = tempfile.mkdtemp(prefix="hookd-sd-")
        cls.sock_path = os.path.join(cls.sock_dir, "notify")
        cls.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        cls.sock.bind(cls.sock_path)
        cls.sock.settimeout(0.2)
        cls.addClassCleanup(cls.sock.close)
        nets = [cls.w.net_cfg("sig", 1, "first-free")]
        cls.d = cls.w.daemon("main", [cls.w.group_cfg("workers", ["e2e-sd"], nets)], start=False)
        cls.d.extra_env = {"NOTIFY_SOCKET": cls.sock_path, "WATCHDOG_USEC": "400000"}
        cls.messages = []

    def drain(self):
        while True:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                return
            self.messages.append(data.decode())

    def fields(self):
        return [f for m in self.messages for f in m.split("\n") if f]

    def test_ready_watchdog_stopping(self):
        # The probe's GetCallerIdentity answers 1.5 s late: a READY=1 sent
        # before the credentials worked would arrive before this answer.
        self.w.sim.add_fault("latency", service="sts", ms=1500, action=["GetCallerIdentity"])
        before = len(self.w.requests("GetCallerIdentity"))
        self.d.start()  # returns once the ready file is written

        def ready():
            self.drain()
            return "READY=1" in self.fields()

        wait_for(ready, 30, 0.05, "READY=1", diag=lambda: repr(self.messages) + self.d.log_tail(20))
        # what READY=1 promises holds: both listeners answer, credentials worked
        status, _ = http("GET", self.d.admin_url + "/healthz")
        self.assertEqual(status, 200)
        with socket.create_connection(("127.0.0.1", self.d.intake_port), timeout=5):
            pass
        ok = [r for r in self.w.requests("GetCallerIdentity")[before:] if r["status"] == 200]
        self.assertGreaterEqual(len(ok), 1)
        # READY=1 is sent once, and only after a status saying what it waits for
        fields = self.fields()
        self.assertEqual(fields.count("READY=1"), 1, fields)
        self.assertNotIn("STOPPING=1", fields)

        def watchdogs():
            self.drain()
            return self.fields().count("WATCHDOG=1") >= 3

        wait_for(watchdogs, 30, 0.1, "three WATCHDOG=1", diag=lambda: repr(self.messages))

        self.d.proc.send_signal(signal.SIGTERM)

        def stopping():
            self.drain()
            return "STOPPING=1" in self.fields()

        wait_for(stopping, 30, 0.05, "STOPPING=1", diag=lambda: repr(self.messages))
        self.assertEqual(self.d.proc.wait(timeout=30), 0)
        # READY came before STOPPING
        fields = self.fields()
        self.assertLess(fields.index("READY=1"), fields.index("STOPPING=1"))
        self.assertIn("STATUS=draining", fields)


if __name__ == "__main__":
    unittest.main()
