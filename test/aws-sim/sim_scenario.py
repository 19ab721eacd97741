#!/usr/bin/env python3
"""Scenario builders for the AWS simulator (exported through simctl).

    from simctl import start_sim, build_scenario, EventSink
    with start_sim(time_scale=0.01) as sim, EventSink() as sink:
        sc = build_scenario(sim, delivery_url=sink.url, auth=api_key_auth("x-api-key", "s3cret"))
        sim.client("autoscaling").set_desired_capacity(AutoScalingGroupName=sc.asg_name, DesiredCapacity=2)
        sink.wait_for(2)
        complete_all(sim, sc.asg_name)

Every builder drives the simulator through boto3 (sim.client(...)) exactly as a
test or the daemon would, so the request log shows the same calls AWS would see.
The control-API helpers (lifecycle(), deliveries(), configure_delivery(), ...)
take the handle returned by simctl.start_sim() (or any simctl.SimClient).

`python3 test/aws-sim/sim_scenario.py --demo` runs the whole story end to end.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

__all__ = [
    "EventSink",
    "Scenario",
    "api_key_auth",
    "basic_auth",
    "build_network",
    "create_launch_template",
    "create_asg",
    "build_scenario",
    "configure_delivery",
    "reset_delivery",
    "flush_delivery",
    "deliveries",
    "lifecycle",
    "wait_until",
    "wait_lifecycle",
    "wait_deliveries",
    "asg_instances",
    "complete_all",
    "sns_info",
    "expire_action",
    "advance_action",
    "MULTUS_NETWORK_TAG",
    "MULTUS_AZ_TAG",
    "LAUNCHING",
    "TERMINATING",
]

LAUNCHING = "autoscaling:EC2_INSTANCE_LAUNCHING"
TERMINATING = "autoscaling:EC2_INSTANCE_TERMINATING"
MULTUS_NETWORK_TAG = "multus.io/network"
MULTUS_AZ_TAG = "multus.io/zone"
DEFAULT_AMI = "ami-12c6146b"  # one of moto's built-in AMIs


# --------------------------------------------------------------------------
# A tiny local HTTP endpoint that records what arrives
# --------------------------------------------------------------------------
class EventSink:
    """A loopback HTTP server recording every request (method, path, headers, body).

    script: a list of answers used in order, then the default (200): each is an int
    status or a dict {"status", "headers", "delay_s", "body"}; delay_s sleeps before
    answering (to trigger the sender's timeout). on_request(rec) may return such an
    answer to override the script. Use as a context manager or call close()."""

    def __init__(self, script: list[Any] | None = None, on_request: Any = None, echo: bool = False):
        self.requests: list[dict[str, Any]] = []
        self.script = list(script or [])
        self.on_request = on_request
        self.echo = echo
        self._cv = threading.Condition()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a: Any) -> None:
                pass

            def _handle(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n > 0 else b""
                rec: dict[str, Any] = {
                    "time": time.time(),
                    "method": self.command,
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body,
                }
                try:
                    rec["json"] = json.loads(body) if body else None
                except ValueError:
                    rec["json"] = None
                answer = sink.on_request(rec) if sink.on_request else None
                with sink._cv:
                    if answer is None:
                        answer = sink.script.pop(0) if sink.script else 200
                    rec["answer"] = answer
                if isinstance(answer, int):
                    answer = {"status": answer}
                if answer.get("delay_s"):
                    time.sleep(float(answer["delay_s"]))
                if sink.echo:
                    sink._print(rec)
                with sink._cv:
                    sink.requests.append(rec)
                    sink._cv.notify_all()
                out = answer.get("body", b"")
                if isinstance(out, str):
                    out = out.encode()
                try:
                    self.send_response(int(answer.get("status", 200)))
                    for k, v in (answer.get("headers") or {}).items():
                        self.send_header(k, str(v))
                    self.send_header("Content-Length", str(len(out)))
                    self.end_headers()
                    self.wfile.write(out)
                except OSError:
                    pass  # the sender timed out and went away

            do_POST = _handle
            do_GET = _handle
            do_PUT = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/events"
        self._t = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._t.start()

    @staticmethod
    def _print(rec: dict[str, Any]) -> None:
        j = rec.get("json")
        h = rec["headers"]
        if isinstance(j, dict) and "detail-type" in j:
            d = j.get("detail", {})
            print(f"  [event] {j['detail-type']}: {d.get('EC2InstanceId')} "
                  f"hook={d.get('LifecycleHookName')} token={str(d.get('LifecycleActionToken'))[:8]}...")
        elif "x-amz-sns-message-type" in h:
            print(f"  [sns] {h['x-amz-sns-message-type']} {h.get('x-amz-sns-message-id')}")
        else:
            print(f"  [http] {rec['method']} {rec['path']} {len(rec['body'])} bytes")
        sys.stdout.flush()

    def wait_for(self, n: int, timeout: float = 10.0, pred: Any = None) -> list[dict[str, Any]]:
        """Wait until n requests (matching pred, if given) arrived; returns them.
        Raises AssertionError with what did arrive on timeout."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while True:
                got = [r for r in self.requests if pred is None or pred(r)]
                if len(got) >= n:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {n} requests at {self.url}, got {len(got)}: "
                                         f"{[r['json'] or r['body'][:200] for r in got]}")
                self._cv.wait(left)

    def events(self) -> list[Any]:
        with self._cv:
            return [r["json"] for r in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "EventSink":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def api_key_auth(header: str, value: str) -> dict[str, str]:
    return {"type": "api_key", "header": header, "value": value}


def basic_auth(user: str, password: str) -> dict[str, str]:
    return {"type": "basic", "user": user, "password": password}


# --------------------------------------------------------------------------
# AWS resources through boto3
# --------------------------------------------------------------------------
class Scenario(dict):
    """A dict with attribute access: what build_scenario() made."""

    def __getattr__(self, k: str) -> Any:
        try:
            return self[k]
        except KeyError:
            raise AttributeError(k) from None


def _tags(d: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in d.items()]


def build_network(
    sim: Any,
    azs: list[str] | None = None,
    networks: tuple[str, ...] = ("sig", "oam"),
    vpc_cidr: str = "10.0.0.0/16",
    region: str | None = None,
    name: str = "multus",
) -> Scenario:
    """A VPC with, per AZ, one node subnet and one Multus subnet per network, tagged
    {"multus.io/network": net, "multus.io/zone": az}; one node and one Multus security group.

    Addressing: node subnet 10.0.<i>.0/24, Multus subnet for network j 10.0.<16*(j+1)+i>.0/24."""
    ec2 = sim.client("ec2", region)
    region = region or sim.region
    azs = azs or [f"{region}a", f"{region}b"]
    base = vpc_cidr.split(".")
    vpc = ec2.create_vpc(CidrBlock=vpc_cidr, TagSpecifications=[
        {"ResourceType": "vpc", "Tags": _tags({"Name": name})}])["Vpc"]["VpcId"]
    node_subnets: dict[str, str] = {}
    multus_subnets: dict[str, dict[str, str]] = {n: {} for n in networks}
    cidrs: dict[str, str] = {}
    for i, az in enumerate(azs):
        cidr = f"{base[0]}.{base[1]}.{i}.0/24"
        sid = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=az, TagSpecifications=[
            {"ResourceType": "subnet", "Tags": _tags({"Name": f"{name}-nodes-{az}", "kubernetes.io/role/internal-elb": "1"})}
        ])["Subnet"]["SubnetId"]
        node_subnets[az] = sid
        cidrs[sid] = cidr
        for j, net in enumerate(networks):
            cidr = f"{base[0]}.{base[1]}.{16 * (j + 1) + i}.0/24"
            sid = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=az, TagSpecifications=[
                {"ResourceType": "subnet", "Tags": _tags({
                    "Name": f"{name}-{net}-{az}", MULTUS_NETWORK_TAG: net, MULTUS_AZ_TAG: az})}
            ])["Subnet"]["SubnetId"]
            multus_subnets[net][az] = sid
            cidrs[sid] = cidr
    node_sg = ec2.create_security_group(GroupName=f"{name}-nodes", Description="worker nodes", VpcId=vpc)["GroupId"]
    multus_sg = ec2.create_security_group(GroupName=f"{name}-multus", Description="multus ENIs", VpcId=vpc)["GroupId"]
    return Scenario(vpc_id=vpc, azs=azs, networks=list(networks), node_subnets=node_subnets,
                    multus_subnets=multus_subnets, subnet_cidrs=cidrs,
                    node_sg=node_sg, multus_sg=multus_sg, region=region)


