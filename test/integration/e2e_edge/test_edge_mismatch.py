"""End to end: IdempotentParameterMismatch adopts the ENI found by its tags.

Issue 5 section 4: a create retried with a reused ClientToken but other
parameters is answered IdempotentParameterMismatch; "should that still happen,
find the ENI by its tags and adopt it" (engine_launch.c create_cb ->
mismatch_cb).

The launch's own adopt step (DescribeNetworkInterfaces tag:instance-id) would
take a tagged ENI that exists before it runs, so the ENI must appear after that
read and before the mismatch. The window is made deterministic with two fault
rules on the first CreateNetworkInterface the daemon sends (count 1 each): a
6 s hold (latency; its event is recorded as the hold begins) and then an
injected 400 IdempotentParameterMismatch (error-before: the create never
reaches moto). While that create is held, the test:

1. waits for the hold's `latency` event;
2. waits for the other network's CreateNetworkInterface to be answered 200 (it
   is not held), which tells which network is held;
3. creates, with boto3, an ENI tagged exactly as the daemon tags (no_manage,
   instance-id, network, device-index) for the held network, in its subnet in
   the instance's AZ, at a distinctive address (not the one the daemon chose).

Then the held create is answered IdempotentParameterMismatch. The daemon must
look the ENI up by its tags and adopt it: attach it at the network's device
index, set DeleteOnTermination, create nothing more, and CONTINUE once.
Everything asserted is read back from the simulator (boto3, request log,
lifecycle record).
"""

import ipaddress
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from e2e_harness import (  # noqa: E402
    LAUNCHING,
    TAG_DEVICE_INDEX,
    TAG_INSTANCE,
    TAG_NETWORK,
    TAG_NO_MANAGE,
    World,
    wait_for,
)

ASG = "edge-mismatch"
AZ = "us-east-1a"
NETS = {"sig": 1, "media": 2}
HOLD_MS = 6000


def _tag_of(params, key):
    """The value of tag `key` in a CreateNetworkInterface's TagSpecification params."""
    for k, v in params.items():
        if k.startswith("TagSpecification.") and k.endswith(".Key") and v == key:
            return params.get(k[:-len("Key")] + "Value")
    return None


def _is_instance_tag_describe(r, iid):
    """A DescribeNetworkInterfaces filtered by tag:multus-hookd/instance-id=<iid>."""
    p = r["params"]
    for k, v in p.items():
        if k.startswith("Filter.") and k.endswith(".Name") and v == "tag:" + TAG_INSTANCE:
            vals = [p[x] for x in p if x.startswith(k[:-len("Name")] + "Value.")]
            if iid in vals:
                return True
    return False


