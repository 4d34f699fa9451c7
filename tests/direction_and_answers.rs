//! Direction inference on real nlmon captures (whose pkttype says nothing: the kernel overwrites
//! it), and the requests of every capture that got no answer, counted and explained.

mod common;

use std::path::{Path, PathBuf};

use common::*;

fn json(path: &Path) -> Vec<serde_json::Value> {
    let out = bin().arg("-r").arg(path).args(["-T", "json"]).output().unwrap();
    assert!(out.status.success(), "{}: {}", path.display(), stderr(&out));
    stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn at(msgs: &[serde_json::Value], frame: u64, index: u64) -> &serde_json::Value {
    msgs.iter().find(|m| m["frame"] == frame && m["index"] == index).unwrap()
}

fn is_request(m: &serde_json::Value) -> bool {
    m["flags"].as_array().unwrap().iter().any(|f| f == "REQUEST")
}

#[test]
fn multicast_notifications_go_to_user_space_and_requests_to_the_kernel() {
    let Some(shared) = shared_captures() else {
        eprintln!("skipped: ../shared/captures is absent");
        return;
    };
    // `ip monitor` listening while links, addresses, routes and nexthops are made.
    let msgs = json(&shared.join("real/rtnl_monitor.pcap"));
    assert_eq!(msgs.len(), 217);
    // Multicast notifications: port 0, sequence 0, no REQUEST flag (frame 9: d0 created).
    let notifications: Vec<_> = msgs.iter().filter(|m| m["pid"] == 0 && m["seq"] == 0 && !is_request(m)).collect();
    assert_eq!(notifications.len(), 69);
    assert!(notifications.iter().all(|m| m["direction"] == "to-user"));
    assert_eq!(
        (at(&msgs, 9, 0)["type"].as_str(), at(&msgs, 9, 0)["direction"].as_str()),
        (Some("RTM_NEWLINK"), Some("to-user"))
    );
    // Requests have port 0 too (the sender leaves it to the kernel), some sequence 0 as well
    // (frame 4, `ip link del` of a missing device): the REQUEST flag tells them apart.
    let requests: Vec<_> = msgs.iter().filter(|m| is_request(m) && m["direction"] == "to-kernel").collect();
    assert_eq!(requests.len(), 58);
    assert!(requests.iter().all(|m| m["pid"] == 0));
    assert_eq!(requests.iter().filter(|m| m["seq"] == 0).count(), 10);
    assert_eq!(at(&msgs, 4, 0)["direction"], "to-kernel");
    // Notifications of a change some request made carry the requester's port and sequence
    // number (frame 34: the address of request 33), and still go to user space.
    assert_eq!(
        (at(&msgs, 34, 0)["pid"].as_u64(), at(&msgs, 34, 0)["direction"].as_str()),
        (Some(134), Some("to-user"))
    );
    // The nexthop notification copies the whole request header, REQUEST flag included, with
    // the requester's port (frame 65, of request 64): known by its request, it goes to user space.
    let echo = at(&msgs, 65, 0);
    assert!(is_request(echo) && echo["pid"] == 140);
    assert_eq!(echo["direction"], "to-user");
    assert_eq!(echo["reply_to"], serde_json::json!({"frame": 64, "index": 0}));
    assert_eq!(echo["notification"], true);
    assert_eq!(at(&msgs, 66, 0)["reply_to"], serde_json::json!({"frame": 64, "index": 0}), "the ACK is request 64's");
    assert_eq!(at(&msgs, 64, 0)["replied_in"], serde_json::json!({"frame": 66, "index": 0}), "answered by the ACK");
}

#[test]
fn a_change_is_answered_by_its_ack_not_by_the_notification_it_causes() {
    let Some(shared) = shared_captures() else {
        eprintln!("skipped: ../shared/captures is absent");
        return;
    };
    let msgs = json(&shared.join("real/rtnl_monitor.pcap"));
    // Request 33 (`ip addr add 192.0.2.1/24 dev d0`, RTM_NEWADDR with ACK) causes the address
    // notification 34 (requester's port 134 and sequence number, sent to `ip monitor`), three
    // route notifications (35-37, port 0, sequence 0), then its ACK 38 to port 134.
    let (request, note, ack) = (at(&msgs, 33, 0), at(&msgs, 34, 0), at(&msgs, 38, 0));
    assert_eq!((request["type"].as_str(), request["seq"].as_u64()), (Some("RTM_NEWADDR"), Some(1795516773)));
    assert_eq!((note["type"].as_str(), note["pid"].as_u64()), (Some("RTM_NEWADDR"), Some(134)));
    assert_eq!(
        (ack["type"].as_str(), ack["errno"].as_i64(), ack["pid"].as_u64()),
        (Some("NLMSG_ERROR"), Some(0), Some(134))
    );
    assert_eq!(request["replied_in"], serde_json::json!({"frame": 38, "index": 0}));
    assert_eq!(request["latency_ns"], 5_011_000, "the ACK's latency");
    assert_eq!(ack["reply_to"], serde_json::json!({"frame": 33, "index": 0}));
    assert_eq!(ack["latency_ns"], 5_011_000);
    // The notification still names its cause, with its own latency.
    assert_eq!(note["reply_to"], serde_json::json!({"frame": 33, "index": 0}));
    assert_eq!((note["notification"].as_bool(), note["latency_ns"].as_i64()), (Some(true), Some(550_000)));
    assert!(ack.get("notification").is_none());
    // The summary line says so too.
    let out = bin().arg("-r").arg(shared.join("real/rtnl_monitor.pcap")).arg("-P").output().unwrap();
    let text = stdout(&out);
    let line = |f: &str| text.lines().find(|l| l.trim_start().starts_with(f)).unwrap().to_string();
    assert!(line("33.0 ").ends_with("(answered in 38.0, +5.011 ms)"), "{}", line("33.0 "));
    assert!(line("34.0 ").ends_with("(notification of 33.0, +0.550 ms)"), "{}", line("34.0 "));
}

#[test]
fn rule_flush_acks_sent_to_other_ports_link_by_the_echoed_header() {
    let Some(shared) = shared_captures() else {
        eprintln!("skipped: ../shared/captures is absent");
        return;
    };
    let msgs = json(&shared.join("real/rtnl_rule.pcap"));
    // Frame 68: rule 66.1 of the flush's dump 65 (66.0, the local table's rule, is kept), length
    // 68, sent back as RTM_DELRULE with the dump's header: port 161, the dumping socket's. Its ACK, frame 69,
    // goes to the port of the socket that really sent it, 2444852532, and echoes that header.
    let (del, ack) = (at(&msgs, 68, 0), at(&msgs, 69, 0));
    assert_eq!(
        (del["type"].as_str(), del["seq"].as_u64(), del["pid"].as_u64(), del["len"].as_u64()),
        (Some("RTM_DELRULE"), Some(1795516720), Some(161), Some(68))
    );
    assert_eq!((ack["pid"].as_u64(), ack["errno"].as_i64()), (Some(2444852532), Some(0)));
    let echoed = json_named(&ack["body"], "nlmsg_pid");
    assert_eq!(echoed.len(), 2, "the ACK's header and the echoed one");
    assert_eq!(echoed[1]["value"], 161);
    assert_eq!(json_named(&ack["body"], "nlmsg_len")[1]["value"], 68);
    assert_eq!(del["replied_in"], serde_json::json!({"frame": 69, "index": 0}));
    assert_eq!(ack["reply_to"], serde_json::json!({"frame": 68, "index": 0}));
    assert_eq!((del["latency_ns"].as_i64(), ack["latency_ns"].as_i64()), (Some(188_000), Some(188_000)));
    // The last of the second flush (port 162), table 253 (default), and its ACK.
    assert_eq!(at(&msgs, 117, 0)["pid"], 162);
    assert_eq!(at(&msgs, 117, 0)["replied_in"], serde_json::json!({"frame": 118, "index": 0}));
    assert_eq!(at(&msgs, 118, 0)["reply_to"], serde_json::json!({"frame": 117, "index": 0}));
    assert_eq!(at(&msgs, 118, 0)["latency_ns"], 35_000);
    // All 24 (4 + 20) are answered, each by the ACK right after it.
    let dels: Vec<_> = msgs.iter().filter(|m| m["type"] == "RTM_DELRULE" && m["pid"] != 0).collect();
    assert_eq!(dels.len(), 24);
    for d in dels {
        let f = d["frame"].as_u64().unwrap();
        assert_eq!(d["replied_in"], serde_json::json!({"frame": f + 1, "index": 0}), "frame {f}");
    }
}

#[test]
fn fib_lookup_answers_are_the_requests_own_bytes_sent_back() {
    let msgs = json(&Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/fib_lookup_usersock.pcap"));
    // nl_fib_input() fills in the result and unicasts the request's own skb back: same header,
    // REQUEST|ACK included. Frame 1 asks for 192.0.2.5, frame 2 answers with prefix length 24 in
    // table 254 (main).
    let (request, answer) = (at(&msgs, 1, 0), at(&msgs, 2, 0));
    assert_eq!((request["direction"].as_str(), answer["direction"].as_str()), (Some("to-kernel"), Some("to-user")));
    assert_eq!(request["replied_in"], serde_json::json!({"frame": 2, "index": 0}));
    assert_eq!(answer["reply_to"], serde_json::json!({"frame": 1, "index": 0}));
    assert_eq!(answer["latency_ns"], 385_000);
}

/// The requests `--summary` lists as left unanswered, one line each.
fn unanswered(path: &Path) -> Vec<String> {
    let out = bin().arg("-r").arg(path).arg("-q").output().unwrap();
    let text = stdout(&out);
    let section = text.split("== Requests left unanswered\n").nth(1).unwrap().split("\n\n").next().unwrap();
    section.lines().map(str::trim).filter(|l| *l != "none").map(str::to_string).collect()
}

#[test]
fn every_request_is_answered_but_the_ones_explained_here() {
    let mut dirs = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("captures")];
    dirs.extend(shared_captures().map(|s| s.join("real")));
    // Captures whose requests are not all answered, and why.
    let expected: &[(&str, &[&str])] = &[
        // TASKSTATS_CMD_ATTR_REGISTER_CPUMASK / DEREGISTER_CPUMASK without NLM_F_ACK: the kernel
        // registers the listener and answers nothing (a GET that returns no message).
        ("genl_taskstats.pcap", &["7.0 TASKSTATS_CMD_GET seq=4", "9.0 TASKSTATS_CMD_GET seq=5"]),
    ];
    let mut seen = 0;
    for dir in &dirs {
        let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).collect();
        files.retain(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"));
        files.sort();
        for f in files {
            let name = f.file_name().unwrap().to_str().unwrap();
            let got = unanswered(&f);
            seen += 1;
            match expected.iter().find(|(n, _)| *n == name) {
                Some((_, want)) => assert_eq!(got, *want, "{name}"),
                None => assert!(got.is_empty(), "{name}: {got:?}"),
            }
        }
    }
    assert!(seen >= 12, "the bundled captures at least");
}
