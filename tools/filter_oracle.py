#!/usr/bin/env python3
"""A second path to the match counts of tests/filters.rs.

For each case, counts the messages of the JSON Lines output (`nlscope -r CAPTURE -T json`, no
filter) that a plain Python predicate accepts, and the messages `nlscope -Y FILTER` prints; says
when they differ. The predicates read full attribute names and JSON values only, so short names,
paths, value typing and the filter's parser are checked against something that shares none of
their code. Run from the project root after `cargo build --release`:

    tools/filter_oracle.py            # every case; prints `capture | filter | count`
"""
import ipaddress
import json
import re
import subprocess
import sys

BIN = "target/release/nlscope"
_cache = {}


def messages(capture):
    if capture not in _cache:
        out = subprocess.run([BIN, "-r", capture, "-T", "json"], capture_output=True, text=True, check=True).stdout
        _cache[capture] = [json.loads(line) for line in out.splitlines()]
    return _cache[capture]


def nodes(m, under=None):
    """Every node of a message's body, depth-first (or of the nodes `under`)."""
    stack = list(reversed(under if under is not None else m.get("body", [])))
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.get("children", [])))


def named(m, name, under=None):
    return [n for n in nodes(m, under) if n["name"] == name]


def within(m, outer, inner):
    """Nodes named `inner` below a node named `outer`."""
    return [i for o in named(m, outer) for i in named(m, inner, o.get("children", []))]


def num(n):
    v = n["value"]
    return v["value"] if isinstance(v, dict) else v


def enum_name(n):
    v = n["value"]
    return v.get("name") if isinstance(v, dict) else None


def flags(n):
    v = n["value"]
    return v.get("flags", []) if isinstance(v, dict) else []


def is_error(m):
    return m.get("errno", 0) != 0


def ip_in(n, prefix):
    try:
        return ipaddress.ip_address(n["value"]) in ipaddress.ip_network(prefix)
    except (ValueError, TypeError):
        return False


E = "captures/errors_extack.pcap"
A = "captures/rtnl_addr.pcap"
S = "captures/sock_diag.pcap"
C = "captures/nf_conntrack.pcap"
X = "captures/xfrm.pcap"
T = "captures/genl_tcp_metrics.pcap"
N = "captures/rtnl_netns.pcap"
U = "captures/nlvm_uncaptured_families.pcapng"
F = "captures/fib_lookup_usersock.pcap"

