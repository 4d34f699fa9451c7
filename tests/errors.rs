//! NLMSG_ERROR on the bundled errors_extack capture: errno names, extended-ACK texts, and
//! NLMSGERR_ATTR_OFFS turned into the path of the offending attribute in the echoed request.

mod common;

use common::*;

fn errors() -> Vec<serde_json::Value> {
    let f = concat!(env!("CARGO_MANIFEST_DIR"), "/captures/errors_extack.pcap");
    let out = bin().args(["-r", f, "-T", "json"]).output().unwrap();
    stdout(&out)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|m| m["type"] == "NLMSG_ERROR" && m["errno"] != 0)
        .collect()
}

fn find<'a>(nodes: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    nodes.as_array()?.iter().find_map(|n| if n["name"] == name { Some(n) } else { find(&n["children"], name) })
}

#[test]
fn every_error_is_named_and_offsets_become_attribute_paths() {
    let errors = errors();
    assert_eq!(errors.len(), 41, "tshark counts 41 non-zero netlink.error fields too");
    assert!(errors.iter().all(|e| e["error_name"].is_string()));
    let texts: Vec<&str> =
        errors.iter().filter_map(|e| find(&e["body"], "NLMSGERR_ATTR_MSG")?["value"].as_str()).collect();
    assert!(texts.contains(&"Unknown device type"), "{texts:?}");
    assert!(texts.contains(&"8021q: Invalid VLAN id"), "{texts:?}");
    let paths: Vec<(u64, &str, u64)> = errors
        .iter()
        .filter_map(|e| {
            let offs = find(&e["body"], "NLMSGERR_ATTR_OFFS")?;
            let path = find(&offs["children"], "attribute")?;
            Some((e["frame"].as_u64()?, path["value"].as_str()?, path["offset"].as_u64()?))
        })
        .collect();
    // Each path's offset is the echoed request's start (16 cooked + 16 error header + 4 errno)
    // plus NLMSGERR_ATTR_OFFS.
    assert_eq!(
        paths,
        [
            (114, ".NFTA_TABLE_NAME", 36 + 20),
            (145, ".NFTA_RULE_EXPRESSIONS.NFTA_LIST_ELEM", 36 + 60),
            (190, ".NFTA_RULE_HANDLE", 36 + 36),
        ]
    );
}

#[test]
fn requests_and_replies_are_linked_both_ways_in_files_and_back_on_streams() {
    let f = concat!(env!("CARGO_MANIFEST_DIR"), "/captures/errors_extack.pcap");
    let json = |args: &[&str]| -> Vec<serde_json::Value> {
        let out = bin().args(args).output().unwrap();
        stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    };
    let file = json(&["-r", f, "-T", "json"]);
    // Every error answers a request in the capture, which names it back.
    for e in file.iter().filter(|m| m["type"] == "NLMSG_ERROR") {
        let to = &e["reply_to"];
        assert!(to.is_object(), "frame {} answers nothing", e["frame"]);
        let request = file.iter().find(|m| m["frame"] == to["frame"] && m["index"] == to["index"]).unwrap();
        assert_eq!(request["seq"], e["seq"]);
        assert!(request["flags"].as_array().unwrap().iter().any(|f| f == "REQUEST"));
        assert!(request["replied_in"].is_object());
        assert!(e["latency_ns"].as_i64().unwrap() >= 0);
    }
    assert_eq!(file.iter().filter(|m| m["type"] == "NLMSG_ERROR").count(), 51, "tshark counts 51 too");
    // On standard input nothing can look ahead: replies still name their requests.
    let out = run_on_stdin(&std::fs::read(f).unwrap(), &["-T", "json"]);
    let piped: Vec<serde_json::Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(piped.iter().all(|m| m.get("replied_in").is_none()));
    let replies = |v: &[serde_json::Value]| v.iter().filter(|m| m.get("reply_to").is_some()).count();
    assert_eq!(replies(&piped), replies(&file));
}

