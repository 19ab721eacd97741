"""End to end: launches that cannot succeed are cleaned up, then ABANDONed.

One simulator, one daemon with three node groups, one ASG per failure:
  subnet full        network "tiny" is a /28 whose 11 addresses are all taken
                     (DHCP: EC2 answers InsufficientFreeAddressesInSubnet)
  attachment limit   t3.micro (2 ENIs: the primary and one more) with 2 networks
  access denied      every AttachNetworkInterface answers 403
                     UnauthorizedOperation (a simulator fault rule)
Each test launches one instance, waits for its launch action to settle, then
scales the group to 0 (an ABANDONed launch is replaced, and would fail again).
Checks: the action completed ABANDON exactly once, no ENI of the instance is
left, and every ENI the daemon created for it was deleted before the ABANDON.
"""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_harness import (  # noqa: E402
    LAUNCHING,
    TAG_INSTANCE,
    World,
    wait_for,
)

AZ = "us-east-1a"


class FailuresEndInCleanupThenAbandon(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.w = w = World(time_scale=0.1, name="failures")
        cls.addClassCleanup(w.close)
        w.build_network(("sig", "media"))
        tiny = w.add_subnet("tiny", AZ, "10.0.80.0/28")
        for _ in range(11):  # .4 - .14: every assignable address
            w.ec2.create_network_interface(SubnetId=tiny, Description="someone else's")
        sig, media = w.net_cfg("sig", 1, "first-free"), w.net_cfg("media", 2, "dhcp")
        cls.daemon = w.daemon("main", [
            w.group_cfg("full", ["e2e-full"], [sig, w.net_cfg("tiny", 2, "dhcp")]),
            w.group_cfg("limit", ["e2e-limit", "e2e-limit2"], [sig, media]),
            w.group_cfg("denied", ["e2e-denied"], [sig, media]),
        ])
        w.deliver()

    def tearDown(self):
        self.w.sim.clear_faults()

    def run_failing_launch(self, asg, instance_type="m5.large"):
        """Launch one instance into asg; wait until its launch action settled and the
        daemon is idle; return the first launch action (simulator record)."""
        w = self.w
        seq0 = w.sim.last_seq()
        w.asg(asg, desired=1, azs=[AZ], instance_type=instance_type, terminate_hook=False)
        first = w.wait_settled(asg, LAUNCHING, 1)[0]
        w.scale(asg, 0)
        wait_for(lambda: all(a["state"] in ("done", "failed") for a in self.daemon.actions()),
                 60, 0.2, "daemon idle", diag=w.diag)
        return first, seq0

    def assert_cleaned_then_abandoned(self, action, seq0):
        w = self.w
        iid, token = action["instance_id"], action["token"]
        self.assertEqual((action["state"], action["result"], action["completed_by"]),
                         ("completed", "ABANDON", "token"), action)
        done = w.completes(token)
        self.assertEqual(len(done), 1, done)
        self.assertEqual(done[0]["status"], 200)
        self.assertEqual(done[0]["params"].get("LifecycleActionResult"), "ABANDON")
        self.assertEqual(w.enis_of(iid), [], f"ENIs left for {iid}")
        # every ENI made for this instance was deleted before the ABANDON went out
        # (the ABANDON's replacement instance only exists after it, so every
        # delete before it is this instance's)
        creates = [r for r in w.requests("CreateNetworkInterface", since=seq0)
                   if r["status"] == 200 and iid in json.dumps(r["params"])]
        made = {r["params"].get("ClientToken") for r in creates}
        deleted = {r["params"].get("NetworkInterfaceId")
                   for r in w.requests("DeleteNetworkInterface", since=seq0)
                   if r["status"] == 200 and r["seq"] < done[0]["seq"]}
        self.assertGreaterEqual(len(deleted), len(made), (made, deleted))
        attached = {r["params"].get("NetworkInterfaceId")
                    for r in w.requests("AttachNetworkInterface", since=seq0)
                    if r["params"].get("InstanceId") == iid}
        self.assertLessEqual(attached, deleted)
        return creates

    def test_subnet_full(self):
        action, seq0 = self.run_failing_launch("e2e-full")
        self.assert_cleaned_then_abandoned(action, seq0)
        # nothing of ours is in the full subnet; its 11 foreign ENIs are untouched
        tiny = self.w.subnets_of("tiny")[AZ]
        left = [e for e in self.w.all_enis() if e["subnet"] == tiny]
        self.assertEqual(len(left), 11)
        self.assertEqual([e for e in left if TAG_INSTANCE in e["tags"]], [])
        self.assertEqual([r for r in self.w.requests("CreateNetworkInterface", since=seq0)
                          if r["params"].get("SubnetId") == tiny and r["status"] == 200], [])

    def test_attachment_limit(self):
        action, seq0 = self.run_failing_launch("e2e-limit", instance_type="t3.micro")
        self.assert_cleaned_then_abandoned(action, seq0)

    def test_attachment_limit_answered_by_ec2(self):
        """The second attach fails as EC2 would when the instance is full: the first
        ENI must be detached and both deleted before the ABANDON."""
        self.w.sim.add_fault("error-before", service="ec2", action="AttachNetworkInterface", skip=1,
                             status=400, code="AttachmentLimitExceeded",
                             message="Interface count 4 exceeds the limit for m5.large")
        action, seq0 = self.run_failing_launch("e2e-limit2")
        creates = self.assert_cleaned_then_abandoned(action, seq0)
        self.assertEqual(len(creates), 2)
        attached = [r for r in self.w.requests("AttachNetworkInterface", since=seq0) if r["status"] == 200]
        self.assertTrue(attached, "no attach succeeded: the detach path was not exercised")
        done = self.w.completes(action["token"], ok_only=True)[0]
        detached = [r for r in self.w.requests("DetachNetworkInterface", since=seq0) if r["status"] == 200]
        self.assertTrue(detached and all(r["seq"] < done["seq"] for r in detached), detached)

    def test_access_denied(self):
        self.w.sim.add_fault("error-before", service="ec2", action="AttachNetworkInterface",
                             status=403, code="UnauthorizedOperation",
                             message="You are not authorized to perform this operation.")
        action, seq0 = self.run_failing_launch("e2e-denied")
        creates = self.assert_cleaned_then_abandoned(action, seq0)
        self.assertGreaterEqual(len(creates), 1, "the denial came before anything was created")


class AccessDeniedByIamPolicy(unittest.TestCase):
    """The simulator checks signatures and IAM policies (--auth); the daemon signs
    with an IAM user whose policy allows everything but denies
    ec2:AttachNetworkInterface: EC2 answers 403 UnauthorizedOperation for real."""

    @classmethod
    def setUpClass(cls):
        cls.w = w = World(time_scale=0.1, auth=True, name="iam")
        cls.addClassCleanup(w.close)
        w.build_network(("sig", "media"))
        policy = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "ec2:AttachNetworkInterface", "Resource": "*"}]}
        creds = w.sim.create_credentials(user="hookd-restricted", policy=policy)
        cls.daemon = w.daemon("main", [w.group_cfg("denied", ["e2e-iam"], [
            w.net_cfg("sig", 1, "first-free"), w.net_cfg("media", 2, "dhcp")])], creds=creds)
        w.deliver()

    def test_denied_attach_is_cleaned_up_then_abandoned(self):
        w = self.w
        seq0 = w.sim.last_seq()
        w.asg("e2e-iam", desired=1, azs=[AZ], terminate_hook=False)
        a = w.wait_settled("e2e-iam", LAUNCHING, 1)[0]
        w.scale("e2e-iam", 0)
        wait_for(lambda: all(x["state"] in ("done", "failed") for x in self.daemon.actions()),
                 60, 0.2, "daemon idle", diag=w.diag)
        iid = a["instance_id"]
        self.assertEqual((a["state"], a["result"], a["completed_by"]), ("completed", "ABANDON", "token"), a)
        denied = [r for r in w.requests("AttachNetworkInterface", since=seq0)
                  if r["params"].get("InstanceId") == iid]
        self.assertTrue(denied)
        self.assertTrue(all((r["status"], r["error_code"]) == (403, "UnauthorizedOperation") for r in denied),
                        [(r["status"], r["error_code"]) for r in denied])
        self.assertEqual(w.enis_of(iid), [])
        done = w.completes(a["token"], ok_only=True)
        self.assertEqual(len(done), 1)
        made = {r["params"].get("ClientToken") for r in w.requests("CreateNetworkInterface", since=seq0)
                if r["status"] == 200 and iid in json.dumps(r["params"])}
        deleted = [r for r in w.requests("DeleteNetworkInterface", since=seq0)
                   if r["status"] == 200 and r["seq"] < done[0]["seq"]]
        self.assertGreaterEqual(len(made), 1)
        self.assertGreaterEqual(len(deleted), len(made))



