"""EC2 behaviour the way AWS behaves, patched into moto 5.2.1.

Addresses: an address is "in use" when any network interface of the subnet holds it
(primary or secondary IPv4, IPv6) or moto's subnet registry gives it to a live instance.
Automatic assignment takes the lowest free address of the subnet, skipping AWS's reserved
addresses (the first four and the last), addresses in use, and every subnet CIDR
reservation (explicit and prefix); explicit addresses may still be given by hand.
IPv6 works the same way in the subnet's first IPv6 CIDR (first four and last reserved).

Everything here runs with sim.lock held (moto requests are serialised by sim_core), so
the read-check-write sequences below are atomic.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import hashlib
import ipaddress
import json
from typing import Any

from sim_core import MotoMismatch, Sim, require_attr

# Maximum network interfaces per instance type (AWS's published figures). Types not
# listed fall back to moto's instance type data, then to 2.
ENI_LIMITS: dict[str, int] = {
    "t3.nano": 2,
    "t3.micro": 2,
    "t3.small": 3,
    "t3.medium": 3,
    "t3.large": 3,
    "t3.xlarge": 4,
    "t3.2xlarge": 4,
    "m5.large": 3,
    "m5.xlarge": 4,
    "m5.2xlarge": 4,
    "m5.4xlarge": 8,
    "m5.8xlarge": 8,
    "m5.12xlarge": 8,
    "m5.16xlarge": 15,
    "m5.24xlarge": 15,
    "c5.large": 3,
    "c5.xlarge": 4,
    "c5.2xlarge": 4,
    "c5.4xlarge": 8,
    "c5.9xlarge": 8,
    "c5.18xlarge": 15,
}

# DescribeNetworkInterfaces filters handled here (moto lacks them or matches the primary
# address only). Values match with AWS's * and ? wildcards.
_ENI_FILTERS = {
    "addresses.private-ip-address",
    "private-ip-address",
    "ipv6-addresses.ipv6-address",
    "ipv6-address",
    "attachment.device-index",
    "attachment.status",
    "attachment.delete-on-termination",
    "attachment.instance-id",
    "attachment.attachment-id",
    "status",
    "mac-address",
    "owner-id",
    "requester-managed",
    "source-dest-check",
    "interface-type",
}

_orig: dict[str, Any] = {}
_sim: Sim | None = None


def _err(code: str, message: str) -> Exception:
    from moto.ec2.exceptions import EC2ClientError

    return EC2ClientError(code, message)


def _truthy(v: Any) -> bool:
    return v is True or (isinstance(v, str) and v.lower() == "true")


# --- addresses ------------------------------------------------------------------


def _v4_net(subnet: Any) -> ipaddress.IPv4Network | None:
    net = getattr(subnet, "cidr", None)
    return net if isinstance(net, ipaddress.IPv4Network) else None


def _v6_net(subnet: Any) -> ipaddress.IPv6Network | None:
    for assoc in subnet.ipv6_cidr_block_associations.values():
        state = (assoc.get("ipv6CidrBlockState") or {}).get("State", "associated")
        if state == "associated" and assoc.get("ipv6CidrBlock"):
            return ipaddress.IPv6Network(assoc["ipv6CidrBlock"], strict=False)
    return None


def _usable(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> tuple[int, int]:
    """First and last assignable address: AWS reserves the first four and the last."""
    return int(net.network_address) + 4, int(net.broadcast_address) - 1


def _subnet_enis(subnet: Any) -> list[Any]:
    return [e for e in subnet.ec2_backend.enis.values() if e.subnet is not None and e.subnet.id == subnet.id]


def _live_holder(holder: Any) -> bool:
    state = getattr(holder, "_state", None)
    return not (state is not None and getattr(state, "name", "") == "terminated")


def used_v4(subnet: Any, skip_eni: Any = None) -> set[int]:
    """Every IPv4 address of the subnet held by an ENI or a live instance."""
    used: set[int] = set()
    for eni in _subnet_enis(subnet):
        if eni is skip_eni:
            continue
        for item in eni.private_ip_addresses:
            ip = item.get("PrivateIpAddress") if isinstance(item, dict) else item
            if ip:
                used.add(int(ipaddress.IPv4Address(ip)))
        if eni.private_ip_address:
            used.add(int(ipaddress.IPv4Address(eni.private_ip_address)))
    for ip, holder in subnet._subnet_ips.items():
        if _live_holder(holder):
            try:
                used.add(int(ipaddress.IPv4Address(ip)))
            except ValueError:
                pass
    return used


def used_v6(subnet: Any) -> set[int]:
    used: set[int] = set()
    for eni in _subnet_enis(subnet):
        for ip in eni.ipv6_addresses:
            if ip:
                used.add(int(ipaddress.IPv6Address(ip)))
    return used


def _reservations(subnet: Any, version: int) -> list[tuple[int, int, str]]:
    out = []
    for r in subnet._cidr_reservations:
        if r.cidr.version == version:
            out.append((int(r.cidr.network_address), int(r.cidr.broadcast_address), r.reservation_type))
    return sorted(out)


def lowest_free(subnet: Any, version: int, n: int, exclude: set[int] | None = None) -> list[int]:
    """The n lowest assignable free addresses (as ints) of the subnet's IPv4 or IPv6 CIDR.

    Raises InsufficientFreeAddressesInSubnet when fewer are free."""
    net = _v4_net(subnet) if version == 4 else _v6_net(subnet)
    if net is None:
        raise _err("InvalidParameterValue", f"Subnet {subnet.id} has no IPv{version} CIDR block")
    if n <= 0:
        return []
    first, last = _usable(net)
    used = (used_v4(subnet) if version == 4 else used_v6(subnet)) | (exclude or set())
    ranges = _reservations(subnet, version)
    out: list[int] = []
    c = first
    while c <= last and len(out) < n:
        jumped = False
        for lo, hi, _ in ranges:
            if lo <= c <= hi:
                c = hi + 1
                jumped = True
                break
        if jumped:
            continue
        if c not in used:
            out.append(c)
        c += 1
    if len(out) < n:
        raise _err(
            "InsufficientFreeAddressesInSubnet",
            f"There are not enough free addresses in subnet '{subnet.id}' to satisfy the requested number of instances.",
        )
    return out


def check_address(subnet: Any, ip: str, version: int, used: set[int], param: str) -> int:
    """Validate one address given by hand; returns it as an int."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        raise _err("InvalidParameterValue", f"Invalid value '{ip}' for {param}") from None
    net = _v4_net(subnet) if version == 4 else _v6_net(subnet)
    if addr.version != version or net is None:
        raise _err("InvalidParameterValue", f"Invalid value '{ip}' for {param}")
    if addr not in net:
        raise _err("InvalidParameterValue", f"Address {ip} does not fall within the subnet's address range")
    first, last = _usable(net)
    if not first <= int(addr) <= last:
        raise _err("InvalidParameterValue", f"Address {ip} is in subnet's reserved address range")
    if int(addr) in used:
        raise _err("InvalidIPAddress.InUse", f"The specified address is already in use: {ip}")
    return int(addr)


