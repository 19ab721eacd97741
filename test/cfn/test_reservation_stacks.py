"""Both reservation templates deployed in the simulator's CloudFormation.

cfn/subnet-cidr-reservations.yaml uses the native AWS::EC2::SubnetCidrReservation
type, which moto's CloudFormation does not know (it skips the resource and still
reports CREATE_COMPLETE): the test creates each reservation through the EC2 API
from the template's own resolved properties, as CloudFormation would, and plays
CloudFormation's replacement order (create the new, then delete the old) for an
update.

cfn/subnet-cidr-reservations-lambda.yaml is deployed as is: moto creates the role,
the log group and the function, then waits for the custom resource's answer (it
cannot run the function without Docker). The test plays the Lambda runtime: it
runs the template's inline handler with the event CloudFormation sends, and the
handler's PUT to the response URL completes the stack in moto."""

import contextlib
import io
import os
import types
import unittest

from botocore.exceptions import ClientError

from cfn_common import CFN, condition_values, load, parameter_defaults, resolve
from simctl import start_sim

import sync_inline

NATIVE = "subnet-cidr-reservations.yaml"
LAMBDA = "subnet-cidr-reservations-lambda.yaml"


def read(name):
    with open(os.path.join(CFN, name), encoding="utf-8") as f:
        return f.read()


def params_list(d):
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in d.items()]


def resolved_resources(name, over, stack_name):
    """The template's resources of the given stack, parameters and conditions
    resolved (AWS::StackName too); resources whose condition is false left out."""
    tpl = load(name)
    params = parameter_defaults(tpl)
    params.update(over)
    params["AWS::StackName"] = stack_name
    conds = condition_values(tpl, params)
    out = {}
    for logical, res in tpl["Resources"].items():
        if "Condition" in res and not conds[res["Condition"]]:
            continue
        out[logical] = resolve(res, params, conds)
    return out


