"""Event delivery of the simulator: EventBridge API destinations, SNS HTTP(S) with
signatures and the confirmation flow, SQS targets, and duplicate/delay/reorder.

One simulator (time scale 0.01: backoffs of 1 s become 10 ms) for the module. Each
test resets the delivery configuration, builds its own group and receives events
on its own EventSink (a loopback HTTP endpoint). Assertions are on what arrived and
on the recorded attempts, never on elapsed time."""

import base64
import itertools
import json
import os
import re
import sys
import unittest

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from sim_events import fetch_sns_url  # noqa: E402
from simctl import (  # noqa: E402
    LAUNCHING,
    TERMINATING,
    EventSink,
    api_key_auth,
    build_network,
    configure_delivery,
    create_asg,
    create_launch_template,
    deliveries,
    flush_delivery,
    lifecycle,
    reset_delivery,
    sns_info,
    start_sim,
    wait_deliveries,
    wait_lifecycle,
    wait_until,
)

SIM = None
_n = itertools.count(1)
RFC3339_S = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def setUpModule():
    global SIM
    SIM = start_sim(time_scale=0.01)


def tearDownModule():
    if SIM is not None:
        SIM.stop()


def string_to_sign(env):
    """docs/aws-facts.md, "SNS HTTP(S) subscriptions", written independently of the simulator."""
    if env["Type"] == "Notification":
        keys = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        keys = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    return "".join(f"{k}\n{env[k]}\n" for k in keys if k in env)


