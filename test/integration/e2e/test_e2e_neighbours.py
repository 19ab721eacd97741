"""End to end: the daemon shares its Auto Scaling group with other tools' hooks.

The group carries our launch and terminate hooks (multus-launch,
multus-terminate) and two hooks owned by another tool (a launch hook
"bootstrap-check" and a terminate hook "drain", 600 s each, as a bootstrap
checker and aws-node-termination-handler use). The simulator delivers every
hook's events to the daemon (as an EventBridge rule on the group would). The
daemon must act on its own hooks only: the foreign actions stay waiting until
the test completes them itself, nothing is replaced, nothing ABANDONed.

Also here: two of *our* hooks on one transition (configured by mistake) are
one piece of work whose result completes both, and a terminate arriving while
the launch is still attaching stops the launch first (docs/engine.md "Several
hooks, one instance").

Every assertion reads the simulator: the lifecycle record, its request log and
the ENIs.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_harness import (  # noqa: E402
    LAUNCH_HOOK,
    LAUNCHING,
    TERMINATE_HOOK,
    TERMINATING,
    World,
    wait_for,
)

FOREIGN_LAUNCH = "bootstrap-check"
FOREIGN_TERMINATE = "drain"
FOREIGN_TIMEOUT = 600
FOREIGN_HOOKS = [
    {"LifecycleHookName": FOREIGN_LAUNCH, "LifecycleTransition": LAUNCHING,
     "HeartbeatTimeout": FOREIGN_TIMEOUT, "DefaultResult": "ABANDON"},
    {"LifecycleHookName": FOREIGN_TERMINATE, "LifecycleTransition": TERMINATING,
     "HeartbeatTimeout": FOREIGN_TIMEOUT, "DefaultResult": "CONTINUE"},
]
# Time scale 0.5: the foreign 600 s hooks last 300 s, far beyond what the test
# needs even on a loaded machine; ours (3600 s) are never close to timing out.
TIME_SCALE = 0.5


def lifecycle_calls(w, hooks, since=0):
    """CompleteLifecycleAction and RecordLifecycleActionHeartbeat requests for `hooks`."""
    out = []
    for action in ("CompleteLifecycleAction", "RecordLifecycleActionHeartbeat"):
        out += [r for r in w.requests(action, since=since)
                if r["params"].get("LifecycleHookName") in hooks]
    return out


def complete_foreign(w, asg, hook, result="CONTINUE"):
    """The other tool finishes its work: complete its waiting actions (by token)."""
    for a in w.lifecycle(group=asg, hook=hook, state="waiting"):
        w.autoscaling.complete_lifecycle_action(
            LifecycleHookName=hook, AutoScalingGroupName=asg, LifecycleActionResult=result,
            LifecycleActionToken=a["token"])


class SharedBase(unittest.TestCase):
    ASG = "e2e-shared"
    TERMINATE_MODE = "delete"

    @classmethod
    def setUpClass(cls):
        cls.w = w = World(time_scale=TIME_SCALE, name="shared")
        cls.addClassCleanup(w.close)
        w.build_network(("sig", "media"))
        cls.daemon = w.daemon("main", [w.group_cfg(
            "workers", [cls.ASG], [w.net_cfg("sig", 1), w.net_cfg("media", 2, "dhcp")],
            terminate=cls.TERMINATE_MODE)], extra={"testing": {"time_scale": TIME_SCALE}})
        w.deliver()
        w.asg(cls.ASG, desired=0, extra_hooks=FOREIGN_HOOKS)

    def ours_settled(self, transition, hook, n):
        w = self.w
        return wait_for(
            lambda: (lambda acts: acts if len(acts) >= n else None)(
                [a for a in w.lifecycle(group=self.ASG, hook=hook)
                 if a["transition"] == transition and a["state"] != "waiting"]),
            what=f"{n} settled {hook} actions", diag=w.diag)

    def scale_out_and_check(self):
        w = self.w
        w.scale(self.ASG, 3)
        ours = self.ours_settled(LAUNCHING, LAUNCH_HOOK, 3)
        # our actions are done (CONTINUE, by the daemon); the foreign ones wait
        self.assertEqual(sorted((a["state"], a["result"]) for a in ours),
                         [("completed", "CONTINUE")] * 3)
        foreign = w.lifecycle(group=self.ASG, hook=FOREIGN_LAUNCH)
        self.assertEqual(len(foreign), 3, foreign)
        self.assertEqual([a["state"] for a in foreign], ["waiting"] * 3)
        insts = w.instances(self.ASG)
        self.assertEqual(sorted(i["state"] for i in insts), ["Pending:Wait"] * 3)
        # every instance has exactly its two ENIs at device indexes 1 and 2
        for i in insts:
            enis = w.enis_of(i["id"])
            self.assertEqual(sorted(e["device_index"] for e in enis), [1, 2], enis)
            self.assertTrue(all(e["status"] == "in-use" and e["instance"] == i["id"]
                                for e in enis), enis)
        # one create per instance and network: no second plan ran
        creates = [r for r in w.requests("CreateNetworkInterface") if r["status"] == 200]
        self.assertEqual(len(creates), 6, [r["params"] for r in creates])
        # nothing was sent for the other tool's hook
        self.assertEqual(lifecycle_calls(w, {FOREIGN_LAUNCH, FOREIGN_TERMINATE}), [])
        # the daemon stored nothing for it either
        self.assertEqual({a["hook"] for a in self.daemon.actions()}, {LAUNCH_HOOK})
        # the other tool finishes: InService, nobody replaced or abandoned
        complete_foreign(w, self.ASG, FOREIGN_LAUNCH)
        w.wait_in_service(self.ASG, 3)
        self.assertEqual({i["id"] for i in w.instances(self.ASG)}, {i["id"] for i in insts})
        self.assertEqual(len(w.lifecycle(group=self.ASG, transition=LAUNCHING)), 6)
        return {i["id"] for i in insts}

    def scale_in(self):
        w = self.w
        before = {i["id"] for i in w.instances(self.ASG)}
        seq = w.sim.last_seq()
        w.scale(self.ASG, 1)
        ours = self.ours_settled(TERMINATING, TERMINATE_HOOK, 2)
        self.assertEqual(sorted((a["state"], a["result"]) for a in ours),
                         [("completed", "CONTINUE")] * 2)
        drains = w.lifecycle(group=self.ASG, hook=FOREIGN_TERMINATE)
        self.assertEqual(len(drains), 2, drains)
        self.assertEqual([a["state"] for a in drains], ["waiting"] * 2)
        self.assertEqual(lifecycle_calls(w, {FOREIGN_LAUNCH, FOREIGN_TERMINATE}, since=seq), [])
        leaving = {a["instance_id"] for a in drains}
        states = {i["id"]: i["state"] for i in w.instances(self.ASG)}
        for iid in leaving:
            self.assertEqual(states.get(iid), "Terminating:Wait", states)
        return before, leaving

    def finish_and_check(self, before, leaving):
        w = self.w
        complete_foreign(w, self.ASG, FOREIGN_TERMINATE)
        w.wait_in_service(self.ASG, 1)
        (kept,) = w.instances(self.ASG)
        self.assertEqual(before - leaving, {kept["id"]})
        self.assertEqual(sorted(e["device_index"] for e in w.enis_of(kept["id"])), [1, 2])
        # the leavers' ENIs are gone (EC2's DeleteOnTermination or our delete)
        wait_for(lambda: not any(w.enis_of(i) for i in leaving), what="the leavers' ENIs gone",
                 diag=w.diag)
        # nothing was ever ABANDONed, by anyone
        self.assertEqual([a for a in w.lifecycle(group=self.ASG) if a["result"] == "ABANDON"], [])
        done = self.daemon.actions()
        self.assertEqual(sorted((a["hook"], a["state"], a["result"]) for a in done),
                         sorted([(LAUNCH_HOOK, "done", "CONTINUE")] * 3
                                + [(TERMINATE_HOOK, "done", "CONTINUE")] * 2))


class SharedGroupDelete(SharedBase):
    """terminate: delete. Our terminate hook deletes the ENIs at once, while the
    drain of the other tool is still running (all terminate hooks run at once)."""
    ASG = "e2e-shared-del"
    TERMINATE_MODE = "delete"

    def test_foreign_hooks_left_alone(self):
        self.scale_out_and_check()
        before, leaving = self.scale_in()
        for iid in leaving:  # deleted by the daemon before the drain ended
            self.assertEqual(self.w.enis_of(iid), [])
        self.finish_and_check(before, leaving)


class SharedGroupDeleteOnTermination(SharedBase):
    """terminate: delete-on-termination. Our terminate hook completes at once and
    leaves the ENIs attached until EC2 terminates the instance, so the pods being
    drained by the other tool keep their Multus networks to the end."""
    ASG = "e2e-shared-dot"
    TERMINATE_MODE = "delete-on-termination"

    def test_enis_stay_while_another_tool_drains(self):
        self.scale_out_and_check()
        before, leaving = self.scale_in()
        for iid in leaving:
            enis = self.w.enis_of(iid)
            self.assertEqual(sorted(e["device_index"] for e in enis), [1, 2], enis)
            self.assertTrue(all(e["status"] == "in-use" and e["delete_on_termination"]
                                for e in enis), enis)
        self.assertEqual(self.w.requests("DetachNetworkInterface"), [])
        self.finish_and_check(before, leaving)


class TwoOwnLaunchHooks(unittest.TestCase):
    """Two of our own hooks on the launch transition: one plan per instance, whose
    result completes both actions."""
    ASG = "e2e-twohooks"

    @classmethod
    def setUpClass(cls):
        cls.w = w = World(time_scale=TIME_SCALE, name="twohooks")
        cls.addClassCleanup(w.close)
        w.build_network(("sig", "media"))
        cls.daemon = w.daemon("main", [w.group_cfg(
            "workers", [cls.ASG], [w.net_cfg("sig", 1), w.net_cfg("media", 2, "dhcp")],
            hook_names=[LAUNCH_HOOK, "multus-launch-b", TERMINATE_HOOK])],
            extra={"testing": {"time_scale": TIME_SCALE}})
        w.deliver()
        w.asg(cls.ASG, desired=0, terminate_hook=False, extra_hooks=[
            {"LifecycleHookName": "multus-launch-b", "LifecycleTransition": LAUNCHING,
             "HeartbeatTimeout": 3600, "DefaultResult": "ABANDON"}])

    def test_one_piece_of_work_completes_both(self):
        w = self.w
        w.scale(self.ASG, 3)
        w.wait_in_service(self.ASG, 3)
        insts = w.instances(self.ASG)
        acts = w.lifecycle(group=self.ASG)
        self.assertEqual(len(acts), 6)
        self.assertEqual(sorted((a["hook"], a["state"], a["result"]) for a in acts),
                         sorted([(LAUNCH_HOOK, "completed", "CONTINUE"),
                                 ("multus-launch-b", "completed", "CONTINUE")] * 3))
        for i in insts:
            enis = w.enis_of(i["id"])
            self.assertEqual(sorted(e["device_index"] for e in enis), [1, 2], enis)
        # one plan per instance: 2 creates and 2 attaches each, nothing more
        for action in ("CreateNetworkInterface", "AttachNetworkInterface"):
            ok = [r for r in w.requests(action) if r["status"] == 200]
            self.assertEqual(len(ok), 6, action)
        bad = [r for r in w.requests("AttachNetworkInterface") if r["status"] != 200]
        self.assertEqual(bad, [])
        # each action completed exactly once, by its own token
        for a in acts:
            self.assertEqual(len(w.completes(token=a["token"], ok_only=True)), 1, a["hook"])


class TerminateWhileLaunching(unittest.TestCase):
    """A terminate arriving while the launch is still attaching stops the launch
    (its ENIs are cleaned up, its completion is answered 'no active action'),
    then the terminate runs: no ENI is left, and nothing is created or attached
    for the instance once the terminate has completed."""
    ASG = "e2e-term-launch"

    @classmethod
    def setUpClass(cls):
        cls.w = w = World(time_scale=TIME_SCALE, name="termlaunch")
        cls.addClassCleanup(w.close)
        w.build_network(("sig", "media"))
        cls.daemon = w.daemon("main", [w.group_cfg(
            "workers", [cls.ASG], [w.net_cfg("sig", 1), w.net_cfg("media", 2, "dhcp")])],
            extra={"testing": {"time_scale": TIME_SCALE}})
        w.deliver()
        w.asg(cls.ASG, desired=0)

    def test_terminate_stops_the_launch_first(self):
        w = self.w
        hold = w.sim.add_fault("latency", service="ec2", action="AttachNetworkInterface",
                               ms=4000, count=2)
        w.scale(self.ASG, 1)
        (launch,) = wait_for(lambda: w.lifecycle(group=self.ASG, transition=LAUNCHING),
                             what="the launch action")
        iid = launch["instance_id"]
        # the launch is attaching (held): its ENIs exist
        wait_for(lambda: len(w.requests("CreateNetworkInterface")) >= 2, what="the creates",
                 diag=w.diag)
        w.autoscaling.terminate_instance_in_auto_scaling_group(
            InstanceId=iid, ShouldDecrementDesiredCapacity=True)
        (term,) = self.settled(TERMINATING)
        self.assertEqual((term["state"], term["result"]), ("completed", "CONTINUE"))
        wait_for(lambda: w.ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]
                 ["Instances"][0]["State"]["Name"] == "terminated", what="terminated")
        w.sim.clear_faults(hold["id"])
        # the daemon finished both actions, the launch first
        wait_for(lambda: (lambda v: len(v) == 2 and all(a["state"] == "done" for a in v))(
            self.daemon.actions()), what="both actions done", diag=w.diag)
        launch_done = w.completes(token=launch["token"])
        self.assertEqual(len(launch_done), 1, launch_done)
        # no ENI left of the instance, none available anywhere
        wait_for(lambda: w.enis_of(iid) == [], what="no ENI of the instance", diag=w.diag)
        self.assertEqual([e for e in w.multus_enis() if e["status"] == "available"], [])
        # the terminate's completion came after the launch's last ENI call
        term_done = [r for r in w.completes(token=term["token"]) if r["status"] == 200]
        self.assertEqual(len(term_done), 1)
        self.assertLess(launch_done[0]["seq"], term_done[0]["seq"])
        later = [r for a in ("CreateNetworkInterface", "AttachNetworkInterface")
                 for r in w.requests(a, since=term_done[0]["seq"])]
        self.assertEqual(later, [])
        # nobody ABANDONed the terminate; the launch's own completion found no
        # active action (AWS ended it when the instance began terminating)
        self.assertEqual(len(w.completes(token=launch["token"], ok_only=True)), 0)

    def settled(self, transition):
        w = self.w
        return wait_for(lambda: [a for a in w.lifecycle(group=self.ASG, transition=transition)
                                 if a["state"] != "waiting"] or None,
                        what=f"settled {transition}", diag=w.diag)


if __name__ == "__main__":
    unittest.main()
