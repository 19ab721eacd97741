"""Static checks of cfn/*.yaml: cfn-lint clean, the inline Lambda equals its
file, and the daemon's IAM policy grants exactly the AWS actions the daemon's
client (aws/) makes, with the scoping the README promises."""

import glob
import json
import os
import re
import shutil
import subprocess
import unittest

from cfn_common import ROOT, TEMPLATES, condition_values, load, parameter_defaults, resolve


def condition_values_lists(tpl, params):
    """condition_values with list parameters compared as CloudFormation joins them."""
    flat = {k: (",".join(v) if isinstance(v, list) else v) for k, v in params.items()}
    return condition_values(tpl, flat)

import sync_inline

SERVICE = "multus-hookd-service.yaml"
RESERVATIONS = "subnet-cidr-reservations.yaml"
RESERVATIONS_LAMBDA = "subnet-cidr-reservations-lambda.yaml"

# Actions of aws/ that the daemon's role deliberately does not get, and why.
NOT_FOR_THE_DAEMON = {
    # Operator-side (the plan tooling, this repo's custom resource): the daemon
    # only reads reservations. Granted to cfn/subnet-cidr-reservations-lambda.yaml's provider.
    "ec2:CreateSubnetCidrReservation",
    "ec2:DeleteSubnetCidrReservation",
    # No permission exists / needed: any principal may call it.
    "sts:GetCallerIdentity",
    # Authorized by the role's trust policy (IRSA), not by its permissions.
    "sts:AssumeRoleWithWebIdentity",
}
SERVICE_PREFIX = {"AWC_SVC_EC2": "ec2", "AWC_SVC_AUTOSCALING": "autoscaling",
                  "AWC_SVC_STS": "sts", "AWC_SVC_SQS": "sqs"}


def client_actions():
    """Every AWS action the C client can make, as IAM action names, read from the
    typed calls' table aws/calls_table.h (X(spec, callback, SERVICE, "Action", ...))
    and from aws/*.c (.svc + .action specs, AmazonSQS.X targets)."""
    acts = set()
    with open(os.path.join(ROOT, "aws", "calls_table.h"), encoding="utf-8") as f:
        table = f.read().replace("\\\n", " ")  # the rows' line continuations
    for svc, act in re.findall(r"X\(\w+,\s*\w+,\s*(EC2|AUTOSCALING|STS|SQS),\s*\"(\w+)\"", table):
        if svc != "SQS":  # SQS names its action per call (below)
            acts.add(f"{SERVICE_PREFIX['AWC_SVC_' + svc]}:{act}")
    for path in glob.glob(os.path.join(ROOT, "aws", "*.c")):
        with open(path, encoding="utf-8") as f:
            src = f.read()
        for svc, act in re.findall(r"\.svc = (AWC_SVC_\w+),\s*\.action = \"(\w+)\"", src):
            if svc != "AWC_SVC_SQS":  # SQS names its action per call (below)
                acts.add(f"{SERVICE_PREFIX[svc]}:{act}")
        for act in re.findall(r"RETURN_SPEC\(\w+, \"(\w+)\"", src):
            acts.add(f"ec2:{act}")
        for act in re.findall(r"\"AmazonSQS\.(\w+)\"", src):
            acts.add(f"sqs:{act}")
    return acts


def role_statements(mode):
    """The daemon role's statements, resolved for DeliveryMode `mode`."""
    tpl = load(SERVICE)
    params = parameter_defaults(tpl)
    params.update({"DeliveryMode": mode, "NodeGroupAsgNames": ["multus-workers"],
                   "AsgNamePattern": "multus-*", "VpcId": "vpc-0123456789abcdef0"})
    conds = condition_values(tpl, params)
    role = resolve(tpl["Resources"]["DaemonRole"], params, conds)
    stmts = []
    for pol in role["Properties"]["Policies"]:
        stmts += pol["PolicyDocument"]["Statement"]
    return stmts


def as_list(x):
    return x if isinstance(x, list) else [x]


