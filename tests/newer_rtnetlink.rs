//! rtnetlink attributes, struct members and array entries added to the kernel after Linux 6.1
//! (whose headers the specs follow), decoded from the public captures of newer kernels in
//! ../shared/captures/public (SOURCES.md): IFLA_DEVLINK_PORT (6.2), IFLA_GSO/GRO_IPV4_MAX_SIZE
//! (6.3), IFLA_DPLL_PIN (6.7), IFLA_MAX_PACING_OFFLOAD_HORIZON (6.13), IFLA_NETNS_IMMUTABLE (6.15),
//! IFLA_HEADROOM/TAILROOM (6.18), IFLA_BR_FDB_N_LEARNED/MAX_LEARNED (6.7), IFLA_MCTP_PHYS_BINDING
//! (6.13), DEVCONF_FORCE_FORWARDING (6.17) and IPSTATS_MIB_OUTPKTS "OutTransmits" (6.7, 6.6.24).
//! Skipped when ../shared is absent.

mod common;

use common::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn public() -> Option<PathBuf> {
    shared_captures().map(|p| p.join("public"))
}

/// The rtnetlink messages of a capture, as JSON; none may hold an unknown or malformed node.
fn route_lines(path: &Path) -> Vec<Value> {
    let out = bin().arg("-r").arg(path).args(["-T", "json"]).output().unwrap();
    assert!(out.status.success(), "{}: {}", path.display(), stderr(&out));
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l["protocol"] == 0)
        .collect();
    assert!(!lines.is_empty(), "{}", path.display());
    for l in &lines {
        assert!(!json_has_problem(&l["body"]), "{}: {l}", path.display());
    }
    lines
}

/// The top-level attribute `name` of a message body.
fn top<'a>(body: &'a Value, name: &str) -> Option<&'a Value> {
    body.as_array().unwrap().iter().find(|n| n["name"] == name)
}

/// (attribute number, wire type, value) of a node.
fn attr(n: &Value) -> (u64, &str, &Value) {
    (n["attr"].as_u64().unwrap(), n["kind"].as_str().unwrap(), &n["value"])
}

/// The names of a struct node's members, in order.
fn member_names(n: &Value) -> Vec<&str> {
    n["children"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect()
}

fn member<'a>(n: &'a Value, name: &str) -> &'a Value {
    n["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .map(|c| &c["value"])
        .unwrap_or_else(|| panic!("no {name} in {n}"))
}

/// Per interface name, the values of the given top-level attributes of its RTM_NEWLINK messages
/// that carry them (every message of one interface must agree).
fn per_interface(lines: &[Value], attrs: &[&str]) -> BTreeMap<String, Vec<Value>> {
    let mut out = BTreeMap::new();
    for l in lines.iter().filter(|l| l["type"] == "RTM_NEWLINK") {
        let body = &l["body"];
        let Some(name) = top(body, "IFLA_IFNAME") else { continue };
        if top(body, attrs[0]).is_none() {
            continue;
        }
        let values: Vec<Value> =
            attrs.iter().map(|a| top(body, a).map_or(Value::Null, |n| n["value"].clone())).collect();
        let name = name["value"].as_str().unwrap().to_string();
        if let Some(old) = out.insert(name.clone(), values.clone()) {
            assert_eq!(old, values, "{name}");
        }
    }
    out
}