class MismatchAdoptsTaggedEni(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.w = w = World(time_scale=0.1, name="edge-mismatch")
        cls.addClassCleanup(w.close)
        w.build_network(tuple(NETS))
        groups = [w.group_cfg("workers", [ASG], [w.net_cfg(n, i, "first-free") for n, i in NETS.items()])]
        cls.daemon = w.daemon("main", groups, limits={"sweep_interval_s": 0})
        w.deliver()
        cls.seq0 = w.sim.last_seq()
        hold = w.sim.add_fault("latency", service="ec2", action="CreateNetworkInterface", count=1,
                               ms=HOLD_MS)
        cls.mismatch_rule = w.sim.add_fault("error-before", service="ec2",
                                            action="CreateNetworkInterface", count=1, status=400,
                                            code="IdempotentParameterMismatch")
        w.asg(ASG, desired=1, azs=[AZ], terminate_hook=False)
        wait_for(lambda: [e for e in w.sim.events(kind="latency") if e.get("rule_id") == hold["id"]],
                 30, 0.02, "the daemon's first CreateNetworkInterface held", diag=w.diag)
        cls.iid = wait_for(lambda: [i["id"] for i in w.instances(ASG)], 10, 0.05, "the instance")[0]

        def other_created():
            ok = [r for r in w.requests("CreateNetworkInterface", since=cls.seq0)
                  if r["status"] == 200 and _tag_of(r["params"], TAG_INSTANCE) == cls.iid
                  and r["params"].get("ClientToken", "").startswith("mh-")]
            return ok or None
        other = wait_for(other_created, HOLD_MS / 2000.0, 0.02,
                         "the other network's CreateNetworkInterface (not held)", diag=w.diag)
        done_net = _tag_of(other[0]["params"], TAG_NETWORK)
        cls.held_net = [n for n in NETS if n != done_net][0]
        cls.subnet = w.subnet(cls.held_net, AZ)
        # a distinctive address: the daemon takes the lowest free one (.4)
        cls.addr = str(ipaddress.ip_network(w.subnet_cidrs[cls.subnet]).network_address + 200)
        tags = [{"Key": TAG_NO_MANAGE, "Value": "true"},
                {"Key": TAG_INSTANCE, "Value": cls.iid},
                {"Key": TAG_NETWORK, "Value": cls.held_net},
                {"Key": TAG_DEVICE_INDEX, "Value": str(NETS[cls.held_net])}]
        cls.pre = w.ec2.create_network_interface(
            SubnetId=cls.subnet, Groups=[w.net.multus_sg], PrivateIpAddress=cls.addr,
            Description="made by the test during the held create",
            TagSpecifications=[{"ResourceType": "network-interface", "Tags": tags}],
        )["NetworkInterface"]["NetworkInterfaceId"]
        cls.seq_pre = w.sim.last_seq()
        w.wait_in_service(ASG, 1, timeout=45)
        wait_for(lambda: all(a["state"] == "done" for a in cls.daemon.actions()), 20, 0.1,
                 "the daemon's action done", diag=w.diag)
        # the daemon's creates (its ClientTokens are "mh-..."; boto3's is a UUID)
        cls.creates = [r for r in w.requests("CreateNetworkInterface", since=cls.seq0)
                       if _tag_of(r["params"], TAG_INSTANCE) == cls.iid
                       and r["params"].get("ClientToken", "").startswith("mh-")]

    def _held(self):
        return [r for r in self.creates if r.get("fault") == "error-before"]

    def test_precondition_mismatch_came_after_the_adopt_read_and_the_pre_created_eni(self):
        """The race happened as arranged (else the test proves nothing): the
        daemon's adopt read was answered before the ENI existed, and the held
        create was answered IdempotentParameterMismatch after it existed."""
        w = self.w
        held = self._held()
        self.assertEqual(len(held), 1, self.creates)
        self.assertEqual((held[0]["status"], held[0]["error_code"]), (400, "IdempotentParameterMismatch"))
        self.assertEqual(_tag_of(held[0]["params"], TAG_NETWORK), self.held_net)
        adopt_reads = [r for r in w.requests("DescribeNetworkInterfaces", since=self.seq0)
                       if _is_instance_tag_describe(r, self.iid)]
        self.assertTrue(adopt_reads, "no DescribeNetworkInterfaces by the instance tag")
        self.assertLess(adopt_reads[0]["seq"], self.seq_pre)
        self.assertGreater(held[0]["seq"], self.seq_pre)
        # the lookup after the mismatch is a second read by the instance tag
        self.assertTrue([r for r in adopt_reads if r["seq"] > held[0]["seq"]], adopt_reads)

    def test_no_second_create_for_the_held_network(self):
        per_net = {}
        for r in self.creates:
            per_net.setdefault(_tag_of(r["params"], TAG_NETWORK), []).append((r["status"], r["error_code"]))
        self.assertEqual(per_net, {self.held_net: [(400, "IdempotentParameterMismatch")],
                                   [n for n in NETS if n != self.held_net][0]: [(200, None)]},
                         json.dumps(self.creates)[:2000])

    def test_the_pre_created_eni_is_attached_at_the_network_device_index(self):
        enis = self.w.enis_of(self.iid)
        self.assertEqual(sorted((e["tags"].get(TAG_NETWORK), e["device_index"] or -1) for e in enis),
                         sorted(NETS.items()), enis)
        mine = [e for e in enis if e["tags"].get(TAG_NETWORK) == self.held_net]
        self.assertEqual(len(mine), 1, enis)
        e = mine[0]
        self.assertEqual((e["id"], e["instance"], e["device_index"], e["attach_status"],
                          e["delete_on_termination"], e["ipv4"], e["subnet"]),
                         (self.pre, self.iid, NETS[self.held_net], "attached", True, self.addr,
                          self.subnet), e)

    def test_no_extra_eni_anywhere(self):
        w = self.w
        ours = w.multus_enis()
        self.assertEqual(len(ours), len(NETS), ours)
        for e in ours:
            self.assertEqual((e["instance"], e["status"]), (self.iid, "in-use"), e)

    def test_lifecycle_completed_continue_once(self):
        w = self.w
        acts = w.lifecycle(group=ASG, transition=LAUNCHING)
        self.assertEqual([a["instance_id"] for a in acts], [self.iid])
        a = acts[0]
        self.assertEqual((a["state"], a["result"], a["completed_by"]), ("completed", "CONTINUE", "token"), a)
        calls = w.completes(a["token"])
        self.assertEqual([(c["status"], c["params"].get("LifecycleActionResult")) for c in calls],
                         [(200, "CONTINUE")])
        rules = {r["id"]: r for r in w.sim.faults()}
        self.assertEqual(rules[self.mismatch_rule["id"]]["fired"], 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
