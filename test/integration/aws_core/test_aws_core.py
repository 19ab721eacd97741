#!/usr/bin/env python3
"""Integration tests of the AWS client core (aws/awc.c, httpc.c, creds.c).

The C driver awc_raw (env AWC_RAW) runs one call through the real client: curl
multi on libevent, SigV4, the credential chain, retries. Against:
  - moto (in this process, on a loopback port chosen at run time) with
    INITIAL_NO_AUTH_ACTION_COUNT set, so moto verifies every signature, access key
    and session token after the setup requests;
  - tiny loopback HTTP servers (container credentials, throttling, errors).
Secrets are never printed: the driver prints only the access key id.
"""
import json
import os
import subprocess
import sys
import tempfile
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# The setup requests moto serves without authentication: CreateUser,
# PutUserPolicy, CreateAccessKey, CreateRole, PutRolePolicy. Every later request
# must be signed with a key moto knows. Must be set before moto is imported.
SETUP_REQUESTS = 5
os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = str(SETUP_REQUESTS)
os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "false")

import boto3  # noqa: E402
from moto.core.responses import BaseResponse  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

# moto gap: it demands a SigV4 Authorization header on every action once
# authentication is on, while real STS takes AssumeRoleWithWebIdentity unsigned
# (the web identity token is the credential; EKS IRSA relies on it). Exempt
# that one action, as AWS does.
_moto_auth = BaseResponse._authenticate_and_authorize_normal_action


def _auth_except_web_identity(self, *args, **kwargs):
    if self._get_action() == "AssumeRoleWithWebIdentity":
        return None
    return _moto_auth(self, *args, **kwargs)


BaseResponse._authenticate_and_authorize_normal_action = _auth_except_web_identity

AWC_RAW = os.environ.get("AWC_RAW")
REGION = "us-east-1"
ALLOW_ALL = json.dumps({"Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/x"},
     "Action": "sts:AssumeRoleWithWebIdentity"},
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/hookd"},
     "Action": "sts:AssumeRole"}]})


