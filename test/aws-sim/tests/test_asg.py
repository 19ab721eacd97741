"""Auto Scaling lifecycle of the simulator, asserted with boto3 against AWS's states
and error codes: hooks, Pending:Wait / Terminating:Wait, completion, heartbeats,
timeouts and the AZ spread.

One simulator (time scale 0.01: a 30 s heartbeat timeout lasts 0.3 s) for the module;
every test builds its own VPC and group. Timeouts are asserted on the recorded
outcome, never on elapsed time."""

import itertools
import os
import sys
import unittest

from botocore.exceptions import ClientError

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from simctl import (  # noqa: E402
    LAUNCHING,
    TERMINATING,
    advance_action,
    asg_instances,
    build_network,
    create_launch_template,
    error_of,
    expire_action,
    lifecycle,
    start_sim,
    wait_lifecycle,
    wait_until,
)

SIM = None
_n = itertools.count(1)


def setUpModule():
    global SIM
    SIM = start_sim(time_scale=0.01)


def tearDownModule():
    if SIM is not None:
        SIM.stop()


class AsgCase(unittest.TestCase):
    def setUp(self):
        self.n = next(_n)
        self.asg = SIM.client("autoscaling")
        self.ec2 = SIM.client("ec2")
        self.net = build_network(SIM, networks=("sig",), vpc_cidr=f"10.{self.n}.0.0/16", name=f"t{self.n}")
        self.lt = create_launch_template(SIM, f"lt-test-{self.n}", [self.net.node_sg])
        self.name = f"{self._testMethodName[:40]}-{self.n}"

    def group(self, desired=0, hooks=(), subnets=None, min_size=0, max_size=10):
        """Create the test's group; hooks are LifecycleHookSpecification dicts."""
        subnets = subnets or [self.net.node_subnets[az] for az in self.net.azs]
        kw = dict(AutoScalingGroupName=self.name, LaunchTemplate={"LaunchTemplateId": self.lt},
                  MinSize=min_size, MaxSize=max_size, DesiredCapacity=desired,
                  VPCZoneIdentifier=",".join(subnets))
        if hooks:
            kw["LifecycleHookSpecificationList"] = list(hooks)
        self.asg.create_auto_scaling_group(**kw)
        return self.name

    @staticmethod
    # Default 7200 s (72 s real at time scale 0.01): long enough that no test
    # that is not about timeouts can see one expire on a loaded machine.
    def launch_hook(name="launch", timeout=7200, result="ABANDON", **kw):
        h = {"LifecycleHookName": name, "LifecycleTransition": LAUNCHING,
             "HeartbeatTimeout": timeout, "DefaultResult": result}
        h.update(kw)
        return h

    @staticmethod
    def terminate_hook(name="terminate", timeout=7200, result="CONTINUE"):
        return {"LifecycleHookName": name, "LifecycleTransition": TERMINATING,
                "HeartbeatTimeout": timeout, "DefaultResult": result}

    def states(self):
        return {i["id"]: i["state"] for i in asg_instances(SIM, self.name)}

    def ec2_state(self, iid):
        r = self.ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
        return r["State"]["Name"]

    def waiting(self, n=1, **q):
        return wait_lifecycle(SIM, n, group=self.name, state="waiting", **q)

    def complete(self, action, result="CONTINUE", by="token"):
        kw = dict(LifecycleHookName=action["hook"], AutoScalingGroupName=self.name,
                  LifecycleActionResult=result)
        if by == "token":
            kw["LifecycleActionToken"] = action["token"]
        else:
            kw["InstanceId"] = action["instance_id"]
        self.asg.complete_lifecycle_action(**kw)

    def error(self, fn, **kw):
        try:
            fn(**kw)
        except ClientError as e:
            return e.response["Error"]["Code"], e.response["Error"]["Message"]
        self.fail(f"{fn.__name__} succeeded, an error was expected")


