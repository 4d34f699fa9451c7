//! Hostile and broken input: every case gets a clear message or a problem node with its byte
//! span, the rest is still decoded, and nothing panics, hangs or allocates without bound.

mod common;

use common::*;
use nlscope::capture::{self, CaptureReader};
use nlscope::decode::Decoder;
use nlscope::spec::Registry;
use nlscope::tree::Problem;

fn reader(bytes: Vec<u8>) -> Result<CaptureReader, capture::CaptureError> {
    CaptureReader::new("test".into(), Box::new(std::io::Cursor::new(bytes)))
}

fn ok_link() -> Vec<u8> {
    let mut p = ifinfomsg(1);
    p.extend(nlattr(3, b"lo\0", None));
    p.extend(nlattr(4, &65536u32.to_le_bytes(), None));
    nlmsg(16, 0, 1, 0, &p, None)
}

#[test]
fn empty_file_is_a_clear_error() {
    let e = reader(Vec::new()).err().unwrap().to_string();
    assert!(e.contains("is empty"), "{e}");
}

#[test]
fn text_file_is_named_as_text() {
    let e = reader(b"hello, this is not a capture\n".to_vec()).err().unwrap().to_string();
    assert!(e.contains("not a pcap or pcapng file") && e.contains("looks like text"), "{e}");
}

#[test]
fn ethernet_pcap_names_its_link_type() {
    let e = reader(pcap_header(1, 65535)).err().unwrap().to_string();
    assert!(e.contains("link type 1 (ETHERNET)") && e.contains("not netlink"), "{e}");
    let out = run_on_bytes(&pcap_header(1, 65535), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("ETHERNET"), "{}", stderr(&out));
}

#[test]
fn truncated_file_header() {
    let e = reader(pcap_header(253, 65535)[..10].to_vec()).err().unwrap().to_string();
    assert!(e.contains("ends inside its header"), "{e}");
}

#[test]
fn truncated_last_record_keeps_the_frames_before() {
    let mut f = netlink_pcap(0, &[ok_link(), ok_link()]);
    f.truncate(f.len() - 10);
    let items: Vec<_> = reader(f).unwrap().collect();
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok());
    let e = items[1].as_ref().err().unwrap().to_string();
    assert!(e.contains("record 2") && e.contains("truncated"), "{e}");
}

#[test]
fn captured_length_above_snapshot_length_is_read_not_looped() {
    // pcap-file 2.0.0 loops forever here; the record is fine, only the header's snaplen is small.
    let mut f = pcap_header(253, 40);
    let mut rec = cooked(0);
    rec.extend(ok_link());
    assert!(rec.len() > 40);
    f.extend(pcap_record(1, &rec, 0));
    f.extend(pcap_record(2, &rec, 0));
    let frames: Vec<_> = reader(f).unwrap().collect::<Result<_, _>>().unwrap();
    assert_eq!(frames.len(), 2);
    let reg = Registry::builtin().unwrap();
    let mut d = Decoder::new(&reg);
    let m = &d.decode_frame(&frames[1]).messages[0];
    assert_eq!(m.type_name(), Some("RTM_NEWLINK"));
}

#[test]
fn record_length_that_lies_is_refused_without_allocating() {
    let mut f = pcap_header(253, 65535);
    let mut rec = pcap_record(1, &cooked(0), 0);
    rec[8..12].copy_from_slice(&0xfff0_0000u32.to_le_bytes());
    f.extend(rec);
    let items: Vec<_> = reader(f).unwrap().collect();
    let e = items[0].as_ref().err().unwrap().to_string();
    assert!(e.contains("claims 4293918736 bytes"), "{e}");
}

fn decode_one(payload: Vec<u8>) -> nlscope::decode::DecodedFrame {
    let reg = Registry::builtin().unwrap();
    let mut d = Decoder::new(&reg);
    let frame = reader(netlink_pcap(0, &[payload])).unwrap().next().unwrap().unwrap();
    d.decode_frame(&frame)
}

#[test]
fn nlmsg_len_below_header_is_a_problem_after_good_messages() {
    let mut p = ok_link();
    p.extend(nlmsg(16, 0, 2, 0, &[0; 8], Some(8)));
    let d = decode_one(p);
    assert_eq!(d.messages.len(), 1);
    let prob = d.problem.unwrap();
    let node = prob.node(0);
    assert_eq!((node.offset(), node.length()), (16 + 48, 24));
    assert!(matches!(node.problem, Some(Problem::Malformed(_))));
    assert!(prob.problem_text(node.problem.unwrap()).contains("nlmsg_len 8"));
}

