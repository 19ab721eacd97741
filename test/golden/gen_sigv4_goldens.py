#!/usr/bin/env python3
"""Generate the SigV4 goldens in test/golden/sigv4/ with botocore, offline.

Each golden is an AWS Query POST (EC2, Auto Scaling, STS) signed by botocore's
own SigV4 signer at a fixed time (botocore.auth.get_current_datetime patched),
with and without a session token. test/unit/aws_sigv4 rebuilds the same request
with aws/query.c and aws/sigv4.c and compares body, headers, canonical request,
string to sign, signature and Authorization byte for byte.

The parameter list (names, values, order) is botocore's serializer output for
the operation. The body is that list form-encoded the way aws/query.c sends it
(unreserved characters kept, a space as '+', everything else %XX), which is
byte for byte botocore's own body (urlencode/quote_plus): this script checks
that. botocore then signs exactly the body the daemon sends.

No network is used; the credentials are fake. Rerun after changing a case:

    python3 test/golden/gen_sigv4_goldens.py            # rewrites the goldens
    python3 test/golden/gen_sigv4_goldens.py --check    # fails if they differ

and commit the JSON files together with the change.
"""

import argparse
import datetime
import json
import os
import sys
from unittest import mock
from urllib.parse import parse_qsl, quote_plus

import botocore
import botocore.auth
import botocore.awsrequest
import botocore.credentials
import botocore.serialize
import botocore.session

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sigv4")

FIXED_TIME = datetime.datetime(2024, 3, 15, 12, 34, 56)  # naive UTC, as botocore uses

AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
# Shaped like a real STS token: base64 with '/', '+' and '='.
TOKEN = ("IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLXdlc3QtMiJHMEUCIQD+EXAMPLE/"
         "token+with/every=base64char==")

HOSTS = {
    "ec2": "ec2.{region}.amazonaws.com",
    "autoscaling": "autoscaling.{region}.amazonaws.com",
    "sts": "sts.{region}.amazonaws.com",
}

CASES = [
    # (name, service, region, operation, params)
    ("ec2-describe-instances-filters", "ec2", "us-west-2", "DescribeInstances", {
        "Filters": [
            {"Name": "instance-state-name", "Values": ["pending", "running"]},
            {"Name": "tag:multus-hookd/cluster", "Values": ["prod cluster ü"]},
            {"Name": "availability-zone", "Values": ["us-west-2a"]},
        ],
        "MaxResults": 100,
        "NextToken": "eyJ2IjoiMiJ9+/=",
    }),
    ("ec2-create-network-interface", "ec2", "us-west-2", "CreateNetworkInterface", {
        "SubnetId": "subnet-0123456789abcdef0",
        "Groups": ["sg-0aaaaaaaaaaaaaaaa", "sg-0bbbbbbbbbbbbbbbb"],
        "PrivateIpAddress": "10.0.4.17",
        "Ipv6AddressCount": 1,
        "Description": "multus-hookd: ns/pod-0 (net1) *reserved* chars !'()~",
        "TagSpecifications": [{
            "ResourceType": "network-interface",
            "Tags": [
                {"Key": "multus-hookd/owner", "Value": "i-0123456789abcdef0"},
                {"Key": "Name", "Value": "eni für pod-0"},
                {"Key": "empty", "Value": ""},
            ],
        }],
        "ClientToken": "b6c3a2de-7f10-4c1e-9a5e-0c4d8e2f1a99",
    }),
    ("ec2-modify-network-interface-attribute", "ec2", "us-west-2",
     "ModifyNetworkInterfaceAttribute", {
         "NetworkInterfaceId": "eni-0123456789abcdef0",
         "SourceDestCheck": {"Value": False},
     }),
    ("ec2-describe-subnets-cn", "ec2", "cn-north-1", "DescribeSubnets", {
        "SubnetIds": ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"],
    }),
    ("autoscaling-complete-lifecycle-action", "autoscaling", "us-west-2",
     "CompleteLifecycleAction", {
         "LifecycleHookName": "multus-hookd-launch",
         "AutoScalingGroupName": "workers-a",
         "LifecycleActionToken": "c8d3e7a1-1234-4f6b-9a1c-0e9d8c7b6a54",
         "LifecycleActionResult": "CONTINUE",
         "InstanceId": "i-0123456789abcdef0",
     }),
    ("sts-get-caller-identity", "sts", "us-east-1", "GetCallerIdentity", {}),
]


