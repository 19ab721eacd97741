"""Custom::SubnetCidrReservation for multus-hookd: SubnetId, Cidr,
ReservationType (explicit|prefix), Description. PhysicalResourceId is the
reservation id. Same text as the ZipFile in cfn/subnet-cidr-reservations-lambda.yaml
(test/cfn checks). Standard library and boto3 only."""
import ipaddress
import json
import re
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

TAG = "multus-hookd/cfn-resource"
KEYS = ("SubnetId", "Cidr", "ReservationType", "Description")


def props(p):
    s, c = str(p.get("SubnetId", "")), str(p.get("Cidr", ""))
    t, d = p.get("ReservationType", "explicit"), str(p.get("Description", ""))
    if not re.fullmatch(r"subnet-[0-9a-f]{8,17}", s):
        raise ValueError(f"SubnetId {s!r}: not a subnet id")
    try:
        c = str(ipaddress.ip_network(c, strict=True))
    except ValueError as e:
        raise ValueError(f"Cidr {c!r}: not a CIDR with zero host bits ({e})") from None
    if t not in ("explicit", "prefix"):
        raise ValueError(f"ReservationType {t!r}: must be explicit or prefix")
    if len(d) > 255:
        raise ValueError("Description: longer than 255 characters")
    return s, c, t, d


def create(ec2, ev, p):
    s, c, t, d = props(p)
    key = ev["StackId"] + "|" + ev["LogicalResourceId"]
    r = ec2.get_subnet_cidr_reservations(SubnetId=s, MaxResults=1000)
    for x in r.get("SubnetIpv4CidrReservations", []) + r.get("SubnetIpv6CidrReservations", []):
        if str(ipaddress.ip_network(x["Cidr"])) != c:
            continue
        tags = {g["Key"]: g["Value"] for g in x.get("Tags", [])}
        if tags.get(TAG) == key and x["ReservationType"] == t:
            return x["SubnetCidrReservationId"]  # a retry: adopt our own
        raise ValueError(f"Cidr {c} on {s} is already reserved by "
                         f"{x['SubnetCidrReservationId']}, not by this resource")
    a = {"SubnetId": s, "Cidr": c, "ReservationType": t, "TagSpecifications": [
        {"ResourceType": "subnet-cidr-reservation", "Tags": [{"Key": TAG, "Value": key}]}]}
    if d:
        a["Description"] = d
    return ec2.create_subnet_cidr_reservation(**a)["SubnetCidrReservation"]["SubnetCidrReservationId"]


def delete(ec2, pid):
    if not pid.startswith("scr-"):
        return  # the Create failed: nothing was reserved
    try:
        ec2.delete_subnet_cidr_reservation(SubnetCidrReservationId=pid)
    except ClientError as e:
        if not e.response["Error"]["Code"].endswith("NotFound"):
            raise  # NotFound: already gone (or its subnet is)


def update(ec2, ev, pid, p, o):
    """EC2 cannot modify a reservation. A Description-only change keeps the
    reservation and its id (the description stays as created). Otherwise the
    new one is created before the old one is deleted, so the pod range is never
    unprotected; only when the two overlap in the same subnet (EC2 refuses
    overlapping reservations) is the old one deleted first."""
    if all(p.get(k) == o.get(k) for k in KEYS if k != "Description"):
        return pid
    s, c, _, _ = props(p)
    try:
        os_, oc = str(o.get("SubnetId", "")), ipaddress.ip_network(str(o.get("Cidr", "")))
        overlap = os_ == s and oc.version == ipaddress.ip_network(c).version and oc.overlaps(ipaddress.ip_network(c))
    except ValueError:
        overlap = True
    if overlap:
        delete(ec2, pid)
        return create(ec2, ev, p)
    new = create(ec2, ev, p)
    delete(ec2, pid)
    return new


def send(ev, st, why, pid, data):
    body = json.dumps({"Status": st, "Reason": why[:2000], "PhysicalResourceId": pid,
                       "StackId": ev["StackId"], "RequestId": ev["RequestId"],
                       "LogicalResourceId": ev["LogicalResourceId"], "Data": data}).encode()
    req = urllib.request.Request(ev["ResponseURL"], data=body, method="PUT",
                                 headers={"Content-Type": "", "Content-Length": str(len(body))})
    for _ in range(3):
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                return r.status
        except Exception as e:  # never log the pre-signed URL
            print("response PUT failed:", type(e).__name__)
    raise RuntimeError("could not deliver the response to CloudFormation")


def handler(ev, ctx):
    rt, p = ev["RequestType"], ev.get("ResourceProperties") or {}
    pid = ev.get("PhysicalResourceId") or ev["LogicalResourceId"] + "-not-created"
    st, why, data = "SUCCESS", "OK", {}
    try:
        ec2 = boto3.client("ec2", config=Config(
            retries={"mode": "standard", "max_attempts": 8}, connect_timeout=5, read_timeout=20))
        if rt == "Create":
            pid = create(ec2, ev, p)
        elif rt == "Update":
            props(p)  # a bad new value fails before the old one is deleted
            o = ev.get("OldResourceProperties") or {}
            pid = update(ec2, ev, pid, p, o)
        else:
            delete(ec2, pid)
        if rt != "Delete":
            data = {"ReservationId": pid, "Cidr": props(p)[1]}
    except ClientError as e:
        err = e.response["Error"]
        st, why = "FAILED", f"{rt}: {err.get('Code')}: {err.get('Message', '')}"
    except Exception as e:
        st, why = "FAILED", f"{rt}: {e}"
    print(json.dumps({"RequestType": rt, "LogicalResourceId": ev["LogicalResourceId"],
                      "PhysicalResourceId": pid, "Status": st, "Reason": why}))
    send(ev, st, why, pid, data)
