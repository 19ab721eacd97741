"""Auto Scaling lifecycle for the AWS simulator (moto 5.2.1 patched in place).

What this module adds to moto's Auto Scaling (which puts every instance straight
into InService and drops hook targets and metadata):

- Lifecycle hooks from PutLifecycleHook and from CreateAutoScalingGroup's
  LifecycleHookSpecificationList, keeping NotificationTargetARN, RoleARN,
  NotificationMetadata, HeartbeatTimeout (30-7200, default 3600), DefaultResult
  and GlobalTimeout = min(48 h, 100 x HeartbeatTimeout). PutLifecycleHook on an
  existing hook updates only the fields given, as AWS does.
- Launches (create, SetDesiredCapacity, UpdateAutoScalingGroup, replacements)
  wait in Pending:Wait while a launch hook exists; scale-in and
  TerminateInstanceInAutoScalingGroup wait in Terminating:Wait while a terminate
  hook exists. CompleteLifecycleAction and RecordLifecycleActionHeartbeat are new
  methods on moto's AutoScalingResponse (so moto's auth checks still apply).
- Heartbeat and global timeouts run on a scheduler thread, scaled by the
  simulator's time scale, and apply the hook's DefaultResult. ABANDON on launch
  terminates the instance and the group launches a replacement.
- Instances are spread over the group's AZs and subnets (balanced, round-robin
  on ties) instead of all landing in the first subnet.

Every mutation of moto's backends here runs under sim.lock (an RLock).
Listeners (sim_events) receive a snapshot dict of each new lifecycle action and
of each hook whose notification target was set, after the API call's own
mutations are done; they must not block.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
import traceback
import uuid
from datetime import datetime, timezone

LAUNCHING = "autoscaling:EC2_INSTANCE_LAUNCHING"
TERMINATING = "autoscaling:EC2_INSTANCE_TERMINATING"
TRANSITIONS = (LAUNCHING, TERMINATING)
RESULTS = ("CONTINUE", "ABANDON")
HEARTBEAT_MIN_S = 30
HEARTBEAT_MAX_S = 7200
HEARTBEAT_DEFAULT_S = 3600
GLOBAL_TIMEOUT_MAX_S = 172800
METADATA_MAX_LEN = 1023
ASG_NAME_TAG = "aws:autoscaling:groupName"

# Wait and transient states an instance can be in; the "active" ones count
# towards desired capacity, as in AWS (Terminating* and Standby do not).
ACTIVE_STATES = ("Pending", "Pending:Wait", "Pending:Proceed", "InService")

_SIM = None
_LC = None
_ORIG = {}

# Callables set by sim_events (or tests): fn(info_dict). Called outside the
# API call's critical section when possible; must only enqueue work.
ACTION_LISTENERS = []
TEST_NOTIFICATION_LISTENERS = []
# fn(account_id, region, arn) -> None if the notification target can receive
# the test message, else the reason (PutLifecycleHook then fails like AWS).
TARGET_CHECKERS = []


def _now_iso(ms=True):
    t = datetime.now(timezone.utc)
    if ms:
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _mono_to_iso(mono):
    wall = time.time() + (mono - time.monotonic())
    t = datetime.fromtimestamp(wall, timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


# --------------------------------------------------------------------------
# Scheduler: one thread, a heap of timers. Callbacks must be short (they take
# sim.lock or hand work to a pool); slow work never runs on this thread.
# --------------------------------------------------------------------------
class Timer:
    __slots__ = ("due", "seq", "fn", "args", "cancelled")

    def __init__(self, due, seq, fn, args):
        self.due = due
        self.seq = seq
        self.fn = fn
        self.args = args
        self.cancelled = False

    def cancel(self):
        self.cancelled = True

    def __lt__(self, other):
        return (self.due, self.seq) < (other.due, other.seq)


class Scheduler:
    def __init__(self, name="sim-scheduler", on_error=None):
        self._heap = []
        self._seq = itertools.count()
        self._cv = threading.Condition()
        self._stopped = False
        self._on_error = on_error
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def call_later(self, delay_s, fn, *args):
        """Run fn(*args) on the scheduler thread after delay_s real seconds."""
        t = Timer(time.monotonic() + max(0.0, delay_s), next(self._seq), fn, args)
        with self._cv:
            heapq.heappush(self._heap, t)
            self._cv.notify()
        return t

    def call_at(self, due_mono, fn, *args):
        t = Timer(due_mono, next(self._seq), fn, args)
        with self._cv:
            heapq.heappush(self._heap, t)
            self._cv.notify()
        return t

    def stop(self):
        with self._cv:
            self._stopped = True
            self._cv.notify()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)

    def _run(self):
        while True:
            with self._cv:
                while not self._stopped:
                    if not self._heap:
                        self._cv.wait()
                        continue
                    delay = self._heap[0].due - time.monotonic()
                    if delay <= 0:
                        break
                    self._cv.wait(delay)
                if self._stopped:
                    return
                t = heapq.heappop(self._heap)
            if t.cancelled:
                continue
            try:
                t.fn(*t.args)
            except Exception:  # a broken callback must not stop the clock
                if self._on_error:
                    self._on_error(traceback.format_exc())


def get_scheduler(sim):
    """The simulator's shared scheduler (created on first use, stopped at shutdown)."""
    sched = getattr(sim, "_lifecycle_scheduler", None)
    if sched is None:
        sched = Scheduler(
            on_error=lambda tb: sim.record("scheduler_error", traceback=tb[-2000:])
        )
        sim._lifecycle_scheduler = sched
        sim.on_shutdown(lambda *a: sched.stop())
    return sched


