"""End to end: what reaches the intake. Bad requests change nothing; duplicated
and replayed events make no second action, no second ENI, no second completion.

One simulator and one daemon for the module (limits.max_body_bytes 8192).
BadRequests: an ASG whose events are NOT delivered; the test POSTs the event by
hand, wrongly first. Duplicates: the simulator delivers every event three times
(chaos duplicate=2); then old events are replayed by hand.
"""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_harness import (  # noqa: E402
    API_KEY_HEADER,
    LAUNCHING,
    TAG_INSTANCE,
    World,
    wait_for,
)

W = None
D = None
BAD_ASG = "e2e-bad"
DUP_ASG = "e2e-dup"
MAX_BODY = 8192


def setUpModule():
    global W, D
    W = World(time_scale=0.1, name="events")
    try:
        W.build_network(("sig", "media"))
        D = W.daemon("main", [W.group_cfg("workers", ["e2e-*"], [
            W.net_cfg("sig", 1, "first-free"), W.net_cfg("media", 2, "dhcp")])],
            limits={"max_body_bytes": MAX_BODY})
    except BaseException:
        W.close()
        raise


def tearDownModule():
    if W is not None:
        W.close()


def settle():
    """Let the daemon finish whatever it would do (its queue empty), then a beat more:
    negative checks need something that could have happened to have had the chance."""
    wait_for(lambda: all(a["state"] in ("done", "failed") for a in D.actions()), 60, 0.2,
             "daemon idle", diag=W.diag)
    time.sleep(1.0)


class BadRequests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        W.deliver(exclude=[BAD_ASG])
        W.asg(BAD_ASG, desired=1, azs=["us-east-1a"])
        W.deliver(exclude=[BAD_ASG])
        acts = wait_for(lambda: W.lifecycle(group=BAD_ASG, state="waiting"), 30, 0.1,
                        "the bad-ASG instance waiting")
        cls.action = acts[0]
        cls.iid = cls.action["instance_id"]
        cls.event = W.event_for(cls.action)
        cls.seq0 = W.sim.last_seq()

    def assert_unchanged(self):
        self.assertEqual([a for a in D.actions() if a["instance_id"] == self.iid], [])
        self.assertEqual(W.enis_of(self.iid), [])
        a = [x for x in W.lifecycle(group=BAD_ASG) if x["instance_id"] == self.iid][0]
        self.assertEqual(a["state"], "waiting")
        for action in ("CreateNetworkInterface", "AttachNetworkInterface", "CompleteLifecycleAction",
                       "RecordLifecycleActionHeartbeat"):
            touched = [r for r in W.requests(action, since=self.seq0)
                       if self.iid in json.dumps(r["params"]) or self.action["token"] in json.dumps(r["params"])]
            self.assertEqual(touched, [], action)

    def test_wrong_auth_is_401(self):
        body = json.dumps(self.event)
        cases = [
            ({}, False),                                         # no credentials
            ({API_KEY_HEADER: "not-the-key"}, False),           # wrong key
            ({API_KEY_HEADER: D.api_key[:-1]}, False),          # a prefix of the key
            ({API_KEY_HEADER: D.api_key + "x"}, False),         # longer
            ({"x-api-key": D.api_key}, False),                  # right value, wrong header
            ({"Authorization": "Basic dXNlcjpwYXNz"}, False),   # another scheme
        ]
        for headers, auth in cases:
            st, resp = D.post_event(body, headers=headers, auth=auth)
            self.assertEqual(st, 401, (headers.keys(), resp[:200]))
        self.assertNotIn(D.api_key.encode(), resp)
        self.assert_unchanged()

    def test_oversized_body_is_413(self):
        ev = dict(self.event)
        ev["padding"] = "x" * (MAX_BODY + 100)  # unknown fields are fine; the size is not
        st, resp = D.post_event(ev)
        self.assertEqual(st, 413, resp[:200])
        self.assert_unchanged()

    def test_malformed_or_wrong_json_is_400(self):
        good = json.dumps(self.event)
        wrong_type = dict(self.event, **{"detail-type": "EC2 Instance Launch Successful"})
        no_detail = {k: v for k, v in self.event.items() if k != "detail"}
        bad_transition = json.loads(good)
        bad_transition["detail"]["LifecycleTransition"] = "autoscaling:EC2_INSTANCE_REBOOTING"
        no_instance = json.loads(good)
        del no_instance["detail"]["EC2InstanceId"]
        deep = "[" * 3000 + "]" * 3000  # under the body cap, over any sane depth
        for body in (good[:-7], "", "[]", '"text"', "{", "\xff\xfe{}", deep,
                     json.dumps(wrong_type), json.dumps(no_detail), json.dumps(bad_transition),
                     json.dumps(no_instance)):
            st, resp = D.post_event(body.encode("latin-1") if body.startswith("\xff") else body)
            self.assertEqual(st, 400, (body[:60], resp[:200]))
        self.assert_unchanged()

    def test_z_valid_event_is_accepted(self):
        """The control: the same event, well formed and authenticated, is taken."""
        st, resp = D.post_event(self.event)
        self.assertEqual(st, 202, resp[:200])
        acts = [a for a in D.actions() if a["instance_id"] == self.iid]
        self.assertEqual(len(acts), 1)
        self.assertEqual(acts[0]["transition"], LAUNCHING)