#[test]
fn link_attributes_62_to_69_from_a_7_0_kernel() {
    let Some(public) = public() else { return };
    let lines = route_lines(&public.join("xtcp2-sock-diag/xtcp2_k7_0_3_ss_tcp_info.pcap"));
    let mut seen = BTreeMap::new();
    for l in lines.iter().filter(|l| l["type"] == "RTM_NEWLINK") {
        for (name, number, kind) in [
            ("IFLA_DEVLINK_PORT", 62, "nest"),
            ("IFLA_GSO_IPV4_MAX_SIZE", 63, "u32"),
            ("IFLA_GRO_IPV4_MAX_SIZE", 64, "u32"),
            ("IFLA_DPLL_PIN", 65, "nest"),
            ("IFLA_MAX_PACING_OFFLOAD_HORIZON", 66, "uint"),
            ("IFLA_NETNS_IMMUTABLE", 67, "u8"),
            ("IFLA_HEADROOM", 68, "u16"),
            ("IFLA_TAILROOM", 69, "u16"),
        ] {
            let Some(n) = top(&l["body"], name) else { continue };
            *seen.entry(name).or_insert(0) += 1;
            assert_eq!((n["attr"].as_u64(), n["kind"].as_str()), (Some(number), Some(kind)), "{l}");
        }
        // No device here has a devlink port or a DPLL pin: both nests are empty (4 bytes).
        for name in ["IFLA_DEVLINK_PORT", "IFLA_DPLL_PIN"] {
            if let Some(n) = top(&l["body"], name) {
                assert_eq!((n["length"].as_u64(), n["children"].as_array().map_or(0, Vec::len)), (Some(4), 0));
            }
        }
        // IPv4 BIG TCP off (the 64 KiB default); no pacing offload (an nla_put_uint of 0 is 4 bytes).
        for name in ["IFLA_GSO_IPV4_MAX_SIZE", "IFLA_GRO_IPV4_MAX_SIZE"] {
            if let Some(n) = top(&l["body"], name) {
                assert_eq!(n["value"], 65536, "{name}");
            }
        }
        if let Some(n) = top(&l["body"], "IFLA_MAX_PACING_OFFLOAD_HORIZON") {
            assert_eq!((&n["value"], n["length"].as_u64()), (&json!(0), Some(8)));
        }
    }
    // The eight full link messages of the capture carry every one of them.
    assert!(seen.values().all(|&n| n == 8), "{seen:?}");
    // Loopback, the fallback ip6tnl0, the wireless device and the bridge cannot change namespace;
    // nlmon can. The wireless device asks for 56 bytes of headroom and 18 of tailroom.
    let by_name = per_interface(&lines, &["IFLA_NETNS_IMMUTABLE", "IFLA_HEADROOM", "IFLA_TAILROOM"]);
    let expected: BTreeMap<String, Vec<Value>> = [
        ("docker0", [1, 0, 0]),
        ("ip6tnl0", [1, 0, 0]),
        ("lo", [1, 0, 0]),
        ("nlmon0", [0, 0, 0]),
        ("wlp114s0f0", [1, 56, 18]),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_string(), v.into_iter().map(Value::from).collect()))
    .collect();
    assert_eq!(by_name, expected);
}

#[test]
fn bridge_fdb_learned_entries_from_a_7_0_kernel() {
    let Some(public) = public() else { return };
    let lines = route_lines(&public.join("xtcp2-sock-diag/xtcp2_k7_0_3_ss_tcp_info.pcap"));
    let mut seen = Vec::new();
    for l in &lines {
        for data in json_named(&l["body"], "IFLA_INFO_DATA") {
            let kids = &data["children"];
            let (Some(n), Some(max)) = (top(kids, "IFLA_BR_FDB_N_LEARNED"), top(kids, "IFLA_BR_FDB_MAX_LEARNED"))
            else {
                continue;
            };
            assert_eq!(top(&l["body"], "IFLA_IFNAME").unwrap()["value"], "docker0");
            // docker0 has learned nothing and has no limit (0).
            seen.push((attr(n), attr(max)));
        }
    }
    let zero = json!(0);
    assert_eq!(seen, [((48, "u32", &zero), (49, "u32", &zero)); 2]);
}

#[test]
fn mctp_phys_binding_from_a_6_18_or_later_kernel() {
    let Some(public) = public() else { return };
    let lines = route_lines(&public.join("rust-netlink_gtp-link_rtnl-genl-ovs.pcap"));
    let mut devices = BTreeMap::new();
    for l in lines.iter().filter(|l| l["type"] == "RTM_NEWLINK") {
        for mctp in json_named(&l["body"], "AF_MCTP") {
            let kids = &mctp["children"];
            assert_eq!(attr(top(kids, "IFLA_MCTP_NET").unwrap()), (1, "u32", &json!(1)));
            // Neither loopback nor a GTP device is an MCTP transport: binding 0, unspecified.
            assert_eq!(
                attr(top(kids, "IFLA_MCTP_PHYS_BINDING").unwrap()),
                (2, "u8", &json!({"value": 0, "name": "MCTP_PHYS_BINDING_UNSPEC"}))
            );
            let name = top(&l["body"], "IFLA_IFNAME").unwrap()["value"].as_str().unwrap();
            *devices.entry(name).or_insert(0) += 1;
        }
    }
    assert_eq!(devices, BTreeMap::from([("gtp0", 17), ("lo", 21)]));
    // Tunnels reserve room for their encapsulation; the fallback devices of each tunnel type stay
    // in their namespace.
    let by_name = per_interface(&lines, &["IFLA_HEADROOM", "IFLA_NETNS_IMMUTABLE"]);
    for (name, headroom, immutable) in [
        ("gtp0", 176, 0),
        ("erspan0", 164, 1),
        ("gre0", 152, 1),
        ("tunl0", 148, 1),
        ("sit0", 148, 1),
        ("enp2s0", 24, 0),
        ("lo", 0, 1),
    ] {
        assert_eq!(by_name[name], [Value::from(headroom), Value::from(immutable)], "{name}");
    }
}