def create_launch_template(sim: Any, name: str, security_group_ids: list[str],
                           instance_type: str = "m5.large", image_id: str = DEFAULT_AMI,
                           region: str | None = None) -> str:
    ec2 = sim.client("ec2", region)
    r = ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData={
        "ImageId": image_id, "InstanceType": instance_type, "SecurityGroupIds": security_group_ids,
        "TagSpecifications": [{"ResourceType": "instance", "Tags": _tags({"multus.io/node": "true"})}],
    })
    return r["LaunchTemplate"]["LaunchTemplateId"]


def create_asg(
    sim: Any,
    name: str,
    launch_template: str,
    subnet_ids: list[str],
    desired: int = 0,
    min_size: int = 0,
    max_size: int = 10,
    launch_hook: str | None = "multus-launch",
    terminate_hook: str | None = "multus-terminate",
    heartbeat_timeout: int = 300,
    default_result: str = "ABANDON",
    metadata: str | None = None,
    target_arn: str | None = None,
    role_arn: str | None = None,
    hooks_via: str = "spec",
    region: str | None = None,
    extra_hooks: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An ASG over subnet_ids with launch/terminate hooks, made either in the
    CreateAutoScalingGroup call (hooks_via="spec": LifecycleHookSpecificationList,
    which applies to the first instances) or by PutLifecycleHook afterwards
    (hooks_via="put": the group is created empty, hooks added, then scaled to desired).
    extra_hooks: more hook specifications (other tools' hooks: a node drainer, a
    bootstrap check), added as given."""
    asg = sim.client("autoscaling", region)
    hooks = []
    for hname, tr in ((launch_hook, LAUNCHING), (terminate_hook, TERMINATING)):
        if not hname:
            continue
        h: dict[str, Any] = {"LifecycleHookName": hname, "LifecycleTransition": tr,
                             "HeartbeatTimeout": heartbeat_timeout, "DefaultResult": default_result}
        if metadata is not None:
            h["NotificationMetadata"] = metadata
        if target_arn:
            h["NotificationTargetARN"] = target_arn
        if role_arn:
            h["RoleARN"] = role_arn
        hooks.append(h)
    hooks.extend(dict(h) for h in (extra_hooks or []))
    kw: dict[str, Any] = dict(
        AutoScalingGroupName=name,
        LaunchTemplate={"LaunchTemplateId": launch_template} if launch_template.startswith("lt-")
        else {"LaunchTemplateName": launch_template},
        MinSize=min_size, MaxSize=max_size,
        VPCZoneIdentifier=",".join(subnet_ids),
        Tags=[{"Key": "Name", "Value": name, "PropagateAtLaunch": True}],
    )
    if hooks_via == "spec":
        asg.create_auto_scaling_group(DesiredCapacity=desired, LifecycleHookSpecificationList=hooks, **kw)
    elif hooks_via == "put":
        asg.create_auto_scaling_group(DesiredCapacity=0, **kw)
        for h in hooks:
            asg.put_lifecycle_hook(AutoScalingGroupName=name, **h)
        if desired:
            asg.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=desired)
    else:
        raise ValueError("hooks_via must be 'spec' or 'put'")
    return {"name": name, "hooks": hooks}


def build_scenario(
    sim: Any,
    asg_name: str = "multus-workers",
    networks: tuple[str, ...] = ("sig", "oam"),
    azs: list[str] | None = None,
    desired: int = 0,
    delivery_url: str | None = None,
    auth: dict[str, str] | None = None,
    heartbeat_timeout: int = 300,
    default_result: str = "ABANDON",
    metadata: str | None = None,
    target_arn: str | None = None,
    hooks_via: str = "spec",
    instance_type: str = "m5.large",
    region: str | None = None,
) -> Scenario:
    """Network + launch template + ASG over the node subnets of every AZ with launch and
    terminate hooks; with delivery_url, the simulator POSTs the EventBridge events there."""
    net = build_network(sim, azs=azs, networks=networks, region=region, name=asg_name)
    lt_name = f"{asg_name}-lt"
    lt = create_launch_template(sim, lt_name, [net.node_sg], instance_type=instance_type, region=region)
    if metadata is None:
        metadata = json.dumps({"networks": list(networks)})
    if delivery_url:
        configure_delivery(sim, delivery_url, auth=auth, groups=[asg_name])
    create_asg(sim, asg_name, lt, [net.node_subnets[az] for az in net.azs], desired=desired,
               heartbeat_timeout=heartbeat_timeout, default_result=default_result,
               metadata=metadata, target_arn=target_arn, hooks_via=hooks_via, region=region)
    net.update(asg_name=asg_name, launch_template_id=lt, launch_template_name=lt_name,
               launch_hook="multus-launch", terminate_hook="multus-terminate", metadata=metadata)
    return net


# --------------------------------------------------------------------------
# Control-API helpers
# --------------------------------------------------------------------------
def configure_delivery(sim: Any, url: str | None = None, auth: dict[str, str] | None = None,
                       groups: list[str] | None = None, name: str = "direct",
                       append: bool = False, **extra: Any) -> dict[str, Any]:
    """Send every lifecycle event (optionally only of groups) to url as an EventBridge
    API destination would. extra keys (retry, sns, chaos) are merged into the config."""
    body: dict[str, Any] = dict(extra)
    if url:
        dest: dict[str, Any] = {"name": name, "url": url}
        if auth:
            dest["auth"] = auth
        if groups:
            dest["groups"] = groups
        current = sim.call("GET", "/_sim/delivery")["api_destinations"] if append else []
        if append and any(d.get("auth") for d in current):
            raise ValueError("append with authenticated destinations: pass the full list instead")
        body["api_destinations"] = current + [dest]
    return sim.call("POST", "/_sim/delivery", body)


def reset_delivery(sim: Any) -> None:
    sim.call("POST", "/_sim/delivery/reset", {})


def flush_delivery(sim: Any) -> None:
    """Release deliveries held back by chaos.reorder now (in reverse order)."""
    sim.call("POST", "/_sim/delivery/flush", {})


def deliveries(sim: Any, **query: Any) -> dict[str, Any]:
    """GET /_sim/deliveries: {"attempts": [...], "pending": n, "held": n};
    query: channel, target, event_id, kind, since."""
    return sim.call("GET", "/_sim/deliveries", query=query)


def lifecycle(sim: Any, **query: Any) -> list[dict[str, Any]]:
    """GET /_sim/lifecycle: every lifecycle action; query: group, instance_id, state, hook, transition."""
    return sim.call("GET", "/_sim/lifecycle", query=query)["actions"]


def sns_info(sim: Any, region: str | None = None) -> dict[str, Any]:
    """What a daemon needs to trust the SNS endpoints: ca_file, host, https_port, curl_* strings."""
    return sim.call("GET", "/_sim/sns", query={"region": region})


def expire_action(sim: Any, token: str) -> None:
    """Apply a waiting action's DefaultResult now, as if its heartbeat timeout fired."""
    sim.call("POST", "/_sim/lifecycle/expire", {"token": token})


def advance_action(sim: Any, token: str, seconds: float, keep_heartbeat: bool = False) -> None:
    """Pretend seconds of simulated time passed for one waiting action (keep_heartbeat:
    as if the daemon kept heartbeating, so only the global timeout comes closer)."""
    sim.call("POST", "/_sim/lifecycle/advance", {"token": token, "seconds": seconds,
                                                  "keep_heartbeat": keep_heartbeat})


def wait_until(fn: Any, timeout: float = 10.0, interval: float = 0.02, what: str = "condition") -> Any:
    """Poll fn() until it returns something truthy; returns it or raises AssertionError."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def wait_lifecycle(sim: Any, n: int, timeout: float = 10.0, **query: Any) -> list[dict[str, Any]]:
    """Wait until at least n lifecycle actions match query; returns them."""
    return wait_until(lambda: (lambda a: a if len(a) >= n else None)(lifecycle(sim, **query)),
                      timeout, what=f"{n} lifecycle actions {query}")


def wait_deliveries(sim: Any, pred: Any, n: int = 1, timeout: float = 10.0, **query: Any) -> list[dict[str, Any]]:
    """Wait until n delivery attempts satisfy pred(attempt); returns them."""
    def got() -> Any:
        a = [x for x in deliveries(sim, **query)["attempts"] if pred(x)]
        return a if len(a) >= n else None
    return wait_until(got, timeout, what=f"{n} delivery attempts {query}")


def asg_instances(sim: Any, group: str, region: str | None = None) -> list[dict[str, Any]]:
    """[{id, state, az, subnet_id}] of the group's instances (Auto Scaling and EC2 views)."""
    asg = sim.client("autoscaling", region)
    ec2 = sim.client("ec2", region)
    g = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[group])["AutoScalingGroups"]
    if not g:
        return []
    out = []
    ids = [i["InstanceId"] for i in g[0]["Instances"]]
    subnet = {}
    if ids:
        for r in ec2.describe_instances(InstanceIds=ids)["Reservations"]:
            for i in r["Instances"]:
                subnet[i["InstanceId"]] = i.get("SubnetId")
    for i in g[0]["Instances"]:
        out.append({"id": i["InstanceId"], "state": i["LifecycleState"], "az": i["AvailabilityZone"],
                    "subnet_id": subnet.get(i["InstanceId"])})
    return out