class Duplicates(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        W.deliver(chaos={"seed": 7, "duplicate": 2, "channels": ["api_destination"]},
                  exclude=[BAD_ASG])
        W.asg(DUP_ASG, desired=3, terminate_hook=False)
        W.wait_in_service(DUP_ASG, 3)
        cls.instances = sorted(i["id"] for i in W.instances(DUP_ASG))
        cls.actions = {a["instance_id"]: a for a in W.lifecycle(group=DUP_ASG, transition=LAUNCHING)}
        settle()

    def test_each_event_was_delivered_three_times_and_taken_once(self):
        for iid in self.instances:
            token = self.actions[iid]["token"]
            mine = [a for a in D.actions() if a["instance_id"] == iid]
            self.assertEqual(len(mine), 1, mine)
            self.assertEqual(mine[0]["token_prefix"][:8], token[:8])
        # the simulator really did send copies, and the daemon answered them 2xx
        lifecycle_attempts = [a for a in W.deliveries(kind="lifecycle")
                              if a.get("destination") == f"hookd-{D.name}"]
        by_event = {}
        for a in lifecycle_attempts:
            by_event.setdefault(a["event_id"], []).append(a)
        dup_ids = [e for e, v in by_event.items() if len({x["copy"] for x in v}) >= 3]
        self.assertGreaterEqual(len(dup_ids), 3, by_event)
        for e in dup_ids:
            statuses = sorted(x.get("status") for x in by_event[e] if x.get("status"))
            self.assertIn(202, statuses)
            self.assertEqual(statuses.count(202), 1, statuses)
            self.assertTrue(all(s in (200, 202) for s in statuses), statuses)

    def test_no_duplicate_enis(self):
        for iid in self.instances:
            enis = W.enis_of(iid)
            self.assertEqual(sorted(e["device_index"] for e in enis), [1, 2], enis)
            self.assertTrue(all(e["instance"] == iid for e in enis), enis)
        tagged = [e for e in W.multus_enis() if e["tags"].get(TAG_INSTANCE) in self.instances]
        self.assertEqual(len(tagged), 2 * len(self.instances))

    def test_complete_lifecycle_action_called_exactly_once(self):
        for iid in self.instances:
            a = self.actions[iid]
            self.assertEqual((a["state"], a["result"]), ("completed", "CONTINUE"), a)
            calls = W.completes(a["token"])
            self.assertEqual(len(calls), 1, calls)

    def test_replayed_old_events_change_nothing(self):
        iid = self.instances[0]
        a = self.actions[iid]
        before_enis = [e["id"] for e in W.enis_of(iid)]
        before_actions = len(D.actions())
        seq = W.sim.last_seq()
        # the very event that was delivered (its id as the daemon recorded it) ...
        mine = [x for x in D.actions() if x["instance_id"] == iid]
        self.assertEqual(len(mine), 1)
        eid = (mine[0]["event_id"] or "").split(":", 1)[-1]
        self.assertIn(eid, {x["event_id"] for x in W.deliveries(kind="lifecycle")})
        st, resp = D.post_event(W.event_for(a, event_id=eid))
        self.assertEqual(st, 200, resp[:200])
        self.assertEqual(json.loads(resp).get("status"), "duplicate")
        # ... and a re-sent one (new event id, same token and instance)
        st, resp = D.post_event(W.event_for(a))  # fresh event id, same token and instance
        self.assertEqual(st, 200, resp[:200])
        self.assertEqual(json.loads(resp).get("status"), "duplicate")
        settle()
        self.assertEqual(len(D.actions()), before_actions)
        self.assertEqual([e["id"] for e in W.enis_of(iid)], before_enis)
        for action in ("CreateNetworkInterface", "AttachNetworkInterface", "CompleteLifecycleAction",
                       "DeleteNetworkInterface"):
            self.assertEqual(W.requests(action, since=seq), [], action)


if __name__ == "__main__":
    unittest.main(verbosity=2)