def _scaled(seconds):
    return _SIM.scaled(seconds) if _SIM is not None else seconds


# --------------------------------------------------------------------------
# Lifecycle actions
# --------------------------------------------------------------------------
class Action:
    """One lifecycle action: an instance held by one hook in one transition."""

    def __init__(self, group, hook, instance_id, transition):
        self.token = str(uuid.uuid4())
        self.instance_id = instance_id
        self.group_name = group.name
        self.group_arn = group.arn
        self.hook_name = hook.name
        self.transition = transition
        self.account_id = group.account_id
        self.region = group.region
        self.heartbeat_timeout = int(hook.heartbeat_timeout)
        self.global_timeout = int(hook.global_timeout)
        self.default_result = hook.default_result
        self.notification_target_arn = hook.notification_target_arn
        self.role_arn = hook.role_arn
        self.notification_metadata = hook.notification_metadata
        if transition == LAUNCHING:
            self.origin, self.destination = "EC2", "AutoScalingGroup"
            self.wait_state = "Pending:Wait"
        else:
            self.origin, self.destination = "AutoScalingGroup", "EC2"
            self.wait_state = "Terminating:Wait"
        self.status = "waiting"  # waiting | completed | timed-out | cancelled
        self.result = None
        self.completed_by = None  # token | instance-id | heartbeat-timeout | global-timeout | ...
        self.created_at = _now_iso()
        self.completed_at = None
        self.heartbeats = []  # ISO times of RecordLifecycleActionHeartbeat
        self.instance_outcome = None  # InService | terminated | ...
        now = time.monotonic()
        self.global_deadline = now + _scaled(self.global_timeout)
        self.deadline = min(now + _scaled(self.heartbeat_timeout), self.global_deadline)
        self.timer = None

    def info(self):
        """Snapshot for listeners and the control API (no live references)."""
        return {
            "token": self.token,
            "instance_id": self.instance_id,
            "group": self.group_name,
            "group_arn": self.group_arn,
            "hook": self.hook_name,
            "transition": self.transition,
            "wait_state": self.wait_state,
            "origin": self.origin,
            "destination": self.destination,
            "account_id": self.account_id,
            "region": self.region,
            "heartbeat_timeout": self.heartbeat_timeout,
            "global_timeout": self.global_timeout,
            "default_result": self.default_result,
            "notification_target_arn": self.notification_target_arn,
            "role_arn": self.role_arn,
            "notification_metadata": self.notification_metadata,
            "state": self.status,
            "result": self.result,
            "completed_by": self.completed_by,
            "created_at": self.created_at,
            "completed_at": self.completed_at,
            "heartbeats": list(self.heartbeats),
            "heartbeat_deadline": _mono_to_iso(self.deadline),
            "global_deadline": _mono_to_iso(self.global_deadline),
            "instance_outcome": self.instance_outcome,
        }


