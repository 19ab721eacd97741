#!/usr/bin/env python3
"""Record real moto 5.2.1 responses for the typed-call unit tests.

Starts `python3 -m moto.server` on a free loopback port, builds a VPC, subnets,
instances, ENIs, an Auto Scaling group with a hook and an SQS queue through
boto3, and writes the raw body of each response to
test/data/aws/<Action>/moto_<case>.{xml,json}. Run it by hand when the fixtures
need refreshing (ids are random, so the unit tests check shapes and the values
they themselves created: names, CIDRs, tags, counts):

    python3 test/data/aws/capture_moto.py
"""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    port = free_port()
    env = dict(os.environ)
    srv = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    url = "http://127.0.0.1:%d" % port
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/moto-api/", timeout=1)
                break
            except Exception:
                time.sleep(0.1)
        record(url)
    finally:
        srv.terminate()
        srv.wait(10)


def record(url):
    kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="AKIDTEST",
              aws_secret_access_key="secret")
    ec2 = boto3.client("ec2", **kw)
    asg = boto3.client("autoscaling", **kw)
    sts = boto3.client("sts", **kw)
    sqs = boto3.client("sqs", **kw)
    current = {}

    def hook(http_response, model, **_):
        name = current.get("name")
        if not name:
            return
        ext = "json" if model.service_model.protocol == "json" else "xml"
        d = os.path.join(HERE, model.name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "moto_%s.%s" % (name, ext)), "wb") as f:
            f.write(http_response.content)

    for c in (ec2, asg, sts, sqs):
        c.meta.events.register("after-call.*", hook)

    def rec(name, fn, **args):
        current["name"] = name
        try:
            return fn(**args)
        except Exception as e:  # error shapes are recorded too
            return e
        finally:
            current["name"] = None

    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    sub = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a",
                            TagSpecifications=[{"ResourceType": "subnet", "Tags": [
                                {"Key": "multus.io/network", "Value": "sig"}]}])["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName="g", Description="d", VpcId=vpc)["GroupId"]
    rec("by_tag", ec2.describe_subnets,
        Filters=[{"Name": "tag:multus.io/network", "Values": ["sig"]}])
    ami = ec2.describe_images()["Images"][0]["ImageId"]
    inst = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, InstanceType="m5.large",
                             SubnetId=sub)["Instances"][0]["InstanceId"]
    eni = rec("basic", ec2.create_network_interface, SubnetId=sub, Groups=[sg],
              PrivateIpAddress="10.0.1.10", SecondaryPrivateIpAddressCount=1,
              Description="multus eth1", TagSpecifications=[{
                  "ResourceType": "network-interface",
                  "Tags": [{"Key": "multus-hookd/network", "Value": "sig"},
                           {"Key": "node.k8s.amazonaws.com/no_manage", "Value": "true"}]}],
              )["NetworkInterface"]["NetworkInterfaceId"]
    att = rec("basic", ec2.attach_network_interface, NetworkInterfaceId=eni, InstanceId=inst,
              DeviceIndex=1)["AttachmentId"]
    rec("delete_on_termination", ec2.modify_network_interface_attribute,
        NetworkInterfaceId=eni, Attachment={"AttachmentId": att, "DeleteOnTermination": True})
    rec("by_instance", ec2.describe_network_interfaces,
        Filters=[{"Name": "attachment.instance-id", "Values": [inst]}])
    rec("by_id", ec2.describe_instances, InstanceIds=[inst])
    rec("not_found", ec2.describe_instances, InstanceIds=["i-0123456789abcdef0"])
    rec("m5_large", ec2.describe_instance_types, InstanceTypes=["m5.large"])
    rec("basic", ec2.create_tags, Resources=[eni], Tags=[{"Key": "k", "Value": "v"}])
    rec("basic", ec2.detach_network_interface, AttachmentId=att)
    rec("basic", ec2.delete_network_interface, NetworkInterfaceId=eni)
    rec("not_found", ec2.delete_network_interface, NetworkInterfaceId=eni)
    rec("explicit", ec2.create_subnet_cidr_reservation, SubnetId=sub, Cidr="10.0.1.128/26",
        ReservationType="explicit", Description="pods")
    res = rec("basic", ec2.get_subnet_cidr_reservations, SubnetId=sub)
    rid = res["SubnetIpv4CidrReservations"][0]["SubnetCidrReservationId"]
    rec("basic", ec2.delete_subnet_cidr_reservation, SubnetCidrReservationId=rid)

    ec2.create_launch_template(LaunchTemplateName="workers-lt", LaunchTemplateData={
        "ImageId": ami, "InstanceType": "m5.large"})
    asg.create_auto_scaling_group(AutoScalingGroupName="workers", MinSize=1, MaxSize=3,
                                  DesiredCapacity=1, VPCZoneIdentifier=sub,
                                  LaunchTemplate={"LaunchTemplateName": "workers-lt", "Version": "$Latest"})
    asg.put_lifecycle_hook(LifecycleHookName="multus", AutoScalingGroupName="workers",
                           LifecycleTransition="autoscaling:EC2_INSTANCE_LAUNCHING",
                           HeartbeatTimeout=300, DefaultResult="ABANDON",
                           NotificationMetadata="group=sig")
    rec("basic", asg.describe_auto_scaling_groups, AutoScalingGroupNames=["workers"])
    rec("basic", asg.describe_lifecycle_hooks, AutoScalingGroupName="workers")
    rec("not_implemented", asg.complete_lifecycle_action, LifecycleHookName="multus",
        AutoScalingGroupName="workers", LifecycleActionResult="CONTINUE",
        InstanceId=inst)
    rec("basic", sts.get_caller_identity)
    q = sqs.create_queue(QueueName="hooks")["QueueUrl"]
    sqs.send_message(QueueUrl=q, MessageBody=json.dumps({"Event": "x", "n": "é"}))
    rec("one", sqs.receive_message, QueueUrl=q, MaxNumberOfMessages=10, WaitTimeSeconds=0,
        MessageSystemAttributeNames=["All"])
    rec("empty", sqs.receive_message, QueueUrl=q, MaxNumberOfMessages=10, WaitTimeSeconds=0)


if __name__ == "__main__":
    main()
