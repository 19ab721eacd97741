"""End to end: launch and terminate through the real daemon and the AWS simulator.

One simulator and one daemon for the class. A VPC with two AZs and two Multus
networks: "sig" (eth1, static first-free, an explicit subnet CIDR reservation
in EC2 plus pod ranges in the config) and "media" (eth2, DHCP, the pod range
protected by an explicit reservation). An ASG over both AZs goes from 0 to 4
(setUpClass); the tests read the resulting AWS state from the simulator; the
last test (test_zz_*) scales in to 1 and checks the cleanup.
"""

import ipaddress
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_harness import (  # noqa: E402
    AZS,
    LAUNCHING,
    TAG_DEVICE_INDEX,
    TAG_INSTANCE,
    TAG_NETWORK,
    TAG_NO_MANAGE,
    TERMINATING,
    World,
    in_any,
    lowest_free,
)

ASG = "e2e-launch"
N = 4

# Per AZ index i (0, 1): sig subnet 10.0.(16+i).0/24, media subnet 10.0.(32+i).0/24.
SIG_RESERVED = {0: "10.0.16.4/30", 1: "10.0.17.4/30"}  # explicit, in EC2 only
SIG_POD_RANGES = ["10.0.16.9-10.0.16.10", "10.0.17.9-10.0.17.10", "10.0.16.128/25", "10.0.17.128/25"]
MEDIA_RESERVED = {0: "10.0.32.4/30", 1: "10.0.33.4/30"}  # explicit, in EC2 and the config


