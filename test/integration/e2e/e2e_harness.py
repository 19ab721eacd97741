"""End-to-end harness: the real multus-hookd binary against the AWS simulator.

    from e2e_harness import World
    w = World(time_scale=0.1)               # simulator subprocess + temp dir
    w.build_network()                       # VPC, 2 AZs, Multus networks "sig" and "media"
    d = w.daemon("main", groups=[w.group("workers", ["e2e-*"], [w.net("sig"), w.net("media")])])
    w.deliver()                             # sim EventBridge API destination -> d's intake
    w.asg("e2e-a", desired=2)               # ASG over both AZs, launch + terminate hooks
    w.wait_in_service("e2e-a", 2)
    print(w.enis_of("i-..."))               # AWS state read back from the simulator
    w.close()                               # kills everything (also on failure)

Every assertion a test makes should come from the simulator (boto3 or its control
API): ENIs, addresses, attachments, the lifecycle record, the request log. The
daemon's admin API (/v1/actions) is read only to wait for and to check that it
accepted nothing it should not have.

Processes: the simulator and every daemon get PR_SET_PDEATHSIG (they die with
this Python process even when it is SIGKILLed) and are stopped by close(); a
SIGTERM to the test process runs the cleanups as well. Ports are chosen at run
time (port 0 + ready files), state lives in a temporary directory.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import ipaddress
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import types
import urllib.error
import urllib.request
from typing import Any, Callable, Iterable

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
SIM_DIR = os.path.join(REPO, "test", "aws-sim")
if SIM_DIR not in sys.path:
    sys.path.insert(0, SIM_DIR)

import simctl  # noqa: E402
import sim_events  # noqa: E402  (eventbridge_event(): the exact shape the sim delivers)
from sim_scenario import (  # noqa: E402
    MULTUS_AZ_TAG,
    MULTUS_NETWORK_TAG,
    api_key_auth,
    build_network,
    create_asg,
    create_launch_template,
)

REGION = "us-east-1"
AZS = ["us-east-1a", "us-east-1b"]
API_KEY_HEADER = "x-hookd-key"
# The daemon's own lifecycle hooks on every test ASG (sim_scenario.create_asg).
LAUNCH_HOOK = "multus-launch"
TERMINATE_HOOK = "multus-terminate"
DEFAULT_HOOKS = (LAUNCH_HOOK, TERMINATE_HOOK)
LAUNCHING = "autoscaling:EC2_INSTANCE_LAUNCHING"
TERMINATING = "autoscaling:EC2_INSTANCE_TERMINATING"

# Tags the engine puts on every ENI it creates (hook/engine/engine_internal.h).
TAG_NO_MANAGE = "node.k8s.amazonaws.com/no_manage"
TAG_INSTANCE = "multus-hookd/instance-id"
TAG_NETWORK = "multus-hookd/network"
TAG_DEVICE_INDEX = "multus-hookd/device-index"

DEFAULT_TIMEOUT = float(os.environ.get("E2E_TIMEOUT", "90"))
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


# --------------------------------------------------------------------------
# Processes: never leave one behind
# --------------------------------------------------------------------------
_LIVE: set[subprocess.Popen] = set()
_LIVE_LOCK = threading.Lock()


def _pdeathsig() -> None:  # runs in the child between fork and exec
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _track(p: subprocess.Popen) -> subprocess.Popen:
    with _LIVE_LOCK:
        _LIVE.add(p)
    return p


def _untrack(p: subprocess.Popen) -> None:
    with _LIVE_LOCK:
        _LIVE.discard(p)


def _kill_all() -> None:
    with _LIVE_LOCK:
        procs = list(_LIVE)
        _LIVE.clear()
    for p in procs:
        if p.poll() is None:
            try:
                p.kill()
                p.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass


atexit.register(_kill_all)


def _on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)  # unwinds through the cleanups, then atexit


if threading.current_thread() is threading.main_thread():
    signal.signal(signal.SIGTERM, _on_sigterm)


def _popen_with_deathsig(*args: Any, **kw: Any) -> subprocess.Popen:
    kw.setdefault("preexec_fn", _pdeathsig)
    return _track(subprocess.Popen(*args, **kw))


# simctl.start_sim() calls subprocess.Popen through its own module reference:
# give it one that adds PR_SET_PDEATHSIG and tracking (nothing else changes).
simctl.subprocess = types.SimpleNamespace(
    Popen=_popen_with_deathsig, DEVNULL=subprocess.DEVNULL, STDOUT=subprocess.STDOUT,
    PIPE=subprocess.PIPE, TimeoutExpired=subprocess.TimeoutExpired)


def hookd_bin() -> str:
    """The daemon binary: $HOOKD_BIN, else a usual build directory."""
    b = os.environ.get("HOOKD_BIN")
    if b:
        return b
    for d in ("build-e2e", "build/release", "build/test", "build"):
        p = os.path.join(REPO, d, "hook", "multus-hookd")
        if os.access(p, os.X_OK):
            return p
    raise RuntimeError("multus-hookd not found: set HOOKD_BIN")


# --------------------------------------------------------------------------
# Waiting (bounded polling; the time it takes is never asserted)
# --------------------------------------------------------------------------
def wait_for(fn: Callable[[], Any], timeout: float = DEFAULT_TIMEOUT, interval: float = 0.1,
             what: str = "condition", diag: Callable[[], str] | None = None) -> Any:
    """Poll fn() until it returns something truthy; return it. On timeout raise
    AssertionError naming `what`, the last value and diag()."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = fn()
        if last:
            return last
        if time.monotonic() >= deadline:
            extra = ""
            if diag:
                try:
                    extra = "\n" + diag()
                except Exception as e:  # diagnostics must not hide the timeout
                    extra = f"\n(diagnostics failed: {e!r})"
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} "
                                 f"(last: {str(last)[:2000]}){extra}")
        time.sleep(interval)


