"""End to end: 50 concurrent launches into one /26.

The Multus network "burst" has one subnet, 10.0.64.0/26 in us-east-1a (59
assignable addresses), with an explicit CIDR reservation 10.0.64.4/30 made in
EC2 and the pod range 10.0.64.40-10.0.64.43 in the config: 51 addresses left,
50 workers. The simulator's token buckets are on (AWS's documented sizes,
halved, CreateNetworkInterface 5 + 5/s), so the burst is throttled and must
be queued and paced, not dropped. Time scale 1: the hooks' heartbeat timeout
(3600 s) never fires during the test.
"""

import ipaddress
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_harness import (  # noqa: E402
    LAUNCHING,
    TAG_INSTANCE,
    World,
    in_any,
    lowest_free,
)

ASG = "e2e-burst"
N = 50
CIDR = "10.0.64.0/26"
RESERVED = "10.0.64.4/30"
POD_RANGE = "10.0.64.40-10.0.64.43"
# AWS's bucket sizes x 0.5 (attach 25 burst + 2.5/s, Describe* 50 + 10/s, ...)
THROTTLE_SCALE = 0.5
# ... and CreateNetworkInterface 5 burst + 5/s, so the first wave is throttled for sure
CREATE_BUCKET = [5, 5]


class Burst50(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.w = w = World(time_scale=1.0, name="burst")
        cls.addClassCleanup(w.close)
        w.build_network(("sig",))
        cls.subnet = w.add_subnet("burst", "us-east-1a", CIDR)
        w.reserve(cls.subnet, RESERVED)
        cls.daemon = w.daemon("main", [w.group_cfg("burst", ["e2e-burst"], [
            w.net_cfg("burst", 1, "first-free", [POD_RANGE])])],
            limits={"max_concurrent_actions": 64})
        w.deliver()
        w.sim.set_throttle(True, scale=THROTTLE_SCALE, buckets={"ec2:CreateNetworkInterface": CREATE_BUCKET})
        w.asg(ASG, desired=0, azs=["us-east-1a"], max_size=N, terminate_hook=False)
        w.scale(ASG, N)
        w.wait_in_service(ASG, N, timeout=240)
        cls.instances = sorted(i["id"] for i in w.instances(ASG))
        cls.throttled = w.sim.throttle().get("throttled")
        print(f"\nburst: {N} launches done; throttled calls: {cls.throttled}", file=sys.stderr)

    def test_every_worker_has_one_eni_in_the_26(self):
        w = self.w
        self.assertEqual(len(self.instances), N)
        for iid in self.instances:
            enis = w.enis_of(iid)
            self.assertEqual(len(enis), 1, enis)
            self.assertEqual((enis[0]["subnet"], enis[0]["device_index"], enis[0]["instance"]),
                             (self.subnet, 1, iid))

    def test_no_duplicate_address_none_reserved_none_in_pod_range(self):
        w = self.w
        enis = [e for e in w.multus_enis() if e["subnet"] == self.subnet]
        self.assertEqual(len(enis), N)
        self.assertEqual({e["tags"].get(TAG_INSTANCE) for e in enis}, set(self.instances))
        addrs = [a for e in enis for a in e["ipv4s"]]
        self.assertEqual(len(addrs), len(set(addrs)), "duplicate address")
        for a in addrs:
            self.assertIn(ipaddress.ip_address(a), ipaddress.ip_network(CIDR))
            self.assertFalse(in_any(a, [RESERVED, POD_RANGE]), a)
        # first-free: exactly the 50 lowest assignable addresses
        self.assertEqual(sorted(addrs, key=ipaddress.ip_address),
                         lowest_free(CIDR, N, [RESERVED, POD_RANGE]))

    def test_the_burst_was_throttled_and_nothing_dropped(self):
        self.assertGreater(self.throttled, 0, "no call was throttled: the pacing path was not exercised")
        failed = [a for a in self.daemon.actions() if a["state"] != "done" or a["result"] != "CONTINUE"]
        self.assertEqual(failed, [])
        # the admin API's outcome filter agrees: every launch succeeded
        self.assertEqual(len(self.daemon.actions("succeeded")), N)
        self.assertEqual(self.daemon.actions("abandoned") + self.daemon.actions("in_flight"), [])

    def test_throttling_is_said_while_it_happens_without_flooding(self):
        # The log is the product here: one warn line per retried call, at most
        # one per token-bucket family per second (later ones count the retries
        # left out), and an info line when a family's pacing changes.
        import datetime
        import json
        lines = [json.loads(ln) for ln in self.daemon.log_lines() if ln.startswith("{")]
        retries = [ln for ln in lines if ln.get("msg") == "AWS call failed: retrying"]
        self.assertTrue(retries, "no retry was logged while the burst was throttled")
        for ln in retries:
            for key in ("service", "call", "attempt", "retry_in_ms", "family"):
                self.assertIn(key, ln)
        by_family = {}
        for ln in retries:
            t = datetime.datetime.strptime(ln["time"], "%Y-%m-%dT%H:%M:%S.%fZ")
            by_family.setdefault(ln["family"], []).append(t)
        for fam, times in by_family.items():
            gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:])]
            self.assertTrue(all(g >= 0.999 for g in gaps), (fam, gaps))
        self.assertTrue(any(ln.get("suppressed", 0) > 0 for ln in retries),
                        "a throttled burst of 50 should retry more than once a second")
        paced = [ln for ln in lines if ln.get("msg") == "AWS throttling: pacing this family slower"]
        self.assertTrue(paced and all(0.1 <= ln["rate_factor"] < 1.0 for ln in paced), paced[:3])
        print(f"\nburst: {len(retries)} retry lines, "
              f"{sum(ln.get('suppressed', 0) for ln in retries)} retries counted but not logged, "
              f"{len(paced)} pacing changes", file=sys.stderr)

    def test_metrics_count_the_burst(self):
        import urllib.request
        if "/usr/lib/python3/dist-packages" not in sys.path:
            sys.path.append("/usr/lib/python3/dist-packages")
        from prometheus_client.parser import text_string_to_metric_families
        with urllib.request.urlopen(self.daemon.admin_url + "/metrics", timeout=10) as r:
            text = r.read().decode()
        samples = {}
        for fam in text_string_to_metric_families(text):
            for smp in fam.samples:
                samples[(smp.name, tuple(sorted(smp.labels.items())))] = smp.value
        self.assertEqual(samples[("multus_hookd_actions_finished_total",
                                  (("result", "continue"), ("transition", "launching")))], N)
        self.assertEqual(samples[("multus_hookd_event_to_completion_seconds_count",
                                  (("transition", "launching"),))], N)
        created = samples.get(("multus_hookd_enis_total", (("event", "created"),)), 0)
        attached = samples.get(("multus_hookd_enis_total", (("event", "attached"),)), 0)
        self.assertEqual((created, attached), (N, N))
        # every finished AWS call is also timed, per action
        calls, timed = {}, {}
        for (name, labels), v in samples.items():
            lab = dict(labels)
            if name == "multus_hookd_aws_calls_total":
                calls[lab["action"]] = calls.get(lab["action"], 0) + v
            elif name == "multus_hookd_aws_call_seconds_count":
                timed[lab["action"]] = v
        self.assertEqual(timed, calls)
        self.assertGreaterEqual(calls.get("CreateNetworkInterface", 0), N)
        # the subnet's free addresses and reservations, as EC2 shows them now
        used = [a for e in self.w.all_enis() if e["subnet"] == self.subnet for a in e["ipv4s"]]
        free = len(lowest_free(CIDR, 64, [RESERVED, POD_RANGE], used))
        labels = (("network", "burst"), ("subnet", self.subnet))
        self.assertEqual(samples[("multus_hookd_subnet_free_addresses", labels)], free)
        self.assertEqual(samples[("multus_hookd_subnet_reserved_ranges", labels)], 1)
        throttled = sum(v for (name, labels), v in samples.items()
                        if name == "multus_hookd_aws_retries_total")
        self.assertGreater(throttled, 0)
        print(f"\nburst metrics: {int(throttled)} retries, "
              f"{int(samples.get(('multus_hookd_aws_calls_total', (('action', 'CreateNetworkInterface'), ('outcome', 'ok'), ('service', 'ec2'))), 0))} "
              f"CreateNetworkInterface ok", file=sys.stderr)

    def test_instance_type_looked_up_once_not_per_launch(self):
        # The launches that reach the capacity step together share one
        # DescribeInstanceTypes (single-flight in the engine); later ones are
        # answered from aws/'s per-client cache. Every HTTP attempt is counted
        # (a throttled one and its retry are two): one type, so at most a few,
        # never one per launch (about 15 per burst before the coalescing).
        w = self.w
        types = {r["params"].get("InstanceType.1") for r in w.requests("DescribeInstanceTypes")}
        calls = w.requests("DescribeInstanceTypes")
        print(f"\nburst: DescribeInstanceTypes calls {len(calls)} for types {sorted(types)}",
              file=sys.stderr)
        self.assertEqual(types, {"m5.large"}, calls[:3])
        self.assertLessEqual(len(calls), len(types) + 3, [(r["seq"], r["status"]) for r in calls])

    def test_every_action_completed_once(self):
        w = self.w
        acts = w.lifecycle(group=ASG, transition=LAUNCHING)
        self.assertEqual(sorted(a["instance_id"] for a in acts), self.instances)
        for a in acts:
            self.assertEqual((a["state"], a["result"]), ("completed", "CONTINUE"), a)
            self.assertEqual(len(w.completes(a["token"], ok_only=True)), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