def base_env(tmp):
    """An environment with no AWS settings of the caller, no IMDS, no ~/.aws."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and k not in ("INITIAL_NO_AUTH_ACTION_COUNT",)}
    env["HOME"] = tmp
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env["AWS_REGION"] = REGION
    for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env.pop(k, None)
    return env


def run_raw(env, *args):
    proc = subprocess.run([AWC_RAW, *args], env=env, capture_output=True, text=True,
                          timeout=120)
    if proc.returncode != 0:
        raise AssertionError(f"awc_raw {args} exited {proc.returncode}: {proc.stderr}")
    return json.loads(proc.stdout)


class MotoTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        cls.server.start()
        host, port = cls.server.get_host_and_port()
        cls.url = f"http://{host}:{port}"
        boot = dict(endpoint_url=cls.url, region_name=REGION,
                    aws_access_key_id="AKIDSETUP", aws_secret_access_key="setup")
        iam = boto3.client("iam", **boot)
        iam.create_user(UserName="hookd")
        iam.put_user_policy(UserName="hookd", PolicyName="all", PolicyDocument=ALLOW_ALL)
        key = iam.create_access_key(UserName="hookd")["AccessKey"]
        cls.akid, cls.secret = key["AccessKeyId"], key["SecretAccessKey"]
        role = iam.create_role(RoleName="hookd-irsa", AssumeRolePolicyDocument=TRUST)
        cls.role_arn = role["Role"]["Arn"]
        iam.put_role_policy(RoleName="hookd-irsa", PolicyName="all", PolicyDocument=ALLOW_ALL)
        cls.kw = dict(endpoint_url=cls.url, region_name=REGION, aws_access_key_id=cls.akid,
                      aws_secret_access_key=cls.secret)
        cls.ec2 = boto3.client("ec2", **cls.kw)
        cls.vpc_id = cls.ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.tmp.cleanup()

    def env(self, **extra):
        env = base_env(self.tmp.name)
        env["AWS_ENDPOINT_URL"] = self.url
        env.update(extra)
        return env

    def key_env(self, **extra):
        return self.env(AWS_ACCESS_KEY_ID=self.akid, AWS_SECRET_ACCESS_KEY=self.secret, **extra)

    def test_auth_is_enforced(self):
        # Guards every other test: moto really verifies signatures now.
        bad = boto3.client("ec2", endpoint_url=self.url, region_name=REGION,
                           aws_access_key_id=self.akid, aws_secret_access_key="wrong")
        with self.assertRaises(Exception) as cm:
            bad.describe_regions()
        self.assertIn("AuthFailure", str(cm.exception))

    def test_describe_regions_matches_boto3(self):
        out = run_raw(self.key_env(), "query", "ec2", "DescribeRegions")
        self.assertEqual(out["err"], "ok", out["errtext"])
        self.assertEqual(out["http_status"], 200)
        self.assertEqual(out["attempts"], 1)
        import xml.etree.ElementTree as ET
        root = ET.fromstring(out["xml"])
        names = sorted(e.text for e in root.iter() if e.tag.endswith("regionName"))
        want = sorted(r["RegionName"] for r in self.ec2.describe_regions()["Regions"])
        self.assertEqual(names, want)
        self.assertIn(REGION, names)

    def test_describe_vpcs_with_filter_matches_boto3(self):
        out = run_raw(self.key_env(), "query", "ec2", "DescribeVpcs",
                      "Filter.1.Name=cidr-block", "Filter.1.Value.1=10.77.0.0/16")
        self.assertEqual(out["err"], "ok", out["errtext"])
        import xml.etree.ElementTree as ET
        root = ET.fromstring(out["xml"])
        ids = [e.text for e in root.iter() if e.tag.endswith("vpcId")]
        self.assertEqual(ids, [self.vpc_id])

    def test_wrong_secret_is_auth_failure(self):
        out = run_raw(self.env(AWS_ACCESS_KEY_ID=self.akid, AWS_SECRET_ACCESS_KEY="nope"),
                      "--idempotent", "query", "ec2", "DescribeRegions")
        self.assertEqual(out["err"], "auth")
        self.assertEqual(out["aws_code"], "AuthFailure")
        self.assertIn("AuthFailure", out["errtext"])
        self.assertEqual(out["attempts"], 1)  # permanent: never retried

    def test_autoscaling_signed_with_its_service(self):
        out = run_raw(self.key_env(), "query", "autoscaling", "DescribeAutoScalingGroups")
        self.assertEqual(out["err"], "ok", out["errtext"])
        self.assertIn("DescribeAutoScalingGroupsResponse", out["xml"])

    def test_session_token(self):
        # Temporary credentials with a session token, from STS AssumeRole (moto
        # does not accept GetSessionToken credentials for authentication).
        sts = boto3.client("sts", **self.kw)
        c = sts.assume_role(RoleArn=self.role_arn, RoleSessionName="tok")["Credentials"]
        env = self.env(AWS_ACCESS_KEY_ID=c["AccessKeyId"], AWS_SECRET_ACCESS_KEY=c["SecretAccessKey"],
                       AWS_SESSION_TOKEN=c["SessionToken"])
        out = run_raw(env, "query", "sts", "GetCallerIdentity")
        self.assertEqual(out["err"], "ok", out["errtext"])
        out = run_raw(env, "query", "ec2", "DescribeVpcs")
        self.assertEqual(out["err"], "ok", out["errtext"])
        # The same key without its token must be refused.
        env.pop("AWS_SESSION_TOKEN")
        out = run_raw(env, "query", "ec2", "DescribeVpcs")
        self.assertEqual(out["err"], "auth", out)

    def test_web_identity(self):
        tokfile = os.path.join(self.tmp.name, "web-identity-token")
        with open(tokfile, "w") as f:
            f.write("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2ln\n")
        env = self.env(AWS_ROLE_ARN=self.role_arn, AWS_WEB_IDENTITY_TOKEN_FILE=tokfile,
                       AWS_ROLE_SESSION_NAME="hookd-test", AWS_ENDPOINT_URL_STS=self.url)
        out = run_raw(env, "creds")
        self.assertEqual(out["err"], "ok", out["errtext"])
        self.assertEqual(out["source"], "web-identity")
        self.assertTrue(out["has_session_token"])
        self.assertGreater(out["expiration"], 0)
        self.assertNotEqual(out["access_key_id"], self.akid)
        # A call signed with the assumed role's credentials works.
        out = run_raw(env, "query", "sts", "GetCallerIdentity")
        self.assertEqual(out["err"], "ok", out["errtext"])
        self.assertIn("assumed-role/hookd-irsa/hookd-test", out["xml"])
        out = run_raw(env, "query", "ec2", "DescribeVpcs")
        self.assertEqual(out["err"], "ok", out["errtext"])

    def test_web_identity_missing_token_file_is_an_error(self):
        env = self.env(AWS_ROLE_ARN=self.role_arn,
                       AWS_WEB_IDENTITY_TOKEN_FILE=os.path.join(self.tmp.name, "absent"),
                       AWS_ENDPOINT_URL_STS=self.url,
                       # Configured web identity that fails must not fall through:
                       AWS_SHARED_CREDENTIALS_FILE=self.write_creds_file())
        out = run_raw(env, "creds")
        self.assertEqual(out["err"], "io")
        self.assertIn("AWS_WEB_IDENTITY_TOKEN_FILE", out["errtext"])

    def write_creds_file(self):
        path = os.path.join(self.tmp.name, "credentials")
        with open(path, "w") as f:
            f.write(f"[default]\naws_access_key_id = {self.akid}\n"
                    f"aws_secret_access_key = {self.secret}\n")
        return path

    def test_container_credentials(self):
        token = "container-secret-token"
        creds = {"AccessKeyId": self.akid, "SecretAccessKey": self.secret,
                 "Token": "", "Expiration": "2099-01-01T00:00:00Z"}
        with CredsServer(token, creds) as srv:
            tokfile = os.path.join(self.tmp.name, "pod-identity-token")
            with open(tokfile, "w") as f:
                f.write(token + "\n")
            env = self.env(AWS_CONTAINER_CREDENTIALS_FULL_URI=srv.url + "/v1/credentials",
                           AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=tokfile)
            out = run_raw(env, "creds")
            self.assertEqual(out["err"], "ok", out["errtext"])
            self.assertEqual(out["source"], "container")
            self.assertEqual(out["access_key_id"], self.akid)
            out = run_raw(env, "query", "ec2", "DescribeVpcs")
            self.assertEqual(out["err"], "ok", out["errtext"])
            self.assertEqual(srv.auth_seen[-1], token)
            # A wrong token is refused by the endpoint and surfaces as an error.
            env = self.env(AWS_CONTAINER_CREDENTIALS_FULL_URI=srv.url + "/v1/credentials",
                           AWS_CONTAINER_AUTHORIZATION_TOKEN="wrong")
            out = run_raw(env, "creds")
            self.assertEqual(out["err"], "auth", out)

    def test_container_full_uri_host_not_allowed(self):
        env = self.env(AWS_CONTAINER_CREDENTIALS_FULL_URI="http://198.51.100.7/creds",
                       AWS_CONTAINER_AUTHORIZATION_TOKEN="t")
        out = run_raw(env, "creds")
        self.assertEqual(out["err"], "invalid")


class CredsServer:
    """Loopback container-credentials endpoint checking the Authorization header."""

    def __init__(self, token, creds):
        outer = self
        self.auth_seen = []

        class H(BaseHTTPRequestHandler):
            def do_GET(self):
                outer.auth_seen.append(self.headers.get("Authorization"))
                if self.headers.get("Authorization") != token:
                    self.send_response(401)
                    self.end_headers()
                    return
                body = json.dumps(creds).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *a):
        self.httpd.shutdown()
        self.httpd.server_close()


EC2_ERROR = ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{code}</Code>'
             '<Message>{msg}</Message></Error></Errors><RequestID>req-{n}</RequestID></Response>')
EC2_OK = ('<?xml version="1.0" encoding="UTF-8"?>\n<DescribeRegionsResponse '
          'xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>ok-{n}</requestId>'
          '<regionInfo><item><regionName>us-east-1</regionName></item></regionInfo>'
          '</DescribeRegionsResponse>')


class ScriptedServer:
    """Answers POSTs from a script: a list of (status, body) for attempts 1..n;
    the last entry repeats. Records every request's arrival."""

    def __init__(self, script):
        outer = self
        self.requests = []

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = len(outer.requests) + 1
                length = int(self.headers.get("Content-Length", "0"))
                outer.requests.append({"body": self.rfile.read(length).decode(),
                                       "auth": self.headers.get("Authorization", "")})
                status, body = script[min(n, len(script)) - 1]
                data = body.format(n=n).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/xml" if body.startswith("<?xml")
                                 else "text/html")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *a):
        self.httpd.shutdown()
        self.httpd.server_close()


class RetryTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def env(self, url):
        env = base_env(self.tmp.name)
        env.update(AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="not-a-real-secret",
                   AWS_ENDPOINT_URL_EC2=url)
        return env

    def retries(self, out):
        return [e for e in out["events"] if e["kind"] == "retry"]

    def test_throttled_n_times_then_success(self):
        n = 4
        throttle = (503, EC2_ERROR.replace("{code}", "RequestLimitExceeded")
                    .replace("{msg}", "Request limit exceeded."))
        with ScriptedServer([throttle] * n + [(200, EC2_OK)]) as srv:
            # A non-idempotent call: throttles are retried anyway.
            out = run_raw(self.env(srv.url), "--throttle-base-ms", "5", "--cap-ms", "1000",
                          "--no-buckets", "query", "ec2", "DescribeRegions")
            self.assertEqual(out["err"], "ok", out["errtext"])
            self.assertEqual(len(srv.requests), n + 1)
        self.assertEqual(out["attempts"], n + 1)
        self.assertEqual(out["request_id"], f"ok-{n + 1}")
        r = self.retries(out)
        self.assertEqual(len(r), n)
        self.assertTrue(all(e["aws_code"] == "RequestLimitExceeded" for e in r))
        self.assertTrue(all(e["err"] == "throttled" for e in r))
        bounds = [e["bound_us"] for e in r]
        self.assertEqual(bounds, [5000 * 2 ** i for i in range(n)])  # exponential
        self.assertTrue(all(0 <= e["delay_us"] <= e["bound_us"] for e in r))  # full jitter
        # Every attempt was signed afresh (new X-Amz-Date/signature per attempt).
        self.assertTrue(all(q["auth"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
                            and "/us-east-1/ec2/aws4_request" in q["auth"]
                            for q in srv.requests))

    def test_throttle_budget_exhausted(self):
        throttle = (503, EC2_ERROR.replace("{code}", "RequestLimitExceeded")
                    .replace("{msg}", "slow down"))
        with ScriptedServer([throttle]) as srv:
            out = run_raw(self.env(srv.url), "--max-attempts", "3", "--throttle-base-ms", "1",
                          "--no-buckets", "query", "ec2", "DescribeRegions")
            self.assertEqual(len(srv.requests), 3)
        self.assertEqual(out["err"], "throttled")
        self.assertEqual(out["aws_code"], "RequestLimitExceeded")
        self.assertEqual(out["request_id"], "req-3")

    def test_permanent_error_attempted_once(self):
        bad = (400, EC2_ERROR.replace("{code}", "InvalidParameterValue")
               .replace("{msg}", "Value (x) for parameter y is invalid"))
        with ScriptedServer([bad, (200, EC2_OK)]) as srv:
            out = run_raw(self.env(srv.url), "--idempotent", "--base-ms", "1", "--no-buckets",
                          "query", "ec2", "DescribeRegions")
            self.assertEqual(len(srv.requests), 1)
        self.assertEqual(out["attempts"], 1)
        self.assertEqual(out["err"], "invalid")
        self.assertEqual(out["aws_code"], "InvalidParameterValue")
        self.assertEqual(out["aws_message"], "Value (x) for parameter y is invalid")
        self.assertEqual(out["request_id"], "req-1")
        self.assertEqual(self.retries(out), [])

    def test_html_500_is_transient(self):
        page = (500, "<html><body><h1>500 Internal Server Error</h1><p>oops</body></html>")
        # Idempotent: retried until the budget is spent, never a crash.
        with ScriptedServer([page]) as srv:
            out = run_raw(self.env(srv.url), "--idempotent", "--max-attempts", "3", "--base-ms",
                          "1", "--no-buckets", "query", "ec2", "DescribeRegions")
            self.assertEqual(len(srv.requests), 3)
        self.assertEqual(out["err"], "transient")
        self.assertIsNone(out["aws_code"])
        self.assertIn("HTTP 500", out["errtext"])
        # Not idempotent: a 500 is ambiguous (it may have been executed): once.
        with ScriptedServer([page]) as srv:
            out = run_raw(self.env(srv.url), "--base-ms", "1", "--no-buckets",
                          "query", "ec2", "CreateTags")
            self.assertEqual(len(srv.requests), 1)
        self.assertEqual(out["err"], "transient")

    def test_truncated_200_is_not_success(self):
        cut = (200, EC2_OK[: len(EC2_OK) // 2])
        with ScriptedServer([cut, (200, EC2_OK)]) as srv:
            out = run_raw(self.env(srv.url), "--idempotent", "--base-ms", "1", "--no-buckets",
                          "query", "ec2", "DescribeRegions")
            self.assertEqual(len(srv.requests), 2)
        self.assertEqual(out["err"], "ok", out["errtext"])

    def test_connection_refused_is_retried_even_when_not_idempotent(self):
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()  # nothing listens there now
        out = run_raw(self.env(f"http://127.0.0.1:{port}"), "--max-attempts", "2", "--base-ms",
                      "1", "--no-buckets", "query", "ec2", "CreateTags")
        self.assertEqual(out["err"], "transient")
        self.assertEqual(out["attempts"], 2)


if __name__ == "__main__":
    if not AWC_RAW:
        sys.exit("AWC_RAW must name the awc_raw driver")
    unittest.main()