def _s4(i: int) -> str:
    return str(ipaddress.IPv4Address(i))


def _s6(i: int) -> str:
    return str(ipaddress.IPv6Address(i))


def available_count(subnet: Any) -> int:
    """Assignable IPv4 addresses neither in use nor in a prefix reservation."""
    net = _v4_net(subnet)
    if net is None:
        return 0
    first, last = _usable(net)
    taken = {u for u in used_v4(subnet) if first <= u <= last}
    for lo, hi, kind in _reservations(subnet, 4):
        if kind == "prefix":
            taken.update(range(max(lo, first), min(hi, last) + 1))
    return max(0, last - first + 1 - len(taken))


def eni_limit(instance_type: str) -> int:
    if instance_type in ENI_LIMITS:
        return ENI_LIMITS[instance_type]
    from moto.ec2.models.instance_types import INSTANCE_TYPES

    info = INSTANCE_TYPES.get(instance_type) or {}
    return int((info.get("NetworkInfo") or {}).get("MaximumNetworkInterfaces") or 2)


# --- model patches ------------------------------------------------------------------


def _backend_create_eni(self: Any, subnet: Any, private_ip_address: Any, private_ip_addresses: Any = None,
                        group_ids: Any = None, description: Any = None, tags: Any = None,
                        delete_on_termination: Any = False, **kwargs: Any) -> Any:
    """moto's create_network_interface with lowest-free assignment for internal callers
    (instance launch, CloudFormation) that give no address."""
    sub = self.get_subnet(subnet) if isinstance(subnet, str) else subnet
    if sub is not None and not private_ip_address and not private_ip_addresses and _v4_net(sub) is not None:
        count = int(kwargs.pop("secondary_ips_count", None) or 0)
        ips = [_s4(i) for i in lowest_free(sub, 4, 1 + count)]
        private_ip_address = ips[0]
        private_ip_addresses = [{"Primary": True, "PrivateIpAddress": ips[0]}] + [
            {"Primary": False, "PrivateIpAddress": ip} for ip in ips[1:]
        ]
    v6count = int(kwargs.get("ipv6_address_count") or 0)
    if sub is not None and v6count and _v6_net(sub) is not None:
        have = list(kwargs.get("ipv6_addresses") or [])
        excl = {int(ipaddress.IPv6Address(a)) for a in have}
        kwargs["ipv6_addresses"] = have + [_s6(i) for i in lowest_free(sub, 6, v6count, excl)]
        kwargs["ipv6_address_count"] = 0
    return _orig["create_network_interface"](
        self, sub, private_ip_address, private_ip_addresses, group_ids=group_ids,
        description=description, tags=tags, delete_on_termination=delete_on_termination, **kwargs)


