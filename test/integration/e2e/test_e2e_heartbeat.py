"""End to end: lifecycle hook timeouts and heartbeats, with the time scale.

The simulator runs every hook timeout 10 times faster (--time-scale 0.1) and
the daemon is told the same (testing.time_scale 0.1, docs/engine.md), so both
agree on the real length of a hook. limits.heartbeat_margin_ms is 5000 (the
daemon's own time, not scaled).

KeepAlive   HeartbeatTimeout 60 s: the hook expires 6 s after the last
            heartbeat; the daemon heartbeats every 3 s. EC2 is slow (3 s on
            every create, attach and modify), so the launch takes about 9 s:
            it only survives because of the heartbeats. Ends CONTINUE, the
            simulator's record shows the heartbeats.
GiveUp      HeartbeatTimeout 200 s: the hook expires 20 s after the last
            heartbeat; the daemon must give up 5 s before (margin min(5 s,
            hb/4)). Every heartbeat fails (500) and every attach is throttled:
            the daemon must stop at its give-up time, delete the ENI it
            created and ABANDON before the hook expires on its own (the record
            shows completion by token, not a timeout).
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
SCALE = 0.1


def make_world(name, networks=("sig",)):
    w = World(time_scale=SCALE, name=name)
    try:
        w.build_network(("sig", "media"))
        nets = [w.net_cfg(n, i + 1, "first-free") for i, n in enumerate(networks)]
        d = w.daemon("main", [w.group_cfg("workers", ["e2e-hb*"], nets)],
                     limits={"heartbeat_margin_ms": 5000}, extra={"testing": {"time_scale": SCALE}})
        w.deliver()
    except BaseException:
        w.close()
        raise
    return w, d


class KeepAlive(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.w, cls.daemon = make_world("hb-keep")
        cls.addClassCleanup(cls.w.close)
        cls.w.sim.add_fault("latency", service="ec2", ms=3000, action=[
            "CreateNetworkInterface", "AttachNetworkInterface", "ModifyNetworkInterfaceAttribute"])
        cls.w.asg("e2e-hb-keep", desired=1, azs=[AZ], heartbeat_timeout=60, terminate_hook=False)
        cls.action = cls.w.wait_settled("e2e-hb-keep", LAUNCHING, 1, timeout=60)[0]

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
        cls.w, cls.daemon = make_world("hb-giveup")
        cls.addClassCleanup(cls.w.close)
        sim = cls.w.sim
        sim.add_fault("error-before", service="autoscaling", action="RecordLifecycleActionHeartbeat",
                      status=500, code="InternalFailure")
        sim.add_fault("throttle", service="ec2", action="AttachNetworkInterface")
        cls.seq0 = sim.last_seq()
        cls.w.asg("e2e-hb-giveup", desired=1, azs=[AZ], heartbeat_timeout=200, terminate_hook=False)
        cls.action = cls.w.wait_settled("e2e-hb-giveup", LAUNCHING, 1, timeout=60)[0]
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
        self.assertGreaterEqual(len(creates), 1)
        deletes = [r for r in w.requests("DeleteNetworkInterface", since=self.seq0)
                   if r["status"] == 200 and r["seq"] < done[0]["seq"]]
        self.assertGreaterEqual(len(deletes), len({r["params"].get("ClientToken") for r in creates}))
        wait_for(lambda: all(x["state"] in ("done", "failed") for x in self.daemon.actions()), 60, 0.2,
                 "daemon idle", diag=w.diag)


if __name__ == "__main__":
    unittest.main(verbosity=2)