#[test]
fn nlmsg_len_beyond_frame_is_truncated_but_decoded() {
    let mut m = ok_link();
    m[0..4].copy_from_slice(&200u32.to_le_bytes());
    let d = decode_one(m);
    let msg = &d.messages[0];
    let header = msg.tree.node(msg.header_node().unwrap());
    assert!(matches!(header.problem, Some(Problem::Truncated(_))));
    assert!(msg.tree.problem_text(header.problem.unwrap()).contains("runs past"));
    assert_eq!(msg.tree.str_value(msg.find("IFLA_IFNAME").unwrap()), Some("lo"));
}

#[test]
fn attribute_shorter_than_its_header_is_a_problem_node() {
    let mut p = ifinfomsg(2);
    p.extend(nlattr(3, b"eth0\0", None));
    p.extend([2, 0, 4, 0, 0, 0, 0, 0]);
    let d = decode_one(nlmsg(16, 0, 1, 0, &p, None));
    let msg = &d.messages[0];
    let bad = msg.tree.node(msg.tree.roots_from(msg.body_start).last().unwrap());
    assert_eq!(bad.offset(), 16 + 16 + 16 + 12);
    assert_eq!(bad.length(), 8);
    assert!(matches!(bad.problem, Some(Problem::Malformed(_))));
    assert!(msg.tree.problem_text(bad.problem.unwrap()).contains("shorter than its 4-byte header"));
    assert!(msg.find("IFLA_IFNAME").is_some());
}

#[test]
fn attribute_beyond_its_parent_is_a_problem_node() {
    let mut inner = nlattr(1, b"vxlan\0", None);
    inner.extend([100, 0, 2, 0]);
    let mut p = ifinfomsg(3);
    p.extend(nlattr(18, &inner, None));
    let d = decode_one(nlmsg(16, 0, 1, 0, &p, None));
    let msg = &d.messages[0];
    let linkinfo = msg.find("IFLA_LINKINFO").unwrap();
    let children: Vec<_> = msg.tree.children(linkinfo).collect();
    assert_eq!(msg.tree.name(children[0]), "IFLA_INFO_KIND");
    let bad = msg.tree.node(children[1]).problem.unwrap();
    assert!(matches!(bad, Problem::Malformed(_)));
    assert!(msg.tree.problem_text(bad).contains("runs past"));
}

#[test]
fn thousand_deep_nesting_is_capped() {
    let mut a = nlattr(1, &[1, 2, 3, 4], None);
    for _ in 0..1000 {
        a = nlattr(0x8001, &a, None);
        if a.len() > 60_000 {
            break;
        }
    }
    // Generic netlink with an unknown family walks the nest generically.
    let mut p = vec![3, 1, 0, 0];
    p.extend(a);
    let reg = Registry::builtin().unwrap();
    let mut d = Decoder::new(&reg);
    let frame = reader(netlink_pcap(16, &[nlmsg(0x30, 0, 1, 0, &p, None)])).unwrap().next().unwrap().unwrap();
    let df = d.decode_frame(&frame);
    let deepest = 1 + df.messages[0].tree.nodes().iter().map(|n| usize::from(n.depth)).max().unwrap();
    assert!((30..=40).contains(&deepest), "depth {deepest}");
}

#[test]
fn broken_pipe_ends_quietly() {
    let f = netlink_pcap(0, &vec![ok_link(); 5000]);
    let dir = std::env::temp_dir().join(format!("nlscope-pipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("many.pcap");
    std::fs::write(&path, f).unwrap();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{} -r {} -V | head -n 3; echo \"rc=${{PIPESTATUS:-0}}\"",
            env!("CARGO_BIN_EXE_nlscope"),
            path.display()
        ))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 4);
}

#[test]
fn stdin_is_a_source() {
    let out = run_on_stdin(&netlink_pcap(0, &[ok_link()]), &["-T", "json"]);
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(v["type"], "RTM_NEWLINK");
    assert_eq!(v["body"][1]["name"], "ifinfomsg");
    assert_eq!(v["body"][2]["name"], "IFLA_IFNAME");
    assert_eq!(v["body"][2]["value"], "lo");
    assert_eq!(v["body"][2]["offset"], 16 + 16 + 16);
}

#[test]
fn a_live_pipe_shows_each_frame_as_it_arrives() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::Stdio;
    let mut child = bin().args(["-r", "-"]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    let first = netlink_pcap(0, &[ok_link()]);
    input.write_all(&first).unwrap();
    input.flush().unwrap();
    // The first frame must be printed while the writer still holds the pipe open.
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        tx.send(line).unwrap();
    });
    let line = rx.recv_timeout(std::time::Duration::from_secs(10)).expect("frame 1 printed before the pipe closed");
    assert!(line.contains("RTM_NEWLINK") && line.contains("dev lo"), "{line}");
    drop(input);
    assert!(child.wait().unwrap().success());
}