class LaunchAndTerminate(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.w = w = World(time_scale=0.1, name="launch")
        cls.addClassCleanup(w.close)
        w.build_network(("sig", "media"))
        for i, az in enumerate(AZS):
            w.reserve(w.subnet("sig", az), SIG_RESERVED[i])
            w.reserve(w.subnet("media", az), MEDIA_RESERVED[i])
        cls.daemon = w.daemon("main", [w.group_cfg("workers", ["e2e-launch*"], [
            w.net_cfg("sig", 1, "first-free", SIG_POD_RANGES, source_dest_check=False),
            w.net_cfg("media", 2, "dhcp", sorted(MEDIA_RESERVED.values())),
        ])])
        w.deliver()
        w.asg(ASG, desired=0)
        w.scale(ASG, N)
        w.wait_in_service(ASG, N)
        cls.instances = {i["id"]: i for i in w.instances(ASG)}

    # --- helpers -------------------------------------------------------------------
    def enis_by_net(self, instance_id):
        return {e["tags"].get(TAG_NETWORK): e for e in self.w.enis_of(instance_id)}

    # --- launch ----------------------------------------------------------------------
    def test_every_instance_gets_eth1_sig_and_eth2_media(self):
        w = self.w
        for iid, inst in self.instances.items():
            enis = w.enis_of(iid)
            self.assertEqual(len(enis), 2, f"{iid}: {enis}")
            by_idx = {e["device_index"]: e for e in enis}
            self.assertEqual(sorted(by_idx), [1, 2], f"{iid}: {enis}")
            for idx, net in ((1, "sig"), (2, "media")):
                e = by_idx[idx]
                self.assertEqual(e["instance"], iid)
                self.assertEqual(e["status"], "in-use")
                self.assertEqual(e["subnet"], w.subnet(net, inst["az"]))
                self.assertTrue(e["delete_on_termination"], e)
                self.assertEqual(e["source_dest_check"], net != "sig", e)  # sig: configured off
                # (moto also lists the instance's groups on an attached ENI)
                self.assertIn(w.net.multus_sg, e["groups"])
                self.assertEqual(e["tags"].get(TAG_NO_MANAGE), "true")
                self.assertEqual(e["tags"].get(TAG_INSTANCE), iid)
                self.assertEqual(e["tags"].get(TAG_NETWORK), net)
                self.assertEqual(e["tags"].get(TAG_DEVICE_INDEX), str(idx))

    def test_enis_created_with_the_configured_security_group(self):
        creates = [r for r in self.w.requests("CreateNetworkInterface") if r["status"] == 200]
        self.assertGreaterEqual(len(creates), 2 * N)
        for r in creates:
            groups = sorted(v for k, v in r["params"].items() if k.startswith("SecurityGroupId."))
            self.assertEqual(groups, [self.w.net.multus_sg], r["params"])

    def test_enis_tagged_at_creation_never_afterwards(self):
        # Issue 5 section 4: the tags travel in the CreateNetworkInterface call
        # itself (TagSpecification), so the VPC CNI never sees one of our ENIs
        # untagged (the sample Lambdas tag after attach, and the CNI grabs it).
        w = self.w
        sig = set(w.subnets_of("sig").values())
        media = set(w.subnets_of("media").values())
        creates = [r for r in w.requests("CreateNetworkInterface") if r["status"] == 200]
        self.assertGreaterEqual(len(creates), 2 * N)
        seen_instances = set()
        for r in creates:
            p = r["params"]
            self.assertEqual(p.get("TagSpecification.1.ResourceType"), "network-interface", p)
            self.assertNotIn("TagSpecification.2.ResourceType", p, p)
            tags = {}
            m = 1
            while f"TagSpecification.1.Tag.{m}.Key" in p:
                tags[p[f"TagSpecification.1.Tag.{m}.Key"]] = p.get(f"TagSpecification.1.Tag.{m}.Value")
                m += 1
            net, idx = ("sig", "1") if p.get("SubnetId") in sig else ("media", "2")
            self.assertIn(p.get("SubnetId"), sig | media, p)
            self.assertEqual(set(tags), {TAG_NO_MANAGE, TAG_INSTANCE, TAG_NETWORK, TAG_DEVICE_INDEX}, p)
            self.assertEqual(tags[TAG_NO_MANAGE], "true", p)
            self.assertIn(tags[TAG_INSTANCE], self.instances, p)
            self.assertEqual((tags[TAG_NETWORK], tags[TAG_DEVICE_INDEX]), (net, idx), p)
            seen_instances.add(tags[TAG_INSTANCE])
        self.assertEqual(seen_instances, set(self.instances))
        # Nothing is tagged afterwards: no CreateTags at all (the test's own
        # setup never calls it either, so the whole log must have none).
        self.assertEqual(w.requests("CreateTags"), [])

    def test_multi_az_each_instance_uses_its_own_az_subnets(self):
        w = self.w
        self.assertEqual(sorted({i["az"] for i in self.instances.values()}), AZS)
        for iid in self.instances:
            az = w.instance_az(iid)
            for e in w.enis_of(iid):
                self.assertEqual(e["az"], az, e)
                self.assertIn(e["subnet"], {w.subnet("sig", az), w.subnet("media", az)})

    def test_static_first_free_takes_lowest_addresses_outside_reservations_and_pod_ranges(self):
        w = self.w
        for i, az in enumerate(AZS):
            sid = w.subnet("sig", az)
            got = sorted((e["ipv4"] for e in w.multus_enis() if e["subnet"] == sid),
                         key=ipaddress.ip_address)
            n = sum(1 for x in self.instances.values() if x["az"] == az)
            self.assertEqual(len(got), n)
            for a in got:
                self.assertFalse(in_any(a, [SIG_RESERVED[i]] + SIG_POD_RANGES), a)
            want = lowest_free(w.subnet_cidrs[sid], n, [SIG_RESERVED[i]] + SIG_POD_RANGES)
            self.assertEqual(got, want)

    def test_dhcp_addresses_come_from_ec2_outside_the_reservation(self):
        w = self.w
        media = set(w.subnets_of("media").values())
        seen = []
        for e in w.multus_enis():
            if e["subnet"] not in media:
                continue
            i = AZS.index(e["az"])
            self.assertTrue(ipaddress.ip_address(e["ipv4"]) in ipaddress.ip_network(w.subnet_cidrs[e["subnet"]]))
            self.assertFalse(in_any(e["ipv4"], [MEDIA_RESERVED[i]]), e)
            seen.append(e["ipv4"])
        self.assertEqual(len(seen), N)
        self.assertEqual(len(set(seen)), N)
        # DHCP: every successful CreateNetworkInterface in a media subnet let EC2 pick.
        creates = [r for r in w.requests("CreateNetworkInterface")
                   if r["status"] == 200 and r["params"].get("SubnetId") in media]
        self.assertGreaterEqual(len(creates), N)
        for r in creates:
            self.assertNotIn("PrivateIpAddress", r["params"])
        sig = set(w.subnets_of("sig").values())
        for r in w.requests("CreateNetworkInterface"):
            if r["params"].get("SubnetId") in sig:
                self.assertIn("PrivateIpAddress", r["params"])  # static mode names it

    def test_no_stray_enis(self):
        w = self.w
        enis = w.multus_enis()
        self.assertEqual(len(enis), 2 * N, enis)
        self.assertEqual({e["tags"].get(TAG_INSTANCE) for e in enis}, set(self.instances))
        addrs = [e["ipv4"] for e in enis]
        self.assertEqual(len(addrs), len(set(addrs)))

    def test_each_launch_action_completed_once_with_continue(self):
        w = self.w
        acts = [a for a in w.lifecycle(group=ASG, transition=LAUNCHING)]
        self.assertEqual(sorted(a["instance_id"] for a in acts), sorted(self.instances))
        for a in acts:
            self.assertEqual((a["state"], a["result"], a["completed_by"]),
                             ("completed", "CONTINUE", "token"), a)
            calls = w.completes(a["token"])
            self.assertEqual(len(calls), 1, calls)
            self.assertEqual(calls[0]["status"], 200)
            self.assertEqual(calls[0]["params"].get("LifecycleActionResult"), "CONTINUE")

    # --- terminate (runs last: unittest sorts by name) ---------------------------------
    def test_zz_terminate_cleanup_deletes_enis_then_continues(self):
        w = self.w
        before = {iid: w.enis_of(iid) for iid in self.instances}
        w.scale(ASG, 1)
        w.wait_settled(ASG, TERMINATING, N - 1)
        survivors = w.wait_in_service(ASG, 1)
        survivor = survivors[0]["id"]
        victims = sorted(set(self.instances) - {survivor})
        self.assertEqual(len(victims), N - 1)
        deletes = [r for r in w.requests("DeleteNetworkInterface") if r["status"] == 200]
        terms = {a["instance_id"]: a for a in w.lifecycle(group=ASG, transition=TERMINATING)}
        for iid in victims:
            self.assertEqual(w.enis_of(iid), [], f"{iid} still has ENIs")
            a = terms[iid]
            self.assertEqual((a["state"], a["result"]), ("completed", "CONTINUE"), a)
            done = w.completes(a["token"], ok_only=True)
            self.assertEqual(len(done), 1, done)
            # mode "delete": the daemon deleted each ENI before completing the action
            for e in before[iid]:
                d = [r for r in deletes if r["params"].get("NetworkInterfaceId") == e["id"]]
                self.assertTrue(d, f"{e['id']} of {iid} was not deleted by a DeleteNetworkInterface call")
                self.assertLess(d[0]["seq"], done[0]["seq"])
        # the survivor keeps its two ENIs untouched
        self.assertEqual([e["id"] for e in w.enis_of(survivor)], [e["id"] for e in before[survivor]])


if __name__ == "__main__":
    unittest.main(verbosity=2)
