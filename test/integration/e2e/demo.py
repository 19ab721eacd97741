#!/usr/bin/env python3
"""The `make demo` story, end to end, on the local AWS simulator.

    python3 test/integration/e2e/demo.py [--hookd BIN] [--config docs/examples/demo-config.json]

Starts test/aws-sim and multus-hookd (with docs/examples/demo-config.json, its
AWS endpoints, ports and paths pointed at the simulator and a temporary
directory), builds a VPC with two AZs and two Multus networks, scales an Auto
Scaling group from 0 to 4 and prints, per instance, the ENIs the daemon
attached; then scales in to 1 and shows the ENIs of the terminated workers
gone. Everything it starts is stopped before it returns (also on Ctrl-C or
failure). Exit status 0 when every step did what it should, 1 otherwise.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from e2e_harness import (  # noqa: E402
    AZS,
    LAUNCHING,
    REPO,
    TAG_INSTANCE,
    TAG_NETWORK,
    TERMINATING,
    World,
    wait_for,
)

ASG = "demo-workers"
DEFAULT_CONFIG = os.path.join(REPO, "docs", "examples", "demo-config.json")


def say(msg: str = "") -> None:
    print(msg, flush=True)


def table(w: World, instances: list[dict]) -> None:
    hdr = f"  {'INSTANCE':<20} {'AZ':<11} {'STATE':<11} {'DEV':<5} {'NETWORK':<8} {'SUBNET':<25} {'IP':<12} ENI"
    say(hdr)
    say("  " + "-" * (len(hdr) + 20))
    for inst in sorted(instances, key=lambda i: (i["az"], i["id"])):
        enis = w.enis_of(inst["id"])
        first = f"  {inst['id']:<20} {inst['az']:<11} {inst['state']:<11}"
        if not enis:
            say(first + " (no Multus ENI)")
        for k, e in enumerate(enis):
            lead = first if k == 0 else " " * len(first)
            dev = f"eth{e['device_index']}" if e["device_index"] is not None else "-"
            say(f"{lead} {dev:<5} {e['tags'].get(TAG_NETWORK, '?'):<8} {e['subnet']:<25} "
                f"{e['ipv4'] or '-':<12} {e['id']}")


def watch(w: World, want: int, what: str, timeout: float = 90.0) -> list[dict]:
    """Print instance state changes until the group has `want` instances, all InService."""
    seen: dict[str, str] = {}

    def step():
        inst = w.instances(ASG)
        for i in inst:
            if seen.get(i["id"]) != i["state"]:
                seen[i["id"]] = i["state"]
                say(f"    {i['id']}  {i['az']}  -> {i['state']}")
        ok = len(inst) == want and all(i["state"] == "InService" for i in inst)
        return inst if ok else None

    return wait_for(step, timeout, 0.2, what, diag=w.diag)


def load_config(path: str, w: World) -> tuple[list[dict], dict]:
    """The example's node groups and limits, with the simulator's security group."""
    with open(path, encoding="utf-8") as f:
        cfg = json.load(f)
    groups = cfg["node_groups"]
    for g in groups:
        for n in g["networks"]:
            n["security_groups"] = [w.net.multus_sg]
    return groups, cfg.get("limits", {})


def run(hookd: str, config: str) -> int:
    os.environ["HOOKD_BIN"] = hookd
    t0 = time.monotonic()
    say("== 2. The lifecycle hook service, end to end (local AWS simulator)")
    say()
    say("starting the AWS simulator (moto, time scale 0.1) ...")
    with World(time_scale=0.1, name="demo") as w:
        say(f"  simulator at {w.sim.base_url}")
        net = w.build_network(("sig", "media"), name="demo")
        say(f"built VPC {net.vpc_id} in {', '.join(AZS)} with two Multus networks:")
        with open(config, encoding="utf-8") as f:
            example = json.load(f)
        pods = {n["name"]: n.get("pod_ranges", []) for g in example["node_groups"] for n in g["networks"]}
        for name in ("sig", "media"):
            subs = w.subnets_of(name)
            say(f"  {name:<6} " + "   ".join(f"{az}: {sid} {w.subnet_cidrs[sid]}" for az, sid in sorted(subs.items())))
        # the DHCP network's pod ranges are protected by explicit CIDR reservations in EC2
        for cidr in pods.get("media", []):
            for az, sid in w.subnets_of("media").items():
                if ipaddress.ip_network(cidr).subnet_of(ipaddress.ip_network(w.subnet_cidrs[sid])):
                    w.reserve(sid, cidr)
        say(f"  pod ranges: sig (first-free) {', '.join(pods.get('sig', []))}; media (dhcp) "
            f"{', '.join(pods.get('media', []))}, reserved in EC2 as explicit CIDR reservations")
        groups, limits = load_config(config, w)
        say()
        say(f"starting multus-hookd serve with {os.path.relpath(config, REPO)} "
            "(endpoints, ports and paths pointed at the simulator) ...")
        d = w.daemon("demo", groups, limits=limits)
        say(f"  intake http://127.0.0.1:{d.intake_port}/v1/events   admin {d.admin_url}")
        w.deliver()
        say("  the simulator delivers lifecycle events as an EventBridge API destination "
            "(POST with the API key header)")
        w.asg(ASG, desired=0, heartbeat_timeout=3600)
        say()
        say(f"scaling Auto Scaling group {ASG} from 0 to 4 (launch hook holds each instance in Pending:Wait) ...")
        w.scale(ASG, 4)
        inst = watch(w, 4, "4 InService instances")
        say()
        say("every instance, with the ENIs the daemon created and attached:")
        table(w, inst)
        before = {i["id"]: [e["id"] for e in w.enis_of(i["id"])] for i in inst}
        launch = w.lifecycle(group=ASG, transition=LAUNCHING)
        say()
        say(f"lifecycle actions completed: {sum(1 for a in launch if a['result'] == 'CONTINUE')} x CONTINUE "
            f"(each exactly once: {all(len(w.completes(a['token'])) == 1 for a in launch)})")
        n_before = len(w.multus_enis())

        say()
        say("scaling in to 1 (the terminate hook holds each victim in Terminating:Wait) ...")
        w.scale(ASG, 1)
        inst = watch(w, 1, "1 InService instance")
        w.wait_settled(ASG, TERMINATING, 3)
        say()
        say("what is left:")
        table(w, inst)
        say()
        gone = [iid for iid in before if iid not in {i["id"] for i in inst}]
        ok = True
        say("ENIs of the terminated workers (detached and deleted by the daemon before it completed the action):")
        existing = {e["id"] for e in w.all_enis()}
        for iid in gone:
            for eni in before[iid]:
                state = "deleted" if eni not in existing else "STILL THERE"
                ok = ok and eni not in existing
                say(f"  {iid}  {eni}  {state}")
        left = [e for e in w.multus_enis() if e["tags"].get(TAG_INSTANCE) in gone]
        ok = ok and not left
        say(f"Multus ENIs in the VPC: {n_before} before, {len(w.multus_enis())} now")
        acts = d.actions()
        summary: dict[str, int] = {}
        for a in acts:
            key = f"{'launch' if a['transition'] == LAUNCHING else 'terminate'} {a['state']} {a.get('result') or ''}"
            summary[key.strip()] = summary.get(key.strip(), 0) + 1
        say("the daemon's record (GET /v1/actions): " + ", ".join(f"{v} x {k}" for k, v in sorted(summary.items())))
        say()
        status = d.stop()
        say(f"stopped multus-hookd (SIGTERM, exit {status}) and the simulator; "
            f"demo took {time.monotonic() - t0:.0f} s")
        ok = ok and status == 0
    if not ok:
        say("demo: something did not happen as it should (see above)")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hookd", default=os.environ.get("HOOKD_BIN"), help="the multus-hookd binary")
    ap.add_argument("--config", default=DEFAULT_CONFIG, help="the example configuration")
    args = ap.parse_args(argv)
    if not args.hookd:
        ap.error("--hookd (or HOOKD_BIN) is required")
    # scripts/demo.sh runs this as a background job, which starts with SIGINT
    # ignored: take Ctrl-C back, so it unwinds through the cleanups.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return run(os.path.abspath(args.hookd), os.path.abspath(args.config))
    except KeyboardInterrupt:
        say("demo: interrupted; everything it started was stopped")
        return 130
    except SystemExit:
        say("demo: terminated; everything it started was stopped")
        raise
    except AssertionError as e:
        say(f"demo: {e}")
        return 1
    except Exception as e:  # e.g. the simulator went away
        say(f"demo: failed: {type(e).__name__}: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
