"""Event delivery for the AWS simulator: what AWS sends when an instance waits
on a lifecycle hook, sent for real (moto 5.2.1 stores the targets but never sends).

Channels, each a delivery to one endpoint:
  api_destination  EventBridge API destination: the event JSON POSTed with the
                   connection's auth (API key header or Basic), fixed EventBridge
                   headers, a 5 s response timeout; timeouts, network errors, 429
                   and 5xx retried with exponential backoff honouring Retry-After;
                   other answers dropped (recorded as a failure). Targets come from
                   Events rules (PutRule/PutTargets/CreateConnection/
                   CreateApiDestination through moto) whose pattern matches the
                   aws.autoscaling event, or from the control API (POST /_sim/delivery).
  sns              SNS HTTP(S) subscriptions: a signed SubscriptionConfirmation
                   first (the endpoint GETs SubscribeURL on the simulator's HTTPS
                   listener), then signed Notifications (SignatureVersion 1 or 2)
                   whose Message is the Auto Scaling notification JSON. The signing
                   certificate is issued by a test CA made at start-up.
  sqs              a hook's SQS NotificationTargetARN gets the Auto Scaling
                   notification JSON; an Events rule with an SQS target gets the
                   EventBridge JSON (through moto's SQS backend).

Every delivery can be duplicated, delayed and reordered (POST /_sim/delivery
{"chaos": ...}), deterministically for a given seed. Every attempt is recorded
(GET /_sim/deliveries). Delays, backoffs and Retry-After are simulated seconds
scaled by the time scale; HTTP response timeouts are real seconds.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import email.utils
import http.client
import json
import os
import queue
import random
import re
import secrets
import socket
import ssl
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import uuid
from collections import OrderedDict

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import sim_asg  # noqa: E402

CHANNELS = ("api_destination", "sns", "sqs")
RESPONSE_BODY_MAX = 64 * 1024
ATTEMPT_LOG_MAX = 100_000
SNS_REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-west-1",
    "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1", "ap-south-1",
    "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "ap-northeast-2",
    "sa-east-1", "cn-north-1", "cn-northwest-1",
)

DEFAULT_CONFIG = {
    # Direct API destinations, in addition to Events rules found in moto:
    # [{"name", "url", "auth": {"type": "api_key", "header", "value"} |
    #   {"type": "basic", "user", "password"} | None, "groups": [..], "transitions": [..],
    #   "headers": {..}, "verify_tls": false, "ca_file": path}]
    "api_destinations": [],
    "retry": {
        "timeout_s": 5.0,  # real seconds: how long the endpoint may take to answer
        "base_delay_s": 1.0,  # simulated seconds, doubled per attempt
        "max_delay_s": 60.0,
        "max_attempts": 185,
        "max_age_s": 86400.0,
    },
    "sns": {
        "signature_version": "1",  # default when the topic has no SignatureVersion attribute
        "url_port": False,  # put the HTTPS port in SubscribeURL/SigningCertURL (no CONNECT_TO needed)
        "timeout_s": 15.0,
        "retries": 3,  # SNS's default HTTP policy: 3 retries, 20 s apart
        "retry_delay_s": 20.0,
        "auto_confirm": False,  # confirm http(s) subscriptions without a GET of SubscribeURL
    },
    "chaos": {
        "seed": 0,
        "channels": list(CHANNELS),
        "duplicate": 0,  # extra copies of each delivery
        "duplicate_probability": 1.0,
        "delay_s": 0.0,  # simulated seconds before the first attempt
        "delay_jitter_s": 0.0,
        "reorder": 0,  # hold back this many deliveries, release them in reverse
        "reorder_hold_s": 30.0,  # release a partial batch after this long (simulated)
    },
}

_SIM = None
_D = None
_ORIG = {}


def _iso_ms(t=None):
    t = t or dt.datetime.now(dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _iso_s(t=None):
    t = t or dt.datetime.now(dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _merge(base, over):
    out = copy.deepcopy(base)
    for k, v in (over or {}).items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _redact_cfg(cfg):
    out = copy.deepcopy(cfg)
    for d in out.get("api_destinations", []):
        auth = d.get("auth") or {}
        for k in ("value", "password"):
            if k in auth:
                auth[k] = "<redacted>"
    return out


# --------------------------------------------------------------------------
# Message shapes (docs/aws-facts.md, "Lifecycle events")
# --------------------------------------------------------------------------
def eventbridge_event(info, event_id=None, time_iso=None):
    """The aws.autoscaling lifecycle event as EventBridge delivers it."""
    launching = info["transition"] == sim_asg.LAUNCHING
    detail = OrderedDict()
    detail["LifecycleActionToken"] = info["token"]
    detail["AutoScalingGroupName"] = info["group"]
    detail["LifecycleHookName"] = info["hook"]
    detail["EC2InstanceId"] = info["instance_id"]
    detail["LifecycleTransition"] = info["transition"]
    if info.get("notification_metadata"):
        detail["NotificationMetadata"] = info["notification_metadata"]
    detail["Origin"] = info["origin"]
    detail["Destination"] = info["destination"]
    ev = OrderedDict()
    ev["version"] = "0"
    ev["id"] = event_id or str(uuid.uuid4())
    ev["detail-type"] = (
        "EC2 Instance-launch Lifecycle Action" if launching else "EC2 Instance-terminate Lifecycle Action"
    )
    ev["source"] = "aws.autoscaling"
    ev["account"] = info["account_id"]
    ev["time"] = time_iso or info["created_at"][:19] + "Z"
    ev["region"] = info["region"]
    ev["resources"] = [info["group_arn"]]
    ev["detail"] = detail
    return ev


def asg_notification(info, request_id=None):
    """The Auto Scaling notification JSON sent to an SQS or SNS hook target."""
    m = OrderedDict()
    m["Origin"] = info["origin"]
    m["LifecycleHookName"] = info["hook"]
    m["Destination"] = info["destination"]
    m["AccountId"] = info["account_id"]
    m["RequestId"] = request_id or str(uuid.uuid4())
    m["LifecycleTransition"] = info["transition"]
    m["AutoScalingGroupName"] = info["group"]
    m["Service"] = "AWS Auto Scaling"
    m["Time"] = info["created_at"]
    m["EC2InstanceId"] = info["instance_id"]
    m["LifecycleActionToken"] = info["token"]
    if info.get("notification_metadata"):
        m["NotificationMetadata"] = info["notification_metadata"]
    return m


def test_notification(info, request_id=None):
    """The message AWS sends when a hook's notification target is set."""
    m = OrderedDict()
    m["AccountId"] = info["account_id"]
    m["RequestId"] = request_id or str(uuid.uuid4())
    m["AutoScalingGroupARN"] = info["group_arn"]
    m["AutoScalingGroupName"] = info["group"]
    m["Service"] = "AWS Auto Scaling"
    m["Event"] = "autoscaling:TEST_NOTIFICATION"
    m["Time"] = info["time"]
    return m


