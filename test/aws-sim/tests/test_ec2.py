"""EC2 behaviour of the simulator, asserted with boto3 against AWS's error codes and states.

One simulator for the whole module; every test builds its own VPC and subnets."""

import ipaddress
import itertools
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from simctl import error_of, start_sim  # noqa: E402

AMI = "ami-12c6146b"  # one of moto's built-in images
_net = itertools.count(1)

SIM = None


def setUpModule():
    global SIM
    SIM = start_sim()


def tearDownModule():
    if SIM is not None:
        SIM.stop()


class Ec2Case(unittest.TestCase):
    def setUp(self):
        self.ec2 = SIM.client("ec2")
        n = next(_net)
        self.vpc = self.ec2.create_vpc(CidrBlock=f"10.{n}.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]
        self.n = n

    def subnet(self, cidr, az="us-east-1a", ipv6=False):
        kw = {}
        if ipv6:
            vpc = self.ec2.describe_vpcs(VpcIds=[self.vpc["VpcId"]])["Vpcs"][0]
            block = vpc["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"]
            net = ipaddress.IPv6Network(block)
            third = int(ipaddress.IPv4Network(cidr).network_address) >> 8 & 0xFF
            kw["Ipv6CidrBlock"] = str(list(net.subnets(new_prefix=64))[third])
        return self.ec2.create_subnet(VpcId=self.vpc["VpcId"], CidrBlock=cidr, AvailabilityZone=az, **kw)["Subnet"]

    def eni(self, subnet_id, **kw):
        return self.ec2.create_network_interface(SubnetId=subnet_id, **kw)["NetworkInterface"]

    def instance(self, subnet_id, itype="t3.medium"):
        return self.ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, InstanceType=itype,
                                      SubnetId=subnet_id)["Instances"][0]

    def code(self, fn, **kw):
        err = error_of(fn, **kw)
        self.assertIsNotNone(err, f"{fn.__name__} succeeded, an error was expected")
        return err[0]

    def describe_eni(self, eni_id):
        return self.ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"][0]

    def p(self, host):
        """Address `host` of this test's 10.N.1.0/24 subnet."""
        return f"10.{self.n}.1.{host}"