class EventsCase(unittest.TestCase):
    def setUp(self):
        reset_delivery(SIM)
        self.n = next(_n)
        self.name = f"ev-{self._testMethodName[5:35]}-{self.n}"
        self.net = build_network(SIM, networks=("sig",), vpc_cidr=f"10.{self.n}.0.0/16", name=self.name)
        self.lt = create_launch_template(SIM, f"lt-{self.name}", [self.net.node_sg])
        self.asg = SIM.client("autoscaling")
        self.sinks = []

    def tearDown(self):
        for s in self.sinks:
            s.close()

    def sink(self, **kw):
        s = EventSink(**kw)
        self.sinks.append(s)
        return s

    def group(self, desired=1, **kw):
        kw.setdefault("heartbeat_timeout", 3600)
        create_asg(SIM, self.name, self.lt, [self.net.node_subnets[az] for az in self.net.azs],
                   desired=desired, **kw)
        return self.name

    def group_arn(self):
        return self.asg.describe_auto_scaling_groups(
            AutoScalingGroupNames=[self.name])["AutoScalingGroups"][0]["AutoScalingGroupARN"]

    def direct(self, url, auth=None, **extra):
        return configure_delivery(SIM, url, auth=auth, groups=[self.name], **extra)

    def attempts(self, **q):
        return deliveries(SIM, **q)["attempts"]

    def queue(self, name):
        sqs = SIM.client("sqs")
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    def receive(self, url, n, timeout=10):
        sqs = SIM.client("sqs")
        got = []

        def poll():
            r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            for m in r.get("Messages", []):
                got.append(json.loads(m["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            return len(got) >= n

        wait_until(poll, timeout, what=f"{n} SQS messages")
        return got


class ApiDestinations(EventsCase):
    def test_api_key_delivery_has_eventbridge_shape_and_headers(self):
        sink = self.sink()
        self.direct(sink.url, api_key_auth("x-hookd-key", "k-123"))
        self.group(desired=1, metadata='{"networks":["sig"]}')
        (req,) = sink.wait_for(1)
        (action,) = wait_lifecycle(SIM, 1, group=self.name)
        h = req["headers"]
        self.assertEqual(req["method"], "POST")
        self.assertEqual(h["user-agent"], "Amazon/EventBridge/ApiDestinations")
        self.assertEqual(h["content-type"], "application/json; charset=utf-8")
        self.assertEqual(h["x-hookd-key"], "k-123")
        ev = req["json"]
        self.assertEqual(list(ev), ["version", "id", "detail-type", "source", "account", "time",
                                    "region", "resources", "detail"])
        self.assertEqual(ev["version"], "0")
        self.assertRegex(ev["id"], UUID)
        self.assertEqual(ev["detail-type"], "EC2 Instance-launch Lifecycle Action")
        self.assertEqual(ev["source"], "aws.autoscaling")
        self.assertEqual(ev["account"], "123456789012")
        self.assertRegex(ev["time"], RFC3339_S)
        self.assertEqual(ev["region"], "us-east-1")
        self.assertEqual(ev["resources"], [self.group_arn()])
        self.assertEqual(ev["detail"], {
            "LifecycleActionToken": action["token"],
            "AutoScalingGroupName": self.name,
            "LifecycleHookName": "multus-launch",
            "EC2InstanceId": action["instance_id"],
            "LifecycleTransition": LAUNCHING,
            "NotificationMetadata": '{"networks":["sig"]}',
            "Origin": "EC2",
            "Destination": "AutoScalingGroup",
        })
        rec = wait_deliveries(SIM, lambda a: a["outcome"] == "delivered", event_id=ev["id"])[0]
        self.assertEqual((rec["channel"], rec["attempt"], rec["status"]), ("api_destination", 1, 200))
        self.assertNotIn("k-123", json.dumps(deliveries(SIM)))
        self.assertNotIn("k-123", json.dumps(SIM.call("GET", "/_sim/delivery")))
        # The token in the event completes the action.
        d = ev["detail"]
        self.asg.complete_lifecycle_action(LifecycleHookName=d["LifecycleHookName"], AutoScalingGroupName=self.name,
                                           LifecycleActionToken=d["LifecycleActionToken"], LifecycleActionResult="CONTINUE")
        self.assertEqual(lifecycle(SIM, instance_id=d["EC2InstanceId"])[0]["state"], "completed")

    def test_basic_auth_through_events_rule_and_api_destination(self):
        sink = self.sink()
        events = SIM.client("events")
        conn = events.create_connection(Name=f"c-{self.n}", AuthorizationType="BASIC", AuthParameters={
            "BasicAuthParameters": {"Username": "hookd", "Password": "pw-456"}})["ConnectionArn"]
        dest = events.create_api_destination(Name=f"d-{self.n}", ConnectionArn=conn, InvocationEndpoint=sink.url,
                                             HttpMethod="POST")["ApiDestinationArn"]
        pattern = {"source": ["aws.autoscaling"], "detail-type": ["EC2 Instance-terminate Lifecycle Action"],
                   "detail": {"AutoScalingGroupName": [self.name]}}
        events.put_rule(Name=f"r-{self.n}", EventPattern=json.dumps(pattern), State="ENABLED")
        events.put_targets(Rule=f"r-{self.n}", Targets=[{"Id": "hookd", "Arn": dest,
                                                          "RoleArn": "arn:aws:iam::123456789012:role/eb"}])
        self.group(desired=1)
        (a,) = wait_lifecycle(SIM, 1, group=self.name)
        self.asg.complete_lifecycle_action(LifecycleHookName="multus-launch", AutoScalingGroupName=self.name,
                                           InstanceId=a["instance_id"], LifecycleActionResult="CONTINUE")
        self.assertEqual(sink.requests, [])  # the rule matches terminations only
        self.asg.set_desired_capacity(AutoScalingGroupName=self.name, DesiredCapacity=0)
        (req,) = sink.wait_for(1)
        expect = "Basic " + base64.b64encode(b"hookd:pw-456").decode()
        self.assertEqual(req["headers"]["authorization"], expect)
        self.assertEqual(req["json"]["detail-type"], "EC2 Instance-terminate Lifecycle Action")
        d = req["json"]["detail"]
        self.assertEqual((d["LifecycleTransition"], d["Origin"], d["Destination"], d["EC2InstanceId"]),
                         (TERMINATING, "AutoScalingGroup", "EC2", a["instance_id"]))
        self.assertNotIn("NotificationMetadata", d)

    def test_retries_on_500_then_delivers(self):
        sink = self.sink(script=[500, 503, 200])
        self.direct(sink.url)
        self.group(desired=1)
        reqs = sink.wait_for(3)
        self.assertEqual(len({r["json"]["id"] for r in reqs}), 1)  # same event each time
        recs = wait_deliveries(SIM, lambda a: a["outcome"] == "delivered", event_id=reqs[0]["json"]["id"])
        allr = self.attempts(event_id=reqs[0]["json"]["id"])
        self.assertEqual([(a["attempt"], a["status"], a["outcome"]) for a in allr],
                         [(1, 500, "retry"), (2, 503, "retry"), (3, 200, "delivered")])
        self.assertEqual([a["next_delay_s"] for a in allr[:2]], [1.0, 2.0])  # exponential backoff
        self.assertEqual(len(recs), 1)

    def test_429_honours_retry_after(self):
        sink = self.sink(script=[{"status": 429, "headers": {"Retry-After": "7"}}, 200])
        self.direct(sink.url)
        self.group(desired=1)
        reqs = sink.wait_for(2)
        eid = reqs[0]["json"]["id"]
        wait_deliveries(SIM, lambda a: a["outcome"] == "delivered", event_id=eid)
        first, second = self.attempts(event_id=eid)
        self.assertEqual((first["status"], first["outcome"], first["retry_after_s"], first["next_delay_s"]),
                         (429, "retry", 7.0, 7.0))
        self.assertEqual((second["attempt"], second["outcome"]), (2, "delivered"))

    def test_other_4xx_is_dropped(self):
        sink = self.sink(script=[400, 200])
        self.direct(sink.url)
        self.group(desired=1)
        (req,) = sink.wait_for(1)
        eid = req["json"]["id"]
        wait_until(lambda: deliveries(SIM)["pending"] == 0, what="no pending deliveries")
        recs = self.attempts(event_id=eid)
        self.assertEqual([(a["attempt"], a["status"], a["outcome"]) for a in recs], [(1, 400, "dropped")])
        self.assertEqual(len(sink.requests), 1)

    def test_timeout_is_retried(self):
        sink = self.sink(script=[{"status": 200, "delay_s": 1.5}, 200])
        self.direct(sink.url, retry={"timeout_s": 0.3})
        self.group(desired=1)
        reqs = sink.wait_for(2)
        eid = reqs[0]["json"]["id"]
        wait_deliveries(SIM, lambda a: a["outcome"] == "delivered", event_id=eid)
        first, second = self.attempts(event_id=eid)[:2]
        self.assertIsNone(first["status"])
        self.assertIn("timed out", first["exception"])
        self.assertEqual(first["outcome"], "retry")
        self.assertEqual((second["attempt"], second["status"]), (2, 200))

    def test_retries_give_up_after_max_attempts(self):
        sink = self.sink(script=[500] * 10)
        self.direct(sink.url, retry={"max_attempts": 3})
        self.group(desired=1)
        sink.wait_for(3)
        wait_until(lambda: deliveries(SIM)["pending"] == 0, what="gave up")
        outs = [a["outcome"] for a in self.attempts(channel="api_destination")]
        self.assertEqual(outs, ["retry", "retry", "gave-up"])


class Sns(EventsCase):
    def verify(self, env, info, version):
        status, pem = fetch_sns_url(env["SigningCertURL"], info["ca_file"], info["https_port"])
        self.assertEqual(status, 200)
        cert = x509.load_pem_x509_certificate(pem)
        with open(info["ca_file"], "rb") as f:
            ca = x509.load_pem_x509_certificate(f.read())
        cert.verify_directly_issued_by(ca)
        self.assertEqual(env["SignatureVersion"], version)
        algo = hashes.SHA1() if version == "1" else hashes.SHA256()
        cert.public_key().verify(base64.b64decode(env["Signature"]), string_to_sign(env).encode(),
                                 padding.PKCS1v15(), algo)
        # a changed Subject must break the signature: it is part of the string to sign
        if "Subject" in env:
            bad = dict(env, Subject=env["Subject"] + "!")
            with self.assertRaises(Exception):
                cert.public_key().verify(base64.b64decode(env["Signature"]), string_to_sign(bad).encode(),
                                         padding.PKCS1v15(), algo)

    def flow(self, version):
        info = sns_info(SIM)
        host = re.compile(r"^sns\.[a-zA-Z0-9-]{3,}\.amazonaws\.com(\.cn)?$")
        self.assertTrue(host.match(info["host"]))
        self.assertTrue(os.path.exists(info["ca_file"]))
        sink = self.sink()
        sns = SIM.client("sns")
        topic = sns.create_topic(Name=f"hooks-{self.n}")["TopicArn"]
        if version == "2":
            sns.set_topic_attributes(TopicArn=topic, AttributeName="SignatureVersion", AttributeValue="2")
        sub = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=sink.url)["SubscriptionArn"]
        (conf,) = sink.wait_for(1)
        h, env = conf["headers"], conf["json"]
        self.assertEqual(h["x-amz-sns-message-type"], "SubscriptionConfirmation")
        self.assertEqual(h["x-amz-sns-topic-arn"], topic)
        self.assertEqual(h["content-type"], "text/plain; charset=UTF-8")
        self.assertEqual(h["x-amz-sns-message-id"], env["MessageId"])
        self.assertEqual(list(env), ["Type", "MessageId", "Token", "TopicArn", "Message", "SubscribeURL",
                                     "Timestamp", "SignatureVersion", "Signature", "SigningCertURL"])
        self.assertRegex(env["Timestamp"], ISO_MS)
        for url in (env["SubscribeURL"], env["SigningCertURL"]):
            self.assertTrue(url.startswith("https://" + info["host"] + "/"), url)
        self.assertTrue(env["SigningCertURL"].endswith(".pem"))
        self.verify(env, info, version)
        attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
        self.assertEqual(attrs["PendingConfirmation"], "true")
        # Unconfirmed: nothing is delivered.
        sns.publish(TopicArn=topic, Message="early")
        wait_deliveries(SIM, lambda a: a["outcome"] == "skipped", channel="sns")
        status, body = fetch_sns_url(env["SubscribeURL"], info["ca_file"], info["https_port"])
        self.assertEqual(status, 200)
        self.assertIn(f"<SubscriptionArn>{sub}</SubscriptionArn>".encode(), body)
        attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
        self.assertEqual(attrs["PendingConfirmation"], "false")
        # The hook's target: first the TEST_NOTIFICATION, then the lifecycle notification.
        self.group(desired=0, target_arn=topic, role_arn="arn:aws:iam::123456789012:role/asg-sns",
                   metadata="meta-1", terminate_hook=None)
        (test,) = sink.wait_for(2)[1:]
        tenv = test["json"]
        self.assertEqual(test["headers"]["x-amz-sns-message-type"], "Notification")
        self.assertEqual(test["headers"]["x-amz-sns-subscription-arn"], sub)
        self.assertEqual(list(tenv), ["Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp",
                                      "SignatureVersion", "Signature", "SigningCertURL", "UnsubscribeURL"])
        self.verify(tenv, info, version)
        msg = json.loads(tenv["Message"])
        self.assertEqual(msg["Event"], "autoscaling:TEST_NOTIFICATION")
        self.assertEqual(msg["AutoScalingGroupName"], self.name)
        self.assertEqual(msg["AutoScalingGroupARN"], self.group_arn())
        self.asg.set_desired_capacity(AutoScalingGroupName=self.name, DesiredCapacity=1)
        (note,) = sink.wait_for(3)[2:]
        nenv = note["json"]
        self.verify(nenv, info, version)
        m = json.loads(nenv["Message"])
        (action,) = wait_lifecycle(SIM, 1, group=self.name)
        self.assertEqual(set(m), {"Origin", "LifecycleHookName", "Destination", "AccountId", "RequestId",
                                  "LifecycleTransition", "AutoScalingGroupName", "Service", "Time",
                                  "EC2InstanceId", "LifecycleActionToken", "NotificationMetadata"})
        self.assertEqual((m["LifecycleActionToken"], m["EC2InstanceId"], m["Service"], m["NotificationMetadata"]),
                         (action["token"], action["instance_id"], "AWS Auto Scaling", "meta-1"))
        # UnsubscribeURL works too and stops deliveries.
        status, _ = fetch_sns_url(nenv["UnsubscribeURL"], info["ca_file"], info["https_port"])
        self.assertEqual(status, 200)
        self.assertNotIn(sub, [s["SubscriptionArn"] for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]])

    def test_confirmation_and_signature_version_1(self):
        self.flow("1")

    def test_confirmation_and_signature_version_2(self):
        self.flow("2")

    def test_subscribe_url_with_wrong_token_is_refused(self):
        info = sns_info(SIM)
        url = (f"https://{info['host']}/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-1:123456789012:x"
               "&Token=0000")
        status, body = fetch_sns_url(url, info["ca_file"], info["https_port"])
        self.assertEqual(status, 400)
        self.assertIn(b"<Code>InvalidParameter</Code>", body)

    def test_sns_http_retries_on_5xx(self):
        sink = self.sink(script=[200, 500, 200])
        SIM.call("POST", "/_sim/delivery", {"sns": {"auto_confirm": False}})
        sns = SIM.client("sns")
        topic = sns.create_topic(Name=f"retry-{self.n}")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=sink.url)
        (conf,) = sink.wait_for(1)
        info = sns_info(SIM)
        fetch_sns_url(conf["json"]["SubscribeURL"], info["ca_file"], info["https_port"])
        mid = sns.publish(TopicArn=topic, Message="m")["MessageId"]
        reqs = sink.wait_for(3)
        self.assertEqual(reqs[1]["json"]["MessageId"], reqs[2]["json"]["MessageId"])  # retries reuse MessageId
        self.assertEqual(reqs[2]["json"]["MessageId"], mid)
        recs = wait_deliveries(SIM, lambda a: a["outcome"] == "delivered", event_id=mid)
        self.assertEqual(recs[0]["attempt"], 2)