class Hooks(AsgCase):
    def test_put_lifecycle_hook_keeps_target_role_metadata(self):
        q = SIM.client("sqs").create_queue(QueueName=f"hooks-{self.n}")["QueueUrl"]
        qarn = SIM.client("sqs").get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.group()
        role = "arn:aws:iam::123456789012:role/hookd-publish"
        self.asg.put_lifecycle_hook(AutoScalingGroupName=self.name, LifecycleHookName="l",
                                    LifecycleTransition=LAUNCHING, NotificationTargetARN=qarn,
                                    RoleARN=role, NotificationMetadata='{"net":"sig"}',
                                    HeartbeatTimeout=120, DefaultResult="CONTINUE")
        h = self.asg.describe_lifecycle_hooks(AutoScalingGroupName=self.name)["LifecycleHooks"][0]
        self.assertEqual(h["NotificationTargetARN"], qarn)
        self.assertEqual(h["RoleARN"], role)
        self.assertEqual(h["NotificationMetadata"], '{"net":"sig"}')
        self.assertEqual(h["HeartbeatTimeout"], 120)
        self.assertEqual(h["GlobalTimeout"], 12000)
        self.assertEqual(h["DefaultResult"], "CONTINUE")
        self.assertEqual(h["LifecycleTransition"], LAUNCHING)
        # An update changes only what it names.
        self.asg.put_lifecycle_hook(AutoScalingGroupName=self.name, LifecycleHookName="l", HeartbeatTimeout=7200)
        h = self.asg.describe_lifecycle_hooks(AutoScalingGroupName=self.name)["LifecycleHooks"][0]
        self.assertEqual((h["HeartbeatTimeout"], h["GlobalTimeout"]), (7200, 172800))
        self.assertEqual(h["NotificationMetadata"], '{"net":"sig"}')
        self.assertEqual(h["NotificationTargetARN"], qarn)

    def test_specification_list_hooks_apply_to_first_instances(self):
        self.group(desired=2, hooks=[self.launch_hook(NotificationMetadata="m1", RoleARN="arn:aws:iam::123456789012:role/r"),
                                     self.terminate_hook()])
        hooks = {h["LifecycleHookName"]: h for h in
                 self.asg.describe_lifecycle_hooks(AutoScalingGroupName=self.name)["LifecycleHooks"]}
        self.assertEqual(set(hooks), {"launch", "terminate"})
        self.assertEqual(hooks["launch"]["NotificationMetadata"], "m1")
        self.assertEqual(hooks["launch"]["RoleARN"], "arn:aws:iam::123456789012:role/r")
        self.assertEqual(hooks["terminate"]["LifecycleTransition"], TERMINATING)
        self.assertEqual(sorted(self.states().values()), ["Pending:Wait", "Pending:Wait"])
        ids = [i["InstanceId"] for i in self.asg.describe_auto_scaling_instances()["AutoScalingInstances"]
               if i["AutoScalingGroupName"] == self.name]
        self.assertEqual(len(ids), 2)
        acts = self.waiting(2)
        self.assertEqual({a["instance_id"] for a in acts}, set(ids))
        self.assertTrue(all(a["notification_metadata"] == "m1" for a in acts))

    def test_hook_validation_errors(self):
        self.group()
        for kw in ({"HeartbeatTimeout": 29}, {"HeartbeatTimeout": 7201}, {"DefaultResult": "MAYBE"},
                   {"NotificationTargetARN": "arn:aws:sqs:us-east-1:123456789012:no-such-queue"}):
            code, _ = self.error(self.asg.put_lifecycle_hook, AutoScalingGroupName=self.name,
                                 LifecycleHookName="bad", LifecycleTransition=LAUNCHING, **kw)
            self.assertEqual(code, "ValidationError", kw)
        self.assertEqual(self.asg.describe_lifecycle_hooks(AutoScalingGroupName=self.name)["LifecycleHooks"], [])
        code, _ = self.error(self.asg.put_lifecycle_hook, AutoScalingGroupName="no-such-group",
                             LifecycleHookName="h", LifecycleTransition=LAUNCHING)
        self.assertEqual(code, "ValidationError")

    def test_create_group_twice_is_already_exists(self):
        self.group()
        self.assertEqual(self.error(self.group)[0], "AlreadyExists")

    def test_no_hooks_behaves_as_moto(self):
        self.group(desired=2)
        self.assertEqual(sorted(self.states().values()), ["InService", "InService"])
        self.asg.set_desired_capacity(AutoScalingGroupName=self.name, DesiredCapacity=1)
        self.assertEqual(list(self.states().values()), ["InService"])
        self.assertEqual(lifecycle(SIM, group=self.name), [])