class CreateNetworkInterface(Ec2Case):
    def test_in_use_primary_address(self):
        sn = self.subnet(f"10.{self.n}.1.0/24")["SubnetId"]
        self.eni(sn, PrivateIpAddress=self.p(10))
        self.assertEqual(self.code(self.ec2.create_network_interface, SubnetId=sn, PrivateIpAddress=self.p(10)),
                         "InvalidIPAddress.InUse")

    def test_in_use_secondary_address(self):
        sn = self.subnet(f"10.{self.n}.1.0/24")["SubnetId"]
        self.eni(sn, PrivateIpAddresses=[{"PrivateIpAddress": self.p(10), "Primary": True},
                                         {"PrivateIpAddress": self.p(11), "Primary": False}])
        self.assertEqual(self.code(self.ec2.create_network_interface, SubnetId=sn, PrivateIpAddress=self.p(11)),
                         "InvalidIPAddress.InUse")

    def test_in_use_by_instance(self):
        sn = self.subnet(f"10.{self.n}.1.0/24")["SubnetId"]
        ip = self.instance(sn)["PrivateIpAddress"]
        self.assertEqual(self.code(self.ec2.create_network_interface, SubnetId=sn, PrivateIpAddress=ip),
                         "InvalidIPAddress.InUse")

    def test_in_use_ipv6(self):
        sn = self.subnet(f"10.{self.n}.1.0/24", ipv6=True)
        addr = self.eni(sn["SubnetId"], Ipv6AddressCount=1)["Ipv6Addresses"][0]["Ipv6Address"]
        self.assertEqual(self.code(self.ec2.create_network_interface, SubnetId=sn["SubnetId"],
                                   Ipv6Addresses=[{"Ipv6Address": addr}]), "InvalidIPAddress.InUse")

    def test_outside_subnet(self):
        sn = self.subnet(f"10.{self.n}.1.0/24")["SubnetId"]
        self.assertEqual(self.code(self.ec2.create_network_interface, SubnetId=sn,
                                   PrivateIpAddress=f"10.{self.n}.2.10"), "InvalidParameterValue")

    def test_reserved_addresses(self):
        sn = self.subnet(f"10.{self.n}.1.0/24")["SubnetId"]
        for host in (0, 1, 2, 3, 255):
            self.assertEqual(self.code(self.ec2.create_network_interface, SubnetId=sn, PrivateIpAddress=self.p(host)),
                             "InvalidParameterValue", host)
        self.assertEqual(self.eni(sn, PrivateIpAddress=self.p(4))["PrivateIpAddress"], self.p(4))
        self.assertEqual(self.eni(sn, PrivateIpAddress=self.p(254))["PrivateIpAddress"], self.p(254))

    def test_automatic_takes_lowest_free(self):
        sn = self.subnet(f"10.{self.n}.1.0/24")["SubnetId"]
        self.eni(sn, PrivateIpAddress=self.p(5))
        got = [self.eni(sn) for _ in range(3)]
        self.assertEqual([e["PrivateIpAddress"] for e in got], [self.p(4), self.p(6), self.p(7)])
        self.ec2.delete_network_interface(NetworkInterfaceId=got[1]["NetworkInterfaceId"])
        self.assertEqual(self.eni(sn)["PrivateIpAddress"], self.p(6))

    def test_automatic_secondary_addresses_lowest_free(self):
        sn = self.subnet(f"10.{self.n}.1.0/24")["SubnetId"]
        self.eni(sn, PrivateIpAddress=self.p(6))
        e = self.eni(sn, SecondaryPrivateIpAddressCount=2)
        self.assertEqual(e["PrivateIpAddress"], self.p(4))
        self.assertEqual(sorted(a["PrivateIpAddress"] for a in e["PrivateIpAddresses"]),
                         sorted([self.p(4), self.p(5), self.p(7)]))

    def test_automatic_skips_explicit_and_prefix_reservations(self):
        sn = self.subnet(f"10.{self.n}.1.0/24")["SubnetId"]
        self.ec2.create_subnet_cidr_reservation(SubnetId=sn, Cidr=f"10.{self.n}.1.4/30", ReservationType="explicit")
        self.ec2.create_subnet_cidr_reservation(SubnetId=sn, Cidr=f"10.{self.n}.1.8/29", ReservationType="prefix")
        self.assertEqual(self.eni(sn)["PrivateIpAddress"], self.p(16))

    def test_explicit_reservation_allows_manual_assignment(self):
        sn = self.subnet(f"10.{self.n}.1.0/24")["SubnetId"]
        self.ec2.create_subnet_cidr_reservation(SubnetId=sn, Cidr=f"10.{self.n}.1.128/25", ReservationType="explicit")
        self.assertEqual(self.eni(sn, PrivateIpAddress=self.p(200))["PrivateIpAddress"], self.p(200))

    def test_insufficient_free_addresses(self):
        sn = self.subnet(f"10.{self.n}.1.0/28")["SubnetId"]  # .4 - .14: 11 usable
        self.ec2.create_subnet_cidr_reservation(SubnetId=sn, Cidr=f"10.{self.n}.1.8/29", ReservationType="explicit")
        got = [self.eni(sn)["PrivateIpAddress"] for _ in range(4)]
        self.assertEqual(got, [self.p(h) for h in (4, 5, 6, 7)])
        self.assertEqual(self.code(self.ec2.create_network_interface, SubnetId=sn),
                         "InsufficientFreeAddressesInSubnet")

    def test_concurrent_automatic_assignment_never_duplicates(self):
        from concurrent.futures import ThreadPoolExecutor

        sn = self.subnet(f"10.{self.n}.1.0/24")["SubnetId"]

        def make(_):
            return SIM.client("ec2").create_network_interface(SubnetId=sn)["NetworkInterface"]["PrivateIpAddress"]

        with ThreadPoolExecutor(max_workers=8) as pool:
            got = list(pool.map(make, range(24)))
        self.assertEqual(len(set(got)), 24)
        self.assertEqual(sorted(got, key=lambda a: int(a.rsplit(".", 1)[1])), [self.p(h) for h in range(4, 28)])

    def test_client_token_replay_returns_same_eni(self):
        sn = self.subnet(f"10.{self.n}.1.0/24")["SubnetId"]
        a = self.eni(sn, ClientToken="tok-replay", Description="d")
        b = self.eni(sn, ClientToken="tok-replay", Description="d")
        self.assertEqual(a["NetworkInterfaceId"], b["NetworkInterfaceId"])
        enis = self.ec2.describe_network_interfaces(Filters=[{"Name": "subnet-id", "Values": [sn]}])
        self.assertEqual(len(enis["NetworkInterfaces"]), 1)

    def test_client_token_mismatch(self):
        sn = self.subnet(f"10.{self.n}.1.0/24")["SubnetId"]
        self.eni(sn, ClientToken="tok-mismatch", Description="one")
        self.assertEqual(self.code(self.ec2.create_network_interface, SubnetId=sn, ClientToken="tok-mismatch",
                                   Description="two"), "IdempotentParameterMismatch")

    def test_ipv6_association_state_is_plain(self):
        # moto renders <state>{'State': 'associated'}</state>; AWS renders the word.
        sn = self.subnet(f"10.{self.n}.7.0/24", ipv6=True)
        got = self.ec2.describe_subnets(SubnetIds=[sn["SubnetId"]])["Subnets"][0]
        assocs = got["Ipv6CidrBlockAssociationSet"]
        self.assertEqual(len(assocs), 1)
        self.assertEqual(assocs[0]["Ipv6CidrBlockState"]["State"], "associated")

    def test_ipv6_on_subnet_without_ipv6(self):
        sn = self.subnet(f"10.{self.n}.1.0/24")["SubnetId"]
        self.assertEqual(self.code(self.ec2.create_network_interface, SubnetId=sn, Ipv6AddressCount=1),
                         "InvalidParameterValue")

    def test_ipv6_automatic_lowest_free_skipping_reservations(self):
        sn = self.subnet(f"10.{self.n}.1.0/24", ipv6=True)
        net = ipaddress.IPv6Network(sn["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"])
        base = int(net.network_address)
        self.ec2.create_subnet_cidr_reservation(SubnetId=sn["SubnetId"],
                                                Cidr=f"{ipaddress.IPv6Address(base + 8)}/125",
                                                ReservationType="explicit")
        e = self.eni(sn["SubnetId"], Ipv6AddressCount=5)
        got = sorted(int(ipaddress.IPv6Address(a["Ipv6Address"])) - base for a in e["Ipv6Addresses"])
        self.assertEqual(got, [4, 5, 6, 7, 16])


