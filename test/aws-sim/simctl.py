"""Client side of the AWS simulator: start it, drive its control API, make boto3 clients.

    from simctl import start_sim
    with start_sim(time_scale=0.01) as sim:
        ec2 = sim.client("ec2")
        sim.add_fault(service="ec2", action="CreateNetworkInterface", kind="throttle", count=1)
        ...

start_sim() launches aws_sim.py as a subprocess on port 0 and waits for its ready
file; the handle is a SimClient (every control call) with .port, .proc, .stop(),
.client(service) and .resource(service). SimClient(base_url) alone drives a simulator
started elsewhere. Only the standard library and boto3 are used.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
AWS_SIM = os.path.join(HERE, "aws_sim.py")

DUMMY_KEY = "AKIASIMULATOR0000000"
DUMMY_SECRET = "sim-secret-not-used-without-auth"


class SimError(RuntimeError):
    """A control API call failed: .status and .body hold the answer."""

    def __init__(self, status: int, body: Any, what: str):
        super().__init__(f"{what}: HTTP {status}: {body}")
        self.status = status
        self.body = body


def error_of(fn: Any, *args: Any, **kwargs: Any) -> tuple[str, int] | None:
    """Call a boto3 method; None if it succeeded, else (AWS error code, HTTP status)."""
    from botocore.exceptions import ClientError

    try:
        fn(*args, **kwargs)
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None


class SimClient:
    """Wraps the /_sim/ control API of a running simulator at base_url."""

    def __init__(self, base_url: str, region: str = "us-east-1"):
        self.base_url = base_url.rstrip("/")
        self.region = region
        self.access_key = DUMMY_KEY
        self.secret_key = DUMMY_SECRET

    # --- raw ---------------------------------------------------------------
    def call(self, method: str, path: str, body: Any = None, query: dict[str, Any] | None = None) -> Any:
        """One control call; returns the decoded JSON or raises SimError."""
        url = self.base_url + path
        q = {k: v for k, v in (query or {}).items() if v is not None}
        if q:
            url += "?" + urllib.parse.urlencode(q)
        data = None if body is None else json.dumps(body).encode()
        rq = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            rq.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(rq, timeout=30) as r:
                return json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw.decode("utf-8", "replace")
            raise SimError(e.code, parsed, f"{method} {path}") from None

    # --- basics --------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        return self.call("GET", "/_sim/health")

    def requests(self, service: str | None = None, action: str | None = None, since: int = 0) -> list[dict[str, Any]]:
        """Request log entries (seq, time, service, region, action, params, status,
        error_code, duration_ms, fault) with seq > since."""
        return self.call("GET", "/_sim/requests", query={"service": service, "action": action, "since": since or None})["requests"]

    def last_seq(self) -> int:
        reqs = self.requests()
        return reqs[-1]["seq"] if reqs else 0

    def reset_log(self) -> None:
        self.call("POST", "/_sim/reset-log", {})

    def reset(self) -> None:
        """Wipe every moto backend, the logs and plugin state (faults stay: clear_faults)."""
        self.call("POST", "/_sim/reset", {})

    def events(self, kind: str | None = None, since: int = 0) -> list[dict[str, Any]]:
        return self.call("GET", "/_sim/events", query={"kind": kind, "since": since or None})["events"]

    def set_time_scale(self, scale: float) -> float:
        return self.call("POST", "/_sim/time-scale", {"scale": scale})["time_scale"]

    def set_latency(self, ms: float) -> float:
        """Fixed latency added to every AWS call (a region round trip)."""
        return self.call("POST", "/_sim/latency", {"ms": ms})["latency_ms"]

    # --- auth ------------------------------------------------------------------
    def set_auth(self, enabled: bool) -> bool:
        return self.call("POST", "/_sim/auth", {"enabled": enabled})["auth"]

    def create_credentials(self, user: str | None = None, policy: dict[str, Any] | None = None) -> tuple[str, str]:
        """Make an IAM user with an access key (admin unless policy is given) inside
        the simulator, bypassing auth; returns (access_key_id, secret_access_key)."""
        body: dict[str, Any] = {}
        if user:
            body["user"] = user
        if policy:
            body["policy"] = policy
        r = self.call("POST", "/_sim/credentials", body)
        return r["AccessKeyId"], r["SecretAccessKey"]

    def use_credentials(self, access_key: str, secret_key: str) -> None:
        """Credentials used by later .client() calls."""
        self.access_key, self.secret_key = access_key, secret_key

    # --- faults -----------------------------------------------------------------
    def add_fault(
        self,
        kind: str,
        service: str | None = None,
        action: str | None = None,
        count: int | None = None,
        skip: int = 0,
        probability: float = 1.0,
        **extra: Any,
    ) -> dict[str, Any]:
        """Add a fault rule. kind: throttle | error-before | error-after | drop | latency.
        count None = unlimited; skip = matching calls let through first; probability
        uses the simulator's seeded RNG. latency takes ms= and jitter_ms=; error-* take
        status= and code=. Returns the stored rule (with its id)."""
        rule: dict[str, Any] = {"kind": kind, "skip": skip, "probability": probability}
        if service:
            rule["service"] = service
        if action:
            rule["action"] = action
        if count is not None:
            rule["count"] = count
        rule.update(extra)
        return self.call("POST", "/_sim/faults", rule)

    def faults(self) -> list[dict[str, Any]]:
        return self.call("GET", "/_sim/faults")["faults"]

    def clear_faults(self, rule_id: int | None = None) -> None:
        self.call("DELETE", "/_sim/faults", query={"id": rule_id})

    def set_seed(self, seed: int) -> None:
        self.call("POST", "/_sim/faults/seed", {"seed": seed})

    def set_throttle(self, enabled: bool, scale: float = 1.0, buckets: dict[str, Any] | None = None) -> dict[str, Any]:
        """Token buckets with AWS's documented sizes, burst and refill multiplied by scale."""
        body: dict[str, Any] = {"enabled": enabled, "scale": scale}
        if buckets is not None:
            body["buckets"] = buckets
        return self.call("POST", "/_sim/throttle", body)

    def throttle(self) -> dict[str, Any]:
        return self.call("GET", "/_sim/throttle")

    # --- boto3 -------------------------------------------------------------------
    def client(self, service: str, region: str | None = None, **kw: Any) -> Any:
        """boto3 client for service aimed at the simulator (no retries unless asked)."""
        import boto3
        from botocore.config import Config

        cfg = kw.pop("config", None) or Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=30)
        return boto3.client(
            service,
            endpoint_url=self.base_url,
            region_name=region or self.region,
            aws_access_key_id=kw.pop("aws_access_key_id", self.access_key),
            aws_secret_access_key=kw.pop("aws_secret_access_key", self.secret_key),
            config=cfg,
            **kw,
        )

    def resource(self, service: str, region: str | None = None) -> Any:
        import boto3

        return boto3.resource(
            service,
            endpoint_url=self.base_url,
            region_name=region or self.region,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
        )


