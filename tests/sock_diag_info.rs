//! INET_DIAG_INFO laid out by the socket's protocol: struct tcp_info for TCP, struct mptcp_info
//! for MPTCP (whose requests say IPPROTO_TCP in sdiag_protocol and 262 in INET_DIAG_REQ_PROTOCOL),
//! struct sctp_info for SCTP; a reply whose request is not in the capture is taken as TCP and
//! says so.
//!
//! `captures/sock_diag_info.pcap` is a real nlmon capture of a 6.1 kernel in the nlvm VM
//! (`tools/nlvm_sock_diag_info.sh`: `ss -M -i`, `ss --sctp -i -a` and `ss -t -i` over an MPTCP
//! connection, an SCTP association and a TCP connection on loopback); the values checked here are
//! the ones `ss` printed from the same replies (its job log). The 6.18 bytes below come from this
//! machine's kernel (6.18.44), recorded with `tools/record_mptcp_diag.py`.

mod common;

use common::*;
use serde_json::Value;

fn json_lines(out: &std::process::Output) -> Vec<Value> {
    assert!(out.status.success(), "{}", stderr(out));
    stdout(out).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn capture() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/sock_diag_info.pcap")
}

/// The payloads (after the 16-byte LINKTYPE_NETLINK header) of a little-endian pcap file.
fn payloads(file: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut pos = 24;
    while pos + 16 <= file.len() {
        let len = u32::from_le_bytes(file[pos + 8..pos + 12].try_into().unwrap()) as usize;
        out.push(file[pos + 16 + 16..pos + 16 + len].to_vec());
        pos += 16 + len;
    }
    out
}

fn message(lines: &[Value], frame: u64, index: u64) -> &Value {
    lines.iter().find(|m| m["frame"] == frame && m["index"] == index).unwrap_or_else(|| panic!("no {frame}.{index}"))
}

/// The body node named `name` (first, depth-first).
fn node<'a>(nodes: &'a Value, name: &str) -> Option<&'a Value> {
    nodes.as_array()?.iter().find_map(|n| if n["name"] == name { Some(n) } else { node(&n["children"], name) })
}

fn info(m: &Value) -> &Value {
    node(&m["body"], "INET_DIAG_INFO").unwrap_or_else(|| panic!("no INET_DIAG_INFO in {m}"))
}

fn member<'a>(n: &'a Value, name: &str) -> &'a Value {
    &node(&n["children"], name).unwrap_or_else(|| panic!("no {name} in {n}"))["value"]
}

