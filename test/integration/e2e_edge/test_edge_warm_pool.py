"""End to end: a warm-pool instance, into the pool and out of it.

Issue 5 section 4: "an instance launched into a warm pool (Destination:
WarmPool) gets its ENIs then (they survive stop and start); its later launch
out of the pool (Origin: WarmPool) finds them and completes at once."

The simulator has no warm pools, so the test posts both events itself (the
group's delivery is excluded):

1. EC2 -> WarmPool: the simulator's launch action of a Pending:Wait instance,
   sent with Destination "WarmPool" (its real token). The daemon creates and
   attaches one ENI per network and completes CONTINUE (the simulator then
   puts the instance InService).
2. WarmPool -> AutoScalingGroup for the same instance, with a new lifecycle
   token and event id. The simulator has no such action, so it answers the
   daemon's completion ValidationError, which the daemon counts as done.

Asserted from the simulator: after step 2 the request log holds no
CreateNetworkInterface, AttachNetworkInterface, DetachNetworkInterface,
DeleteNetworkInterface or ModifyNetworkInterfaceAttribute, the instance keeps
exactly the ENIs of step 1 (same ids, device indexes, DeleteOnTermination),
and the one completion of step 2 carries the new token.
"""

import os
import sys
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from e2e_harness import (  # noqa: E402
    LAUNCHING,
    TAG_NETWORK,
    World,
    wait_for,
)

ASG = "edge-warm"
AZ = "us-east-1a"
NETS = {"sig": 1, "media": 2}
MUTATING = ("CreateNetworkInterface", "AttachNetworkInterface", "DetachNetworkInterface",
            "DeleteNetworkInterface", "ModifyNetworkInterfaceAttribute")


def _settled(daemon, n):
    acts = daemon.actions()
    if len(acts) == n and all(a["state"] in ("done", "failed") for a in acts):
        return acts
    return None


class WarmPoolPair(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.w = w = World(time_scale=0.1, name="edge-warm")
        cls.addClassCleanup(w.close)
        w.build_network(tuple(NETS))
        groups = [w.group_cfg("workers", [ASG], [w.net_cfg("sig", 1, "first-free"),
                                                  w.net_cfg("media", 2, "dhcp")])]
        cls.daemon = w.daemon("main", groups, limits={"sweep_interval_s": 0})
        w.deliver(exclude=[ASG])
        w.asg(ASG, desired=1, azs=[AZ], terminate_hook=False)
        cls.action = wait_for(lambda: w.lifecycle(group=ASG, transition=LAUNCHING), 20, 0.05,
                              "the launch action")[0]
        cls.iid = cls.action["instance_id"]

        # 1. into the warm pool
        into = w.event_for(cls.action)
        into["detail"]["Origin"] = "EC2"
        into["detail"]["Destination"] = "WarmPool"
        cls.into_answer = cls.daemon.post_event(into)
        w.wait_in_service(ASG, 1, timeout=30)
        cls.acts1 = wait_for(lambda: _settled(cls.daemon, 1), 20, 0.1, "the first action settled",
                             diag=w.diag)
        cls.enis1 = w.enis_of(cls.iid)

        # 2. out of the warm pool: same instance, new token
        cls.seq1 = w.sim.last_seq()
        cls.token2 = str(uuid.uuid4())
        out = w.event_for(cls.action)
        out["detail"]["LifecycleActionToken"] = cls.token2
        out["detail"]["Origin"] = "WarmPool"
        out["detail"]["Destination"] = "AutoScalingGroup"
        cls.out_answer = cls.daemon.post_event(out)
        cls.acts2 = wait_for(lambda: _settled(cls.daemon, 2), 30, 0.1, "the second action settled",
                             diag=w.diag)
        time.sleep(2.0)  # a retry loop or a late create would show up as calls meanwhile
        cls.enis2 = w.enis_of(cls.iid)
        cls.acts_final = cls.daemon.actions()

    def test_both_events_accepted(self):
        self.assertEqual(self.into_answer[0], 202, self.into_answer)
        self.assertEqual(self.out_answer[0], 202, self.out_answer)

    def test_warm_pool_entry_got_one_eni_per_network_and_continue(self):
        w = self.w
        self.assertEqual(sorted((e["tags"].get(TAG_NETWORK), e["device_index"]) for e in self.enis1),
                         sorted(NETS.items()), self.enis1)
        for e in self.enis1:
            self.assertEqual((e["instance"], e["attach_status"], e["delete_on_termination"]),
                             (self.iid, "attached", True), e)
        recs = w.lifecycle(instance_id=self.iid, transition=LAUNCHING)
        self.assertEqual(len(recs), 1, recs)
        self.assertEqual((recs[0]["state"], recs[0]["result"], recs[0]["completed_by"]),
                         ("completed", "CONTINUE", "token"), recs[0])
        calls = w.completes(self.action["token"])
        self.assertEqual([(c["status"], c["params"].get("LifecycleActionResult")) for c in calls],
                         [(200, "CONTINUE")])

    def test_leaving_the_pool_makes_no_eni_call(self):
        w = self.w
        for action in MUTATING:
            self.assertEqual(w.requests(action, since=self.seq1), [], action)

    def test_instance_keeps_exactly_its_enis(self):
        self.assertEqual(len(self.enis2), len(NETS), self.enis2)
        self.assertEqual(self.enis2, self.enis1)

    def test_leaving_the_pool_completed_once_with_its_own_token(self):
        w = self.w
        calls = w.completes(since=self.seq1)
        self.assertEqual([(c["params"].get("LifecycleActionToken"), c["params"].get("InstanceId"),
                           c["params"].get("LifecycleActionResult"), c["status"], c["error_code"])
                          for c in calls],
                         [(self.token2, self.iid, "CONTINUE", 400, "ValidationError")])
        # and the daemon counts that as done, without a retry loop
        self.assertEqual(len(self.acts_final), 2, self.acts_final)
        self.assertEqual(sorted(a["state"] for a in self.acts_final), ["done", "done"], self.acts_final)
        self.assertEqual(sorted(a["attempts"] for a in self.acts_final),
                         sorted(a["attempts"] for a in self.acts2))


if __name__ == "__main__":
    unittest.main(verbosity=2)