class TestLint(unittest.TestCase):
    def test_cfn_lint_clean(self):
        """cfn-lint reports nothing (every ignored check is in the template's Metadata
        with its reason)."""
        self.assertEqual(len(TEMPLATES), 4, TEMPLATES)
        exe = shutil.which("cfn-lint")
        self.assertIsNotNone(exe, "cfn-lint is not installed")
        r = subprocess.run([exe, *TEMPLATES],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual((r.returncode, r.stdout.strip()), (0, ""), r.stdout + r.stderr)

    def test_ignored_checks_are_only_the_justified_ones(self):
        seen = {}
        for path in TEMPLATES:
            tpl = load(os.path.basename(path))
            self.assertNotIn("cfn-lint", tpl.get("Metadata", {}), f"{path}: template-wide ignore")
            for name, res in tpl["Resources"].items():
                ign = res.get("Metadata", {}).get("cfn-lint", {}).get("config", {}).get("ignore_checks")
                if ign:
                    seen[f"{os.path.basename(path)}:{name}"] = list(ign)
        self.assertEqual(seen, {
            "multus-hookd-service.yaml:Connection": ["W1031"],
            "multus-hookd-service.yaml:ApiDestination": ["W1031"],
            "multus-hookd-service.yaml:DaemonApiKeyPolicy": ["W1031"],
            "multus-hookd-service.yaml:DaemonSecurityGroup": ["W1031"],
            "multus-nodegroup.yaml:Net1SubnetAz1": ["W1030"],
            "multus-nodegroup.yaml:Net1SubnetAz2": ["W1030"],
            "multus-nodegroup.yaml:Net2SubnetAz1": ["W1030"],
            "multus-nodegroup.yaml:Net2SubnetAz2": ["W1030"],
            # the native type postdates the installed cfn-lint (1.51.0)
            "subnet-cidr-reservations.yaml:Reservation1": ["E3006"],
            "subnet-cidr-reservations.yaml:Reservation2": ["E3006"],
        })

    def test_native_reservation_type_only_in_the_native_template(self):
        """The default template uses AWS::EC2::SubnetCidrReservation with exactly
        its properties; the Lambda variant and the other templates do not."""
        for path in TEMPLATES:
            name = os.path.basename(path)
            for logical, res in load(name)["Resources"].items():
                if name == RESERVATIONS:
                    self.assertEqual(res["Type"], "AWS::EC2::SubnetCidrReservation", logical)
                    self.assertEqual(set(res["Properties"]),
                                     {"SubnetId", "Cidr", "ReservationType", "Description", "Tags"})
                else:
                    self.assertNotEqual(res["Type"], "AWS::EC2::SubnetCidrReservation", f"{path}:{logical}")
        lam = load(RESERVATIONS_LAMBDA)["Resources"]
        self.assertEqual(lam["Reservation1"]["Type"], "Custom::SubnetCidrReservation")
        # both templates take the same parameters, so a stack can move between them
        self.assertEqual(set(load(RESERVATIONS)["Parameters"]) | {"LogRetentionInDays"},
                         set(load(RESERVATIONS_LAMBDA)["Parameters"]))

    def test_inline_lambda_equals_file(self):
        code = sync_inline.inline_code()
        self.assertEqual(code, sync_inline.handler_code(),
                         "run: python3 test/cfn/sync_inline.py --write")
        compile(code, "index.py", "exec")
        self.assertNotIn("import cfnresponse", code)


class TestDaemonPolicy(unittest.TestCase):
    def test_client_actions_are_documented_in_awscalls_h(self):
        with open(os.path.join(ROOT, "aws", "awscalls.h"), encoding="utf-8") as f:
            header = f.read()
        acts = client_actions()
        self.assertGreaterEqual(len(acts), 20, acts)
        for a in sorted(acts):
            name = a.split(":")[1]
            snake = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
            self.assertTrue(name in header or snake in header,
                            f"{a}: made by aws/*.c but neither {name} nor {snake} is in awscalls.h")

    def granted(self, stmts):
        out = {}
        for s in stmts:
            self.assertEqual(s["Effect"], "Allow")
            self.assertNotIn("NotAction", s)
            self.assertNotIn("NotResource", s)
            for a in as_list(s["Action"]):
                out.setdefault(a, []).append(s)
        return out

    def test_every_action_of_the_client_is_granted_and_nothing_else(self):
        for mode in ("api-destination", "sqs"):
            with self.subTest(mode=mode):
                granted = self.granted(role_statements(mode))
                want = client_actions() - NOT_FOR_THE_DAEMON
                if mode != "sqs":
                    want = {a for a in want if not a.startswith("sqs:")}
                self.assertEqual(set(granted), want)
                for a in granted:
                    self.assertNotIn("*", a, f"wildcard action {a}")

    def test_reads_unscoped_writes_scoped(self):
        granted = self.granted(role_statements("sqs"))
        for a, stmts in granted.items():
            for s in stmts:
                res = as_list(s["Resource"])
                if re.match(r"(ec2|autoscaling):(Describe|Get)", a):
                    self.assertEqual(res, ["*"], a)  # no resource-level support
                    self.assertNotIn("Condition", s)
                else:
                    self.assertNotIn("*", res, f"{a}: a write on every resource")

    def test_existing_enis_only_with_the_daemon_tag(self):
        granted = self.granted(role_statements("api-destination"))
        for a in ("ec2:AttachNetworkInterface", "ec2:DetachNetworkInterface", "ec2:DeleteNetworkInterface",
                  "ec2:ModifyNetworkInterfaceAttribute", "ec2:AssignIpv6Addresses"):
            for s in granted[a]:
                res = json.dumps(s["Resource"])
                if ":network-interface/" in res:
                    self.assertEqual(s["Condition"], {"Null": {"aws:ResourceTag/multus-hookd/instance-id": "false"}}, a)
                else:  # the instance side of attach/detach
                    self.assertIn(":instance/", res, a)
                    self.assertIn("aws:ResourceTag/aws:autoscaling:groupName", json.dumps(s["Condition"]))
        self.assertEqual({json.dumps(s["Resource"]) for s in granted["ec2:DeleteNetworkInterface"]}.__len__(), 1)
        self.assertEqual({json.dumps(s["Resource"]) for s in granted["ec2:AssignIpv6Addresses"]}.__len__(), 1)

    def test_create_eni_requires_tag_and_vpc(self):
        granted = self.granted(role_statements("api-destination"))
        conds = {json.dumps(s["Resource"]): s.get("Condition") for s in granted["ec2:CreateNetworkInterface"]}
        self.assertEqual(len(conds), 2)
        for res, cond in conds.items():
            if ":network-interface/" in res:
                self.assertEqual(cond, {"Null": {"aws:RequestTag/multus-hookd/instance-id": "false"}})
            else:
                self.assertIn(":subnet/", res)
                self.assertIn(":security-group/", res)
                self.assertIn("ec2:Vpc", json.dumps(cond))
        tags = granted["ec2:CreateTags"]
        self.assertEqual(len(tags), 1)
        self.assertEqual(tags[0]["Condition"], {"StringEquals": {"ec2:CreateAction": "CreateNetworkInterface"}})
        self.assertIn(":network-interface/", json.dumps(tags[0]["Resource"]))

    def test_lifecycle_actions_scoped_to_node_group_arns(self):
        granted = self.granted(role_statements("api-destination"))
        for a in ("autoscaling:CompleteLifecycleAction", "autoscaling:RecordLifecycleActionHeartbeat"):
            (s,) = granted[a]
            self.assertIn("autoScalingGroup:*:autoScalingGroupName/${AsgNamePattern}", json.dumps(s["Resource"]))

    def test_sqs_only_on_the_event_queue(self):
        granted = self.granted(role_statements("sqs"))
        for a in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"):
            (s,) = granted[a]
            self.assertEqual(s["Resource"], {"Fn::GetAtt": ["EventQueue", "Arn"]})

    def test_trust_per_mode(self):
        tpl = load(SERVICE)
        for mode, want in (("irsa", "sts:AssumeRoleWithWebIdentity"), ("pod-identity", "pods.eks.amazonaws.com"),
                           ("ec2", "sts:AssumeRole")):
            params = parameter_defaults(tpl)
            params.update({"TrustMode": mode, "NodeGroupAsgNames": ["g"],
                           "OidcProviderArn": "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/AB"})
            doc = resolve(tpl["Resources"]["DaemonRole"]["Properties"]["AssumeRolePolicyDocument"], params,
                          condition_values(tpl, params))
            text = json.dumps(doc)
            self.assertIn(want, text, mode)
            if mode == "irsa":  # a JSON string inside Fn::Sub: check it parses and binds sub and aud
                body = doc["Fn::Sub"][0]
                parsed = json.loads(re.sub(r"\$\{(\w+)\}", r"\1", body))
                cond = parsed["Statement"][0]["Condition"]["StringEquals"]
                self.assertEqual(sorted(cond), ["Issuer:aud", "Issuer:sub"])
                self.assertIn("system:serviceaccount:", body)
            if mode == "pod-identity":
                self.assertIn("sts:TagSession", text)


class TestEventDelivery(unittest.TestCase):
    def test_rule_pattern_and_target(self):
        rule = load(SERVICE)["Resources"]["LifecycleRule"]["Properties"]
        pat = rule["EventPattern"]
        self.assertEqual(pat["source"], ["aws.autoscaling"])
        self.assertEqual(sorted(pat["detail-type"]), ["EC2 Instance-launch Lifecycle Action",
                                                      "EC2 Instance-terminate Lifecycle Action"])
        self.assertEqual(pat["detail"]["AutoScalingGroupName"], {"Ref": "NodeGroupAsgNames"})
        # only the daemon's own hooks: other tools' hooks on the groups stay theirs
        self.assertEqual(pat["detail"]["LifecycleHookName"], {"Ref": "LifecycleHookNames"})
        svc = load(SERVICE)["Parameters"]["LifecycleHookNames"]
        ng = load("multus-nodegroup.yaml")["Parameters"]
        self.assertEqual(svc["Default"].split(","), [ng["LaunchHookName"]["Default"],
                                                     ng["TerminateHookName"]["Default"]])
        (t,) = rule["Targets"]
        self.assertIn("DeadLetterConfig", t)
        self.assertIn("MaximumRetryAttempts", t["RetryPolicy"])
        self.assertIn("MaximumEventAgeInSeconds", t["RetryPolicy"])

    def test_queue_policies_only_for_this_rule(self):
        res = load(SERVICE)["Resources"]
        for name, queue in (("DeadLetterQueuePolicy", "DeadLetterQueue"), ("EventQueuePolicy", "EventQueue")):
            (st,) = res[name]["Properties"]["PolicyDocument"]["Statement"]
            self.assertEqual(st["Action"], "sqs:SendMessage")
            self.assertEqual(st["Resource"], {"Fn::GetAtt": [queue, "Arn"]})
            self.assertEqual(st["Principal"], {"Service": {"Fn::Sub": "events.${AWS::URLSuffix}"}})
            self.assertEqual(st["Condition"], {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["LifecycleRule", "Arn"]}}})

    def test_api_key_never_in_plain_parameter_echo(self):
        p = load(SERVICE)["Parameters"]["ApiKeyValue"]
        self.assertTrue(p["NoEcho"])


