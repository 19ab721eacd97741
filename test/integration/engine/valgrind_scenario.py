"""The daemon (a sanitizer-free build) under valgrind for a short launch (two
instances, a first-free and a dhcp network with an uncovered pod range, so
the dhcp check runs too) + terminate against the simulator, with the orphan
sweep running. ctest: engine.valgrind_scenario (about 10 s).

    HOOKD_VG_BIN=build-engine2-vg/hook/multus-hookd python3 valgrind_scenario.py

Exit status 0 when the scenario completed and valgrind reported no error
(invalid reads/writes, uninitialised use) and no definite or indirect leak.
"""

import glob
import os
import re
import stat
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from engine_e2e import LAUNCHING, TERMINATING, World, daemon  # noqa: E402


def main() -> int:
    binary = os.path.abspath(os.environ["HOOKD_VG_BIN"])
    out = tempfile.mkdtemp(prefix="hookd-vg-")
    wrapper = os.path.join(out, "hookd-vg.sh")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\nexec valgrind --leak-check=full --show-leak-kinds=definite,indirect "
                "--errors-for-leak-kinds=definite,indirect --error-exitcode=99 "
                f"--log-file={out}/vg.%p.log {binary} \"$@\"\n")
    os.chmod(wrapper, stat.S_IRWXU)
    os.environ["HOOKD_BIN"] = wrapper
    w = World(time_scale=0.1, name="eng-vg")
    try:
        w.build_network(("sig", "media"))
        d = daemon(w, "vg", [w.group_cfg("workers", ["e2e-vg"], [
            w.net_cfg("sig", 1, "first-free"), w.net_cfg("media", 2, "dhcp",
                                                         pod_ranges=["10.0.32.192/26"])])],
            limits={"sweep_interval_s": 3}, start=False)
        d.start(timeout=90)
        w.deliver()
        w.asg("e2e-vg", desired=2)
        w.wait_in_service("e2e-vg", 2, timeout=120)
        w.scale("e2e-vg", 0)
        w.wait_settled("e2e-vg", TERMINATING, 2, timeout=120)
        launches = [a["result"] for a in w.lifecycle(group="e2e-vg", transition=LAUNCHING)]
        left = [e for e in w.multus_enis() if e["tags"]]
        rc = d.stop(timeout=60)
    finally:
        w.close()
    logs = sorted(glob.glob(os.path.join(out, "vg.*.log")))
    text = "".join(open(p, encoding="utf-8", errors="replace").read() for p in logs)
    summary = re.findall(r"ERROR SUMMARY: (\d+) errors", text)
    definite = re.findall(r"definitely lost: ([\d,]+) bytes", text)
    indirect = re.findall(r"indirectly lost: ([\d,]+) bytes", text)
    print(f"launch results {launches}, tagged ENIs left {len(left)}, daemon exit {rc}")
    print(f"valgrind: errors {summary}, definitely lost {definite}, indirectly lost {indirect}")
    print(f"logs: {logs}")
    ok = (rc == 0 and launches == ["CONTINUE", "CONTINUE"] and not left
          and summary and all(s == "0" for s in summary))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
