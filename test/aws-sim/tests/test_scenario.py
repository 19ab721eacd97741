"""Scenario builders (sim_scenario, exported through simctl) and the runnable demo.

One simulator for the module; the demo runs its own."""

import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import simctl  # noqa: E402
from simctl import (  # noqa: E402
    MULTUS_AZ_TAG,
    MULTUS_NETWORK_TAG,
    EventSink,
    api_key_auth,
    asg_instances,
    build_scenario,
    complete_all,
    lifecycle,
    start_sim,
    wait_lifecycle,
)

HERE = os.path.dirname(os.path.abspath(__file__))
SIM = None
# Hooks that outlive any test on a loaded machine: 7200 s is 72 s at time scale 0.01
# (the builders' default 300 s would be 3 s, shorter than a slow test).
LONG = 7200


def setUpModule():
    global SIM
    SIM = start_sim(time_scale=0.01)


def tearDownModule():
    if SIM is not None:
        SIM.stop()


class Builders(unittest.TestCase):
    def test_exported_through_simctl(self):
        for name in ("build_scenario", "build_network", "create_asg", "EventSink", "configure_delivery",
                     "lifecycle", "deliveries", "complete_all", "sns_info"):
            self.assertTrue(hasattr(simctl, name), name)

    def test_build_scenario_makes_the_multus_layout(self):
        with EventSink() as sink:
            sc = build_scenario(SIM, asg_name="scn-a", networks=("sig", "oam"), delivery_url=sink.url,
                                auth=api_key_auth("x-k", "v"), desired=2,
                                heartbeat_timeout=LONG)
            ec2 = SIM.client("ec2")
            self.assertEqual(sc.azs, ["us-east-1a", "us-east-1b"])
            for net in ("sig", "oam"):
                subs = ec2.describe_subnets(Filters=[{"Name": f"tag:{MULTUS_NETWORK_TAG}", "Values": [net]},
                                                     {"Name": "vpc-id", "Values": [sc.vpc_id]}])["Subnets"]
                self.assertEqual(sorted(s["AvailabilityZone"] for s in subs), sc.azs)
                for s in subs:
                    tags = {t["Key"]: t["Value"] for t in s["Tags"]}
                    self.assertEqual(tags[MULTUS_AZ_TAG], s["AvailabilityZone"])
                    self.assertEqual(sc.multus_subnets[net][s["AvailabilityZone"]], s["SubnetId"])
            sgs = ec2.describe_security_groups(GroupIds=[sc.node_sg, sc.multus_sg])["SecurityGroups"]
            self.assertEqual({g["VpcId"] for g in sgs}, {sc.vpc_id})
            lt = ec2.describe_launch_templates(LaunchTemplateIds=[sc.launch_template_id])["LaunchTemplates"]
            self.assertEqual(lt[0]["LaunchTemplateName"], "scn-a-lt")
            asg = SIM.client("autoscaling")
            g = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["scn-a"])["AutoScalingGroups"][0]
            self.assertEqual(set(g["VPCZoneIdentifier"].split(",")), set(sc.node_subnets.values()))
            hooks = {h["LifecycleTransition"]: h for h in
                     asg.describe_lifecycle_hooks(AutoScalingGroupName="scn-a")["LifecycleHooks"]}
            self.assertEqual(set(hooks), {"autoscaling:EC2_INSTANCE_LAUNCHING", "autoscaling:EC2_INSTANCE_TERMINATING"})
            self.assertEqual(json.loads(hooks["autoscaling:EC2_INSTANCE_LAUNCHING"]["NotificationMetadata"]),
                             {"networks": ["sig", "oam"]})
            # both instances wait, one per AZ, and the events reach the endpoint
            inst = asg_instances(SIM, "scn-a")
            self.assertEqual(sorted(i["az"] for i in inst), sc.azs)
            self.assertEqual({i["state"] for i in inst}, {"Pending:Wait"})
            reqs = sink.wait_for(2)
            self.assertEqual({r["headers"]["x-k"] for r in reqs}, {"v"})
            cfg = SIM.call("GET", "/_sim/delivery")
            self.assertEqual(cfg["api_destinations"][0]["auth"]["value"], "<redacted>")
            self.assertEqual(complete_all(SIM, "scn-a"), 2)
            self.assertEqual({i["state"] for i in asg_instances(SIM, "scn-a")}, {"InService"})

    def test_hooks_via_put_lifecycle_hook(self):
        sc = build_scenario(SIM, asg_name="scn-b", networks=("sig",), hooks_via="put", desired=1,
                            heartbeat_timeout=LONG)
        (a,) = wait_lifecycle(SIM, 1, group="scn-b")
        self.assertEqual(a["hook"], sc.launch_hook)
        self.assertEqual(complete_all(SIM, "scn-b", by="instance"), 1)
        self.assertEqual(lifecycle(SIM, group="scn-b")[0]["completed_by"], "instance-id")


    def test_reset_forgets_lifecycle_and_delivery_state(self):
        build_scenario(SIM, asg_name="scn-z", networks=("sig",), desired=1, delivery_url="http://127.0.0.1:9/x",
                       heartbeat_timeout=LONG)
        wait_lifecycle(SIM, 1, group="scn-z")
        SIM.reset()
        self.assertEqual(lifecycle(SIM), [])
        self.assertEqual(SIM.call("GET", "/_sim/delivery")["api_destinations"], [])
        self.assertEqual(SIM.call("GET", "/_sim/deliveries")["attempts"], [])


class Demo(unittest.TestCase):
    def test_demo_runs_to_completion(self):
        r = subprocess.run([sys.executable, os.path.join(HERE, "..", "sim_scenario.py"), "--demo"],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("Pending:Wait", r.stdout)
        self.assertIn("EC2 Instance-launch Lifecycle Action", r.stdout)
        self.assertIn("Terminating:Wait", r.stdout)
        self.assertIn("done:", r.stdout)


if __name__ == "__main__":
    unittest.main()
