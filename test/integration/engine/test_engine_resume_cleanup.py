"""End to end: a cleanup resumed after a crash heartbeats (hook/engine/
begin()/hooks_apply, docs/engine.md "Restart and resume").

Scale 0.05, HeartbeatTimeout 60 s (3 s real), heartbeat margin 1 s: the
daemon heartbeats about every 1.5 s. AttachNetworkInterface answers a
permanent error, so the launch fails and cleans up; the first
DeleteNetworkInterface is held 4 s and the daemon is killed (SIGKILL) while
the action is in CLEANUP. On restart the cleanup's first
DescribeNetworkInterfaces is held 6 s: twice the heartbeat timeout. The
action only survives that because the resumed cleanup knows the hook's timing
and heartbeats. The simulator must record a heartbeat for the token after the
restart, then an ABANDON completed by token (not by timeout), and no ENI of
the instance is left.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from engine_e2e import LAUNCHING, World, daemon, dump, wait_for  # noqa: E402

AZ = "us-east-1a"
ASG = "e2e-resume-cleanup"


class ResumedCleanupHeartbeats(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.w = w = World(time_scale=0.05, name="eng-resume-cleanup")
        cls.addClassCleanup(w.close)
        w.build_network(("sig",))
        cls.d = d = daemon(w, "main", [w.group_cfg("workers", ["e2e-resume-cleanup*"],
                                                   [w.net_cfg("sig", 1, "first-free")])],
                           limits={"sweep_interval_s": 0, "heartbeat_margin_ms": 1000},
                           testing={"time_scale": 0.05})
        w.deliver()
        w.sim.add_fault("error-before", service="ec2", action="AttachNetworkInterface",
                        status=400, code="InvalidParameterCombination")
        w.sim.add_fault("latency", service="ec2", action="DeleteNetworkInterface", ms=4000,
                        count=1)
        w.asg(ASG, desired=1, azs=[AZ], heartbeat_timeout=60, terminate_hook=False)
        wait_for(lambda: [a for a in d.actions() if a["state"] == "cleanup"] or None, 60, 0.05,
                 "the launch in CLEANUP", diag=w.diag)
        d.kill9()
        w.sim.clear_faults()
        cls.seq = w.sim.last_seq()
        w.sim.add_fault("latency", service="ec2", action="DescribeNetworkInterfaces", ms=6000,
                        count=1)
        d.restart()
        cls.launch = w.wait_settled(ASG, LAUNCHING, 1, timeout=60)[0]

    def test_abandon_completed_by_token(self):
        a = self.launch
        self.assertEqual((a["state"], a["result"], a["completed_by"]),
                         ("completed", "ABANDON", "token"), dump(a))
        ok = self.w.completes(token=a["token"], ok_only=True)
        self.assertEqual(len(ok), 1, dump(ok))

    def test_resumed_cleanup_sent_heartbeats(self):
        beats = [r for r in self.w.requests("RecordLifecycleActionHeartbeat", since=self.seq)
                 if r["status"] == 200
                 and r["params"].get("LifecycleActionToken") == self.launch["token"]]
        self.assertGreaterEqual(len(beats), 1,
                                dump(self.w.requests("RecordLifecycleActionHeartbeat")))

    def test_no_eni_left(self):
        enis = wait_for(lambda: self.w.enis_of(self.launch["instance_id"]) == [] or None, 20,
                        0.2, "the instance's ENIs deleted", diag=self.w.diag)
        self.assertTrue(enis)


if __name__ == "__main__":
    unittest.main(verbosity=2)
