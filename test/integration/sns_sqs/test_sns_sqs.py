"""SNS and SQS intake of the real `multus-hookd serve`, against test/aws-sim.

The simulator sends SNS HTTP deliveries signed by its test CA (AWS's URL
shapes: https://sns.us-east-1.amazonaws.com/...pem) and serves SigningCertURL
and SubscribeURL on a loopback HTTPS port. The daemon trusts that CA only
through its test-only keys sns.test_ca_file / sns.test_connect_to; its
production URL checks stay on. SQS: the daemon long-polls a simulator queue.

Assertions read the daemon's GET /v1/actions, the simulator's subscription
state and delivery log, and the queue itself: never log lines.
"""
import http.client
import http.server
import json
import os
import queue
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "aws-sim"))
from simctl import start_sim  # noqa: E402

BINARY = os.environ.get("HOOKD_BINARY", "")
API_KEY = "sns-sqs-it-api-key"
SIM = None


def setUpModule():
    global SIM
    SIM = start_sim()


def tearDownModule():
    if SIM is not None:
        SIM.stop()


def notification(instance, token=None, asg="asg-workers-1", test=False):
    """An Auto Scaling hook notification (the SNS Message / SQS body)."""
    if test:
        return {"AccountId": "123456789012", "RequestId": str(uuid.uuid4()),
                "AutoScalingGroupARN": "arn:aws:autoscaling:us-east-1:123456789012:x",
                "AutoScalingGroupName": asg, "Service": "AWS Auto Scaling",
                "Event": "autoscaling:TEST_NOTIFICATION", "Time": "2026-01-02T03:04:05.678Z"}
    return {"Origin": "EC2", "LifecycleHookName": "multus-launch", "Destination": "AutoScalingGroup",
            "AccountId": "123456789012", "RequestId": str(uuid.uuid4()),
            "LifecycleTransition": "autoscaling:EC2_INSTANCE_LAUNCHING",
            "AutoScalingGroupName": asg, "Service": "AWS Auto Scaling",
            "Time": "2026-01-02T03:04:05.678Z", "EC2InstanceId": instance,
            "LifecycleActionToken": token or str(uuid.uuid4())}


def wait_for(pred, what, timeout=20.0):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)


