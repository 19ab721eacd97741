"""End to end: a completion resumed after a crash survives a transient error
(hook/engine/ begin()/complete_cb, docs/engine.md "Restart and resume").

The launch reaches COMPLETING while the simulator answers every
CompleteLifecycleAction with a 500 (before acting: AWS state unchanged). The
daemon is killed with SIGKILL there and restarted with one more 500 armed for
the next CompleteLifecycleAction. CompleteLifecycleAction is not idempotent,
so aws/ does not retry it: the engine must (it learns the hook's timing
first, then retries until the global deadline). The simulator must record
exactly one successful completion, CONTINUE, and the instance goes InService.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from engine_e2e import LAUNCHING, World, daemon, dump, wait_for  # noqa: E402

AZ = "us-east-1a"
ASG = "e2e-resume-complete"


class ResumedCompletionRetries(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.w = w = World(time_scale=1.0, name="eng-resume-complete")
        cls.addClassCleanup(w.close)
        w.build_network(("sig",))
        cls.d = d = daemon(w, "main", [w.group_cfg("workers", ["e2e-resume-complete*"],
                                                   [w.net_cfg("sig", 1, "first-free")])],
                           limits={"sweep_interval_s": 0})
        w.deliver()
        w.sim.add_fault("error-before", service="autoscaling", action="CompleteLifecycleAction",
                        status=500, code="InternalFailure")
        w.asg(ASG, desired=1, azs=[AZ], heartbeat_timeout=600, terminate_hook=False)
        wait_for(lambda: [a for a in d.actions() if a["state"] == "completing"] or None, 60, 0.1,
                 "the launch in COMPLETING", diag=w.diag)
        d.kill9()
        w.sim.clear_faults()
        cls.seq = w.sim.last_seq()
        w.sim.add_fault("error-before", service="autoscaling", action="CompleteLifecycleAction",
                        status=500, code="InternalFailure", count=1)
        d.restart()
        cls.launch = w.wait_settled(ASG, LAUNCHING, 1, timeout=60)[0]

    def test_one_successful_completion_continue(self):
        self.assertEqual((self.launch["state"], self.launch["result"]),
                         ("completed", "CONTINUE"), self.launch)
        after = self.w.completes(token=self.launch["token"], since=self.seq)
        self.assertEqual([r["status"] for r in after][:1], [500], dump(after))
        ok = self.w.completes(token=self.launch["token"], ok_only=True)
        self.assertEqual(len(ok), 1, dump(self.w.completes(token=self.launch["token"])))
        self.assertEqual(ok[0]["params"].get("LifecycleActionResult"), "CONTINUE", dump(ok))

    def test_instance_in_service_with_its_eni(self):
        inst = self.w.wait_in_service(ASG, 1, timeout=30)
        self.assertEqual(inst[0]["id"], self.launch["instance_id"])
        enis = self.w.enis_of(self.launch["instance_id"])
        self.assertEqual(len(enis), 1, dump(enis))
        self.assertEqual(enis[0]["status"], "in-use", dump(enis))

    def test_daemon_record_done(self):
        acts = wait_for(lambda: [a for a in self.d.actions()
                                 if a["instance_id"] == self.launch["instance_id"]
                                 and a["state"] == "done"] or None, 15, 0.1,
                        "the daemon's record done", diag=self.w.diag)
        self.assertEqual(acts[0]["result"], "CONTINUE", acts[0])


if __name__ == "__main__":
    unittest.main(verbosity=2)