def sns_string_to_sign(msg):
    """AWS's canonical string: Key\\nValue\\n for each present key in this order."""
    if msg.get("Type") == "Notification":
        keys = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
    else:
        keys = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
    out = []
    for k in keys:
        if k in msg and msg[k] is not None:
            out.append(f"{k}\n{msg[k]}\n")
    return "".join(out)


# --------------------------------------------------------------------------
# Test CA, SNS signing certificate and the HTTPS listener
# --------------------------------------------------------------------------
class SnsTls:
    def __init__(self, default_region):
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        now = dt.datetime.now(dt.timezone.utc)
        start, end = now - dt.timedelta(days=1), now + dt.timedelta(days=30)

        def name(cn):
            return x509.Name([
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "multus-hookd aws-sim test CA"),
                x509.NameAttribute(NameOID.COMMON_NAME, cn),
            ])

        def key():
            return rsa.generate_private_key(public_exponent=65537, key_size=2048)

        self.ca_key = key()
        ca_name = name("aws-sim test CA (not trusted anywhere else)")
        self.ca_cert = (
            x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
            .public_key(self.ca_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .sign(self.ca_key, hashes.SHA256())
        )
        self.hosts = [sns_host(r) for r in SNS_REGIONS]
        if sns_host(default_region) not in self.hosts:
            self.hosts.append(sns_host(default_region))
        self.server_key = key()
        import ipaddress

        sans = [x509.DNSName(h) for h in self.hosts] + [
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
        ]
        self.server_cert = (
            x509.CertificateBuilder().subject_name(name(sns_host(default_region)))
            .issuer_name(ca_name).public_key(self.server_key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(self.ca_key, hashes.SHA256())
        )
        # The SNS message signing certificate (what SigningCertURL serves).
        self.signing_key = key()
        self.signing_cert = (
            x509.CertificateBuilder().subject_name(name("sns.amazonaws.com"))
            .issuer_name(ca_name).public_key(self.signing_key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(self.ca_key, hashes.SHA256())
        )
        pem = serialization.Encoding.PEM
        self.ca_pem = self.ca_cert.public_bytes(pem)
        self.server_cert_pem = self.server_cert.public_bytes(pem)
        self.server_key_pem = self.server_key.private_bytes(
            pem, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
        self.signing_cert_pem = self.signing_cert.public_bytes(pem)
        self.cert_name = f"SimpleNotificationService-{uuid.uuid4().hex}.pem"
        self.dir = None
        self.ca_file = None
        self.port = 0
        self.server = None

    def write_files(self, ready_file):
        """ca.pem next to the ready file (<ready-file>.sns-ca.pem), else in a temp dir."""
        if ready_file:
            self.ca_file = os.path.abspath(ready_file) + ".sns-ca.pem"
        else:
            self.dir = tempfile.mkdtemp(prefix="aws-sim-sns-")
            self.ca_file = os.path.join(self.dir, "sns-ca.pem")
        tmp = self.ca_file + ".tmp"
        with open(tmp, "wb") as f:
            f.write(self.ca_pem)
        os.replace(tmp, self.ca_file)
        # The server's key stays in memory: ssl wants files, so use a private temp dir.
        kdir = tempfile.mkdtemp(prefix="aws-sim-tls-")
        cert_path = os.path.join(kdir, "server.pem")
        key_path = os.path.join(kdir, "server.key")
        with open(cert_path, "wb") as f:
            f.write(self.server_cert_pem + self.ca_pem)
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(self.server_key_pem)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert_path, key_path)
        os.unlink(key_path)
        os.unlink(cert_path)
        os.rmdir(kdir)
        return ctx

    def sign(self, string_to_sign, version):
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        algo = hashes.SHA1() if str(version) == "1" else hashes.SHA256()
        sig = self.signing_key.sign(string_to_sign.encode("utf-8"), padding.PKCS1v15(), algo)
        return base64.b64encode(sig).decode("ascii")


def sns_host(region):
    return f"sns.{region}.amazonaws.com" + (".cn" if region.startswith("cn-") else "")


# --------------------------------------------------------------------------
# Delivery engine
# --------------------------------------------------------------------------
class _TargetWorker:
    """One thread per endpoint: attempts to one target run in release order."""

    def __init__(self, key):
        self.q = queue.Queue()
        self.t = threading.Thread(target=self._run, name=f"deliver-{key[:40]}", daemon=True)
        self.t.start()

    def submit(self, fn, *args):
        self.q.put((fn, args))

    def stop(self):
        self.q.put(None)

    def _run(self):
        while True:
            job = self.q.get()
            if job is None:
                return
            fn, args = job
            try:
                fn(*args)
            except Exception:
                if _SIM is not None:
                    _SIM.record("delivery_error", traceback=traceback.format_exc()[-2000:])


class Item:
    """One delivery to one endpoint (one copy when duplicated)."""

    _seq = 0

    def __init__(self, channel, target, key, send, event_id, kind, meta=None):
        Item._seq += 1
        self.seq = Item._seq
        self.channel = channel
        self.target = target  # display name (URL, queue ARN, ...)
        self.key = key  # worker key
        self.send = send  # fn(item, attempt) -> None; records and reschedules itself
        self.event_id = event_id
        self.kind = kind
        self.meta = meta or {}
        self.copy = 0
        self.first_due = None
        self.created = time.monotonic()


class Delivery:
    def __init__(self, sim):
        self.sim = sim
        self.cfg = copy.deepcopy(DEFAULT_CONFIG)
        self.rng = random.Random(0)
        self.lock = threading.RLock()
        self.attempts = []
        self.attempt_seq = 0
        self.pending = 0
        self.held = []
        self.hold_timer = None
        self.workers = {}
        self.tls = None
        self.sns_pending = {}  # token -> subscription arn
        self.sns_tokens = {}  # subscription arn -> token
        self.stopped = False
        self.generation = 0  # bumped by reset: older deliveries and retries are dropped

    # --- configuration ---------------------------------------------------
    def configure(self, body):
        with self.lock:
            cfg = _merge(self.cfg, body or {})
            _validate_cfg(cfg)
            seed_changed = (body or {}).get("chaos", {}).get("seed") is not None
            self.cfg = cfg
            if seed_changed:
                self.rng = random.Random(cfg["chaos"]["seed"])
            return _redact_cfg(self.cfg)

    def reset(self, clear_log=True):
        with self.lock:
            self.cfg = copy.deepcopy(DEFAULT_CONFIG)
            self.rng = random.Random(0)
            self.pending = 0
            self.generation += 1
            self.held = []
            if self.hold_timer is not None:
                self.hold_timer.cancel()
                self.hold_timer = None
            if clear_log:
                self.attempts = []

    # --- bookkeeping -----------------------------------------------------
    def record(self, item, attempt, **fields):
        with self.lock:
            gen = getattr(item, "generation", None)
            if gen is not None and gen != self.generation:
                # an attempt that was already running when reset() came: its
                # outcome belongs to the world that was reset
                return {"dropped": True}
            self.attempt_seq += 1
            entry = {
                "seq": self.attempt_seq,
                "time": time.time(),
                "channel": item.channel,
                "target": item.target,
                "event_id": item.event_id,
                "kind": item.kind,
                "copy": item.copy,
                "attempt": attempt,
            }
            entry.update({k: v for k, v in item.meta.items() if not k.startswith("_")})
            if attempt == 1:
                entry["first_delay_s"] = getattr(item, "first_delay_s", 0.0)
            entry.update(fields)
            self.attempts.append(entry)
            if len(self.attempts) > ATTEMPT_LOG_MAX:
                del self.attempts[: len(self.attempts) - ATTEMPT_LOG_MAX]
        return entry

    def _worker(self, key):
        with self.lock:
            w = self.workers.get(key)
            if w is None:
                w = self.workers[key] = _TargetWorker(key)
            return w

    def stop(self):
        self.stopped = True
        for w in list(self.workers.values()):
            w.stop()

    # --- scheduling with chaos -------------------------------------------
    def enqueue(self, item):
        """Apply duplicate/delay/reorder to item, then schedule its first attempt."""
        with self.lock:
            item.generation = self.generation
            chaos = self.cfg["chaos"]
            applies = item.channel in chaos.get("channels", CHANNELS)
            copies = [item]
            if applies and int(chaos.get("duplicate", 0)) > 0:
                if self.rng.random() < float(chaos.get("duplicate_probability", 1.0)):
                    for n in range(int(chaos["duplicate"])):
                        c = copy.copy(item)
                        c.copy = n + 1
                        copies.append(c)
            for c in copies:
                delay = 0.0
                if applies:
                    delay = float(chaos.get("delay_s", 0.0))
                    if float(chaos.get("delay_jitter_s", 0.0)) > 0:
                        delay += self.rng.uniform(0.0, float(chaos["delay_jitter_s"]))
                c.first_delay_s = delay
                self.pending += 1
            window = int(chaos.get("reorder", 0)) if applies else 0
            if window > 1:
                self.held.extend(copies)
                self.sim.record("delivery", what="held", channel=item.channel,
                                event_id=item.event_id, held=len(self.held))
                if len(self.held) >= window:
                    self._release_held()
                elif self.hold_timer is None:
                    self.hold_timer = sim_asg.get_scheduler(self.sim).call_later(
                        self.sim.scaled(float(chaos.get("reorder_hold_s", 30.0))), self.flush
                    )
                return
            for c in copies:
                self._schedule_first(c)

    def flush(self):
        with self.lock:
            self._release_held()

    def _release_held(self):
        batch = list(reversed(self.held))
        self.held = []
        if self.hold_timer is not None:
            self.hold_timer.cancel()
            self.hold_timer = None
        for c in batch:
            self._schedule_first(c)

    def _schedule_first(self, c):
        self.schedule(c, 1, c.first_delay_s)

    def schedule(self, item, attempt, delay_sim_s):
        sched = sim_asg.get_scheduler(self.sim)
        sched.call_later(self.sim.scaled(delay_sim_s), self._submit, item, attempt)

    def _submit(self, item, attempt):
        if self.stopped or getattr(item, "generation", 0) != self.generation:
            return
        self._worker(item.key).submit(self._run_attempt, item, attempt)

    def _run_attempt(self, item, attempt):
        try:
            item.send(item, attempt)
        except Exception:
            self.record(item, attempt, outcome="failed", exception=traceback.format_exc()[-1500:])
            self.done(item)

    def done(self, item):
        with self.lock:
            self.pending = max(0, self.pending - 1)

    def retry_or_give_up(self, item, attempt, policy, retry_after_s=None):
        """Schedule the next attempt of a retryable failure; returns (outcome, delay)."""
        if policy == "eventbridge":
            r = self.cfg["retry"]
            age = time.monotonic() - item.created
            if attempt >= int(r["max_attempts"]) or age >= self.sim.scaled(float(r["max_age_s"])):
                self.done(item)
                return "gave-up", None
            delay = min(float(r["max_delay_s"]), float(r["base_delay_s"]) * (2 ** (attempt - 1)))
            if retry_after_s is not None:
                delay = max(delay, retry_after_s)
        else:
            s = self.cfg["sns"]
            if attempt > int(s["retries"]):
                self.done(item)
                return "gave-up", None
            delay = float(s["retry_delay_s"])
        self.schedule(item, attempt + 1, delay)
        return "retry", delay


def _validate_cfg(cfg):
    for d in cfg["api_destinations"]:
        if not isinstance(d, dict) or not d.get("url"):
            raise ValueError("each api_destinations entry needs a url")
        u = urllib.parse.urlsplit(d["url"])
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"api destination url must be http(s)://host...: {d['url']}")
        auth = d.get("auth")
        if auth:
            if auth.get("type") == "api_key":
                if not auth.get("header") or "value" not in auth:
                    raise ValueError("api_key auth needs header and value")
            elif auth.get("type") == "basic":
                if "user" not in auth or "password" not in auth:
                    raise ValueError("basic auth needs user and password")
            else:
                raise ValueError("auth.type must be api_key or basic")
    if str(cfg["sns"]["signature_version"]) not in ("1", "2"):
        raise ValueError("sns.signature_version must be 1 or 2")
    ch = cfg["chaos"]
    for k in ("duplicate", "reorder"):
        if int(ch.get(k, 0)) < 0:
            raise ValueError(f"chaos.{k} must be >= 0")
    for k in ("delay_s", "delay_jitter_s", "reorder_hold_s"):
        if float(ch.get(k, 0)) < 0:
            raise ValueError(f"chaos.{k} must be >= 0")
    for c in ch.get("channels", []):
        if c not in CHANNELS:
            raise ValueError(f"unknown chaos channel {c}; known: {CHANNELS}")
    if float(cfg["retry"]["timeout_s"]) <= 0:
        raise ValueError("retry.timeout_s must be > 0")


# --------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------
def _http(method, url, body, headers, timeout_s, verify_tls=False, ca_file=None):
    """One HTTP(S) exchange: (status, headers dict, body bytes) or raises OSError."""
    u = urllib.parse.urlsplit(url)
    host, port = u.hostname, u.port
    path = (u.path or "/") + (f"?{u.query}" if u.query else "")
    if u.scheme == "https":
        if verify_tls or ca_file:
            ctx = ssl.create_default_context(cafile=ca_file)
        else:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection(host, port or 443, timeout=timeout_s, context=ctx)
    else:
        conn = http.client.HTTPConnection(host, port or 80, timeout=timeout_s)
    try:
        hdrs = dict(headers)
        hdrs.setdefault("Host", u.netloc)
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        data = r.read(RESPONSE_BODY_MAX)
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        conn.close()


def _retry_after(headers):
    v = headers.get("retry-after")
    if not v:
        return None
    v = v.strip()
    if v.isdigit():
        return float(v)
    try:
        when = email.utils.parsedate_to_datetime(v)
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------
# Channel: EventBridge API destination
# --------------------------------------------------------------------------
def _api_dest_item(url, auth, headers, event, kind, name, verify_tls=False, ca_file=None,
                   method="POST"):
    body = json.dumps(event).encode("utf-8")
    hdrs = OrderedDict()
    hdrs["User-Agent"] = "Amazon/EventBridge/ApiDestinations"
    hdrs["Content-Type"] = "application/json; charset=utf-8"
    for k, v in (headers or {}).items():
        hdrs[k] = v
    if auth:
        if auth["type"] == "api_key":
            hdrs[auth["header"]] = auth["value"]
        elif auth["type"] == "basic":
            tok = base64.b64encode(f"{auth['user']}:{auth['password']}".encode()).decode()
            hdrs["Authorization"] = f"Basic {tok}"

    def send(item, attempt):
        d = _D
        timeout = float(d.cfg["retry"]["timeout_s"])
        t0 = time.monotonic()
        status, exc, ra = None, None, None
        try:
            status, rh, _ = _http(method, url, body, hdrs, timeout, verify_tls, ca_file)
            ra = _retry_after(rh)
        except (OSError, http.client.HTTPException) as e:
            exc = f"{type(e).__name__}: {e}"
        ms = round((time.monotonic() - t0) * 1000, 1)
        if status is not None and 200 <= status < 300:
            d.record(item, attempt, status=status, outcome="delivered", duration_ms=ms)
            d.done(item)
            return
        if exc is not None or status == 429 or (status is not None and status >= 500):
            outcome, delay = d.retry_or_give_up(item, attempt, "eventbridge", ra)
            d.record(item, attempt, status=status, exception=exc, outcome=outcome,
                     retry_after_s=ra, next_delay_s=delay, duration_ms=ms)
            return
        d.record(item, attempt, status=status, outcome="dropped", duration_ms=ms,
                 failure="non-retryable client error")
        d.done(item)

    # The display name drops the query: connection query parameters may be secrets.
    shown = urllib.parse.urlsplit(url)._replace(query="").geturl()
    return Item("api_destination", shown, f"api:{url}", send, event["id"], kind,
                {"destination": name})


def _connection_auth(conn):
    """(auth dict, extra headers, extra query) from a moto Events Connection."""
    p = conn.auth_parameters or {}
    auth = None
    if "ApiKeyAuthParameters" in p:
        a = p["ApiKeyAuthParameters"]
        auth = {"type": "api_key", "header": a.get("ApiKeyName"), "value": a.get("ApiKeyValue", "")}
    elif "BasicAuthParameters" in p:
        a = p["BasicAuthParameters"]
        auth = {"type": "basic", "user": a.get("Username", ""), "password": a.get("Password", "")}
    headers, query = {}, {}
    inv = p.get("InvocationHttpParameters") or {}
    for h in inv.get("HeaderParameters", []) or []:
        headers[h.get("Key")] = h.get("Value", "")
    for q in inv.get("QueryStringParameters", []) or []:
        query[q.get("Key")] = q.get("Value", "")
    return auth, headers, query


def _api_destination_from_target(events_backend, target):
    """Resolve an Events target whose Arn is an api-destination: url, auth, headers."""
    arn = target["Arn"]
    name = arn.split(":api-destination/", 1)[1].split("/", 1)[0]
    dest = events_backend.destinations.get(name)
    if dest is None:
        return None
    conn = None
    for c in events_backend.connections.values():
        if c.arn == dest.connection_arn:
            conn = c
    auth, headers, query = _connection_auth(conn) if conn else (None, {}, {})
    hp = target.get("HttpParameters") or {}
    headers.update(hp.get("HeaderParameters") or {})
    query.update(hp.get("QueryStringParameters") or {})
    url = dest.invocation_endpoint
    for v in hp.get("PathParameterValues") or []:
        url = url.replace("*", v, 1)
    if query:
        url += ("&" if "?" in url else "?") + urllib.parse.urlencode(query)
    return {"name": name, "url": url, "auth": auth, "headers": headers,
            "method": dest.http_method or "POST"}


# --------------------------------------------------------------------------
# Channel: SQS
# --------------------------------------------------------------------------
def _sqs_item(queue_arn, body_obj, event_id, kind):
    body = json.dumps(body_obj)
    parts = queue_arn.split(":")
    region, account, name = parts[3], parts[4], parts[5]

    def send(item, attempt):
        from moto.sqs.models import sqs_backends

        d = _D
        with d.sim.lock:
            try:
                msg = sqs_backends[account][region].send_message(name, body)
            except Exception as e:  # queue gone: AWS would drop it too
                d.record(item, attempt, outcome="failed", exception=f"{type(e).__name__}: {e}")
                d.done(item)
                return
        d.record(item, attempt, outcome="delivered", sqs_message_id=msg.id)
        d.done(item)

    return Item("sqs", queue_arn, f"sqs:{queue_arn}", send, event_id, kind)


def _sqs_exists(account, region, arn):
    from moto.sqs.models import sqs_backends

    parts = arn.split(":")
    if len(parts) < 6:
        return False
    try:
        return parts[5] in sqs_backends[parts[4]][parts[3]].queues
    except Exception:
        return False


# --------------------------------------------------------------------------
# Channel: SNS
# --------------------------------------------------------------------------
def _sns_urls(region):
    d = _D
    host = sns_host(region)
    if d.cfg["sns"].get("url_port") and d.tls.port:
        host = f"{host}:{d.tls.port}"
    return f"https://{host}"


def _sns_envelope(kind, topic_arn, region, message, message_id, subject=None, token=None,
                  sub_arn=None, version="1"):
    base = _sns_urls(region)
    m = OrderedDict()
    m["Type"] = kind
    m["MessageId"] = message_id
    if kind != "Notification":
        m["Token"] = token
    m["TopicArn"] = topic_arn
    if kind == "Notification" and subject:
        m["Subject"] = subject
    m["Message"] = message
    if kind != "Notification":
        q = urllib.parse.urlencode(
            OrderedDict([("Action", "ConfirmSubscription"), ("TopicArn", topic_arn), ("Token", token)])
        )
        m["SubscribeURL"] = f"{base}/?{q}"
    m["Timestamp"] = _iso_ms()
    m["SignatureVersion"] = str(version)
    m["Signature"] = _D.tls.sign(sns_string_to_sign(m), version)
    m["SigningCertURL"] = f"{base}/{_D.tls.cert_name}"
    if kind == "Notification":
        q = urllib.parse.urlencode(OrderedDict([("Action", "Unsubscribe"), ("SubscriptionArn", sub_arn)]))
        m["UnsubscribeURL"] = f"{base}/?{q}"
    return m


def _topic_signature_version(topic):
    v = getattr(topic, "signature_version", None) or getattr(topic, "SignatureVersion", None)
    if str(v) in ("1", "2"):
        return str(v)
    return str(_D.cfg["sns"]["signature_version"])


def _sns_http_item(sub, kind, message, message_id, subject=None, token=None, event_kind="sns"):
    topic = sub.topic
    region = topic.arn.split(":")[3]
    endpoint = sub.endpoint
    sub_arn = sub.arn

    def send(item, attempt):
        d = _D
        # Retries reuse the MessageId; the signature is made once per attempt
        # (same content, fresh Timestamp is not what AWS does: keep the first).
        env = item.meta.get("_envelope")
        if env is None:
            env = _sns_envelope(kind, topic.arn, region, message, message_id, subject, token,
                                sub_arn, _topic_signature_version(topic))
            item.meta["_envelope"] = env
        body = json.dumps(env, indent=2, separators=(",", " : ")).encode("utf-8")
        hdrs = {
            "x-amz-sns-message-type": kind,
            "x-amz-sns-message-id": message_id,
            "x-amz-sns-topic-arn": topic.arn,
            "Content-Type": "text/plain; charset=UTF-8",
            "User-Agent": "Amazon Simple Notification Service Agent",
        }
        if kind == "Notification":
            hdrs["x-amz-sns-subscription-arn"] = sub_arn
        t0 = time.monotonic()
        status, exc = None, None
        try:
            status, _, _ = _http("POST", endpoint, body, hdrs, float(d.cfg["sns"]["timeout_s"]))
        except (OSError, http.client.HTTPException) as e:
            exc = f"{type(e).__name__}: {e}"
        ms = round((time.monotonic() - t0) * 1000, 1)
        if status is not None and 200 <= status < 300:
            d.record(item, attempt, status=status, outcome="delivered", duration_ms=ms)
            d.done(item)
        elif exc is not None or status == 429 or status >= 500:
            outcome, delay = d.retry_or_give_up(item, attempt, "sns")
            d.record(item, attempt, status=status, exception=exc, outcome=outcome,
                     next_delay_s=delay, duration_ms=ms)
        else:
            d.record(item, attempt, status=status, outcome="dropped", duration_ms=ms,
                     failure="non-retryable client error")
            d.done(item)

    it = Item("sns", endpoint, f"sns:{endpoint}", send, message_id, event_kind,
              {"sns_type": kind, "topic_arn": topic.arn, "subscription_arn": sub_arn})
    return it


def _sns_publish(topic_arn, message, subject, message_id, event_kind):
    """Fan a message out to a topic's subscriptions (sim.lock held by caller)."""
    from moto.sns.models import sns_backends

    parts = topic_arn.split(":")
    backend = sns_backends[parts[4]][parts[3]]
    topic = backend.topics.get(topic_arn)
    if topic is None:
        _SIM.record("delivery", what="sns-topic-missing", topic_arn=topic_arn)
        return
    for sub in list(backend.subscriptions.values()):
        if sub.topic.arn != topic_arn:
            continue
        if sub.protocol in ("http", "https"):
            _sns_http_notify(sub, message, message_id, subject, event_kind)
        else:
            try:
                _ORIG["Subscription.publish"](sub, message, message_id, subject=subject)
            except Exception as e:
                _SIM.record("delivery", what="sns-subscription-failed", protocol=sub.protocol,
                            error=f"{type(e).__name__}: {e}")


def _sns_http_notify(sub, message, message_id, subject, event_kind):
    if not getattr(sub, "confirmed", False) and sub.attributes.get("PendingConfirmation") == "true":
        _SIM.record("delivery", what="sns-unconfirmed-skipped", endpoint=sub.endpoint,
                    message_id=message_id)
        _D.record(Item("sns", sub.endpoint, "", None, message_id, event_kind), 0,
                  outcome="skipped", failure="subscription pending confirmation",
                  subscription_arn=sub.arn)
        return
    _D.enqueue(_sns_http_item(sub, "Notification", message, message_id, subject,
                              event_kind=event_kind))


def _sns_exists(account, region, arn):
    from moto.sns.models import sns_backends

    parts = arn.split(":")
    if len(parts) < 6:
        return False
    try:
        return arn in sns_backends[parts[4]][parts[3]].topics
    except Exception:
        return False


# --- moto SNS patches --------------------------------------------------------
def _patched_subscribe(self, topic_arn, endpoint, protocol):
    with _SIM.lock:
        existed = self._find_subscription(topic_arn, endpoint, protocol)
        sub = _ORIG["SNSBackend.subscribe"](self, topic_arn, endpoint, protocol)
        if protocol in ("http", "https") and (existed is None or not getattr(sub, "confirmed", False)):
            token = _D.sns_tokens.get(sub.arn) or secrets.token_hex(64)
            _D.sns_tokens[sub.arn] = token
            _D.sns_pending[token] = sub.arn
            sub.confirmed = False
            sub.attributes["PendingConfirmation"] = "true"
            sub.attributes["ConfirmationWasAuthenticated"] = "false"
            if _D.cfg["sns"].get("auto_confirm"):
                _confirm(self, token)
            else:
                msg = (
                    f"You have chosen to subscribe to the topic {topic_arn}.\n"
                    "To confirm the subscription, visit the SubscribeURL included in this message."
                )
                _D.enqueue(_sns_http_item(sub, "SubscriptionConfirmation", msg, str(uuid.uuid4()),
                                          token=token, event_kind="subscription"))
        return sub


def _confirm(backend_or_none, token):
    arn = _D.sns_pending.get(token)
    if arn is None:
        return None
    from moto.sns.models import sns_backends

    parts = arn.split(":")
    backend = sns_backends[parts[4]][parts[3]]
    sub = backend.subscriptions.get(arn)
    if sub is None:
        return None
    sub.confirmed = True
    sub.attributes["PendingConfirmation"] = "false"
    sub.attributes["ConfirmationWasAuthenticated"] = "true"
    _SIM.record("delivery", what="sns-subscription-confirmed", subscription_arn=arn)
    return arn


def _patched_sub_publish(self, message, message_id, subject=None, message_attributes=None,
                         group_id=None, deduplication_id=None, message_structure=None):
    if self.protocol in ("http", "https"):
        matcher = getattr(self, "_filter_policy_matcher", None)
        if matcher is not None and not matcher.matches(message_attributes, message):
            return None
        if message_structure == "json":
            message = self._parse_message_structure(message, self.protocol)
        _sns_http_notify(self, message, message_id, subject, "sns-publish")
        return None
    return _ORIG["Subscription.publish"](self, message, message_id, subject=subject,
                                         message_attributes=message_attributes, group_id=group_id,
                                         deduplication_id=deduplication_id,
                                         message_structure=message_structure)


def _patched_get_post_data(self, message, message_id, subject, message_attributes=None):
    """SNS envelope for SQS subscriptions, signed like AWS (Subject included)."""
    region = self.topic.arn.split(":")[3]
    env = _sns_envelope("Notification", self.topic.arn, region, message, message_id, subject,
                        None, self.arn, _topic_signature_version(self.topic))
    if message_attributes:
        env["MessageAttributes"] = message_attributes
    return dict(env)


def _patched_confirm_subscription_resp(self):
    from moto.core.responses import ActionResult

    token = self._get_param("Token")
    with _SIM.lock:
        arn = _confirm(None, token) if token else None
    if arn:
        return ActionResult({"SubscriptionArn": arn})
    return _ORIG["SNSResponse.confirm_subscription"](self)


# --- HTTPS listener (SubscribeURL, UnsubscribeURL, SigningCertURL) ------------
def _https_app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    q = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
    d = _D
    rid = str(uuid.uuid4())

    def reply(status, body, ctype="text/xml"):
        data = body.encode() if isinstance(body, str) else body
        start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(data)))])
        return [data]

    if path == "/" + d.tls.cert_name or (path.endswith(".pem") and path.startswith("/SimpleNotificationService-")):
        if path != "/" + d.tls.cert_name:
            return reply("404 Not Found", "<Error><Code>NoSuchKey</Code></Error>")
        _SIM.record("delivery", what="sns-cert-fetched", path=path)
        return reply("200 OK", d.tls.signing_cert_pem, "application/x-x509-ca-cert")
    action = q.get("Action")
    ns = "http://sns.amazonaws.com/doc/2010-03-31/"
    if path == "/" and action == "ConfirmSubscription":
        token = q.get("Token", "")
        with _SIM.lock:
            want = d.sns_pending.get(token)
            if want and q.get("TopicArn") and not want.startswith(q["TopicArn"] + ":"):
                want = None
            arn = _confirm(None, token) if want else None
        if not arn:
            return reply("400 Bad Request",
                         f'<ErrorResponse xmlns="{ns}"><Error><Type>Sender</Type><Code>InvalidParameter</Code>'
                         f"<Message>Invalid token</Message></Error><RequestId>{rid}</RequestId></ErrorResponse>")
        return reply("200 OK",
                     f'<ConfirmSubscriptionResponse xmlns="{ns}"><ConfirmSubscriptionResult>'
                     f"<SubscriptionArn>{arn}</SubscriptionArn></ConfirmSubscriptionResult>"
                     f"<ResponseMetadata><RequestId>{rid}</RequestId></ResponseMetadata>"
                     "</ConfirmSubscriptionResponse>")
    if path == "/" and action == "Unsubscribe":
        arn = q.get("SubscriptionArn", "")
        from moto.sns.models import sns_backends

        parts = arn.split(":")
        ok = False
        if len(parts) >= 7:
            with _SIM.lock:
                backend = sns_backends[parts[4]][parts[3]]
                ok = backend.subscriptions.pop(arn, None) is not None
        if not ok:
            return reply("404 Not Found",
                         f'<ErrorResponse xmlns="{ns}"><Error><Type>Sender</Type><Code>NotFound</Code>'
                         f"<Message>Subscription does not exist</Message></Error><RequestId>{rid}</RequestId></ErrorResponse>")
        _SIM.record("delivery", what="sns-unsubscribed", subscription_arn=arn)
        return reply("200 OK",
                     f'<UnsubscribeResponse xmlns="{ns}"><ResponseMetadata><RequestId>{rid}</RequestId>'
                     "</ResponseMetadata></UnsubscribeResponse>")
    return reply("404 Not Found", "<Error><Code>NotFound</Code></Error>")