class Completion(AsgCase):
    def test_complete_by_token_goes_in_service(self):
        self.group(desired=1, hooks=[self.launch_hook()])
        (a,) = self.waiting()
        self.assertEqual(self.states()[a["instance_id"]], "Pending:Wait")
        self.assertEqual(self.ec2_state(a["instance_id"]), "running")
        self.complete(a)
        self.assertEqual(self.states()[a["instance_id"]], "InService")
        done = lifecycle(SIM, instance_id=a["instance_id"])[0]
        self.assertEqual((done["state"], done["result"], done["completed_by"]), ("completed", "CONTINUE", "token"))

    def test_complete_by_instance_id_goes_in_service(self):
        self.group(desired=1, hooks=[self.launch_hook()])
        (a,) = self.waiting()
        self.complete(a, by="instance")
        self.assertEqual(self.states()[a["instance_id"]], "InService")
        self.assertEqual(lifecycle(SIM, instance_id=a["instance_id"])[0]["completed_by"], "instance-id")

    def test_second_completion_and_wrong_token_are_validation_errors(self):
        self.group(desired=1, hooks=[self.launch_hook()])
        (a,) = self.waiting()
        bogus = "11111111-2222-4333-8444-555555555555"
        code, msg = self.error(self.asg.complete_lifecycle_action, LifecycleHookName="launch",
                               AutoScalingGroupName=self.name, LifecycleActionToken=bogus,
                               LifecycleActionResult="CONTINUE")
        self.assertEqual(code, "ValidationError")
        self.assertEqual(msg, f"No active Lifecycle Action found with token {bogus}")
        self.assertEqual(self.states()[a["instance_id"]], "Pending:Wait")
        # the right token under the wrong hook name is not the action either
        code, _ = self.error(self.asg.complete_lifecycle_action, LifecycleHookName="other",
                             AutoScalingGroupName=self.name, LifecycleActionToken=a["token"],
                             LifecycleActionResult="CONTINUE")
        self.assertEqual(code, "ValidationError")
        self.complete(a)
        code, msg = self.error(self.asg.complete_lifecycle_action, LifecycleHookName="launch",
                               AutoScalingGroupName=self.name, LifecycleActionToken=a["token"],
                               LifecycleActionResult="CONTINUE")
        self.assertEqual((code, msg), ("ValidationError", f"No active Lifecycle Action found with token {a['token']}"))
        code, msg = self.error(self.asg.complete_lifecycle_action, LifecycleHookName="launch",
                               AutoScalingGroupName=self.name, InstanceId=a["instance_id"],
                               LifecycleActionResult="CONTINUE")
        self.assertEqual(code, "ValidationError")
        self.assertIn(a["instance_id"], msg)
        code, _ = self.error(self.asg.record_lifecycle_action_heartbeat, LifecycleHookName="launch",
                             AutoScalingGroupName=self.name, LifecycleActionToken=a["token"])
        self.assertEqual(code, "ValidationError")

    def test_abandon_on_launch_terminates_and_replaces(self):
        self.group(desired=1, hooks=[self.launch_hook()])
        (a,) = self.waiting()
        self.complete(a, result="ABANDON")
        self.assertEqual(self.ec2_state(a["instance_id"]), "terminated")
        st = self.states()
        self.assertNotIn(a["instance_id"], st)
        self.assertEqual(list(st.values()), ["Pending:Wait"])  # the replacement waits on the hook too

    def test_two_launch_hooks_both_must_complete(self):
        self.group(desired=1, hooks=[self.launch_hook("a"), self.launch_hook("b")])
        acts = self.waiting(2)
        self.complete(acts[0])
        self.assertEqual(self.states()[acts[0]["instance_id"]], "Pending:Wait")
        self.complete(acts[1])
        self.assertEqual(self.states()[acts[0]["instance_id"]], "InService")

    def test_two_launch_hooks_abandon_after_both(self):
        # AWS: the instance moves on only once every hook's action is done; one
        # ABANDON then terminates it (and the group replaces it)
        self.group(desired=1, hooks=[self.launch_hook("a"), self.launch_hook("b")])
        acts = self.waiting(2)
        iid = acts[0]["instance_id"]
        self.complete(acts[0], result="ABANDON")
        self.assertEqual(self.states()[iid], "Pending:Wait")
        self.assertEqual(self.ec2_state(iid), "running")
        self.complete(acts[1])
        self.assertEqual(self.ec2_state(iid), "terminated")
        self.assertNotIn(iid, self.states())

    def test_delete_hook_abandons_waiting_launch(self):
        self.group(desired=1, hooks=[self.launch_hook()])
        (a,) = self.waiting()
        self.asg.delete_lifecycle_hook(AutoScalingGroupName=self.name, LifecycleHookName="launch")
        self.assertEqual(self.ec2_state(a["instance_id"]), "terminated")
        self.assertEqual(list(self.states().values()), ["InService"])  # replacement, no hook now

    def test_complete_lifecycle_action_goes_through_moto_auth(self):
        with start_sim(auth=True, time_scale=0.01) as sim:
            key, secret = sim.create_credentials("admin")
            sim.use_credentials(key, secret)
            net = build_network(sim, networks=(), name="auth")
            lt = create_launch_template(sim, "lt-auth", [net.node_sg])
            asg = sim.client("autoscaling")
            asg.create_auto_scaling_group(AutoScalingGroupName="g", LaunchTemplate={"LaunchTemplateId": lt},
                                          MinSize=0, MaxSize=2, DesiredCapacity=1,
                                          VPCZoneIdentifier=net.node_subnets[net.azs[0]],
                                          LifecycleHookSpecificationList=[self.launch_hook()])
            (a,) = wait_lifecycle(sim, 1, group="g")
            deny = {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
                {"Effect": "Deny", "Action": "autoscaling:CompleteLifecycleAction", "Resource": "*"}]}
            k2, s2 = sim.create_credentials("no-complete", deny)
            denied = sim.client("autoscaling", aws_access_key_id=k2, aws_secret_access_key=s2)
            kw = dict(LifecycleHookName="launch", AutoScalingGroupName="g",
                      LifecycleActionToken=a["token"], LifecycleActionResult="CONTINUE")
            self.assertEqual(error_of(denied.complete_lifecycle_action, **kw), ("AccessDenied", 403))
            wrong = sim.client("autoscaling", aws_secret_access_key="not-the-secret")
            self.assertEqual(error_of(wrong.complete_lifecycle_action, **kw)[1], 403)
            asg.complete_lifecycle_action(**kw)
            self.assertEqual(asg_instances(sim, "g")[0]["state"], "InService")


