"""End to end: a launch event replayed after the instance is InService.

Daemon "main" launches one worker (eth1 "sig" first-free, eth2 "media" dhcp)
and completes CONTINUE. The same launch event (same token, new event id) is
then replayed:

- to "main" itself: its store knows the action (answered 200 duplicate);
- to "replica": a second daemon on the same AWS with an empty state directory
  (a second replica behind the API destination, or a state directory lost),
  which cannot know the action was completed. It must adopt the tagged,
  attached ENIs instead of creating any, and its CompleteLifecycleAction is
  answered ValidationError (no active action), which counts as done.

Either way: no ENI created, attached or deleted, the simulator records one
completion, and the replica's action ends `done` without a retry loop.
"""

import json
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from e2e_harness import (  # noqa: E402
    LAUNCHING,
    World,
    wait_for,
)

ASG = "edge-replay"
MUTATING = ("CreateNetworkInterface", "AttachNetworkInterface", "DetachNetworkInterface",
            "DeleteNetworkInterface", "ModifyNetworkInterfaceAttribute", "CreateTags")


class ReplayAfterInService(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.w = w = World(time_scale=0.1, name="edge-replay")
        cls.addClassCleanup(w.close)
        w.build_network(("sig", "media"))
        groups = [w.group_cfg("workers", [ASG], [w.net_cfg("sig", 1, "first-free"),
                                                  w.net_cfg("media", 2, "dhcp")])]
        cls.main = w.daemon("main", groups, limits={"sweep_interval_s": 0})
        w.deliver()
        w.asg(ASG, desired=1, azs=["us-east-1a"], terminate_hook=False)
        w.wait_in_service(ASG, 1)
        cls.iid = w.instances(ASG)[0]["id"]
        cls.action = w.lifecycle(group=ASG, transition=LAUNCHING)[0]
        wait_for(lambda: all(a["state"] == "done" for a in cls.main.actions()), 30, 0.1, "main idle",
                 diag=w.diag)
        cls.before = w.enis_of(cls.iid)
        cls.replica = w.daemon("replica", groups, limits={"sweep_interval_s": 0})

        cls.seq0 = w.sim.last_seq()
        cls.to_main = cls.main.post_event(w.event_for(cls.action))
        cls.to_replica = cls.replica.post_event(w.event_for(cls.action))
        cls.replica_actions = wait_for(
            lambda: (lambda a: a if a and all(x["state"] in ("done", "failed") for x in a) else None)(
                cls.replica.actions()), 60, 0.2, "the replica's action settled", diag=w.diag)
        cls.attempts = cls.replica_actions[0]["attempts"]
        time.sleep(3.0)  # a retry loop, or a late create, would show up as calls in this time
        cls.after = w.enis_of(cls.iid)
        cls.replica_final = cls.replica.actions()

    def test_main_answers_duplicate_replica_accepts(self):
        st, body = self.to_main
        self.assertEqual((st, json.loads(body).get("status")), (200, "duplicate"), body)
        self.assertEqual(self.to_replica[0], 202, self.to_replica)
        self.assertEqual(len(self.main.actions()), 1)

    def test_no_eni_created_attached_or_changed(self):
        w = self.w
        for action in MUTATING:
            self.assertEqual(w.requests(action, since=self.seq0), [], action)
        self.assertEqual(len(self.after), 2, self.after)
        self.assertEqual(self.after, self.before)

    def test_replica_adopted_and_is_done_without_loop(self):
        self.assertEqual(len(self.replica_final), 1, self.replica_final)
        a = self.replica_final[0]
        self.assertEqual((a["instance_id"], a["state"]), (self.iid, "done"), a)
        self.assertEqual(a["attempts"], self.attempts, "still retrying")

    def test_one_successful_completion_in_the_simulator(self):
        w = self.w
        recs = w.lifecycle(group=ASG, transition=LAUNCHING)
        self.assertEqual(len(recs), 1, recs)
        self.assertEqual((recs[0]["state"], recs[0]["result"], recs[0]["completed_by"]),
                         ("completed", "CONTINUE", "token"), recs[0])
        calls = w.completes(self.action["token"])
        ok = [c for c in calls if c["status"] == 200]
        self.assertEqual(len(ok), 1, calls)
        self.assertLess(ok[0]["seq"], self.seq0)  # the original one, before the replay
        late = w.completes(self.action["token"], since=self.seq0)
        self.assertLessEqual(len(late), 1, late)
        for c in late:
            self.assertEqual((c["status"], c["error_code"]), (400, "ValidationError"), c)
        self.assertEqual([i["state"] for i in w.instances(ASG)], ["InService"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
