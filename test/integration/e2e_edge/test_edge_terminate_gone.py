"""End to end: a terminate event that arrives after the instance is gone.

Two workers launched through the daemon (eth1 "sig" first-free, eth2 "media"
dhcp). The simulator delivers launch events only; the terminate events are
held back and POSTed by hand once the stage is set:

- "gone": the instance is in Terminating:Wait, its ENIs' DeleteOnTermination
  is switched off, then EC2 TerminateInstances ends it. Its two ENIs stay,
  `available`, and the simulator cancels the waiting terminate action (as the
  instance left the group another way), so the daemon's completion can only be
  answered ValidationError. Expected: both ENIs deleted by the daemon, one
  CompleteLifecycleAction (answered ValidationError, taken as done), the
  daemon's action `done`, and no retry loop afterwards.
- "half": the action is still active and part of the cleanup was done by
  someone else (eth1 detached and deleted, eth2 detached). Expected: eth2
  deleted, CONTINUE completed once.

The orphan sweep is off (limits.sweep_interval_s 0): whatever is deleted, the
terminate path deleted it.
"""

import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from e2e_harness import (  # noqa: E402
    API_KEY_HEADER,
    LAUNCHING,
    TAG_INSTANCE,
    TAG_NETWORK,
    TERMINATING,
    World,
    wait_for,
)
from sim_scenario import api_key_auth  # noqa: E402

ASG = "edge-term"
AZ = "us-east-1a"