class Timeouts(AsgCase):
    def test_heartbeat_timeout_applies_default_continue(self):
        self.group(desired=1, hooks=[self.launch_hook(timeout=30, result="CONTINUE")])
        (a,) = self.waiting()
        wait_until(lambda: self.states().get(a["instance_id"]) == "InService", what="default CONTINUE")
        done = lifecycle(SIM, instance_id=a["instance_id"])[0]
        self.assertEqual((done["state"], done["result"], done["completed_by"]),
                         ("timed-out", "CONTINUE", "heartbeat-timeout"))

    def test_heartbeat_timeout_applies_default_abandon_and_replaces(self):
        self.group(desired=1, hooks=[self.launch_hook(timeout=30, result="ABANDON")])
        (a,) = self.waiting()
        wait_until(lambda: a["instance_id"] not in self.states(), what="abandoned instance leaves")
        self.assertEqual(self.ec2_state(a["instance_id"]), "terminated")
        done = lifecycle(SIM, instance_id=a["instance_id"])[0]
        self.assertEqual((done["state"], done["result"]), ("timed-out", "ABANDON"))
        wait_until(lambda: len(self.states()) == 1, what="replacement")
        replacement = [i for i in self.states() if i != a["instance_id"]]
        self.assertEqual(len(replacement), 1)
        desc = self.asg.describe_auto_scaling_groups(AutoScalingGroupNames=[self.name])["AutoScalingGroups"][0]
        self.assertEqual(desc["DesiredCapacity"], 1)

    def test_heartbeat_extends_the_wait(self):
        # 3600 s heartbeat timeout = 36 s real: simulated time is moved by the control API.
        self.group(desired=1, hooks=[self.launch_hook(timeout=3600, result="ABANDON")])
        (a,) = self.waiting()
        advance_action(SIM, a["token"], 3000)
        before = lifecycle(SIM, instance_id=a["instance_id"])[0]["heartbeat_deadline"]
        self.asg.record_lifecycle_action_heartbeat(LifecycleHookName="launch", AutoScalingGroupName=self.name,
                                                   LifecycleActionToken=a["token"])
        self.asg.record_lifecycle_action_heartbeat(LifecycleHookName="launch", AutoScalingGroupName=self.name,
                                                   InstanceId=a["instance_id"])
        after = lifecycle(SIM, instance_id=a["instance_id"])[0]
        self.assertGreater(after["heartbeat_deadline"], before)
        self.assertEqual(len(after["heartbeats"]), 2)
        advance_action(SIM, a["token"], 3000)  # 6000 s after launch: only the heartbeat keeps it
        self.assertEqual(self.states()[a["instance_id"]], "Pending:Wait")
        self.assertEqual(lifecycle(SIM, instance_id=a["instance_id"])[0]["state"], "waiting")
        advance_action(SIM, a["token"], 700)  # past the extended deadline
        wait_until(lambda: lifecycle(SIM, instance_id=a["instance_id"])[0]["state"] == "timed-out",
                   what="timeout after heartbeat")
        self.assertEqual(lifecycle(SIM, instance_id=a["instance_id"])[0]["completed_by"], "heartbeat-timeout")

    def test_global_timeout_caps_heartbeats(self):
        # HeartbeatTimeout 30 -> GlobalTimeout 3000. Pretend 2975 s passed with heartbeats.
        self.group(desired=1, hooks=[self.launch_hook(timeout=30, result="CONTINUE")])
        (a,) = self.waiting()
        advance_action(SIM, a["token"], 2975, keep_heartbeat=True)
        try:
            self.asg.record_lifecycle_action_heartbeat(LifecycleHookName="launch", AutoScalingGroupName=self.name,
                                                       LifecycleActionToken=a["token"])
            info = lifecycle(SIM, instance_id=a["instance_id"])[0]
            if info["state"] == "waiting":
                self.assertEqual(info["heartbeat_deadline"], info["global_deadline"])
        except ClientError as e:  # the global timeout already fired: also a pass of the cap
            self.assertEqual(e.response["Error"]["Code"], "ValidationError")
        wait_until(lambda: lifecycle(SIM, instance_id=a["instance_id"])[0]["state"] == "timed-out",
                   what="global timeout")
        done = lifecycle(SIM, instance_id=a["instance_id"])[0]
        self.assertEqual((done["completed_by"], done["result"]), ("global-timeout", "CONTINUE"))
        self.assertEqual(self.states()[a["instance_id"]], "InService")

    def test_expire_control_route_applies_default(self):
        self.group(desired=1, hooks=[self.launch_hook(timeout=7200, result="ABANDON")])
        (a,) = self.waiting()
        expire_action(SIM, a["token"])
        self.assertEqual(self.ec2_state(a["instance_id"]), "terminated")