#[test]
fn fail_on_error_names_each_error_and_exits_3() {
    let f = concat!(env!("CARGO_MANIFEST_DIR"), "/captures/errors_extack.pcap");
    let out = bin().args(["-r", f, "--fail-on-error"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert_eq!(err.lines().filter(|l| l.starts_with("nlscope: error reply in frame ")).count(), 41);
    assert!(
        err.contains("frame 4.0: -95 EOPNOTSUPP (Operation not supported) for RTM_NEWLINK: \"Unknown device type\"")
    );
    let clean = concat!(env!("CARGO_MANIFEST_DIR"), "/captures/genl_tcp_metrics.pcap");
    let out = bin().args(["-r", clean, "--fail-on-error"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn dumps_end_with_their_size() {
    let f = concat!(env!("CARGO_MANIFEST_DIR"), "/captures/rtnl_addr.pcap");
    let out = bin().args(["-r", f, "-T", "json"]).output().unwrap();
    let msgs: Vec<serde_json::Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let dones: Vec<_> = msgs.iter().filter(|m| m["type"] == "NLMSG_DONE" && m.get("dump_parts").is_some()).collect();
    assert!(!dones.is_empty());
    for done in dones {
        // The parts counted are exactly the multi-part messages that answer the same request.
        let req = &done["reply_to"];
        let parts = msgs
            .iter()
            .filter(|m| &m["reply_to"] == req && m["type"] != "NLMSG_DONE")
            .filter(|m| m["flags"].as_array().unwrap().iter().any(|f| f == "MULTI"))
            .count();
        assert_eq!(done["dump_parts"].as_u64().unwrap() as usize, parts, "{done}");
        assert_eq!(done["dump_interrupted"], false);
    }
}

#[test]
fn quiet_prints_only_the_summary() {
    let f = concat!(env!("CARGO_MANIFEST_DIR"), "/captures/errors_extack.pcap");
    let out = bin().args(["-r", f, "-q"]).output().unwrap();
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(!text.contains("K->"), "no message lines");
    assert!(text.contains("      26  route NLMSG_ERROR"), "{text}");
    // 41 error replies in all, by errno, with the requests that got them.
    let errors: u64 = text
        .split("== Error replies")
        .nth(1)
        .unwrap()
        .split("\n\n")
        .next()
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    assert_eq!(errors, 41);
    assert!(text.contains("-17 EEXIST (File exists): RTM_NEWADDR x1, RTM_NEWLINK x1, RTM_NEWQDISC x1"), "{text}");
    assert!(text.contains("== Requests left unanswered\n  none"), "{text}");
    assert!(text.contains("  RTM_GETLINK                                      16 "), "{text}");
}

#[test]
fn a_capped_error_names_the_attribute_in_its_request_from_the_request_frame() {
    // RTM_NEWLINK ... type vlan id 5000, refused with ERANGE; the error echoes only the header.
    let kind = nlattr(1, b"vlan\0", None);
    let vlan_id = nlattr(1, &5000u16.to_le_bytes(), None);
    let mut linkinfo = kind.clone();
    linkinfo.extend(nlattr(0x8002, &vlan_id, None));
    let mut body = ifinfomsg(0);
    body.extend(nlattr(3, b"d0.5000\0", None));
    let linkinfo_at = 16 + body.len();
    body.extend(nlattr(0x8012, &linkinfo, None));
    let request = nlmsg(16, 0x605, 42, 0, &body, None);
    // OFFS: the IFLA_VLAN_ID attribute = IFLA_LINKINFO header, IFLA_INFO_KIND, IFLA_INFO_DATA header.
    let offs = (linkinfo_at + 4 + kind.len() + 4) as u32;
    let mut err = (-34i32).to_le_bytes().to_vec();
    err.extend(&request[..16]);
    err.extend(nlattr(1, b"8021q: Invalid VLAN id\0", None));
    err.extend(nlattr(2, &offs.to_le_bytes(), None));
    let reply = nlmsg(2, 0x300, 42, 4242, &err, None);
    let out = run_on_bytes(&netlink_pcap(0, &[request, reply]), &["--color", "never"]);
    let text = stdout(&out);
    assert!(
        text.contains("-34 ERANGE (Numerical result out of range) for RTM_NEWLINK: \"8021q: Invalid VLAN id\" at .IFLA_LINKINFO.IFLA_INFO_DATA.IFLA_VLAN_ID  (reply to 1.0"),
        "{text}"
    );
}

#[test]
fn a_missing_required_attribute_is_named() {
    // RTM_NEWLINK without IFLA_IFNAME, refused with EINVAL and NLMSGERR_ATTR_MISS_TYPE = 3.
    let request = nlmsg(16, 0x605, 5, 0, &ifinfomsg(0), None);
    let mut err = (-22i32).to_le_bytes().to_vec();
    err.extend(&request[..16]);
    err.extend(nlattr(5, &3u32.to_le_bytes(), None));
    let reply = nlmsg(2, 0x300, 5, 77, &err, None);
    let text = stdout(&run_on_bytes(&netlink_pcap(0, &[request, reply]), &["-V", "--color", "never"]));
    assert!(text.contains("NLMSGERR_ATTR_MISS_TYPE (5) u32: IFLA_IFNAME (3)"), "{text}");
}

#[test]
fn an_interrupted_dump_is_flagged_on_its_done() {
    let request = nlmsg(18, 0x301, 9, 0, &ifinfomsg(0), None);
    let mut part = ifinfomsg(1);
    part.extend(nlattr(3, b"lo\0", None));
    let parts = [nlmsg(16, 0x02, 9, 31, &part, None), nlmsg(16, 0x12, 9, 31, &part, None)].concat();
    let done = nlmsg(3, 0x12, 9, 31, &0i32.to_le_bytes(), None);
    let f = netlink_pcap(0, &[request, parts, done]);
    let text = stdout(&run_on_bytes(&f, &["--color", "never"]));
    assert!(text.contains("(dump of 1.0: 2 messages"), "{text}");
    assert!(text.contains("INCONSISTENT DUMP: interrupted (NLM_F_DUMP_INTR)"), "{text}");
    let json = stdout(&run_on_bytes(&f, &["-T", "json"]));
    let done: serde_json::Value = serde_json::from_str(json.lines().last().unwrap()).unwrap();
    assert_eq!((done["dump_parts"].as_u64(), done["dump_interrupted"].as_bool()), (Some(2), Some(true)));
    let summary = stdout(&run_on_bytes(&f, &["-q"]));
    assert!(summary.contains("== Interrupted dumps (NLM_F_DUMP_INTR)\n  dump of 1.0 ended in 3.0"), "{summary}");
}
