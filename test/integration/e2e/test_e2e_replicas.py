"""End to end: three replicas on one SQS queue, one of them lost mid-burst.

Three daemons with their own state directories consume one queue, the
lifecycle hooks' NotificationTargetARN (sqs.ack "on_finish", the default: a
message is deleted only once its action has finished, and kept in flight
until then). Every message is delivered twice. A burst of 60 launches; once
the second replica holds work, it is killed with SIGKILL and its state
directory deleted, and it is never restarted: what it held reappears after
the visibility timeout and the others finish it, adopting the ENIs it made.
Then 20 terminations. Everything asserted is AWS's state, read back from the
simulator: every instance has exactly its ENIs, every address is unique and
outside the reservation, no tagged ENI is left available, none of a
terminated instance remains, every lifecycle action completed once with
CONTINUE, and the queue is empty.
"""

import ipaddress
import os
import shutil
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_harness import (  # noqa: E402
    LAUNCHING,
    TAG_INSTANCE,
    TERMINATING,
    World,
    in_any,
    wait_for,
)

ASG = "e2e-replicas"
N = 60
DOWN = 20
VISIBILITY_S = 6
RESERVED = "10.0.16.192/27"  # in the "sig" subnet of us-east-1a


class ThreeReplicasOneLost(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.w = w = World(time_scale=1.0, name="replicas")
        cls.addClassCleanup(w.close)
        t0 = time.monotonic()
        w.build_network(("sig", "media"))
        w.reserve(w.subnet("sig", "us-east-1a"), RESERVED)
        sqs = w.sim.client("sqs")
        cls.sqs = sqs
        cls.queue = sqs.create_queue(QueueName="multus-hooks")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=cls.queue, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        group = w.group_cfg("workers", [ASG], [w.net_cfg("sig"), w.net_cfg("media")])
        extra = {"sqs": {"queue_url": cls.queue, "wait_time_s": 1,
                         "visibility_timeout_s": VISIBILITY_S}}
        cls.replicas = [w.daemon(f"r{i}", [group], extra=extra,
                                 limits={"max_concurrent_actions": 64}) for i in range(3)]
        # SQS only (no EventBridge destination), every delivery twice.
        w.deliver(exclude=[ASG], chaos={"duplicate": 1, "channels": ["sqs"]})
        w.asg(ASG, desired=0, max_size=N, target_arn=arn)
        w.scale(ASG, N)
        victim = cls.replicas[1]
        wait_for(lambda: len(victim.actions()) >= 5, 120, 0.05, "the second replica to hold work")
        cls.victim_actions = len(victim.actions())
        victim.kill9()
        shutil.rmtree(victim.state_dir)
        w.wait_in_service(ASG, N, timeout=300)
        w.scale(ASG, N - DOWN)
        w.wait_in_service(ASG, N - DOWN, timeout=300)
        w.wait_settled(ASG, TERMINATING, DOWN, timeout=300)
        wait_for(lambda: cls.counts() == (0, 0), 120, 0.2, "the queue to empty")
        cls.wall_s = time.monotonic() - t0
        cls.instances = sorted(i["id"] for i in w.instances(ASG))
        deliveries = w.deliveries(channel="sqs")
        creates = [r for r in w.requests("CreateNetworkInterface") if r["status"] == 200]
        survivors = [d for d in cls.replicas if d is not victim]
        actions = sum(len(d.actions()) for d in survivors)
        # figures only (never asserted): the survivors' own account of adoptions
        adopted = sum(1 for d in survivors for ln in d.log_lines() if '"msg":"adopted' in ln)
        print(f"\nreplicas: {len(deliveries)} SQS messages for {N + DOWN} lifecycle actions "
              f"(every one twice); the lost replica held {cls.victim_actions} actions; "
              f"the survivors ran {actions} actions ({actions - (N + DOWN)} more than the "
              f"lifecycle actions: copies run on both, or redelivered after the loss); "
              f"{adopted} ENIs adopted; {len(creates)} successful CreateNetworkInterface "
              f"for {2 * N} ENIs; wall {cls.wall_s:.1f} s", file=sys.stderr)

    @classmethod
    def counts(cls):
        a = cls.sqs.get_queue_attributes(
            QueueUrl=cls.queue,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
        a = a["Attributes"]
        return int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"])

    def test_every_worker_has_exactly_its_enis(self):
        w = self.w
        self.assertEqual(len(self.instances), N - DOWN)
        az = {i["id"]: i["az"] for i in w.instances(ASG)}
        every = w.all_enis()
        for iid in self.instances:
            enis = sorted((e for e in every if e["tags"].get(TAG_INSTANCE) == iid
                           or (e["instance"] == iid and e["device_index"] not in (0, None))),
                          key=lambda e: (e["device_index"] is None, e["device_index"] or 0))
            self.assertEqual([(e["device_index"], e["subnet"], e["instance"]) for e in enis],
                             [(1, w.subnet("sig", az[iid]), iid),
                              (2, w.subnet("media", az[iid]), iid)], (iid, enis))

    def test_addresses_unique_outside_the_reservation_nothing_left_over(self):
        w = self.w
        enis = w.multus_enis()
        live = set(self.instances)
        tagged = [e for e in enis if TAG_INSTANCE in e["tags"]]
        self.assertEqual([e["id"] for e in tagged if e["status"] == "available"], [])
        self.assertEqual(sorted({e["tags"][TAG_INSTANCE] for e in tagged}), sorted(live))
        self.assertEqual(len(tagged), 2 * len(live))
        addrs = [a for e in enis for a in e["ipv4s"]]
        self.assertEqual(len(addrs), len(set(addrs)), "duplicate address")
        for a in addrs:
            self.assertFalse(in_any(a, [RESERVED]), a)
            self.assertTrue(any(ipaddress.ip_address(a) in ipaddress.ip_network(c)
                                for c in w.subnet_cidrs.values()), a)

    def test_every_action_completed_once_with_continue(self):
        w = self.w
        for transition, n in ((LAUNCHING, N), (TERMINATING, DOWN)):
            acts = [a for a in w.lifecycle(group=ASG) if a["transition"] == transition]
            self.assertEqual(len(acts), n)
            ok = {}
            for r in w.completes(ok_only=True):
                tok = r["params"].get("LifecycleActionToken")
                ok[tok] = ok.get(tok, 0) + 1
            for a in acts:
                self.assertEqual((a["state"], a["result"]), ("completed", "CONTINUE"), a)
                self.assertEqual(ok.get(a["token"]), 1, a)

    def test_the_queue_is_empty(self):
        self.assertEqual(self.counts(), (0, 0))


if __name__ == "__main__":
    unittest.main(verbosity=2)