class Sqs(EventsCase):
    def test_hook_queue_gets_test_and_lifecycle_notifications(self):
        url, arn = self.queue(f"hook-q-{self.n}")
        self.group(desired=1, target_arn=arn, role_arn="arn:aws:iam::123456789012:role/asg-sqs",
                   metadata="m", terminate_hook=None)
        test, note = self.receive(url, 2)
        self.assertEqual(set(test), {"AccountId", "RequestId", "AutoScalingGroupARN", "AutoScalingGroupName",
                                     "Service", "Event", "Time"})
        self.assertEqual(test["Event"], "autoscaling:TEST_NOTIFICATION")
        self.assertEqual(test["AutoScalingGroupARN"], self.group_arn())
        self.assertRegex(test["Time"], ISO_MS)
        (action,) = wait_lifecycle(SIM, 1, group=self.name)
        self.assertEqual(note["LifecycleActionToken"], action["token"])
        self.assertEqual(note["EC2InstanceId"], action["instance_id"])
        self.assertEqual((note["Origin"], note["Destination"], note["LifecycleTransition"]),
                         ("EC2", "AutoScalingGroup", LAUNCHING))
        self.assertEqual((note["AccountId"], note["Service"], note["NotificationMetadata"]),
                         ("123456789012", "AWS Auto Scaling", "m"))
        self.assertRegex(note["Time"], ISO_MS)
        self.assertRegex(note["RequestId"], UUID)

    def test_events_rule_with_sqs_target_gets_eventbridge_json(self):
        url, arn = self.queue(f"rule-q-{self.n}")
        events = SIM.client("events")
        events.put_rule(Name=f"sqs-{self.n}", State="ENABLED", EventPattern=json.dumps(
            {"source": ["aws.autoscaling"], "detail": {"AutoScalingGroupName": [self.name]}}))
        events.put_targets(Rule=f"sqs-{self.n}", Targets=[{"Id": "q", "Arn": arn}])
        self.group(desired=1)
        (ev,) = self.receive(url, 1)
        self.assertEqual(ev["detail-type"], "EC2 Instance-launch Lifecycle Action")
        self.assertEqual(ev["source"], "aws.autoscaling")
        self.assertEqual(ev["resources"], [self.group_arn()])
        (action,) = wait_lifecycle(SIM, 1, group=self.name)
        self.assertEqual(ev["detail"]["LifecycleActionToken"], action["token"])