def _start_https(sim):
    from werkzeug.serving import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_request(self, *a, **k):
            pass

    ready_file = getattr(sim, "ready_file", None) or _argv_ready_file()
    ctx = _D.tls.write_files(ready_file)
    host = "127.0.0.1"
    srv = make_server(host, 0, _https_app, threaded=True, ssl_context=ctx, request_handler=Quiet)
    srv.daemon_threads = True
    _D.tls.port = srv.server_port
    _D.tls.server = srv
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2},
                     name="sns-https", daemon=True).start()


def _stop(sim):
    if _D is None:
        return
    _D.stop()
    if _D.tls and _D.tls.server is not None:
        threading.Thread(target=_D.tls.server.shutdown, daemon=True).start()


def _argv_ready_file():
    argv = sys.argv
    for i, a in enumerate(argv):
        if a == "--ready-file" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--ready-file="):
            return a.split("=", 1)[1]
    return None


# --------------------------------------------------------------------------
# Listeners called by sim_asg
# --------------------------------------------------------------------------
def on_lifecycle_action(info):
    """A new lifecycle action: hook target (SQS/SNS), Events rules, direct destinations."""
    d = _D
    request_id = str(uuid.uuid4())
    event = eventbridge_event(info)
    target = info.get("notification_target_arn")
    with d.sim.lock:
        if target:
            note = asg_notification(info, request_id)
            if ":sqs:" in target:
                d.enqueue(_sqs_item(target, note, request_id, "lifecycle"))
            elif ":sns:" in target:
                action = "LAUNCHING" if info["transition"] == sim_asg.LAUNCHING else "TERMINATING"
                subject = (f"Auto Scaling:  Lifecycle action '{action}' for instance "
                           f"{info['instance_id']} in progress.")
                _sns_publish(target, json.dumps(note), subject, str(uuid.uuid4()), "lifecycle")
        _eventbridge_rules(info["account_id"], info["region"], event, "lifecycle")
        for dest in d.cfg["api_destinations"]:
            if dest.get("groups") and info["group"] not in dest["groups"]:
                continue
            if dest.get("transitions") and info["transition"] not in dest["transitions"]:
                continue
            d.enqueue(_api_dest_item(dest["url"], dest.get("auth"), dest.get("headers"), event,
                                     "lifecycle", dest.get("name", "direct"),
                                     dest.get("verify_tls", False), dest.get("ca_file"),
                                     dest.get("method", "POST")))


