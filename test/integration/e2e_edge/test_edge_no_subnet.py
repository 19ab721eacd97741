"""End to end: a network with no subnet in the instance's AZ.

The node group has two networks, "sig" (device index 1) and "media" (2), both
found by the subnet tag multus.io/network=<name>. The "media" subnet of
us-east-1b loses that tag, so in us-east-1b "sig" has a subnet and "media" has
none. One instance launches into us-east-1b (the group spans only that AZ).

The group's delivery is excluded: the test posts the simulator's own launch
event for that instance (post_event), so the ABANDON's replacement instance
gets no event and the daemon handles exactly one action.

Expected (issue 5 section 4: "pick each network's subnet in that AZ (clear
failure if none)"; failure: clean up, then complete with the group's
failure result): no ENI is created for the instance (none for "sig" either,
or, had one been, it is deleted), and the lifecycle action is completed once
with the group's failure_result ABANDON; the daemon's last_error names the
network and the AZ. Read back from the simulator (request log, boto3,
lifecycle record); /v1/actions only for last_error.
"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from e2e_harness import (  # noqa: E402
    LAUNCHING,
    TAG_INSTANCE,
    World,
    wait_for,
)
from sim_scenario import MULTUS_NETWORK_TAG  # noqa: E402

ASG = "edge-nosubnet"
AZ = "us-east-1b"
FAILURE_RESULT = "ABANDON"


def _tag_of(params, key):
    for k, v in params.items():
        if k.startswith("TagSpecification.") and k.endswith(".Key") and v == key:
            return params.get(k[:-len("Key")] + "Value")
    return None


class NoSubnetInAz(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.w = w = World(time_scale=0.1, name="edge-nosubnet")
        cls.addClassCleanup(w.close)
        w.build_network(("sig", "media"))
        cls.untagged = w.subnet("media", AZ)
        w.ec2.delete_tags(Resources=[cls.untagged], Tags=[{"Key": MULTUS_NETWORK_TAG}])
        groups = [w.group_cfg("workers", [ASG], [w.net_cfg("sig", 1), w.net_cfg("media", 2)],
                              failure_result=FAILURE_RESULT)]
        cls.daemon = w.daemon("main", groups, limits={"sweep_interval_s": 0})
        w.deliver(exclude=[ASG])
        cls.seq0 = w.sim.last_seq()
        w.asg(ASG, desired=1, azs=[AZ], terminate_hook=False)
        cls.action = wait_for(lambda: w.lifecycle(group=ASG, transition=LAUNCHING), 20, 0.05,
                              "the launch action")[0]
        cls.iid = cls.action["instance_id"]
        st, body = cls.daemon.post_event(w.event_for(cls.action))
        assert st == 202, (st, body)
        cls.settled = wait_for(
            lambda: [a for a in w.lifecycle(instance_id=cls.iid, transition=LAUNCHING)
                     if a["state"] != "waiting"], 30, 0.1, "the action completed", diag=w.diag)
        cls.actions = wait_for(
            lambda: (lambda a: a if a and all(x["state"] in ("done", "failed") for x in a) else None)(
                cls.daemon.actions()), 20, 0.1, "the daemon's action settled", diag=w.diag)

    def test_precondition_instance_in_the_az_and_subnet_untagged(self):
        w = self.w
        self.assertEqual(w.instance_az(self.iid), AZ)
        subs = w.ec2.describe_subnets(Filters=[
            {"Name": "tag:" + MULTUS_NETWORK_TAG, "Values": ["media"]},
            {"Name": "availability-zone", "Values": [AZ]}])["Subnets"]
        self.assertEqual(subs, [])
        subs = w.ec2.describe_subnets(Filters=[
            {"Name": "tag:" + MULTUS_NETWORK_TAG, "Values": ["sig"]},
            {"Name": "availability-zone", "Values": [AZ]}])["Subnets"]
        self.assertEqual(len(subs), 1, subs)

    def test_no_eni_left_for_the_instance(self):
        w = self.w
        self.assertEqual(w.enis_of(self.iid), [])
        creates = [r for r in w.requests("CreateNetworkInterface", since=self.seq0)
                   if _tag_of(r["params"], TAG_INSTANCE) == self.iid]
        # the subnets step fails before any create (none for "sig" either)
        self.assertEqual([r for r in creates if r["status"] == 200], [], creates)
        self.assertEqual([e for e in w.multus_enis() if e["tags"].get(TAG_INSTANCE) == self.iid], [])

    def test_completed_once_with_the_failure_result(self):
        w = self.w
        recs = w.lifecycle(instance_id=self.iid, transition=LAUNCHING)
        self.assertEqual(len(recs), 1, recs)
        self.assertEqual((recs[0]["token"], recs[0]["state"], recs[0]["result"], recs[0]["completed_by"]),
                         (self.action["token"], "completed", FAILURE_RESULT, "token"), recs[0])
        calls = w.completes(self.action["token"])
        self.assertEqual([(c["status"], c["params"].get("LifecycleActionResult"),
                           c["params"].get("InstanceId")) for c in calls],
                         [(200, FAILURE_RESULT, self.iid)])

    def test_last_error_names_the_network_and_the_az(self):
        self.assertEqual(len(self.actions), 1, self.actions)
        a = self.actions[0]
        self.assertEqual(a["instance_id"], self.iid)
        err = a.get("last_error") or ""
        self.assertIn(AZ, err, a)
        self.assertIn("media", err, a)


if __name__ == "__main__":
    unittest.main(verbosity=2)