def _network_interfaces(self: Any) -> list[Any]:
    """A terminated instance reports no network interfaces, as on AWS."""
    if self._state.name == "terminated":
        return []
    return list(self.nics.values())


def _get_available_subnet_ip(self: Any, instance: Any) -> str:
    ip = _s4(lowest_free(self, 4, 1)[0])
    self._subnet_ips[ip] = instance
    return ip


def _request_ip(self: Any, ip: str, instance: Any) -> None:
    if _v4_net(self) is not None:
        check_address(self, ip, 4, used_v4(self), "PrivateIpAddress")
    self._unused_ips.discard(ip)
    self._subnet_ips[ip] = instance


def _available_ip_address_count(self: Any) -> int:
    return available_count(self)


def _create_cidr_reservation(self: Any, reservation_type: str, cidr_block: Any, tag_specifications: Any = None) -> Any:
    from moto.ec2.exceptions import (
        InvalidCidrReservationNotWithinSubnetCidr,
        InvalidCidrReservationOverlapExisting,
    )
    from moto.ec2.models.subnets import SubnetCidrReservation
    from moto.ec2.utils import random_subnet_cidr_reservation_id

    if not self._cidr_within_subnet_cidr_blocks(cidr_block):
        raise InvalidCidrReservationNotWithinSubnetCidr(str(self.cidr))
    if self._cidr_overlaps_with_existing_reservation(cidr_block):
        raise InvalidCidrReservationOverlapExisting(str(cidr_block))
    res = SubnetCidrReservation(
        ec2_backend=self.ec2_backend,
        subnet_id=self.id,
        cidr=cidr_block,
        reservation_type=reservation_type,  # type: ignore[arg-type]
        owner_id=self.owner_id,
        tag_specifications=tag_specifications,
        subnet_cidr_reservation_id=random_subnet_cidr_reservation_id(),
    )
    res.description = ""
    tags: dict[str, str] = {}
    for spec in tag_specifications or []:
        for t in spec.get("Tags") or spec.get("Tag") or []:
            tags[t["Key"]] = t.get("Value", "")
    if tags:
        res.add_tags(tags)
    # Unlike moto, no per-address bookkeeping: the allocator reads _cidr_reservations
    # (an IPv6 /64 reservation would otherwise enumerate 2**64 addresses).
    self._cidr_reservations.append(res)
    return res


def _delete_subnet_cidr_reservation(self: Any, reservation_id: str) -> Any:
    for i, res in enumerate(self._cidr_reservations):
        if res.id == reservation_id:
            return self._cidr_reservations.pop(i)
    return None