def _eventbridge_rules(account, region, event, kind):
    from moto.events.models import events_backends

    try:
        backend = events_backends[account][region]
    except Exception:
        return
    bus = backend.event_buses.get("default")
    if bus is None:
        return
    for rule in list(bus.rules.values()):
        if rule.state != "ENABLED" or not rule.event_pattern.matches_event(json.loads(json.dumps(event))):
            continue
        for t in rule.targets:
            arn = t.get("Arn", "")
            if ":api-destination/" in arn:
                dest = _api_destination_from_target(backend, t)
                if dest is None:
                    _SIM.record("delivery", what="api-destination-missing", arn=arn)
                    continue
                _D.enqueue(_api_dest_item(dest["url"], dest["auth"], dest["headers"], event, kind,
                                          dest["name"], method=dest["method"]))
            elif ":sqs:" in arn:
                _D.enqueue(_sqs_item(arn, event, event["id"], kind))
            else:
                _SIM.record("delivery", what="unsupported-target", rule=rule.name, arn=arn)


def on_test_notification(info):
    d = _D
    request_id = str(uuid.uuid4())
    note = test_notification(info, request_id)
    target = info["notification_target_arn"]
    with d.sim.lock:
        if ":sqs:" in target:
            d.enqueue(_sqs_item(target, note, request_id, "test"))
        elif ":sns:" in target:
            subject = f'Auto Scaling: test notification for group "{info["group"]}"'
            _sns_publish(target, json.dumps(note), subject, str(uuid.uuid4()), "test")


