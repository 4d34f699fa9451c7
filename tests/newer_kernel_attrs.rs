//! Attributes and struct members added to the kernel after Linux 6.1 (whose headers the specs
//! follow), decoded from the public captures of newer kernels in ../shared/captures/public
//! (SOURCES.md): OVS_VPORT_ATTR_UPCALL_STATS (6.2), NL80211_BSS_USE_FOR (6.8),
//! NL80211_ATTR_VIF_RADIO_MASK (6.13) and the members appended to struct tcp_info in 6.2, 6.7,
//! 6.18 and 7.0. Skipped when ../shared is absent.

mod common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn public() -> Option<PathBuf> {
    shared_captures().map(|p| p.join("public"))
}

fn json_lines(path: &Path) -> Vec<Value> {
    let out = bin().arg("-r").arg(path).args(["-T", "json"]).output().unwrap();
    assert!(out.status.success(), "{}: {}", path.display(), stderr(&out));
    stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// The value of the child named `name` of a struct node.
fn member<'a>(node: &'a Value, name: &str) -> &'a Value {
    node["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .map(|c| &c["value"])
        .unwrap_or_else(|| panic!("no {name} in {node}"))
}

#[test]
fn ovs_vport_upcall_stats() {
    let Some(public) = public() else { return };
    let lines = json_lines(&public.join("ovs-netlink_genl-openvswitch.pcapng"));
    let mut seen = 0;
    for l in &lines {
        for n in json_named(&l["body"], "OVS_VPORT_ATTR_UPCALL_STATS") {
            seen += 1;
            assert_eq!(l["genl_family"], "ovs_vport", "{l}");
            assert_eq!(l["direction"], "to-user", "{l}");
            assert!(["OVS_VPORT_CMD_GET", "OVS_VPORT_CMD_DEL"].contains(&l["type"].as_str().unwrap()), "{l}");
            assert_eq!(
                (n["attr"].as_u64(), n["kind"].as_str(), n["length"].as_u64()),
                (Some(10), Some("nest"), Some(28))
            );
            // A nest of two u64 counters numbered from 0; nothing went up to user space here.
            let kids: Vec<_> = n["children"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    (
                        c["name"].as_str().unwrap(),
                        c["attr"].as_u64().unwrap(),
                        c["kind"].as_str().unwrap(),
                        c["value"].as_u64().unwrap(),
                    )
                })
                .collect();
            assert_eq!(
                kids,
                [("OVS_VPORT_UPCALL_ATTR_SUCCESS", 0, "u64", 0), ("OVS_VPORT_UPCALL_ATTR_FAIL", 1, "u64", 0)],
                "{l}"
            );
        }
        if l["protocol"] == 16 {
            assert!(!json_has_problem(&l["body"]), "{l}");
        }
    }
    assert_eq!(seen, 63);
}

#[test]
fn nl80211_bss_use_for_and_vif_radio_mask() {
    let Some(public) = public() else { return };
    let lines = json_lines(&public.join("xtcp2-sock-diag/xtcp2_k7_0_3_ss_tcp_info.pcap"));
    let mut use_for = 0;
    let mut radio_mask = Vec::new();
    for l in lines.iter().filter(|l| l["genl_family"] == "nl80211") {
        assert!(!json_has_problem(&l["body"]), "{l}");
        for bss in json_named(&l["body"], "NL80211_ATTR_BSS") {
            for n in json_named(&bss["children"], "NL80211_BSS_USE_FOR") {
                use_for += 1;
                assert_eq!((n["attr"].as_u64(), n["kind"].as_str()), (Some(23), Some("u32")));
                // Every BSS of these scan results may be used normally and as an MLO link.
                assert_eq!(
                    n["value"],
                    serde_json::json!({"value": 3, "flags": ["NL80211_BSS_USE_FOR_NORMAL", "NL80211_BSS_USE_FOR_MLD_LINK"]}),
                    "{l}"
                );
            }
        }
        for n in json_named(&l["body"], "NL80211_ATTR_VIF_RADIO_MASK") {
            assert_eq!((n["attr"].as_u64(), n["kind"].as_str()), (Some(333), Some("u32")));
            radio_mask.push((l["type"].as_str().unwrap(), n["value"].as_u64().unwrap()));
        }
    }
    assert_eq!(use_for, 192);
    // Both interfaces of the interface dump may use every radio (0 means all).
    assert_eq!(radio_mask, [("NL80211_CMD_NEW_INTERFACE", 0), ("NL80211_CMD_NEW_INTERFACE", 0)]);
}

/// The INET_DIAG_INFO (struct tcp_info) nodes of a capture.
fn tcp_infos(path: &Path) -> Vec<Value> {
    let mut out = Vec::new();
    for l in json_lines(path) {
        for n in json_named(&l["body"], "INET_DIAG_INFO") {
            assert!(!json_has_problem(&n["children"]), "{}: {n}", path.display());
            out.push(n.clone());
        }
    }
    assert!(!out.is_empty(), "{}", path.display());
    out
}