def _backend_attach(self: Any, eni_id: str, instance_id: str, device_index: Any) -> Any:
    eni = self.get_network_interface(eni_id)
    instance = self.get_instance(instance_id)
    if device_index is None or device_index == "":
        raise _err("MissingParameter", "The request must contain the parameter deviceIndex")
    try:
        idx = int(device_index)
    except (TypeError, ValueError):
        raise _err("InvalidParameterValue", f"Invalid value '{device_index}' for deviceIndex") from None
    if idx < 0:
        raise _err("InvalidParameterValue", f"Invalid value '{idx}' for deviceIndex")
    state = instance._state.name
    if state in ("terminated", "shutting-down"):
        raise _err("IncorrectInstanceState",
                   f"The {state} instance '{instance.id}' is not in a valid state for this operation.")
    if eni.instance is not None or eni.attachment_id:
        raise _err("InvalidNetworkInterface.InUse", f"Interface: [{eni.id}] in use.")
    if eni.subnet.availability_zone != instance._placement.zone:
        raise _err(
            "InvalidParameterCombination",
            f"You may not attach a network interface to an instance if they are not in the same "
            f"availability zone (interface {eni.subnet.availability_zone}, instance {instance._placement.zone})",
        )
    if idx in instance.nics:
        raise _err("InvalidParameterValue",
                   f"Instance '{instance.id}' already has an interface attached at device index '{idx}'.")
    limit = eni_limit(instance.instance_type)
    if len(instance.nics) + 1 > limit:
        raise _err("AttachmentLimitExceeded",
                   f"Interface count {len(instance.nics) + 1} exceeds the limit for {instance.instance_type}")
    instance.attach_eni(eni, idx)
    eni.delete_on_termination = False  # an attachment made by the API starts without it
    return eni.attachment


def _backend_detach(self: Any, attachment_id: str) -> None:
    from moto.ec2.exceptions import InvalidNetworkAttachmentIdError, LastEniDetachError

    for eni in self.enis.values():
        if eni.attachment_id == attachment_id:
            if eni.device_index == 0:
                raise LastEniDetachError()
            eni.instance.detach_eni(eni)
            eni.delete_on_termination = False
            return
    raise InvalidNetworkAttachmentIdError(attachment_id)


def _backend_assign_private(self: Any, eni_id: str, private_ip_addresses: Any = None,
                            secondary_ips_count: Any = None) -> Any:
    eni = self.get_network_interface(eni_id)
    subnet = eni.subnet
    if private_ip_addresses:
        used = used_v4(subnet)
        for ip in private_ip_addresses:
            used.add(check_address(subnet, ip, 4, used, "PrivateIpAddress"))
        eni.private_ip_addresses.extend({"Primary": False, "PrivateIpAddress": ip} for ip in private_ip_addresses)
        return eni
    n = int(secondary_ips_count or 0)
    for i in lowest_free(subnet, 4, n):
        eni.private_ip_addresses.append({"Primary": False, "PrivateIpAddress": _s4(i)})
    return eni


def _backend_assign_ipv6(self: Any, eni_id: str, ipv6_addresses: Any = None, ipv6_count: Any = None) -> Any:
    eni = self.get_network_interface(eni_id)
    subnet = eni.subnet
    if _v6_net(subnet) is None:
        raise _err("InvalidParameterValue",
                   f"You cannot assign IPv6 addresses: subnet {subnet.id} has no IPv6 CIDR block")
    if ipv6_addresses and ipv6_count:
        raise _err("InvalidParameterCombination", "Ipv6Addresses and Ipv6AddressCount are mutually exclusive")
    if ipv6_addresses:
        used = used_v6(subnet)
        for ip in ipv6_addresses:
            used.add(check_address(subnet, ip, 6, used, "Ipv6Addresses"))
        eni.ipv6_addresses.extend(str(ipaddress.IPv6Address(ip)) for ip in ipv6_addresses)
        return eni
    for i in lowest_free(subnet, 6, int(ipv6_count or 0)):
        eni.ipv6_addresses.append(_s6(i))
    return eni


def _prep_nics(self: Any, nic_spec: Any, *args: Any, **kwargs: Any) -> Any:
    before = set(self.ec2_backend.enis)
    result = _orig["prep_nics"](self, nic_spec, *args, **kwargs)
    specs = {int(s.get("DeviceIndex", 0)): s for s in (nic_spec or [])}
    for idx, nic in self.nics.items():
        if nic.id in before:
            continue  # an existing ENI given by id keeps its own setting
        spec = specs.get(idx, {})
        if "DeleteOnTermination" in spec:
            nic.delete_on_termination = _truthy(spec["DeleteOnTermination"])
        else:
            nic.delete_on_termination = True  # AWS's default for ENIs created at launch
    return result