def http(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None,
         timeout: float = 15.0) -> tuple[int, bytes]:
    """One HTTP request; (status, body) whatever the status."""
    rq = urllib.request.Request(url, data=body, method=method)
    for k, v in (headers or {}).items():
        rq.add_header(k, v)
    try:
        with urllib.request.urlopen(rq, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


# --------------------------------------------------------------------------
# The daemon
# --------------------------------------------------------------------------
class Daemon:
    """One multus-hookd serve process with its own config, API key and state dir.
    restart() keeps the state directory (resume after a crash)."""

    def __init__(self, world: "World", name: str, groups: list[dict[str, Any]],
                 limits: dict[str, Any] | None = None, creds: tuple[str, str] | None = None,
                 log_level: str | None = None, extra: dict[str, Any] | None = None):
        self.world = world
        self.name = name
        self.dir = os.path.join(world.tmp, f"hookd-{name}")
        os.makedirs(self.dir, exist_ok=True)
        self.state_dir = os.path.join(self.dir, "state")
        self.config_path = os.path.join(self.dir, "config.json")
        self.log_path = os.path.join(self.dir, "hookd.log")
        self.ready_path = os.path.join(self.dir, "ready.json")
        self.api_key = secrets.token_hex(16)
        self.groups = groups
        self.asg_patterns = [p for g in groups for p in g["asg_names"]]
        self.limits = limits or {}
        self.extra = extra or {}  # more top-level config keys (e.g. "testing")
        self.creds = creds or (simctl.DUMMY_KEY, simctl.DUMMY_SECRET)
        self.log_level = log_level or os.environ.get("E2E_LOG_LEVEL", "info")
        self.proc: subprocess.Popen | None = None
        self.intake_port = 0
        self.admin_port = 0
        self.starts = 0
        self.fixed_ports = (0, 0)
        self.killed = False  # kill9() was called on the current process
        self.extra_env: dict[str, str] = {}  # more environment (e.g. NOTIFY_SOCKET)
        with open(os.path.join(self.dir, "api-key"), "w", encoding="ascii") as f:
            f.write(self.api_key + "\n")
        os.chmod(os.path.join(self.dir, "api-key"), 0o600)
        self.write_config()

    def config(self) -> dict[str, Any]:
        url = self.world.sim.base_url
        limits = {"read_timeout_ms": 5000, "request_timeout_ms": 10000,
                  "heartbeat_margin_ms": 5000, "shutdown_grace_ms": 3000}
        limits.update(self.limits)
        cfg = {
            "aws": {"region": REGION,
                    "endpoints": {"ec2": url, "autoscaling": url, "sts": url, "sqs": url, "sns": url}},
            "listeners": {"intake": {"address": "127.0.0.1", "port": self.fixed_ports[0]},
                          "admin": {"address": "127.0.0.1", "port": self.fixed_ports[1]}},
            "auth": {"type": "api_key", "header": API_KEY_HEADER, "value_file": "api-key"},
            "state_dir": self.state_dir,
            "limits": limits,
            "node_groups": self.groups,
        }
        cfg.update(self.extra)
        return cfg

    def write_config(self) -> None:
        with open(self.config_path, "w", encoding="utf-8") as f:
            json.dump(self.config(), f, indent=2)

    def env(self) -> dict[str, str]:
        e = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        e.update({
            "AWS_ACCESS_KEY_ID": self.creds[0],
            "AWS_SECRET_ACCESS_KEY": self.creds[1],
            "AWS_REGION": REGION,
            "AWS_ENDPOINT_URL": self.world.sim.base_url,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.path.join(self.dir, "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.dir, "no-aws-credentials"),
            "HOME": self.dir,
        })
        e.update(self.extra_env)
        return e

    def start(self, timeout: float = 30.0) -> "Daemon":
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError(f"daemon {self.name} already running")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.ready_path)
        log = open(self.log_path, "ab")
        cmd = [hookd_bin(), "serve", "--config", self.config_path, "--ready-file", self.ready_path,
               "--log-level", self.log_level]
        self.proc = _popen_with_deathsig(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         env=self.env(), cwd=self.dir)
        log.close()
        self.starts += 1
        self.killed = False

        def ready() -> Any:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daemon {self.name} exited with {self.proc.returncode}:\n"
                                   f"{self.log_tail(40)}")
            try:
                with open(self.ready_path, encoding="utf-8") as f:
                    return json.load(f)
            except (FileNotFoundError, ValueError):
                return None

        info = wait_for(ready, timeout, 0.05, f"daemon {self.name} ready file",
                        diag=lambda: self.log_tail(40))
        self.intake_port = int(info["intake_port"])
        self.admin_port = int(info["admin_port"])
        return self

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def intake_url(self) -> str:
        return f"http://127.0.0.1:{self.intake_port}/v1/events"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    def kill9(self) -> None:
        """SIGKILL: a crash at whatever point the daemon is."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        if self.proc is not None:
            _untrack(self.proc)
            self.killed = True

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM and wait (SIGKILL after timeout); the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        _untrack(self.proc)
        return self.proc.returncode

    def restart(self) -> "Daemon":
        """Start again on the same state directory and the same ports (EventBridge
        keeps retrying the URL it has; so does the simulator)."""
        self.fixed_ports = (self.intake_port, self.admin_port)
        self.write_config()
        return self.start()

    # --- HTTP ---------------------------------------------------------------
    def post_event(self, body: bytes | str | dict, headers: dict[str, str] | None = None,
                   auth: bool = True) -> tuple[int, bytes]:
        if isinstance(body, dict):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        h = {"Content-Type": "application/json; charset=utf-8",
             "User-Agent": "Amazon/EventBridge/ApiDestinations"}
        if auth:
            h[API_KEY_HEADER] = self.api_key
        h.update(headers or {})
        return http("POST", self.intake_url, body, h)

    def actions(self, state: str | None = None) -> list[dict[str, Any]]:
        """GET /v1/actions (newest first, up to 1000)."""
        q = "?limit=1000" + (f"&state={state}" if state else "")
        st, body = http("GET", self.admin_url + "/v1/actions" + q)
        if st != 200:
            raise AssertionError(f"GET /v1/actions: {st} {body[:300]!r}")
        return json.loads(body)["actions"]

    def log_tail(self, n: int = 30) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                lines = f.readlines()
        except OSError:
            return "(no daemon log)"
        return f"--- daemon {self.name} log (last {n} lines) ---\n" + "".join(lines[-n:])

    def log_lines(self) -> list[str]:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.readlines()
        except OSError:
            return []


# --------------------------------------------------------------------------
# The world: simulator + AWS resources + daemons
# --------------------------------------------------------------------------
class World:
    """One simulator, the AWS resources built in it, and the daemons pointed at it."""

    def __init__(self, time_scale: float = 0.1, latency_ms: float = 0.0, auth: bool = False,
                 name: str = "e2e"):
        self.tmp = tempfile.mkdtemp(prefix=f"hookd-{name}-")
        self.daemons: list[Daemon] = []
        self.sim = None
        self.net: Any = None
        self.templates: dict[str, str] = {}
        self.extra_subnets: dict[str, dict[str, str]] = {}
        self.subnet_cidrs: dict[str, str] = {}
        self.subnet_v6: dict[str, str] = {}
        self.asgs: dict[str, dict[str, Any]] = {}
        try:
            self.sim = simctl.start_sim(time_scale=time_scale, latency_ms=latency_ms, auth=auth,
                                        region=REGION)
        except BaseException:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise
        if auth:
            # moto checks signatures, keys and IAM policies: set-up runs as an admin
            # user made through the (never authenticated) control API
            self.sim.use_credentials(*self.sim.create_credentials(user="e2e-admin"))
        self.ec2 = self.sim.client("ec2")
        self.autoscaling = self.sim.client("autoscaling")

    # --- teardown --------------------------------------------------------------
    def close(self) -> None:
        """Stop every daemon and the simulator; remove the temp dir (kept with E2E_KEEP=1).
        Then raise AssertionError if a daemon did not exit 0 on SIGTERM, its log
        holds a sanitizer report (the test build runs it under ASan/UBSan), or
        (E2E_SECRET_SCAN, on unless "0") its log holds a secret: a whole
        lifecycle token of any action the simulator knows, or the daemon's API
        key (docs/operations.md: tokens appear as an 8-character prefix only)."""
        problems = []
        secrets_: list[tuple[str, str]] = []
        if os.environ.get("E2E_SECRET_SCAN", "1") != "0" and self.sim is not None:
            try:
                secrets_ = [("lifecycle token", a["token"]) for a in self.lifecycle()
                            if a.get("token")]
            except Exception as e:  # the scan must not hide the teardown
                problems.append(f"secret scan: cannot list the simulator's tokens: {e!r}")
        for d in self.daemons:
            try:
                was_running = d.running
                status = d.stop(timeout=10)
                if was_running and status != 0:
                    problems.append(f"daemon {d.name} exited {status} on SIGTERM")
                elif not was_running and d.proc is not None and not d.killed and status != 0:
                    problems.append(f"daemon {d.name} died during the test (exit {status})")
            except Exception as e:
                problems.append(f"daemon {d.name}: stop failed: {e!r}")
                if d.proc is not None and d.proc.poll() is None:
                    d.proc.kill()
            lines = d.log_lines()
            bad = [ln for ln in lines if any(m in ln for m in SANITIZER_MARKS)]
            if bad:
                problems.append(f"daemon {d.name}: sanitizer report:\n" + "".join(bad[:5]) + d.log_tail(60))
            if os.environ.get("E2E_SECRET_SCAN", "1") != "0":
                leaks = _secret_leaks(lines, secrets_ + [("API key", d.api_key)])
                if leaks:
                    problems.append(f"daemon {d.name}: secrets in its log (E2E_SECRET_SCAN):\n"
                                    + "\n".join(leaks[:5]))
            elif problems and problems[-1].startswith(f"daemon {d.name}"):
                problems[-1] += "\n" + d.log_tail(20)
        if self.sim is not None:
            try:
                self.sim.stop()
            finally:
                _untrack(self.sim.proc)
        if os.environ.get("E2E_KEEP"):
            print(f"e2e: kept {self.tmp}", file=sys.stderr)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        if problems:
            raise AssertionError("\n".join(problems))

    def __enter__(self) -> "World":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # --- network ---------------------------------------------------------------
    def build_network(self, networks: tuple[str, ...] = ("sig", "media"), azs: list[str] | None = None,
                      name: str = "e2e") -> Any:
        """VPC 10.0.0.0/16; per AZ i a node subnet 10.0.i.0/24 and per network j a
        Multus subnet 10.0.(16*(j+1)+i).0/24 tagged multus.io/network=<net>,
        multus.io/zone=<az>; node and Multus security groups; a launch template."""
        self.net = build_network(self.sim, azs=azs or AZS, networks=networks, name=name)
        self.subnet_cidrs.update(self.net.subnet_cidrs)
        self.launch_template("m5.large")
        return self.net

    def add_subnet(self, network: str, az: str, cidr: str) -> str:
        """One more Multus subnet (tagged like the others) for `network` in `az`."""
        sid = self.ec2.create_subnet(VpcId=self.net.vpc_id, CidrBlock=cidr, AvailabilityZone=az,
                                     TagSpecifications=[{"ResourceType": "subnet", "Tags": [
                                         {"Key": "Name", "Value": f"{network}-{az}"},
                                         {"Key": MULTUS_NETWORK_TAG, "Value": network},
                                         {"Key": MULTUS_AZ_TAG, "Value": az}]}])["Subnet"]["SubnetId"]
        self.extra_subnets.setdefault(network, {})[az] = sid
        self.subnet_cidrs[sid] = cidr
        return sid

    def subnet(self, network: str, az: str) -> str:
        if network in self.extra_subnets and az in self.extra_subnets[network]:
            return self.extra_subnets[network][az]
        return self.net.multus_subnets[network][az]

    def subnets_of(self, network: str) -> dict[str, str]:
        """{az: subnet id} of a network."""
        out = dict(self.net.multus_subnets.get(network, {}))
        out.update(self.extra_subnets.get(network, {}))
        return out

    def reserve(self, subnet_id: str, cidr: str, kind: str = "explicit") -> str:
        return self.ec2.create_subnet_cidr_reservation(
            SubnetId=subnet_id, Cidr=cidr, ReservationType=kind,
            Description="pods")["SubnetCidrReservation"]["SubnetCidrReservationId"]

    def enable_ipv6(self, networks: Iterable[str]) -> dict[str, str]:
        """An Amazon IPv6 /56 on the VPC and a /64 on every subnet of `networks`;
        returns {subnet id: IPv6 CIDR}."""
        r = self.ec2.associate_vpc_cidr_block(VpcId=self.net.vpc_id, AmazonProvidedIpv6CidrBlock=True)
        block = ipaddress.ip_network(r["Ipv6CidrBlockAssociation"]["Ipv6CidrBlock"])
        subs = block.subnets(new_prefix=64)
        next(subs)
        for n in networks:
            for az, sid in sorted(self.subnets_of(n).items()):
                cidr = str(next(subs))
                self.ec2.associate_subnet_cidr_block(SubnetId=sid, Ipv6CidrBlock=cidr)
                self.subnet_v6[sid] = cidr
        return dict(self.subnet_v6)

    def launch_template(self, instance_type: str) -> str:
        if instance_type not in self.templates:
            self.templates[instance_type] = create_launch_template(
                self.sim, f"e2e-{instance_type.replace('.', '-')}", [self.net.node_sg],
                instance_type=instance_type)
        return self.templates[instance_type]

    # --- daemons and delivery -----------------------------------------------------
    def net_cfg(self, name: str, device_index: int | None = None, ip_mode: str = "first-free",
                pod_ranges: list[str] | None = None, ipv6: str = "none", **extra: Any) -> dict[str, Any]:
        """One `networks` entry: subnet found by tag multus.io/network=<name>."""
        n: dict[str, Any] = {"name": name, "subnet": {"tags": {MULTUS_NETWORK_TAG: name}},
                             "security_groups": [self.net.multus_sg], "ip_mode": ip_mode,
                             "ipv6": ipv6}
        if device_index is not None:
            n["device_index"] = device_index
        if pod_ranges:
            n["pod_ranges"] = pod_ranges
        n.update(extra)
        return n

    @staticmethod
    def group_cfg(name: str, asg_names: list[str], networks: list[dict[str, Any]],
                  **extra: Any) -> dict[str, Any]:
        g = {"name": name, "asg_names": asg_names, "hook_names": list(DEFAULT_HOOKS),
             "networks": networks}
        g.update(extra)
        return g

    def daemon(self, name: str, groups: list[dict[str, Any]], start: bool = True,
               **kw: Any) -> Daemon:
        d = Daemon(self, name, groups, **kw)
        self.daemons.append(d)
        if start:
            d.start()
        return d

    def deliver(self, chaos: dict[str, Any] | None = None, exclude: Iterable[str] = ()) -> None:
        """Point the simulator's EventBridge API destinations at the running daemons:
        each daemon gets the events of the ASGs (existing or named in its groups)
        it serves, except those in `exclude`."""
        dests = []
        skip = set(exclude)
        for d in self.daemons:
            if not d.running:
                continue
            groups = [a for a in self._asg_names_for(d) if a not in skip]
            if not groups:
                continue
            dests.append({"name": f"hookd-{d.name}", "url": d.intake_url,
                          "auth": api_key_auth(API_KEY_HEADER, d.api_key), "groups": groups})
        body: dict[str, Any] = {"api_destinations": dests}
        if chaos is not None:
            body["chaos"] = chaos
        self.sim.call("POST", "/_sim/delivery", body)
        self._delivery_exclude = skip

    def _asg_names_for(self, d: Daemon) -> list[str]:
        import fnmatch

        names = set(self.asgs)
        names.update(p for p in d.asg_patterns if not any(c in p for c in "*?["))
        return sorted(n for n in names if any(fnmatch.fnmatchcase(n, p) for p in d.asg_patterns))

    # --- Auto Scaling ---------------------------------------------------------------
    def asg(self, name: str, desired: int = 0, azs: list[str] | None = None,
            instance_type: str = "m5.large", heartbeat_timeout: int = 3600,
            terminate_hook: bool = True, max_size: int = 60, default_result: str = "ABANDON",
            metadata: str | None = None,
            extra_hooks: list[dict[str, Any]] | None = None,
            target_arn: str | None = None) -> dict[str, Any]:
        """An ASG over the node subnets of `azs` (default both) with a launch hook
        and (unless terminate_hook=False) a terminate hook. Delivery is refreshed
        first, so its first events already reach the daemons."""
        self.asgs[name] = {"azs": azs or AZS}
        if self.daemons:
            self.deliver(exclude=getattr(self, "_delivery_exclude", ()))
        lt = self.launch_template(instance_type)
        r = create_asg(self.sim, name, lt, [self.net.node_subnets[az] for az in (azs or AZS)],
                       desired=desired, max_size=max_size, heartbeat_timeout=heartbeat_timeout,
                       default_result=default_result, metadata=metadata,
                       terminate_hook="multus-terminate" if terminate_hook else None,
                       extra_hooks=extra_hooks, target_arn=target_arn)
        self.asgs[name].update(r)
        return r

    def scale(self, name: str, desired: int) -> None:
        self.autoscaling.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=desired)

    def instances(self, name: str) -> list[dict[str, Any]]:
        """[{id, state, az}] of the group's instances (Auto Scaling's view)."""
        g = self.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]
        if not g:
            return []
        return [{"id": i["InstanceId"], "state": i["LifecycleState"], "az": i["AvailabilityZone"]}
                for i in g[0]["Instances"]]

    def lifecycle(self, **query: Any) -> list[dict[str, Any]]:
        """The simulator's lifecycle record (every action, its heartbeats and result)."""
        return self.sim.call("GET", "/_sim/lifecycle", query=query)["actions"]

    def wait_in_service(self, name: str, n: int, timeout: float = DEFAULT_TIMEOUT) -> list[dict[str, Any]]:
        """Wait until the group has exactly n instances, all InService."""
        def ok() -> Any:
            inst = self.instances(name)
            return inst if len(inst) == n and all(i["state"] == "InService" for i in inst) else None
        return wait_for(ok, timeout, 0.2, f"{n} InService instances in {name}", diag=self.diag)

    def wait_settled(self, name: str, transition: str, n: int,
                     timeout: float = DEFAULT_TIMEOUT) -> list[dict[str, Any]]:
        """Wait until at least n lifecycle actions of the group and transition are
        no longer waiting; returns the settled ones."""
        def ok() -> Any:
            acts = [a for a in self.lifecycle(group=name) if a["transition"] == transition
                    and a["state"] != "waiting"]
            return acts if len(acts) >= n else None
        return wait_for(ok, timeout, 0.2, f"{n} settled {transition} actions of {name}", diag=self.diag)

    # --- AWS state ---------------------------------------------------------------
    def all_enis(self) -> list[dict[str, Any]]:
        """Every ENI of the VPC, flattened: id, subnet, az, status, ipv4 (primary),
        ipv4s, ipv6s, tags, attachment (instance, device index, delete_on_termination)."""
        out = []
        for e in self.ec2.describe_network_interfaces(
                Filters=[{"Name": "vpc-id", "Values": [self.net.vpc_id]}])["NetworkInterfaces"]:
            att = e.get("Attachment") or {}
            out.append({
                "id": e["NetworkInterfaceId"],
                "subnet": e["SubnetId"],
                "az": e.get("AvailabilityZone"),
                "status": e.get("Status"),
                "ipv4": e.get("PrivateIpAddress"),
                "ipv4s": [a["PrivateIpAddress"] for a in e.get("PrivateIpAddresses", [])],
                "ipv6s": [a["Ipv6Address"] for a in e.get("Ipv6Addresses", [])],
                "tags": {t["Key"]: t["Value"] for t in e.get("TagSet", [])},
                "groups": sorted(g["GroupId"] for g in e.get("Groups", [])),
                "instance": att.get("InstanceId"),
                "device_index": att.get("DeviceIndex"),
                "attach_status": att.get("Status"),
                "delete_on_termination": att.get("DeleteOnTermination"),
                "source_dest_check": e.get("SourceDestCheck"),
            })
        return out

    def multus_enis(self) -> list[dict[str, Any]]:
        """ENIs in any Multus subnet (whoever made them) or tagged by the daemon."""
        multus = {sid for n in self.net.networks for sid in self.subnets_of(n).values()}
        multus.update(sid for n in self.extra_subnets.values() for sid in n.values())
        return [e for e in self.all_enis() if e["subnet"] in multus or TAG_INSTANCE in e["tags"]]

    def enis_of(self, instance_id: str) -> list[dict[str, Any]]:
        """ENIs tagged for or attached to the instance (primary excluded), by device index."""
        got = [e for e in self.all_enis()
               if e["tags"].get(TAG_INSTANCE) == instance_id
               or (e["instance"] == instance_id and e["device_index"] not in (0, None))]
        return sorted(got, key=lambda e: (e["device_index"] is None, e["device_index"] or 0, e["id"]))

    def instance_az(self, instance_id: str) -> str:
        r = self.ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
        return r[0]["Instances"][0]["Placement"]["AvailabilityZone"]

    def requests(self, action: str, service: str | None = None, since: int = 0) -> list[dict[str, Any]]:
        return self.sim.requests(service=service, action=action, since=since)

    def completes(self, token: str | None = None, ok_only: bool = False, since: int = 0) -> list[dict[str, Any]]:
        """CompleteLifecycleAction requests the simulator received (for `token`)."""
        out = []
        for r in self.requests("CompleteLifecycleAction", since=since):
            if token and r["params"].get("LifecycleActionToken") != token:
                continue
            if ok_only and r["status"] != 200:
                continue
            out.append(r)
        return out

    def deliveries(self, **query: Any) -> list[dict[str, Any]]:
        return self.sim.call("GET", "/_sim/deliveries", query=query)["attempts"]

    def event_for(self, action: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
        """The EventBridge event the simulator sends for a lifecycle action
        (GET /_sim/lifecycle entry), as a dict to POST."""
        return json.loads(json.dumps(sim_events.eventbridge_event(action, event_id=event_id)))

    # --- diagnostics ----------------------------------------------------------------
    def diag(self) -> str:
        parts = []
        for d in self.daemons:
            try:
                if d.running:
                    acts = d.actions()
                    summary: dict[str, int] = {}
                    for a in acts:
                        k = f"{a['state']}/{a.get('step') or '-'}"
                        summary[k] = summary.get(k, 0) + 1
                    parts.append(f"daemon {d.name} actions: {summary}")
                    errs = [f"{a['instance_id']}: {a['last_error']}" for a in acts if a.get("last_error")]
                    if errs:
                        parts.append("  errors: " + "; ".join(errs[:5]))
                else:
                    parts.append(f"daemon {d.name} not running (exit {d.proc.returncode if d.proc else None})")
            except Exception as e:
                parts.append(f"daemon {d.name}: {e!r}")
            parts.append(d.log_tail(15))
        try:
            waiting = [(a["instance_id"], a["transition"][-11:]) for a in self.lifecycle(state="waiting")]
            parts.append(f"sim: {len(waiting)} actions waiting: {waiting[:10]}")
        except Exception as e:
            parts.append(f"sim: {e!r}")
        return "\n".join(parts)


def _secret_leaks(lines: list[str], secrets_: list[tuple[str, str]]) -> list[str]:
    """One description per log line that holds a whole secret; the secret itself
    is shown as its first 8 characters only (test output is a log too)."""
    out = []
    for n, ln in enumerate(lines, 1):
        for kind, value in secrets_:
            if value and value in ln:
                shown = ln.replace(value, value[:8] + "...<redacted>")
                out.append(f"  line {n}: whole {kind} {value[:8]}...: {shown.strip()[:400]}")
    return out


# --------------------------------------------------------------------------
# Address helpers
# --------------------------------------------------------------------------
def in_any(addr: str, ranges: Iterable[str]) -> bool:
    """Whether addr falls in any CIDR or "first-last" range of `ranges`."""
    a = ipaddress.ip_address(addr)
    for r in ranges:
        if "-" in r:
            lo, hi = (ipaddress.ip_address(x) for x in r.split("-", 1))
            if lo.version == a.version and lo <= a <= hi:
                return True
        else:
            n = ipaddress.ip_network(r)
            if n.version == a.version and a in n:
                return True
    return False


def lowest_free(cidr: str, n: int, excluded: Iterable[str] = (), used: Iterable[str] = ()) -> list[str]:
    """The n lowest assignable addresses of a subnet (first four and last reserved,
    as on AWS) outside `excluded` ranges and `used` addresses."""
    net = ipaddress.ip_network(cidr)
    used_set = {ipaddress.ip_address(u) for u in used}
    ex = list(excluded)
    out: list[str] = []
    first = int(net.network_address) + 4
    last = int(net.broadcast_address) - 1
    for i in range(first, last + 1):
        a = ipaddress.ip_address(i)
        if a in used_set or in_any(str(a), ex):
            continue
        out.append(str(a))
        if len(out) == n:
            break
    return out


def base_case_cleanup(cls: Any, world: World) -> None:
    """Register the world's teardown on a TestCase class (runs even when
    setUpClass fails half way)."""
    cls.addClassCleanup(world.close)