class CapturingSigV4(botocore.auth.SigV4Auth):
    """botocore's signer, recording its intermediate results."""

    def canonical_request(self, request):
        self.captured_cr = super().canonical_request(request)
        return self.captured_cr

    def string_to_sign(self, request, canonical_request):
        self.captured_sts = super().string_to_sign(request, canonical_request)
        return self.captured_sts


def form(s):
    return quote_plus(s, safe="-_.~")


def stringify(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def build(session, name, service, region, op, params, token):
    model = session.get_service_model(service)
    serializer = botocore.serialize.create_serializer(model.metadata["protocol"])
    ser = serializer.serialize_to_request(params, model.operation_model(op))
    pairs = [(k, stringify(v)) for k, v in ser["body"].items()]
    body = "&".join(form(k) + "=" + form(v) for k, v in pairs)

    # botocore's own body for the same request: must be byte-identical.
    prepared = botocore.awsrequest.AWSRequest(
        method="POST", url="https://x/", data=dict(pairs)).prepare()
    botocore_body = prepared.body
    if isinstance(botocore_body, bytes):
        botocore_body = botocore_body.decode()
    assert parse_qsl(botocore_body, keep_blank_values=True) == pairs, name
    assert parse_qsl(body, keep_blank_values=True) == pairs, name
    assert botocore_body == body, (name, botocore_body, body)

    host = HOSTS[service].format(region=region)
    if region.startswith("cn-"):
        host += ".cn"
    headers = {"Content-Type": ser["headers"]["Content-Type"], "Host": host}
    req = botocore.awsrequest.AWSRequest(
        method="POST", url="https://%s/" % host, data=body.encode(), headers=headers)
    creds = botocore.credentials.Credentials(AKID, SECRET, TOKEN if token else None)
    signer = CapturingSigV4(creds, service, region)
    with mock.patch("botocore.auth.get_current_datetime", return_value=FIXED_TIME):
        signer.add_auth(req)
    auth = req.headers["Authorization"]
    signature = auth.rsplit("Signature=", 1)[1]
    sent = [[k, v] for k, v in req.headers.items() if k != "Authorization"]
    return {
        "name": name + ("-token" if token else ""),
        "generator": "test/golden/gen_sigv4_goldens.py, botocore %s" % botocore.__version__,
        "service": service,
        "region": region,
        "time": FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "credentials": {"access_key_id": AKID, "secret_access_key": SECRET,
                        "session_token": TOKEN if token else None},
        "action": op,
        "params": [[k, v] for k, v in pairs],
        "body": body,
        "botocore_body": botocore_body,
        "headers": sent,
        "canonical_request": signer.captured_cr,
        "string_to_sign": signer.captured_sts,
        "signature": signature,
        "authorization": auth,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="compare with the committed goldens instead of writing")
    args = ap.parse_args()
    session = botocore.session.get_session()
    os.makedirs(OUT_DIR, exist_ok=True)
    stale = []
    for name, service, region, op, params in CASES:
        for token in (False, True):
            g = build(session, name, service, region, op, params, token)
            text = json.dumps(g, indent=2, ensure_ascii=True) + "\n"
            path = os.path.join(OUT_DIR, g["name"] + ".json")
            if args.check:
                # The botocore version may differ; the signed bytes may not.
                try:
                    with open(path, encoding="utf-8") as f:
                        old = json.load(f)
                except (FileNotFoundError, ValueError):
                    old = {}
                old.pop("generator", None)
                g.pop("generator", None)
                if old != g:
                    stale.append(path)
            else:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
                print("wrote", os.path.relpath(path))
    if stale:
        print("out of date:", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
