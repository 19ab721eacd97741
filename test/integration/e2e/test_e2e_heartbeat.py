"""End to end: lifecycle hook timeouts and heartbeats, with the simulator's time scale.

HeartbeatTimeout is 30 s (the AWS minimum). The daemon, which does not know
about the time scale, heartbeats on its own clock (every 15 s for a 30 s hook,
docs/engine.md) and gives up `heartbeat_margin_ms` (5 s here) before the
heartbeat timeout it believes in. Each class picks the scale that makes the
simulator's real timeout fall where the path under test needs it:

KeepAlive   scale 0.7: the hook expires 21 s after the last heartbeat. EC2 is
            slow (8 s on every create, attach and modify), so the launch
            takes about 25 s: it only survives because the daemon
            heartbeats. Ends CONTINUE, the simulator's record shows heartbeats.
GiveUp      scale 2: the hook expires 60 s after the last heartbeat. Every
            heartbeat fails (500) and EC2 is slow (15 s per create and attach,
            so the attach is still running 25 s in): the daemon must stop,
            clean up and ABANDON before the hook expires on its own (the
            record shows completion by token, not a timeout).
"""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_harness import (  # noqa: E402
    LAUNCHING,
    World,
    wait_for,
)

AZ = "us-east-1a"
HB = 30


def make_world(scale, name):
    w = World(time_scale=scale, name=name)
    try:
        w.build_network(("sig",))
        d = w.daemon("main", [w.group_cfg("workers", ["e2e-hb*"], [w.net_cfg("sig", 1, "first-free")])],
                     limits={"heartbeat_margin_ms": 5000})
        w.deliver()
    except BaseException:
        w.close()
        raise
    return w, d


class KeepAlive(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.w, cls.daemon = make_world(0.7, "hb-keep")
        cls.addClassCleanup(cls.w.close)
        cls.w.sim.add_fault("latency", service="ec2", ms=8000, action=[
            "CreateNetworkInterface", "AttachNetworkInterface", "ModifyNetworkInterfaceAttribute"])
        cls.w.asg("e2e-hb-keep", desired=1, azs=[AZ], heartbeat_timeout=HB, terminate_hook=False)
        cls.action = cls.w.wait_settled("e2e-hb-keep", LAUNCHING, 1, timeout=120)[0]

    def test_heartbeats_keep_the_action_alive_until_continue(self):
        a = self.action
        self.assertEqual((a["state"], a["result"], a["completed_by"]), ("completed", "CONTINUE", "token"), a)
        self.assertGreaterEqual(len(a["heartbeats"]), 1, a)
        beats = [r for r in self.w.requests("RecordLifecycleActionHeartbeat")
                 if r["status"] == 200 and (r["params"].get("LifecycleActionToken") == a["token"]
                                            or r["params"].get("InstanceId") == a["instance_id"])]
        self.assertEqual(len(beats), len(a["heartbeats"]))
        enis = self.w.enis_of(a["instance_id"])
        self.assertEqual([(e["device_index"], e["status"]) for e in enis], [(1, "in-use")])
        self.assertEqual(self.w.instances("e2e-hb-keep")[0]["state"], "InService")


class GiveUp(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.w, cls.daemon = make_world(2.0, "hb-giveup")
        cls.addClassCleanup(cls.w.close)
        sim = cls.w.sim
        sim.add_fault("error-before", service="autoscaling", action="RecordLifecycleActionHeartbeat",
                      status=500, code="InternalFailure")
        sim.add_fault("latency", service="ec2", ms=15000,
                      action=["CreateNetworkInterface", "AttachNetworkInterface"])
        cls.seq0 = sim.last_seq()
        cls.w.asg("e2e-hb-giveup", desired=1, azs=[AZ], heartbeat_timeout=HB, terminate_hook=False)
        cls.action = cls.w.wait_settled("e2e-hb-giveup", LAUNCHING, 1, timeout=120)[0]
        cls.w.scale("e2e-hb-giveup", 0)  # no replacement for the abandoned instance
        sim.clear_faults()

    def test_gives_up_cleans_up_and_abandons_before_the_hook_expires(self):
        w, a = self.w, self.action
        self.assertEqual((a["state"], a["result"], a["completed_by"]), ("completed", "ABANDON", "token"), a)
        self.assertEqual(a["heartbeats"], [])
        self.assertTrue(w.requests("RecordLifecycleActionHeartbeat", since=self.seq0),
                        "the daemon never tried to heartbeat")
        self.assertEqual(w.enis_of(a["instance_id"]), [])
        done = [r for r in w.completes(a["token"]) if r["status"] == 200]
        self.assertEqual(len(done), 1)
        creates = [r for r in w.requests("CreateNetworkInterface", since=self.seq0)
                   if r["status"] == 200 and a["instance_id"] in json.dumps(r["params"])]
        deletes = [r for r in w.requests("DeleteNetworkInterface", since=self.seq0) if r["status"] == 200]
        self.assertGreaterEqual(len(deletes), len(creates))
        for r in deletes:
            self.assertLess(r["seq"], done[0]["seq"])
        wait_for(lambda: all(x["state"] in ("done", "failed") for x in self.daemon.actions()), 60, 0.2,
                 "daemon idle", diag=w.diag)


if __name__ == "__main__":
    unittest.main(verbosity=2)
