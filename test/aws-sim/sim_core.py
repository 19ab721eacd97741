"""Core of the AWS simulator: the Sim object, the WSGI layer and the control API.

moto 5.2.1 runs in this process. Every AWS request goes through SimApp, which
logs it, lets the pre-hooks (fault injection, throttling, latency) and the
interceptors (new actions) act, then hands it to moto's DomainDispatcherApplication
while holding sim.lock, and finally lets the post-hooks (500 after the effect)
rewrite the answer. Requests under /_sim/ are the JSON control API.

Plugins (sim_ec2, sim_faults, sim_asg, sim_events) each define check_moto() and
install(sim); see aws_sim.py for the loading order and README.md for the contract.
"""

from __future__ import annotations

import collections
import inspect
import io
import json
import re
import socket
import threading
import time
import traceback
import urllib.parse
from typing import Any, Callable

MOTO_VERSION = "5.2.1"

# Keep the logs bounded: a benchmark can send hundreds of thousands of requests.
REQUEST_LOG_MAX = 200_000
EVENT_LOG_MAX = 200_000

# Parameter names whose values are secrets: never logged, never returned by
# /_sim/requests. LifecycleActionToken and ClientToken are identifiers, not secrets.
_SECRET_KEY_RE = re.compile(
    r"(secret|password|apikeyvalue|sessiontoken|privatekey|authorization|"
    r"oauth|clientparameters|invocationhttpparameters)",
    re.IGNORECASE,
)

_ERROR_CODE_RE = re.compile(rb"<Code>([^<]{1,200})</Code>")


class MotoMismatch(RuntimeError):
    """A patched moto attribute is missing or has an unexpected signature."""


def require_attr(owner: Any, name: str, params: list[str] | None = None) -> Any:
    """Return owner.name, raising MotoMismatch naming it if it is missing.

    params, if given, are parameter names that must appear (in this order, not
    necessarily contiguous) in the callable's signature."""
    label = f"{getattr(owner, '__module__', '?')}.{getattr(owner, '__qualname__', owner)}.{name}"
    if not hasattr(owner, name):
        raise MotoMismatch(f"moto {MOTO_VERSION} expected attribute {label} is missing")
    attr = getattr(owner, name)
    if params is not None:
        try:
            have = list(inspect.signature(attr).parameters)
        except (TypeError, ValueError) as e:
            raise MotoMismatch(f"cannot inspect {label}: {e}") from e
        pos = 0
        for p in params:
            try:
                pos = have.index(p, pos) + 1
            except ValueError:
                raise MotoMismatch(
                    f"{label} signature {have} lacks parameter {p!r} (expected {params})"
                ) from None
    return attr


class SimRequest:
    """One AWS request as seen by hooks and interceptors (read-only for them)."""

    def __init__(self, environ: dict[str, Any], body: bytes):
        self.environ = environ
        self.body = body
        self.method = environ.get("REQUEST_METHOD", "GET")
        self.path = environ.get("PATH_INFO", "/")
        self.query_string = environ.get("QUERY_STRING", "")
        self.headers = {
            k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
        }
        if "CONTENT_TYPE" in environ:
            self.headers["content-type"] = environ["CONTENT_TYPE"]
        self.service, self.region = _scope(self.headers.get("authorization", ""))
        self.target = self.headers.get("x-amz-target")
        self.params: dict[str, Any] = {}
        self.json_body: Any = None
        ctype = self.headers.get("content-type", "")
        if self.target or "json" in ctype:
            try:
                self.json_body = json.loads(body.decode("utf-8")) if body else {}
            except (ValueError, UnicodeDecodeError):
                self.json_body = None
            if isinstance(self.json_body, dict):
                self.params = self.json_body
        else:
            form = urllib.parse.parse_qsl(self.query_string, keep_blank_values=True)
            if body and "x-www-form-urlencoded" in ctype:
                try:
                    form += urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True)
                except UnicodeDecodeError:
                    pass
            self.params = dict(form)
        if self.target:
            self.action = self.target.rsplit(".", 1)[-1]
        else:
            self.action = str(self.params.get("Action", ""))
        if self.target:
            self.protocol = "json"
        elif self.service == "ec2":
            self.protocol = "ec2"
        else:
            self.protocol = "query"

    def param(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)


