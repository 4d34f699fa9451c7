//! tshark as an outside oracle: on the same captures, every value tshark decodes for a sample of
//! rtnetlink fields (interface names and indexes, MTUs, queue lengths, operational states,
//! address prefix lengths and labels, route prefix lengths, tables and output interfaces) must be
//! what nlscope decodes, frame by frame. Runs when tshark is installed (`.ci/run` installs it).

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::*;

/// (tshark field, nlscope node name). Nodes are taken from each message's own level: its fixed
/// header and its top-level attributes (tshark decodes neither echoed requests nor nested links).
const FIELDS: &[(&str, &str)] = &[
    ("netlink-route.ifla_ifname", "IFLA_IFNAME"),
    ("netlink-route.ifla_mtu", "IFLA_MTU"),
    ("netlink-route.ifla_txqlen", "IFLA_TXQLEN"),
    ("netlink-route.ifla_operstate", "IFLA_OPERSTATE"),
    ("netlink-route.ifla_qdisc", "IFLA_QDISC"),
    ("netlink-route.ifi_index", "ifi_index"),
    ("netlink-route.ifa_prefixlen", "ifa_prefixlen"),
    ("netlink-route.ifa_index", "ifa_index"),
    ("netlink-route.ifa_label", "IFA_LABEL"),
    ("netlink-route.rt_dst_len", "rtm_dst_len"),
    ("netlink-route.rt_table", "rtm_table"),
    ("netlink-route.rta_oif", "RTA_OIF"),
];

fn tshark_available() -> bool {
    Command::new("tshark").arg("-v").output().is_ok_and(|o| o.status.success())
}

type PerFrame = BTreeMap<u64, Vec<String>>;

fn tshark_values(file: &Path) -> Vec<PerFrame> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(file).args(["-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|", "-e", "frame.number"]);
    for (f, _) in FIELDS {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut per_field = vec![PerFrame::new(); FIELDS.len()];
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        let frame: u64 = cols[0].parse().unwrap();
        for (i, col) in cols[1..].iter().enumerate() {
            if !col.is_empty() {
                let mut v: Vec<String> = col.split('|').map(str::to_string).collect();
                v.sort();
                per_field[i].insert(frame, v);
            }
        }
    }
    per_field
}

fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Object(o) => o["value"].to_string(),
        other => other.to_string(),
    }
}

fn nlscope_values(file: &Path) -> Vec<PerFrame> {
    let out = bin().arg("-r").arg(file).args(["-T", "json"]).output().unwrap();
    let mut per_field = vec![PerFrame::new(); FIELDS.len()];
    for line in stdout(&out).lines() {
        let m: serde_json::Value = serde_json::from_str(line).unwrap();
        if m["protocol"] != 0 {
            continue;
        }
        let frame = m["frame"].as_u64().unwrap();
        let body = m["body"].as_array().unwrap();
        let own_level = body.iter().chain(
            body.iter()
                .filter(|n| n["kind"].as_str().unwrap().starts_with("struct ") && n["name"] != "nlmsghdr")
                .flat_map(|n| n["children"].as_array().unwrap()),
        );
        for n in own_level {
            if let Some(i) = FIELDS.iter().position(|f| n["name"] == f.1) {
                per_field[i].entry(frame).or_default().push(scalar(&n["value"]));
            }
        }
    }
    for f in &mut per_field {
        f.values_mut().for_each(|v| v.sort());
    }
    per_field
}

fn compare(file: &Path) -> usize {
    let theirs = tshark_values(file);
    let ours = nlscope_values(file);
    let mut compared = 0;
    for (i, (field, _)) in FIELDS.iter().enumerate() {
        for (frame, values) in &theirs[i] {
            assert_eq!(ours[i].get(frame), Some(values), "{}: frame {frame}, {field}", file.display());
            compared += values.len();
        }
    }
    compared
}

#[test]
fn bundled_captures_match_tshark() {
    if !tshark_available() {
        eprintln!("tshark is not installed: skipped");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    let n = compare(&root.join("rtnl_addr.pcap")) + compare(&root.join("errors_extack.pcap"));
    assert!(n >= 900, "only {n} values compared");
}

#[test]
fn shared_route_captures_match_tshark() {
    let Some(shared) = shared_captures() else { return };
    if !tshark_available() {
        return;
    }
    let mut n = 0;
    for f in ["rtnl_route.pcap", "rtnl_link.pcap", "rtnl_neigh.pcap", "rtnl_monitor.pcap"] {
        n += compare(&shared.join("real").join(f));
    }
    n += compare(&shared.join("public/wireshark-sample_nlmon-big_rtnl_bigendian-host.pcap"));
    assert!(n >= 2800, "only {n} values compared");
}