class AttachDetach(Ec2Case):
    def test_device_index_taken(self):
        sn = self.subnet(f"10.{self.n}.1.0/24")["SubnetId"]
        inst = self.instance(sn)["InstanceId"]
        a, b = self.eni(sn), self.eni(sn)
        self.ec2.attach_network_interface(InstanceId=inst, NetworkInterfaceId=a["NetworkInterfaceId"], DeviceIndex=1)
        self.assertEqual(self.code(self.ec2.attach_network_interface, InstanceId=inst,
                                   NetworkInterfaceId=b["NetworkInterfaceId"], DeviceIndex=1), "InvalidParameterValue")

    def test_eni_already_attached(self):
        sn = self.subnet(f"10.{self.n}.1.0/24")["SubnetId"]
        i1, i2 = self.instance(sn)["InstanceId"], self.instance(sn)["InstanceId"]
        e = self.eni(sn)["NetworkInterfaceId"]
        self.ec2.attach_network_interface(InstanceId=i1, NetworkInterfaceId=e, DeviceIndex=1)
        self.assertEqual(self.code(self.ec2.attach_network_interface, InstanceId=i2, NetworkInterfaceId=e,
                                   DeviceIndex=1), "InvalidNetworkInterface.InUse")

    def test_other_availability_zone(self):
        sa = self.subnet(f"10.{self.n}.1.0/24", az="us-east-1a")["SubnetId"]
        sb = self.subnet(f"10.{self.n}.2.0/24", az="us-east-1b")["SubnetId"]
        inst = self.instance(sa)["InstanceId"]
        e = self.eni(sb)["NetworkInterfaceId"]
        self.assertEqual(self.code(self.ec2.attach_network_interface, InstanceId=inst, NetworkInterfaceId=e,
                                   DeviceIndex=1), "InvalidParameterCombination")

    def test_terminated_instance(self):
        sn = self.subnet(f"10.{self.n}.1.0/24")["SubnetId"]
        inst = self.instance(sn)["InstanceId"]
        self.ec2.terminate_instances(InstanceIds=[inst])
        e = self.eni(sn)["NetworkInterfaceId"]
        self.assertEqual(self.code(self.ec2.attach_network_interface, InstanceId=inst, NetworkInterfaceId=e,
                                   DeviceIndex=1), "IncorrectInstanceState")
        self.assertEqual(self.describe_eni(e)["Status"], "available")

    def test_attachment_limit_from_table(self):
        sn = self.subnet(f"10.{self.n}.1.0/24")["SubnetId"]
        inst = self.instance(sn, "t3.micro")["InstanceId"]  # 2 interfaces
        self.ec2.attach_network_interface(InstanceId=inst, NetworkInterfaceId=self.eni(sn)["NetworkInterfaceId"],
                                          DeviceIndex=1)
        self.assertEqual(self.code(self.ec2.attach_network_interface, InstanceId=inst,
                                   NetworkInterfaceId=self.eni(sn)["NetworkInterfaceId"], DeviceIndex=2),
                         "AttachmentLimitExceeded")

    def test_attachment_limit_falls_back_to_moto_data(self):
        sn = self.subnet(f"10.{self.n}.1.0/24")["SubnetId"]
        itype = "r5.large"  # not in the table; moto's data says 3
        limit = self.ec2.describe_instance_types(InstanceTypes=[itype])["InstanceTypes"][0]["NetworkInfo"][
            "MaximumNetworkInterfaces"]
        inst = self.instance(sn, itype)["InstanceId"]
        for idx in range(1, limit):
            self.ec2.attach_network_interface(InstanceId=inst, DeviceIndex=idx,
                                              NetworkInterfaceId=self.eni(sn)["NetworkInterfaceId"])
        self.assertEqual(self.code(self.ec2.attach_network_interface, InstanceId=inst, DeviceIndex=limit,
                                   NetworkInterfaceId=self.eni(sn)["NetworkInterfaceId"]), "AttachmentLimitExceeded")

    def test_delete_while_attached(self):
        sn = self.subnet(f"10.{self.n}.1.0/24")["SubnetId"]
        inst = self.instance(sn)["InstanceId"]
        e = self.eni(sn)["NetworkInterfaceId"]
        self.ec2.attach_network_interface(InstanceId=inst, NetworkInterfaceId=e, DeviceIndex=1)
        self.assertEqual(self.code(self.ec2.delete_network_interface, NetworkInterfaceId=e),
                         "InvalidNetworkInterface.InUse")
        self.assertEqual(self.describe_eni(e)["Status"], "in-use")

    def test_detach_makes_available_then_delete_works(self):
        sn = self.subnet(f"10.{self.n}.1.0/24")["SubnetId"]
        inst = self.instance(sn)["InstanceId"]
        e = self.eni(sn)["NetworkInterfaceId"]
        att = self.ec2.attach_network_interface(InstanceId=inst, NetworkInterfaceId=e, DeviceIndex=1)["AttachmentId"]
        self.ec2.detach_network_interface(AttachmentId=att)
        d = self.describe_eni(e)
        self.assertEqual(d["Status"], "available")
        self.assertNotIn("Attachment", d)
        self.ec2.delete_network_interface(NetworkInterfaceId=e)
        self.assertEqual(self.code(self.ec2.describe_network_interfaces, NetworkInterfaceIds=[e]),
                         "InvalidNetworkInterfaceID.NotFound")

    def test_detach_primary_not_permitted(self):
        sn = self.subnet(f"10.{self.n}.1.0/24")["SubnetId"]
        inst = self.instance(sn)
        att = inst["NetworkInterfaces"][0]["Attachment"]["AttachmentId"]
        self.assertEqual(self.code(self.ec2.detach_network_interface, AttachmentId=att), "OperationNotPermitted")

    def test_modify_delete_on_termination_is_stored_and_reported(self):
        sn = self.subnet(f"10.{self.n}.1.0/24")["SubnetId"]
        inst = self.instance(sn)["InstanceId"]
        e = self.eni(sn)["NetworkInterfaceId"]
        att = self.ec2.attach_network_interface(InstanceId=inst, NetworkInterfaceId=e, DeviceIndex=1)["AttachmentId"]
        self.assertFalse(self.describe_eni(e)["Attachment"]["DeleteOnTermination"])
        self.ec2.modify_network_interface_attribute(
            NetworkInterfaceId=e, Attachment={"AttachmentId": att, "DeleteOnTermination": True})
        self.assertTrue(self.describe_eni(e)["Attachment"]["DeleteOnTermination"])
        self.assertEqual(self.code(self.ec2.modify_network_interface_attribute, NetworkInterfaceId=e,
                                   Attachment={"AttachmentId": "eni-attach-0000000000000000", "DeleteOnTermination": True}),
                         "InvalidAttachmentID.NotFound")

    def test_terminate_deletes_delete_on_termination_enis_and_detaches_others(self):
        sn = self.subnet(f"10.{self.n}.1.0/24")["SubnetId"]
        inst = self.instance(sn)
        iid, primary = inst["InstanceId"], inst["NetworkInterfaces"][0]["NetworkInterfaceId"]
        keep, drop = self.eni(sn)["NetworkInterfaceId"], self.eni(sn)["NetworkInterfaceId"]
        self.ec2.attach_network_interface(InstanceId=iid, NetworkInterfaceId=keep, DeviceIndex=1)
        att = self.ec2.attach_network_interface(InstanceId=iid, NetworkInterfaceId=drop, DeviceIndex=2)["AttachmentId"]
        self.ec2.modify_network_interface_attribute(
            NetworkInterfaceId=drop, Attachment={"AttachmentId": att, "DeleteOnTermination": True})
        self.ec2.terminate_instances(InstanceIds=[iid])
        left = {e["NetworkInterfaceId"]: e for e in self.ec2.describe_network_interfaces(
            Filters=[{"Name": "subnet-id", "Values": [sn]}])["NetworkInterfaces"]}
        self.assertEqual(set(left), {keep})
        self.assertEqual(left[keep]["Status"], "available")
        self.assertNotIn(primary, left)
        gone = self.ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
        self.assertEqual(gone["State"]["Name"], "terminated")
        self.assertEqual(gone["NetworkInterfaces"], [])


