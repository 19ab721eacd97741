"""End to end: the operator commands against a running daemon and the simulator.

  plan --live   the next addresses of every Multus subnet, from the
                configuration and what AWS shows now: they are the ones
                the next launch then gets
  status        the same subnets, and the daemon's in-flight and failed actions
  reserve       create (refused over an address in use unless --force),
                list, delete: checked in EC2's own reservation list
  reconcile     an instance of a group made without the hook, and one whose
                ENI was deleted by hand, get the missing ENIs (dry run first:
                nothing changes); nothing is completed or terminated
"""

import ipaddress
import json
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_harness import (  # noqa: E402
    API_KEY_HEADER,
    World,
    hookd_bin,
    http,
    lowest_free,
    wait_for,
)

AZ = "us-east-1a"
POD_RANGE = "10.0.16.192/26"


class OperatorCommands(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.maxDiff = None
        cls.w = w = World(time_scale=0.1, name="operator")
        cls.addClassCleanup(w.close)
        w.build_network(("sig", "media"))
        cls.d = w.daemon("main", [w.group_cfg(
            "workers", ["e2e-ops", "e2e-old"],
            [w.net_cfg("sig", 1, pod_ranges=[POD_RANGE]), w.net_cfg("media", 2, "dhcp")])])
        w.deliver()
        cls.sig = w.subnet("sig", AZ)
        cls.media = w.subnet("media", AZ)

    def run_cmd(self, *args, check_rc=None):
        p = subprocess.run([hookd_bin(), *args], capture_output=True, text=True, timeout=120,
                           env=self.d.env())
        if check_rc is not None:
            self.assertEqual(p.returncode, check_rc, f"{args}: {p.stdout}\n{p.stderr}")
        return p

    def sim_reservations(self, subnet):
        r = self.w.ec2.get_subnet_cidr_reservations(SubnetId=subnet)
        return {x["SubnetCidrReservationId"]: x for x in r["SubnetIpv4CidrReservations"]}

    def subnet_used(self, subnet):
        used = []
        for e in self.w.ec2.describe_network_interfaces(
                Filters=[{"Name": "subnet-id", "Values": [subnet]}])["NetworkInterfaces"]:
            used += [p["PrivateIpAddress"] for p in e["PrivateIpAddresses"]]
        return used

    def live(self, count):
        p = self.run_cmd("plan", "--config", self.d.config_path, "--live", "--count", str(count),
                         "--json", check_rc=0)
        return json.loads(p.stdout)["subnets"]

    def test_1_plan_live_predicts_the_next_launch(self):
        # someone else's ENI low in the subnet: the plan must skip it
        self.w.ec2.create_network_interface(SubnetId=self.sig, PrivateIpAddress="10.0.16.5",
                                            Description="someone else's")
        subs = self.live(2)
        mine = [s for s in subs if s["subnet_id"] == self.sig]
        self.assertEqual(len(mine), 1, subs)
        s = mine[0]
        cidr = self.w.subnet_cidrs[self.sig]
        want = lowest_free(cidr, 2, excluded=[POD_RANGE], used=self.subnet_used(self.sig))
        self.assertEqual(s["next_addresses"], want)
        self.assertEqual((s["group"], s["network"], s["az"], s["cidr"], s["ip_mode"]),
                         ("workers", "sig", AZ, cidr, "first_free"))
        self.assertEqual(s["pod_range"], 64)
        # 256 addresses, 5 kept by AWS (the last one inside the pod range)
        self.assertEqual(s["free"], 256 - 5 - len(self.subnet_used(self.sig)) - 63)
        # every AZ of both networks is listed; dhcp has no address to predict
        azs = sorted(x["az"] for x in subs if x["network"] == "media")
        self.assertEqual(azs, sorted(self.w.subnets_of("media")))
        self.assertTrue(all(x["next_addresses"] == [] for x in subs if x["network"] == "media"))
        # the next launch gets exactly the first predicted address
        self.w.asg("e2e-ops", desired=1, azs=[AZ], terminate_hook=False)
        inst = self.w.wait_in_service("e2e-ops", 1)[0]
        enis = self.w.enis_of(inst["id"])
        sig_eni = [e for e in enis if e["device_index"] == 1][0]
        self.assertEqual(sig_eni["ipv4"], want[0])
        # text form names the subnet and the address now next
        p = self.run_cmd("plan", "--config", self.d.config_path, "--live", check_rc=0)
        self.assertIn(f"subnet {self.sig} {cidr}", p.stdout)
        self.assertIn("the next worker gets: " + want[1], p.stdout)

    def test_2_status_shows_subnets_and_actions(self):
        doc = json.loads(self.run_cmd("status", "--config", self.d.config_path, "--admin",
                                      self.d.admin_url, "--json", check_rc=0).stdout)
        self.assertTrue(doc["daemon"]["reachable"])
        self.assertEqual(doc["daemon"]["in_flight"], [])
        self.assertEqual(doc["daemon"]["failed"], [])
        ids = {s["subnet_id"] for s in doc["subnets"]}
        self.assertIn(self.sig, ids)
        self.assertIn(self.media, ids)
        p = self.run_cmd("status", "--config", self.d.config_path, "--admin", self.d.admin_url,
                         check_rc=0)
        self.assertIn("actions in flight: 0", p.stdout)
        self.assertIn("failed actions: 0", p.stdout)
        # a daemon that is not there: the subnets still print, exit 1 says so
        p = self.run_cmd("status", "--config", self.d.config_path, "--admin",
                         "http://127.0.0.1:9", check_rc=1)
        self.assertIn("not reachable", p.stdout)
        self.assertIn(self.sig, p.stdout)

    def test_3_reserve_refuses_in_use_then_creates_lists_deletes(self):
        used = self.subnet_used(self.media)
        self.assertTrue(used, "an ENI of the launch is in the media subnet")
        net = ipaddress.ip_network(f"{used[0]}/28", strict=False)
        before = self.sim_reservations(self.media)
        p = self.run_cmd("reserve", "--config", self.d.config_path, "--subnet", self.media,
                         "--cidr", str(net), check_rc=1)
        self.assertIn("refused", p.stderr)
        self.assertIn(used[0], p.stderr)
        self.assertEqual(self.sim_reservations(self.media), before)
        # a free range at the end of the subnet
        cidr = ipaddress.ip_network(self.w.subnet_cidrs[self.media])
        free = str(list(cidr.subnets(new_prefix=27))[-1])
        p = self.run_cmd("reserve", "--config", self.d.config_path, "--subnet", self.media,
                         "--cidr", free, "--description", "pods of media", "--json", check_rc=0)
        made = json.loads(p.stdout)["reservation"]
        after = self.sim_reservations(self.media)
        self.assertIn(made["id"], after)
        self.assertEqual((after[made["id"]]["Cidr"], after[made["id"]]["ReservationType"],
                          after[made["id"]]["Description"]), (free, "explicit", "pods of media"))
        # --list of the configured subnets shows it
        listed = json.loads(self.run_cmd("reserve", "--config", self.d.config_path, "--list",
                                         "--json", check_rc=0).stdout)["reservations"]
        self.assertIn(made["id"], [r["id"] for r in listed])
        # a range outside the subnet is a usage error naming the subnet
        p = self.run_cmd("reserve", "--config", self.d.config_path, "--subnet", self.media,
                         "--cidr", "10.99.0.0/28", check_rc=2)
        self.assertIn("not inside subnet", p.stderr)
        # delete
        p = self.run_cmd("reserve", "--config", self.d.config_path, "--delete", made["id"],
                         check_rc=0)
        self.assertIn("deleted " + made["id"], p.stdout)
        self.assertNotIn(made["id"], self.sim_reservations(self.media))
        # forced over the address in use
        p = self.run_cmd("reserve", "--config", self.d.config_path, "--subnet", self.media,
                         "--cidr", str(net), "--force", check_rc=0)
        self.assertIn("forced", p.stdout)
        self.assertEqual(len(self.sim_reservations(self.media)), len(before) + 1)

    def reconcile(self, *args):
        p = self.run_cmd("reconcile", "--config", self.d.config_path, "--admin",
                         self.d.admin_url, "--json", *args, check_rc=0)
        return json.loads(p.stdout)

    def attached(self, iid):
        return {e["device_index"]: e for e in self.w.enis_of(iid)
                if e["instance"] == iid and e["attach_status"] == "attached"}

    def test_5_reconcile_attaches_what_running_nodes_lack(self):
        w = self.w
        w.autoscaling.create_auto_scaling_group(
            AutoScalingGroupName="e2e-old", MinSize=0, MaxSize=2, DesiredCapacity=1,
            LaunchTemplate={"LaunchTemplateId": w.launch_template("m5.large"),
                            "Version": "$Latest"},
            VPCZoneIdentifier=w.net.node_subnets[AZ])
        old = w.wait_in_service("e2e-old", 1)[0]["id"]
        self.assertEqual(self.attached(old), {})
        completes = len(w.requests("CompleteLifecycleAction"))
        want = lowest_free(w.subnet_cidrs[self.sig], 1, excluded=[POD_RANGE],
                           used=self.subnet_used(self.sig))
        # a dry run reports and changes nothing
        rep = self.reconcile("--dry-run")
        mine = [i for i in rep["instances"] if i["instance_id"] == old]
        self.assertEqual([(i["status"], i["missing"]) for i in mine],
                         [("would_attach", ["sig", "media"])], rep)
        self.assertGreaterEqual(rep["checked"], 2)
        self.assertEqual(self.attached(old), {})
        # for real: both ENIs, the first free address, no completion anywhere
        rep = self.reconcile("--group", "workers")
        mine = [i for i in rep["instances"] if i["instance_id"] == old]
        self.assertEqual([i["status"] for i in mine], ["started"], rep)
        got = wait_for(lambda: self.attached(old) if len(self.attached(old)) == 2 else None,
                       60, 0.2, "the reconciled ENIs", diag=w.diag)
        self.assertEqual(got[1]["ipv4"], want[0])
        self.assertEqual(got[1]["subnet"], self.sig)
        self.assertEqual(got[2]["subnet"], self.media)
        self.assertTrue(got[1]["delete_on_termination"])
        acts = wait_for(lambda: [a for a in self.d.actions("succeeded")
                                 if a["id"] == mine[0]["action_id"]], 30, 0.2, "done")
        self.assertEqual((acts[0]["source"], acts[0]["instance_id"]), ("reconcile", old))
        self.assertEqual(len(w.requests("CompleteLifecycleAction")), completes)
        self.assertEqual(w.instances("e2e-old")[0]["state"], "InService")
        # an ENI deleted by hand on the other node: only that one comes back
        node = w.instances("e2e-ops")[0]["id"]
        before = self.attached(node)
        media = before[2]
        w.ec2.detach_network_interface(AttachmentId=w.ec2.describe_network_interfaces(
            NetworkInterfaceIds=[media["id"]])["NetworkInterfaces"][0]["Attachment"]["AttachmentId"],
            Force=True)
        wait_for(lambda: 2 not in self.attached(node), 30, 0.2, "the detach")
        w.ec2.delete_network_interface(NetworkInterfaceId=media["id"])
        rep = self.reconcile("--instance", node)
        self.assertEqual([(i["instance_id"], i["missing"], i["status"]) for i in rep["instances"]],
                         [(node, ["media"], "started")], rep)
        self.assertEqual(rep["checked"], 1)
        after = wait_for(lambda: self.attached(node) if len(self.attached(node)) == 2 else None,
                         60, 0.2, "the media ENI back", diag=w.diag)
        self.assertEqual(after[1]["id"], before[1]["id"])  # sig untouched
        self.assertNotEqual(after[2]["id"], media["id"])
        # now nothing lacks anything
        wait_for(lambda: not self.d.actions("in_flight"), 30, 0.2, "idle")
        rep = self.reconcile()
        self.assertEqual(rep["instances"], [], rep)
        # a group that is not configured is a usage error
        p = self.run_cmd("reconcile", "--config", self.d.config_path, "--admin",
                         self.d.admin_url, "--group", "nope", check_rc=2)
        self.assertIn("no node group named", p.stderr)

    def test_6_periodic_reconcile(self):
        """limits.reconcile_interval_s: a hand-deleted ENI comes back by itself."""
        w, d = self.w, self.d
        d.stop()
        d.limits["reconcile_interval_s"] = 1
        d.restart()
        node = w.instances("e2e-ops")[0]["id"]
        sig = self.attached(node)[1]
        att = w.ec2.describe_network_interfaces(NetworkInterfaceIds=[sig["id"]])[
            "NetworkInterfaces"][0]["Attachment"]["AttachmentId"]
        w.ec2.detach_network_interface(AttachmentId=att, Force=True)
        wait_for(lambda: 1 not in self.attached(node), 30, 0.2, "the detach")
        w.ec2.delete_network_interface(NetworkInterfaceId=sig["id"])
        back = wait_for(lambda: self.attached(node).get(1), 60, 0.2, "the sig ENI back",
                        diag=w.diag)
        self.assertNotEqual(back["id"], sig["id"])
        self.assertEqual(back["subnet"], self.sig)

    def test_4_usage_errors(self):
        p = self.run_cmd("reserve", "--list", check_rc=2)
        self.assertIn("--list needs --subnet ID or --config FILE", p.stderr)
        p = self.run_cmd("reserve", "--subnet", self.sig, check_rc=2)
        self.assertIn("give one of", p.stderr)
        p = self.run_cmd("plan", "--live", "--subnet-cidr", "10.0.0.0/24", check_rc=2)
        self.assertIn("--live and --config FILE go together", p.stderr)
        p = self.run_cmd("status", check_rc=2)
        self.assertIn("missing --config", p.stderr)
        st, body = http("POST", self.d.admin_url + "/v1/reconcile?bogus=1")
        self.assertEqual(st, 400)
        self.assertIn("unknown query key", json.loads(body)["reason"])
        st, body = http("GET", self.d.admin_url + "/v1/actions?bogus=1")
        self.assertEqual(st, 400)
        self.assertIn("(expected state, instance_id, limit)", json.loads(body)["reason"])
        self.assertEqual(http("GET", self.d.admin_url + "/v1/reconcile/999")[0], 404)


class ConfigReload(unittest.TestCase):
    """SIGHUP re-reads the configuration: an invalid file or a changed
    restart-only key is refused (the running configuration stays), a valid one
    applies to new actions while an action in flight keeps its own; the API
    key file is read again."""

    def test_reload(self):
        w = World(time_scale=0.1, name="reload")
        self.addCleanup(w.close)
        w.build_network(("sig", "media"))
        sig, media = w.net_cfg("sig", 1), w.net_cfg("media", 2, "dhcp")
        d = w.daemon("main", [w.group_cfg("workers", ["e2e-reload"], [sig])])
        w.asg("e2e-reload", desired=0, azs=[AZ], terminate_hook=False)

        def attached(iid):
            return sorted(e["device_index"] for e in w.enis_of(iid)
                          if e["instance"] == iid and e["attach_status"] == "attached")

        def hup():
            d.proc.send_signal(signal.SIGHUP)
            time.sleep(0.5)  # the signal is taken on the daemon's next loop turn
            self.assertTrue(d.running, d.log_tail(20))

        def launch(n):
            w.scale("e2e-reload", n)
            return wait_for(lambda: [i for i in w.instances("e2e-reload")
                                     if i["state"] == "InService"] if len(
                [i for i in w.instances("e2e-reload") if i["state"] == "InService"]) == n
                else None, 90, 0.2, f"{n} in service", diag=w.diag)

        # 1. an invalid file is refused: the next launch still gets sig only
        good = d.config()
        with open(d.config_path, "w", encoding="utf-8") as f:
            f.write('{"node_groups": [')
        hup()
        first = launch(1)[0]["id"]
        self.assertEqual(attached(first), [1])
        # 2. a restart-only key (the admin listener) refused with a valid file
        bad = json.loads(json.dumps(good))
        bad["node_groups"][0]["networks"].append(media)
        bad["listeners"]["admin"]["port"] = d.admin_port + 1
        with open(d.config_path, "w", encoding="utf-8") as f:
            json.dump(bad, f)
        hup()
        # 3. a valid change while a launch is in flight: that launch keeps sig
        #    only; the next one gets both networks
        rule = w.sim.add_fault("error-before", service="ec2", action="CreateNetworkInterface",
                               count=100000, status=503, code="ServiceUnavailable")
        w.scale("e2e-reload", 2)
        wait_for(lambda: [a for a in d.actions("in_flight") if a["state"] == "running"], 60,
                 0.1, "a launch in flight", diag=w.diag)
        good["node_groups"][0]["networks"].append(media)
        with open(d.config_path, "w", encoding="utf-8") as f:
            json.dump(good, f)
        hup()
        w.sim.clear_faults(rule["id"])
        second = [i["id"] for i in launch(2) if i["id"] != first][0]
        self.assertEqual(attached(second), [1])
        third = [i["id"] for i in launch(3) if i["id"] not in (first, second)][0]
        self.assertEqual(attached(third), [1, 2])
        self.assertEqual(attached(first), [1])  # nothing done to the others
        # 4. the API key file is read again
        old_key = d.api_key
        d.api_key = "k" + old_key[1:]
        with open(os.path.join(d.dir, "api-key"), "w", encoding="ascii") as f:
            f.write(d.api_key + "\n")
        hup()
        st, _ = d.post_event({"detail-type": "nope"}, headers={API_KEY_HEADER: old_key})
        self.assertEqual(st, 401)
        st, _ = d.post_event({"detail-type": "nope"})
        self.assertEqual(st, 400)  # past auth: the body is what is wrong


if __name__ == "__main__":
    unittest.main(verbosity=2)