class Lifecycle:
    def __init__(self, sim):
        self.sim = sim
        self.by_token = {}
        self.all = []  # every action, creation order
        self.waiting = {}  # instance_id -> [Action] of its current wait
        self.local = threading.local()

    # --- emission (deferred while an API call is still mutating) ---------
    def _emit(self, kind, info):
        buf = getattr(self.local, "deferred", None)
        if buf is not None:
            buf.append((kind, info))
            return
        self._dispatch(kind, info)

    def _dispatch(self, kind, info):
        listeners = ACTION_LISTENERS if kind == "action" else TEST_NOTIFICATION_LISTENERS
        for fn in list(listeners):
            try:
                fn(info)
            except Exception:
                self.sim.record("listener_error", kind=kind, traceback=traceback.format_exc()[-2000:])

    def defer(self):
        lc = self

        class _Ctx:
            def __enter__(self_inner):
                self_inner.outer = getattr(lc.local, "deferred", None)
                if self_inner.outer is None:
                    lc.local.deferred = []
                return self_inner

            def __exit__(self_inner, *exc):
                if self_inner.outer is None:
                    buf = lc.local.deferred
                    lc.local.deferred = None
                    # TEST_NOTIFICATIONs go first, as AWS sends them when the
                    # hook is put, before any instance reaches a wait state.
                    buf.sort(key=lambda kv: 0 if kv[0] == "test" else 1)
                    if exc[0] is None:
                        for kind, info in buf:
                            lc._dispatch(kind, info)
                return False

        return _Ctx()

    # --- starting and settling ------------------------------------------
    def start(self, group, state, hooks, transition):
        state.lifecycle_state = "Pending:Wait" if transition == LAUNCHING else "Terminating:Wait"
        actions = []
        for hook in hooks:
            a = Action(group, hook, state.instance.id, transition)
            self.by_token[a.token] = a
            self.all.append(a)
            actions.append(a)
            self._arm(a)
            self.sim.record(
                "lifecycle",
                transition=transition,
                state=state.lifecycle_state,
                instance_id=a.instance_id,
                group=a.group_name,
                hook=a.hook_name,
                token=a.token,
            )
        self.waiting[state.instance.id] = actions
        for a in actions:
            self._emit("action", a.info())

    def _arm(self, a):
        if a.timer is not None:
            a.timer.cancel()
        a.timer = get_scheduler(self.sim).call_at(a.deadline, self._on_timer, a.token)

    def _on_timer(self, token):
        with self.sim.lock:
            a = self.by_token.get(token)
            if a is None or a.status != "waiting":
                return
            now = time.monotonic()
            if now < a.deadline:  # a heartbeat moved it; a newer timer exists
                return
            a.status = "timed-out"
            a.result = a.default_result
            a.completed_by = "global-timeout" if now >= a.global_deadline else "heartbeat-timeout"
            a.completed_at = _now_iso()
            self.sim.record(
                "lifecycle",
                transition=a.transition,
                state="timeout",
                instance_id=a.instance_id,
                group=a.group_name,
                hook=a.hook_name,
                token=a.token,
                result=a.result,
                completed_by=a.completed_by,
            )
            self._settle(a.instance_id, a.account_id, a.region)

    def find(self, account_id, region, group_name, hook_name, token, instance_id):
        """The waiting action matching the call, or raise AWS's ValidationError."""
        from moto.autoscaling.exceptions import ValidationError

        if not token and not instance_id:
            raise ValidationError(
                "Either LifecycleActionToken or InstanceId must be specified."
            )
        cand = None
        if token:
            a = self.by_token.get(token)
            if a is not None and a.status == "waiting":
                cand = a
        else:
            for a in self.waiting.get(instance_id, []):
                if a.status == "waiting" and a.hook_name == hook_name:
                    cand = a
                    break
        if (
            cand is None
            or cand.account_id != account_id
            or cand.region != region
            or cand.group_name != group_name
            or cand.hook_name != hook_name
            or (instance_id and cand.instance_id != instance_id)
        ):
            if token:
                raise ValidationError(f"No active Lifecycle Action found with token {token}")
            raise ValidationError(
                f"No active Lifecycle Action found with instance ID {instance_id}"
            )
        return cand

    def complete(self, account_id, region, group_name, hook_name, token, instance_id, result):
        from moto.autoscaling.exceptions import ValidationError

        if result not in RESULTS:
            raise ValidationError(
                f"1 validation error detected: Value '{result}' at 'lifecycleActionResult' "
                "failed to satisfy constraint: Member must satisfy enum value set: [CONTINUE, ABANDON]"
            )
        with self.sim.lock:
            a = self.find(account_id, region, group_name, hook_name, token, instance_id)
            a.status = "completed"
            a.result = result
            a.completed_by = "token" if token else "instance-id"
            a.completed_at = _now_iso()
            if a.timer is not None:
                a.timer.cancel()
            self.sim.record(
                "lifecycle",
                transition=a.transition,
                state="completed",
                instance_id=a.instance_id,
                group=a.group_name,
                hook=a.hook_name,
                token=a.token,
                result=result,
                completed_by=a.completed_by,
            )
            self._settle(a.instance_id, account_id, region)

    def heartbeat(self, account_id, region, group_name, hook_name, token, instance_id):
        with self.sim.lock:
            a = self.find(account_id, region, group_name, hook_name, token, instance_id)
            now = time.monotonic()
            a.deadline = min(now + _scaled(a.heartbeat_timeout), a.global_deadline)
            a.heartbeats.append(_now_iso())
            self._arm(a)
            self.sim.record(
                "lifecycle",
                transition=a.transition,
                state="heartbeat",
                instance_id=a.instance_id,
                group=a.group_name,
                hook=a.hook_name,
                token=a.token,
            )

    def expire(self, token):
        """Control API: apply the default result now, as if the timeout fired."""
        with self.sim.lock:
            a = self.by_token.get(token)
            if a is None or a.status != "waiting":
                return False
            a.deadline = time.monotonic()
            self._on_timer(token)
            return True

    def advance(self, token, seconds, keep_heartbeat=False):
        """Control API: pretend `seconds` of simulated time passed for one action
        (with keep_heartbeat, as if heartbeats kept coming: only the global
        deadline moves). A deadline now in the past fires at once."""
        with self.sim.lock:
            a = self.by_token.get(token)
            if a is None or a.status != "waiting":
                return False
            d = _scaled(float(seconds))
            a.global_deadline -= d
            if not keep_heartbeat:
                a.deadline -= d
            a.deadline = min(a.deadline, a.global_deadline)
            self._arm(a)
            return True

    def cancel_instance(self, instance_id, why):
        """Drop the waits of an instance leaving the group another way."""
        for a in self.waiting.pop(instance_id, []):
            if a.status == "waiting":
                a.status = "cancelled"
                a.completed_by = why
                a.completed_at = _now_iso()
                a.instance_outcome = why
                if a.timer is not None:
                    a.timer.cancel()

    def _settle(self, instance_id, account_id, region):
        actions = self.waiting.get(instance_id, [])
        if any(a.status == "waiting" for a in actions):
            return
        self.waiting.pop(instance_id, None)
        if not actions:
            return
        backend = _asg_backend(account_id, region)
        found = _find_state(backend, instance_id)
        if found is None:
            for a in actions:
                a.instance_outcome = "gone"
            return
        group, state = found
        transition = actions[0].transition
        if transition == LAUNCHING:
            if any(a.result == "ABANDON" for a in actions):
                for a in actions:
                    a.instance_outcome = "terminated (abandoned)"
                _finish_terminate(group, state, "abandoned")
                # The group is short of its desired capacity: replace.
                if group.name in group.autoscaling_backend.autoscaling_groups:
                    group.set_desired_capacity(group.desired_capacity)
            else:
                state.lifecycle_state = "InService"
                for a in actions:
                    a.instance_outcome = "InService"
                self.sim.record(
                    "lifecycle", transition=transition, state="InService",
                    instance_id=instance_id, group=group.name,
                )
        else:
            for a in actions:
                a.instance_outcome = "terminated"
            _finish_terminate(group, state, "terminate-hook-done")

    def snapshot(self, query):
        out = []
        for a in self.all:
            info = a.info()
            if query.get("group") and info["group"] != query["group"]:
                continue
            if query.get("instance_id") and info["instance_id"] != query["instance_id"]:
                continue
            if query.get("state") and info["state"] != query["state"]:
                continue
            if query.get("transition") and query["transition"] not in info["transition"]:
                continue
            if query.get("hook") and info["hook"] != query["hook"]:
                continue
            out.append(info)
        return out