#[test]
fn mptcp_sctp_and_tcp_info_from_a_real_6_1_kernel() {
    let lines = json_lines(&bin().arg("-r").arg(capture()).args(["-T", "json"]).output().unwrap());
    assert_eq!(lines.len(), 22);
    for m in &lines {
        assert!(!json_has_problem(&m["body"]), "{}.{}", m["frame"], m["index"]);
        assert!(m.get("unknown").is_none());
    }

    // ss -M -i: the client's end (ss: "subflows_max:2 remote_key token:99dc0c4a
    // write_seq:8e5c55301e12d590 snd_una:8e5c55301e12d590 rcv_nxt:3049a90a468cbfcf").
    let client = message(&lines, 2, 0);
    assert_eq!(client["reply_to"], serde_json::json!({"frame": 1, "index": 0}));
    let i = info(client);
    assert_eq!(i["kind"], "binary (struct mptcp_info)");
    assert_eq!(i["length"], 4 + 48, "6.1 sends the 48 bytes of its struct mptcp_info");
    assert_eq!(member(i, "mptcpi_subflows_max"), 2);
    assert_eq!(member(i, "mptcpi_flags")["flags"], serde_json::json!(["MPTCP_INFO_FLAG_REMOTE_KEY_RECEIVED"]));
    assert_eq!(member(i, "mptcpi_token"), 0x99dc_0c4a_u64);
    assert_eq!(member(i, "mptcpi_write_seq"), 0x8e5c_5530_1e12_d590_u64);
    assert_eq!(member(i, "mptcpi_snd_una"), 0x8e5c_5530_1e12_d590_u64);
    assert_eq!(member(i, "mptcpi_rcv_nxt"), 0x3049_a90a_468c_bfcf_u64);
    // The server's end: "token:3e02854f".
    assert_eq!(member(info(message(&lines, 2, 1)), "mptcpi_token"), 0x3e02_854f_u64);

    // ss --sctp -i -a: the association of the listening end ("tag:db2f1fc2 state:ESTAB rwnd:103496
    // instrms:10 outstrms:10 maxburst:4 maxseg:65484 prwnd:106496 ptag:b4c93383 pcapable:98
    // psack:2"). The kernel sends it without NLM_F_MULTI, inside the dump.
    let assoc = message(&lines, 7, 2);
    assert_eq!(assoc["flags"], serde_json::json!([]));
    assert_eq!(assoc["reply_to"], serde_json::json!({"frame": 6, "index": 0}));
    let i = info(assoc);
    assert_eq!(i["kind"], "binary (struct sctp_info)");
    for (name, value) in [
        ("sctpi_tag", 0xdb2f_1fc2_u64),
        ("sctpi_rwnd", 103_496),
        ("sctpi_instrms", 10),
        ("sctpi_outstrms", 10),
        ("sctpi_max_burst", 4),
        ("sctpi_maxseg", 65_484),
        ("sctpi_peer_rwnd", 106_496),
        ("sctpi_peer_tag", 0xb4c9_3383),
        ("sctpi_peer_capable", 98),
        ("sctpi_peer_sack", 2),
    ] {
        assert_eq!(member(i, name), value, "{name}");
    }
    // "state:ESTAB" is the association's enum sctp_state, 3, in idiag_state and sctpi_state (3
    // would be TCP_SYN_RECV for a TCP socket); its primary path is SCTP_ACTIVE.
    let state = node(&assoc["body"], "idiag_state").unwrap();
    assert_eq!(state["value"], serde_json::json!({"value": 3, "name": "SCTP_STATE_ESTABLISHED"}));
    assert_eq!(member(i, "sctpi_state")["name"], "SCTP_STATE_ESTABLISHED");
    assert_eq!(member(i, "sctpi_p_state"), &serde_json::json!({"value": 2, "name": "SCTP_ACTIVE"}));
    // The endpoints themselves have TCP states: the listener, and the accepted socket.
    let listener = message(&lines, 7, 0);
    assert_eq!(node(&listener["body"], "idiag_state").unwrap()["value"]["name"], "TCP_LISTEN");
    assert_eq!(node(&message(&lines, 7, 1)["body"], "idiag_state").unwrap()["value"]["name"], "TCP_ESTABLISHED");
    let primary = node(&i["children"], "sctpi_p_address").unwrap();
    assert_eq!(member(primary, "family")["name"], "AF_INET");
    assert_eq!(member(primary, "port"), 57_853);
    // The other end's association: "ptag:db2f1fc2 psack:6"; the listener itself sends zeros.
    assert_eq!(member(info(message(&lines, 7, 4)), "sctpi_peer_tag"), 0xdb2f_1fc2_u64);
    assert_eq!(member(info(message(&lines, 7, 4)), "sctpi_peer_sack"), 6);
    assert_eq!(member(info(message(&lines, 7, 0)), "sctpi_tag"), 0);
    // Every part, with NLM_F_MULTI or not, belongs to the dump that NLMSG_DONE ends.
    let done = message(&lines, 8, 0);
    assert_eq!(done["reply_to"], serde_json::json!({"frame": 6, "index": 0}));
    assert_eq!(done["dump_parts"], 5);

    // ss -t -i: "mss:32768 rcvmss:3000 advmss:65483 ... rcv_space:65483 snd_wnd:65536".
    let i = info(message(&lines, 14, 0));
    assert_eq!(i["kind"], "binary (struct tcp_info)");
    assert_eq!(member(i, "tcpi_snd_mss"), 32_768);
    assert_eq!(member(i, "tcpi_rcv_mss"), 3000);
    assert_eq!(member(i, "tcpi_advmss"), 65_483);
    assert_eq!(member(i, "tcpi_rcv_space"), 65_483);
    assert_eq!(member(i, "tcpi_snd_wnd"), 65_536);
}