class TestEc2Runtime(unittest.TestCase):
    def resolved(self, **over):
        tpl = load(SERVICE)
        params = parameter_defaults(tpl)
        params.update({"NodeGroupAsgNames": ["multus-workers"], "AsgNamePattern": "multus-*",
                       "VpcId": "vpc-0123456789abcdef0", "TrustMode": "ec2", "Runtime": "ec2",
                       "DaemonPackageS3Uri": "s3://b/k.deb", "DaemonSubnetIds": ["subnet-0123456789abcdef0"],
                       "Network1PodRanges": [""], "Network2PodRanges": [""]})
        params.update(over)
        conds = condition_values_lists(tpl, params)
        return {k: resolve(v, params, conds) for k, v in tpl["Resources"].items()
                if "Condition" not in v or conds[v["Condition"]]}, conds

    def test_sqs_mode_no_inbound(self):
        res, conds = self.resolved()
        self.assertNotIn("SecurityGroupIngress", res["DaemonSecurityGroup"]["Properties"])
        self.assertNotIn("DaemonApiKeyPolicy", res)
        self.assertEqual(parameter_defaults(load(SERVICE))["DeliveryMode"], "sqs")
        self.assertEqual(parameter_defaults(load(SERVICE))["Runtime"], "none")

    def test_api_destination_mode_intake_from_the_balancer_only(self):
        res, conds = self.resolved(DeliveryMode="api-destination", IntakeAllowedCidr="10.0.0.0/24",
                                   ApiKeySecretArn="arn:aws:secretsmanager:us-east-1:111122223333:secret:k-AbCdEf")
        (rule,) = res["DaemonSecurityGroup"]["Properties"]["SecurityGroupIngress"]
        self.assertEqual((rule["IpProtocol"], rule["FromPort"], rule["ToPort"]), ("tcp", 8080, 8080))
        self.assertEqual(rule["CidrIp"], {"Fn::Sub": "${IntakeAllowedCidr}"})
        (st,) = res["DaemonApiKeyPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        self.assertEqual(st["Action"], "secretsmanager:GetSecretValue")
        # the key is read at boot from Secrets Manager, never put in user data
        ud = json.dumps(res["DaemonLaunchTemplate"])
        self.assertIn("secretsmanager get-secret-value", ud)
        self.assertNotIn("ApiKeyValue", ud)


class TestReservationProviderPolicy(unittest.TestCase):
    def test_provider_role_least_privilege(self):
        tpl = load(RESERVATIONS_LAMBDA)
        stmts = tpl["Resources"]["ProviderRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        acts = {}
        for s in stmts:
            for a in as_list(s["Action"]):
                acts[a] = s
        self.assertEqual(set(acts), {"ec2:CreateSubnetCidrReservation", "ec2:DeleteSubnetCidrReservation",
                                     "ec2:GetSubnetCidrReservations", "ec2:CreateTags",
                                     "logs:CreateLogStream", "logs:PutLogEvents"})
        self.assertEqual(acts["ec2:CreateTags"]["Condition"],
                         {"StringEquals": {"ec2:CreateAction": "CreateSubnetCidrReservation"}})
        self.assertEqual(acts["logs:PutLogEvents"]["Resource"], {"Fn::GetAtt": ["ProviderLogGroup", "Arn"]})


if __name__ == "__main__":
    unittest.main()