class SimResponse:
    """A complete answer: status code, header list and body bytes."""

    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def error_code(self) -> str | None:
        if self.status < 300:
            return None
        m = _ERROR_CODE_RE.search(self.body)
        if m:
            return m.group(1).decode("utf-8", "replace")
        if self.body.startswith(b"{"):
            try:
                t = json.loads(self.body).get("__type")
                if t:
                    return str(t).rsplit("#", 1)[-1]
            except ValueError:
                pass
        for k, v in self.headers:
            if k.lower() == "x-amzn-errortype":
                return v.split(":", 1)[0]
        return None


class DropConnection(Exception):
    """Raised by a pre-hook: close the client's socket without any answer."""


def aws_error(req: SimRequest, status: int, code: str, message: str) -> SimResponse:
    """Build an AWS-shaped error answer for req's protocol."""
    rid = _request_id()
    if req.protocol == "ec2":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
            f"<Code>{_xml(code)}</Code><Message>{_xml(message)}</Message>"
            f"</Error></Errors><RequestID>{rid}</RequestID></Response>"
        ).encode()
        ctype = "text/xml;charset=UTF-8"
    elif req.protocol == "json":
        body = json.dumps({"__type": code, "message": message}).encode()
        ctype = "application/x-amz-json-1.1"
    else:
        kind = "Sender" if status < 500 else "Receiver"
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error>'
            f"<Type>{kind}</Type><Code>{_xml(code)}</Code><Message>{_xml(message)}</Message>"
            f"</Error><RequestId>{rid}</RequestId></ErrorResponse>"
        ).encode()
        ctype = "text/xml"
    headers = [("Content-Type", ctype), ("x-amzn-RequestId", rid)]
    if req.protocol == "json":
        headers.append(("x-amzn-ErrorType", code))
    return SimResponse(status, headers, body)


def _xml(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_rid_lock = threading.Lock()
_rid_counter = [0]


def _request_id() -> str:
    with _rid_lock:
        _rid_counter[0] += 1
        n = _rid_counter[0]
    return f"51d0a1f0-0000-4000-8000-{n:012x}"


def _scope(auth: str) -> tuple[str | None, str | None]:
    """Service and region from a SigV4 Authorization header's credential scope."""
    m = re.search(r"Credential=[^/,\s]+/\d{8}/([^/]+)/([^/]+)/aws4_request", auth)
    if not m:
        return None, None
    svc = m.group(2).lower()
    if svc == "eventbridge":
        svc = "events"
    return svc, m.group(1)


def redact(value: Any, key: str = "") -> Any:
    """Copy of value with every secret-looking field replaced by "<redacted>"."""
    if key and _SECRET_KEY_RE.search(key):
        return "<redacted>"
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, key) for v in value]
    return value


ControlFn = Callable[["Sim", Any, dict[str, str]], tuple[int, Any]]
PreHook = Callable[["Sim", SimRequest], "SimResponse | None"]
PostHook = Callable[["Sim", SimRequest, SimResponse], SimResponse]