def _terminate(self: Any) -> Any:
    """Terminate like AWS: ENIs with DeleteOnTermination are deleted, the others are
    detached and become available. The primary ENI stays referenced by the instance so
    moto can still describe the terminated instance."""
    if self._state.name == "terminated":
        return _orig["terminate"](self)
    nics = dict(self.nics)
    self.nics = {}
    try:
        previous = _orig["terminate"](self)
    finally:
        self.nics = nics
    backend = self.ec2_backend
    for idx, nic in list(nics.items()):
        nic.stop()
        if nic.delete_on_termination:
            backend.enis.pop(nic.id, None)
            for item in nic.private_ip_addresses:
                nic.subnet.del_subnet_ip(item.get("PrivateIpAddress"))
            nic.status = "deleted"
        else:
            nic.instance = None
            nic.attachment_id = None
            nic.attach_time = None
            nic.device_index = None
            nic.status = "available"
        if idx != 0:
            del self.nics[idx]
    for ip in list(self._private_ips) if hasattr(self, "_private_ips") else []:
        if self.subnet_id:
            try:
                backend.get_subnet(self.subnet_id).del_subnet_ip(ip)
            except Exception:
                pass
    return previous


# --- response patches --------------------------------------------------------------


def _fingerprint(resp: Any) -> str:
    items = sorted(
        (k, v) for k, v in resp.querystring.items() if k not in ("ClientToken", "Action", "Version", "DryRun")
    )
    return hashlib.sha256(json.dumps(items).encode()).hexdigest()


def _tokens(backend: Any) -> dict[str, tuple[str, Any]]:
    d = getattr(backend, "_sim_client_tokens", None)
    if d is None:
        d = {}
        backend._sim_client_tokens = d
    return d


def _resp_create_eni(self: Any) -> Any:
    from moto.core.responses import ActionResult
    from moto.ec2.utils import add_tag_specification

    backend = self.ec2_backend
    token = self._get_param("ClientToken")
    if token:
        if len(token) > 64:
            raise _err("InvalidParameterValue", "ClientToken must be at most 64 characters")
        hit = _tokens(backend).get(token)
        if hit is not None:
            if hit[0] != _fingerprint(self):
                raise _err("IdempotentParameterMismatch",
                           f"The client token '{token}' was already used with different parameters.")
            return ActionResult({"NetworkInterface": hit[1], "ClientToken": token})

    subnet = backend.get_subnet(self._get_param("SubnetId"))
    primary = self._get_param("PrivateIpAddress")
    listed = self._get_param("PrivateIpAddresses", []) or []
    count = self._get_int_param("SecondaryPrivateIpAddressCount", 0) or 0
    v6_listed = [i["Ipv6Address"] for i in (self._get_param("Ipv6Addresses", []) or [])]
    v6_count = self._get_int_param("Ipv6AddressCount", 0) or 0
    groups = self._get_param("Groups", []) or []
    description = self._get_param("Description")
    tags = add_tag_specification(self._get_param("TagSpecifications", []))

    if count < 0 or v6_count < 0:
        raise _err("InvalidParameterValue", "Address counts must not be negative")
    if v6_listed and v6_count:
        raise _err("InvalidParameterCombination", "Ipv6Addresses and Ipv6AddressCount are mutually exclusive")
    if (v6_listed or v6_count) and _v6_net(subnet) is None:
        raise _err("InvalidParameterValue",
                   f"You cannot assign IPv6 addresses: subnet {subnet.id} has no IPv6 CIDR block")
    for gid in groups:
        if backend.get_security_group_from_id(gid) is None:
            raise _err("InvalidGroup.NotFound", f"The security group '{gid}' does not exist")

    explicit: list[tuple[str, bool]] = []
    if primary:
        explicit.append((primary, True))
    for item in listed:
        ip = item.get("PrivateIpAddress")
        if not ip or ip == primary:
            continue
        explicit.append((ip, _truthy(item.get("Primary")) and not primary))
    if sum(1 for _, p in explicit if p) > 1:
        raise _err("InvalidParameterValue", "Only one primary private IP address may be given")
    used = used_v4(subnet)
    taken: set[int] = set()
    for ip, _ in explicit:
        n = check_address(subnet, ip, 4, used | taken, "PrivateIpAddress")
        if n in taken:
            raise _err("InvalidParameterValue", f"Address {ip} is given more than once")
        taken.add(n)
    autos = lowest_free(subnet, 4, (0 if explicit else 1) + count, taken)
    if explicit:
        first = next((ip for ip, p in explicit if p), explicit[0][0])
        rest = [ip for ip, _ in explicit if ip != first] + [_s4(i) for i in autos]
    else:
        first, rest = _s4(autos[0]), [_s4(i) for i in autos[1:]]
    addresses = [{"Primary": True, "PrivateIpAddress": first}] + [
        {"Primary": False, "PrivateIpAddress": ip} for ip in rest
    ]

    v6: list[str] = []
    if v6_listed:
        used6 = used_v6(subnet)
        for ip in v6_listed:
            n = check_address(subnet, ip, 6, used6, "Ipv6Addresses")
            used6.add(n)
            v6.append(_s6(n))
    elif v6_count:
        v6 = [_s6(i) for i in lowest_free(subnet, 6, v6_count)]

    self.error_on_dryrun()
    eni = backend.create_network_interface(
        subnet, first, addresses, groups, description, tags, ipv6_addresses=v6)
    result: dict[str, Any] = {"NetworkInterface": eni}
    if token:
        _tokens(backend)[token] = (_fingerprint(self), eni)
        result["ClientToken"] = token
    return ActionResult(result)


