"""The Auto Scaling lifecycle calls against the project's AWS simulator.

moto 5.2.1 lacks CompleteLifecycleAction and RecordLifecycleActionHeartbeat
(test_aws_calls.py only sees its HTML 500). The simulator (test/aws-sim)
implements both, with instances waiting in Pending:Wait behind a launch hook.
It runs with --auth from the first request: the key comes from its control API,
and every call of the `awscall` driver ($AWSCALL) is signature-checked.
"""
import os
import subprocess
import sys
import json
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "aws-sim"))

import simctl  # noqa: E402

AWSCALL = os.environ.get("AWSCALL", "")
REGION = "us-east-1"
GROUP = "hookd-calls"
HOOK = "multus-launch"


class LifecycleCallsSimTest(unittest.TestCase):
    sim = None

    @classmethod
    def setUpClass(cls):
        if not AWSCALL or not os.access(AWSCALL, os.X_OK):
            raise unittest.SkipTest("AWSCALL does not name the awscall driver")
        cls.sim = simctl.start_sim(auth=True, region=REGION)
        try:
            cls.key, cls.secret = cls.sim.create_credentials(user="hookd")
            cls.sim.use_credentials(cls.key, cls.secret)
            net = simctl.build_network(cls.sim, networks=("sig",))
            lt = simctl.create_launch_template(cls.sim, "hookd-calls-lt", [net.node_sg])
            simctl.create_asg(cls.sim, GROUP, lt, list(net.node_subnets.values()), desired=3,
                              launch_hook=HOOK, terminate_hook=None, heartbeat_timeout=300)
            cls.actions = simctl.wait_lifecycle(cls.sim, 3, group=GROUP, state="waiting")
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.sim:
            cls.sim.stop()
            cls.sim = None

    def call(self, name, args):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_REGION=REGION, AWS_ENDPOINT_URL=self.sim.base_url,
                   AWS_ACCESS_KEY_ID=self.key, AWS_SECRET_ACCESS_KEY=self.secret,
                   AWS_EC2_METADATA_DISABLED="true", HOME="/nonexistent-hookd-test")
        p = subprocess.run([AWSCALL, name, json.dumps(args)], env=env, capture_output=True,
                           text=True, timeout=120)
        self.assertEqual(p.returncode, 0, "%s: exit %d: %s %s" % (name, p.returncode,
                                                                 p.stdout, p.stderr))
        self.assertNotIn(self.secret, p.stdout + p.stderr, "secret leaked into output")
        return json.loads(p.stdout)

    def action(self, token):
        a = [x for x in simctl.lifecycle(self.sim, group=GROUP) if x["token"] == token]
        self.assertEqual(len(a), 1)
        return a[0]

    def asg_state(self, instance_id):
        asg = self.sim.client("autoscaling")
        r = asg.describe_auto_scaling_instances(InstanceIds=[instance_id])
        return r["AutoScalingInstances"][0]["LifecycleState"]

    def test_heartbeat_then_complete_by_token(self):
        a = self.actions[0]
        self.assertEqual(self.asg_state(a["instance_id"]), "Pending:Wait")
        self.assertEqual(a["heartbeats"], [])
        out = self.call("record-lifecycle-action-heartbeat", {
            "hook_name": HOOK, "group_name": GROUP, "token": a["token"]})
        self.assertEqual(out["err"], "OK", out)
        self.assertEqual(out["attempts"], 1)
        self.assertTrue(out["result"]["request_id"])
        rec = self.action(a["token"])
        self.assertEqual(len(rec["heartbeats"]), 1, rec)
        self.assertEqual(rec["state"], "waiting")

        out = self.call("complete-lifecycle-action", {
            "hook_name": HOOK, "group_name": GROUP, "token": a["token"], "result": "CONTINUE"})
        self.assertEqual(out["err"], "OK", out)
        rec = self.action(a["token"])
        self.assertEqual(rec["state"], "completed")
        self.assertEqual(rec["result"], "CONTINUE")
        self.assertEqual(rec["completed_by"], "token")
        self.assertEqual(self.asg_state(a["instance_id"]), "InService")

        # A second completion: no active action any more, AWS's code surfaced.
        out = self.call("complete-lifecycle-action", {
            "hook_name": HOOK, "group_name": GROUP, "token": a["token"], "result": "CONTINUE"})
        self.assertEqual(out["aws_code"], "ValidationError", out)
        self.assertEqual(out["http_status"], 400)
        self.assertNotEqual(out["err"], "OK")
        self.assertEqual(out["attempts"], 1)  # permanent: not retried
        self.assertIsNone(out["result"])
        self.assertIn("ValidationError", out["errtext"])

    def test_complete_by_instance_id(self):
        a = self.actions[1]
        out = self.call("complete-lifecycle-action", {
            "hook_name": HOOK, "group_name": GROUP, "instance_id": a["instance_id"],
            "result": "CONTINUE"})
        self.assertEqual(out["err"], "OK", out)
        rec = self.action(a["token"])
        self.assertEqual(rec["state"], "completed")
        self.assertEqual(rec["result"], "CONTINUE")
        self.assertEqual(rec["completed_by"], "instance-id")
        self.assertEqual(self.asg_state(a["instance_id"]), "InService")
        # By instance id again: no waiting action for it.
        out = self.call("record-lifecycle-action-heartbeat", {
            "hook_name": HOOK, "group_name": GROUP, "instance_id": a["instance_id"]})
        self.assertEqual(out["aws_code"], "ValidationError", out)
        self.assertIsNone(out["result"])

    def test_wrong_secret_is_refused(self):
        a = self.actions[2]
        secret, self.secret = self.secret, "not-the-secret"
        try:
            out = self.call("complete-lifecycle-action", {
                "hook_name": HOOK, "group_name": GROUP, "token": a["token"],
                "result": "CONTINUE"})
        finally:
            self.secret = secret
        self.assertEqual(out["aws_code"], "SignatureDoesNotMatch", out)
        self.assertEqual(self.action(a["token"])["state"], "waiting")


if __name__ == "__main__":
    unittest.main()
