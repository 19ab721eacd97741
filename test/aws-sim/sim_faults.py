"""Fault injection and throttling for the simulator.

Fault rules (POST /_sim/faults) match by service and action and act on a request:
  throttle      EC2: 503 RequestLimitExceeded; Query services: 400 Throttling;
                JSON services: 400 ThrottlingException. Nothing reaches moto.
  error-before  an error answer (default 500 InternalError / InternalFailure), nothing
                reaches moto. status and code may be given (e.g. 400 and
                InsufficientFreeAddressesInSubnet) to inject any AWS error.
  error-after   moto performs the action, its answer is discarded and a 500 (or the
                given status/code) is sent instead: the effect happened, the caller
                cannot know (tests idempotent retries).
  drop          the connection is closed without an answer, before the action.
  drop-after    the action takes effect, then the connection is closed without an answer.
  latency       sleep ms (+ uniform 0..jitter_ms) before the action, then go on.
Each rule has skip (matching calls let through first), count (how many times it fires;
absent = unlimited) and probability (drawn from a seeded RNG: deterministic for a given
seed and request order). Rules are tried in order; latency rules add up, the first other
rule that fires decides.

Token buckets (POST /_sim/throttle) model AWS's per-account, per-Region, per-API
request-rate limits with the documented sizes (docs/aws-facts.md, "Rate limits"), burst and refill
multiplied by a scale factor. A request finding its bucket empty is throttled as above.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

from sim_core import DropConnection, Sim, SimRequest, SimResponse, aws_error

KINDS = ("throttle", "error-before", "error-after", "drop", "drop-after", "latency")

# (burst, refill per second) per EC2 API, from AWS's documented defaults.
EC2_BUCKETS: dict[str, tuple[float, float]] = {
    "CreateNetworkInterface": (100, 5),
    "DeleteNetworkInterface": (100, 5),
    "ModifyNetworkInterfaceAttribute": (100, 5),
    "AssignIpv6Addresses": (100, 5),
    "UnassignIpv6Addresses": (100, 5),
    "AssignPrivateIpAddresses": (100, 5),
    "UnassignPrivateIpAddresses": (100, 5),
    "CreateTags": (100, 10),
    "DeleteTags": (100, 10),
    "CreateSubnetCidrReservation": (5, 1),
    "DeleteSubnetCidrReservation": (5, 1),
    "GetSubnetCidrReservations": (5, 1),
}
EC2_MUTATING_DEFAULT = (50, 5)
EC2_DESCRIBE = (100, 20)
EC2_DESCRIBE_UNFILTERED = (50, 10)
# Auto Scaling publishes no bucket sizes; this default is a guess that rarely bites.
QUERY_DEFAULT = (100, 20)

_NON_MUTATING_PREFIXES = ("Describe", "Get", "List", "Search")


class FaultRule:
    def __init__(self, rule_id: int, spec: dict[str, Any]):
        kind = spec.get("kind")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        self.id = rule_id
        self.kind: str = kind
        self.service: str | None = spec.get("service") or None
        action = spec.get("action") or None
        self.actions: set[str] | None = (
            {action} if isinstance(action, str) else set(action) if action else None
        )
        self.count: int | None = None if spec.get("count") is None else int(spec["count"])
        self.skip = int(spec.get("skip", 0))
        self.probability = float(spec.get("probability", 1.0))
        self.ms = float(spec.get("ms", 0.0))
        self.jitter_ms = float(spec.get("jitter_ms", 0.0))
        self.status: int | None = None if spec.get("status") is None else int(spec["status"])
        self.code: str | None = spec.get("code")
        self.message: str | None = spec.get("message")
        if self.count is not None and self.count < 0 or self.skip < 0:
            raise ValueError("count and skip must be >= 0")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be within [0, 1]")
        if self.ms < 0 or self.jitter_ms < 0:
            raise ValueError("ms and jitter_ms must be >= 0")
        self.seen = 0
        self.fired = 0

    def matches(self, req: SimRequest) -> bool:
        if self.service is not None and self.service != req.service:
            return False
        return self.actions is None or req.action in self.actions

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "service": self.service,
            "action": sorted(self.actions)[0] if self.actions and len(self.actions) == 1 else (
                sorted(self.actions) if self.actions else None
            ),
            "count": self.count,
            "skip": self.skip,
            "probability": self.probability,
            "seen": self.seen,
            "fired": self.fired,
        }
        if self.kind == "latency":
            out.update(ms=self.ms, jitter_ms=self.jitter_ms)
        if self.status is not None:
            out["status"] = self.status
        if self.code is not None:
            out["code"] = self.code
        return out


class Bucket:
    def __init__(self, burst: float, refill: float):
        self.burst = burst
        self.refill = refill
        self.tokens = burst
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.refill)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class Faults:
    """State of fault rules and token buckets; one per Sim (sim.faults)."""

    def __init__(self, sim: Sim, seed: int = 0):
        self.sim = sim
        self.lock = threading.Lock()
        self.rules: list[FaultRule] = []
        self.next_id = 1
        self.rng = random.Random(seed)
        self.throttle_enabled = False
        self.throttle_scale = 1.0
        self.overrides: dict[str, tuple[float, float]] = {}
        self.buckets: dict[tuple[str, str, str], Bucket] = {}
        self.throttled = 0

    # --- rules --------------------------------------------------------------
    def add(self, spec: dict[str, Any]) -> FaultRule:
        with self.lock:
            rule = FaultRule(self.next_id, spec)
            self.next_id += 1
            self.rules.append(rule)
        self.sim.record("fault-rule", rule=rule.to_json())
        return rule

    def clear(self, rule_id: int | None = None) -> int:
        with self.lock:
            before = len(self.rules)
            self.rules = [r for r in self.rules if rule_id is not None and r.id != rule_id]
            return before - len(self.rules)

    def pick(self, req: SimRequest) -> tuple[list[FaultRule], FaultRule | None]:
        """The latency rules and the one other rule (if any) firing for req."""
        delays: list[FaultRule] = []
        chosen: FaultRule | None = None
        with self.lock:
            for rule in self.rules:
                if chosen is not None and rule.kind != "latency":
                    continue
                if not rule.matches(req):
                    continue
                rule.seen += 1
                if rule.seen <= rule.skip:
                    continue
                if rule.count is not None and rule.fired >= rule.count:
                    continue
                if rule.probability < 1.0 and self.rng.random() >= rule.probability:
                    continue
                rule.fired += 1
                if rule.kind == "latency":
                    delays.append(rule)
                else:
                    chosen = rule
        return delays, chosen

    def jitter(self, rule: FaultRule) -> float:
        with self.lock:
            return rule.ms + (self.rng.uniform(0.0, rule.jitter_ms) if rule.jitter_ms else 0.0)

    # --- buckets ------------------------------------------------------------
    def bucket_size(self, req: SimRequest) -> tuple[str, tuple[float, float]] | None:
        svc = req.service or "?"
        action = req.action
        key = f"{svc}:{action}"
        if key in self.overrides:
            return action, self.overrides[key]
        if req.service == "ec2":
            if action in EC2_BUCKETS:
                return action, EC2_BUCKETS[action]
            if action.startswith(_NON_MUTATING_PREFIXES):
                if _unfiltered(req):
                    return action + ":unfiltered", EC2_DESCRIBE_UNFILTERED
                return action, EC2_DESCRIBE
            return action, EC2_MUTATING_DEFAULT
        if f"{svc}:*" in self.overrides:
            return action, self.overrides[f"{svc}:*"]
        if req.service == "autoscaling":
            return action, QUERY_DEFAULT
        return None

    def take_token(self, req: SimRequest) -> bool:
        if not self.throttle_enabled or not req.action:
            return True
        size = self.bucket_size(req)
        if size is None:
            return True
        name, (burst, refill) = size
        key = (req.region or self.sim.default_region, req.service or "?", name)
        with self.lock:
            b = self.buckets.get(key)
            if b is None:
                b = Bucket(max(1.0, burst * self.throttle_scale), refill * self.throttle_scale)
                self.buckets[key] = b
            ok = b.take()
            if not ok:
                self.throttled += 1
            return ok

    def set_throttle(self, enabled: bool, scale: float, overrides: dict[str, Any] | None) -> None:
        with self.lock:
            self.throttle_enabled = enabled
            self.throttle_scale = scale
            self.overrides = {}
            if overrides is not None:
                for k, v in overrides.items():
                    burst, refill = float(v[0]), float(v[1])
                    if burst < 1 or refill < 0:
                        raise ValueError(f"bucket {k}: burst >= 1 and refill >= 0 required")
                    self.overrides[k] = (burst, refill)
            self.buckets = {}
            self.throttled = 0

    def throttle_state(self) -> dict[str, Any]:
        with self.lock:
            return {
                "enabled": self.throttle_enabled,
                "scale": self.throttle_scale,
                "overrides": {k: list(v) for k, v in self.overrides.items()},
                "throttled": self.throttled,
                "buckets": {
                    f"{r}/{s}/{a}": {"burst": b.burst, "refill": b.refill, "tokens": round(b.tokens, 3)}
                    for (r, s, a), b in self.buckets.items()
                },
            }


def _unfiltered(req: SimRequest) -> bool:
    """A Describe call with no filter, no id list and no MaxResults (AWS's costlier bucket)."""
    for k in req.params:
        if k.startswith("Filter.") or k == "MaxResults" or ".1" in k or k.endswith("Id"):
            return False
    return True


def throttle_response(req: SimRequest) -> SimResponse:
    if req.protocol == "ec2":
        return aws_error(req, 503, "RequestLimitExceeded", "Request limit exceeded.")
    if req.protocol == "json":
        return aws_error(req, 400, "ThrottlingException", "Rate exceeded")
    return aws_error(req, 400, "Throttling", "Rate exceeded")


def error_response(req: SimRequest, rule: FaultRule) -> SimResponse:
    status = rule.status or 500
    if rule.code:
        code = rule.code
    elif status == 503:
        code = "ServiceUnavailable" if req.protocol != "ec2" else "Unavailable"
    elif status >= 500:
        code = "InternalError" if req.protocol == "ec2" else "InternalFailure"
    else:
        code = "InvalidParameterValue" if req.protocol == "ec2" else "ValidationError"
    msg = rule.message or (
        "An internal error has occurred" if status >= 500 else "Injected error (simulator fault rule)"
    )
    return aws_error(req, status, code, msg)


def _pre_hook(sim: Sim, req: SimRequest) -> SimResponse | None:
    faults: Faults = sim.faults  # type: ignore[attr-defined]
    if not req.action:
        return None
    delays, rule = faults.pick(req)
    for d in delays:
        ms = faults.jitter(d)
        sim.record("latency", rule_id=d.id, service=req.service, action=req.action, ms=round(ms, 3))
        time.sleep(ms / 1000.0)
    if rule is None:
        if not faults.take_token(req):
            req.fault = "bucket"  # type: ignore[attr-defined]
            sim.record("throttled", service=req.service, action=req.action, source="bucket")
            return throttle_response(req)
        return None
    req.fault = rule.kind  # type: ignore[attr-defined]
    req.fault_rule = rule  # type: ignore[attr-defined]
    sim.record("fault", rule_id=rule.id, fault=rule.kind, service=req.service, action=req.action)
    if rule.kind == "throttle":
        return throttle_response(req)
    if rule.kind == "error-before":
        return error_response(req, rule)
    if rule.kind == "drop":
        raise DropConnection()
    return None  # error-after, drop-after: act once moto answered


def _post_hook(sim: Sim, req: SimRequest, resp: SimResponse) -> SimResponse:
    rule: FaultRule | None = getattr(req, "fault_rule", None)
    if rule is None:
        return resp
    if rule.kind == "error-after":
        return error_response(req, rule)
    if rule.kind == "drop-after":
        raise DropConnection()
    return resp


# --- control routes ---------------------------------------------------------


def _ctl_add(sim: Sim, body: Any, query: dict[str, str]) -> tuple[int, Any]:
    if not isinstance(body, dict):
        return 400, {"error": "JSON object expected"}
    specs = body.get("rules") if "rules" in body else [body]
    rules = [sim.faults.add(s).to_json() for s in specs]  # type: ignore[attr-defined]
    return 200, rules[0] if "rules" not in body else {"rules": rules}


def _ctl_list(sim: Sim, body: Any, query: dict[str, str]) -> tuple[int, Any]:
    f: Faults = sim.faults  # type: ignore[attr-defined]
    with f.lock:
        return 200, {"faults": [r.to_json() for r in f.rules]}


def _ctl_clear(sim: Sim, body: Any, query: dict[str, str]) -> tuple[int, Any]:
    rid = query.get("id")
    n = sim.faults.clear(int(rid) if rid else None)  # type: ignore[attr-defined]
    return 200, {"removed": n}


def _ctl_seed(sim: Sim, body: Any, query: dict[str, str]) -> tuple[int, Any]:
    f: Faults = sim.faults  # type: ignore[attr-defined]
    seed = int((body or {})["seed"])
    with f.lock:
        f.rng = random.Random(seed)
    return 200, {"seed": seed}


def _ctl_throttle(sim: Sim, body: Any, query: dict[str, str]) -> tuple[int, Any]:
    body = body or {}
    enabled = bool(body.get("enabled", True))
    scale = float(body.get("scale", 1.0))
    if not scale > 0:
        return 400, {"error": "scale must be > 0"}
    sim.faults.set_throttle(enabled, scale, body.get("buckets"))  # type: ignore[attr-defined]
    return 200, sim.faults.throttle_state()  # type: ignore[attr-defined]


def _ctl_throttle_get(sim: Sim, body: Any, query: dict[str, str]) -> tuple[int, Any]:
    return 200, sim.faults.throttle_state()  # type: ignore[attr-defined]


def check_moto() -> None:
    """Nothing of moto is patched here: faults act in the WSGI layer."""


def install(sim: Sim) -> None:
    sim.faults = Faults(sim)  # type: ignore[attr-defined]
    sim.add_pre_hook(_pre_hook)
    sim.add_post_hook(_post_hook)
    sim.register_control("POST", "/_sim/faults", _ctl_add)
    sim.register_control("GET", "/_sim/faults", _ctl_list)
    sim.register_control("DELETE", "/_sim/faults", _ctl_clear)
    sim.register_control("POST", "/_sim/faults/seed", _ctl_seed)
    sim.register_control("POST", "/_sim/throttle", _ctl_throttle)
    sim.register_control("GET", "/_sim/throttle", _ctl_throttle_get)