def _resp_delete_eni(self: Any) -> Any:
    from moto.core.responses import EmptyResult

    eni_id = self._get_param("NetworkInterfaceId")
    self.error_on_dryrun()
    eni = self.ec2_backend.get_network_interface(eni_id)
    if eni.instance is not None or eni.attachment_id:
        raise _err("InvalidNetworkInterface.InUse", f"The network interface '{eni.id}' is currently in use.")
    self.ec2_backend.delete_network_interface(eni_id)
    for item in eni.private_ip_addresses:
        eni.subnet.del_subnet_ip(item.get("PrivateIpAddress"))
    eni.status = "deleted"
    return EmptyResult()


def _resp_modify_eni(self: Any) -> Any:
    from moto.core.responses import EmptyResult

    att = self._get_param("Attachment") or {}
    if isinstance(att, dict) and att:
        eni = self.ec2_backend.get_network_interface(self._get_param("NetworkInterfaceId"))
        att_id = att.get("AttachmentId")
        if not att_id:
            raise _err("MissingParameter", "The request must contain the parameter attachment.attachmentId")
        if eni.attachment_id != att_id:
            raise _err("InvalidAttachmentID.NotFound",
                       f"The network interface attachment ID '{att_id}' does not exist")
        if "DeleteOnTermination" in att:
            self.error_on_dryrun()
            eni.delete_on_termination = _truthy(att["DeleteOnTermination"])
        others = [self._get_param(k) for k in ("Groups", "SourceDestCheck", "Description")]
        if not any(others):
            return EmptyResult()
    return _orig["resp_modify"](self)


def _match(values: list[str], have: list[str], v6: bool = False) -> bool:
    if v6:
        norm = []
        for v in values:
            try:
                norm.append(str(ipaddress.IPv6Address(v)))
            except ValueError:
                norm.append(v)
        values = norm
    return any(fnmatch.fnmatchcase(h, v) for h in have for v in values)


def _eni_filter_values(eni: Any, name: str) -> list[str]:
    attached = eni.attachment_id is not None
    if name in ("addresses.private-ip-address", "private-ip-address"):
        return [a.get("PrivateIpAddress") for a in eni.private_ip_addresses if a.get("PrivateIpAddress")]
    if name in ("ipv6-addresses.ipv6-address", "ipv6-address"):
        return [str(ipaddress.IPv6Address(a)) for a in eni.ipv6_addresses if a]
    if name == "attachment.device-index":
        return [str(eni.device_index)] if attached and eni.device_index is not None else []
    if name == "attachment.status":
        return ["attached"] if attached else []
    if name == "attachment.delete-on-termination":
        return [str(bool(eni.delete_on_termination)).lower()] if attached else []
    if name == "attachment.instance-id":
        return [eni.instance.id] if attached and eni.instance is not None else []
    if name == "attachment.attachment-id":
        return [eni.attachment_id] if attached else []
    if name == "status":
        return [eni.status]
    if name == "mac-address":
        return [eni.mac_address]
    if name == "owner-id":
        return [eni.owner_id]
    if name == "requester-managed":
        return [str(bool(eni.requester_managed)).lower()]
    if name == "source-dest-check":
        return [str(bool(eni.source_dest_check)).lower()]
    if name == "interface-type":
        return [eni.interface_type]
    return []


def _encode_token(last_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last_id}).encode()).decode()