def check_target(account, region, arn):
    """Why a hook's NotificationTargetARN cannot take the test message, or None."""
    if ":sqs:" in arn:
        return None if _sqs_exists(account, region, arn) else "queue does not exist"
    if ":sns:" in arn:
        return None if _sns_exists(account, region, arn) else "topic does not exist"
    return "target must be an SQS queue or an SNS topic ARN"


# --------------------------------------------------------------------------
# Control routes
# --------------------------------------------------------------------------
def _ctl_get(sim, body, query):
    with _D.lock:
        return 200, _redact_cfg(_D.cfg)


def _ctl_post(sim, body, query):
    if body is not None and not isinstance(body, dict):
        return 400, {"error": "body must be a JSON object"}
    return 200, _D.configure(body or {})


def _ctl_reset(sim, body, query):
    _D.reset(clear_log=bool((body or {}).get("clear_log", True)))
    return 200, _redact_cfg(_D.cfg)


def _ctl_flush(sim, body, query):
    _D.flush()
    return 200, {"ok": True}


def _ctl_deliveries(sim, body, query):
    since = int(query.get("since", "0") or 0)
    with _D.lock:
        out = []
        for a in _D.attempts:
            if a["seq"] <= since:
                continue
            if query.get("channel") and a["channel"] != query["channel"]:
                continue
            if query.get("target") and a["target"] != query["target"]:
                continue
            if query.get("event_id") and a["event_id"] != query["event_id"]:
                continue
            if query.get("kind") and a["kind"] != query["kind"]:
                continue
            out.append(a)
        return 200, {"attempts": out, "pending": _D.pending, "held": len(_D.held)}


