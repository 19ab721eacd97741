"""End to end: the orphan sweep (limits.sweep_interval_s, docs/engine.md).

Fixtures, all `available` ENIs in the "sig" subnet of us-east-1a:
  orphan_terminated  tagged multus-hookd/instance-id = an instance that was
                     launched and terminated
  orphan_never       tagged for an instance id that never existed
  untagged           no tags at all (not ours)
  busy               tagged for an instance id that does not exist, but with a
                     launch action for it in flight in the daemon (its
                     DescribeLifecycleHooks is held 20 s by a latency fault)
and, made by the daemon itself:
  inflight           the ENI of a real launch whose AttachNetworkInterface is
                     held 20 s (available, tagged, its instance pending)

With a sweep every 2 s the first two must go and the other three must survive
at least two complete sweeps after they all existed. Afterwards the held launch
completes (its ENI attached, instance InService). Everything is read back from
the simulator (boto3, request log).
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from engine_e2e import (  # noqa: E402
    LAUNCHING,
    TAG_INSTANCE,
    World,
    daemon,
    dump,
    eni_ids,
    lifecycle_event,
    make_eni,
    sweeps_since,
    wait_for,
)

AZ = "us-east-1a"
ASG = "e2e-sweep-real"
HOLD_MS = 20000


class OrphanSweep(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.w = w = World(time_scale=1.0, name="eng-sweep")
        cls.addClassCleanup(w.close)
        w.build_network(("sig",))
        sub = w.subnet("sig", AZ)
        ec2 = w.ec2
        lt = w.templates["m5.large"]
        inst = ec2.run_instances(LaunchTemplate={"LaunchTemplateId": lt}, MinCount=1, MaxCount=1,
                                 SubnetId=w.net.node_subnets[AZ])["Instances"][0]["InstanceId"]
        ec2.terminate_instances(InstanceIds=[inst])
        cls.dead_instance = inst
        cls.enis = {
            "orphan_terminated": make_eni(w, sub, {TAG_INSTANCE: inst}),
            "orphan_never": make_eni(w, sub, {TAG_INSTANCE: "i-0123456789abcdef0"}),
            "untagged": make_eni(w, sub),
            "busy": make_eni(w, sub, {TAG_INSTANCE: "i-0feedfacefeedface"}),
        }
        cls.d = daemon(w, "main", [w.group_cfg("workers", ["e2e-sweep*"],
                                               [w.net_cfg("sig", 1, "first-free")])],
                       limits={"sweep_interval_s": 2})
        w.deliver()
        # the action for the never-launched "busy" instance: held in describe-hook
        w.sim.add_fault("latency", service="autoscaling", action="DescribeLifecycleHooks",
                        ms=HOLD_MS, count=1)
        st, body = cls.d.post_event(lifecycle_event("e2e-sweep-ghost", "multus-launch",
                                                    "i-0feedfacefeedface"))
        assert st == 202, (st, body)
        wait_for(lambda: w.requests("DescribeLifecycleHooks") or
                 [f for f in w.sim.faults() if f["fired"]], 20, 0.1, "ghost action in describe-hook",
                 diag=w.diag)
        # a real launch, held between create and attach
        w.sim.add_fault("latency", service="ec2", action="AttachNetworkInterface", ms=HOLD_MS,
                        count=1)
        w.asg(ASG, desired=1, azs=[AZ], terminate_hook=False)

        def inflight_eni():
            for e in w.all_enis():
                if e["tags"].get(TAG_INSTANCE) and e["id"] not in cls.enis.values() \
                        and e["status"] == "available":
                    return e["id"]
            return None
        cls.enis["inflight"] = wait_for(inflight_eni, 30, 0.1, "the held launch's ENI", diag=w.diag)
        cls.seq = w.sim.last_seq()
        # two complete sweeps after every fixture existed
        wait_for(lambda: len(sweeps_since(w, cls.seq)) >= 3, 30, 0.2, "3 sweeps", diag=w.diag)
        cls.after_sweeps = eni_ids(w)
        cls.deletes = [r for r in w.requests("DeleteNetworkInterface") if r["status"] == 200]

    def test_orphans_of_gone_instances_are_deleted(self):
        state = self.w.ec2.describe_instances(InstanceIds=[self.dead_instance])
        self.assertEqual(state["Reservations"][0]["Instances"][0]["State"]["Name"], "terminated")
        self.assertNotIn(self.enis["orphan_terminated"], self.after_sweeps)
        self.assertNotIn(self.enis["orphan_never"], self.after_sweeps)
        deleted = {r["params"].get("NetworkInterfaceId") for r in self.deletes}
        self.assertEqual(deleted, {self.enis["orphan_terminated"], self.enis["orphan_never"]},
                         dump(self.deletes))

    def test_untagged_and_in_flight_enis_survive(self):
        for k in ("untagged", "busy", "inflight"):
            self.assertIn(self.enis[k], self.after_sweeps, k)

    def test_held_launch_then_completes_with_its_eni(self):
        w = self.w
        a = w.wait_settled(ASG, LAUNCHING, 1, timeout=60)[0]
        self.assertEqual((a["state"], a["result"]), ("completed", "CONTINUE"), a)
        enis = w.enis_of(a["instance_id"])
        self.assertEqual([(e["id"], e["device_index"], e["status"]) for e in enis],
                         [(self.enis["inflight"], 1, "in-use")])


if __name__ == "__main__":
    unittest.main(verbosity=2)
