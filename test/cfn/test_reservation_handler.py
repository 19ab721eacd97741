"""cfn/lambda/subnet_cidr_reservation.py (the Custom::SubnetCidrReservation
handler, identical to the template's inline code) against the AWS simulator:
CloudFormation-shaped events, a loopback HTTP server standing in for the
pre-signed ResponseURL, assertions on the reservations EC2 (the simulator) holds."""

import contextlib
import importlib.util
import io
import json
import os
import threading
import unittest
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cfn_common import CFN
from simctl import start_sim

STACK = "arn:aws:cloudformation:us-east-1:123456789012:stack/multus-res/11111111-2222-3333-4444-555555555555"
SIGNATURE = "X-Amz-Signature=0123456789abcdefsecret"


class ResponseSink:
    """A loopback HTTP server recording the PUTs CloudFormation would receive.
    `fail_first` answers that many requests 500 first."""

    def __init__(self, fail_first=0):
        self.puts = []
        self.fail_first = fail_first
        sink = self

        class H(BaseHTTPRequestHandler):
            def do_PUT(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                sink.puts.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status = 500 if sink.fail_first > 0 else 200
                sink.fail_first -= 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cfn-response?{SIGNATURE}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def load_handler():
    spec = importlib.util.spec_from_file_location("scr_handler", os.path.join(CFN, "lambda", "subnet_cidr_reservation.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class TestReservationHandler(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = start_sim()
        mock_env = {
            "AWS_ENDPOINT_URL": cls.sim.base_url,
            "AWS_ACCESS_KEY_ID": "AKIASIMULATOR0000000",
            "AWS_SECRET_ACCESS_KEY": "sim-secret-not-used-without-auth",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
        }
        cls.saved = {k: os.environ.get(k) for k in list(mock_env) + ["AWS_PROFILE", "AWS_SESSION_TOKEN"]}
        os.environ.pop("AWS_PROFILE", None)
        os.environ.pop("AWS_SESSION_TOKEN", None)
        os.environ.update(mock_env)
        cls.h = load_handler()
        cls.ec2 = cls.sim.client("ec2")
        vpc = cls.ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        cls.subnet = cls.ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.16.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
        cls.sink = ResponseSink()

    @classmethod
    def tearDownClass(cls):
        cls.sink.close()
        cls.sim.stop()
        for k, v in cls.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

    def setUp(self):
        self.sim.clear_faults()
        for r in self.reservations():
            self.ec2.delete_subnet_cidr_reservation(SubnetCidrReservationId=r["SubnetCidrReservationId"])
        self.sink.puts.clear()
        self.sink.fail_first = 0

    # -- helpers
    def reservations(self):
        r = self.ec2.get_subnet_cidr_reservations(SubnetId=self.subnet)
        return r["SubnetIpv4CidrReservations"] + r["SubnetIpv6CidrReservations"]

    def event(self, rtype, props, pid=None, old=None, logical="PodRange"):
        ev = {"RequestType": rtype, "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:x",
              "ResponseURL": self.sink.url, "StackId": STACK, "RequestId": str(uuid.uuid4()),
              "ResourceType": "Custom::SubnetCidrReservation", "LogicalResourceId": logical,
              "ResourceProperties": dict({"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:x"}, **props)}
        if pid is not None:
            ev["PhysicalResourceId"] = pid
        if old is not None:
            ev["OldResourceProperties"] = dict({"ServiceToken": ev["ServiceToken"]}, **old)
        return ev

    def call(self, ev):
        """Run the handler; returns the response body it PUT (exactly one PUT)."""
        n = len(self.sink.puts)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            self.h.handler(ev, None)
        self.assertNotIn(SIGNATURE, out.getvalue(), "the pre-signed URL reached the log")
        self.assertEqual(len(self.sink.puts), n + 1)
        put = self.sink.puts[-1]
        self.assertEqual(put["path"], "/cfn-response?" + SIGNATURE)
        self.assertEqual(put["headers"].get("Content-Type", put["headers"].get("Content-type")), "")
        body = json.loads(put["body"])
        for k in ("StackId", "RequestId", "LogicalResourceId"):
            self.assertEqual(body[k], ev[k])
        self.assertTrue(body["Reason"])
        return body

    def props(self, cidr="10.0.16.192/26", rtype="explicit", desc="sig pods"):
        return {"SubnetId": self.subnet, "Cidr": cidr, "ReservationType": rtype, "Description": desc}

    # -- create
    def test_create(self):
        body = self.call(self.event("Create", self.props()))
        self.assertEqual(body["Status"], "SUCCESS", body["Reason"])
        (r,) = self.reservations()
        self.assertEqual(body["PhysicalResourceId"], r["SubnetCidrReservationId"])
        self.assertTrue(r["SubnetCidrReservationId"].startswith("scr-"))
        self.assertEqual((r["Cidr"], r["ReservationType"]), ("10.0.16.192/26", "explicit"))
        self.assertEqual(body["Data"], {"ReservationId": r["SubnetCidrReservationId"], "Cidr": "10.0.16.192/26"})
        tags = {t["Key"]: t["Value"] for t in r.get("Tags", [])}
        self.assertEqual(tags, {"multus-hookd/cfn-resource": STACK + "|PodRange"})

    def test_create_prefix_type(self):
        body = self.call(self.event("Create", self.props(cidr="10.0.16.64/28", rtype="prefix")))
        self.assertEqual(body["Status"], "SUCCESS", body["Reason"])
        (r,) = self.reservations()
        self.assertEqual((r["Cidr"], r["ReservationType"]), ("10.0.16.64/28", "prefix"))

    def test_create_retried_adopts_its_own(self):
        ev = self.event("Create", self.props())
        first = self.call(ev)
        again = self.call(ev)
        self.assertEqual(again["Status"], "SUCCESS", again["Reason"])
        self.assertEqual(again["PhysicalResourceId"], first["PhysicalResourceId"])
        self.assertEqual(len(self.reservations()), 1)

    def test_create_where_someone_else_reserved_fails(self):
        other = self.ec2.create_subnet_cidr_reservation(SubnetId=self.subnet, Cidr="10.0.16.192/26",
                                                        ReservationType="explicit")["SubnetCidrReservation"]
        body = self.call(self.event("Create", self.props()))
        self.assertEqual(body["Status"], "FAILED")
        self.assertIn("already reserved by " + other["SubnetCidrReservationId"], body["Reason"])
        self.assertEqual(body["PhysicalResourceId"], "PodRange-not-created")
        self.assertEqual([r["SubnetCidrReservationId"] for r in self.reservations()], [other["SubnetCidrReservationId"]])

    def test_bad_cidr_fails_with_reason(self):
        for cidr, words in (("10.0.16.193/26", "host bits"), ("not-a-cidr", "not a CIDR"), ("", "not a CIDR")):
            with self.subTest(cidr=cidr):
                before = len(self.sim.requests(action="CreateSubnetCidrReservation"))
                body = self.call(self.event("Create", self.props(cidr=cidr)))
                self.assertEqual(body["Status"], "FAILED")
                self.assertIn("Cidr", body["Reason"])
                self.assertIn(words, body["Reason"])
                self.assertEqual(body["PhysicalResourceId"], "PodRange-not-created")
                self.assertEqual(len(self.sim.requests(action="CreateSubnetCidrReservation")), before)
        self.assertEqual(self.reservations(), [])

    def test_bad_properties_fail_with_reason(self):
        for props, words in (({"ReservationType": "static"}, "ReservationType"),
                             ({"SubnetId": "sub-123"}, "SubnetId"),
                             ({"Description": "x" * 256}, "Description")):
            with self.subTest(props=props):
                body = self.call(self.event("Create", dict(self.props(), **props)))
                self.assertEqual(body["Status"], "FAILED")
                self.assertIn(words, body["Reason"])

    def test_cidr_outside_subnet_fails_with_aws_code(self):
        body = self.call(self.event("Create", self.props(cidr="10.0.99.0/26")))
        self.assertEqual(body["Status"], "FAILED")
        self.assertRegex(body["Reason"], r"^Create: \w+")
        self.assertIn("InvalidParameterValue", body["Reason"])
        self.assertEqual(self.reservations(), [])

    def test_throttled_create_is_retried(self):
        self.sim.add_fault("throttle", service="ec2", action="CreateSubnetCidrReservation", count=2)
        body = self.call(self.event("Create", self.props()))
        self.assertEqual(body["Status"], "SUCCESS", body["Reason"])
        self.assertEqual(len(self.reservations()), 1)

    def test_response_put_is_retried(self):
        self.sink.fail_first = 1
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            self.h.handler(self.event("Create", self.props()), None)
        self.assertIn("response PUT failed: HTTPError", out.getvalue())
        self.assertEqual(len(self.sink.puts), 2)
        self.assertEqual(json.loads(self.sink.puts[1]["body"])["Status"], "SUCCESS")

    # -- delete
    def test_delete_and_delete_again(self):
        pid = self.call(self.event("Create", self.props()))["PhysicalResourceId"]
        body = self.call(self.event("Delete", self.props(), pid=pid))
        self.assertEqual((body["Status"], body["PhysicalResourceId"]), ("SUCCESS", pid))
        self.assertEqual(self.reservations(), [])
        again = self.call(self.event("Delete", self.props(), pid=pid))  # already gone
        self.assertEqual((again["Status"], again["PhysicalResourceId"]), ("SUCCESS", pid), again["Reason"])

    def test_delete_after_failed_create_calls_nothing(self):
        before = len(self.sim.requests(action="DeleteSubnetCidrReservation"))
        body = self.call(self.event("Delete", self.props(cidr="bad"), pid="PodRange-not-created"))
        self.assertEqual(body["Status"], "SUCCESS")
        self.assertEqual(len(self.sim.requests(action="DeleteSubnetCidrReservation")), before)

    def test_delete_fails_on_other_errors(self):
        pid = self.call(self.event("Create", self.props()))["PhysicalResourceId"]
        self.sim.add_fault("error-before", service="ec2", action="DeleteSubnetCidrReservation",
                           status=403, code="UnauthorizedOperation")
        body = self.call(self.event("Delete", self.props(), pid=pid))
        self.assertEqual(body["Status"], "FAILED")
        self.assertIn("UnauthorizedOperation", body["Reason"])
        self.assertEqual(len(self.reservations()), 1)

    # -- update
    def test_update_changing_cidr_replaces(self):
        old = self.props()
        pid = self.call(self.event("Create", old))["PhysicalResourceId"]
        new = self.props(cidr="10.0.16.128/26")
        body = self.call(self.event("Update", new, pid=pid, old=old))
        self.assertEqual(body["Status"], "SUCCESS", body["Reason"])
        self.assertNotEqual(body["PhysicalResourceId"], pid)
        (r,) = self.reservations()
        self.assertEqual((r["SubnetCidrReservationId"], r["Cidr"]), (body["PhysicalResourceId"], "10.0.16.128/26"))
        # CloudFormation then deletes the old physical id: already gone, succeeds.
        cleanup = self.call(self.event("Delete", old, pid=pid))
        self.assertEqual(cleanup["Status"], "SUCCESS")
        self.assertEqual(len(self.reservations()), 1)

    def test_update_changing_type_on_same_cidr_replaces(self):
        old = self.props()
        pid = self.call(self.event("Create", old))["PhysicalResourceId"]
        body = self.call(self.event("Update", self.props(rtype="prefix"), pid=pid, old=old))
        self.assertEqual(body["Status"], "SUCCESS", body["Reason"])
        (r,) = self.reservations()
        self.assertEqual((r["SubnetCidrReservationId"], r["ReservationType"]), (body["PhysicalResourceId"], "prefix"))

    def test_update_without_change_keeps_it(self):
        p = self.props()
        pid = self.call(self.event("Create", p))["PhysicalResourceId"]
        before = len(self.sim.requests(service="ec2"))
        body = self.call(self.event("Update", p, pid=pid, old=p))
        self.assertEqual((body["Status"], body["PhysicalResourceId"]), ("SUCCESS", pid))
        self.assertEqual(len(self.sim.requests(service="ec2")), before)

    def test_update_description_only_keeps_it(self):
        """EC2 cannot modify a reservation: a Description-only change keeps the
        reservation and its id (the description stays as created); no EC2 write."""
        old = self.props()
        pid = self.call(self.event("Create", old))["PhysicalResourceId"]
        before = len(self.sim.requests(service="ec2"))
        body = self.call(self.event("Update", self.props(desc="renamed"), pid=pid, old=old))
        self.assertEqual((body["Status"], body["PhysicalResourceId"]), ("SUCCESS", pid))
        (r,) = self.reservations()
        self.assertEqual((r["SubnetCidrReservationId"], r["Description"]), (pid, "sig pods"))
        writes = [q["action"] for q in self.sim.requests(service="ec2")[before:]
                  if not q["action"].startswith(("Get", "Describe"))]
        self.assertEqual(writes, [])

    def test_update_to_a_disjoint_range_creates_first(self):
        """The pod range is never unprotected: the new reservation exists before
        the old one is deleted."""
        old = self.props()
        pid = self.call(self.event("Create", old))["PhysicalResourceId"]
        before = len(self.sim.requests(service="ec2"))
        body = self.call(self.event("Update", self.props(cidr="10.0.16.0/26"), pid=pid, old=old))
        self.assertEqual(body["Status"], "SUCCESS", body["Reason"])
        acts = [q["action"] for q in self.sim.requests(service="ec2")[before:]
                if q["action"] in ("CreateSubnetCidrReservation", "DeleteSubnetCidrReservation")]
        self.assertEqual(acts, ["CreateSubnetCidrReservation", "DeleteSubnetCidrReservation"])
        (r,) = self.reservations()
        self.assertEqual((r["SubnetCidrReservationId"], r["Cidr"]), (body["PhysicalResourceId"], "10.0.16.0/26"))

    def test_update_to_bad_cidr_keeps_the_old(self):
        old = self.props()
        pid = self.call(self.event("Create", old))["PhysicalResourceId"]
        body = self.call(self.event("Update", self.props(cidr="10.0.16.129/26"), pid=pid, old=old))
        self.assertEqual((body["Status"], body["PhysicalResourceId"]), ("FAILED", pid))
        self.assertEqual([r["SubnetCidrReservationId"] for r in self.reservations()], [pid])


if __name__ == "__main__":
    unittest.main()
