"""End to end: SIGTERM while launches are in flight (issue 5 section 7: "SIGTERM
stops intake, finishes or checkpoints in-flight work within a grace period,
and exits 0"; hook/cli/serve.c on_stop_signal, the engine's drain).

Two networks ("sig" eth1 first-free, "media" eth2 dhcp), an ASG of 4, and
every AttachNetworkInterface held by the simulator (latency fault), so at
the SIGTERM every launch has created its ENIs and waits on its attaches.

- Checkpoint: the attaches are held far longer than limits.shutdown_grace_ms.
  After SIGTERM the intake refuses connections while the daemon is still
  draining; the daemon exits 0 (waited for with a generous bound: grace plus
  a wide margin, never a speed assertion) with nothing completed. Restarted on
  the same state directory, it finishes: every lifecycle action completed
  exactly once (CONTINUE, by token), each instance has exactly eth1 sig and
  eth2 media, and no other ENI exists (no duplicate from the resumed creates).
- Finish: the attaches are held briefly, the grace is long: the daemon
  finishes the work in flight and exits 0 with every action completed once,
  no restart needed.
"""

import os
import signal
import socket
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from engine_e2e import (  # noqa: E402
    LAUNCHING,
    TAG_INSTANCE,
    TAG_NETWORK,
    World,
    daemon,
    wait_for,
)

N = 4
EXIT_MARGIN_S = 30.0  # on top of the grace: a bound on the exit, not a speed figure


def intake_refuses(port: int) -> bool:
    """Whether a TCP connect to the intake port is refused."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True
    except OSError:
        return False


class SigtermMidWork(unittest.TestCase):
    def world(self, asg: str, grace_ms: int, attach_hold_ms: int):
        w = World(time_scale=0.1, name=f"eng-{asg}")
        self.addCleanup(w.close)
        w.build_network(("sig", "media"))
        d = daemon(w, "main", [w.group_cfg("workers", [asg], [
            w.net_cfg("sig", 1, "first-free"), w.net_cfg("media", 2, "dhcp")])],
            limits={"shutdown_grace_ms": grace_ms, "sweep_interval_s": 0})
        w.deliver()
        w.sim.add_fault("latency", service="ec2", ms=attach_hold_ms,
                        action=["AttachNetworkInterface"])
        w.asg(asg, desired=N, terminate_hook=False)
        # every launch has created both ENIs: its attaches are out (held)
        wait_for(lambda: len([r for r in w.requests("CreateNetworkInterface")
                              if r["status"] == 200]) >= 2 * N
                 and len([a for a in d.actions() if a["step"] == "enis"]) == N,
                 60, 0.05, "every launch waiting on its attaches", diag=w.diag)
        self.assertEqual(w.completes(), [], "completed before the SIGTERM: nothing was in flight")
        return w, d

    def sigterm_and_wait(self, d, grace_ms: int) -> int:
        d.proc.send_signal(signal.SIGTERM)
        try:
            rc = d.proc.wait(timeout=grace_ms / 1000.0 + EXIT_MARGIN_S)
        except subprocess.TimeoutExpired:
            d.proc.kill()
            d.proc.wait(timeout=10)
            self.fail(f"no exit within grace + {EXIT_MARGIN_S:.0f}s after SIGTERM\n{d.log_tail(30)}")
        return rc

    def assert_all_launched_once(self, w, asg: str):
        acts = w.lifecycle(group=asg, transition=LAUNCHING)
        self.assertEqual(len(acts), N, acts)
        instances = set()
        for a in acts:
            self.assertEqual((a["state"], a["result"], a["completed_by"]),
                             ("completed", "CONTINUE", "token"), a)
            calls = w.completes(a["token"])
            self.assertEqual([c["status"] for c in calls], [200], calls)
            instances.add(a["instance_id"])
        enis = w.multus_enis()
        self.assertEqual(len(enis), 2 * N, enis)  # no duplicate, no leftover
        for iid in instances:
            got = sorted((e["device_index"], e["tags"].get(TAG_NETWORK), e["status"])
                         for e in enis if e["tags"].get(TAG_INSTANCE) == iid)
            self.assertEqual(got, [(1, "sig", "in-use"), (2, "media", "in-use")], iid)
            for e in enis:
                if e["tags"].get(TAG_INSTANCE) == iid:
                    self.assertEqual(e["instance"], iid, e)
        addrs = [e["ipv4"] for e in enis]
        self.assertEqual(len(addrs), len(set(addrs)), addrs)

    def test_checkpoint_then_restart_completes_each_once(self):
        grace_ms = 3000
        w, d = self.world("eng-sigterm-ckpt", grace_ms, attach_hold_ms=15000)
        port = d.intake_port
        self.assertFalse(intake_refuses(port))
        d.proc.send_signal(signal.SIGTERM)
        # intake stops at once, while the daemon is still draining (the
        # attaches are held 15 s, the grace is 3 s)
        wait_for(lambda: intake_refuses(port) or d.proc.poll() is not None, 20, 0.02,
                 "the intake to refuse connections")
        self.assertIsNone(d.proc.poll(), "exited before the intake was seen refusing")
        self.assertTrue(intake_refuses(port))
        try:
            rc = d.proc.wait(timeout=grace_ms / 1000.0 + EXIT_MARGIN_S)
        except subprocess.TimeoutExpired:
            d.proc.kill()
            d.proc.wait(timeout=10)
            self.fail(f"no exit within grace + {EXIT_MARGIN_S:.0f}s after SIGTERM\n{d.log_tail(30)}")
        self.assertEqual(rc, 0, d.log_tail(30))
        # checkpointed, not finished: every lifecycle action still waits
        self.assertEqual(w.completes(), [])
        self.assertEqual(len(w.lifecycle(group="eng-sigterm-ckpt", state="waiting")), N)
        w.sim.clear_faults()
        d.restart()
        w.wait_in_service("eng-sigterm-ckpt", N, timeout=120)
        self.assert_all_launched_once(w, "eng-sigterm-ckpt")
        done = [a for a in d.actions() if a["state"] == "done" and a["result"] == "CONTINUE"]
        self.assertEqual(len(done), N)

    def test_finish_in_flight_work_within_the_grace(self):
        grace_ms = 30000
        w, d = self.world("eng-sigterm-fin", grace_ms, attach_hold_ms=1500)
        rc = self.sigterm_and_wait(d, grace_ms)
        self.assertEqual(rc, 0, d.log_tail(30))
        # finished before exiting: no restart, yet every action is completed
        self.assert_all_launched_once(w, "eng-sigterm-fin")


if __name__ == "__main__":
    unittest.main(verbosity=2)
