"""Fault injection, token buckets and latency, asserted with boto3.

One simulator for the module; each test clears the fault rules and buckets it set."""

import os
import sys
import threading
import unittest

import botocore.exceptions

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from simctl import error_of, start_sim, wait_until  # noqa: E402

SIM = None


def setUpModule():
    global SIM
    SIM = start_sim()


def tearDownModule():
    if SIM is not None:
        SIM.stop()


class FaultCase(unittest.TestCase):
    def setUp(self):
        self.ec2 = SIM.client("ec2")
        self.asg = SIM.client("autoscaling")
        SIM.clear_faults()
        SIM.set_throttle(False)
        SIM.set_seed(0)
        self.addCleanup(SIM.clear_faults)
        self.addCleanup(SIM.set_throttle, False)
        self.addCleanup(SIM.set_latency, 0)

    def vpcs_tagged(self, value):
        r = self.ec2.describe_vpcs(Filters=[{"Name": "tag:t", "Values": [value]}])
        return r["Vpcs"]

    def create_vpc(self, tag):
        return self.ec2.create_vpc(CidrBlock="10.99.0.0/16",
                                   TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "t", "Value": tag}]}])


class Kinds(FaultCase):
    def test_throttle_ec2_is_503_request_limit_exceeded(self):
        SIM.add_fault("throttle", service="ec2", action="DescribeVpcs", count=1)
        self.assertEqual(error_of(self.ec2.describe_vpcs), ("RequestLimitExceeded", 503))
        self.assertIsNone(error_of(self.ec2.describe_vpcs))

    def test_throttle_query_service_is_400_throttling(self):
        SIM.add_fault("throttle", service="autoscaling", action="DescribeAutoScalingGroups", count=1)
        self.assertEqual(error_of(self.asg.describe_auto_scaling_groups), ("Throttling", 400))
        self.assertIsNone(error_of(self.asg.describe_auto_scaling_groups))

    def test_throttle_json_service_is_400_throttling_exception(self):
        events = SIM.client("events")
        SIM.add_fault("throttle", service="events", action="ListRules", count=1)
        self.assertEqual(error_of(events.list_rules), ("ThrottlingException", 400))

    def test_error_before_has_no_effect(self):
        SIM.add_fault("error-before", service="ec2", action="CreateVpc", count=1)
        self.assertEqual(error_of(self.create_vpc, "before"), ("InternalError", 500))
        self.assertEqual(self.vpcs_tagged("before"), [])

    def test_error_before_with_given_code(self):
        SIM.add_fault("error-before", service="ec2", action="CreateNetworkInterface", count=1, status=400,
                      code="InsufficientFreeAddressesInSubnet")
        self.assertEqual(error_of(self.ec2.create_network_interface, SubnetId="subnet-12345678"),
                         ("InsufficientFreeAddressesInSubnet", 400))

    def test_error_after_took_effect(self):
        SIM.add_fault("error-after", service="ec2", action="CreateVpc", count=1)
        self.assertEqual(error_of(self.create_vpc, "after"), ("InternalError", 500))
        self.assertEqual(len(self.vpcs_tagged("after")), 1)
        log = SIM.requests(service="ec2", action="CreateVpc")[-1]
        self.assertEqual((log["status"], log["fault"]), (500, "error-after"))

    def test_drop_closes_without_answer_and_has_no_effect(self):
        SIM.add_fault("drop", service="ec2", action="CreateVpc", count=1)
        with self.assertRaises(botocore.exceptions.HTTPClientError):
            self.create_vpc("drop")
        self.assertEqual(self.vpcs_tagged("drop"), [])
        self.assertEqual(SIM.requests(service="ec2", action="CreateVpc")[-1]["fault"], "drop")

    def test_drop_after_took_effect(self):
        SIM.add_fault("drop-after", service="ec2", action="CreateVpc", count=1)
        with self.assertRaises(botocore.exceptions.HTTPClientError):
            self.create_vpc("drop-after")
        self.assertEqual(len(self.vpcs_tagged("drop-after")), 1)

    def test_latency_fixed(self):
        SIM.add_fault("latency", service="ec2", action="DescribeVpcs", count=1, ms=150)
        seq = SIM.last_seq()
        self.ec2.describe_vpcs()
        entry = SIM.requests(action="DescribeVpcs", since=seq)[0]
        self.assertGreaterEqual(entry["duration_ms"], 150)
        self.assertEqual([e["ms"] for e in SIM.events("latency")][-1], 150)

    def test_latency_jitter_is_seeded(self):
        def run():
            SIM.clear_faults()
            SIM.set_seed(42)
            SIM.add_fault("latency", service="ec2", action="DescribeVpcs", ms=10, jitter_ms=40)
            before = SIM.events("latency")
            since = before[-1]["seq"] if before else 0
            for _ in range(4):
                self.ec2.describe_vpcs()
            return [e["ms"] for e in SIM.events("latency", since=since)]

        first, second = run(), run()
        self.assertEqual(first, second)
        self.assertEqual(len(first), 4)
        self.assertTrue(all(10 <= ms <= 50 for ms in first), first)
        self.assertGreater(len(set(first)), 1)

    def test_latency_does_not_block_other_requests(self):
        # The slow call is held 30 s, far longer than the test: it is never waited
        # for. Its thread is a daemon and tearDownModule's SIM.stop() cuts the
        # connection. DescribeKeyPairs is used by no other test, so a late log entry
        # (a module run longer than 30 s) disturbs nothing.
        rule = SIM.add_fault("latency", service="ec2", action="DescribeKeyPairs", count=1, ms=30000)
        seq = SIM.last_seq()
        slow_ec2 = SIM.client("ec2")

        def slow_call():
            try:
                slow_ec2.describe_key_pairs()
            except Exception:  # cut by SIM.stop(): expected, nothing to report
                pass

        threading.Thread(target=slow_call, daemon=True).start()
        # The latency event is recorded just before the sleep: from here on the
        # slow call is inside its delay.
        wait_until(lambda: [e for e in SIM.events("latency") if e.get("rule_id") == rule["id"]],
                   what="the slow call inside its delay")
        self.assertIsNone(error_of(self.asg.describe_auto_scaling_groups))
        self.assertIsNone(error_of(SIM.client("ec2").describe_subnets))
        # The request log is appended when a call completes (seq = completion
        # order): both fast calls are there, the slow one is not. Had the delay
        # blocked them (e.g. under sim.lock), the slow call would come first.
        done = [(r["action"], r["status"]) for r in SIM.requests(since=seq)]
        self.assertEqual(done, [("DescribeAutoScalingGroups", 200), ("DescribeSubnets", 200)])

    def test_fixed_per_call_latency(self):
        SIM.set_latency(120)
        seq = SIM.last_seq()
        self.asg.describe_auto_scaling_groups()
        SIM.set_latency(0)
        self.assertGreaterEqual(SIM.requests(since=seq)[0]["duration_ms"], 120)
        self.assertEqual(SIM.health()["latency_ms"], 0)