class TestReservationStacks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = start_sim()
        cls.ec2 = cls.sim.client("ec2")
        cls.cfn = cls.sim.client("cloudformation")
        vpc = cls.ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        cls.sub = [cls.ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{16 + i}.0/24",
                                         AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
                   for i in range(2)]
        cls.saved = {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID",
                                                     "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION",
                                                     "AWS_PROFILE", "AWS_SESSION_TOKEN")}
        os.environ.pop("AWS_PROFILE", None)
        os.environ.pop("AWS_SESSION_TOKEN", None)
        os.environ.update({"AWS_ENDPOINT_URL": cls.sim.base_url, "AWS_ACCESS_KEY_ID": "AKIASIMULATOR0000000",
                           "AWS_SECRET_ACCESS_KEY": "sim-secret-not-used-without-auth",
                           "AWS_DEFAULT_REGION": "us-east-1"})

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()
        for k, v in cls.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

    def reservations(self, subnet):
        r = self.ec2.get_subnet_cidr_reservations(SubnetId=subnet)
        return r["SubnetIpv4CidrReservations"] + r["SubnetIpv6CidrReservations"]

    def tearDown(self):
        for s in self.sub:
            for r in self.reservations(s):
                self.ec2.delete_subnet_cidr_reservation(SubnetCidrReservationId=r["SubnetCidrReservationId"])

    def create_stack(self, stack, template, params):
        sid = self.cfn.create_stack(StackName=stack, TemplateBody=read(template),
                                    Parameters=params_list(params), Capabilities=["CAPABILITY_IAM"])["StackId"]
        return sid

    def status(self, stack):
        return self.cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]

    # ---- native type
    def native_create(self, props):
        """What CloudFormation does for one AWS::EC2::SubnetCidrReservation."""
        a = {k: props[k] for k in ("SubnetId", "Cidr", "ReservationType")}
        if props.get("Description"):
            a["Description"] = props["Description"]
        if props.get("Tags"):
            a["TagSpecifications"] = [{"ResourceType": "subnet-cidr-reservation", "Tags": props["Tags"]}]
        return self.ec2.create_subnet_cidr_reservation(**a)["SubnetCidrReservation"]

    def test_native_stack(self):
        p = {"Reservation1SubnetId": self.sub[0], "Reservation1Cidr": "10.0.16.192/26",
             "Reservation1Description": "sig pods"}
        self.create_stack("native", NATIVE, p)
        self.assertEqual(self.status("native"), "CREATE_COMPLETE")
        res = resolved_resources(NATIVE, p, "native")
        self.assertEqual({k: v["Type"] for k, v in res.items()},
                         {"Reservation1": "AWS::EC2::SubnetCidrReservation"})  # no Reservation2
        made = self.native_create(res["Reservation1"]["Properties"])
        (r,) = self.reservations(self.sub[0])
        self.assertEqual((r["SubnetCidrReservationId"], r["Cidr"], r["ReservationType"], r["Description"]),
                         (made["SubnetCidrReservationId"], "10.0.16.192/26", "explicit", "sig pods"))
        self.assertIn({"Key": "multus-hookd/cfn-stack", "Value": "native"}, r["Tags"])
        self.assertEqual(self.reservations(self.sub[1]), [])

    def test_native_description_change_keeps_the_reservation(self):
        """Every property but Tags requires replacement and CloudFormation creates
        the replacement first: the same range overlaps, EC2 refuses it, the update
        rolls back, and the old reservation stays (what cfn/README says)."""
        p = {"Reservation1SubnetId": self.sub[0], "Reservation1Cidr": "10.0.16.192/26"}
        old = self.native_create(resolved_resources(NATIVE, p, "n2")["Reservation1"]["Properties"])
        p["Reservation1Description"] = "renamed"
        new_props = resolved_resources(NATIVE, p, "n2")["Reservation1"]["Properties"]
        with self.assertRaises(ClientError) as cm:
            self.native_create(new_props)
        err = cm.exception.response["Error"]
        self.assertEqual(err["Code"], "InvalidParameterValue")
        self.assertIn("overlap", err["Message"])
        self.assertEqual([r["SubnetCidrReservationId"] for r in self.reservations(self.sub[0])],
                         [old["SubnetCidrReservationId"]])
        # a range that does not overlap is replaced with no gap: new first, then old deleted
        p["Reservation1Cidr"] = "10.0.16.128/26"
        new = self.native_create(resolved_resources(NATIVE, p, "n2")["Reservation1"]["Properties"])
        self.assertEqual(len(self.reservations(self.sub[0])), 2)
        self.ec2.delete_subnet_cidr_reservation(SubnetCidrReservationId=old["SubnetCidrReservationId"])
        self.assertEqual([r["SubnetCidrReservationId"] for r in self.reservations(self.sub[0])],
                         [new["SubnetCidrReservationId"]])

    # ---- Lambda variant
    def handler(self):
        mod = types.ModuleType("index")
        exec(compile(sync_inline.inline_code(), "index.py", "exec"), mod.__dict__)
        return mod

    def run_custom(self, h, stack_id, logical, rtype, props, pid=None, old=None):
        """Play Lambda: the event CloudFormation sends, the handler's answer goes
        to moto's response URL for the stack."""
        props = {k: v for k, v in props.items() if k != "ServiceToken"}
        ev = {"RequestType": rtype, "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:p",
              "ResponseURL": f"{self.sim.base_url}/cloudformation_us-east-1/cfnresponse?stack={stack_id}",
              "StackId": stack_id, "RequestId": f"req-{logical}-{rtype}", "LogicalResourceId": logical,
              "ResourceType": "Custom::SubnetCidrReservation", "ResourceProperties": props}
        if pid:
            ev["PhysicalResourceId"] = pid
        if old is not None:
            ev["OldResourceProperties"] = old
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            h.handler(ev, None)
        return out.getvalue()

    def test_lambda_stack(self):
        p = {"Reservation1SubnetId": self.sub[0], "Reservation1Cidr": "10.0.16.192/26",
             "Reservation2SubnetId": self.sub[1], "Reservation2Cidr": "10.0.17.0/28",
             "Reservation2Type": "prefix"}
        sid = self.create_stack("lam", LAMBDA, p)
        self.assertEqual(self.status("lam"), "CREATE_IN_PROGRESS")  # waiting for the provider
        fn = self.sim.client("lambda").list_functions()["Functions"]
        self.assertTrue(any(f["FunctionName"].startswith("lam-Provider") for f in fn), fn)
        res = resolved_resources(LAMBDA, p, "lam")
        h = self.handler()
        for logical in ("Reservation1", "Reservation2"):
            self.assertEqual(res[logical]["Type"], "Custom::SubnetCidrReservation")
            log = self.run_custom(h, sid, logical, "Create", res[logical]["Properties"])
            self.assertIn('"Status": "SUCCESS"', log)
        self.assertEqual(self.status("lam"), "CREATE_COMPLETE")
        (r1,) = self.reservations(self.sub[0])
        (r2,) = self.reservations(self.sub[1])
        self.assertEqual((r1["Cidr"], r1["ReservationType"], r1["Description"]),
                         ("10.0.16.192/26", "explicit", "multus static pod range"))
        self.assertEqual((r2["Cidr"], r2["ReservationType"]), ("10.0.17.0/28", "prefix"))

        # a Description-only update keeps the reservation and its id
        old = res["Reservation1"]["Properties"]
        p2 = dict(p, Reservation1Description="renamed")
        new = resolved_resources(LAMBDA, p2, "lam")["Reservation1"]["Properties"]
        log = self.run_custom(h, sid, "Reservation1", "Update", new, pid=r1["SubnetCidrReservationId"], old=old)
        self.assertIn('"Status": "SUCCESS"', log)
        self.assertIn(r1["SubnetCidrReservationId"], log)
        self.assertEqual(self.reservations(self.sub[0]), [r1])  # same id, description as created

        # a new range that does not overlap: created before the old is deleted
        before = len(self.sim.requests(service="ec2"))
        p3 = dict(p2, Reservation1Cidr="10.0.16.128/26")
        new3 = resolved_resources(LAMBDA, p3, "lam")["Reservation1"]["Properties"]
        self.run_custom(h, sid, "Reservation1", "Update", new3, pid=r1["SubnetCidrReservationId"], old=new)
        (r3,) = self.reservations(self.sub[0])
        self.assertEqual(r3["Cidr"], "10.0.16.128/26")
        self.assertNotEqual(r3["SubnetCidrReservationId"], r1["SubnetCidrReservationId"])
        acts = [q["action"] for q in self.sim.requests(service="ec2")[before:]
                if q["action"] in ("CreateSubnetCidrReservation", "DeleteSubnetCidrReservation")]
        self.assertEqual(acts, ["CreateSubnetCidrReservation", "DeleteSubnetCidrReservation"])


if __name__ == "__main__":
    unittest.main()
