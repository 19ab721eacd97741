"""End to end: InvalidIPAddress.InUse recovery in first-free mode.

The engine picks the lowest free address from its per-subnet picture
(DescribeNetworkInterfaces + GetSubnetCidrReservations, refreshed in parallel).
Here the address it is about to choose is taken behind its back,
deterministically: the simulator delays the first GetSubnetCidrReservations by
2.5 s (a latency fault, count 1); the test waits until the daemon's
DescribeNetworkInterfaces for the subnet has been answered (the request log is
written after the answer), then creates an ENI with boto3 at the lowest free
address. The daemon's picture therefore misses it, its CreateNetworkInterface
for that address is answered InvalidIPAddress.InUse, and it must mark the
address used, take the next one (new ClientToken generation) and complete
CONTINUE once. Everything asserted is read back from the simulator.
"""

import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from e2e_harness import (  # noqa: E402
    LAUNCHING,
    TAG_INSTANCE,
    World,
    lowest_free,
    wait_for,
)

ASG = "edge-inuse"
AZ = "us-east-1a"
GET_RESV_DELAY_MS = 2500


def _is_subnet_describe(r, subnet):
    """A DescribeNetworkInterfaces filtered by subnet-id=<subnet> (the pool refresh)."""
    p = r["params"]
    for k, v in p.items():
        if k.startswith("Filter.") and k.endswith(".Name") and v == "subnet-id":
            vals = [p[x] for x in p if x.startswith(k[:-len("Name")] + "Value.")]
            if subnet in vals:
                return True
    return False


class InUseRecovery(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.w = w = World(time_scale=0.1, name="edge-inuse")
        cls.addClassCleanup(w.close)
        w.build_network(("sig",))
        cls.subnet = w.subnet("sig", AZ)
        cls.cidr = w.subnet_cidrs[cls.subnet]
        cls.daemon = w.daemon("main", [w.group_cfg("workers", [ASG], [w.net_cfg("sig", 1, "first-free")])],
                              limits={"sweep_interval_s": 0})
        w.deliver()
        cls.seq0 = w.sim.last_seq()
        # the pool refresh's second half hangs for 2.5 s: the window to take the address
        w.sim.add_fault("latency", service="ec2", action="GetSubnetCidrReservations", count=1,
                        ms=GET_RESV_DELAY_MS)
        w.asg(ASG, desired=1, azs=[AZ], terminate_hook=False)
        wait_for(lambda: [r for r in w.requests("DescribeNetworkInterfaces", since=cls.seq0)
                          if _is_subnet_describe(r, cls.subnet)],
                 30, 0.01, "the daemon's DescribeNetworkInterfaces of the sig subnet", diag=w.diag)
        cls.taken = lowest_free(cls.cidr, 1)[0]
        cls.intruder = w.ec2.create_network_interface(
            SubnetId=cls.subnet, PrivateIpAddress=cls.taken,
            Description="taken behind the daemon's back")["NetworkInterface"]["NetworkInterfaceId"]
        cls.seq_intruder = w.sim.last_seq()
        w.wait_in_service(ASG, 1)
        cls.iid = w.instances(ASG)[0]["id"]
        cls.creates = [r for r in w.requests("CreateNetworkInterface", since=cls.seq0)
                       if cls.iid in json.dumps(r["params"])]

    def test_precondition_the_refresh_was_answered_before_the_address_was_taken(self):
        """The race really happened as arranged (else the test proves nothing)."""
        w = self.w
        refresh = [r for r in w.requests("DescribeNetworkInterfaces", since=self.seq0)
                   if _is_subnet_describe(r, self.subnet)]
        mine = [r for r in w.requests("CreateNetworkInterface", since=self.seq0)
                if r["params"].get("PrivateIpAddress") == self.taken and r["status"] == 200
                and self.iid not in json.dumps(r["params"])]
        self.assertEqual(len(mine), 1, mine)
        self.assertLess(refresh[0]["seq"], mine[0]["seq"])
        self.assertTrue(self.creates, "the daemon sent no CreateNetworkInterface")
        self.assertLess(mine[0]["seq"], self.creates[0]["seq"])

    def test_create_for_the_taken_address_was_answered_in_use(self):
        first = self.creates[0]
        self.assertEqual(first["params"].get("PrivateIpAddress"), self.taken, first["params"])
        self.assertEqual((first["status"], first["error_code"]), (400, "InvalidIPAddress.InUse"), first)

    def test_the_next_free_address_was_taken_with_a_new_client_token(self):
        ok = [r for r in self.creates if r["status"] == 200]
        self.assertEqual(len(ok), 1, self.creates)
        want = lowest_free(self.cidr, 1, used=[self.taken])[0]
        self.assertEqual(ok[0]["params"].get("PrivateIpAddress"), want)
        self.assertNotEqual(ok[0]["params"].get("ClientToken"), self.creates[0]["params"].get("ClientToken"))

    def test_instance_got_one_eni_at_the_next_free_address(self):
        w = self.w
        enis = w.enis_of(self.iid)
        self.assertEqual(len(enis), 1, enis)
        e = enis[0]
        want = lowest_free(self.cidr, 1, used=[self.taken])[0]
        self.assertEqual((e["subnet"], e["ipv4"], e["instance"], e["device_index"], e["status"]),
                         (self.subnet, want, self.iid, 1, "in-use"), e)
        self.assertEqual(e["tags"].get(TAG_INSTANCE), self.iid)

    def test_no_duplicate_address_in_the_subnet(self):
        w = self.w
        enis = [e for e in w.all_enis() if e["subnet"] == self.subnet]
        addrs = [a for e in enis for a in e["ipv4s"]]
        self.assertEqual(len(addrs), len(set(addrs)), enis)
        self.assertEqual(sorted(e["id"] for e in enis),
                         sorted([self.intruder] + [e["id"] for e in w.enis_of(self.iid)]))
        intruder = [e for e in enis if e["id"] == self.intruder][0]
        self.assertEqual((intruder["ipv4"], intruder["status"]), (self.taken, "available"))

    def test_lifecycle_completed_continue_once(self):
        w = self.w
        acts = w.lifecycle(group=ASG, transition=LAUNCHING)
        self.assertEqual([a["instance_id"] for a in acts], [self.iid])
        a = acts[0]
        self.assertEqual((a["state"], a["result"], a["completed_by"]), ("completed", "CONTINUE", "token"), a)
        calls = w.completes(a["token"])
        self.assertEqual([(c["status"], c["params"].get("LifecycleActionResult")) for c in calls],
                         [(200, "CONTINUE")])


if __name__ == "__main__":
    unittest.main(verbosity=2)