class Sim:
    """The simulator's shared state. One per process; plugins receive it in install().

    sim.lock serialises every access to moto's backends: the WSGI layer holds it
    while moto handles a request, and plugins must hold it around their own
    mutations (timers, deliveries that touch backends)."""

    def __init__(self, region: str = "us-east-1", time_scale: float = 1.0, latency_ms: float = 0.0):
        from moto.core import DEFAULT_ACCOUNT_ID

        self.lock = threading.RLock()
        self.account_id: str = DEFAULT_ACCOUNT_ID
        self.default_region = region
        self.time_scale = float(time_scale)
        self.latency_ms = float(latency_ms)
        self.base_url = ""
        self.port = 0
        self.auth_enabled = False
        self._credential_users: list[str] = []
        self._log_lock = threading.Lock()
        self._requests: collections.deque[dict[str, Any]] = collections.deque(maxlen=REQUEST_LOG_MAX)
        self._events: collections.deque[dict[str, Any]] = collections.deque(maxlen=EVENT_LOG_MAX)
        self._req_seq = 0
        self._event_seq = 0
        self._controls: dict[tuple[str, str], ControlFn] = {}
        self._startup: list[Callable[[Sim], None]] = []
        self._shutdown: list[Callable[[Sim], None]] = []
        self._reset: list[Callable[[Sim], None]] = []
        self._interceptors: list[PreHook] = []
        self._pre_hooks: list[PreHook] = []
        self._post_hooks: list[PostHook] = []
        self.stopping = threading.Event()
        self.plugins: list[str] = []
        _register_builtin_controls(self)

    # --- time -------------------------------------------------------------
    def scaled(self, seconds: float) -> float:
        """seconds of simulated AWS time in real seconds (seconds * time_scale)."""
        return seconds * self.time_scale

    # --- moto backends ----------------------------------------------------
    def backend(self, name: str, region: str | None = None) -> Any:
        """The live moto backend `name` for this account and region (default region)."""
        from moto.backends import get_backend

        return get_backend(name)[self.account_id][region or self.default_region]

    def ec2(self, region: str | None = None) -> Any:
        return self.backend("ec2", region)

    def autoscaling(self, region: str | None = None) -> Any:
        return self.backend("autoscaling", region)

    # --- extension points -------------------------------------------------
    def register_control(self, method: str, path: str, fn: ControlFn) -> None:
        """Serve fn at METHOD path (path starts with /_sim/). fn(sim, json_body or None,
        query dict of first values) returns (status, json-serialisable)."""
        if not path.startswith("/_sim/"):
            raise ValueError(f"control path {path!r} must start with /_sim/")
        self._controls[(method.upper(), path)] = fn

    def record(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Append an event to the log served at GET /_sim/events; returns the entry."""
        with self._log_lock:
            self._event_seq += 1
            entry = {"seq": self._event_seq, "time": time.time(), "kind": kind}
            entry.update(redact(fields))
            self._events.append(entry)
        return entry

    def events(self, kind: str | None = None, since: int = 0) -> list[dict[str, Any]]:
        with self._log_lock:
            return [e for e in self._events if e["seq"] > since and (kind is None or e["kind"] == kind)]

    def on_startup(self, fn: Callable[[Sim], None]) -> None:
        """fn(sim) runs once the server is bound (sim.base_url set), before the ready file."""
        self._startup.append(fn)

    def on_shutdown(self, fn: Callable[[Sim], None]) -> None:
        """fn(sim) runs after the server stopped accepting requests (SIGTERM)."""
        self._shutdown.append(fn)

    def on_reset(self, fn: Callable[[Sim], None]) -> None:
        """fn(sim) runs after POST /_sim/reset wiped moto's backends: drop plugin state."""
        self._reset.append(fn)

    def add_wsgi_interceptor(self, fn: PreHook) -> None:
        """fn(sim, req) may return a SimResponse to answer req instead of moto (after
        faults and latency apply). It runs without sim.lock: take it if touching moto."""
        self._interceptors.append(fn)

    def add_pre_hook(self, fn: PreHook) -> None:
        """fn(sim, req) runs before anything else; may return a SimResponse, raise
        DropConnection, or sleep (without sim.lock) to add latency."""
        self._pre_hooks.append(fn)

    def add_post_hook(self, fn: PostHook) -> None:
        """fn(sim, req, resp) runs after moto answered; returns the answer to send."""
        self._post_hooks.append(fn)

    # --- request log ------------------------------------------------------
    def _log_request(self, entry: dict[str, Any]) -> None:
        with self._log_lock:
            self._req_seq += 1
            entry["seq"] = self._req_seq
            self._requests.append(entry)

    def requests(
        self,
        service: str | None = None,
        action: str | None = None,
        since: int = 0,
    ) -> list[dict[str, Any]]:
        with self._log_lock:
            return [
                r
                for r in self._requests
                if r["seq"] > since
                and (service is None or r["service"] == service)
                and (action is None or r["action"] == action)
            ]

    def reset_log(self) -> None:
        with self._log_lock:
            self._requests.clear()
            self._events.clear()

    # --- lifecycle --------------------------------------------------------
    def run_startup(self) -> None:
        for fn in self._startup:
            fn(self)

    def run_shutdown(self) -> None:
        for fn in self._shutdown:
            try:
                fn(self)
            except Exception:  # shutdown must go on
                traceback.print_exc()

    def reset_all(self) -> None:
        from moto.moto_api._internal.models import moto_api_backend

        with self.lock:
            moto_api_backend.reset()
            for fn in self._reset:
                fn(self)
        self.reset_log()


class SimApp:
    """The WSGI application in front of moto."""

    def __init__(self, sim: Sim):
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            create_backend_app,
        )

        self.sim = sim
        self.moto = DomainDispatcherApplication(create_backend_app)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_sim/"):
            return self._control(environ, start_response)
        return self._aws(environ, start_response)

    # --- control API ------------------------------------------------------
    def _control(self, environ: dict[str, Any], start_response: Any) -> Any:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "")
        query = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
        body = _read_body(environ)
        fn = self.sim._controls.get((method, path))
        if fn is None:
            known = any(p == path for (_, p) in self.sim._controls)
            status, obj = (405, {"error": f"{method} not allowed on {path}"}) if known else (
                404,
                {"error": f"no control route {path}"},
            )
        else:
            parsed: Any = None
            try:
                parsed = json.loads(body.decode("utf-8")) if body.strip() else None
            except (ValueError, UnicodeDecodeError) as e:
                status, obj = 400, {"error": f"body is not JSON: {e}"}
            else:
                try:
                    status, obj = fn(self.sim, parsed, query)
                except (ValueError, KeyError, TypeError) as e:
                    status, obj = 400, {"error": f"{type(e).__name__}: {e}"}
                except Exception as e:  # report, keep serving
                    traceback.print_exc()
                    status, obj = 500, {"error": f"{type(e).__name__}: {e}"}
        out = json.dumps(obj, default=str).encode()
        start_response(
            f"{status} {_REASONS.get(status, 'Status')}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(out)))],
        )
        return [out]

    # --- AWS requests -----------------------------------------------------
    def _aws(self, environ: dict[str, Any], start_response: Any) -> Any:
        sim = self.sim
        t0 = time.monotonic()
        body = _read_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        req = SimRequest(environ, body)
        entry: dict[str, Any] = {
            "time": time.time(),
            "service": req.service,
            "region": req.region,
            "action": req.action,
            "method": req.method,
            "path": req.path,
            "params": redact(req.params),
        }
        resp: SimResponse | None = None
        try:
            if sim.latency_ms > 0:
                time.sleep(sim.latency_ms / 1000.0)
            for hook in sim._pre_hooks:
                resp = hook(sim, req)
                if resp is not None:
                    entry.setdefault("fault", "pre-hook")
                    break
            if resp is None:
                for icpt in sim._interceptors:
                    resp = icpt(sim, req)
                    if resp is not None:
                        entry["intercepted"] = True
                        break
            if resp is None:
                environ["wsgi.input"] = io.BytesIO(body)
                resp = self._call_moto(environ)
                for post in sim._post_hooks:
                    resp = post(sim, req, resp)
        except DropConnection:
            entry.update(status=0, fault=getattr(req, "fault", None) or "drop", error_code=None, duration_ms=_ms(t0))
            sim._log_request(entry)
            _drop(environ)
            raise ConnectionAbortedError("simulated dropped connection") from None
        except Exception as e:  # a simulator bug: answer like AWS would, keep the trace
            traceback.print_exc()
            entry["sim_error"] = f"{type(e).__name__}: {e}"
            resp = aws_error(req, 500, "InternalError" if req.protocol == "ec2" else "InternalFailure",
                             f"simulator error: {type(e).__name__}")
        fault = getattr(req, "fault", None)
        if fault:
            entry["fault"] = fault
        entry.update(status=resp.status, error_code=resp.error_code, duration_ms=_ms(t0))
        sim._log_request(entry)
        headers = [(k, v) for k, v in resp.headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(resp.body))))
        start_response(f"{resp.status} {_REASONS.get(resp.status, 'Status')}", headers)
        return [resp.body]

    def _call_moto(self, environ: dict[str, Any]) -> SimResponse:
        captured: dict[str, Any] = {}

        def sr(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"] = int(status.split(" ", 1)[0])
            captured["headers"] = list(headers)
            return lambda data: None

        with self.sim.lock:
            it = self.moto(environ, sr)
            try:
                data = b"".join(it)
            finally:
                if hasattr(it, "close"):
                    it.close()
        return SimResponse(captured.get("status", 500), captured.get("headers", []), data)


def _ms(t0: float) -> float:
    return round((time.monotonic() - t0) * 1000.0, 3)


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        n = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        n = 0
    if n <= 0:
        return b""
    return environ["wsgi.input"].read(n)


def _drop(environ: dict[str, Any]) -> None:
    sock = environ.get("werkzeug.socket")
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


# --- built-in control routes ----------------------------------------------


def _since(query: dict[str, str]) -> int:
    return int(query.get("since", "0") or 0)


def _ctl_health(sim: Sim, body: Any, query: dict[str, str]) -> tuple[int, Any]:
    import moto

    return 200, {
        "ok": True,
        "moto": moto.__version__,
        "port": sim.port,
        "region": sim.default_region,
        "account_id": sim.account_id,
        "time_scale": sim.time_scale,
        "latency_ms": sim.latency_ms,
        "auth": sim.auth_enabled,
        "plugins": sim.plugins,
    }


def _ctl_requests(sim: Sim, body: Any, query: dict[str, str]) -> tuple[int, Any]:
    reqs = sim.requests(query.get("service"), query.get("action"), _since(query))
    return 200, {"requests": reqs}


def _ctl_reset_log(sim: Sim, body: Any, query: dict[str, str]) -> tuple[int, Any]:
    sim.reset_log()
    return 200, {"ok": True}


def _ctl_reset(sim: Sim, body: Any, query: dict[str, str]) -> tuple[int, Any]:
    sim.reset_all()
    return 200, {"ok": True}


def _ctl_events(sim: Sim, body: Any, query: dict[str, str]) -> tuple[int, Any]:
    return 200, {"events": sim.events(query.get("kind"), _since(query))}


def _ctl_time_scale(sim: Sim, body: Any, query: dict[str, str]) -> tuple[int, Any]:
    scale = float((body or {})["scale"])
    if not scale > 0:
        return 400, {"error": "scale must be > 0"}
    sim.time_scale = scale
    sim.record("time-scale", scale=scale)
    return 200, {"time_scale": sim.time_scale}


def _ctl_latency(sim: Sim, body: Any, query: dict[str, str]) -> tuple[int, Any]:
    ms = float((body or {})["ms"])
    if ms < 0:
        return 400, {"error": "ms must be >= 0"}
    sim.latency_ms = ms
    return 200, {"latency_ms": sim.latency_ms}


def _ctl_auth(sim: Sim, body: Any, query: dict[str, str]) -> tuple[int, Any]:
    enabled = bool((body or {})["enabled"])
    set_auth(sim, enabled)
    return 200, {"auth": sim.auth_enabled}


def _ctl_credentials(sim: Sim, body: Any, query: dict[str, str]) -> tuple[int, Any]:
    body = body or {}
    user = str(body.get("user") or f"sim-user-{len(sim._credential_users) + 1}")
    policy = body.get("policy") or {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    iam = sim.backend("iam", "aws")
    with sim.lock:
        try:
            iam.get_user(user)
        except Exception:
            iam.create_user(region_name=sim.default_region, user_name=user, path="/", tags=[])
        iam.put_user_policy(user, "sim-policy", json.dumps(policy))
        key = iam.create_access_key(user)
        sim._credential_users.append(user)
    return 200, {"AccessKeyId": key.access_key_id, "SecretAccessKey": key.secret_access_key, "User": user}


def set_auth(sim: Sim, enabled: bool) -> None:
    """Turn moto's signature and IAM checks on or off for every later request."""
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin

    with sim.lock:
        settings.INITIAL_NO_AUTH_ACTION_COUNT = 0 if enabled else float("inf")
        ActionAuthenticatorMixin.request_count = 0
        sim.auth_enabled = enabled
    sim.record("auth", enabled=enabled)


def _register_builtin_controls(sim: Sim) -> None:
    sim.register_control("GET", "/_sim/health", _ctl_health)
    sim.register_control("GET", "/_sim/requests", _ctl_requests)
    sim.register_control("POST", "/_sim/reset-log", _ctl_reset_log)
    sim.register_control("POST", "/_sim/reset", _ctl_reset)
    sim.register_control("GET", "/_sim/events", _ctl_events)
    sim.register_control("POST", "/_sim/time-scale", _ctl_time_scale)
    sim.register_control("POST", "/_sim/latency", _ctl_latency)
    sim.register_control("POST", "/_sim/auth", _ctl_auth)
    sim.register_control("POST", "/_sim/credentials", _ctl_credentials)