# --------------------------------------------------------------------------
# Helpers over moto's objects
# --------------------------------------------------------------------------
def _asg_backend(account_id, region):
    from moto.autoscaling.models import autoscaling_backends

    return autoscaling_backends[account_id][region]


def _find_state(backend, instance_id):
    for group in backend.autoscaling_groups.values():
        for st in group.instance_states:
            if st.instance.id == instance_id:
                return group, st
    return None


def _hooks_for(backend, group_name, transition):
    return [
        h
        for h in backend.lifecycle_hooks.values()
        if h.auto_scaling_group_name == group_name and h.lifecycle_transition == transition
    ]


def _az(instance):
    """An instance's AZ name (moto's Instance.placement is an object)."""
    p = instance.placement
    return getattr(p, "zone", None) or str(p)


def _active_instances(self):
    return [s for s in self.instance_states if s.lifecycle_state in ACTIVE_STATES]


def _target_instance_count(group):
    """moto's capacity arithmetic (mixed-instances policy aware), unchanged."""
    import math

    target_capacity = group.desired_capacity or 0
    policy = group.mixed_instances_policy or {}
    overrides = policy.get("LaunchTemplate", {}).get("Overrides", []) if policy else []
    if not overrides:
        return target_capacity
    distribution = policy.get("InstancesDistribution", {})
    on_demand_base = int(distribution.get("OnDemandBaseCapacity", 0))
    percent_above_base = int(distribution.get("OnDemandPercentageAboveBaseCapacity", 100))
    w = overrides[0].get("WeightedCapacity", "1")
    weight = int(w) if str(w).isdigit() else 1
    weight = weight or 1
    if on_demand_base >= target_capacity:
        od, spot = target_capacity, 0
    else:
        above = target_capacity - on_demand_base
        od_above = int(above * percent_above_base) / 100.0
        spot = int(above - od_above)
        od = int(on_demand_base + od_above)
    return math.ceil(od / weight) + math.ceil(spot / weight)


def _placements(group):
    """[(subnet_id or None, az)] in the group's order."""
    if group.vpc_zone_identifier:
        out = []
        for sid in [s.strip() for s in group.vpc_zone_identifier.split(",") if s.strip()]:
            subnet = group.ec2_backend.get_subnet(sid)
            out.append((sid, subnet.availability_zone))
        return out
    return [(None, az) for az in group.availability_zones]


def _next_placement(group):
    """Balance over AZs first, then over the subnets of the chosen AZ; ties go
    to the first in the group's order, which makes a fresh group round-robin."""
    places = _placements(group)
    live = [s for s in group.instance_states if s.lifecycle_state in ACTIVE_STATES]
    az_count = {}
    sub_count = {}
    for s in live:
        az_count[_az(s.instance)] = az_count.get(_az(s.instance), 0) + 1
        sid = getattr(s.instance, "subnet_id", None)
        sub_count[sid] = sub_count.get(sid, 0) + 1
    azs = []
    for _, az in places:
        if az not in azs:
            azs.append(az)
    az = min(azs, key=lambda z: (az_count.get(z, 0), azs.index(z)))
    in_az = [p for p in places if p[1] == az]
    return min(in_az, key=lambda p: (sub_count.get(p[0], 0), places.index(p)))


def _launch(group, count):
    """Launch count instances, one at a time so each gets its own placement."""
    from moto.autoscaling.models import InstanceState

    tags = group.get_propagated_tags()
    tags[ASG_NAME_TAG] = group.name
    tags.update(group.instance_tags)
    associate_public_ip = (
        group.launch_config.associate_public_ip_address if group.launch_config else None
    )
    launch_template = None
    if group.ec2_launch_template:
        if group.ec2_launch_template.id:
            launch_template = {"LaunchTemplateId": group.ec2_launch_template.id}
        elif group.ec2_launch_template.name:
            launch_template = {"LaunchTemplateName": group.ec2_launch_template.name}
    hooks = _hooks_for(group.autoscaling_backend, group.name, LAUNCHING)
    for _ in range(count):
        subnet_id, az = _next_placement(group)
        reservation = group.ec2_backend.run_instances(
            group.image_id,
            1,
            group.user_data,
            group.security_groups,
            instance_type=group.instance_type,
            tags={"instance": dict(tags)},
            placement=az,
            launch_config=group.launch_config,
            launch_template=launch_template,
            is_instance_type_default=False,
            associate_public_ip=associate_public_ip,
            subnet_id=subnet_id,
        )
        for instance in reservation.instances:
            instance.autoscaling_group = group
            state = InstanceState(
                instance,
                lifecycle_state="InService",
                protected_from_scale_in=group.new_instances_protected_from_scale_in,
            )
            group.instance_states.append(state)
            _SIM.record(
                "lifecycle", transition=LAUNCHING, state="launched",
                instance_id=instance.id, group=group.name, subnet_id=subnet_id, az=az,
            )
            if hooks:
                _LC.start(group, state, hooks, LAUNCHING)


def _pick_victims(group, n):
    """Default termination policy, simplified: the AZ with the most instances,
    then the oldest instance in it (launch order)."""
    victims = []
    cands = [s for s in _active_instances(group) if not s.protected_from_scale_in]
    for _ in range(n):
        if not cands:
            break
        counts = {}
        for s in cands:
            counts[_az(s.instance)] = counts.get(_az(s.instance), 0) + 1
        order = [az for _, az in _placements(group)]
        az = max(counts, key=lambda z: (counts[z], -order.index(z) if z in order else -99))
        v = next(s for s in cands if _az(s.instance) == az)
        victims.append(v)
        cands.remove(v)
    return victims


