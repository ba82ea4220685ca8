#!/usr/bin/env python3
"""Writes datagrams shaped like the kernel's IPVS generic-netlink answers (as
net/netfilter/ipvs/ip_vs_ctl.c and af_netlink.c build them) into a directory:
the seeds of the `ipvs_netlink` fuzz target. Independent of lvsh's own encoder,
so the seeds hold what the kernel sends and lvsh never does (stats with PAD
attributes, the FLAGS mask, counters, tunnel attributes on every destination).

usage: netlink.py DIR
"""
import ipaddress
import os
import struct
import sys

FAMILY = 0x22  # the id the IPVS family usually gets
GENL_ID_CTRL = 0x10
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_MULTI, NLM_F_CAPPED, NLM_F_ACK_TLVS = 0x2, 0x100, 0x200
AF_INET, AF_INET6 = 2, 10
NESTED = 0x8000


def attr(ty, payload):
    data = struct.pack("=HH", 4 + len(payload), ty) + payload
    return data + b"\0" * (-len(data) % 4)


def nest(ty, *attrs):
    return attr(ty | NESTED, b"".join(attrs))


def u8(ty, v):
    return attr(ty, struct.pack("=B", v))


def u16(ty, v):
    return attr(ty, struct.pack("=H", v))


def be16(ty, v):
    return attr(ty, struct.pack(">H", v))


def u32(ty, v):
    return attr(ty, struct.pack("=I", v))


def u64(ty, v):
    return attr(ty, struct.pack("=Q", v))


def string(ty, s):
    return attr(ty, s.encode() + b"\0")


def inet(ty, address):
    a = ipaddress.ip_address(address)
    return attr(ty, a.packed.ljust(16, b"\0"))


def message(ty, flags, seq, payload):
    data = struct.pack("=IHHII", 16 + len(payload), ty, flags, seq, 4242) + payload
    return data + b"\0" * (-len(data) % 4)


def genl(cmd, *attrs, seq=1, flags=NLM_F_MULTI):
    return message(FAMILY, flags, seq, struct.pack("=BBH", cmd, 1, 0) + b"".join(attrs))


def done(seq=1, errno=0):
    return message(NLMSG_DONE, NLM_F_MULTI, seq, struct.pack("=i", -errno))


def ack(seq=1, errno=0, text=None):
    request = struct.pack("=IHHII", 36, FAMILY, 5, seq, 0)
    payload = struct.pack("=i", -errno) + request
    flags = NLM_F_CAPPED
    if text is not None:
        flags |= NLM_F_ACK_TLVS
        payload += string(1, text)
    return message(NLMSG_ERROR, flags, seq, payload)


def stats(ty32, ty64, n):
    """Both nests as the kernel writes them: u32 counters (u64 bytes) and all u64,
    each u64 after a PAD attribute (nla_put_u64_64bit)."""
    vals = [n * k + 1 for k in range(1, 11)]
    small = []
    big = []
    for i, v in enumerate(vals, start=1):
        if i in (4, 5):
            small += [attr(11, b""), u64(i, v)]
        else:
            small.append(u32(i, v))
        big += [attr(11, b""), u64(i, v)]
    return nest(ty32, *small) + nest(ty64, *big)


def service(af, sched, proto=6, addr=None, port=0, fwmark=None, flags=0, timeout=0,
            netmask=None, pe=None, n=1):
    attrs = [u16(1, af)]
    if fwmark is not None:
        attrs.append(u32(5, fwmark))
    else:
        attrs += [u16(2, proto), inet(3, addr), be16(4, port)]
    attrs.append(string(6, sched))
    if pe:
        attrs.append(string(11, pe))
    attrs += [attr(7, struct.pack("=II", flags | 0x2, 0xFFFFFFFF)), u32(8, timeout)]
    if netmask is None:
        netmask = 0xFFFFFFFF if af == AF_INET else 128
    attrs.append(attr(9, struct.pack(">I", netmask) if af == AF_INET else struct.pack("=I", netmask)))
    attrs.append(stats(10, 12, n))
    return genl(1, nest(1, *attrs))


def dest(af, addr, port, method=0, weight=1, tun=(0, 0, 0), uth=0, lth=0, n=1):
    return genl(5, nest(
        2,
        inet(1, addr), be16(2, port), u32(3, method), u32(4, weight),
        u8(13, tun[0]), be16(14, tun[1]), u16(15, tun[2]),
        u32(5, uth), u32(6, lth), u32(7, n), u32(8, n + 1), u32(9, n + 2),
        stats(10, 12, n), u16(11, af),
    ))


def daemon(state, ifn, syncid=0, maxlen=1472, group=None, port=8848, ttl=1):
    attrs = [u32(1, state), string(2, ifn), u32(3, syncid), u16(4, maxlen)]
    if group and ":" in group:
        attrs.append(attr(6, ipaddress.ip_address(group).packed))
    else:
        attrs.append(attr(5, ipaddress.ip_address(group or "224.0.0.81").packed))
    attrs += [u16(7, port), u8(8, ttl)]
    return genl(9, nest(3, *attrs))


SEEDS = {
    "family": message(GENL_ID_CTRL, 0, 1, struct.pack("=BBH", 1, 2, 0)
                      + u16(1, FAMILY) + string(2, "IPVS") + u32(3, 1) + u32(4, 0)
                      + u32(5, 17)) + ack(),
    "family_unknown": ack(errno=2),
    "info": genl(14, u32(1, 0x010201), u32(2, 4096), flags=0) + ack(),
    "config": genl(12, u32(4, 900), u32(5, 120), u32(6, 300), flags=0) + ack(),
    "services": b"".join([
        service(AF_INET, "wlc", 6, "192.168.10.120", 80),
        service(AF_INET, "rr", 17, "192.168.10.120", 53, flags=0x1 | 0x4, timeout=300,
                netmask=0xFFFFFF00, n=2),
        service(AF_INET, "sh", 132, "10.0.0.1", 0, flags=0x1 | 0x8 | 0x10, timeout=600),
        service(AF_INET6, "mh", 6, "2001:db8::10", 443, flags=0x1 | 0x8, timeout=60,
                netmask=64, pe="sip"),
        service(AF_INET, "wrr", fwmark=10, flags=0x1, timeout=1200),
        service(AF_INET6, "lblcr", fwmark=0xFFFFFFFF),
        done(),
    ]),
    "dests": b"".join([
        dest(AF_INET, "192.168.10.11", 80, 3, 1),
        dest(AF_INET, "192.168.10.12", 8080, 0, 5, uth=100, lth=10, n=3),
        dest(AF_INET, "10.1.0.1", 80, 2, 0, tun=(1, 6080, 1)),
        dest(AF_INET, "10.1.0.2", 80, 2, 2, tun=(2, 0, 2)),
        dest(AF_INET6, "2001:db8::11", 443, 2, 1, tun=(0, 0, 0)),
        dest(AF_INET, "127.0.0.1", 80, 1, 1),
        done(),
    ]),
    "daemons": daemon(1, "eth0", 7) + daemon(2, "eth1", 255, 1400, "ff02::1:2", 8849, 4) + done(),
    "acks": ack(1) + ack(2, 17) + ack(3, 2, "kernel text") + ack(4, 22) + ack(5, 1),
    "dump_failed": done(errno=16),
    "noop": message(1, 0, 1, b"") + message(4, 0, 1, b""),
}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