class Chaos(EventsCase):
    def test_duplicates_share_the_event_id(self):
        sink = self.sink()
        self.direct(sink.url, chaos={"duplicate": 2, "channels": ["api_destination"]})
        self.group(desired=1)
        reqs = sink.wait_for(3)
        self.assertEqual(len({r["json"]["id"] for r in reqs}), 1)
        self.assertEqual(len({r["json"]["detail"]["LifecycleActionToken"] for r in reqs}), 1)
        wait_until(lambda: deliveries(SIM)["pending"] == 0, what="duplicates delivered")
        self.assertEqual(sorted(a["copy"] for a in self.attempts(channel="api_destination")), [0, 1, 2])

    def test_duplicates_on_sqs(self):
        url, arn = self.queue(f"dup-q-{self.n}")
        SIM.call("POST", "/_sim/delivery", {"chaos": {"duplicate": 1, "channels": ["sqs"]}})
        self.group(desired=1, target_arn=arn, terminate_hook=None)
        msgs = self.receive(url, 4)  # TEST_NOTIFICATION x2 and the lifecycle notification x2
        self.assertEqual(sum(1 for m in msgs if m.get("Event") == "autoscaling:TEST_NOTIFICATION"), 2)
        tokens = [m["LifecycleActionToken"] for m in msgs if "LifecycleActionToken" in m]
        self.assertEqual(len(tokens), 2)
        self.assertEqual(len(set(tokens)), 1)

    def test_reorder_releases_in_reverse(self):
        sink = self.sink()
        self.direct(sink.url, chaos={"reorder": 3, "reorder_hold_s": 100000})
        self.group(desired=3)
        acts = wait_lifecycle(SIM, 3, group=self.name)
        self.assertEqual(deliveries(SIM)["held"], 0)  # released once 3 were held
        reqs = sink.wait_for(3)
        got = [r["json"]["detail"]["LifecycleActionToken"] for r in reqs]
        self.assertEqual(got, [a["token"] for a in reversed(acts)])

    def test_reorder_partial_batch_is_flushed(self):
        sink = self.sink()
        self.direct(sink.url, chaos={"reorder": 5, "reorder_hold_s": 100000})
        self.group(desired=2)
        acts = wait_lifecycle(SIM, 2, group=self.name)
        wait_until(lambda: deliveries(SIM)["held"] == 2, what="2 held")
        self.assertEqual(sink.requests, [])
        flush_delivery(SIM)
        reqs = sink.wait_for(2)
        self.assertEqual([r["json"]["detail"]["EC2InstanceId"] for r in reqs],
                         [a["instance_id"] for a in reversed(acts)])

    def test_delay_is_applied_and_seeded_jitter_is_deterministic(self):
        def run(tag):
            sink = self.sink()
            self.name = f"ev-delay-{tag}-{self.n}"
            reset_delivery(SIM)
            self.direct(sink.url, chaos={"seed": 42, "delay_s": 20, "delay_jitter_s": 30})
            self.group(desired=2)
            sink.wait_for(2)
            wait_until(lambda: len(self.attempts(target=sink.url)) == 2, what="2 attempts")
            return [a["first_delay_s"] for a in self.attempts(target=sink.url)]

        first = run("a")
        second = run("b")
        for d in first:
            self.assertGreaterEqual(d, 20.0)
            self.assertLessEqual(d, 50.0)
        self.assertEqual(first, second)
        self.assertNotEqual(first[0], first[1])


class Control(EventsCase):
    def test_bad_configuration_is_refused(self):
        for body in ({"api_destinations": [{"url": "ftp://x"}]},
                     {"api_destinations": [{"url": "http://127.0.0.1:1/", "auth": {"type": "oauth"}}]},
                     {"sns": {"signature_version": "3"}},
                     {"chaos": {"channels": ["carrier-pigeon"]}}):
            with self.assertRaises(Exception) as cm:
                SIM.call("POST", "/_sim/delivery", body)
            self.assertEqual(getattr(cm.exception, "status", None), 400, body)

    def test_sns_info_exposes_trust_material(self):
        info = sns_info(SIM)
        self.assertEqual(info["curl_connect_to"], f"{info['host']}:443:127.0.0.1:{info['https_port']}")
        with open(info["ca_file"]) as f:
            self.assertEqual(f.read(), info["ca_pem"])
        # the listener's certificate is valid for the real SNS host name under the test CA
        status, pem = fetch_sns_url(info["signing_cert_url"], info["ca_file"], info["https_port"])
        self.assertEqual((status, pem.decode()), (200, info["signing_cert_pem"]))


if __name__ == "__main__":
    unittest.main()
