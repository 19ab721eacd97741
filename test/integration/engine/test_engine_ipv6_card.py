"""End to end: IPv6 modes and a network card index other than 0.

One instance of c6in.32xlarge (two network cards) in us-east-1a. Both Multus
subnets get an IPv6 /64.
  sig    card 0, device 1: IPv4 first-free, IPv6 "first-free": the lowest
         address of the /64 that is neither one of AWS's reserved ones (::0 -
         ::3) nor in an explicit IPv6 CIDR reservation (::4/127): ::6
  media  card 1, device 2: IPv4 dhcp, IPv6 "one": EC2 assigns one address
         (Ipv6AddressCount=1); attached with NetworkCardIndex=1
(Device 2, not 1, on card 1: the simulator, like moto, keeps device indexes
unique per instance, not per network card, and reports every attachment on
card 0; AWS allows device 1 on card 1. So the card index is checked in the
AttachNetworkInterface request the daemon sent.)
Read back from the simulator: the ENIs, their addresses and attachments, the
requests the daemon sent, the lifecycle record.
"""

import ipaddress
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from engine_e2e import (  # noqa: E402
    LAUNCHING,
    TAG_NETWORK,
    World,
    daemon,
    dump,
)

AZ = "us-east-1a"
ASG = "e2e-v6card"
ITYPE = "c6in.32xlarge"


class Ipv6AndNetworkCard(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.w = w = World(time_scale=0.1, name="eng-v6card")
        cls.addClassCleanup(w.close)
        w.build_network(("sig", "media"))
        cls.v6 = w.enable_ipv6(["sig", "media"])
        cls.sig, cls.media = w.subnet("sig", AZ), w.subnet("media", AZ)
        net6 = ipaddress.ip_network(cls.v6[cls.sig])
        w.reserve(cls.sig, f"{net6[4]}/127")
        cls.expect_v6 = str(net6[6])
        cls.d = daemon(w, "main", [w.group_cfg("workers", [ASG], [
            w.net_cfg("sig", 1, "first-free", ipv6="first-free"),
            w.net_cfg("media", 2, "dhcp", ipv6="one", network_card_index=1)])])
        w.deliver()
        w.asg(ASG, desired=1, azs=[AZ], instance_type=ITYPE, terminate_hook=False)
        cls.action = w.wait_settled(ASG, LAUNCHING, 1, timeout=60)[0]
        cls.iid = cls.action["instance_id"]
        cls.enis = {e["tags"].get(TAG_NETWORK): e for e in w.enis_of(cls.iid)}
        raw = w.ec2.describe_network_interfaces(
            NetworkInterfaceIds=[e["id"] for e in cls.enis.values()])["NetworkInterfaces"]
        cls.raw = {e["NetworkInterfaceId"]: e for e in raw}

    def test_completed_continue(self):
        a = self.action
        self.assertEqual((a["state"], a["result"], a["completed_by"]),
                         ("completed", "CONTINUE", "token"), dump(a))
        self.assertEqual(sorted(self.enis), ["media", "sig"], dump(self.enis))

    def test_first_free_ipv6_is_lowest_unreserved(self):
        e = self.enis["sig"]
        self.assertEqual(e["ipv6s"], [self.expect_v6], dump(e))
        self.assertEqual(e["ipv4"], "10.0.16.4")
        creates = [r for r in self.w.requests("CreateNetworkInterface")
                   if r["status"] == 200 and r["params"].get("SubnetId") == self.sig]
        self.assertEqual(len(creates), 1)
        self.assertEqual(creates[0]["params"].get("Ipv6Addresses.1.Ipv6Address"), self.expect_v6,
                         dump(creates[0]["params"]))

    def test_one_ipv6_assigned_by_ec2(self):
        e = self.enis["media"]
        self.assertEqual(len(e["ipv6s"]), 1, dump(e))
        self.assertIn(ipaddress.ip_address(e["ipv6s"][0]), ipaddress.ip_network(self.v6[self.media]))
        creates = [r for r in self.w.requests("CreateNetworkInterface")
                   if r["status"] == 200 and r["params"].get("SubnetId") == self.media]
        self.assertEqual(len(creates), 1)
        p = creates[0]["params"]
        self.assertEqual(p.get("Ipv6AddressCount"), "1", dump(p))
        self.assertFalse([k for k in p if k.startswith("Ipv6Addresses")], dump(p))
        self.assertNotIn("PrivateIpAddress", p)

    def test_network_card_index_sent_and_attached(self):
        atts = {r["params"].get("NetworkInterfaceId"): r["params"]
                for r in self.w.requests("AttachNetworkInterface") if r["status"] == 200}
        media, sig = self.enis["media"]["id"], self.enis["sig"]["id"]
        self.assertEqual(atts[media].get("NetworkCardIndex"), "1", dump(atts))
        self.assertEqual(atts[media].get("DeviceIndex"), "2")
        self.assertNotIn("NetworkCardIndex", atts[sig])  # 0 is not sent
        for eid, dev in ((sig, 1), (media, 2)):
            att = self.raw[eid]["Attachment"]
            self.assertEqual((att["InstanceId"], att["DeviceIndex"], att["Status"]),
                             (self.iid, dev, "attached"), dump(att))
        # (moto records every attachment on card 0 whatever was asked: the
        # request above is the evidence for the card index)


if __name__ == "__main__":
    unittest.main(verbosity=2)