def complete_all(sim: Any, group: str, result: str = "CONTINUE", by: str = "token",
                 region: str | None = None) -> int:
    """CompleteLifecycleAction for every waiting action of group (by token or instance id)."""
    asg = sim.client("autoscaling", region)
    n = 0
    for a in lifecycle(sim, group=group, state="waiting"):
        kw: dict[str, Any] = {"LifecycleHookName": a["hook"], "AutoScalingGroupName": group,
                              "LifecycleActionResult": result}
        if by == "token":
            kw["LifecycleActionToken"] = a["token"]
        else:
            kw["InstanceId"] = a["instance_id"]
        asg.complete_lifecycle_action(**kw)
        n += 1
    return n


# --------------------------------------------------------------------------
# The demo
# --------------------------------------------------------------------------
def _demo() -> int:
    from simctl import start_sim

    print("starting the AWS simulator (time scale 0.01: a 60 s heartbeat lasts 0.6 s)...")
    with start_sim(time_scale=0.01) as sim, EventSink(echo=True) as sink:
        print(f"  simulator at {sim.base_url}; event endpoint at {sink.url}")
        sc = build_scenario(sim, asg_name="demo-workers", delivery_url=sink.url,
                            auth=api_key_auth("x-hookd-key", "demo-secret"), heartbeat_timeout=3600)
        print(f"built VPC {sc.vpc_id} with AZs {sc.azs}")
        for net, per_az in sc.multus_subnets.items():
            print(f"  Multus network {net!r}: " + ", ".join(f"{az}={sid}" for az, sid in per_az.items()))
        asg = sim.client("autoscaling")
        print("scaling demo-workers out to 4 ...")
        asg.set_desired_capacity(AutoScalingGroupName=sc.asg_name, DesiredCapacity=4)
        sink.wait_for(4, timeout=15)
        print("instances while the events arrive:")
        for i in asg_instances(sim, sc.asg_name):
            print(f"  {i['id']}  {i['state']:<14} {i['az']}  {i['subnet_id']}")
        waiting = [i for i in asg_instances(sim, sc.asg_name) if i["state"] == "Pending:Wait"]
        if len(waiting) != 4:
            print(f"demo: expected 4 instances in Pending:Wait, found {len(waiting)}", file=sys.stderr)
            return 1
        key = sink.requests[0]["headers"].get("x-hookd-key")
        print(f"each event came with the API key header (x-hookd-key present: {key is not None})")
        # A daemon would now create and attach the Multus ENIs, then complete.
        n = complete_all(sim, sc.asg_name)
        print(f"completed {n} lifecycle actions with CONTINUE")
        for i in asg_instances(sim, sc.asg_name):
            print(f"  {i['id']}  {i['state']:<14} {i['az']}")
        if any(i["state"] != "InService" for i in asg_instances(sim, sc.asg_name)):
            print("demo: not every instance reached InService", file=sys.stderr)
            return 1
        print("scaling in to 2: instances pass through Terminating:Wait ...")
        asg.set_desired_capacity(AutoScalingGroupName=sc.asg_name, DesiredCapacity=2)
        sink.wait_for(6, timeout=15)
        for i in asg_instances(sim, sc.asg_name):
            print(f"  {i['id']}  {i['state']:<16} {i['az']}")
        complete_all(sim, sc.asg_name)
        wait_until(lambda: len(asg_instances(sim, sc.asg_name)) == 2, what="scale-in")
        print("done: 2 instances InService, 2 terminated.")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--demo"]:
        return _demo()
    print(__doc__)
    print("usage: sim_scenario.py --demo")
    return 2


if __name__ == "__main__":
    sys.exit(main())
