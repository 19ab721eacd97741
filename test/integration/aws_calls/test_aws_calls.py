"""Integration tests for the typed AWS calls (aws/awscalls.h).

Every typed call runs through the real client core (signing, transport,
retries) in the `awscall` driver ($AWSCALL) against `python3 -m moto.server` on
a free loopback port. moto verifies signatures after the first set-up calls
(INITIAL_NO_AUTH_ACTION_COUNT): an IAM user with an allow-all policy and an
access key are created first, and everything afterwards (boto3 and the driver)
is signed with that key. Each result is checked against what boto3 reads back.
moto 5.2.1 gaps (docs/aws-facts.md, "The local AWS simulator and moto") are noted where a check is weaker.
"""
import datetime
import json
import os
import socket
import subprocess
import sys
import time
import unittest
import urllib.request

import boto3
import botocore.exceptions

REGION = "us-east-1"
AWSCALL = os.environ.get("AWSCALL", "")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class AwsCallsTest(unittest.TestCase):
    server = None

    @classmethod
    def setUpClass(cls):
        if not AWSCALL or not os.access(AWSCALL, os.X_OK):
            raise unittest.SkipTest("AWSCALL does not name the awscall driver")
        port = free_port()
        cls.url = "http://127.0.0.1:%d" % port
        env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="3")
        cls.server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        try:
            cls._wait_ready()
            cls._build()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.server:
            cls.server.terminate()
            try:
                cls.server.wait(10)
            except subprocess.TimeoutExpired:
                cls.server.kill()
                cls.server.wait(10)
            cls.server = None

    @classmethod
    def _wait_ready(cls):
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(cls.url + "/moto-api/", timeout=1).read()
                return
            except Exception:
                if time.monotonic() > deadline or cls.server.poll() is not None:
                    raise RuntimeError("moto_server did not start")
                time.sleep(0.1)

    @classmethod
    def client(cls, svc, key=None, secret=None):
        return boto3.client(svc, region_name=REGION, endpoint_url=cls.url,
                            aws_access_key_id=key or cls.key,
                            aws_secret_access_key=secret or cls.secret)

    @classmethod
    def _build(cls):
        # The three unauthenticated set-up calls: user, policy, key.
        iam = boto3.client("iam", region_name=REGION, endpoint_url=cls.url,
                           aws_access_key_id="AKIDSETUP", aws_secret_access_key="setup")
        cls.user_arn = iam.create_user(UserName="hookd")["User"]["Arn"]
        iam.put_user_policy(UserName="hookd", PolicyName="all", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        k = iam.create_access_key(UserName="hookd")["AccessKey"]
        cls.key, cls.secret = k["AccessKeyId"], k["SecretAccessKey"]

        ec2 = cls.ec2 = cls.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]
        cls.vpc = vpc["VpcId"]
        v6 = ec2.describe_vpcs(VpcIds=[cls.vpc])["Vpcs"][0]["Ipv6CidrBlockAssociationSet"][0]
        cls.subnet_v6_cidr = v6["Ipv6CidrBlock"].replace("/56", "/64")
        cls.subnet = ec2.create_subnet(
            VpcId=cls.vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a",
            Ipv6CidrBlock=cls.subnet_v6_cidr,
            TagSpecifications=[{"ResourceType": "subnet", "Tags": [
                {"Key": "multus.io/network", "Value": "sig"}]}])["Subnet"]["SubnetId"]
        cls.subnet_b = ec2.create_subnet(
            VpcId=cls.vpc, CidrBlock="10.0.2.0/24", AvailabilityZone="us-east-1b",
            TagSpecifications=[{"ResourceType": "subnet", "Tags": [
                {"Key": "multus.io/network", "Value": "oam"}]}])["Subnet"]["SubnetId"]
        cls.sg = ec2.create_security_group(GroupName="multus", Description="multus",
                                           VpcId=cls.vpc)["GroupId"]
        ami = ec2.describe_images()["Images"][0]["ImageId"]
        cls.instance = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1,
                                         InstanceType="m5.large",
                                         SubnetId=cls.subnet)["Instances"][0]["InstanceId"]
        ec2.create_launch_template(LaunchTemplateName="workers-lt", LaunchTemplateData={
            "ImageId": ami, "InstanceType": "m5.large"})
        asg = cls.asg = cls.client("autoscaling")
        asg.create_auto_scaling_group(
            AutoScalingGroupName="workers", MinSize=1, MaxSize=2, DesiredCapacity=1,
            VPCZoneIdentifier=cls.subnet,
            LaunchTemplate={"LaunchTemplateName": "workers-lt", "Version": "$Latest"})
        asg.put_lifecycle_hook(LifecycleHookName="multus", AutoScalingGroupName="workers",
                               LifecycleTransition="autoscaling:EC2_INSTANCE_LAUNCHING",
                               HeartbeatTimeout=300, DefaultResult="ABANDON")
        cls.sqs = cls.client("sqs")
        cls.queue = cls.sqs.create_queue(QueueName="hooks")["QueueUrl"]

    # ---- helpers ----------------------------------------------------------

    def call(self, name, args=None, key=None, secret=None):
        env = dict(os.environ, AWS_REGION=REGION, AWS_ENDPOINT_URL=self.url,
                   AWS_ACCESS_KEY_ID=key or self.key,
                   AWS_SECRET_ACCESS_KEY=secret or self.secret)
        for var in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ROLE_ARN",
                    "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
            env.pop(var, None)
        argv = [AWSCALL, name] + ([json.dumps(args)] if args is not None else [])
        p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, "%s: exit %d: %s %s" % (name, p.returncode,
                                                                 p.stdout, p.stderr))
        out = json.loads(p.stdout)
        self.assertNotIn(self.secret, p.stdout + p.stderr, "secret leaked into output")
        return out

    def ok(self, name, args=None):
        out = self.call(name, args)
        self.assertEqual(out["err"], "OK", out)
        self.assertIsNotNone(out["result"])
        return out["result"]

    def new_eni(self, **kw):
        return self.ec2.create_network_interface(SubnetId=self.subnet, **kw)[
            "NetworkInterface"]["NetworkInterfaceId"]

    # ---- STS --------------------------------------------------------------

    def test_get_caller_identity(self):
        r = self.ok("get-caller-identity")
        me = self.client("sts").get_caller_identity()
        self.assertEqual(r["account"], me["Account"])
        self.assertEqual(r["arn"], me["Arn"])
        self.assertEqual(r["user_id"], me["UserId"])

    def test_assume_role_with_web_identity(self):
        # The typed call goes through the core, so it is signed (moto demands a
        # signature once auth is on; real STS takes this action unsigned, which
        # the credential chain in creds.c relies on: integration.aws_core).
        iam = self.client("iam")
        role_arn = iam.create_role(RoleName="hookd-irsa-typed", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow",
                "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/x"},
                "Action": "sts:AssumeRoleWithWebIdentity"}]}))["Role"]["Arn"]
        before = time.time()
        r = self.ok("assume-role-with-web-identity", {
            "role_arn": role_arn, "session_name": "hookd-typed", "duration_s": 900,
            "web_identity_token": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0eXBlZCJ9.c2ln"})
        account = self.client("sts").get_caller_identity()["Account"]
        self.assertEqual(r["assumed_role_arn"],
                         "arn:aws:sts::%s:assumed-role/hookd-irsa-typed/hookd-typed" % account)
        self.assertTrue(r["access_key_id"].startswith("ASIA"), r)
        self.assertNotEqual(r["access_key_id"], self.key)
        self.assertGreater(r["secret_len"], 0)
        self.assertGreater(r["session_token_len"], 0)
        # DurationSeconds was sent: moto sets Expiration = now + 900 s.
        exp = datetime.datetime.fromisoformat(r["expiration"].replace("Z", "+00:00"))
        self.assertAlmostEqual(exp.timestamp() - before, 900, delta=120)
        # A request without a token is refused before anything is sent.
        p = subprocess.run([AWSCALL, "assume-role-with-web-identity",
                            json.dumps({"role_arn": role_arn, "session_name": "x"})],
                           capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, AWS_REGION=REGION, AWS_ENDPOINT_URL=self.url))
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)

    def test_wrong_secret_is_an_auth_error(self):
        out = self.call("describe-subnets", {}, secret="not-the-secret")
        self.assertEqual(out["err"], "AUTH", out)
        self.assertEqual(out["aws_code"], "AuthFailure")
        self.assertIn("AuthFailure", out["errtext"])
        self.assertIsNone(out["result"])

    # ---- EC2 describes ----------------------------------------------------

    def test_describe_subnets_by_tag(self):
        r = self.ok("describe-subnets", {"filters": {"tag:multus.io/network": ["sig"]}})
        self.assertEqual([s["subnet_id"] for s in r["subnets"]], [self.subnet])
        s = r["subnets"][0]
        want = self.ec2.describe_subnets(SubnetIds=[self.subnet])["Subnets"][0]
        self.assertEqual(s["cidr"], want["CidrBlock"])
        self.assertEqual(s["az"], want["AvailabilityZone"])
        self.assertEqual(s["az_id"], want["AvailabilityZoneId"])
        self.assertEqual(s["vpc_id"], self.vpc)
        self.assertEqual(s["available_ips"], want["AvailableIpAddressCount"])
        self.assertEqual(s["tags"], {"multus.io/network": "sig"})
        self.assertEqual([c["cidr"] for c in s["ipv6_cidrs"]],
                         [a["Ipv6CidrBlock"] for a in want["Ipv6CidrBlockAssociationSet"]])
        r = self.ok("describe-subnets", {"subnet_ids": [self.subnet_b]})
        self.assertEqual(r["subnets"][0]["az"], "us-east-1b")

    def test_describe_instances(self):
        r = self.ok("describe-instances", {"instance_ids": [self.instance]})
        self.assertEqual(len(r["instances"]), 1)
        got = r["instances"][0]
        want = self.ec2.describe_instances(InstanceIds=[self.instance])[
            "Reservations"][0]["Instances"][0]
        self.assertEqual(got["instance_id"], self.instance)
        self.assertEqual(got["az"], want["Placement"]["AvailabilityZone"])
        self.assertEqual(got["instance_type"], "m5.large")
        self.assertEqual(got["state"], want["State"]["Name"])
        self.assertEqual(got["subnet_id"], self.subnet)
        self.assertEqual(
            sorted((e["eni_id"], e["device_index"], e["attachment_id"]) for e in got["enis"]),
            sorted((n["NetworkInterfaceId"], n["Attachment"]["DeviceIndex"],
                    n["Attachment"]["AttachmentId"]) for n in want["NetworkInterfaces"]))

    def test_describe_instances_not_found(self):
        out = self.call("describe-instances", {"instance_ids": ["i-0123456789abcdef0"]})
        self.assertEqual(out["err"], "NOT_FOUND", out)
        self.assertEqual(out["aws_code"], "InvalidInstanceID.NotFound")
        self.assertTrue(out["request_id"])

    def test_describe_instance_types_cached(self):
        r = self.call("describe-instance-types", {"instance_types": ["m5.large"], "repeat": 2})
        first, second = r["runs"]
        self.assertEqual(first["err"], "OK", first)
        self.assertEqual(second["err"], "OK", second)
        self.assertFalse(first["result"]["from_cache"])
        self.assertGreaterEqual(first["attempts"], 1)
        self.assertTrue(second["result"]["from_cache"])
        self.assertEqual(second["attempts"], 0)
        want = self.ec2.describe_instance_types(InstanceTypes=["m5.large"])[
            "InstanceTypes"][0]["NetworkInfo"]
        for run in (first, second):
            t = run["result"]["types"][0]
            self.assertEqual(t["instance_type"], "m5.large")
            self.assertEqual(t["max_enis"], want["MaximumNetworkInterfaces"])
            self.assertEqual(t["ipv4_per_eni"], want["Ipv4AddressesPerInterface"])
            self.assertEqual(t["ipv6_supported"], want["Ipv6Supported"])
            self.assertEqual([(c["index"], c["max_enis"]) for c in t["cards"]],
                             [(c["NetworkCardIndex"], c["MaximumNetworkInterfaces"])
                              for c in want["NetworkCards"]])

    def test_describe_network_interfaces_filters(self):
        tagged = self.new_eni(TagSpecifications=[{"ResourceType": "network-interface",
                                                  "Tags": [{"Key": "dni-test", "Value": "a"}]}])
        r = self.ok("describe-network-interfaces",
                    {"filters": {"subnet-id": [self.subnet], "tag:dni-test": ["a"]}})
        self.assertEqual([e["eni_id"] for e in r["enis"]], [tagged])
        r = self.ok("describe-network-interfaces", {"filters": {"subnet-id": [self.subnet]}})
        want = self.ec2.describe_network_interfaces(
            Filters=[{"Name": "subnet-id", "Values": [self.subnet]}])["NetworkInterfaces"]
        self.assertEqual(
            sorted((e["eni_id"], tuple(sorted(p["address"] for p in e["private_ips"])))
                   for e in r["enis"]),
            sorted((n["NetworkInterfaceId"],
                    tuple(sorted(p["PrivateIpAddress"] for p in n["PrivateIpAddresses"])))
                   for n in want))
        r = self.ok("describe-network-interfaces",
                    {"filters": {"attachment.instance-id": [self.instance]}})
        self.assertTrue(all(e["attachment"]["instance_id"] == self.instance for e in r["enis"]))
        self.assertIn(0, [e["attachment"]["device_index"] for e in r["enis"]])
        r = self.ok("describe-network-interfaces", {"eni_ids": [tagged]})
        self.assertEqual(r["enis"][0]["tags"], {"dni-test": "a"})
        self.assertIsNone(r["enis"][0]["attachment"])

    # ---- EC2 ENI life cycle ----------------------------------------------

    def test_create_network_interface(self):
        tags = {"node.k8s.amazonaws.com/no_manage": "true", "multus-hookd/network": "sig",
                "multus-hookd/device-index": "1"}
        r = self.ok("create-network-interface", {
            "subnet_id": self.subnet, "security_group_ids": [self.sg],
            "private_ip": "10.0.1.40", "secondary_ip_count": 1, "tags": tags,
            "description": "multus-sig-eth1", "client_token": "i-test-sig-1"})
        eni = r["eni"]
        want = self.ec2.describe_network_interfaces(
            NetworkInterfaceIds=[eni["eni_id"]])["NetworkInterfaces"][0]
        self.assertEqual({t["Key"]: t["Value"] for t in want["TagSet"]}, tags)
        self.assertEqual(eni["tags"], tags)
        self.assertEqual(eni["private_ip"], "10.0.1.40")
        self.assertEqual(want["PrivateIpAddress"], "10.0.1.40")
        self.assertEqual(eni["description"], want["Description"])
        self.assertEqual(eni["security_group_ids"], [g["GroupId"] for g in want["Groups"]])
        self.assertEqual(sorted(p["address"] for p in eni["private_ips"]),
                         sorted(p["PrivateIpAddress"] for p in want["PrivateIpAddresses"]))
        self.assertEqual(len(eni["private_ips"]), 2)
        self.assertEqual([p["primary"] for p in eni["private_ips"]].count(True), 1)
        self.assertEqual(eni["subnet_id"], self.subnet)
        self.assertEqual(eni["status"], "available")

    def test_attach_modify_detach_delete(self):
        eni = self.new_eni(Groups=[self.sg])
        r = self.ok("attach-network-interface",
                    {"eni_id": eni, "instance_id": self.instance, "device_index": 2,
                     "network_card_index": 0})
        att = self.ec2.describe_network_interfaces(
            NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]["Attachment"]
        self.assertEqual(r["attachment_id"], att["AttachmentId"])
        self.assertEqual(att["DeviceIndex"], 2)
        self.assertEqual(att["InstanceId"], self.instance)
        self.assertEqual(r["network_card_index"], 0)
        # moto ignores Attachment.DeleteOnTermination; the call must still succeed.
        self.assertTrue(self.ok("modify-delete-on-termination", {
            "eni_id": eni, "attachment_id": r["attachment_id"], "enabled": True})["ok"])
        self.assertTrue(self.ok("modify-source-dest-check",
                                {"eni_id": eni, "enabled": False})["ok"])
        self.assertFalse(self.ec2.describe_network_interfaces(
            NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]["SourceDestCheck"])
        r2 = self.ok("describe-instances", {"instance_ids": [self.instance]})
        self.assertIn((eni, 2), [(e["eni_id"], e["device_index"])
                                 for e in r2["instances"][0]["enis"]])
        self.assertTrue(self.ok("detach-network-interface",
                                {"attachment_id": r["attachment_id"], "force": True})["ok"])
        self.assertEqual(self.ec2.describe_network_interfaces(
            NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]["Status"], "available")
        self.assertTrue(self.ok("delete-network-interface", {"eni_id": eni})["ok"])
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.ec2.describe_network_interfaces(NetworkInterfaceIds=[eni])
        self.assertEqual(cm.exception.response["Error"]["Code"],
                         "InvalidNetworkInterfaceID.NotFound")

    def test_delete_missing_eni_maps_not_found(self):
        out = self.call("delete-network-interface", {"eni_id": "eni-0123456789abcdef0"})
        self.assertEqual(out["err"], "NOT_FOUND", out)
        self.assertEqual(out["aws_code"], "InvalidNetworkInterfaceID.NotFound")
        self.assertIsNone(out["result"])

    def test_assign_ipv6_addresses(self):
        eni = self.new_eni()
        r = self.ok("assign-ipv6-addresses", {"eni_id": eni, "count": 2})
        want = self.ec2.describe_network_interfaces(
            NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]["Ipv6Addresses"]
        self.assertEqual(len(r["addresses"]), 2)
        self.assertEqual(sorted(r["addresses"]), sorted(a["Ipv6Address"] for a in want))
        r = self.ok("describe-network-interfaces", {"eni_ids": [eni]})
        self.assertEqual(sorted(r["enis"][0]["ipv6_addresses"]),
                         sorted(a["Ipv6Address"] for a in want))

    def test_create_tags(self):
        eni = self.new_eni()
        self.assertTrue(self.ok("create-tags", {"resource_ids": [eni],
                                                "tags": {"a": "1", "b": ""}})["ok"])
        tags = self.ec2.describe_network_interfaces(
            NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]["TagSet"]
        self.assertEqual({t["Key"]: t["Value"] for t in tags}, {"a": "1", "b": ""})

    # moto re-encodes the parsed form the way botocore does (a space as '+')
    # before checking the signature: query.c must send exactly that form.
    def test_values_with_spaces(self):
        eni = self.new_eni()
        out = self.call("create-tags", {"resource_ids": [eni], "tags": {"Name": "multus eth1"}})
        self.assertEqual(out["err"], "OK", out)
        tags = self.ec2.describe_network_interfaces(
            NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]["TagSet"]
        self.assertEqual({t["Key"]: t["Value"] for t in tags}, {"Name": "multus eth1"})

    def test_subnet_cidr_reservations(self):
        r = self.ok("create-subnet-cidr-reservation", {
            "subnet_id": self.subnet, "cidr": "10.0.1.192/26", "type": "explicit",
            "description": "pods"})
        rid = r["reservation_id"]
        self.assertEqual(r["cidr"], "10.0.1.192/26")
        self.assertEqual(r["type"], "explicit")
        want = self.ec2.get_subnet_cidr_reservations(SubnetId=self.subnet)
        self.assertIn(rid, [x["SubnetCidrReservationId"]
                            for x in want["SubnetIpv4CidrReservations"]])
        got = self.ok("get-subnet-cidr-reservations", {"subnet_id": self.subnet})
        self.assertEqual(
            sorted((x["reservation_id"], x["cidr"]) for x in got["reservations"]),
            sorted((x["SubnetCidrReservationId"], x["Cidr"])
                   for x in want["SubnetIpv4CidrReservations"] +
                   want["SubnetIpv6CidrReservations"]))
        d = self.ok("delete-subnet-cidr-reservation", {"reservation_id": rid})
        self.assertEqual(d["reservation_id"], rid)
        left = self.ec2.get_subnet_cidr_reservations(SubnetId=self.subnet)
        self.assertNotIn(rid, [x["SubnetCidrReservationId"]
                               for x in left["SubnetIpv4CidrReservations"]])

    # ---- Auto Scaling -----------------------------------------------------

    def test_describe_auto_scaling_groups(self):
        r = self.ok("describe-auto-scaling-groups", {"group_names": ["workers"]})
        self.assertEqual(len(r["groups"]), 1)
        g = r["groups"][0]
        want = self.asg.describe_auto_scaling_groups(
            AutoScalingGroupNames=["workers"])["AutoScalingGroups"][0]
        self.assertEqual(g["subnet_ids"], want["VPCZoneIdentifier"].split(","))
        self.assertEqual(g["launch_template"]["name"], "workers-lt")
        self.assertEqual(g["desired_capacity"], 1)
        self.assertEqual(sorted((i["instance_id"], i["az"], i["lifecycle_state"])
                                for i in g["instances"]),
                         sorted((i["InstanceId"], i["AvailabilityZone"], i["LifecycleState"])
                                for i in want["Instances"]))
        r = self.ok("describe-auto-scaling-groups", {"group_names": ["absent"]})
        self.assertEqual(r["groups"], [])

    def test_describe_lifecycle_hooks(self):
        r = self.ok("describe-lifecycle-hooks", {"group_name": "workers"})
        want = self.asg.describe_lifecycle_hooks(AutoScalingGroupName="workers")[
            "LifecycleHooks"]
        self.assertEqual([h["hook_name"] for h in r["hooks"]],
                         [h["LifecycleHookName"] for h in want])
        h = r["hooks"][0]
        self.assertEqual(h["heartbeat_timeout_s"], 300)
        self.assertEqual(h["default_result"], "ABANDON")
        self.assertEqual(h["transition"], "autoscaling:EC2_INSTANCE_LAUNCHING")
        self.assertEqual(h["global_timeout_s"], want[0]["GlobalTimeout"])

    def test_lifecycle_actions_unimplemented_in_moto_are_transient(self):
        # moto 5.2.1 answers these with a 500 HTML page: a transient error
        # without an AWS code, delivered cleanly (the unit tests cover success).
        for name in ("complete-lifecycle-action", "record-lifecycle-action-heartbeat"):
            out = self.call(name, {"hook_name": "multus", "group_name": "workers",
                                   "instance_id": self.instance, "result": "CONTINUE"})
            self.assertEqual(out["err"], "TRANSIENT", out)
            self.assertEqual(out["http_status"], 500)
            self.assertIsNone(out["aws_code"])
            self.assertIsNone(out["result"])

    # ---- SQS --------------------------------------------------------------

    def test_sqs_receive_change_visibility_delete(self):
        body = json.dumps({"Event": "autoscaling:TEST_NOTIFICATION", "n": "\u00e9"})
        self.sqs.send_message(QueueUrl=self.queue, MessageBody=body)
        r = self.ok("sqs-receive-message", {"queue_url": self.queue, "max_messages": 10,
                                            "wait_time_s": 1, "visibility_timeout_s": 60,
                                            "attribute_names": ["All"]})
        self.assertEqual(len(r["messages"]), 1)
        m = r["messages"][0]
        self.assertEqual(m["body"], body)
        self.assertEqual(m["attributes"]["ApproximateReceiveCount"], "1")
        # Back to visible at once: boto3 sees it again.
        self.assertTrue(self.ok("sqs-change-message-visibility", {
            "queue_url": self.queue, "receipt_handle": m["receipt_handle"],
            "visibility_timeout_s": 0})["ok"])
        again = self.sqs.receive_message(QueueUrl=self.queue, WaitTimeSeconds=1,
                                         VisibilityTimeout=60)["Messages"]
        self.assertEqual(again[0]["MessageId"], m["message_id"])
        self.assertTrue(self.ok("sqs-delete-message", {
            "queue_url": self.queue, "receipt_handle": again[0]["ReceiptHandle"]})["ok"])
        attrs = self.sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["All"])[
            "Attributes"]
        self.assertEqual(attrs["ApproximateNumberOfMessages"], "0")
        self.assertEqual(attrs["ApproximateNumberOfMessagesNotVisible"], "0")
        r = self.ok("sqs-receive-message", {"queue_url": self.queue, "wait_time_s": 1})
        self.assertEqual(r["messages"], [])


if __name__ == "__main__":
    unittest.main()