def _ctl_sns(sim, body, query):
    t = _D.tls
    region = query.get("region") or sim.default_region
    host = sns_host(region)
    subs = []
    from moto.sns.models import sns_backends

    with sim.lock:
        try:
            for s in sns_backends[sim.account_id][region].subscriptions.values():
                if s.protocol in ("http", "https"):
                    subs.append({"arn": s.arn, "endpoint": s.endpoint, "topic_arn": s.topic.arn,
                                 "confirmed": bool(getattr(s, "confirmed", False)),
                                 "pending_confirmation": s.attributes.get("PendingConfirmation")})
        except Exception:
            pass
    return 200, {
        "ca_file": t.ca_file,
        "ca_pem": t.ca_pem.decode(),
        "host": host,
        "https_port": t.port,
        "url_port": bool(_D.cfg["sns"].get("url_port")),
        "curl_connect_to": f"{host}:443:127.0.0.1:{t.port}",
        "curl_resolve": f"{host}:{t.port}:127.0.0.1",
        "signing_cert_url": f"{_sns_urls(region)}/{t.cert_name}",
        "signing_cert_pem": t.signing_cert_pem.decode(),
        "hosts": t.hosts,
        "subscriptions": subs,
    }


# --------------------------------------------------------------------------
# Install
# --------------------------------------------------------------------------
def _targets():
    from moto.events import models as em
    from moto.sns import models as snm
    from moto.sns import responses as snr
    from moto.sqs import models as sqm

    return [
        (em, "events_backends"), (em.EventsBackend, "destinations"), (em.EventsBackend, "connections"),
        (em.Rule, "send_to_targets"), (em.EventPattern, "matches_event"),
        (em.Connection, "__init__"), (em.Destination, "__init__"),
        (snm, "sns_backends"), (snm.SNSBackend, "subscribe"), (snm.SNSBackend, "_find_subscription"),
        (snm.Subscription, "publish"), (snm.Subscription, "get_post_data"),
        (snm.Subscription, "_parse_message_structure"),
        (snr.SNSResponse, "confirm_subscription"),
        (sqm, "sqs_backends"), (sqm.SQSBackend, "send_message"),
    ]


