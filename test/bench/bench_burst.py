#!/usr/bin/env python3
"""Throughput benchmark: the real multus-hookd against the AWS simulator.

Not a test: it prints figures and never judges time. It exits non-zero only
when the result is WRONG (an instance without its ENIs, a duplicate address, an
action not completed CONTINUE exactly once) or the burst does not finish within
--timeout.

Set-up: the simulator with its token buckets ON at AWS's documented sizes
(--throttle-scale 1: CreateNetworkInterface 100 burst + 5/s, Attach 50 + 5/s,
ModifyNetworkInterfaceAttribute 100 + 5/s, Describe* 100 + 20/s ...) and a fixed
latency on every AWS call (--latency-ms, default 30: a region round trip).
Two Multus networks, each with one /22 subnet per AZ (2 AZs), first-free
addressing; an ASG of m5.large (eth1 + eth2) with a launch hook, scaled from 0
to --count (default 200) in one call.

Measured: time from the scale-out call to every instance InService; launches
and ENIs per second; per-instance time from Pending:Wait to completion (p50,
p95, max: the simulator's lifecycle records); throttled answers; AWS calls per
launch by API (the simulator's request log).

    python3 test/bench/bench_burst.py --hookd build/release/hook/multus-hookd [--count 200]
        [--latency-ms 30] [--throttle-scale 1] [--max-concurrent N] [--source-dest-check-off]
        [--timeout 1800]
"""

from __future__ import annotations

import argparse
import collections
import datetime
import ipaddress
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration", "e2e"))
import e2e_harness  # noqa: E402
from e2e_harness import AZS, LAUNCHING, TAG_INSTANCE, TAG_NETWORK, World, wait_for  # noqa: E402

ASG = "bench-burst"
NETWORKS = {"sig": ["10.0.64.0/22", "10.0.68.0/22"], "media": ["10.0.72.0/22", "10.0.76.0/22"]}
# EC2 calls the harness itself makes while waiting (not the daemon's)
OURS = {"DescribeAutoScalingGroups"}