class Matching(FaultCase):
    def test_count_and_skip(self):
        SIM.add_fault("throttle", service="ec2", action="DescribeVpcs", skip=1, count=2)
        got = [error_of(self.ec2.describe_vpcs) for _ in range(4)]
        self.assertEqual(got, [None, ("RequestLimitExceeded", 503), ("RequestLimitExceeded", 503), None])
        rule = SIM.faults()[0]
        self.assertEqual((rule["seen"], rule["fired"]), (4, 2))

    def test_probability_is_seeded(self):
        def pattern():
            SIM.clear_faults()
            SIM.set_seed(7)
            SIM.add_fault("throttle", service="ec2", action="DescribeVpcs", probability=0.5)
            return [error_of(self.ec2.describe_vpcs) is None for _ in range(16)]

        a, b = pattern(), pattern()
        self.assertEqual(a, b)
        self.assertIn(True, a)
        self.assertIn(False, a)

    def test_rule_matches_only_its_service_and_action(self):
        SIM.add_fault("throttle", service="ec2", action="DescribeVpcs")
        self.assertIsNone(error_of(self.ec2.describe_subnets))
        self.assertIsNone(error_of(self.asg.describe_auto_scaling_groups))
        self.assertEqual(error_of(self.ec2.describe_vpcs), ("RequestLimitExceeded", 503))
        SIM.clear_faults()
        self.assertIsNone(error_of(self.ec2.describe_vpcs))

    def test_invalid_rule_rejected(self):
        from simctl import SimError

        with self.assertRaises(SimError) as cm:
            SIM.add_fault("explode", service="ec2")
        self.assertEqual(cm.exception.status, 400)
        with self.assertRaises(SimError):
            SIM.add_fault("throttle", probability=2.0)


class Buckets(FaultCase):
    def test_bucket_empties_then_throttles(self):
        SIM.set_throttle(True, buckets={"ec2:DescribeVpcs": [3, 0]})
        got = [error_of(self.ec2.describe_vpcs) for _ in range(4)]
        self.assertEqual(got, [None, None, None, ("RequestLimitExceeded", 503)])
        self.assertIsNone(error_of(self.ec2.describe_subnets))  # its own bucket
        self.assertEqual(SIM.throttle()["throttled"], 1)

    def test_query_service_bucket_throttles_with_throttling(self):
        SIM.set_throttle(True, buckets={"autoscaling:DescribeAutoScalingGroups": [1, 0]})
        self.assertIsNone(error_of(self.asg.describe_auto_scaling_groups))
        self.assertEqual(error_of(self.asg.describe_auto_scaling_groups), ("Throttling", 400))

    def test_documented_sizes_scaled(self):
        SIM.set_throttle(True, scale=0.5)
        self.ec2.describe_vpcs(Filters=[{"Name": "tag:x", "Values": ["y"]}])
        self.ec2.describe_vpcs()
        error_of(self.ec2.create_network_interface, SubnetId="subnet-12345678")
        error_of(self.ec2.create_subnet_cidr_reservation, SubnetId="subnet-12345678", Cidr="10.0.0.0/28",
                 ReservationType="explicit")
        error_of(self.ec2.attach_network_interface, InstanceId="i-12345678", NetworkInterfaceId="eni-12345678",
                 DeviceIndex=1)
        b = {k.split("/", 2)[2]: (v["burst"], v["refill"]) for k, v in SIM.throttle()["buckets"].items()}
        self.assertEqual(b["DescribeVpcs"], (50, 10))  # filtered non-mutating: 100/20
        self.assertEqual(b["DescribeVpcs:unfiltered"], (25, 5))  # unfiltered: 50/10
        self.assertEqual(b["CreateNetworkInterface"], (50, 2.5))  # 100/5
        self.assertEqual(b["CreateSubnetCidrReservation"], (2.5, 0.5))  # 5/1
        self.assertEqual(b["AttachNetworkInterface"], (25, 2.5))  # mutating default 50/5

    def test_throttle_off_again(self):
        SIM.set_throttle(True, buckets={"ec2:DescribeVpcs": [1, 0]})
        self.ec2.describe_vpcs()
        self.assertIsNotNone(error_of(self.ec2.describe_vpcs))
        SIM.set_throttle(False)
        self.assertIsNone(error_of(self.ec2.describe_vpcs))


if __name__ == "__main__":
    unittest.main()