class RetryFailedAction(unittest.TestCase):
    """POST /v1/actions/<id>/retry: a launch whose completion AWS refused for
    good ends "failed"; an operator retries it while its hook is alive, and it
    completes CONTINUE with its ENIs (adopted, not made again)."""

    def test_retry_runs_a_failed_launch_again(self):
        w = World(time_scale=0.1, name="retry")
        self.addCleanup(w.close)
        w.build_network(("sig",))
        d = w.daemon("main", [w.group_cfg("retry", ["e2e-retry"], [w.net_cfg("sig", 1)])])
        w.deliver()
        w.sim.add_fault("error-before", service="autoscaling", action="CompleteLifecycleAction",
                        count=1, status=400, code="AccessDenied")
        w.asg("e2e-retry", desired=1, azs=[AZ], terminate_hook=False)
        failed = wait_for(lambda: d.actions("failed"), 60, 0.2, "the launch to fail",
                          diag=w.diag)[0]
        iid = failed["instance_id"]
        creates = len(w.requests("CreateNetworkInterface"))
        url = d.admin_url + f"/v1/actions/{failed['id']}/retry"
        import urllib.error
        import urllib.request

        def post(u):
            try:
                with urllib.request.urlopen(urllib.request.Request(u, method="POST"),
                                            timeout=10) as r:
                    return r.status, json.loads(r.read())
            except urllib.error.HTTPError as e:
                return e.code, json.loads(e.read())
        status, doc = post(url)
        self.assertEqual((status, doc["status"]), (202, "retrying"), doc)
        w.wait_in_service("e2e-retry", 1)
        acts = [a for a in w.lifecycle(group="e2e-retry") if a["transition"] == LAUNCHING]
        self.assertEqual([(a["state"], a["result"]) for a in acts], [("completed", "CONTINUE")])
        enis = w.enis_of(iid)
        self.assertEqual([(e["device_index"], e["instance"]) for e in enis], [(1, iid)])
        self.assertEqual(len(w.requests("CreateNetworkInterface")), creates)  # adopted
        done = wait_for(lambda: [a for a in d.actions("succeeded") if a["id"] == failed["id"]],
                        30, 0.2, "the action to be done")
        self.assertEqual(done[0]["attempts"], failed["attempts"] + 1)
        # only a failed action can be retried; an unknown one is 404
        status, doc = post(url)
        self.assertEqual(status, 409, doc)
        self.assertIn("only a failed action", doc["reason"])
        self.assertEqual(post(d.admin_url + "/v1/actions/999999/retry")[0], 404)


if __name__ == "__main__":
    unittest.main(verbosity=2)
