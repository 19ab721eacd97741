#!/usr/bin/env python3
"""The top-level CLI (--help, version, unknown commands) and `make demo`'s script.

HOOKD_BIN is the built multus-hookd; HOOKD_SRC the source tree. The demo test
runs scripts/demo.sh against the build that holds HOOKD_BIN (the daemon on the
local AWS simulator) and checks what it reports and that it leaves no process
behind.
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest

BIN = os.environ["HOOKD_BIN"]
SRC = os.environ["HOOKD_SRC"]


def run(*args, timeout=30):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout)


class TopLevel(unittest.TestCase):
    def test_help_lists_every_command(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0, r.stderr)
        for cmd in ("plan", "serve", "check-config", "version"):
            self.assertRegex(r.stdout, rf"(?m)^\s+{re.escape(cmd)}\s")

    def test_version(self):
        for arg in ("version", "--version"):
            r = run(arg)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stdout, r"^multus-hookd \d+\.\d+\.\d+\n$")

    def test_check_config_refuses_a_fifo_or_a_link(self):
        # A FIFO named as the configuration must not hang the command, and a
        # symbolic link is refused: name the file itself.
        cfg = os.path.join(SRC, "docs", "examples", "config-minimal.json")
        with tempfile.TemporaryDirectory() as d:
            fifo = os.path.join(d, "fifo.json")
            os.mkfifo(fifo)
            r = run("check-config", fifo, "--no-files", timeout=10)
            self.assertEqual(r.returncode, 2)
            self.assertIn("not a regular file", r.stderr)
            link = os.path.join(d, "link.json")
            os.symlink(cfg, link)
            r = run("check-config", link, "--no-files", timeout=10)
            self.assertEqual(r.returncode, 2)
            self.assertIn("a symbolic link", r.stderr)

    def test_no_command_is_a_usage_error(self):
        r = run()
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage: multus-hookd", r.stderr)

    def test_check_config_takes_the_file_as_its_argument(self):
        src = os.environ.get("HOOKD_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
        cfg = os.path.join(src, "docs", "examples", "config-minimal.json")
        r = run("check-config", cfg, "--no-files")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("valid: 1 node group", r.stdout)
        self.assertEqual(run("check-config", "--config", cfg, "--no-files").stdout, r.stdout)
        # still one file only, and a missing file is an error, not usage
        r = run("check-config", cfg, cfg)
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage: multus-hookd check-config", r.stderr)
        r = run("check-config", "/nonexistent/hookd.json")
        self.assertEqual(r.returncode, 2)
        self.assertIn("/nonexistent/hookd.json: cannot open: No such file or directory", r.stderr)
        self.assertNotIn("hookd.json: /nonexistent/hookd.json", r.stderr)  # named once
        self.assertNotIn("usage:", r.stderr)

    def test_unknown_command_is_named(self):
        r = run("frobnicate")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown command 'frobnicate'", r.stderr)
        self.assertEqual(r.stdout, "")


def _session_members(sid):
    """PIDs of live processes in session `sid` (read from /proc)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[0] is state, [3] the session id (stat fields 3 and 6).
        if fields[0] != "Z" and int(fields[3]) == sid:
            out.append(int(d))
    return out


class Demo(unittest.TestCase):
    def test_demo_runs_end_to_end_and_cleans_up(self):
        build = os.path.dirname(os.path.dirname(BIN))
        p = subprocess.Popen(["bash", os.path.join(SRC, "scripts", "demo.sh"), build],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             start_new_session=True)
        try:
            out, _ = p.communicate(timeout=240)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            raise
        self.assertEqual(p.returncode, 0, out)
        # The plan part: the first addresses of the example subnet.
        self.assertIn("multus-hookd plan --input docs/examples/plan-demo.json", out)
        # Scale-out: four workers, two ENIs each, every lifecycle action completed once.
        self.assertIn("lifecycle actions completed: 4 x CONTINUE (each exactly once: True)", out)
        self.assertEqual(len(re.findall(r"(?m)^\s+i-[0-9a-f]+\s+us-east-1[ab]\s+InService\s+eth1", out)), 4 + 1, out)
        # Scale-in: the victims' ENIs deleted, the survivor's two left.
        self.assertNotIn("STILL THERE", out)
        self.assertRegex(out, r"Multus ENIs in the VPC: 8 before, 2 now")
        self.assertIn("stopped multus-hookd (SIGTERM, exit 0)", out)
        # Nothing the demo started is still running (same session as the script).
        deadline = time.monotonic() + 10
        while _session_members(p.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertEqual(_session_members(p.pid), [], "processes left running by the demo")


if __name__ == "__main__":
    unittest.main(verbosity=2)