def _decode_token(token: str) -> str:
    try:
        return str(json.loads(base64.urlsafe_b64decode(token.encode()))["after"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise _err("InvalidParameterValue", f"Invalid value '{token}' for NextToken") from None


def _resp_describe_enis(self: Any) -> Any:
    from moto.core.responses import ActionResult

    eni_ids = self._get_param("NetworkInterfaceIds", []) or []
    filters = self._filters_from_querystring() or {}
    max_results = self._get_int_param("MaxResults")
    token = self._get_param("NextToken")
    self.error_on_dryrun()
    if max_results is not None:
        if eni_ids:
            raise _err("InvalidParameterCombination",
                       "The parameter NetworkInterfaceIds cannot be used with the parameter MaxResults")
        if not 5 <= max_results <= 1000:
            raise _err("InvalidParameterValue",
                       f"Value ( {max_results} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.")
    ours = {k: filters.pop(k) for k in list(filters) if k in _ENI_FILTERS}
    enis = self.ec2_backend.get_all_network_interfaces(eni_ids, filters or None)
    for name, values in ours.items():
        v6 = name.startswith("ipv6")
        enis = [e for e in enis if _match(list(values), _eni_filter_values(e, name), v6)]
    enis = sorted(enis, key=lambda e: e.id)
    if token:
        after = _decode_token(token)
        enis = [e for e in enis if e.id > after]
    result: dict[str, Any] = {}
    if max_results is not None and len(enis) > max_results:
        enis = enis[:max_results]
        result["NextToken"] = _encode_token(enis[-1].id)
    result["NetworkInterfaces"] = enis
    return ActionResult(result)


def _resp_create_cidr_reservation(self: Any) -> Any:
    result = _orig["resp_create_reservation"](self)
    desc = self._get_param("Description")
    if desc:
        res = result.result["SubnetCidrReservation"] if hasattr(result, "result") else None
        if res is not None:
            res.description = desc
    return result


def _ec2_denied(sim: Sim, req: Any, resp: Any) -> Any:
    """moto answers an IAM denial with AccessDenied; EC2 says UnauthorizedOperation."""
    if req.service == "ec2" and resp.status == 403 and resp.error_code == "AccessDenied":
        from sim_core import aws_error

        return aws_error(req, 403, "UnauthorizedOperation", "You are not authorized to perform this operation.")
    return resp


def _ipv6_cidr_block_association_set(self: Any) -> list[dict[str, Any]]:
    """moto nests its state dict in another one, so DescribeSubnets says
    <state>{'State': 'associated'}</state>; AWS says <state>associated</state>."""
    return [
        {"ipv6CidrBlock": a["ipv6CidrBlock"], "associationId": a["associationId"],
         "ipv6CidrBlockState": {"state": a["ipv6CidrBlockState"]["State"]}}
        for a in self.ipv6_cidr_block_associations.values()
        if a["ipv6CidrBlockState"]["State"] == "associated"
    ]


# --- plugin entry points -----------------------------------------------------------

_PATCHES: list[tuple[str, str, str, list[str] | None, Any, str]] = [
    # (module, class, attribute, expected parameters, replacement, key in _orig)
    ("moto.ec2.models.elastic_network_interfaces", "NetworkInterfaceBackend", "create_network_interface",
     ["subnet", "private_ip_address", "private_ip_addresses", "group_ids", "description", "tags",
      "delete_on_termination"], _backend_create_eni, "create_network_interface"),
    ("moto.ec2.models.elastic_network_interfaces", "NetworkInterfaceBackend", "attach_network_interface",
     ["eni_id", "instance_id", "device_index"], _backend_attach, "attach"),
    ("moto.ec2.models.elastic_network_interfaces", "NetworkInterfaceBackend", "detach_network_interface",
     ["attachment_id"], _backend_detach, "detach"),
    ("moto.ec2.models.elastic_network_interfaces", "NetworkInterfaceBackend", "assign_private_ip_addresses",
     ["eni_id", "private_ip_addresses", "secondary_ips_count"], _backend_assign_private, "assign_private"),
    ("moto.ec2.models.elastic_network_interfaces", "NetworkInterfaceBackend", "assign_ipv6_addresses",
     ["eni_id", "ipv6_addresses", "ipv6_count"], _backend_assign_ipv6, "assign_ipv6"),
    ("moto.ec2.models.subnets", "Subnet", "get_available_subnet_ip", ["instance"], _get_available_subnet_ip,
     "get_available_subnet_ip"),
    ("moto.ec2.models.subnets", "Subnet", "request_ip", ["ip", "instance"], _request_ip, "request_ip"),
    ("moto.ec2.models.subnets", "Subnet", "create_cidr_reservation",
     ["reservation_type", "cidr_block", "tag_specifications"], _create_cidr_reservation, "create_cidr_reservation"),
    ("moto.ec2.models.subnets", "Subnet", "delete_subnet_cidr_reservation", ["reservation_id"],
     _delete_subnet_cidr_reservation, "delete_subnet_cidr_reservation"),
    ("moto.ec2.models.instances", "Instance", "prep_nics", ["nic_spec", "private_ip", "associate_public_ip"],
     _prep_nics, "prep_nics"),
    ("moto.ec2.models.instances", "Instance", "terminate", [], _terminate, "terminate"),
    ("moto.ec2.models.instances", "Instance", "attach_eni", ["eni", "device_index"], None, "attach_eni"),
    ("moto.ec2.models.instances", "Instance", "detach_eni", ["eni"], None, "detach_eni"),
    ("moto.ec2.responses.elastic_network_interfaces", "ElasticNetworkInterfaces", "create_network_interface", [],
     _resp_create_eni, "resp_create"),
    ("moto.ec2.responses.elastic_network_interfaces", "ElasticNetworkInterfaces", "delete_network_interface", [],
     _resp_delete_eni, "resp_delete"),
    ("moto.ec2.responses.elastic_network_interfaces", "ElasticNetworkInterfaces",
     "modify_network_interface_attribute", [], _resp_modify_eni, "resp_modify"),
    ("moto.ec2.responses.elastic_network_interfaces", "ElasticNetworkInterfaces", "describe_network_interfaces",
     [], _resp_describe_enis, "resp_describe"),
    ("moto.ec2.responses.subnets", "Subnets", "create_subnet_cidr_reservation", [],
     _resp_create_cidr_reservation, "resp_create_reservation"),
]


def _cls(module: str, name: str) -> Any:
    import importlib

    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as e:
        raise MotoMismatch(f"moto class {module}.{name} not found: {e}") from e


def check_moto() -> None:
    """Verify every moto attribute this plugin patches or relies on."""
    for module, cls, attr, params, _, _ in _PATCHES:
        require_attr(_cls(module, cls), attr, params)
    sub = _cls("moto.ec2.models.subnets", "Subnet")
    prop = getattr(sub, "available_ip_address_count", None)
    if not isinstance(prop, property):
        raise MotoMismatch("moto.ec2.models.subnets.Subnet.available_ip_address_count is not a property")
    if not isinstance(getattr(sub, "ipv6_cidr_block_association_set", None), property):
        raise MotoMismatch("moto.ec2.models.subnets.Subnet.ipv6_cidr_block_association_set is not a property")
    if not isinstance(getattr(_cls("moto.ec2.models.instances", "Instance"), "network_interfaces", None), property):
        raise MotoMismatch("moto.ec2.models.instances.Instance.network_interfaces is not a property")
    for attr in ("_cidr_within_subnet_cidr_blocks", "_cidr_overlaps_with_existing_reservation"):
        require_attr(sub, attr, ["cidr_to_reserve"])
    _cls("moto.ec2.models.subnets", "SubnetCidrReservation")
    _cls("moto.ec2.exceptions", "EC2ClientError")
    _cls("moto.ec2.exceptions", "LastEniDetachError")
    _cls("moto.ec2.exceptions", "InvalidNetworkAttachmentIdError")
    _cls("moto.ec2.models.instance_types", "INSTANCE_TYPES")
    _cls("moto.ec2.utils", "random_subnet_cidr_reservation_id")
    _cls("moto.ec2.utils", "add_tag_specification")
    _cls("moto.core.responses", "ActionResult")


def install(sim: Sim) -> None:
    global _sim
    _sim = sim
    for module, cls, attr, _, repl, key in _PATCHES:
        owner = _cls(module, cls)
        _orig[key] = getattr(owner, attr)
        if repl is not None:
            setattr(owner, attr, repl)
    _cls("moto.ec2.models.subnets", "Subnet").available_ip_address_count = property(_available_ip_address_count)
    _cls("moto.ec2.models.instances", "Instance").network_interfaces = property(_network_interfaces)
    _cls("moto.ec2.models.subnets", "Subnet").ipv6_cidr_block_association_set = property(
        _ipv6_cidr_block_association_set)
    sim.add_post_hook(_ec2_denied)
    sim.register_control("GET", "/_sim/ec2/eni-limits", lambda s, b, q: (200, {"limits": ENI_LIMITS}))