def _begin_terminate(group, state, why):
    _LC.cancel_instance(state.instance.id, "scaled-in")
    hooks = _hooks_for(group.autoscaling_backend, group.name, TERMINATING)
    _SIM.record(
        "lifecycle", transition=TERMINATING, state="terminating",
        instance_id=state.instance.id, group=group.name, why=why,
    )
    if hooks:
        _LC.start(group, state, hooks, TERMINATING)
    else:
        _finish_terminate(group, state, why)


def _finish_terminate(group, state, why):
    _LC.cancel_instance(state.instance.id, why)
    if state in group.instance_states:
        group.instance_states.remove(state)
    state.lifecycle_state = "Terminated"
    if state.instance.state != "terminated":
        # moto's (and the core helper's) EC2 terminate: DeleteOnTermination ENIs go.
        group.ec2_backend.terminate_instances([state.instance.id])
    backend = group.autoscaling_backend
    if group.name in backend.autoscaling_groups:
        backend.update_attached_elbs(group.name)
        backend.update_attached_target_groups(group.name)
    _SIM.record(
        "lifecycle", transition=TERMINATING, state="terminated",
        instance_id=state.instance.id, group=group.name, why=why,
    )


# --------------------------------------------------------------------------
# Patched moto methods
# --------------------------------------------------------------------------
def _group_set_desired_capacity(self, new_capacity):
    with _SIM.lock:
        self.desired_capacity = self.min_size if new_capacity is None else new_capacity
        delta = _target_instance_count(self) - len(_active_instances(self))
        if delta > 0:
            _launch(self, delta)
        elif delta < 0:
            for v in _pick_victims(self, -delta):
                _begin_terminate(self, v, "scale-in")
        if self.name in self.autoscaling_backend.autoscaling_groups:
            self.autoscaling_backend.update_attached_elbs(self.name)
            self.autoscaling_backend.update_attached_target_groups(self.name)


def _group_replace_instances(self, count_needed, propagated_tags):
    with _SIM.lock:
        _launch(self, count_needed)


def _validate_hook_fields(transition, timeout, result, metadata, new):
    from moto.autoscaling.exceptions import ValidationError

    if new and not transition:
        raise ValidationError("LifecycleTransition is required for a new lifecycle hook")
    if transition is not None and transition not in TRANSITIONS:
        raise ValidationError(
            f"Invalid Lifecycle Transition: {transition}. Valid transitions are: "
            "[autoscaling:EC2_INSTANCE_LAUNCHING, autoscaling:EC2_INSTANCE_TERMINATING]"
        )
    if timeout is not None and not (HEARTBEAT_MIN_S <= int(timeout) <= HEARTBEAT_MAX_S):
        raise ValidationError(
            f"Heartbeat timeout must be between {HEARTBEAT_MIN_S} and {HEARTBEAT_MAX_S} "
            f"seconds (given {timeout})"
        )
    if result is not None and result not in RESULTS:
        raise ValidationError(
            f"1 validation error detected: Value '{result}' at 'defaultResult' failed to "
            "satisfy constraint: Member must satisfy enum value set: [CONTINUE, ABANDON]"
        )
    if metadata is not None and len(metadata) > METADATA_MAX_LEN:
        raise ValidationError(
            "1 validation error detected: Value at 'notificationMetadata' failed to satisfy "
            f"constraint: Member must have length less than or equal to {METADATA_MAX_LEN}"
        )


def _check_target(backend, arn):
    from moto.autoscaling.exceptions import ValidationError

    if not arn:
        return
    for fn in TARGET_CHECKERS:
        why = fn(backend.account_id, backend.region_name, arn)
        if why:
            raise ValidationError(f"Unable to publish test message to notification target {arn} ({why})")


def put_hook(backend, group_name, name, transition=None, timeout=None, result=None,
             target_arn=None, role_arn=None, metadata=None):
    """Create or update (only the given fields) a hook; return (hook, target_changed)."""
    from moto.autoscaling.models import LifecycleHook

    key = f"{group_name}_{name}"
    existing = backend.lifecycle_hooks.get(key)
    _validate_hook_fields(transition, timeout, result, metadata, existing is None)
    _check_target(backend, target_arn)
    if existing is None:
        hook = LifecycleHook(name, group_name, transition, None, None)
        hook.heartbeat_timeout = HEARTBEAT_DEFAULT_S
        hook.default_result = "ABANDON"
        hook.role_arn = None
        hook.notification_target_arn = None
        hook.notification_metadata = None
    else:
        hook = existing
    if transition is not None:
        hook.lifecycle_transition = transition
    if timeout is not None:
        hook.heartbeat_timeout = int(timeout)
    if result is not None:
        hook.default_result = result
    if role_arn is not None:
        hook.role_arn = role_arn or None
    if metadata is not None:
        hook.notification_metadata = metadata or None
    changed = False
    if target_arn is not None:
        changed = bool(target_arn) and target_arn != hook.notification_target_arn
        hook.notification_target_arn = target_arn or None
    hook.global_timeout = min(GLOBAL_TIMEOUT_MAX_S, 100 * int(hook.heartbeat_timeout))
    backend.lifecycle_hooks[key] = hook
    return hook, changed or (existing is None and bool(hook.notification_target_arn))


def _test_notification_info(backend, group_name, group_arn, hook):
    return {
        "account_id": backend.account_id,
        "region": backend.region_name,
        "group": group_name,
        "group_arn": group_arn,
        "hook": hook.name,
        "notification_target_arn": hook.notification_target_arn,
        "time": _now_iso(),
    }


