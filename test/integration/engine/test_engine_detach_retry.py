"""End to end: a terminate whose DetachNetworkInterface fails once
(hook/engine/engine_terminate.c, docs/engine.md "Terminate").

One instance is launched with one Multus ENI; then a fault rule makes the
simulator answer the next DetachNetworkInterface with a 500 before acting (the
call is not idempotent, so aws/ does not retry it: the engine sees the
failure). The group scales to 0. The engine must send the detach again
(Force), delete the ENI itself, and complete the terminate with CONTINUE once.
Everything is read back from the simulator.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from engine_e2e import LAUNCHING, TERMINATING, World, daemon, dump, wait_for  # noqa: E402

AZ = "us-east-1a"
ASG = "e2e-detach"


class DetachFailsOnce(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.w = w = World(time_scale=1.0, name="eng-detach")
        cls.addClassCleanup(w.close)
        w.build_network(("sig",))
        cls.d = daemon(w, "main", [w.group_cfg("workers", ["e2e-detach*"],
                                               [w.net_cfg("sig", 1, "first-free")])],
                       limits={"sweep_interval_s": 0})
        w.deliver()
        w.asg(ASG, desired=1, azs=[AZ])
        w.wait_in_service(ASG, 1)
        launch = w.wait_settled(ASG, LAUNCHING, 1)[0]
        assert (launch["state"], launch["result"]) == ("completed", "CONTINUE"), launch
        cls.instance = launch["instance_id"]
        enis = w.enis_of(cls.instance)
        assert len(enis) == 1 and enis[0]["status"] == "in-use", dump(enis)
        cls.eni = enis[0]["id"]
        cls.seq = w.sim.last_seq()
        w.sim.add_fault("error-before", service="ec2", action="DetachNetworkInterface",
                        count=1, status=500, code="InternalError")
        w.scale(ASG, 0)
        cls.term = wait_for(
            lambda: [a for a in w.wait_settled(ASG, TERMINATING, 1)
                     if a["instance_id"] == cls.instance], 90, 0.2, "the terminate settled",
            diag=w.diag)[0]

    def test_terminate_completed_continue_once(self):
        self.assertEqual((self.term["state"], self.term["result"]), ("completed", "CONTINUE"),
                         self.term)
        ok = self.w.completes(token=self.term["token"], ok_only=True)
        self.assertEqual(len(ok), 1, dump(ok))
        self.assertEqual(ok[0]["params"].get("LifecycleActionResult"), "CONTINUE")

    def test_detach_sent_again_with_force_after_the_failure(self):
        det = self.w.requests("DetachNetworkInterface", since=self.seq)
        statuses = [r["status"] for r in det]
        self.assertEqual(statuses[0], 500, dump(det))
        self.assertIn(200, statuses[1:], dump(det))
        again = [r for r in det[1:] if r["status"] == 200][0]
        self.assertEqual(str(again["params"].get("Force")).lower(), "true", dump(again))

    def test_the_daemon_deleted_the_eni(self):
        dels = [r for r in self.w.requests("DeleteNetworkInterface", since=self.seq)
                if r["params"].get("NetworkInterfaceId") == self.eni and r["status"] == 200]
        self.assertEqual(len(dels), 1, dump(self.w.requests("DeleteNetworkInterface",
                                                             since=self.seq)))
        self.assertNotIn(self.eni, {e["id"] for e in self.w.all_enis()})
        acts = [a for a in self.d.actions() if a["instance_id"] == self.instance
                and a["transition"] == TERMINATING]
        self.assertEqual(len(acts), 1, dump(acts))
        self.assertEqual((acts[0]["state"], acts[0]["result"]), ("done", "CONTINUE"), acts[0])
        self.assertIsNone(acts[0]["last_error"], acts[0])


if __name__ == "__main__":
    unittest.main(verbosity=2)
