"""End to end: failure notices (`notify`).

Two daemons, one per Auto Scaling group, each with a destination:
  webhook   an HTTPS server of the test (its own CA, trusted through
            notify.test_ca_file) that answers the first POST 503: the notice
            is retried and arrives again, same notice_id
  sns       an SNS topic of the simulator with an SQS queue subscribed (raw
            delivery): the queue receives what the daemon published
Every AttachNetworkInterface is refused (UnauthorizedOperation), so each
launch is cleaned up and ABANDONed: one `launch_abandoned` notice per
instance, naming the instance, group, the step that failed and the error.
Successful launches send nothing (checked on the webhook after a good one).
The scale-in at the end may end a waiting launch: its notice is action_expired.
"""

import http.server
import json
import os
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "aws-sim"))
from e2e_harness import World, wait_for  # noqa: E402
from sim_events import SnsTls  # noqa: E402

AZ = "us-east-1a"


class Webhook:
    """An HTTPS receiver on loopback: records each POST; the first `fail` get 503."""

    def __init__(self, fail=1):
        self.tls = SnsTls("us-east-1")
        ctx = self.tls.write_files(None)
        self.posts = []
        self.fail = fail
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                outer.posts.append({"body": json.loads(body),
                                    "type": self.headers.get("Content-Type")})
                code = 503 if len(outer.posts) <= outer.fail else 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://localhost:{self.server.server_address[1]}/notices"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Notices(unittest.TestCase):
    def test_abandoned_launches_are_notified(self):
        w = World(time_scale=0.1, name="notify")
        self.addCleanup(w.close)
        w.build_network(("sig",))
        hook = Webhook(fail=1)
        self.addCleanup(hook.close)
        sns, sqs = w.sim.client("sns"), w.sim.client("sqs")
        topic = sns.create_topic(Name="hookd-notices")["TopicArn"]
        queue = sqs.create_queue(QueueName="hookd-notices")["QueueUrl"]
        qarn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn,
                      Attributes={"RawMessageDelivery": "true"})
        w.daemon("web", [w.group_cfg("web", ["e2e-web"], [w.net_cfg("sig", 1)])],
                 extra={"notify": {"webhook_url": hook.url,
                                   "test_ca_file": hook.tls.ca_file}})
        w.daemon("sns", [w.group_cfg("sns", ["e2e-sns"], [w.net_cfg("sig", 1)])],
                 extra={"notify": {"sns_topic_arn": topic}})
        w.deliver()
        # a good launch first: no notice
        w.asg("e2e-web", desired=1, azs=[AZ], terminate_hook=False)
        w.wait_in_service("e2e-web", 1)
        time.sleep(1.0)
        self.assertEqual(hook.posts, [])
        good = w.instances("e2e-web")[0]["id"]
        # then every attach refused: both launches end ABANDON
        w.sim.add_fault("error-before", service="ec2", action="AttachNetworkInterface",
                        count=100000, status=403, code="UnauthorizedOperation")
        w.scale("e2e-web", 2)
        w.asg("e2e-sns", desired=1, azs=[AZ], terminate_hook=False)
        web = wait_for(lambda: hook.posts if len(hook.posts) >= 2 else None, 90, 0.2,
                       "the webhook notice, retried", diag=w.diag)
        self.assertEqual(web[0]["body"], web[1]["body"])  # the first, answered 503, again
        self.assertEqual(web[1]["type"], "application/json")

        def from_queue():
            r = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            return [json.loads(m["Body"]) for m in r.get("Messages", [])] or None
        sns_got = wait_for(from_queue, 90, 0.2, "an SNS notice", diag=w.diag)
        # each group keeps replacing its abandoned instance: stop them, then
        # every ABANDON has exactly one notice (plus the one retry above)
        w.scale("e2e-web", 0)
        w.scale("e2e-sns", 0)
        wait_for(lambda: not w.instances("e2e-web") and not w.instances("e2e-sns"), 90, 0.2,
                 "the groups empty", diag=w.diag)

        def abandoned(group):
            """Launches this daemon completed ABANDON (the scale-in may end a
            waiting one otherwise: that one's notice says it expired)."""
            return sorted(a["instance_id"] for a in w.lifecycle(group=group)
                          if a["result"] == "ABANDON" and a["completed_by"] == "token")

        def of_kind(notices, kind="launch_abandoned"):
            return [n for n in notices if n["kind"] == kind]

        def webhook_complete():
            ids = sorted({n["instance_id"] for n in of_kind(p["body"] for p in hook.posts)})
            return ids if ids == abandoned("e2e-web") else None
        wait_for(webhook_complete, 60, 0.2, "a notice per abandoned launch", diag=w.diag)
        # one notice per launch (a delivery may repeat: receivers dedupe on
        # notice_id), and the one answered 503 came again
        notices = {n["notice_id"] for n in of_kind(p["body"] for p in hook.posts)}
        self.assertEqual(len(notices), len(abandoned("e2e-web")))
        self.assertGreater(len(of_kind(p["body"] for p in hook.posts)), len(notices))
        self.assertNotIn(good, [p["body"]["instance_id"] for p in hook.posts])
        for n in of_kind(p["body"] for p in hook.posts):
            self.assertEqual((n["kind"], n["group"], n["asg"], n["transition"], n["step"],
                              n["result"], n["source"]),
                             ("launch_abandoned", "web", "e2e-web",
                              "autoscaling:EC2_INSTANCE_LAUNCHING", "enis",
                              "ABANDON", "multus-hookd"))
            self.assertIn("UnauthorizedOperation", n["error"])
            self.assertEqual(n["notice_id"], f"action-{n['action_id']}-launch_abandoned")

        def sns_complete():
            more = from_queue()
            if more:
                sns_got.extend(more)
            ids = sorted({n["instance_id"] for n in of_kind(sns_got)})
            return ids if ids == abandoned("e2e-sns") else None
        wait_for(sns_complete, 60, 0.5, "an SNS notice per abandoned launch", diag=w.diag)
        for n in of_kind(sns_got):
            self.assertEqual((n["group"], n["step"]), ("sns", "enis"))
        # anything else is an expiry of a launch the scale-in ended
        others = [p["body"] for p in hook.posts if p["body"]["kind"] != "launch_abandoned"]
        others += [n for n in sns_got if n["kind"] != "launch_abandoned"]
        self.assertEqual({n["kind"] for n in others} - {"action_expired"}, set(), others)
        self.assertEqual({r["params"].get("TopicArn") for r in w.requests("Publish")}, {topic})


if __name__ == "__main__":
    unittest.main(verbosity=2)
