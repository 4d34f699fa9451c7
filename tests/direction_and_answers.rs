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
    assert_eq!(at(&msgs, 66, 0)["reply_to"], serde_json::json!({"frame": 64, "index": 0}), "the ACK is request 64's");
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
        // `ip rule flush` sends each dumped rule back as RTM_DELRULE with the dump's header, port
        // 161 (the socket that dumped) included, from another socket: the ACKs go to that
        // socket's port, which no request names. Linking them by sequence number alone would
        // pair unrelated programs whose time-based sequence numbers agree; left unlinked.
        ("rtnl_rule.pcap", &[]),
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
                Some(("rtnl_rule.pcap", _)) => {
                    assert_eq!(got.len(), 24, "{name}: {got:?}");
                    assert!(got.iter().all(|l| l.contains(" RTM_DELRULE seq=1795516720")), "{name}: {got:?}");
                }
                Some((_, want)) => assert_eq!(got, *want, "{name}"),
                None => assert!(got.is_empty(), "{name}: {got:?}"),
            }
        }
    }
    assert!(seen >= 12, "the bundled captures at least");
}