class DescribeNetworkInterfaces(Ec2Case):
    def test_pagination(self):
        sn = self.subnet(f"10.{self.n}.1.0/24")["SubnetId"]
        made = {self.eni(sn)["NetworkInterfaceId"] for _ in range(12)}
        seen, pages, token = [], [], None
        while True:
            kw = {"Filters": [{"Name": "subnet-id", "Values": [sn]}], "MaxResults": 5}
            if token:
                kw["NextToken"] = token
            r = self.ec2.describe_network_interfaces(**kw)
            pages.append(len(r["NetworkInterfaces"]))
            seen += [e["NetworkInterfaceId"] for e in r["NetworkInterfaces"]]
            token = r.get("NextToken")
            if not token:
                break
        self.assertEqual(pages, [5, 5, 2])
        self.assertEqual(len(seen), len(set(seen)))
        self.assertEqual(set(seen), made)

    def test_max_results_validation(self):
        from botocore.config import Config

        raw = SIM.client("ec2", config=Config(parameter_validation=False, retries={"total_max_attempts": 1}))
        self.assertEqual(self.code(raw.describe_network_interfaces, MaxResults=4), "InvalidParameterValue")
        self.assertEqual(self.code(self.ec2.describe_network_interfaces, MaxResults=5,
                                   NetworkInterfaceIds=["eni-00000000000000000"]), "InvalidParameterCombination")

    def _attached_setup(self):
        sn = self.subnet(f"10.{self.n}.1.0/24")["SubnetId"]
        inst = self.instance(sn)["InstanceId"]
        a, b = self.eni(sn)["NetworkInterfaceId"], self.eni(sn)["NetworkInterfaceId"]
        self.ec2.attach_network_interface(InstanceId=inst, NetworkInterfaceId=a, DeviceIndex=2)
        return sn, inst, a, b

    def ids(self, sn, name, values):
        r = self.ec2.describe_network_interfaces(Filters=[{"Name": "subnet-id", "Values": [sn]},
                                                          {"Name": name, "Values": values}])
        return {e["NetworkInterfaceId"] for e in r["NetworkInterfaces"]}

    def test_filter_attachment_device_index(self):
        sn, _, a, _ = self._attached_setup()
        self.assertEqual(self.ids(sn, "attachment.device-index", ["2"]), {a})
        self.assertEqual(len(self.ids(sn, "attachment.device-index", ["0"])), 1)  # the primary
        self.assertEqual(self.ids(sn, "attachment.device-index", ["1"]), set())

    def test_filter_attachment_status(self):
        sn, _, a, b = self._attached_setup()
        attached = self.ids(sn, "attachment.status", ["attached"])
        self.assertIn(a, attached)
        self.assertNotIn(b, attached)
        self.assertEqual(len(attached), 2)

    def test_filter_addresses_private_ip_address_matches_secondary(self):
        sn = self.subnet(f"10.{self.n}.1.0/24")["SubnetId"]
        e = self.eni(sn, PrivateIpAddresses=[{"PrivateIpAddress": self.p(20), "Primary": True},
                                             {"PrivateIpAddress": self.p(21), "Primary": False}])
        self.eni(sn, PrivateIpAddress=self.p(22))
        self.assertEqual(self.ids(sn, "addresses.private-ip-address", [self.p(21)]), {e["NetworkInterfaceId"]})

    def test_filter_private_ip_address_matches_secondary(self):
        sn = self.subnet(f"10.{self.n}.1.0/24")["SubnetId"]
        e = self.eni(sn, PrivateIpAddress=self.p(30), SecondaryPrivateIpAddressCount=1)
        second = [a["PrivateIpAddress"] for a in e["PrivateIpAddresses"] if not a["Primary"]][0]
        self.assertEqual(self.ids(sn, "private-ip-address", [second]), {e["NetworkInterfaceId"]})
        self.assertEqual(self.ids(sn, "private-ip-address", [self.p(30)]), {e["NetworkInterfaceId"]})

    def test_filter_ipv6_address(self):
        sn = self.subnet(f"10.{self.n}.1.0/24", ipv6=True)["SubnetId"]
        e = self.eni(sn, Ipv6AddressCount=2)
        self.eni(sn, Ipv6AddressCount=1)
        second = e["Ipv6Addresses"][1]["Ipv6Address"]
        self.assertEqual(self.ids(sn, "ipv6-addresses.ipv6-address", [second]), {e["NetworkInterfaceId"]})