class TerminateAfterInstanceGone(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.w = w = World(time_scale=0.1, name="edge-term")
        cls.addClassCleanup(w.close)
        w.build_network(("sig", "media"))
        cls.daemon = d = w.daemon("main", [w.group_cfg("workers", [ASG], [
            w.net_cfg("sig", 1, "first-free"), w.net_cfg("media", 2, "dhcp")])],
            limits={"sweep_interval_s": 0})
        w.asg(ASG, desired=0, azs=[AZ])
        # launch events only: the terminate events are POSTed by the test
        w.sim.call("POST", "/_sim/delivery", {"api_destinations": [{
            "name": "hookd-launch-only", "url": d.intake_url,
            "auth": api_key_auth(API_KEY_HEADER, d.api_key),
            "groups": [ASG], "transitions": [LAUNCHING]}]})
        w.scale(ASG, 2)
        w.wait_in_service(ASG, 2)
        cls.gone, cls.half = sorted(i["id"] for i in w.instances(ASG))
        cls.enis = {iid: {e["tags"][TAG_NETWORK]: e for e in w.enis_of(iid)} for iid in (cls.gone, cls.half)}
        for iid, by_net in cls.enis.items():
            assert sorted(by_net) == ["media", "sig"], (iid, by_net)

        w.scale(ASG, 0)
        term = wait_for(lambda: (lambda a: a if len(a) == 2 else None)(
            w.lifecycle(group=ASG, transition=TERMINATING, state="waiting")),
            30, 0.1, "two terminate actions waiting", diag=w.diag)
        cls.term = {a["instance_id"]: a for a in term}

        # "gone": keep the ENIs past the instance, then terminate it through EC2
        for e in cls.enis[cls.gone].values():
            att = w.ec2.describe_network_interfaces(NetworkInterfaceIds=[e["id"]])[
                "NetworkInterfaces"][0]["Attachment"]["AttachmentId"]
            w.ec2.modify_network_interface_attribute(
                NetworkInterfaceId=e["id"],
                Attachment={"AttachmentId": att, "DeleteOnTermination": False})
        w.ec2.terminate_instances(InstanceIds=[cls.gone])
        # "half": eth1 already removed by someone, eth2 detached
        sig, media = cls.enis[cls.half]["sig"], cls.enis[cls.half]["media"]
        for e in (sig, media):
            att = w.ec2.describe_network_interfaces(NetworkInterfaceIds=[e["id"]])[
                "NetworkInterfaces"][0]["Attachment"]["AttachmentId"]
            w.ec2.detach_network_interface(AttachmentId=att, Force=True)
        w.ec2.delete_network_interface(NetworkInterfaceId=sig["id"])

        cls.before = {iid: sorted((e["id"], e["status"]) for e in w.enis_of(iid))
                      for iid in (cls.gone, cls.half)}
        cls.gone_state = w.ec2.describe_instances(InstanceIds=[cls.gone])[
            "Reservations"][0]["Instances"][0]["State"]["Name"]
        cls.gone_action = w.lifecycle(group=ASG, instance_id=cls.gone, transition=TERMINATING)[0]
        cls.seq0 = w.sim.last_seq()
        cls.posted = {iid: d.post_event(w.event_for(cls.term[iid])) for iid in (cls.gone, cls.half)}

        def settled():
            acts = [a for a in d.actions() if a["transition"] == TERMINATING]
            return acts if len(acts) == 2 and all(a["state"] in ("done", "failed") for a in acts) else None
        cls.actions = {a["instance_id"]: a for a in wait_for(settled, 60, 0.2, "both terminate actions settled",
                                                             diag=w.diag)}
        time.sleep(3.0)  # a retry loop would show up as more calls in this time
        cls.after = {iid: w.enis_of(iid) for iid in (cls.gone, cls.half)}
        cls.final_actions = {a["instance_id"]: a for a in d.actions() if a["transition"] == TERMINATING}

    def test_stage_gone_instance_terminated_enis_left_available_action_cancelled(self):
        self.assertEqual(self.gone_state, "terminated")
        self.assertEqual(self.before[self.gone],
                         sorted((e["id"], "available") for e in self.enis[self.gone].values()))
        self.assertEqual((self.gone_action["state"], self.gone_action["completed_by"]),
                         ("cancelled", "ec2-terminated"), self.gone_action)
        self.assertEqual(self.before[self.half], [(self.enis[self.half]["media"]["id"], "available")])
        self.assertEqual([s for s, _ in self.posted.values()], [202, 202], self.posted)

    def test_gone_leftover_enis_deleted_by_the_daemon(self):
        w = self.w
        self.assertEqual(self.after[self.gone], [])
        tagged = w.ec2.describe_network_interfaces(
            Filters=[{"Name": f"tag:{TAG_INSTANCE}", "Values": [self.gone]}])["NetworkInterfaces"]
        self.assertEqual(tagged, [])
        deleted = {r["params"].get("NetworkInterfaceId") for r in w.requests("DeleteNetworkInterface", since=self.seq0)
                   if r["status"] == 200}
        for e in self.enis[self.gone].values():
            self.assertIn(e["id"], deleted)

    def test_gone_completion_sent_once_answered_validation_error_action_done(self):
        w = self.w
        token = self.term[self.gone]["token"]
        calls = w.completes(token, since=self.seq0)
        self.assertEqual([(c["status"], c["error_code"]) for c in calls], [(400, "ValidationError")], calls)
        self.assertEqual(calls[0]["params"].get("LifecycleActionResult"), "CONTINUE")
        a = self.final_actions[self.gone]
        self.assertEqual(a["state"], "done", a)
        self.assertEqual(a["attempts"], self.actions[self.gone]["attempts"], "still retrying")
        # the simulator's record is untouched by the late completion
        rec = w.lifecycle(group=ASG, instance_id=self.gone, transition=TERMINATING)[0]
        self.assertEqual((rec["state"], rec["result"]), ("cancelled", self.gone_action["result"]), rec)

    def test_no_retry_loop_after_done(self):
        w = self.w
        token = self.term[self.gone]["token"]
        mentions = [r for r in w.sim.requests(since=self.seq0)
                    if r["action"] in ("CompleteLifecycleAction", "RecordLifecycleActionHeartbeat")
                    and r["params"].get("LifecycleActionToken") == token]
        self.assertEqual(len(mentions), 1, mentions)
        detach_delete = [r for r in w.sim.requests(since=self.seq0)
                         if r["action"] in ("DeleteNetworkInterface", "DetachNetworkInterface")
                         and r["params"].get("NetworkInterfaceId") in {e["id"] for e in self.enis[self.gone].values()}]
        self.assertEqual(len(detach_delete), 2, detach_delete)  # one delete each, nothing repeated

    def test_half_cleaned_remaining_eni_deleted_and_continue_once(self):
        w = self.w
        self.assertEqual(self.after[self.half], [])
        media = self.enis[self.half]["media"]["id"]
        deleted = [r for r in w.requests("DeleteNetworkInterface", since=self.seq0)
                   if r["params"].get("NetworkInterfaceId") == media and r["status"] == 200]
        self.assertEqual(len(deleted), 1, deleted)
        rec = w.lifecycle(group=ASG, instance_id=self.half, transition=TERMINATING)[0]
        self.assertEqual((rec["state"], rec["result"], rec["completed_by"]), ("completed", "CONTINUE", "token"), rec)
        ok = w.completes(rec["token"], ok_only=True)
        self.assertEqual(len(ok), 1, ok)
        self.assertLess(deleted[0]["seq"], ok[0]["seq"])
        self.assertEqual(self.final_actions[self.half]["state"], "done")

    def test_group_empty_and_no_tagged_eni_left(self):
        w = self.w
        wait_for(lambda: w.instances(ASG) == [], 30, 0.2, "the group empty", diag=w.diag)
        left = w.ec2.describe_network_interfaces(
            Filters=[{"Name": "tag-key", "Values": [TAG_INSTANCE]}])["NetworkInterfaces"]
        self.assertEqual(left, [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