/// The IFLA_INET6_CONF and IFLA_INET6_STATS nodes (under IFLA_AF_SPEC or IFLA_PROTINFO).
fn inet6_arrays(lines: &[Value]) -> (Vec<&Value>, Vec<&Value>) {
    let (mut conf, mut stats) = (Vec::new(), Vec::new());
    for l in lines {
        conf.extend(json_named(&l["body"], "IFLA_INET6_CONF"));
        stats.extend(json_named(&l["body"], "IFLA_INET6_STATS"));
    }
    assert!(!conf.is_empty() && !stats.is_empty());
    (conf, stats)
}

#[test]
fn ipv6_devconf_and_stats_arrays_end_where_each_kernel_ends_them() {
    let Some(public) = public() else { return };
    // File, devconf entries (and last), stats entries (and last).
    for (file, conf_len, conf_last, stats_len, stats_last) in [
        // A kernel of 6.3 to 6.6 (IFLA_GSO_IPV4_MAX_SIZE, no IFLA_DPLL_PIN) without OutTransmits.
        ("pyroute2_nl0_rtnl-genl-ipvs-nl80211.pcap", 59, "accept_ra_min_lft", 37, "reasm_overlaps"),
        // 6.6.44: OutTransmits came to 6.6 in 6.6.24.
        ("xtcp2-sock-diag/xtcp2_k6_6_44_tcp_100_sockets_bbr.pcap", 59, "accept_ra_min_lft", 38, "outtransmits"),
        ("xtcp2-sock-diag/xtcp2_k7_0_3_ss_tcp_info.pcap", 60, "force_forwarding", 38, "outtransmits"),
        ("rust-netlink_gtp-link_rtnl-genl-ovs.pcap", 60, "force_forwarding", 38, "outtransmits"),
    ] {
        let lines = route_lines(&public.join(file));
        let (conf, stats) = inet6_arrays(&lines);
        for n in conf {
            let names = member_names(n);
            assert_eq!(
                (n["length"].as_u64(), names.len(), *names.last().unwrap()),
                (Some(4 + 4 * conf_len), conf_len as usize, conf_last),
                "{file}"
            );
        }
        for n in stats {
            let names = member_names(n);
            // Element 0 is the element count.
            assert_eq!(member(n, "num"), stats_len, "{file}");
            assert_eq!((names.len(), *names.last().unwrap()), (stats_len as usize, stats_last), "{file}");
        }
    }
}

#[test]
fn ipv6_force_forwarding_and_out_transmits_values() {
    let Some(public) = public() else { return };
    // 6.6.44: eth0 sent 298 packets, all its own (OutRequests = OutTransmits).
    let lines = route_lines(&public.join("xtcp2-sock-diag/xtcp2_k6_6_44_tcp_100_sockets_bbr.pcap"));
    let mut sent = BTreeMap::new();
    for l in lines.iter().filter(|l| l["type"] == "RTM_NEWLINK") {
        let name = top(&l["body"], "IFLA_IFNAME").unwrap()["value"].as_str().unwrap();
        for n in json_named(&l["body"], "IFLA_INET6_STATS") {
            sent.insert(name, (member(n, "outpkts").clone(), member(n, "outtransmits").clone()));
        }
    }
    let v = |a: u64, b: u64| (Value::from(a), Value::from(b));
    assert_eq!(sent, BTreeMap::from([("eth0", v(298, 298)), ("lo", v(0, 0)), ("nlmon0", v(0, 0))]));
    // 7.0: force_forwarding is off everywhere, whatever forwarding says.
    let lines = route_lines(&public.join("xtcp2-sock-diag/xtcp2_k7_0_3_ss_tcp_info.pcap"));
    let (conf, _) = inet6_arrays(&lines);
    assert_eq!(conf.len(), 8);
    for n in conf {
        assert_eq!(member(n, "force_forwarding"), 0);
    }
    // The gtp capture also carries both in IFLA_PROTINFO of an AF_INET6 link message.
    let lines = route_lines(&public.join("rust-netlink_gtp-link_rtnl-genl-ovs.pcap"));
    let protinfo: Vec<_> = lines.iter().flat_map(|l| json_named(&l["body"], "IFLA_PROTINFO")).collect();
    assert_eq!(protinfo.len(), 1);
    assert_eq!(member(json_named(&protinfo[0]["children"], "IFLA_INET6_CONF")[0], "force_forwarding"), 0);
    assert_eq!(member(json_named(&protinfo[0]["children"], "IFLA_INET6_STATS")[0], "outtransmits"), 0);
}