class SubnetReservationsAndCounts(Ec2Case):
    def test_overlap_rejected(self):
        sn = self.subnet(f"10.{self.n}.1.0/24")["SubnetId"]
        self.ec2.create_subnet_cidr_reservation(SubnetId=sn, Cidr=f"10.{self.n}.1.64/26", ReservationType="explicit")
        self.assertEqual(self.code(self.ec2.create_subnet_cidr_reservation, SubnetId=sn,
                                   Cidr=f"10.{self.n}.1.96/27", ReservationType="prefix"), "InvalidParameterValue")

    def test_outside_subnet_rejected(self):
        sn = self.subnet(f"10.{self.n}.1.0/24")["SubnetId"]
        self.assertEqual(self.code(self.ec2.create_subnet_cidr_reservation, SubnetId=sn,
                                   Cidr=f"10.{self.n}.2.0/26", ReservationType="explicit"), "InvalidParameterValue")

    def test_get_lists_ipv4_and_ipv6_and_delete_frees_range(self):
        sn = self.subnet(f"10.{self.n}.1.0/24", ipv6=True)
        sid = sn["SubnetId"]
        v6net = ipaddress.IPv6Network(sn["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"])
        r4 = self.ec2.create_subnet_cidr_reservation(SubnetId=sid, Cidr=f"10.{self.n}.1.0/27",
                                                     ReservationType="explicit", Description="pods")
        self.ec2.create_subnet_cidr_reservation(SubnetId=sid, Cidr=f"{v6net.network_address}/120",
                                                ReservationType="explicit")
        got = self.ec2.get_subnet_cidr_reservations(SubnetId=sid)
        self.assertEqual([r["Cidr"] for r in got["SubnetIpv4CidrReservations"]], [f"10.{self.n}.1.0/27"])
        self.assertEqual(got["SubnetIpv4CidrReservations"][0]["Description"], "pods")
        self.assertEqual(len(got["SubnetIpv6CidrReservations"]), 1)
        self.assertEqual(self.eni(sid)["PrivateIpAddress"], self.p(32))
        v6 = self.eni(sid, Ipv6AddressCount=1)["Ipv6Addresses"][0]["Ipv6Address"]
        self.assertEqual(int(ipaddress.IPv6Address(v6)) - int(v6net.network_address), 256)
        self.ec2.delete_subnet_cidr_reservation(
            SubnetCidrReservationId=r4["SubnetCidrReservation"]["SubnetCidrReservationId"])
        self.assertEqual(self.eni(sid)["PrivateIpAddress"], self.p(4))

    def test_available_ip_address_count(self):
        sn = self.subnet(f"10.{self.n}.1.0/28")["SubnetId"]

        def count():
            return self.ec2.describe_subnets(SubnetIds=[sn])["Subnets"][0]["AvailableIpAddressCount"]

        self.assertEqual(count(), 11)
        self.eni(sn, SecondaryPrivateIpAddressCount=1)
        self.assertEqual(count(), 9)
        self.instance(sn)
        self.assertEqual(count(), 8)
        self.ec2.create_subnet_cidr_reservation(SubnetId=sn, Cidr=f"10.{self.n}.1.12/30", ReservationType="prefix")
        self.assertEqual(count(), 5)  # .12 .13 .14 (the last, .15, was never assignable)

    def test_assign_addresses_lowest_free(self):
        sn = self.subnet(f"10.{self.n}.1.0/24", ipv6=True)
        e = self.eni(sn["SubnetId"], PrivateIpAddress=self.p(4))["NetworkInterfaceId"]
        self.eni(sn["SubnetId"], PrivateIpAddress=self.p(5))
        r = self.ec2.assign_private_ip_addresses(NetworkInterfaceId=e, SecondaryPrivateIpAddressCount=2)
        self.assertEqual(sorted(a["PrivateIpAddress"] for a in r["AssignedPrivateIpAddresses"]),
                         [self.p(4), self.p(6), self.p(7)])
        self.assertEqual(self.code(self.ec2.assign_private_ip_addresses, NetworkInterfaceId=e,
                                   PrivateIpAddresses=[self.p(5)]), "InvalidIPAddress.InUse")
        r6 = self.ec2.assign_ipv6_addresses(NetworkInterfaceId=e, Ipv6AddressCount=1)
        base = int(ipaddress.IPv6Network(sn["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"]).network_address)
        self.assertEqual(int(ipaddress.IPv6Address(r6["AssignedIpv6Addresses"][0])) - base, 4)


if __name__ == "__main__":
    unittest.main()
