"""End to end: GET /readyz and the AWS readiness probe (hook/admin/probe.c,
docs/operations.md "Readiness") against the AWS simulator.

  Reachable   right credentials: once the first probe (STS GetCallerIdentity)
              answered, readyz is 200 with every check ok; the probe's call is
              in the simulator's request log.
  WrongSecret the simulator checks signatures (--auth); the daemon signs with a
              real access key and a wrong secret: credentials "no", readyz 503.

The intake suite covers the third outcome (AWS unreachable: 503).
"""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from engine_e2e import World, daemon, wait_for  # noqa: E402
from e2e_harness import http  # noqa: E402

GROUP = {"name": "workers", "asg_names": ["e2e-ready-*"], "hook_names": ["multus-launch", "multus-terminate"],
         "networks": [{"name": "sig", "subnet": {"tags": {"multus.io/network": "sig"}}}]}


def readyz(d):
    st, body = http("GET", d.admin_url + "/readyz")
    return st, json.loads(body)


def judged(d, check):
    """(status, doc) once the probe has set `check` (no longer "unknown")."""
    st, doc = readyz(d)
    return (st, doc) if doc["checks"][check]["state"] != "unknown" else None


class Reachable(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.w = w = World(time_scale=1.0, name="eng-ready")
        cls.addClassCleanup(w.close)
        cls.d = daemon(w, "main", [GROUP], limits={"sweep_interval_s": 0})

    def test_ready_after_first_probe(self):
        wait_for(lambda: judged(self.d, "credentials"), 30, 0.1, "credentials judged",
                 diag=self.w.diag)
        st, doc = wait_for(lambda: judged(self.d, "aws_reachable"), 30, 0.1,
                           "reachability judged", diag=self.w.diag)
        self.assertEqual(st, 200, doc)
        self.assertEqual(doc["status"], "ready")
        c = doc["checks"]
        self.assertEqual(c["store"], "ok")
        for k in ("region", "credentials", "aws_reachable"):
            self.assertEqual((c[k]["state"], c[k]["ok"]), ("yes", True), (k, doc))
        calls = [r for r in self.w.requests("GetCallerIdentity") if r["status"] == 200]
        self.assertTrue(calls, "no GetCallerIdentity reached the simulator")


class WrongSecret(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.w = w = World(time_scale=1.0, auth=True, name="eng-ready-auth")
        cls.addClassCleanup(w.close)
        key, _secret = w.sim.create_credentials(user="hookd-wrong")
        cls.d = daemon(w, "main", [GROUP], limits={"sweep_interval_s": 0},
                       creds=(key, "not-the-secret-" + key))

    def test_credentials_no_makes_readyz_503(self):
        st, doc = wait_for(lambda: judged(self.d, "credentials"), 30, 0.1,
                           "credentials judged", diag=self.w.diag)
        self.assertEqual(st, 503, doc)
        self.assertEqual(doc["status"], "not ready")
        c = doc["checks"]
        self.assertEqual((c["credentials"]["state"], c["credentials"]["ok"]), ("no", False), doc)
        self.assertTrue(c["credentials"].get("detail"), doc)
        self.assertEqual(c["store"], "ok")
        # the call did reach AWS (a signed answer came back): reachable is not the cause
        self.assertNotEqual(c["aws_reachable"]["state"], "no", doc)
        self.assertNotIn("not-the-secret-", "".join(self.d.log_lines()))


if __name__ == "__main__":
    unittest.main(verbosity=2)