def _backend_create_lifecycle_hook(self, name, as_name, transition, timeout, result, **kw):
    from moto.autoscaling.exceptions import ValidationError

    with _SIM.lock:
        group = self.autoscaling_groups.get(as_name)
        if group is None:
            raise ValidationError(f"No AutoScalingGroup named {as_name} found")
        hook, notify = put_hook(
            self, as_name, name, transition, timeout, result,
            kw.get("target_arn"), kw.get("role_arn"), kw.get("metadata"),
        )
        if notify:
            _LC._emit("test", _test_notification_info(self, as_name, group.arn, hook))
        return hook


def _backend_delete_lifecycle_hook(self, as_name, name):
    """AWS completes outstanding actions of a deleted hook: ABANDON for
    launching instances, CONTINUE for terminating ones."""
    with _SIM.lock:
        hook = self.lifecycle_hooks.pop(f"{as_name}_{name}", None)
        if hook is None:
            return
        for a in list(_LC.all):
            if (
                a.status == "waiting"
                and a.group_name == as_name
                and a.hook_name == name
                and a.account_id == self.account_id
                and a.region == self.region_name
            ):
                a.status = "completed"
                a.result = "ABANDON" if a.transition == LAUNCHING else "CONTINUE"
                a.completed_by = "hook-deleted"
                a.completed_at = _now_iso()
                if a.timer is not None:
                    a.timer.cancel()
                _LC._settle(a.instance_id, a.account_id, a.region)


def _backend_create_auto_scaling_group(self, name, *args, **kwargs):
    with _SIM.lock:
        return _ORIG["backend.create_auto_scaling_group"](self, name, *args, **kwargs)


def _backend_update_auto_scaling_group(self, *args, **kwargs):
    with _SIM.lock:
        return _ORIG["backend.update_auto_scaling_group"](self, *args, **kwargs)


def _backend_delete_auto_scaling_group(self, group_name):
    """ForceDelete semantics: outstanding actions dropped, instances terminated
    without hooks, the group's hooks removed."""
    from moto.autoscaling.exceptions import ValidationError

    with _SIM.lock:
        group = self.autoscaling_groups.get(group_name)
        if group is None:
            raise ValidationError(
                f"AutoScalingGroup name not found - AutoScalingGroup '{group_name}' not found"
            )
        for st in list(group.instance_states):
            _finish_terminate(group, st, "group-deleted")
        self.autoscaling_groups.pop(group_name, None)
        for key in [k for k, h in self.lifecycle_hooks.items() if h.auto_scaling_group_name == group_name]:
            self.lifecycle_hooks.pop(key, None)


def _backend_set_desired_capacity(self, group_name, desired_capacity):
    from moto.autoscaling.exceptions import ValidationError

    with _SIM.lock:
        group = self.autoscaling_groups.get(group_name)
        if group is None:
            raise ValidationError("AutoScalingGroup name not found - null")
        if desired_capacity is not None:
            if group.max_size is not None and desired_capacity > group.max_size:
                raise ValidationError(
                    f"New SetDesiredCapacity value {desired_capacity} is above max value "
                    f"{group.max_size} for the AutoScalingGroup."
                )
            if group.min_size is not None and desired_capacity < group.min_size:
                raise ValidationError(
                    f"New SetDesiredCapacity value {desired_capacity} is below min value "
                    f"{group.min_size} for the AutoScalingGroup."
                )
        group.set_desired_capacity(desired_capacity)
        self.update_attached_elbs(group_name)


def _backend_terminate_instance(self, instance_id, should_decrement):
    from moto.autoscaling.exceptions import ValidationError
    from moto.autoscaling.models import TerminateInstanceActivity

    with _SIM.lock:
        found = _find_state(self, instance_id)
        if found is None:
            raise ValidationError(
                f"Instance Id not found - No managed instance found for instance ID: {instance_id}"
            )
        group, state = found
        original = group.desired_capacity
        if should_decrement:
            if group.min_size is not None and original <= group.min_size:
                raise ValidationError(
                    f"Currently, desiredSize equals minSize ({group.min_size}). Terminating "
                    "instance without replacement will violate group's min size constraint. "
                    "Either set shouldDecrementDesiredCapacity flag to false or lower group's min size."
                )
            group.desired_capacity = original - 1
        activity = TerminateInstanceActivity(state.instance, original)
        if state.lifecycle_state.startswith("Terminating") or state.lifecycle_state == "Terminated":
            return activity
        _begin_terminate(group, state, "user-request")
        if not should_decrement:
            group.set_desired_capacity(group.desired_capacity)
        return activity


def _backend_notify_terminate_instances(self, instance_ids):
    """EC2 TerminateInstances on a group member: drop its waits, let moto
    replace it (active_instances counts Pending:Wait now)."""
    with _SIM.lock:
        for iid in instance_ids:
            _LC.cancel_instance(iid, "ec2-terminated")
        return _ORIG["backend.notify_terminate_instances"](self, instance_ids)


def _backend_detach_instances(self, group_name, instance_ids, should_decrement):
    with _SIM.lock:
        for iid in instance_ids:
            _LC.cancel_instance(iid, "detached")
        return _ORIG["backend.detach_instances"](self, group_name, instance_ids, should_decrement)


# --- response methods --------------------------------------------------------
def _resp_put_lifecycle_hook(self):
    from moto.core.responses import EmptyResult

    g = self._get_param
    self.autoscaling_backend.create_lifecycle_hook(
        name=g("LifecycleHookName"),
        as_name=g("AutoScalingGroupName"),
        transition=g("LifecycleTransition"),
        timeout=self._get_int_param("HeartbeatTimeout"),
        result=g("DefaultResult"),
        target_arn=g("NotificationTargetARN"),
        role_arn=g("RoleARN"),
        metadata=g("NotificationMetadata"),
    )
    return EmptyResult()