class SimProcess(SimClient):
    """A simulator subprocess started by start_sim()."""

    def __init__(self, proc: subprocess.Popen[bytes], port: int, host: str, region: str, tmpdir: str, log_path: str):
        super().__init__(f"http://{host}:{port}", region)
        self.proc = proc
        self.port = port
        self._tmpdir = tmpdir
        self.log_path = log_path
        self._final_output: str | None = None

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM the simulator and wait; returns its exit status (0 when clean).
        Its output stays readable through stderr_text(); the temporary folder goes."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._final_output is None:
            self._final_output = self.stderr_text()
            shutil.rmtree(self._tmpdir, ignore_errors=True)
        return self.proc.returncode

    def stderr_text(self) -> str:
        """Everything the simulator wrote to stdout and stderr so far."""
        if self._final_output is not None:
            return self._final_output
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def __enter__(self) -> "SimProcess":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def start_sim(
    auth: bool = False,
    auth_after: int | None = None,
    time_scale: float = 1.0,
    region: str = "us-east-1",
    latency_ms: float = 0.0,
    host: str = "127.0.0.1",
    extra_args: list[str] | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> SimProcess:
    """Launch aws_sim.py on a free port; returns a SimProcess (usable as a context
    manager). Raises RuntimeError with the simulator's stderr if it fails to start."""
    tmpdir = tempfile.mkdtemp(prefix="aws-sim-")
    ready = os.path.join(tmpdir, "ready")
    log_path = os.path.join(tmpdir, "stderr.log")
    cmd = [sys.executable, AWS_SIM, "--host", host, "--port", "0", "--ready-file", ready,
           "--time-scale", str(time_scale), "--region", region, "--latency-ms", str(latency_ms)]
    if auth:
        cmd.append("--auth")
        if auth_after is not None:
            cmd += ["--auth-after", str(auth_after)]
    cmd += extra_args or []
    penv = dict(os.environ)
    penv.update(env or {})
    log = open(log_path, "wb")
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=penv)
    log.close()
    deadline = time.monotonic() + timeout
    port = 0
    while time.monotonic() < deadline:
        if os.path.exists(ready):
            with open(ready, encoding="ascii") as f:
                port = int(f.read().strip())
            break
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    if not port:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        with open(log_path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        shutil.rmtree(tmpdir, ignore_errors=True)
        raise RuntimeError(f"aws_sim did not start (exit {proc.returncode}):\n{text}")
    return SimProcess(proc, port, host, region, tmpdir, log_path)


# The lifecycle helper's scenario builders (VPC, Multus subnets, ASG with hooks...).
if HERE not in sys.path:
    sys.path.insert(0, HERE)
try:
    from sim_scenario import *  # noqa: F401,F403,E402
except ImportError:
    pass