class ScaleIn(AsgCase):
    def in_service(self, desired, hooks):
        self.group(desired=desired, hooks=hooks)
        for a in self.waiting(desired):
            self.complete(a)
        self.assertEqual(sorted(set(self.states().values())), ["InService"])

    def test_scale_in_passes_through_terminating_wait(self):
        self.in_service(2, [self.launch_hook(), self.terminate_hook()])
        self.asg.set_desired_capacity(AutoScalingGroupName=self.name, DesiredCapacity=1)
        (t,) = self.waiting(transition=TERMINATING)
        st = self.states()
        self.assertEqual(st[t["instance_id"]], "Terminating:Wait")
        self.assertEqual(sorted(st.values()), ["InService", "Terminating:Wait"])
        self.assertEqual(self.ec2_state(t["instance_id"]), "running")
        self.assertEqual((t["origin"], t["destination"]), ("AutoScalingGroup", "EC2"))
        self.complete(t)
        self.assertEqual(self.ec2_state(t["instance_id"]), "terminated")
        self.assertNotIn(t["instance_id"], self.states())
        self.assertEqual(len(self.states()), 1)

    def test_two_terminate_hooks_run_at_once_both_must_complete(self):
        # every terminate hook's action starts together; the instance stays in
        # Terminating:Wait (EC2 running) until the last one is completed
        self.in_service(2, [self.launch_hook(), self.terminate_hook("ours"),
                            self.terminate_hook("drain")])
        self.asg.set_desired_capacity(AutoScalingGroupName=self.name, DesiredCapacity=1)
        acts = self.waiting(2, transition=TERMINATING)
        self.assertEqual(sorted(a["hook"] for a in acts), ["drain", "ours"])
        self.assertEqual(len({a["instance_id"] for a in acts}), 1)
        self.assertEqual(len({a["token"] for a in acts}), 2)
        iid = acts[0]["instance_id"]
        ours = next(a for a in acts if a["hook"] == "ours")
        drain = next(a for a in acts if a["hook"] == "drain")
        self.complete(ours)
        self.assertEqual(self.states()[iid], "Terminating:Wait")
        self.assertEqual(self.ec2_state(iid), "running")
        self.complete(drain)
        self.assertEqual(self.ec2_state(iid), "terminated")

    def test_update_auto_scaling_group_scales_in_through_wait(self):
        self.in_service(2, [self.launch_hook(), self.terminate_hook(timeout=30, result="ABANDON")])
        self.asg.update_auto_scaling_group(AutoScalingGroupName=self.name, MaxSize=1, DesiredCapacity=1)
        (t,) = self.waiting(transition=TERMINATING)
        # ABANDON on terminate still terminates (DefaultResult after the 30 s timeout)
        wait_until(lambda: self.ec2_state(t["instance_id"]) == "terminated", what="terminate after timeout")
        self.assertEqual(len(self.states()), 1)

    def test_terminate_instance_in_asg_with_and_without_decrement(self):
        self.in_service(2, [self.launch_hook(), self.terminate_hook()])
        ids = sorted(self.states())
        r = self.asg.terminate_instance_in_auto_scaling_group(InstanceId=ids[0], ShouldDecrementDesiredCapacity=True)
        self.assertIn(ids[0], r["Activity"]["Description"])
        self.assertEqual(self.states()[ids[0]], "Terminating:Wait")
        self.assertEqual(len(self.states()), 2)  # no replacement with decrement
        (t,) = self.waiting(transition=TERMINATING)
        self.complete(t, by="instance")
        self.assertEqual(self.ec2_state(ids[0]), "terminated")
        self.assertEqual(list(self.states()), [ids[1]])
        # desired is now 1 = min 0 ... without decrement a replacement launches at once
        self.asg.terminate_instance_in_auto_scaling_group(InstanceId=ids[1], ShouldDecrementDesiredCapacity=False)
        st = self.states()
        self.assertEqual(st[ids[1]], "Terminating:Wait")
        self.assertEqual(sorted(st.values()), ["Pending:Wait", "Terminating:Wait"])

    def test_terminate_errors(self):
        self.in_service(1, [self.launch_hook()])
        code, msg = self.error(self.asg.terminate_instance_in_auto_scaling_group,
                               InstanceId="i-0123456789abcdef0", ShouldDecrementDesiredCapacity=False)
        self.assertEqual(code, "ValidationError")
        self.asg.update_auto_scaling_group(AutoScalingGroupName=self.name, MinSize=1)
        iid = next(iter(self.states()))
        code, msg = self.error(self.asg.terminate_instance_in_auto_scaling_group,
                               InstanceId=iid, ShouldDecrementDesiredCapacity=True)
        self.assertEqual(code, "ValidationError")
        self.assertIn("min size", msg)
        code, _ = self.error(self.asg.set_desired_capacity, AutoScalingGroupName=self.name, DesiredCapacity=11)
        self.assertEqual(code, "ValidationError")

    def test_ec2_terminate_of_waiting_instance_cancels_and_replaces(self):
        self.group(desired=1, hooks=[self.launch_hook()])
        (a,) = self.waiting()
        self.ec2.terminate_instances(InstanceIds=[a["instance_id"]])
        self.assertEqual(lifecycle(SIM, instance_id=a["instance_id"])[0]["state"], "cancelled")
        st = self.states()
        self.assertNotIn(a["instance_id"], st)
        self.assertEqual(list(st.values()), ["Pending:Wait"])

    def test_delete_group_drops_waits_and_terminates(self):
        self.group(desired=2, hooks=[self.launch_hook(), self.terminate_hook()])
        acts = self.waiting(2)
        self.asg.delete_auto_scaling_group(AutoScalingGroupName=self.name, ForceDelete=True)
        for a in acts:
            self.assertEqual(self.ec2_state(a["instance_id"]), "terminated")
        self.assertEqual(lifecycle(SIM, group=self.name, state="waiting"), [])
        self.assertEqual(self.asg.describe_lifecycle_hooks(AutoScalingGroupName=self.name)["LifecycleHooks"], [])