def iso_s(t: str) -> float:
    return datetime.datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp()


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    if not s:
        return float("nan")
    k = min(len(s) - 1, max(0, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hookd", default=os.environ.get("HOOKD_BIN"), help="multus-hookd binary")
    ap.add_argument("--count", type=int, default=200, help="instances to launch (2 ENIs each)")
    ap.add_argument("--latency-ms", type=float, default=30.0, help="fixed latency per AWS call")
    ap.add_argument("--throttle-scale", type=float, default=1.0,
                    help="token bucket sizes x this (1 = AWS's documented sizes; 0 = throttling off)")
    ap.add_argument("--max-concurrent", type=int, default=0,
                    help="limits.max_concurrent_actions (0: the daemon's default)")
    ap.add_argument("--source-dest-check-off", action="store_true",
                    help="source_dest_check false on both networks: two ModifyNetworkInterfaceAttribute "
                         "per ENI (the 2.5 ENIs/s account ceiling of docs/aws-facts.md) instead of one")
    ap.add_argument("--timeout", type=float, default=1800.0, help="give up after this many seconds")
    args = ap.parse_args()
    if args.hookd:
        os.environ["HOOKD_BIN"] = os.path.abspath(args.hookd)
    if not 1 <= args.count <= 480:
        ap.error("--count must be 1..480 (two /24 node subnets)")
    binary = e2e_harness.hookd_bin()

    w = World(time_scale=1.0, latency_ms=0.0, name="bench")
    try:
        w.build_network(networks=())
        for net, cidrs in NETWORKS.items():
            for az, cidr in zip(AZS, cidrs):
                w.add_subnet(net, az, cidr)
        sdc = {"source_dest_check": False} if args.source_dest_check_off else {}
        limits = {"sweep_interval_s": 0}
        if args.max_concurrent:
            limits["max_concurrent_actions"] = args.max_concurrent
        d = w.daemon("bench", [w.group_cfg("bench", [ASG], [
            w.net_cfg("sig", 1, "first-free", **sdc), w.net_cfg("media", 2, "first-free", **sdc)])],
            limits=limits, log_level="warn")
        w.deliver()
        w.asg(ASG, desired=0, max_size=args.count, terminate_hook=False)
        # set-up done: now the AWS-like conditions (buckets full at this point)
        w.sim.set_latency(args.latency_ms)
        if args.throttle_scale > 0:
            w.sim.set_throttle(True, scale=args.throttle_scale)
        seq0 = w.sim.last_seq()

        t0 = time.time()
        w.scale(ASG, args.count)

        def all_in_service():
            inst = w.instances(ASG)
            done = len(inst) == args.count and all(i["state"] == "InService" for i in inst)
            return inst if done else None
        wait_for(all_in_service, args.timeout, 0.5, f"{args.count} InService", diag=w.diag)
        wall = time.time() - t0

        # ---- figures ----------------------------------------------------------------
        acts = w.lifecycle(group=ASG, transition=LAUNCHING)
        per = [iso_s(a["completed_at"]) - iso_s(a["created_at"]) for a in acts if a.get("completed_at")]
        first_created = min(iso_s(a["created_at"]) for a in acts)
        last_done = max(iso_s(a["completed_at"]) for a in acts if a.get("completed_at"))
        span = last_done - first_created
        reqs = [r for r in w.sim.requests(since=seq0) if r["action"] not in OURS]
        by_api: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        for r in reqs:
            c = by_api[r["action"]]
            c["calls"] += 1
            if r["error_code"] in ("RequestLimitExceeded", "Throttling"):
                c["throttled"] += 1
            elif r["status"] != 200:
                c["errors"] += 1
        creates_ok = sorted(r["time"] for r in reqs
                            if r["action"] == "CreateNetworkInterface" and r["status"] == 200)
        eni_span = (creates_ok[-1] - creates_ok[0]) if len(creates_ok) > 1 else float("nan")
        throttled = sum(c["throttled"] for c in by_api.values())
        bucket_throttled = w.sim.throttle().get("throttled")
        dacts = d.actions()
        reruns = sum(a["attempts"] for a in dacts)
        rerun_why = collections.Counter((a["last_error"] or "")[:70] for a in dacts if a["attempts"])

        # ---- correctness ---------------------------------------------------------------
        problems = []
        instances = {i["id"] for i in w.instances(ASG)}
        enis = w.multus_enis()
        per_inst: dict[str, list] = collections.defaultdict(list)
        for e in enis:
            per_inst[e["tags"].get(TAG_INSTANCE)].append(e)
        for iid in instances:
            got = sorted((e["device_index"], e["tags"].get(TAG_NETWORK), e["instance"]) for e in per_inst.get(iid, []))
            if got != [(1, "sig", iid), (2, "media", iid)]:
                problems.append(f"{iid}: ENIs {got}")
        stray = set(per_inst) - instances
        if stray:
            problems.append(f"ENIs of unknown instances: {sorted(stray)[:5]}")
        by_subnet: dict[str, list[str]] = collections.defaultdict(list)
        for e in enis:
            by_subnet[e["subnet"]].extend(e["ipv4s"])
        for sid, addrs in by_subnet.items():
            if len(addrs) != len(set(addrs)):
                problems.append(f"duplicate address in {sid}")
            net = ipaddress.ip_network(w.subnet_cidrs[sid])
            if any(ipaddress.ip_address(a) not in net for a in addrs):
                problems.append(f"address outside {sid}")
        completes = collections.Counter(r["params"].get("LifecycleActionToken") for r in reqs
                                        if r["action"] == "CompleteLifecycleAction" and r["status"] == 200)
        for a in acts:
            if (a["state"], a["result"]) != ("completed", "CONTINUE") or completes.get(a["token"]) != 1:
                problems.append(f"{a['instance_id']}: {a['state']} {a['result']} "
                                f"completions={completes.get(a['token'])}")
        if len(acts) != args.count:
            problems.append(f"{len(acts)} launch actions for {args.count} instances")

        # ---- report -----------------------------------------------------------------------
        n = args.count
        n_enis = len(creates_ok)
        print(f"bench_burst: {n} launches x 2 ENIs, 2 AZs, two /22 per AZ, latency {args.latency_ms:g} ms/call, "
              f"token buckets {'x%g' % args.throttle_scale if args.throttle_scale > 0 else 'off'}, "
              f"max_concurrent_actions {args.max_concurrent or 'default'}, "
              f"source/dest check {'off (2 Modify per ENI)' if args.source_dest_check_off else 'default (1 Modify per ENI)'}, "
              f"{os.cpu_count()} CPUs")
        print(f"binary: {binary}")
        rows = [
            ("scale-out -> all InService (wall)", f"{wall:.1f} s"),
            ("first Pending:Wait -> last completion", f"{span:.1f} s"),
            ("launches completed per second", f"{n / span:.2f}" if span > 0 else "-"),
            ("ENIs per second (created, overall)", f"{n_enis / span:.2f}" if span > 0 else "-"),
            ("ENIs per second (first to last create)", f"{(n_enis - 1) / eni_span:.2f}" if eni_span > 0 else "-"),
            ("per instance Pending:Wait -> done p50", f"{pct(per, 50):.1f} s"),
            ("per instance p95", f"{pct(per, 95):.1f} s"),
            ("per instance max", f"{max(per):.1f} s"),
            ("throttled answers (request log)", f"{throttled}"),
            ("throttled (sim bucket counter)", f"{bucket_throttled}"),
            ("AWS calls per launch (all, incl. throttled)", f"{len(reqs) / n:.2f}"),
            ("daemon action re-runs (attempts, summed)", f"{reruns}"),
        ]
        wk = max(len(k) for k, _ in rows)
        for k, v in rows:
            print(f"  {k:<{wk}}  {v:>10}")
        print(f"  {'API':<34} {'calls':>7} {'/launch':>8} {'throttled':>9} {'errors':>6}")
        for api in sorted(by_api, key=lambda a: -by_api[a]["calls"]):
            c = by_api[api]
            print(f"  {api:<34} {c['calls']:>7} {c['calls'] / n:>8.2f} {c['throttled']:>9} {c['errors']:>6}")
        for why, k in rerun_why.most_common(5):
            print(f"  re-run cause x{k}: {why}")
        if problems:
            print(f"CORRECTNESS: FAILED ({len(problems)} problems)")
            for p in problems[:20]:
                print("  " + p)
            return 1
        print(f"correctness: OK ({n} instances InService, {2 * n} ENIs at device indexes 1 and 2, "
              f"no duplicate address, {n} CONTINUE completions, one each)")
        return 0
    finally:
        w.close()


if __name__ == "__main__":
    sys.exit(main())
