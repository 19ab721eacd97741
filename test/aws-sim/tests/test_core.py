"""The simulator's core: start-up, control API, request log, services, auth, shutdown."""

import json
import os
import subprocess
import sys
import tempfile
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import simctl  # noqa: E402
from simctl import SimError, error_of, start_sim  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
AWS_SIM = os.path.join(HERE, "..", "aws_sim.py")


class Control(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = start_sim(time_scale=0.5, region="eu-west-1")

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def test_health(self):
        h = self.sim.health()
        self.assertTrue(h["ok"])
        self.assertEqual(h["moto"], "5.2.1")
        self.assertEqual(h["port"], self.sim.port)
        self.assertEqual(h["region"], "eu-west-1")
        self.assertEqual(h["time_scale"], 0.5)
        self.assertIn("sim_ec2", h["plugins"])
        self.assertIn("sim_faults", h["plugins"])

    def test_every_service_answers(self):
        s = self.sim
        s.client("ec2").describe_vpcs()
        s.client("autoscaling").describe_auto_scaling_groups()
        self.assertEqual(s.client("sts").get_caller_identity()["Account"], "123456789012")
        s.client("iam").list_roles()
        s.client("sqs").list_queues()
        s.client("sns").list_topics()
        s.client("events").list_rules()
        s.client("cloudformation").list_stacks()
        seen = {r["service"] for r in s.requests()}
        self.assertTrue({"ec2", "autoscaling", "sts", "iam", "sqs", "sns", "events", "cloudformation"} <= seen)

    def test_request_log(self):
        ec2 = self.sim.client("ec2")
        seq = self.sim.last_seq()
        ec2.create_vpc(CidrBlock="10.50.0.0/16")
        self.assertEqual(error_of(ec2.describe_subnets, SubnetIds=["subnet-00000000"]),
                         ("InvalidSubnetID.NotFound", 400))
        log = self.sim.requests(since=seq)
        self.assertEqual([r["action"] for r in log], ["CreateVpc", "DescribeSubnets"])
        ok, bad = log
        self.assertEqual((ok["service"], ok["region"], ok["status"], ok["error_code"]), ("ec2", "eu-west-1", 200, None))
        self.assertEqual(ok["params"]["CidrBlock"], "10.50.0.0/16")
        self.assertGreaterEqual(ok["duration_ms"], 0)
        self.assertEqual((bad["status"], bad["error_code"]), (400, "InvalidSubnetID.NotFound"))
        self.assertEqual([r["action"] for r in self.sim.requests(action="CreateVpc", since=seq)], ["CreateVpc"])
        self.assertEqual(self.sim.requests(service="autoscaling", since=seq), [])

    def test_reset_log(self):
        self.sim.client("ec2").describe_vpcs()
        self.sim.reset_log()
        self.assertEqual(self.sim.requests(), [])

    def test_secrets_redacted_from_log(self):
        iam = self.sim.client("iam")
        iam.create_user(UserName="redact-me")
        iam.create_login_profile(UserName="redact-me", Password="Sup3r-Secret-Pw!")
        events = self.sim.client("events")
        events.create_connection(Name="c1", AuthorizationType="API_KEY", AuthParameters={
            "ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "k3y-secret-value"}})
        dump = json.dumps(self.sim.requests())
        self.assertNotIn("Sup3r-Secret-Pw!", dump)
        self.assertNotIn("k3y-secret-value", dump)
        entry = self.sim.requests(action="CreateLoginProfile")[-1]
        self.assertEqual(entry["params"]["Password"], "<redacted>")

    def test_events_and_time_scale(self):
        self.sim.set_time_scale(0.25)
        self.addCleanup(self.sim.set_time_scale, 0.5)
        self.assertEqual(self.sim.health()["time_scale"], 0.25)
        ev = self.sim.events("time-scale")
        self.assertEqual(ev[-1]["scale"], 0.25)
        self.assertEqual(self.sim.events("time-scale", since=ev[-1]["seq"]), [])

    def test_control_errors(self):
        with self.assertRaises(SimError) as cm:
            self.sim.set_time_scale(0)
        self.assertEqual(cm.exception.status, 400)
        with self.assertRaises(SimError) as cm:
            self.sim.call("GET", "/_sim/no-such-route")
        self.assertEqual(cm.exception.status, 404)
        with self.assertRaises(SimError) as cm:
            self.sim.call("DELETE", "/_sim/health")
        self.assertEqual(cm.exception.status, 405)
        rq = urllib.request.Request(self.sim.base_url + "/_sim/latency", data=b"{nope", method="POST")
        with self.assertRaises(urllib.error.HTTPError) as cm2:
            urllib.request.urlopen(rq, timeout=10)
        self.assertEqual(cm2.exception.code, 400)

    def test_reset_wipes_state(self):
        ec2 = self.sim.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.60.0.0/16")["Vpc"]["VpcId"]
        self.sim.reset()
        ids = {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]}
        self.assertNotIn(vpc, ids)


class Lifecycle(unittest.TestCase):
    def test_ready_file_and_sigterm_exit_zero(self):
        sim = start_sim()
        try:
            self.assertGreater(sim.port, 0)
            self.assertTrue(sim.health()["ok"])
        finally:
            rc = sim.stop()
        self.assertEqual(rc, 0)
        self.assertIn("serving on", sim.stderr_text())

    def test_wrong_moto_version_fails_fast(self):
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "moto"))
            with open(os.path.join(d, "moto", "__init__.py"), "w") as f:
                f.write('__version__ = "4.2.0"\n')
            env = dict(os.environ, PYTHONPATH=d)
            p = subprocess.run([sys.executable, AWS_SIM, "--port", "0"], env=env, capture_output=True, text=True,
                               timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn("moto 4.2.0", p.stderr)
        self.assertIn("5.2.1", p.stderr)

    def test_bad_arguments_rejected(self):
        p = subprocess.run([sys.executable, AWS_SIM, "--port", "0", "--time-scale", "0"], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--time-scale", p.stderr)


class MotoChecks(unittest.TestCase):
    def test_plugins_accept_installed_moto(self):
        import sim_ec2
        import sim_faults

        sim_ec2.check_moto()
        sim_faults.check_moto()

    def test_require_attr_names_the_missing_piece(self):
        from sim_core import MotoMismatch, require_attr

        class Thing:
            def method(self, a, b):
                pass

        require_attr(Thing, "method", ["a", "b"])
        with self.assertRaisesRegex(MotoMismatch, "Thing.absent"):
            require_attr(Thing, "absent")
        with self.assertRaisesRegex(MotoMismatch, "lacks parameter 'c'"):
            require_attr(Thing, "method", ["a", "c"])

    def test_missing_required_plugin_is_fatal(self):
        sys.path.insert(0, os.path.join(HERE, ".."))
        import aws_sim

        with self.assertRaises(ImportError):
            aws_sim.load_plugins(object(), ["sim_does_not_exist"])


class Auth(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = start_sim(auth=True)
        cls.key, cls.secret = cls.sim.create_credentials()

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def client(self, service, key=None, secret=None):
        return self.sim.client(service, aws_access_key_id=key or self.key, aws_secret_access_key=secret or self.secret)

    def test_right_key_accepted(self):
        self.assertTrue(self.sim.health()["auth"])
        self.assertIsNone(error_of(self.client("ec2").describe_vpcs))
        self.assertIsNone(error_of(self.client("autoscaling").describe_auto_scaling_groups))

    def test_wrong_secret_rejected(self):
        self.assertEqual(error_of(self.client("ec2", secret="wrong" * 8).describe_vpcs), ("AuthFailure", 401))
        self.assertEqual(error_of(self.client("autoscaling", secret="wrong" * 8).describe_auto_scaling_groups),
                         ("SignatureDoesNotMatch", 403))

    def test_unknown_key_rejected(self):
        code = error_of(self.client("ec2", key="AKIAUNKNOWNKEY000000", secret="x" * 40).describe_vpcs)
        self.assertEqual(code, ("AuthFailure", 401))

    def test_policy_denies(self):
        key, secret = self.sim.create_credentials(policy={
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}]})
        ec2 = self.client("ec2", key, secret)
        self.assertIsNone(error_of(ec2.describe_vpcs))
        self.assertEqual(error_of(ec2.create_vpc, CidrBlock="10.70.0.0/16"), ("UnauthorizedOperation", 403))
        asg = self.client("autoscaling", key, secret)
        self.assertEqual(error_of(asg.describe_auto_scaling_groups), ("AccessDenied", 403))

    def test_auth_can_be_switched_off_for_set_up(self):
        self.sim.set_auth(False)
        try:
            dummy = self.sim.client("ec2")  # simctl's dummy key
            self.assertIsNone(error_of(dummy.describe_vpcs))
        finally:
            self.sim.set_auth(True)
        self.assertEqual(error_of(self.sim.client("ec2").describe_vpcs), ("AuthFailure", 401))


if __name__ == "__main__":
    unittest.main()
