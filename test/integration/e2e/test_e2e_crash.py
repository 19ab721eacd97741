"""End to end: kill -9 in the middle of a burst, restart, everything completes.

Twelve launches over two AZs with two networks; every AWS call takes 100 ms
(simulator latency) so the burst is still running when the daemon is killed
with SIGKILL just after the first ENIs were created. The restarted daemon (same
state directory, same ports: the simulator keeps redelivering what failed) must
finish every action: no duplicate ENI, no orphan, each action completed once.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_harness import (  # noqa: E402
    LAUNCHING,
    TAG_INSTANCE,
    World,
    wait_for,
)

ASG = "e2e-crash"
N = 12


class KillNineMidBurst(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.w = w = World(time_scale=0.1, latency_ms=100, name="crash")
        cls.addClassCleanup(w.close)
        w.build_network(("sig", "media"))
        cls.daemon = d = w.daemon("main", [w.group_cfg("workers", ["e2e-crash"], [
            w.net_cfg("sig", 1, "first-free"), w.net_cfg("media", 2, "dhcp")])])
        w.deliver()
        w.asg(ASG, desired=N, terminate_hook=False)
        # kill as soon as the first ENIs exist
        wait_for(lambda: len([r for r in w.requests("CreateNetworkInterface") if r["status"] == 200]) >= 2,
                 60, 0.02, "the first CreateNetworkInterface", diag=w.diag)
        d.kill9()
        cls.exit_status = d.proc.returncode
        cls.waiting_at_kill = len(w.lifecycle(group=ASG, state="waiting"))
        cls.creates_at_kill = len([r for r in w.requests("CreateNetworkInterface") if r["status"] == 200])
        d.restart()
        w.wait_in_service(ASG, N, timeout=180)
        cls.instances = sorted(i["id"] for i in w.instances(ASG))

    def test_the_kill_happened_mid_burst(self):
        self.assertEqual(self.exit_status, -9)
        self.assertGreater(self.waiting_at_kill, 0, "every action had completed before the kill")
        self.assertLess(self.creates_at_kill, 2 * N)

    def test_no_duplicate_or_orphan_enis(self):
        w = self.w
        enis = w.multus_enis()
        self.assertEqual(len(enis), 2 * N, [(e["id"], e["tags"].get(TAG_INSTANCE), e["status"]) for e in enis])
        for e in enis:
            self.assertEqual(e["status"], "in-use", e)
            self.assertEqual(e["instance"], e["tags"].get(TAG_INSTANCE), e)
        for iid in self.instances:
            self.assertEqual(sorted(e["device_index"] for e in w.enis_of(iid)), [1, 2])
        addrs = [a for e in enis for a in e["ipv4s"]]
        self.assertEqual(len(addrs), len(set(addrs)))

    def test_every_action_completed_exactly_once(self):
        w = self.w
        acts = w.lifecycle(group=ASG, transition=LAUNCHING)
        self.assertEqual(sorted(a["instance_id"] for a in acts), self.instances)
        for a in acts:
            self.assertEqual((a["state"], a["result"]), ("completed", "CONTINUE"), a)
            self.assertEqual(len(w.completes(a["token"], ok_only=True)), 1)

    def test_restarted_daemon_is_idle_with_every_action_done(self):
        acts = wait_for(lambda: (lambda v: v if all(a["state"] == "done" for a in v) else None)(
            self.daemon.actions()), 60, 0.2, "daemon actions done", diag=self.w.diag)
        self.assertEqual(sorted(a["instance_id"] for a in acts), self.instances)


if __name__ == "__main__":
    unittest.main(verbosity=2)