def check_moto():
    """Fail fast, naming the attribute, if moto is not the one these patches fit."""
    from sim_core import MotoMismatch

    try:
        import moto
        import cryptography  # noqa: F401
        import werkzeug.serving  # noqa: F401
    except ImportError as exc:
        raise MotoMismatch(f"sim_events: {exc}; needs moto 5.2.1, cryptography and werkzeug") from exc
    if getattr(moto, "__version__", None) != "5.2.1":
        raise MotoMismatch(f"sim_events: moto 5.2.1 required, found {getattr(moto, '__version__', '?')}")
    from moto.events.models import EventsBackend

    probe = ["destinations", "connections"]
    for owner, attr in _targets():
        if attr in probe and owner is EventsBackend:
            continue  # instance attributes, checked below on a fresh backend
        if not hasattr(owner, attr):
            raise MotoMismatch(
                f"sim_events: moto {moto.__version__} lacks {getattr(owner, '__name__', owner)}.{attr}, "
                "which event delivery relies on"
            )
    b = EventsBackend("us-east-1", "123456789012")
    for attr in probe + ["event_buses"]:
        if not hasattr(b, attr):
            raise MotoMismatch(f"sim_events: moto EventsBackend instances lack .{attr}")


def _on_reset(sim):
    """POST /_sim/reset wiped moto: subscriptions and their tokens are gone too."""
    _D.reset(clear_log=True)
    with _D.lock:
        _D.sns_pending.clear()
        _D.sns_tokens.clear()


