"""Helpers shared by the engine end-to-end tests, on top of e2e_harness
(test/integration/e2e, imported from there: not copied, not edited).

    from engine_e2e import World, daemon, ...
    d = daemon(w, "main", groups, testing={"time_scale": 0.05}, limits={...})
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
E2E_DIR = os.path.abspath(os.path.join(HERE, "..", "e2e"))
if E2E_DIR not in sys.path:
    sys.path.insert(0, E2E_DIR)

import e2e_harness  # noqa: E402
from e2e_harness import (  # noqa: E402,F401
    AZS,
    LAUNCHING,
    REGION,
    TAG_DEVICE_INDEX,
    TAG_INSTANCE,
    TAG_NETWORK,
    TERMINATING,
    World,
    wait_for,
)


class EngineDaemon(e2e_harness.Daemon):
    """The harness's daemon plus the top-level `testing` section (test-only
    keys, docs/configuration.md) and extra `limits`."""

    def __init__(self, world: World, name: str, groups: list[dict[str, Any]],
                 testing: dict[str, Any] | None = None, **kw: Any):
        self.testing = testing
        super().__init__(world, name, groups, **kw)

    def config(self) -> dict[str, Any]:
        c = super().config()
        if self.testing:
            c["testing"] = self.testing
        return c


def daemon(w: World, name: str, groups: list[dict[str, Any]], start: bool = True,
           **kw: Any) -> EngineDaemon:
    d = EngineDaemon(w, name, groups, **kw)
    w.daemons.append(d)
    if start:
        d.start()
    return d


def eni_ids(w: World) -> set[str]:
    return {e["id"] for e in w.all_enis()}


def make_eni(w: World, subnet: str, tags: dict[str, str] | None = None) -> str:
    """An available ENI in `subnet`, created by the test (not the daemon)."""
    kw: dict[str, Any] = {"SubnetId": subnet, "Groups": [w.net.multus_sg],
                          "Description": "engine e2e fixture"}
    if tags:
        kw["TagSpecifications"] = [{"ResourceType": "network-interface",
                                    "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]
    return w.ec2.create_network_interface(**kw)["NetworkInterface"]["NetworkInterfaceId"]


def lifecycle_event(asg: str, hook: str, instance_id: str,
                    transition: str = LAUNCHING) -> dict[str, Any]:
    """An EventBridge lifecycle event for an action AWS does not know about
    (the daemon accepts it; completing it later gets a ValidationError)."""
    return {
        "version": "0", "id": str(uuid.uuid4()),
        "detail-type": "EC2 Instance-launch Lifecycle Action" if transition == LAUNCHING
        else "EC2 Instance-terminate Lifecycle Action",
        "source": "aws.autoscaling", "account": "123456789012",
        "time": "2024-01-01T00:00:00Z", "region": REGION,
        "resources": [f"arn:aws:autoscaling:{REGION}:123456789012:autoScalingGroup:x:"
                      f"autoScalingGroupName/{asg}"],
        "detail": {"LifecycleActionToken": str(uuid.uuid4()), "AutoScalingGroupName": asg,
                   "LifecycleHookName": hook, "EC2InstanceId": instance_id,
                   "LifecycleTransition": transition, "Origin": "EC2",
                   "Destination": "AutoScalingGroup"},
    }


def sweeps_since(w: World, seq: int) -> list[dict[str, Any]]:
    """The orphan sweep's DescribeNetworkInterfaces calls (tag-key filter) after seq."""
    out = []
    for r in w.requests("DescribeNetworkInterfaces", since=seq):
        p = r.get("params") or {}
        if any(k.startswith("Filter.") and k.endswith(".Name") and v == "tag-key"
               for k, v in p.items()) and r["status"] == 200:
            out.append(r)
    return out


def dump(x: Any) -> str:
    return json.dumps(x, indent=1, default=str)[:3000]