#[test]
fn tcp_info_ends_where_each_kernel_ends_it() {
    let Some(public) = public() else { return };
    let dir = public.join("xtcp2-sock-diag");
    // Attribute length (4-byte header included), member count, last member.
    for (file, length, members, last) in [
        ("xtcp2_k4_19_319_tcp_10_sockets.pcap", 228, 52, "tcpi_reord_seen"),
        ("xtcp2_k6_1_103_tcp_10_sockets.pcap", 236, 54, "tcpi_snd_wnd"),
        ("xtcp2_k6_6_44_tcp_10_sockets.pcap", 244, 56, "tcpi_rehash"),
        ("xtcp2_k6_8_12_tcp_10_sockets.pcap", 252, 59, "tcpi_total_rto_time"),
        ("xtcp2_k6_10_3_tcp_10_sockets.pcap", 252, 59, "tcpi_total_rto_time"),
        ("xtcp2_k7_0_3_ss_tcp_info.pcap", 284, 67, "tcpi_ecn_bits"),
    ] {
        for n in tcp_infos(&dir.join(file)) {
            let kids = n["children"].as_array().unwrap();
            assert_eq!(
                (n["length"].as_u64(), kids.len(), kids.last().unwrap()["name"].as_str()),
                (Some(length), members, Some(last)),
                "{file}"
            );
        }
    }
}

#[test]
fn tcp_info_members_of_6_2_and_6_7() {
    let Some(public) = public() else { return };
    let dir = public.join("xtcp2-sock-diag");
    // 6.6: tcpi_rcv_wnd and tcpi_rehash (6.2) end the struct.
    let infos = tcp_infos(&dir.join("xtcp2_k6_6_44_netlink_sock_diag_reply_single_packet.pcap"));
    assert_eq!(infos.len(), 3);
    for n in &infos {
        assert_eq!((member(n, "tcpi_rcv_wnd"), member(n, "tcpi_rehash")), (&Value::from(65536), &Value::from(0)));
    }
    // 6.8: the RTO totals of 6.7 follow; this socket's receive window is the one `ss` shows in
    // sidecars/xtcp2_k6_8_12_6_8_12_ss_tcp_info_a_10.txt (rcv_wnd:3030960).
    let infos = tcp_infos(&dir.join("xtcp2_k6_8_12_tcp_10_sockets.pcap"));
    let n = infos.iter().find(|n| member(n, "tcpi_bytes_received") == 3_588_629).unwrap();
    assert_eq!(member(n, "tcpi_rcv_wnd"), 3_030_960);
    for name in ["tcpi_total_rto", "tcpi_total_rto_recoveries", "tcpi_total_rto_time"] {
        assert_eq!(member(n, name), 0, "{name}");
    }
}

#[test]
fn tcp_info_accecn_members_of_7_0() {
    let Some(public) = public() else { return };
    let dir = public.join("xtcp2-sock-diag");
    // The first socket of sidecars/xtcp2_k7_0_3_ss_tcp_info_n.txt: `ss` shows bytes_received:3996
    // snd_wnd:79872 rcv_wnd:496640.
    let infos = tcp_infos(&dir.join("xtcp2_k7_0_3_netlink_sock_diag_response_7_0_3_sport26546_dport443.pcap"));
    assert_eq!(infos.len(), 9);
    let n = &infos[0];
    assert_eq!(
        (member(n, "tcpi_bytes_received"), member(n, "tcpi_snd_wnd"), member(n, "tcpi_rcv_wnd")),
        (&Value::from(3996), &Value::from(79872), &Value::from(496_640))
    );
    // Over IPv6 with RFC 3168 ECN (tcpi_ecn_mode 1 in bits 0-1 of the last word), every byte
    // received was ECT(0): tcpi_received_e0_bytes equals tcpi_bytes_received, which also pins
    // the offsets of the AccECN counters (6.18).
    let infos = tcp_infos(&dir.join("xtcp2_k7_0_3_netlink_sock_diag_response_7_0_3_sport19000_dport10156_v6.pcap"));
    assert_eq!(infos.len(), 2);
    for (n, received) in infos.iter().zip([11_648, 624_678]) {
        assert_eq!(member(n, "tcpi_bytes_received"), received);
        assert_eq!(member(n, "tcpi_received_e0_bytes"), received);
        for name in [
            "tcpi_received_ce",
            "tcpi_delivered_e1_bytes",
            "tcpi_delivered_e0_bytes",
            "tcpi_delivered_ce_bytes",
            "tcpi_received_e1_bytes",
            "tcpi_received_ce_bytes",
        ] {
            assert_eq!(member(n, name), 0, "{name}");
        }
        assert_eq!(member(n, "tcpi_ecn_bits"), 1);
    }
}
