//! The display filter language on the bundled real captures: each expression's exact match
//! count. The counts were checked by a second path that shares no code with the filter
//! (`tools/filter_oracle.py`: plain predicates over the JSON output, with full attribute names).
//! Together they use every operator, every kind of value and field, short names, paths and
//! family scopes. Errors name their column and suggest a name.

mod common;

use common::*;

fn matches(capture: &str, filter: &str) -> usize {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures").join(capture);
    let out = bin().arg("-r").arg(&path).args(["-T", "json", "-Y", filter]).output().unwrap();
    assert!(out.status.success(), "{capture} | {filter}: {}", stderr(&out));
    stdout(&out).lines().count()
}

/// (capture in captures/, filter, messages it lets through)
const CASES: &[(&str, &str, usize)] = &[
    ("errors_extack.pcap", "frame == 4", 1),
    ("errors_extack.pcap", "frame >= 100 and frame < 110", 10),
    ("rtnl_addr.pcap", "frame <= 10", 14),
    ("rtnl_addr.pcap", "type == RTM_NEWADDR", 101),
    ("rtnl_addr.pcap", "type == 20", 101),
    ("rtnl_addr.pcap", "type in {RTM_NEWLINK, RTM_GETLINK}", 95),
    ("rtnl_addr.pcap", "type != RTM_NEWADDR", 175),
    ("rtnl_addr.pcap", "type contains ADDR", 137),
    ("rtnl_addr.pcap", r#"type matches "^RTM_(GET|DEL)""#, 54),
    ("rtnl_addr.pcap", "flags has DUMP", 26),
    ("rtnl_addr.pcap", "flags has MULTI && !(flags has DUMP_FILTERED)", 150),
    ("rtnl_addr.pcap", "direction == to-kernel", 69),
    ("rtnl_addr.pcap", "len > 1000", 51),
    ("rtnl_addr.pcap", "pid == 0", 62),
    ("errors_extack.pcap", "seq == 1795516799", 16),
    ("errors_extack.pcap", "seq != 1795516799", 280),
    ("sock_diag.pcap", "protocol == sock_diag", 191),
    ("sock_diag.pcap", "family == 0", 8),
    ("sock_diag.pcap", "protocol == SOCK_DIAG or protocol == route", 199),
    ("genl_tcp_metrics.pcap", r#"genl_family == "tcp_metrics""#, 16),
    ("genl_tcp_metrics.pcap", "cmd == CTRL_CMD_GETFAMILY", 8),
    ("genl_tcp_metrics.pcap", "cmd == 1", 22),
    ("errors_extack.pcap", "error", 41),
    ("errors_extack.pcap", "errno", 60),
    ("errors_extack.pcap", "error == EEXIST", 3),
    ("errors_extack.pcap", "error == -95 or errno == 22", 11),
    ("errors_extack.pcap", "not error and type == NLMSG_ERROR", 10),
    ("errors_extack.pcap", "latency > 1ms", 30),
    ("errors_extack.pcap", "latency < 500us", 230),
    ("errors_extack.pcap", "latency >= 2", 28),
    ("errors_extack.pcap", "time < 0.5", 34),
    ("rtnl_addr.pcap", "IFLA_IFNAME", 80),
    ("rtnl_addr.pcap", "has ifname", 80),
    ("rtnl_addr.pcap", r#"IFLA_IFNAME == "lo""#, 11),
    ("rtnl_addr.pcap", r#"ifname != "lo""#, 265),
    ("rtnl_addr.pcap", r#"ifname contains "d""#, 58),
    ("rtnl_addr.pcap", r#"ifname matches "^d[0-9]$""#, 58),
    ("rtnl_addr.pcap", "mtu == 1500", 41),
    ("rtnl_addr.pcap", "IFLA_MTU > 1500", 22),
    ("rtnl_addr.pcap", "operstate == IF_OPER_UNKNOWN", 63),
    ("rtnl_addr.pcap", "ifi_flags has IFF_LOOPBACK", 11),
    ("rtnl_addr.pcap", "IFA_FLAGS has IFA_F_PERMANENT", 81),
    ("rtnl_addr.pcap", "IFA_ADDRESS in 192.0.2.0/24", 22),
    ("rtnl_addr.pcap", "IFA_ADDRESS in 2001:db8::/32", 38),
    ("rtnl_addr.pcap", "IFA_ADDRESS == 127.0.0.1", 6),
    ("rtnl_addr.pcap", "IFA_ADDRESS in fe80::/10", 19),
    ("rtnl_addr.pcap", "IFA_ADDRESS == ::1", 8),
    ("rtnl_addr.pcap", "IFLA_ADDRESS == 00:00:00:00:00:00", 11),
    ("rtnl_addr.pcap", "IFLA_AF_SPEC.IFLA_INET6_FLAGS", 51),
    ("rtnl_addr.pcap", "af_spec.inet6.addr_gen_mode == IN6_ADDR_GEN_MODE_EUI64", 46),
    ("rtnl_addr.pcap", "ifa_prefixlen == 64 and ifa_family == AF_INET6", 57),
    ("errors_extack.pcap", r#"linkinfo.kind == "nosuchkind""#, 2),
    ("errors_extack.pcap", r#"IFLA_LINKINFO.IFLA_INFO_KIND == "nosuchkind" and type == RTM_NEWLINK"#, 1),
    ("errors_extack.pcap", r#"NLMSGERR_ATTR_MSG contains "not""#, 5),
    ("errors_extack.pcap", "route.NLMSGERR_ATTR_MSG", 8),
    ("errors_extack.pcap", "generic.NLMSGERR_ATTR_MSG", 1),
    ("errors_extack.pcap", "NLMSGERR_ATTR_OFFS >= 20", 3),
    ("sock_diag.pcap", "idiag_dport == 8001 || idiag_sport == 8001", 17),
    ("sock_diag.pcap", "idiag_state == TCP_LISTEN", 18),
    ("sock_diag.pcap", r#"INET_DIAG_CONG == "cubic""#, 7),
    ("sock_diag.pcap", "idiag_src in 127.0.0.0/8", 26),
    ("nf_conntrack.pcap", "CTA_PROTO_NUM == 6", 65),
    ("nf_conntrack.pcap", "CTA_TUPLE_ORIG.CTA_PROTO_DST_PORT in {22, 80, 443}", 12),
    ("nf_conntrack.pcap", "CTA_IP_V4_SRC in 192.0.2.0/24", 14),
    ("nf_conntrack.pcap", "CTA_STATUS has IPS_ASSURED", 45),
    ("nf_conntrack.pcap", "CTA_PROTOINFO_TCP_STATE == TCP_CONNTRACK_ESTABLISHED", 11),
    ("nf_conntrack.pcap", "CTA_TIMEOUT <= 120 and CTA_TIMEOUT > 0", 107),
    ("xfrm.pcap", "XFRMA_IF_ID == 0x7", 10),
    ("xfrm.pcap", "type == XFRM_MSG_NEWSA and flags has MULTI", 24),
    ("genl_tcp_metrics.pcap", "tcp_metrics.TCP_METRICS_ATTR_ADDR_IPV4", 6),
    ("genl_tcp_metrics.pcap", r#"nlctrl.CTRL_ATTR_FAMILY_NAME == "tcp_metrics""#, 16),
    ("genl_tcp_metrics.pcap", "TCP_METRICS_ATTR_VALS.TCP_METRIC_RTT_US > 100", 8),
    ("rtnl_netns.pcap", "type == RTM_NEWNSID and NETNSA_NSID >= 0", 15),
    ("nlvm_uncaptured_families.pcapng", "protocol == audit", 19),
    ("nlvm_uncaptured_families.pcapng", r#"ACTION == "add""#, 6),
    ("nlvm_uncaptured_families.pcapng", r#"audit.comm contains "ip""#, 0),
    ("fib_lookup_usersock.pcap", "fl_addr == 192.0.2.1 or fl_addr == 127.0.0.1", 2),
    ("errors_extack.pcap", "(error || type == RTM_NEWLINK) && not direction == to-user", 10),
    ("rtnl_addr.pcap", "not (IFLA_IFNAME or IFA_ADDRESS)", 87),
];

#[test]
fn every_case_matches_its_count() {
    assert!(CASES.len() >= 40);
    let wrong: Vec<String> = CASES
        .iter()
        .filter_map(|&(capture, filter, want)| {
            let got = matches(capture, filter);
            (got != want).then(|| format!("{capture} | {filter}: {got}, expected {want}"))
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

fn error(filter: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/rtnl_addr.pcap");
    let out = bin().arg("-r").arg(&path).args(["-Y", filter]).output().unwrap();
    assert!(!out.status.success(), "{filter} compiled");
    assert!(out.stdout.is_empty(), "{filter}: nothing is printed");
    stderr(&out)
}

/// The caret line of an error: its column (1-based) and its message.
fn caret(err: &str) -> (usize, String) {
    let line = err.lines().find(|l| l.trim_start().starts_with('^')).unwrap_or_else(|| panic!("no caret in {err}"));
    let at = line.find('^').unwrap();
    // Two spaces of indentation under "the display filter does not compile:".
    (at - 2 + 1, line[at + 1..].trim().to_string())
}

#[test]
fn errors_point_at_their_column_and_suggest() {
    for (filter, column, says) in [
        ("ifnmae == \"lo\"", 1, "did you mean `ifname`?"),
        ("IFLA_IFNAME == \"lo\" and IFLA_MTUU > 1", 25, "did you mean `IFLA_MTU`?"),
        ("operstate == IF_OPER_UPP", 14, "did you mean `IF_OPER_UP`?"),
        ("seq = 1", 5, "write `==`"),
        ("seq ==", 7, "expected a value, found the end of the filter"),
        ("(seq == 1", 10, "expected `)`"),
        ("seq == 1 seq", 10, "expected `and`, `or` or the end of the filter"),
        ("ifname == \"lo", 11, "no closing"),
        ("type in {RTM_NEWLINK RTM_GETLINK}", 22, "expected `,` or `}`"),
        ("IFA_ADDRESS in 10.0.0.1", 16, "takes a set"),
        ("ifname matches \"(\"", 16, "bad regular expression"),
        ("IFLA_AF_SPEC == 1", 1, "holds other attributes"),
        ("RTM_NEWLINK", 1, "is a value, not a field"),
        ("linkinfo.kindd == \"x\"", 10, "did you mean"),
        ("", 1, "empty"),
    ] {
        let e = error(filter);
        let (col, message) = caret(&e);
        assert_eq!(col, column, "{filter}: {e}");
        assert!(message.contains(says), "{filter}: {message}");
    }
}

#[test]
fn filtered_text_output_and_count() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/errors_extack.pcap");
    let out = bin().arg("-r").arg(&path).args(["-Y", "error == EEXIST", "--color", "never"]).output().unwrap();
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.lines().all(|l| l.contains("-17 EEXIST (File exists)")), "{text}");
    // -c counts the messages shown.
    let out = bin().arg("-r").arg(&path).args(["-Y", "error", "-c", "2"]).output().unwrap();
    assert_eq!(stdout(&out).lines().count(), 2);
    // An error shown still names its request, which the filter did not show.
    let out = bin().arg("-r").arg(&path).args(["-Y", "error == EOPNOTSUPP", "--color", "never"]).output().unwrap();
    assert!(stdout(&out).contains("for RTM_NEWLINK: \"Unknown device type\"  (reply to 3.0"), "{}", stdout(&out));
    // --fail-on-error counts the errors the filter lets through.
    let out = bin().arg("-r").arg(&path).args(["-Y", "error == EEXIST", "-q", "--fail-on-error"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("3 error replies"), "{}", stderr(&out));
}