def _resp_create_auto_scaling_group(self):
    from moto.autoscaling.exceptions import AutoscalingClientError, ValidationError

    backend = self.autoscaling_backend
    name = self._get_param("AutoScalingGroupName")
    specs = self._get_param("LifecycleHookSpecificationList", []) or []
    with _SIM.lock, _LC.defer():
        if name in backend.autoscaling_groups:
            raise AutoscalingClientError(
                "AlreadyExists",
                f"AutoScalingGroup by this name already exists - A group with the name {name} already exists",
            )
        added = []
        try:
            for spec in specs:
                if not spec.get("LifecycleHookName"):
                    raise ValidationError("LifecycleHookName is required in LifecycleHookSpecification")
                if not spec.get("LifecycleTransition"):
                    raise ValidationError("LifecycleTransition is required in LifecycleHookSpecification")
                timeout = spec.get("HeartbeatTimeout")
                hook, _ = put_hook(
                    backend, name, spec["LifecycleHookName"], spec["LifecycleTransition"],
                    int(timeout) if timeout is not None else None, spec.get("DefaultResult"),
                    spec.get("NotificationTargetARN"), spec.get("RoleARN"),
                    spec.get("NotificationMetadata"),
                )
                added.append(hook)
            result = _ORIG["resp.create_auto_scaling_group"](self)
        except Exception:
            for hook in added:
                backend.lifecycle_hooks.pop(f"{name}_{hook.name}", None)
            raise
        group = backend.autoscaling_groups.get(name)
        for hook in added:
            if hook.notification_target_arn and group is not None:
                _LC._emit("test", _test_notification_info(backend, name, group.arn, hook))
        return result


def _resp_complete_lifecycle_action(self):
    from moto.core.responses import EmptyResult

    g = self._get_param
    _LC.complete(
        self.current_account, self.region, g("AutoScalingGroupName"), g("LifecycleHookName"),
        g("LifecycleActionToken"), g("InstanceId"), g("LifecycleActionResult"),
    )
    return EmptyResult()


def _resp_record_lifecycle_action_heartbeat(self):
    from moto.core.responses import EmptyResult

    g = self._get_param
    _LC.heartbeat(
        self.current_account, self.region, g("AutoScalingGroupName"), g("LifecycleHookName"),
        g("LifecycleActionToken"), g("InstanceId"),
    )
    return EmptyResult()


def _wrap_locked(orig):
    def locked(self, *a, **kw):
        with _SIM.lock, _LC.defer():
            return orig(self, *a, **kw)

    locked.__name__ = orig.__name__
    locked.__doc__ = orig.__doc__
    return locked


# --------------------------------------------------------------------------
# Install
# --------------------------------------------------------------------------
def _targets():
    from moto.autoscaling import models as m
    from moto.autoscaling import responses as r

    return [
        (m.FakeAutoScalingGroup, "set_desired_capacity"),
        (m.FakeAutoScalingGroup, "replace_autoscaling_group_instances"),
        (m.FakeAutoScalingGroup, "active_instances"),
        (m.FakeAutoScalingGroup, "get_propagated_tags"),
        (m.FakeAutoScalingGroup, "instance_tags"),
        (m.AutoScalingBackend, "create_lifecycle_hook"),
        (m.AutoScalingBackend, "delete_lifecycle_hook"),
        (m.AutoScalingBackend, "create_auto_scaling_group"),
        (m.AutoScalingBackend, "update_auto_scaling_group"),
        (m.AutoScalingBackend, "delete_auto_scaling_group"),
        (m.AutoScalingBackend, "set_desired_capacity"),
        (m.AutoScalingBackend, "terminate_instance"),
        (m.AutoScalingBackend, "notify_terminate_instances"),
        (m.AutoScalingBackend, "detach_instances"),
        (m.AutoScalingBackend, "update_attached_elbs"),
        (m.AutoScalingBackend, "update_attached_target_groups"),
        (m, "LifecycleHook"),
        (m, "InstanceState"),
        (m, "TerminateInstanceActivity"),
        (m, "autoscaling_backends"),
        (r.AutoScalingResponse, "put_lifecycle_hook"),
        (r.AutoScalingResponse, "create_auto_scaling_group"),
        (r.AutoScalingResponse, "set_desired_capacity"),
        (r.AutoScalingResponse, "update_auto_scaling_group"),
        (r.AutoScalingResponse, "_get_param"),
        (r.AutoScalingResponse, "_get_int_param"),
    ]


