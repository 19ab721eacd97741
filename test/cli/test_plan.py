#!/usr/bin/env python3
"""CLI tests of `multus-hookd plan`: run the built binary (HOOKD_BIN) and check its
output, its JSON, and that each bad input exits 2 with one message naming the value."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

BIN = os.environ.get("HOOKD_BIN", "")
SRC = os.environ.get("HOOKD_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
DEMO = os.path.join(SRC, "docs", "examples", "plan-demo.json")


def run(*args):
    p = subprocess.run([BIN, "plan", *args], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


class PlanTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def file(self, name, text):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def used_file(self):
        return self.file("used.txt", "# in use in 10.0.1.0/24\n10.0.1.4\n10.0.1.5 10.0.1.6  # a, b\n"
                         "\n   \n10.0.1.8\t\n10.0.1.16/28\n")

    # ---- correct output ----

    def test_help(self):
        for flag in ("--help", "-h"):
            rc, out, err = run(flag)
            self.assertEqual(rc, 0, err)
            self.assertIn("usage: multus-hookd plan --subnet-cidr CIDR", out)
            self.assertIn("--reserve CIDR", out)
            self.assertEqual(err, "")

    def test_example_text(self):
        rc, out, err = run("--subnet-cidr", "10.0.1.0/24", "--used", self.used_file(),
                           "--reserve", "10.0.1.192/26", "--count", "3")
        self.assertEqual(rc, 0, err)
        self.assertEqual(err, "")
        self.assertEqual(out, (
            "subnet 10.0.1.0/24: 256 addresses (5 reserved by AWS, 20 in use, 64 in explicit "
            "reservations, 0 in prefix reservations, 0 in pod ranges)\n"
            "the next 3 workers get:\n"
            "  10.0.1.7\n"
            "  10.0.1.9\n"
            "  10.0.1.10\n"
            # 256 - 4 reserved at the start - 20 used - 64 reserved (holds .255) = 168
            "free: 168 addresses now, 165 after these workers\n"
            "still free at the end of the subnet (room for pods): 10.0.1.32-10.0.1.191 "
            "(160 addresses)\n"))

    def test_example_json(self):
        rc, out, err = run("--subnet-cidr", "10.0.1.0/24", "--used", self.used_file(),
                           "--reserve", "10.0.1.192/26", "--count", "3", "--json")
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertEqual(doc["subnet_cidr"], "10.0.1.0/24")
        self.assertEqual(doc["count"], 3)
        self.assertEqual(doc["addresses"], ["10.0.1.7", "10.0.1.9", "10.0.1.10"])
        self.assertEqual(doc["free_before"], 168)
        self.assertEqual(doc["free_after"], 165)
        self.assertEqual(doc["tail_free_range"],
                         {"first": "10.0.1.32", "last": "10.0.1.191", "size": 160})
        self.assertEqual(doc["subnet"], {"size": 256, "aws_reserved": 5, "used": 20,
                                         "reserved_explicit": 64, "reserved_prefix": 0,
                                         "pod_range": 0})

    def test_demo_input(self):
        rc, out, err = run("--input", DEMO, "--json")
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertEqual(doc["addresses"], ["10.0.1.7", "10.0.1.9", "10.0.1.12"])
        self.assertEqual(doc["free_before"], 165)
        self.assertEqual(doc["subnet"]["reserved_prefix"], 16)
        self.assertEqual(doc["tail_free_range"]["first"], "10.0.1.32")
        self.assertEqual(doc["tail_free_range"]["last"], "10.0.1.191")

    def test_input_with_command_line_overrides(self):
        path = self.file("in.json", json.dumps({
            "subnet_cidr": "10.0.1.0/24", "count": 5, "used": ["10.0.1.4"],
            "reservations": ["10.0.1.6/31", {"cidr": "10.0.1.8/29", "type": "prefix"}],
            "pod_range": "10.0.1.20-10.0.1.254", "comment": "test"}))
        rc, out, err = run("--input", path, "--count", "2", "--reserve", "10.0.1.5/32", "--json")
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertEqual(doc["addresses"], ["10.0.1.16", "10.0.1.17"])
        self.assertEqual(doc["subnet"]["pod_range"], 235)
        self.assertEqual(doc["subnet"]["reserved_explicit"], 3)
        self.assertEqual(doc["subnet"]["reserved_prefix"], 8)
        self.assertEqual(doc["tail_free_range"], {"first": "10.0.1.18", "last": "10.0.1.19",
                                                  "size": 2})
        # --subnet-cidr on the command line wins over the file's.
        rc, out, err = run("--input", path, "--subnet-cidr", "10.0.2.0/24", "--json")
        self.assertEqual(rc, 2)
        self.assertIn("10.0.1.4/32: not inside subnet 10.0.2.0/24", err)

    def test_ipv6(self):
        used = self.file("used6.txt", "2600:1f18:abcd:1200::4\n2600:1F18:ABCD:1200::6\n"
                         "2600:1f18:abcd:1200:1::/80   # prefix delegation\n")
        rc, out, err = run("--subnet-cidr", "2600:1f18:abcd:1200::/64", "--used", used,
                           "--count", "3", "--json")
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertEqual(doc["addresses"], ["2600:1f18:abcd:1200::5", "2600:1f18:abcd:1200::7",
                                            "2600:1f18:abcd:1200::8"])
        # IPv6 counts are exact decimal strings.
        self.assertEqual(doc["subnet"]["size"], str(2**64))
        self.assertEqual(doc["free_before"], str(2**64 - 5 - 2 - 2**48))
        self.assertEqual(doc["free_after"], str(2**64 - 5 - 2 - 2**48 - 3))
        self.assertEqual(doc["tail_free_range"]["first"], "2600:1f18:abcd:1200:2::")
        self.assertEqual(doc["tail_free_range"]["last"], "2600:1f18:abcd:1200:ffff:ffff:ffff:fffe")
        rc, out, err = run("--subnet-cidr", "2600:1f18:abcd:1200::/64", "--used", used)
        self.assertEqual(rc, 0, err)
        self.assertIn("  2600:1f18:abcd:1200::5\n", out)

    def test_pod_range_option(self):
        rc, out, err = run("--subnet-cidr", "10.0.1.0/28", "--pod-range", "10.0.1.4-10.0.1.9",
                           "--pod-range", "10.0.1.14", "--count", "4", "--json")
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertEqual(doc["addresses"], ["10.0.1.10", "10.0.1.11", "10.0.1.12", "10.0.1.13"])
        self.assertEqual(doc["free_after"], 0)
        self.assertIsNone(doc["tail_free_range"])
        rc, out, err = run("--subnet-cidr", "10.0.1.0/28", "--pod-range", "10.0.1.4-10.0.1.9",
                           "--pod-range", "10.0.1.14", "--count", "4")
        self.assertEqual(rc, 0, err)
        self.assertIn("still free at the end of the subnet: nothing (no free address left)", out)

    def test_default_count_is_one(self):
        rc, out, err = run("--subnet-cidr", "10.0.1.0/24")
        self.assertEqual(rc, 0, err)
        self.assertIn("the next worker gets:\n  10.0.1.4\n", out)

    def test_not_enough_free_addresses_exits_1(self):
        rc, out, err = run("--subnet-cidr", "10.0.1.0/28", "--count", "12")
        self.assertEqual(rc, 1)
        self.assertEqual(out, "")
        self.assertEqual(err, "multus-hookd plan: cannot place 12 workers: subnet 10.0.1.0/28 "
                              "has only 11 free addresses\n")

    def test_large_used_file(self):
        lines = ["10.1.%d.%d" % (o >> 8, o & 255) for o in range(4, 60004)]
        used = self.file("big.txt", "\n".join(lines) + "\n")
        rc, out, err = run("--subnet-cidr", "10.1.0.0/16", "--used", used, "--count", "2", "--json")
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertEqual(doc["addresses"], ["10.1.234.100", "10.1.234.101"])  # offset 60004
        self.assertEqual(doc["free_before"], 65536 - 5 - 60000)

    # ---- bad input: exit 2, nothing on stdout, one line naming the value ----

    def bad(self, args, *want):
        rc, out, err = run(*args)
        self.assertEqual(rc, 2, "args %r: rc %d, stderr %r" % (args, rc, err))
        self.assertEqual(out, "", args)
        self.assertTrue(err.startswith("multus-hookd plan: "), err)
        self.assertEqual(err.count("\n"), 1, "one line expected: %r" % err)
        for w in want:
            self.assertIn(w, err)
        return err

    def test_bad_subnet(self):
        self.bad(["--subnet-cidr", "10.0.1.0/33"], "--subnet-cidr 10.0.1.0/33: invalid CIDR",
                 "prefix length 33 is greater than 32")
        self.bad(["--subnet-cidr", "10.0.1.0/24x"], "10.0.1.0/24x")
        self.bad(["--subnet-cidr", "10.0.1.7/24"], "10.0.1.7/24", "host bits set",
                 "10.0.1.0/24")
        self.bad(["--subnet-cidr", "010.0.1.0/24"], "010.0.1.0/24", "leading zero")
        self.bad(["--subnet-cidr", "10.0.0.0/29"],
                 "--subnet-cidr 10.0.0.0/29: AWS subnets must be /16 to /28")
        self.bad(["--subnet-cidr", "10.0.0.0/8"], "10.0.0.0/8: AWS subnets must be /16 to /28")
        self.bad(["--subnet-cidr", "2600:1f18::/72"], "2600:1f18::/72", "/44 to /64")
        self.bad(["--count", "2"], "missing --subnet-cidr")

    def test_bad_reserve(self):
        self.bad(["--subnet-cidr", "10.0.1.0/24", "--reserve", "10.0.2.0/26"],
                 "multus-hookd plan: --reserve 10.0.2.0/26: not inside subnet 10.0.1.0/24")
        self.bad(["--subnet-cidr", "10.0.1.0/24", "--reserve", "10.0.1.300/26"],
                 "--reserve 10.0.1.300/26", "greater than 255")
        self.bad(["--subnet-cidr", "10.0.1.0/24", "--reserve-prefix", "10.0.1.0/23"],
                 "--reserve-prefix 10.0.1.0/23", "host bits set")
        self.bad(["--subnet-cidr", "10.0.1.0/24", "--reserve", "10.0.1.64"],
                 "--reserve 10.0.1.64", "no /prefix-length")

    def test_bad_used_file(self):
        used = self.file("bad.txt", "10.0.1.4\n\n10.0.1.5 10.0.9.9\n")
        self.bad(["--subnet-cidr", "10.0.1.0/24", "--used", used],
                 "--used %s line 3: 10.0.9.9/32: not inside subnet 10.0.1.0/24" % used)
        junk = self.file("junk.txt", "# ok\n10.0.1.4\n10.0.1.x\n")
        self.bad(["--subnet-cidr", "10.0.1.0/24", "--used", junk],
                 "--used %s line 3: 10.0.1.x" % junk, "invalid IPv4 address")
        mapped = self.file("mapped.txt", "::ffff:10.0.1.9\n")
        self.bad(["--subnet-cidr", "10.0.1.0/24", "--used", mapped],
                 "::ffff:10.0.1.9/128: not inside subnet 10.0.1.0/24", "IPv4-mapped")
        ctrl = self.file("ctrl.txt", "10.0.1.4\x01\n")
        self.bad(["--subnet-cidr", "10.0.1.0/24", "--used", ctrl], '"10.0.1.4\\x01"')

    def test_unreadable_used_file(self):
        missing = os.path.join(self.tmp.name, "nope.txt")
        self.bad(["--subnet-cidr", "10.0.1.0/24", "--used", missing],
                 "--used %s: cannot open: No such file or directory" % missing)
        self.bad(["--subnet-cidr", "10.0.1.0/24", "--used", self.tmp.name],
                 "--used %s: cannot read" % self.tmp.name)

    def test_bad_count(self):
        for value, want in (("0", "--count 0: must be 1 to 65536"),
                            ("65537", "--count 65537: must be 1 to 65536"),
                            ("99999999999999999999999", "--count 99999999999999999999999: must be 1"),
                            ("abc", "--count abc: not a whole number (expected 1 to "),
                            ("-1", "--count -1: not a whole number (expected 1 to "),
                            ("3x", "--count 3x: not a whole number (expected 1 to "),
                            ("", "--count : not a whole number (expected 1 to ")):
            self.bad(["--subnet-cidr", "10.0.1.0/24", "--count", value], want)

    def test_bad_options(self):
        self.bad(["--subnet-cidr", "10.0.1.0/24", "--bogus"], "invalid option '--bogus'")
        self.bad(["-x"], "invalid option '-x'")
        self.bad(["--subnet-cidr"], "option --subnet-cidr needs a value")
        self.bad(["--subnet-cidr", "10.0.1.0/24", "stray"], "unexpected argument 'stray'")
        self.bad(["--json=yes", "--subnet-cidr", "10.0.1.0/24"], "invalid option '--json=yes'")

    def test_bad_pod_range(self):
        self.bad(["--subnet-cidr", "10.0.1.0/24", "--pod-range", "10.0.1.200-10.0.2.10"],
                 "--pod-range 10.0.1.200-10.0.2.10: not inside subnet 10.0.1.0/24")
        self.bad(["--subnet-cidr", "10.0.1.0/24", "--pod-range", "10.0.1.200-10.0.1.100"],
                 "--pod-range 10.0.1.200-10.0.1.100", "first address is after the last")

    def test_bad_input_json(self):
        missing = os.path.join(self.tmp.name, "none.json")
        self.bad(["--input", missing], "--input %s: cannot open" % missing)
        cases = [
            ("{", "line 1"),
            ("[1]", "the top level must be a JSON object"),
            ('{"subnet": "10.0.1.0/24"}', 'unknown key "subnet"'),
            ('{"subnet_cidr": "10.0.1.0/24", "subnet_cidr": "10.0.1.0/24"}', "duplicate"),
            ('{"subnet_cidr": 5}', "subnet_cidr: must be a string"),
            ('{"subnet_cidr": "10.0.1.0/24", "count": "3"}', "count: must be an integer"),
            ('{"subnet_cidr": "10.0.1.0/24", "count": 0}', "count: 0: must be 1 to 65536"),
            ('{"subnet_cidr": "10.0.1.0/24", "used": "10.0.1.4"}', "used: must be an array"),
            ('{"subnet_cidr": "10.0.1.0/24", "used": ["10.0.1.4", 7]}', "used[1]: must be a string"),
            ('{"subnet_cidr": "10.0.1.0/24", "used": ["10.0.3.4"]}',
             "used[0]: 10.0.3.4/32: not inside subnet 10.0.1.0/24"),
            ('{"subnet_cidr": "10.0.1.0/24", "reservations": [{"cidr": "10.0.1.0/26", "type": "x"}]}',
             'reservations[0].type: must be "explicit" or "prefix"'),
            ('{"subnet_cidr": "10.0.1.0/24", "reservations": [{"type": "prefix"}]}',
             'reservations[0]: missing "cidr"'),
            ('{"subnet_cidr": "10.0.1.0/24", "reservations": [{"cidr": "10.0.5.0/26"}]}',
             "reservations[0].cidr: 10.0.5.0/26: not inside subnet 10.0.1.0/24"),
            ('{"subnet_cidr": "10.0.1.0/24", "pod_range": ["10.0.1.9-"]}', "pod_range[0]: 10.0.1.9-"),
            ('{"count": 2}', "missing --subnet-cidr"),
        ]
        for i, (text, want) in enumerate(cases):
            path = self.file("bad%d.json" % i, text)
            self.bad(["--input", path], want)


if __name__ == "__main__":
    if not BIN or not os.access(BIN, os.X_OK):
        sys.exit("test_plan.py: set HOOKD_BIN to the multus-hookd binary")
    unittest.main(verbosity=2)