def install(sim):
    global _SIM, _D
    from moto.sns import models as snm
    from moto.sns import responses as snr

    _SIM = sim
    _D = Delivery(sim)
    _D.tls = SnsTls(sim.default_region)
    sim.delivery = _D
    if not _ORIG:
        _ORIG["SNSBackend.subscribe"] = snm.SNSBackend.subscribe
        _ORIG["Subscription.publish"] = snm.Subscription.publish
        _ORIG["Subscription.get_post_data"] = snm.Subscription.get_post_data
        _ORIG["SNSResponse.confirm_subscription"] = snr.SNSResponse.confirm_subscription
        snm.SNSBackend.subscribe = _patched_subscribe
        snm.Subscription.publish = _patched_sub_publish
        snm.Subscription.get_post_data = _patched_get_post_data
        snr.SNSResponse.confirm_subscription = _patched_confirm_subscription_resp
    sim_asg.ACTION_LISTENERS.append(on_lifecycle_action)
    sim_asg.TEST_NOTIFICATION_LISTENERS.append(on_test_notification)
    sim_asg.TARGET_CHECKERS.append(check_target)
    sim.on_startup(_start_https)
    sim.on_shutdown(_stop)
    if hasattr(sim, "on_reset"):
        sim.on_reset(_on_reset)
    sim.register_control("GET", "/_sim/delivery", _ctl_get)
    sim.register_control("POST", "/_sim/delivery", _ctl_post)
    sim.register_control("POST", "/_sim/delivery/reset", _ctl_reset)
    sim.register_control("POST", "/_sim/delivery/flush", _ctl_flush)
    sim.register_control("GET", "/_sim/deliveries", _ctl_deliveries)
    sim.register_control("GET", "/_sim/sns", _ctl_sns)


# --------------------------------------------------------------------------
# Client helper: fetch an SNS URL the way a daemon under test would
# --------------------------------------------------------------------------
def fetch_sns_url(url, ca_file, https_port, timeout_s=5.0):
    """GET an https://sns.<region>.amazonaws.com/... URL from the simulator's HTTPS
    listener, verifying its certificate against the test CA and the real host name
    (what CURLOPT_CONNECT_TO + CURLOPT_CAINFO do in the daemon). Returns (status, body)."""
    u = urllib.parse.urlsplit(url)
    if u.scheme != "https" or not re.match(r"^sns\.[a-zA-Z0-9-]{3,}\.amazonaws\.com(\.cn)?$", u.hostname or ""):
        raise ValueError(f"not an SNS URL: {url}")
    ctx = ssl.create_default_context(cafile=ca_file)
    raw = socket.create_connection(("127.0.0.1", https_port), timeout=timeout_s)
    tls = ctx.wrap_socket(raw, server_hostname=u.hostname)
    try:
        conn = http.client.HTTPSConnection(u.hostname, https_port, timeout=timeout_s, context=ctx)
        conn.sock = tls
        path = (u.path or "/") + (f"?{u.query}" if u.query else "")
        conn.request("GET", path, headers={"Host": u.netloc})
        r = conn.getresponse()
        return r.status, r.read(RESPONSE_BODY_MAX)
    finally:
        tls.close()