def check_moto():
    """Fail fast, naming the attribute, if moto is not the one these patches fit."""
    from sim_core import MotoMismatch

    try:
        import moto
        from moto.autoscaling import exceptions as e
        from moto.core.responses import EmptyResult  # noqa: F401
    except ImportError as exc:
        raise MotoMismatch(f"sim_asg: moto is not importable ({exc}); moto 5.2.1 is required") from exc
    if getattr(moto, "__version__", None) != "5.2.1":
        raise MotoMismatch(f"sim_asg: moto 5.2.1 required, found {getattr(moto, '__version__', '?')}")
    for owner, attr in _targets() + [(e, "ValidationError"), (e, "AutoscalingClientError")]:
        if not hasattr(owner, attr):
            raise MotoMismatch(
                f"sim_asg: moto {moto.__version__} lacks {getattr(owner, '__name__', owner)}.{attr}, "
                "which the Auto Scaling lifecycle patch relies on"
            )
    # Signatures the patches call or replace with the same parameters.
    from moto.autoscaling import models as m
    from moto.ec2.models import EC2Backend
    from sim_core import require_attr

    for owner, name, params in (
        (m.LifecycleHook, "__init__", ["name", "as_name", "transition", "timeout", "result"]),
        (m.InstanceState, "__init__", ["instance", "lifecycle_state", "protected_from_scale_in"]),
        (m.TerminateInstanceActivity, "__init__", ["instance", "original_capacity"]),
        (m.AutoScalingBackend, "notify_terminate_instances", ["instance_ids"]),
        (m.AutoScalingBackend, "detach_instances", ["group_name", "instance_ids", "should_decrement"]),
        (m.AutoScalingBackend, "terminate_instance", ["instance_id", "should_decrement"]),
        (m.AutoScalingBackend, "set_desired_capacity", ["group_name", "desired_capacity"]),
        (m.AutoScalingBackend, "create_lifecycle_hook", ["name", "as_name", "transition", "timeout", "result"]),
        (m.AutoScalingBackend, "delete_lifecycle_hook", ["as_name", "name"]),
        (m.AutoScalingBackend, "delete_auto_scaling_group", ["group_name"]),
        (m.FakeAutoScalingGroup, "set_desired_capacity", ["new_capacity"]),
        (m.FakeAutoScalingGroup, "replace_autoscaling_group_instances", ["count_needed", "propagated_tags"]),
        (EC2Backend, "run_instances", ["image_id", "count", "user_data", "security_group_names"]),
        (EC2Backend, "terminate_instances", ["instance_ids"]),
        (EC2Backend, "get_subnet", ["subnet_id"]),
    ):
        if getattr(getattr(owner, name), "__module__", "").startswith("sim_"):
            continue  # already patched by this process (install ran)
        require_attr(owner, name, params)


def _route_lifecycle(sim, body, query):
    with sim.lock:
        return 200, {"actions": _LC.snapshot(query or {})}


def _route_expire(sim, body, query):
    token = (body or {}).get("token")
    if not token:
        return 400, {"error": "token required"}
    ok = _LC.expire(token)
    return (200, {"expired": token}) if ok else (404, {"error": "no waiting action with that token"})


def _on_reset(sim):
    """POST /_sim/reset wiped moto: forget every action and its timer."""
    global _LC
    with sim.lock:
        for a in _LC.all:
            if a.timer is not None:
                a.timer.cancel()
        _LC = Lifecycle(sim)
        sim.lifecycle = _LC


def _route_advance(sim, body, query):
    body = body or {}
    token = body.get("token")
    if not token or "seconds" not in body:
        return 400, {"error": "token and seconds required"}
    ok = _LC.advance(token, float(body["seconds"]), bool(body.get("keep_heartbeat", False)))
    return (200, {"advanced": token}) if ok else (404, {"error": "no waiting action with that token"})


def install(sim):
    """Patch moto's Auto Scaling in place and register /_sim/lifecycle routes."""
    global _SIM, _LC
    from moto.autoscaling import models as m
    from moto.autoscaling import responses as r

    _SIM = sim
    _LC = Lifecycle(sim)
    sim.lifecycle = _LC
    if not _ORIG:
        _ORIG["backend.create_auto_scaling_group"] = m.AutoScalingBackend.create_auto_scaling_group
        _ORIG["backend.update_auto_scaling_group"] = m.AutoScalingBackend.update_auto_scaling_group
        _ORIG["backend.notify_terminate_instances"] = m.AutoScalingBackend.notify_terminate_instances
        _ORIG["backend.detach_instances"] = m.AutoScalingBackend.detach_instances
        _ORIG["resp.create_auto_scaling_group"] = r.AutoScalingResponse.create_auto_scaling_group

        G, B, R = m.FakeAutoScalingGroup, m.AutoScalingBackend, r.AutoScalingResponse
        G.set_desired_capacity = _group_set_desired_capacity
        G.replace_autoscaling_group_instances = _group_replace_instances
        G.active_instances = _active_instances
        B.create_lifecycle_hook = _backend_create_lifecycle_hook
        B.delete_lifecycle_hook = _backend_delete_lifecycle_hook
        B.create_auto_scaling_group = _backend_create_auto_scaling_group
        B.update_auto_scaling_group = _backend_update_auto_scaling_group
        B.delete_auto_scaling_group = _backend_delete_auto_scaling_group
        B.set_desired_capacity = _backend_set_desired_capacity
        B.terminate_instance = _backend_terminate_instance
        B.notify_terminate_instances = _backend_notify_terminate_instances
        B.detach_instances = _backend_detach_instances
        R.put_lifecycle_hook = _resp_put_lifecycle_hook
        R.create_auto_scaling_group = _resp_create_auto_scaling_group
        R.complete_lifecycle_action = _resp_complete_lifecycle_action
        R.record_lifecycle_action_heartbeat = _resp_record_lifecycle_action_heartbeat
        # Mutating actions whose emissions must wait for the call to finish.
        for name in ("set_desired_capacity", "update_auto_scaling_group",
                     "terminate_instance_in_auto_scaling_group", "put_lifecycle_hook",
                     "delete_lifecycle_hook", "detach_instances"):
            setattr(R, name, _wrap_locked(getattr(R, name)))
    get_scheduler(sim)
    if hasattr(sim, "on_reset"):
        sim.on_reset(_on_reset)
    sim.register_control("GET", "/_sim/lifecycle", _route_lifecycle)
    sim.register_control("POST", "/_sim/lifecycle/expire", _route_expire)
    sim.register_control("POST", "/_sim/lifecycle/advance", _route_advance)