# (capture, filter, predicate)
CASES = [
    # header fields
    (E, "frame == 4", lambda m: m["frame"] == 4),
    (E, "frame >= 100 and frame < 110", lambda m: 100 <= m["frame"] < 110),
    (A, "frame <= 10", lambda m: m["frame"] <= 10),
    (A, "type == RTM_NEWADDR", lambda m: m["type"] == "RTM_NEWADDR"),
    (A, "type == 20", lambda m: m["type_id"] == 20),
    (A, "type in {RTM_NEWLINK, RTM_GETLINK}", lambda m: m["type"] in ("RTM_NEWLINK", "RTM_GETLINK")),
    (A, "type != RTM_NEWADDR", lambda m: m["type"] != "RTM_NEWADDR"),
    (A, "type contains ADDR", lambda m: "ADDR" in (m["type"] or "")),
    (A, 'type matches "^RTM_(GET|DEL)"', lambda m: re.match("^RTM_(GET|DEL)", m["type"] or "") is not None),
    (A, "flags has DUMP", lambda m: "DUMP" in m["flags"]),
    (A, "flags has MULTI && !(flags has DUMP_FILTERED)", lambda m: "MULTI" in m["flags"] and "DUMP_FILTERED" not in m["flags"]),
    (A, "direction == to-kernel", lambda m: m["direction"] == "to-kernel"),
    (A, "len > 1000", lambda m: m["len"] > 1000),
    (A, "pid == 0", lambda m: m["pid"] == 0),
    (E, "seq == 1795516799", lambda m: m["seq"] == 1795516799),
    (E, "seq != 1795516799", lambda m: m["seq"] != 1795516799),
    (S, "protocol == sock_diag", lambda m: m["family"] == "sock_diag"),
    (S, "family == 0", lambda m: m["protocol"] == 0),
    (S, "protocol == SOCK_DIAG or protocol == route", lambda m: m["protocol"] in (0, 4)),
    (T, 'genl_family == "tcp_metrics"', lambda m: m.get("genl_family") == "tcp_metrics"),
    (T, "cmd == CTRL_CMD_GETFAMILY", lambda m: any(enum_name(n) == "CTRL_CMD_GETFAMILY" for n in named(m, "cmd"))),
    (T, "cmd == 1", lambda m: any(num(n) == 1 for n in named(m, "cmd"))),
    (E, "error", is_error),
    (E, "errno", lambda m: "errno" in m),
    (E, "error == EEXIST", lambda m: m.get("error_name") == "EEXIST"),
    (E, "error == -95 or errno == 22", lambda m: m.get("errno") in (95, 22)),
    (E, "not error and type == NLMSG_ERROR", lambda m: m["type"] == "NLMSG_ERROR" and not is_error(m)),
    (E, "latency > 1ms", lambda m: m.get("latency_ns", -1) > 1_000_000),
    (E, "latency < 500us", lambda m: "latency_ns" in m and m["latency_ns"] < 500_000),
    (E, "latency >= 2", lambda m: m.get("latency_ns", -1) >= 2_000_000),
    (E, "time < 0.5", lambda m: True if False else None),  # filled in below (needs the first time)
    # attributes: full names, short names, paths, existence
    (A, "IFLA_IFNAME", lambda m: bool(named(m, "IFLA_IFNAME"))),
    (A, "has ifname", lambda m: bool(named(m, "IFLA_IFNAME"))),
    (A, 'IFLA_IFNAME == "lo"', lambda m: any(n["value"] == "lo" for n in named(m, "IFLA_IFNAME"))),
    (A, 'ifname != "lo"', lambda m: not any(n["value"] == "lo" for n in named(m, "IFLA_IFNAME"))),
    (A, 'ifname contains "d"', lambda m: any("d" in n["value"] for n in named(m, "IFLA_IFNAME"))),
    (A, 'ifname matches "^d[0-9]$"', lambda m: any(re.match("^d[0-9]$", n["value"]) for n in named(m, "IFLA_IFNAME"))),
    (A, "mtu == 1500", lambda m: any(num(n) == 1500 for n in named(m, "IFLA_MTU"))),
    (A, "IFLA_MTU > 1500", lambda m: any(num(n) > 1500 for n in named(m, "IFLA_MTU"))),
    (A, "operstate == IF_OPER_UNKNOWN", lambda m: any(enum_name(n) == "IF_OPER_UNKNOWN" for n in named(m, "IFLA_OPERSTATE"))),
    (A, "ifi_flags has IFF_LOOPBACK", lambda m: any("IFF_LOOPBACK" in flags(n) for n in named(m, "ifi_flags"))),
    (A, "IFA_FLAGS has IFA_F_PERMANENT", lambda m: any("IFA_F_PERMANENT" in flags(n) for n in named(m, "IFA_FLAGS"))),
    (A, "IFA_ADDRESS in 192.0.2.0/24", lambda m: any(ip_in(n, "192.0.2.0/24") for n in named(m, "IFA_ADDRESS"))),
    (A, "IFA_ADDRESS in 2001:db8::/32", lambda m: any(ip_in(n, "2001:db8::/32") for n in named(m, "IFA_ADDRESS"))),
    (A, "IFA_ADDRESS == 127.0.0.1", lambda m: any(n["value"] == "127.0.0.1" for n in named(m, "IFA_ADDRESS"))),
    (A, "IFA_ADDRESS in fe80::/10", lambda m: any(ip_in(n, "fe80::/10") for n in named(m, "IFA_ADDRESS"))),
    (A, "IFA_ADDRESS == ::1", lambda m: any(n["value"] == "::1" for n in named(m, "IFA_ADDRESS"))),
    (A, "IFLA_ADDRESS == 00:00:00:00:00:00", lambda m: any(n["value"] == "00:00:00:00:00:00" for n in named(m, "IFLA_ADDRESS"))),
    (A, "IFLA_AF_SPEC.IFLA_INET6_FLAGS", lambda m: bool(within(m, "IFLA_AF_SPEC", "IFLA_INET6_FLAGS"))),
    (A, "af_spec.inet6.addr_gen_mode == IN6_ADDR_GEN_MODE_EUI64", lambda m: any(enum_name(n) == "IN6_ADDR_GEN_MODE_EUI64" for n in within(m, "IFLA_AF_SPEC", "IFLA_INET6_ADDR_GEN_MODE"))),
    (A, "ifa_prefixlen == 64 and ifa_family == AF_INET6", lambda m: any(num(n) == 64 for n in named(m, "ifa_prefixlen")) and any(enum_name(n) == "AF_INET6" for n in named(m, "ifa_family"))),
    (E, 'linkinfo.kind == "nosuchkind"', lambda m: any(n["value"] == "nosuchkind" for n in within(m, "IFLA_LINKINFO", "IFLA_INFO_KIND"))),
    (E, 'IFLA_LINKINFO.IFLA_INFO_KIND == "nosuchkind" and type == RTM_NEWLINK', lambda m: m["type"] == "RTM_NEWLINK" and any(n["value"] == "nosuchkind" for n in within(m, "IFLA_LINKINFO", "IFLA_INFO_KIND"))),
    (E, 'NLMSGERR_ATTR_MSG contains "not"', lambda m: any("not" in n["value"] for n in named(m, "NLMSGERR_ATTR_MSG"))),
    (E, "route.NLMSGERR_ATTR_MSG", lambda m: m["family"] == "route" and bool(named(m, "NLMSGERR_ATTR_MSG"))),
    (E, "generic.NLMSGERR_ATTR_MSG", lambda m: m["family"] == "generic" and bool(named(m, "NLMSGERR_ATTR_MSG"))),
    (E, "NLMSGERR_ATTR_OFFS >= 20", lambda m: any(num(n) >= 20 for n in named(m, "NLMSGERR_ATTR_OFFS"))),
    (S, "idiag_dport == 8001 || idiag_sport == 8001", lambda m: any(num(n) == 8001 for n in named(m, "idiag_dport") + named(m, "idiag_sport"))),
    (S, "idiag_state == TCP_LISTEN", lambda m: any(enum_name(n) == "TCP_LISTEN" for n in named(m, "idiag_state"))),
    (S, 'INET_DIAG_CONG == "cubic"', lambda m: any(n["value"] == "cubic" for n in named(m, "INET_DIAG_CONG"))),
    (S, "idiag_src in 127.0.0.0/8", lambda m: any(ip_in(n, "127.0.0.0/8") for n in named(m, "idiag_src"))),
    (C, "CTA_PROTO_NUM == 6", lambda m: any(num(n) == 6 for n in named(m, "CTA_PROTO_NUM"))),
    (C, "CTA_TUPLE_ORIG.CTA_PROTO_DST_PORT in {22, 80, 443}", lambda m: any(num(n) in (22, 80, 443) for n in within(m, "CTA_TUPLE_ORIG", "CTA_PROTO_DST_PORT"))),
    (C, "CTA_IP_V4_SRC in 192.0.2.0/24", lambda m: any(ip_in(n, "192.0.2.0/24") for n in named(m, "CTA_IP_V4_SRC"))),
    (C, "CTA_STATUS has IPS_ASSURED", lambda m: any("IPS_ASSURED" in flags(n) for n in named(m, "CTA_STATUS"))),
    (C, "CTA_PROTOINFO_TCP_STATE == TCP_CONNTRACK_ESTABLISHED", lambda m: any(enum_name(n) == "TCP_CONNTRACK_ESTABLISHED" for n in named(m, "CTA_PROTOINFO_TCP_STATE"))),
    (C, "CTA_TIMEOUT <= 120 and CTA_TIMEOUT > 0", lambda m: any(0 < num(n) <= 120 for n in named(m, "CTA_TIMEOUT"))),
    (X, "XFRMA_IF_ID == 0x7", lambda m: any(num(n) == 7 for n in named(m, "XFRMA_IF_ID"))),
    (X, "type == XFRM_MSG_NEWSA and flags has MULTI", lambda m: m["type"] == "XFRM_MSG_NEWSA" and "MULTI" in m["flags"]),
    (T, "tcp_metrics.TCP_METRICS_ATTR_ADDR_IPV4", lambda m: m.get("genl_family") == "tcp_metrics" and bool(named(m, "TCP_METRICS_ATTR_ADDR_IPV4"))),
    (T, "nlctrl.CTRL_ATTR_FAMILY_NAME == \"tcp_metrics\"", lambda m: m.get("genl_family") == "nlctrl" and any(n["value"] == "tcp_metrics" for n in named(m, "CTRL_ATTR_FAMILY_NAME"))),
    (T, "TCP_METRICS_ATTR_VALS.TCP_METRIC_RTT_US > 100", lambda m: any(num(n) > 100 for n in within(m, "TCP_METRICS_ATTR_VALS", "TCP_METRIC_RTT_US"))),
    (N, "type == RTM_NEWNSID and NETNSA_NSID >= 0", lambda m: m["type"] == "RTM_NEWNSID" and any(num(n) >= 0 for n in named(m, "NETNSA_NSID"))),
    (U, "protocol == audit", lambda m: m["family"] == "audit"),
    (U, 'ACTION == "add"', lambda m: any(n["value"] == "add" for n in named(m, "ACTION"))),
    (U, 'audit.comm contains "ip"', lambda m: m["family"] == "audit" and any("ip" in n["value"] for n in named(m, "comm"))),
    (F, "fl_addr == 192.0.2.1 or fl_addr == 127.0.0.1", lambda m: any(n["value"] in ("192.0.2.1", "127.0.0.1") for n in named(m, "fl_addr"))),
    # operators combined
    (E, "(error || type == RTM_NEWLINK) && not direction == to-user", lambda m: (is_error(m) or m["type"] == "RTM_NEWLINK") and m["direction"] != "to-user"),
    (A, "not (IFLA_IFNAME or IFA_ADDRESS)", lambda m: not named(m, "IFLA_IFNAME") and not named(m, "IFA_ADDRESS")),
]


def first_time_pred():
    msgs = messages(E)
    t0 = msgs[0]["time"]

    def secs(t):
        # RFC 3339 with nanoseconds; the date part is the same throughout the capture.
        h, mi, s = t[11:-1].split(":")
        return int(h) * 3600 + int(mi) * 60 + float(s)

    base = secs(t0)
    return lambda m: secs(m["time"]) - base < 0.5


def main():
    failed = 0
    for capture, flt, pred in CASES:
        if flt == "time < 0.5":
            pred = first_time_pred()
        want = sum(1 for m in messages(capture) if pred(m))
        out = subprocess.run([BIN, "-r", capture, "-T", "json", "-Y", flt], capture_output=True, text=True)
        if out.returncode != 0:
            print(f"FAIL {capture} | {flt} | nlscope: {out.stderr.strip()}")
            failed += 1
            continue
        got = len(out.stdout.splitlines())
        mark = "ok  " if got == want else "FAIL"
        failed += got != want
        print(f"{mark} {capture} | {flt} | {want}" + ("" if got == want else f" (nlscope {got})"))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