class Spread(AsgCase):
    def test_round_robin_over_subnets_in_two_azs(self):
        ec2 = self.ec2
        extra = {az: ec2.create_subnet(VpcId=self.net.vpc_id, CidrBlock=f"10.{self.n}.{100 + i}.0/24",
                                       AvailabilityZone=az)["Subnet"]["SubnetId"]
                 for i, az in enumerate(self.net.azs)}
        subnets = [self.net.node_subnets[self.net.azs[0]], extra[self.net.azs[0]],
                   self.net.node_subnets[self.net.azs[1]], extra[self.net.azs[1]]]
        self.group(desired=4, subnets=subnets)
        inst = asg_instances(SIM, self.name)
        self.assertEqual(sorted(i["subnet_id"] for i in inst), sorted(subnets))
        by_az = {}
        for i in inst:
            by_az[i["az"]] = by_az.get(i["az"], 0) + 1
        self.assertEqual(by_az, {self.net.azs[0]: 2, self.net.azs[1]: 2})
        # scale out by 2 more: one per AZ again; scale in to 2: one left per AZ
        self.asg.set_desired_capacity(AutoScalingGroupName=self.name, DesiredCapacity=6)
        azs = sorted(i["az"] for i in asg_instances(SIM, self.name))
        self.assertEqual(azs.count(self.net.azs[0]), 3)
        self.asg.set_desired_capacity(AutoScalingGroupName=self.name, DesiredCapacity=2)
        azs = sorted(i["az"] for i in asg_instances(SIM, self.name))
        self.assertEqual(azs, sorted(self.net.azs))
        # EC2 agrees on placement and subnet
        for i in asg_instances(SIM, self.name):
            r = ec2.describe_instances(InstanceIds=[i["id"]])["Reservations"][0]["Instances"][0]
            self.assertEqual(r["Placement"]["AvailabilityZone"], i["az"])
            self.assertIn(r["SubnetId"], subnets)


if __name__ == "__main__":
    unittest.main()
