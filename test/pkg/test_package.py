"""The Debian package (CPack DEB) and the systemd unit it ships.

Builds the .deb from a sanitizer-free build tree (HOOKD_PKG_BUILD), inspects it
with dpkg-deb, runs lintian, extracts it into a scratch root (dpkg -x) and runs
the installed binary there; verifies the unit with systemd-analyze inside that
root and prints its offline security exposure."""

import glob
import os
import re
import shutil
import subprocess
import tempfile
import unittest

BUILD = os.environ.get("HOOKD_PKG_BUILD", "")
SRC = os.environ.get("HOOKD_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
UNIT = "lib/systemd/system/multus-hookd.service"
# lintian tags the package is allowed to carry, each explained in docs/deploy.md
LINTIAN_ALLOWED = {"initial-upload-closes-no-bugs"}


def run(*cmd, **kw):
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=240, **kw)


class TestPackage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.isfile(os.path.join(BUILD, "CPackConfig.cmake")):
            raise unittest.SkipTest(f"no CPack configuration in {BUILD!r}")
        cls.tmp = tempfile.mkdtemp(prefix="hookd-pkg-")
        r = run("cpack", "-G", "DEB", "--config", os.path.join(BUILD, "CPackConfig.cmake"), "-B", cls.tmp)
        if r.returncode:
            raise AssertionError("cpack failed:\n" + r.stdout + r.stderr)
        (cls.deb,) = glob.glob(os.path.join(cls.tmp, "*.deb"))
        cls.root = os.path.join(cls.tmp, "root")
        r = run("dpkg", "-x", cls.deb, cls.root)
        if r.returncode:
            raise AssertionError("dpkg -x failed: " + r.stderr)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def field(self, name):
        r = run("dpkg-deb", "-f", self.deb, name)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.strip()

    def control_file(self, name):
        d = os.path.join(self.tmp, "control")
        if not os.path.isdir(d):
            self.assertEqual(run("dpkg-deb", "-e", self.deb, d).returncode, 0)
        with open(os.path.join(d, name), encoding="utf-8") as f:
            return f.read()

    def test_control_fields(self):
        self.assertEqual(self.field("Package"), "multus-hookd")
        self.assertRegex(self.field("Version"), r"^\d+\.\d+\.\d+-1$")
        self.assertEqual(self.field("Section"), "net")
        deps = self.field("Depends")
        # computed from the binary's shared libraries (dpkg-shlibdeps), plus adduser
        for lib in ("adduser", "libc6", "libcurl4", "libevent-2.1-7", "libjansson4", "libsqlite3-0",
                    "libssl3", "libxml2"):
            self.assertRegex(deps, rf"(^|, ){re.escape(lib)}( \(|,|$)", deps)

    def test_contents_and_conffile(self):
        r = run("dpkg-deb", "-c", self.deb)
        paths = {ln.split()[-1].lstrip(".") for ln in r.stdout.splitlines()}
        for p in ("/usr/sbin/multus-hookd", "/" + UNIT, "/etc/multus-hookd/config.json",
                  "/usr/share/doc/multus-hookd/copyright", "/usr/share/doc/multus-hookd/changelog.Debian.gz",
                  "/usr/share/doc/multus-hookd/configuration.md", "/usr/share/man/man8/multus-hookd.8.gz"):
            self.assertIn(p, paths)
        self.assertEqual(self.control_file("conffiles").split(), ["/etc/multus-hookd/config.json"])
        post = self.control_file("postinst")
        self.assertIn("adduser --system --group", post)
        self.assertIn('if [ -z "$2" ]', post)  # ownership set on first install only
        self.assertIn("rm -rf /var/lib/multus-hookd", self.control_file("postrm"))

    def test_lintian(self):
        exe = shutil.which("lintian")
        self.assertIsNotNone(exe, "lintian is not installed (scripts/deps.sh installs it)")
        r = run(exe, "--pedantic", "--no-tag-display-limit", self.deb)
        tags = set()
        for ln in r.stdout.splitlines():
            m = re.match(r"^[EWIPX]: multus-hookd[^:]*: (\S+)", ln)
            if m:
                tags.add(m.group(1))
        print("lintian:", r.stdout.strip() or "clean")
        self.assertEqual(tags - LINTIAN_ALLOWED, set(), r.stdout)
        with open(os.path.join(SRC, "docs", "deploy.md"), encoding="utf-8") as f:
            doc = f.read()
        for t in LINTIAN_ALLOWED:
            self.assertIn(t, doc, "every accepted lintian tag is explained in docs/deploy.md")

    def test_installed_binary_runs(self):
        exe = os.path.join(self.root, "usr", "sbin", "multus-hookd")
        r = run(exe, "--version")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^multus-hookd \d+\.\d+\.\d+\n$")
        self.assertIn(r.stdout.split()[1], self.field("Version"))
        cfg = os.path.join(self.root, "etc", "multus-hookd", "config.json")
        r = run(exe, "check-config", "--config", cfg, "--no-files")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # the shipped example points at the state directory the unit creates
        with open(cfg, encoding="utf-8") as f:
            self.assertIn('"/var/lib/multus-hookd"', f.read())

    def scratch_systemd_root(self):
        """The extracted package plus what systemd-analyze needs to resolve the
        unit inside it: the host's targets and slices, /bin/kill."""
        os.makedirs(os.path.join(self.root, "bin"), exist_ok=True)
        shutil.copy("/bin/kill", os.path.join(self.root, "bin", "kill"))
        dst = os.path.join(self.root, "lib", "systemd", "system")
        for f in glob.glob("/lib/systemd/system/*.target") + glob.glob("/lib/systemd/system/*.slice"):
            t = os.path.join(dst, os.path.basename(f))
            if not os.path.exists(t):
                shutil.copy(f, t)
        return dict(os.environ, MANPATH=os.path.join(self.root, "usr", "share", "man"))

    def test_unit_verifies(self):
        env = self.scratch_systemd_root()
        r = run("systemd-analyze", "verify", f"--root={self.root}", "multus-hookd.service", env=env)
        self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""))
        # the check can fail: a broken copy of the unit is refused
        bad = os.path.join(self.root, "lib", "systemd", "system", "multus-hookd-broken.service")
        with open(os.path.join(self.root, UNIT), encoding="utf-8") as f:
            text = f.read()
        with open(bad, "w", encoding="utf-8") as f:
            f.write(text.replace("ExecStart=/usr/sbin/multus-hookd", "ExecStart=/usr/sbin/multus-hookdx"))
        r = run("systemd-analyze", "verify", f"--root={self.root}", "multus-hookd-broken.service", env=env)
        os.unlink(bad)
        self.assertNotEqual(r.returncode, 0)
        for key in ("Type=notify", "User=multus-hookd", "StateDirectory=multus-hookd",
                    "ConfigurationDirectory=multus-hookd", "LimitNOFILE=", "WatchdogSec=",
                    "NoNewPrivileges=yes", "ProtectSystem=strict", "CapabilityBoundingSet=\n",
                    "SystemCallFilter=@system-service", "MemoryDenyWriteExecute=yes"):
            self.assertIn(key, text)

    def test_unit_security_exposure(self):
        r = run("systemd-analyze", "security", "--offline=true", os.path.join(self.root, UNIT))
        out = r.stdout + r.stderr
        m = re.search(r"Overall exposure level for multus-hookd\.service: (\d+\.\d+) (\w+)", out)
        self.assertIsNotNone(m, out)
        print(f"systemd-analyze security --offline=true: exposure {m.group(1)} {m.group(2)}")
        self.assertLessEqual(float(m.group(1)), 2.0, out)


if __name__ == "__main__":
    unittest.main()
