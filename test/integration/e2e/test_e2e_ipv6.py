"""End to end: IPv6 on Multus ENIs.

Both networks' subnets get an IPv6 /64 (the VPC an Amazon /56). "sig" asks for
ipv6 "first-free": the lowest free IPv6 address of the subnet, never inside
its IPv6 pod range (config) or an explicit IPv6 CIDR reservation (EC2). "media"
asks for ipv6 "one": EC2 picks one address (Ipv6AddressCount=1). Four
instances, two per AZ.
"""

import ipaddress
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_harness import (  # noqa: E402
    AZS,
    LAUNCHING,
    TAG_NETWORK,
    World,
    in_any,
)

ASG = "e2e-v6"
N = 4


def v6(cidr, offset):
    return str(ipaddress.ip_network(cidr)[offset])


class Ipv6(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.w = w = World(time_scale=0.1, name="ipv6")
        cls.addClassCleanup(w.close)
        w.build_network(("sig", "media"))
        cls.v6 = w.enable_ipv6(["sig", "media"])
        cls.pod_ranges, cls.reserved = {}, {}
        for az in AZS:
            sid = w.subnet("sig", az)
            cidr = cls.v6[sid]
            cls.pod_ranges[sid] = f"{v6(cidr, 4)}-{v6(cidr, 5)}"         # ::4 - ::5 to pods
            cls.reserved[sid] = f"{v6(cidr, 6)}/127"                      # ::6 - ::7 reserved in EC2
            w.reserve(sid, cls.reserved[sid])
        cls.daemon = w.daemon("main", [w.group_cfg("workers", ["e2e-v6"], [
            w.net_cfg("sig", 1, "first-free", sorted(cls.pod_ranges.values()), ipv6="first-free"),
            w.net_cfg("media", 2, "dhcp", ipv6="one")])])
        w.deliver()
        w.asg(ASG, desired=N, terminate_hook=False)
        w.wait_in_service(ASG, N)
        cls.instances = {i["id"]: i for i in w.instances(ASG)}

    def test_first_free_ipv6_skips_pod_range_and_reservation(self):
        w = self.w
        for az in AZS:
            sid = w.subnet("sig", az)
            cidr = self.v6[sid]
            got = sorted((a for e in w.multus_enis() if e["subnet"] == sid for a in e["ipv6s"]),
                         key=ipaddress.ip_address)
            n = sum(1 for i in self.instances.values() if i["az"] == az)
            self.assertEqual(got, [v6(cidr, 8 + k) for k in range(n)])  # ::8, ::9, ...
            for a in got:
                self.assertFalse(in_any(a, [self.pod_ranges[sid], self.reserved[sid]]), a)

    def test_one_ipv6_picked_by_ec2(self):
        w = self.w
        media = set(w.subnets_of("media").values())
        for iid in self.instances:
            e = {x["tags"].get(TAG_NETWORK): x for x in w.enis_of(iid)}["media"]
            self.assertEqual(len(e["ipv6s"]), 1, e)
            self.assertIn(ipaddress.ip_address(e["ipv6s"][0]), ipaddress.ip_network(self.v6[e["subnet"]]))
        for r in w.requests("CreateNetworkInterface"):
            if r["status"] == 200 and r["params"].get("SubnetId") in media:
                self.assertEqual(r["params"].get("Ipv6AddressCount"), "1", r["params"])
                self.assertFalse([k for k in r["params"] if k.startswith("Ipv6Addresses")])

    def test_every_instance_has_both_enis_and_completed(self):
        w = self.w
        for iid in self.instances:
            self.assertEqual(sorted(e["device_index"] for e in w.enis_of(iid)), [1, 2])
        all_v6 = [a for e in w.multus_enis() for a in e["ipv6s"]]
        self.assertEqual(len(all_v6), 2 * N)
        self.assertEqual(len(set(all_v6)), 2 * N)
        for a in w.lifecycle(group=ASG, transition=LAUNCHING):
            self.assertEqual((a["state"], a["result"]), ("completed", "CONTINUE"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