class Sink:
    """A plain HTTP endpoint recording what SNS POSTs to it (to get genuinely
    signed envelopes the test can replay and tamper with)."""

    def __init__(self):
        self.got = queue.Queue()
        sink = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                sink.got.put((dict(self.headers), json.loads(body)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d/sink" % self.srv.server_port
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def next(self, sns_type, timeout=20.0):
        deadline = time.monotonic() + timeout
        while True:
            h, env = self.got.get(timeout=max(0.1, deadline - time.monotonic()))
            if env.get("Type") == sns_type:
                return h, env

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


class Daemon:
    """multus-hookd serve with the placeholder engine and its own state."""

    def __init__(self, extra):
        self.tmp = tempfile.mkdtemp(prefix="hookd-sns-sqs-")
        key = os.path.join(self.tmp, "api-key")
        with open(key, "w") as f:
            f.write(API_KEY + "\n")
        os.chmod(key, 0o600)
        cfg = {
            "aws": {"region": "us-east-1", "endpoints": {"sqs": SIM.base_url}},
            "listeners": {"intake": {"address": "127.0.0.1", "port": 0},
                          "admin": {"address": "127.0.0.1", "port": 0}},
            "auth": {"type": "api_key", "value_file": key},
            "state_dir": os.path.join(self.tmp, "state"),
            "limits": {"shutdown_grace_ms": 3000},
            "node_groups": [{"name": "workers", "asg_names": ["asg-workers-*"], "hook_names": ["multus-launch", "multus-terminate"],
                             "networks": [{"name": "sig", "subnet": {"tags": {"n": "sig"}}}]}],
        }
        cfg.update(extra)
        self.config = os.path.join(self.tmp, "config.json")
        with open(self.config, "w") as f:
            json.dump(cfg, f)
        self.ready = os.path.join(self.tmp, "ready.json")
        self.log_path = os.path.join(self.tmp, "daemon.log")

    def start(self):
        env = dict(os.environ)
        env.update({"AWS_EC2_METADATA_DISABLED": "true",
                    "AWS_ACCESS_KEY_ID": SIM.access_key, "AWS_SECRET_ACCESS_KEY": SIM.secret_key})
        env.pop("AWS_SESSION_TOKEN", None)
        self.log = open(self.log_path, "ab")
        import subprocess
        self.proc = subprocess.Popen(
            [BINARY, "serve", "--config", self.config, "--ready-file", self.ready,
             "--log-level", "debug"], stdout=self.log, stderr=self.log, env=env)
        deadline = time.monotonic() + 30
        while not os.path.exists(self.ready):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("daemon did not start:\n" + self.logs())
            time.sleep(0.05)
        with open(self.ready) as f:
            info = json.load(f)
        self.intake_port, self.admin_port = info["intake_port"], info["admin_port"]
        return self

    def logs(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self):
        rc = None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                rc = self.proc.wait(20)
            except Exception:
                self.proc.kill()
                self.proc.wait()
        else:
            rc = self.proc.returncode
        self.log.close()
        if os.environ.get("KEEP_TMP"):
            print("daemon files kept in", self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return rc

    def request(self, method, path, body=None, headers=None, admin=False):
        conn = http.client.HTTPConnection("127.0.0.1", self.admin_port if admin else self.intake_port,
                                          timeout=20)
        try:
            data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
            conn.request(method, path, body=data, headers=headers or {})
            resp = conn.getresponse()
            raw = resp.read()
            try:
                return resp.status, json.loads(raw) if raw else None
            except ValueError:
                return resp.status, raw
        finally:
            conn.close()

    def actions(self):
        status, doc = self.request("GET", "/v1/actions?limit=1000", admin=True)
        assert status == 200, doc
        return doc["actions"]

    def action_for(self, instance):
        return [a for a in self.actions() if a["instance_id"] == instance]


def sns_headers(env):
    return {"x-amz-sns-message-type": env["Type"], "x-amz-sns-message-id": env["MessageId"],
            "x-amz-sns-topic-arn": env["TopicArn"], "Content-Type": "text/plain; charset=UTF-8"}


class SnsIntake(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sns = SIM.client("sns")
        cls.topic = cls.sns.create_topic(Name="multus-hooks")["TopicArn"]
        cls.other = cls.sns.create_topic(Name="not-listed")["TopicArn"]
        info = SIM.call("GET", "/_sim/sns")
        cls.daemon = Daemon({"sns": {"enabled": True, "topic_arns": [cls.topic],
                                     "test_ca_file": info["ca_file"],
                                     "test_connect_to": info["curl_connect_to"]}}).start()
        cls.endpoint = "http://127.0.0.1:%d/v1/sns" % cls.daemon.intake_port
        cls.sub = cls.sns.subscribe(TopicArn=cls.topic, Protocol="http",
                                    Endpoint=cls.endpoint)["SubscriptionArn"]
        cls.sink = Sink()
        sink_sub = cls.sns.subscribe(TopicArn=cls.topic, Protocol="http", Endpoint=cls.sink.url)
        _, conf = cls.sink.next("SubscriptionConfirmation")
        cls.sink_confirmation = conf
        cls.sns.confirm_subscription(TopicArn=cls.topic, Token=conf["Token"])
        cls.sink_sub = sink_sub["SubscriptionArn"]

    @classmethod
    def tearDownClass(cls):
        cls.sink.close()
        rc = cls.daemon.stop()
        # Non-zero also when the sanitizers (test build) found a leak or error.
        assert rc == 0, "daemon exit status %r" % rc

    def subscription(self, arn):
        subs = SIM.call("GET", "/_sim/sns")["subscriptions"]
        return next(s for s in subs if s["arn"] == arn)

    def confirmed(self):
        wait_for(lambda: self.subscription(self.sub)["confirmed"], "the daemon to confirm")

    def publish(self, note, subject="Auto Scaling:  Lifecycle action"):
        self.sns.publish(TopicArn=self.topic, Message=json.dumps(note), Subject=subject)
        _, env = self.sink.next("Notification")
        return env

    def test_1_subscription_confirmed_by_daemon(self):
        # The daemon verified the signed SubscriptionConfirmation, then GET the
        # SubscribeURL through its test trust settings: the sim marks it confirmed.
        self.confirmed()
        # The sim records the attempt once the daemon has answered, which it
        # does after the GET that confirmed: wait for the record too.
        def conf():
            attempts = SIM.call("GET", "/_sim/deliveries",
                                query={"channel": "sns", "target": self.endpoint})["attempts"]
            return [a for a in attempts if a.get("sns_type") == "SubscriptionConfirmation"]
        got = wait_for(conf, "the confirmation's delivery record")
        self.assertEqual(got[-1]["status"], 200, got)

    def test_2_notification_verified_and_stored(self):
        self.confirmed()
        for version in ("1", "2"):
            self.sns.set_topic_attributes(TopicArn=self.topic, AttributeName="SignatureVersion",
                                          AttributeValue=version)
            inst = "i-0%016x" % (0x1000 + int(version))
            env = self.publish(notification(inst))
            self.assertEqual(env["SignatureVersion"], version)
            acts = wait_for(lambda: self.daemon.action_for(inst), "action for " + inst)
            self.assertEqual(len(acts), 1)
            self.assertEqual(acts[0]["source"], "sns")
            self.assertEqual(acts[0]["event_id"], "sns:" + env["MessageId"])
            self.assertEqual(acts[0]["state"], "pending")
        self.sns.set_topic_attributes(TopicArn=self.topic, AttributeName="SignatureVersion",
                                      AttributeValue="1")

    def test_3_replay_is_duplicate_and_tampering_rejected(self):
        self.confirmed()
        inst = "i-0aaaaaaaaaaaaaaa1"
        env = self.publish(notification(inst))
        wait_for(lambda: self.daemon.action_for(inst), "the published action")
        before = len(self.daemon.actions())
        # The genuine envelope again (an SNS retry): verified, deduplicated.
        status, doc = self.daemon.request("POST", "/v1/sns", json.dumps(env).encode(),
                                          sns_headers(env))
        self.assertEqual((status, doc["status"]), (200, "duplicate"), doc)
        # The Message changed after signing: another instance, same signature.
        bad = dict(env)
        bad["Message"] = json.dumps(notification("i-0bbbbbbbbbbbbbbb2"))
        bad["MessageId"] = env["MessageId"]
        status, doc = self.daemon.request("POST", "/v1/sns", json.dumps(bad).encode(),
                                          sns_headers(bad))
        self.assertEqual(status, 403, doc)
        # Swapped signature versions and a damaged signature.
        for field, value in (("SignatureVersion", "2"),
                             ("Signature", "A" + env["Signature"][1:] if env["Signature"][0] != "A"
                              else "B" + env["Signature"][1:])):
            bad = dict(env)
            bad[field] = value
            status, doc = self.daemon.request("POST", "/v1/sns", json.dumps(bad).encode(),
                                              sns_headers(bad))
            self.assertEqual(status, 403, (field, doc))
        self.assertEqual(len(self.daemon.actions()), before)
        self.assertEqual(self.daemon.action_for("i-0bbbbbbbbbbbbbbb2"), [])

    def test_4_unlisted_topic_rejected(self):
        # A subscription on a topic outside sns.topic_arns is never confirmed.
        sub = self.sns.subscribe(TopicArn=self.other, Protocol="http",
                                 Endpoint=self.endpoint)["SubscriptionArn"]
        attempts = wait_for(lambda: [a for a in SIM.call(
            "GET", "/_sim/deliveries", query={"channel": "sns", "target": self.endpoint})["attempts"]
            if a.get("topic_arn") == self.other], "the confirmation attempt")
        self.assertEqual(attempts[0]["status"], 403, attempts)
        self.assertFalse(self.subscription(sub)["confirmed"])
        # A genuine envelope presented with another TopicArn is refused before
        # anything else (the signature would not match either).
        self.confirmed()
        env = self.publish(notification("i-0ccccccccccccccc3"))
        bad = dict(env)
        bad["TopicArn"] = self.other
        status, doc = self.daemon.request("POST", "/v1/sns", json.dumps(bad).encode(),
                                          sns_headers(bad))
        self.assertEqual(status, 403, doc)
        self.assertIn("TopicArn", doc["reason"])

    def test_5_ssrf_urls_refused(self):
        # Listed topic, but URLs pointing elsewhere: 400 from the URL check,
        # which runs before anything is fetched.
        env = dict(self.sink_confirmation)
        cases = [("SigningCertURL", "https://sns.us-east-1.amazonaws.com.evil.com/x.pem"),
                 ("SigningCertURL", "http://sns.us-east-1.amazonaws.com/x.pem"),
                 ("SigningCertURL", "https://127.0.0.1:%d/x.pem" % SIM.port),
                 ("SubscribeURL", "https://user@sns.us-east-1.amazonaws.com/?Action=X"),
                 ("SubscribeURL", "https://sns.us-east-1.amazonaws.com:%d/" % SIM.port)]
        for field, url in cases:
            bad = dict(env)
            bad[field] = url
            status, doc = self.daemon.request("POST", "/v1/sns", json.dumps(bad).encode(),
                                              sns_headers(bad))
            self.assertEqual(status, 400, (url, doc))
            self.assertIn(field, doc["reason"])

    def test_6_test_notification_and_bad_bodies(self):
        self.confirmed()
        env = self.publish(notification(None, test=True), subject="Auto Scaling: test notification")
        status, doc = self.daemon.request("POST", "/v1/sns", json.dumps(env).encode(),
                                          sns_headers(env))
        self.assertEqual((status, doc["status"]), (200, "ignored"), doc)
        status, doc = self.daemon.request("POST", "/v1/sns", b"not json",
                                          {"x-amz-sns-message-type": "Notification"})
        self.assertEqual(status, 400, doc)
        status, _ = self.daemon.request("GET", "/v1/sns")
        self.assertEqual(status, 405)
        # The header and the body must agree on the type.
        h = sns_headers(env)
        h["x-amz-sns-message-type"] = "SubscriptionConfirmation"
        status, doc = self.daemon.request("POST", "/v1/sns", json.dumps(env).encode(), h)
        self.assertEqual(status, 400, doc)

    def test_7_cold_cache_messages_share_one_certificate_fetch(self):
        # A fresh daemon (empty certificate cache) gets eight genuinely signed
        # notifications at once: one SigningCertURL fetch serves them all, and
        # every one is verified and stored.
        self.confirmed()
        envs = [self.publish(notification("i-0%016x" % (0x7000 + i))) for i in range(8)]
        info = SIM.call("GET", "/_sim/sns")
        fresh = Daemon({"sns": {"enabled": True, "topic_arns": [self.topic],
                                "test_ca_file": info["ca_file"],
                                "test_connect_to": info["curl_connect_to"]}}).start()
        try:
            since = max([e["seq"] for e in SIM.call("GET", "/_sim/events")["events"]] + [0])
            results = [None] * len(envs)

            def post(i):
                results[i] = fresh.request("POST", "/v1/sns", json.dumps(envs[i]).encode(),
                                           sns_headers(envs[i]))
            threads = [threading.Thread(target=post, args=(i,)) for i in range(len(envs))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertEqual([r[0] for r in results], [202] * len(envs), results)
            fetched = [e for e in SIM.call("GET", "/_sim/events")["events"]
                       if e["seq"] > since and e.get("what") == "sns-cert-fetched"]
            self.assertEqual(len(fetched), 1, fetched)
            for i in range(len(envs)):
                self.assertEqual(len(fresh.action_for("i-0%016x" % (0x7000 + i))), 1)
            # A certificate URL that serves nothing: every waiter gets 400,
            # and the failure is not cached (the next message asks again).
            bad = dict(envs[0])
            bad["SigningCertURL"] = bad["SigningCertURL"].rsplit("/", 1)[0] + \
                "/SimpleNotificationService-0000.pem"
            for _ in range(2):
                status, doc = fresh.request("POST", "/v1/sns", json.dumps(bad).encode(),
                                            sns_headers(bad))
                self.assertEqual(status, 400, doc)
                self.assertIn("does not serve a certificate", doc["reason"])
        finally:
            self.assertEqual(fresh.stop(), 0)

    def test_8_old_messages_and_foreign_confirmations_refused(self):
        # A second daemon with sns.max_age_s 3: a genuine envelope is taken,
        # the same envelope replayed 4 s later is refused as too old.
        info = SIM.call("GET", "/_sim/sns")
        d = Daemon({"sns": {"enabled": True, "topic_arns": [self.topic], "max_age_s": 3,
                            "test_ca_file": info["ca_file"],
                            "test_connect_to": info["curl_connect_to"]}}).start()
        try:
            inst = "i-0eeeeeeeeeeeeeee8"
            env = self.publish(notification(inst))
            status, doc = d.request("POST", "/v1/sns", json.dumps(env).encode(),
                                    sns_headers(env))
            self.assertEqual(status, 202, doc)
            time.sleep(4)
            status, doc = d.request("POST", "/v1/sns", json.dumps(env).encode(),
                                    sns_headers(env))
            self.assertEqual(status, 403, doc)
            self.assertIn("older than sns.max_age_s", doc["reason"])
            self.assertEqual(len(d.action_for(inst)), 1)
            # The sink's confirmation (another endpoint's, SubscribeURL of this
            # topic) is too old as well by now: never fetched, so never confirmed
            # by this daemon.
            conf = self.sink_confirmation
            status, doc = d.request("POST", "/v1/sns", json.dumps(conf).encode(),
                                    sns_headers(conf))
            self.assertEqual(status, 403, doc)
        finally:
            self.assertEqual(d.stop(), 0)



class SnsAuthPolicy(unittest.TestCase):
    """How auth applies on /v1/sns: off unless enabled; Basic enforced when it
    is the configured auth (SNS sends it from the endpoint URL)."""

    def test_disabled_is_404(self):
        d = Daemon({}).start()
        try:
            status, _ = d.request("POST", "/v1/sns", b"{}")
            self.assertEqual(status, 404)
        finally:
            self.assertEqual(d.stop(), 0)

    def test_basic_auth_required_when_configured(self):
        d = Daemon({"sns": {"enabled": True,
                            "topic_arns": ["arn:aws:sns:us-east-1:123456789012:t"]}})
        pw = os.path.join(d.tmp, "password")
        with open(pw, "w") as f:
            f.write("sns-basic-secret\n")
        os.chmod(pw, 0o600)
        with open(d.config) as f:
            cfg = json.load(f)
        cfg["auth"] = {"type": "basic", "username": "sns", "password_file": pw}
        with open(d.config, "w") as f:
            json.dump(cfg, f)
        d.start()
        try:
            import base64
            status, _ = d.request("POST", "/v1/sns", b"{}")
            self.assertEqual(status, 401)
            wrong = "Basic " + base64.b64encode(b"sns:wrong").decode()
            status, _ = d.request("POST", "/v1/sns", b"{}", {"Authorization": wrong})
            self.assertEqual(status, 401)
            good = "Basic " + base64.b64encode(b"sns:sns-basic-secret").decode()
            # Past auth, the body is judged: not an SNS message.
            status, doc = d.request("POST", "/v1/sns", b"{}", {"Authorization": good})
            self.assertEqual(status, 400, doc)
            self.assertIn("Type", doc["reason"])
        finally:
            self.assertEqual(d.stop(), 0)


def eventbridge(instance):
    return {"version": "0", "id": str(uuid.uuid4()),
            "detail-type": "EC2 Instance-launch Lifecycle Action", "source": "aws.autoscaling",
            "account": "123456789012", "time": "2026-01-02T03:04:05Z", "region": "us-east-1",
            "resources": ["arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:x"],
            "detail": {k: v for k, v in notification(instance).items()
                       if k in ("LifecycleActionToken", "AutoScalingGroupName", "LifecycleHookName",
                                "EC2InstanceId", "LifecycleTransition", "Origin", "Destination")}}


class SqsIntake(unittest.TestCase):
    """The daemon long-polls a queue; only committed messages are deleted."""

    def setUp(self):
        self.sqs = SIM.client("sqs")
        name = "hooks-" + uuid.uuid4().hex[:8]
        self.dlq = self.sqs.create_queue(QueueName=name + "-dlq")["QueueUrl"]
        self.url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        # on_commit: these tests are about the commit before the delete (the
        # placeholder engine never finishes an action; on_finish is SqsOnFinish).
        self.daemon = Daemon({"sqs": {"queue_url": self.url, "wait_time_s": 1,
                                      "visibility_timeout_s": 5, "ack": "on_commit"}}).start()

    def tearDown(self):
        rc = self.daemon.stop()
        self.assertEqual(rc, 0, "SIGTERM must stop the consumer cleanly")

    def counts(self, url=None):
        a = self.sqs.get_queue_attributes(
            QueueUrl=url or self.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
        a = a["Attributes"]
        return int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"])

    def send(self, body):
        self.sqs.send_message(QueueUrl=self.url,
                              MessageBody=body if isinstance(body, str) else json.dumps(body))

    def test_notifications_become_actions_and_queue_empties(self):
        insts = ["i-0%016x" % (0x2000 + i) for i in range(12)]
        notes = [notification(inst) for inst in insts[:-1]]
        for note in notes:
            self.send(note)
        self.send(eventbridge(insts[-1]))
        self.send(notification(None, test=True))
        # Another tool's hook on the same group: deleted, nothing stored.
        foreign = "i-0%016x" % 0x2fff
        self.send(dict(notification(foreign), LifecycleHookName="drain"))
        # Redelivered copies of the first notification (same token + instance).
        self.send(notes[0])
        self.send(notes[0])
        for inst in insts:
            acts = wait_for(lambda: self.daemon.action_for(inst), "action for " + inst)
            self.assertEqual(len(acts), 1, acts)
        wait_for(lambda: self.counts() == (0, 0), "the queue to empty")
        by = {a["instance_id"]: a for a in self.daemon.actions()}
        self.assertEqual(by[insts[0]]["source"], "notification")
        self.assertEqual(by[insts[-1]]["source"], "eventbridge")
        self.assertEqual(len([a for a in self.daemon.actions() if a["instance_id"] in insts]),
                         len(insts))
        self.assertEqual(self.daemon.action_for(foreign), [])

    def test_garbage_is_left_for_the_redrive_policy(self):
        dlq_arn = self.sqs.get_queue_attributes(QueueUrl=self.dlq, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        self.sqs.set_queue_attributes(QueueUrl=self.url, Attributes={"RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "1"})})
        self.send("this is not JSON")
        self.send({"LifecycleTransition": "autoscaling:EC2_INSTANCE_LAUNCHING"})  # fields missing
        inst = "i-0%016x" % 0x3000
        self.send(notification(inst))
        wait_for(lambda: self.daemon.action_for(inst), "the good message's action")
        # The two bad messages were received but not deleted.
        wait_for(lambda: sum(self.counts()) == 2, "only the two bad messages to remain")
        # After their visibility timeout the next receive moves them to the
        # dead-letter queue (maxReceiveCount 1): nothing is lost, nothing spins.
        wait_for(lambda: sum(self.counts(self.dlq)) == 2, "the bad messages in the DLQ", 30)
        self.assertEqual(sum(self.counts()), 0)
        self.assertEqual(len(self.daemon.actions()), 1)

    def test_store_failure_keeps_the_message(self):
        db = sqlite3.connect(os.path.join(self.daemon.tmp, "state", "multus-hookd.db"),
                             timeout=0, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        inst = "i-0%016x" % 0x4000
        try:
            self.send(notification(inst))
            wait_for(lambda: self.counts() == (0, 1), "the daemon to receive the message")
            # The commit failed: no action, and the message is still in the queue.
            time.sleep(0.3)
            self.assertEqual(sum(self.counts()), 1)
        finally:
            db.execute("ROLLBACK")
            db.close()
        self.assertEqual(self.daemon.action_for(inst), [])
        acts = wait_for(lambda: self.daemon.action_for(inst), "the action after the store recovers",
                        30)
        self.assertEqual(len(acts), 1)
        wait_for(lambda: self.counts() == (0, 0), "the queue to empty")



class SqsOnFinish(unittest.TestCase):
    """sqs.ack "on_finish" (the default): a lifecycle message stays in flight,
    its visibility extended, until its action has finished; only then is it
    deleted. A copy of an action already finished is deleted at once."""

    def setUp(self):
        self.sqs = SIM.client("sqs")
        self.url = self.sqs.create_queue(QueueName="held-" + uuid.uuid4().hex[:8])["QueueUrl"]
        self.daemon = Daemon({"sqs": {"queue_url": self.url, "wait_time_s": 1,
                                      "visibility_timeout_s": 8}}).start()

    def tearDown(self):
        self.assertEqual(self.daemon.stop(), 0)

    def counts(self):
        a = self.sqs.get_queue_attributes(
            QueueUrl=self.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
        a = a["Attributes"]
        return int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"])

    def extensions(self, since):
        return [r for r in SIM.call("GET", "/_sim/requests",
                                    query={"action": "ChangeMessageVisibility",
                                           "since": str(since)})["requests"]]

    def test_message_held_until_the_action_finishes(self):
        inst = "i-0%016x" % 0x5000
        note = notification(inst)
        since = max([r["seq"] for r in SIM.call("GET", "/_sim/requests")["requests"]] + [0])
        self.sqs.send_message(QueueUrl=self.url, MessageBody=json.dumps(note))
        act = wait_for(lambda: self.daemon.action_for(inst), "the action")[0]
        # Two and a half visibility timeouts later the message is still in
        # flight, never visible: its visibility was extended.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            self.assertEqual(self.counts(), (0, 1))
            time.sleep(0.2)
        self.assertGreaterEqual(len(self.extensions(since)), 2)
        self.assertEqual(len(self.daemon.action_for(inst)), 1)
        # The action finishes (the placeholder engine never does: the test
        # marks it done in the store): the message is deleted.
        db = sqlite3.connect(os.path.join(self.daemon.tmp, "state", "multus-hookd.db"),
                             timeout=10, isolation_level=None)
        try:
            db.execute("UPDATE actions SET state = 'done' WHERE id = ?", (act["id"],))
        finally:
            db.close()
        wait_for(lambda: self.counts() == (0, 0), "the message to be deleted", 15)
        # A redelivered copy of a finished action: deleted at once, nothing new.
        self.sqs.send_message(QueueUrl=self.url, MessageBody=json.dumps(note))
        wait_for(lambda: self.counts() == (0, 0), "the copy to be deleted", 10)
        time.sleep(1.5)
        self.assertEqual(self.counts(), (0, 0))
        self.assertEqual(len(self.daemon.action_for(inst)), 1)


if __name__ == "__main__":
    unittest.main()