#[test]
fn a_reply_without_its_request_is_taken_as_tcp_and_says_so() {
    let file = std::fs::read(capture()).unwrap();
    let frames = payloads(&file);
    // Frame 2 alone: the MPTCP replies, their request left out.
    let lines = json_lines(&run_on_bytes(&netlink_pcap(4, &frames[1..2]), &["-T", "json"]));
    let i = info(&lines[0]);
    assert_eq!(
        i["kind"],
        "binary (struct tcp_info); protocol tcp assumed: the message does not say and the request is not in the capture"
    );
    assert!(node(&i["children"], "tcpi_state").is_some());
    // With the request before it, the same bytes are MPTCP's.
    let lines = json_lines(&run_on_bytes(&netlink_pcap(4, &frames[0..2]), &["-T", "json"]));
    assert_eq!(info(&lines[1])["kind"], "binary (struct mptcp_info)");
}

/// Recorded on this machine's kernel (6.18.44) by `unshare -n python3 tools/record_mptcp_diag.py`:
/// the request `ss -Mi` sends and the reply for one end of an MPTCP connection over loopback that
/// has sent 500 bytes ("hello" * 100). Payloads after the netlink header.
const REQUEST_6_18: &str = "02060200ff0b00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000800030006010000";
const REPLY_6_18: &str = "02010000b73415b37f0000010000000000000000000000007f000001000000000000000000000000000000001c00000000000000000000000000000000000000000000007d440400050008000000000008000f00000000000c001500010000000000000006001600520000006400020000000002000000000200000007babe7e2de00d095bb162992de00d095bb16299419936ddf86e945000000000000000000000000000000000f4010000000000000000000000000000f40100000000000001000000000000000000000000000000";

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

#[test]
fn mptcp_info_of_a_6_18_kernel_has_the_newer_members() {
    let request = nlmsg(20, 0x301, 1, 0, &unhex(REQUEST_6_18), None);
    let reply = nlmsg(20, 0x2, 1, 31_503, &unhex(REPLY_6_18), None);
    let lines = json_lines(&run_on_bytes(&netlink_pcap(4, &[request, reply]), &["-T", "json"]));
    assert_eq!(node(&lines[0]["body"], "INET_DIAG_REQ_PROTOCOL").unwrap()["value"]["name"], "IPPROTO_MPTCP");
    let i = info(&lines[1]);
    assert!(!json_has_problem(&lines[1]["body"]));
    assert_eq!(i["kind"], "binary (struct mptcp_info)");
    assert_eq!(i["length"], 4 + 96);
    // Values read from the bytes with Python's struct module, independently of the spec.
    for (name, value) in [
        ("mptcpi_subflows_max", 2u64),
        ("mptcpi_token", 0x7ebe_ba07),
        ("mptcpi_write_seq", 0x9962_b15b_090d_e02d),
        ("mptcpi_rcv_nxt", 0x5094_6ef8_dd36_9941),
        ("mptcpi_retransmits", 0),
        ("mptcpi_bytes_sent", 500),
        ("mptcpi_bytes_received", 0),
        ("mptcpi_bytes_acked", 500),
        ("mptcpi_subflows_total", 1),
        ("mptcpi_last_ack_recv", 0),
    ] {
        assert_eq!(member(i, name), value, "{name}");
    }
}
