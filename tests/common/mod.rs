//! Helpers shared by the integration tests: building pcap files from hand-made records, running
//! the real binary, and finding the shared real captures when they are there.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// A little-endian pcap file header (microseconds) with this link type and snapshot length.
pub fn pcap_header(linktype: u32, snaplen: u32) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    v.extend_from_slice(&2u16.to_le_bytes());
    v.extend_from_slice(&4u16.to_le_bytes());
    v.extend_from_slice(&[0; 8]);
    v.extend_from_slice(&snaplen.to_le_bytes());
    v.extend_from_slice(&linktype.to_le_bytes());
    v
}

/// A pcap record holding `data` (captured length = original length unless `orig` is bigger).
pub fn pcap_record(ts_sec: u32, data: &[u8], orig: usize) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&ts_sec.to_le_bytes());
    v.extend_from_slice(&0u32.to_le_bytes());
    v.extend_from_slice(&(data.len() as u32).to_le_bytes());
    v.extend_from_slice(&(orig.max(data.len()) as u32).to_le_bytes());
    v.extend_from_slice(data);
    v
}

/// The 16-byte LINKTYPE_NETLINK header for a netlink protocol.
pub fn cooked(protocol: u16) -> Vec<u8> {
    let mut v = vec![0u8; 16];
    v[0..2].copy_from_slice(&4u16.to_be_bytes());
    v[2..4].copy_from_slice(&824u16.to_be_bytes());
    v[14..16].copy_from_slice(&protocol.to_be_bytes());
    v
}

/// A little-endian netlink message: header then `payload`, `nlmsg_len` as given (or true length).
pub fn nlmsg(ty: u16, flags: u16, seq: u32, pid: u32, payload: &[u8], len: Option<u32>) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&len.unwrap_or(16 + payload.len() as u32).to_le_bytes());
    v.extend_from_slice(&ty.to_le_bytes());
    v.extend_from_slice(&flags.to_le_bytes());
    v.extend_from_slice(&seq.to_le_bytes());
    v.extend_from_slice(&pid.to_le_bytes());
    v.extend_from_slice(payload);
    v
}

/// A little-endian attribute, padded to 4 bytes; `len` overrides `nla_len`.
pub fn nlattr(ty: u16, payload: &[u8], len: Option<u16>) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&len.unwrap_or(4 + payload.len() as u16).to_le_bytes());
    v.extend_from_slice(&ty.to_le_bytes());
    v.extend_from_slice(payload);
    while v.len() % 4 != 0 {
        v.push(0);
    }
    v
}

/// `struct ifinfomsg` for an interface index.
pub fn ifinfomsg(index: i32) -> Vec<u8> {
    let mut v = vec![0u8; 16];
    v[4..8].copy_from_slice(&index.to_le_bytes());
    v
}

/// A whole pcap file with one netlink frame per payload, for protocol `protocol`.
pub fn netlink_pcap(protocol: u16, frames: &[Vec<u8>]) -> Vec<u8> {
    let mut f = pcap_header(253, 262_144);
    for (i, payload) in frames.iter().enumerate() {
        let mut rec = cooked(protocol);
        rec.extend_from_slice(payload);
        f.extend(pcap_record(1_700_000_000 + i as u32, &rec, 0));
    }
    f
}

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nlscope"))
}

/// Runs nlscope on bytes given as a file.
pub fn run_on_bytes(bytes: &[u8], args: &[&str]) -> Output {
    let dir = std::env::temp_dir().join(format!("nlscope-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{:x}.pcap", fxhash(bytes) ^ fxhash(args.join(" ").as_bytes())));
    std::fs::write(&path, bytes).unwrap();
    let out = bin().arg("-r").arg(&path).args(args).output().unwrap();
    let _ = std::fs::remove_file(&path);
    out
}

/// Runs nlscope with `-r -` and `args`, feeding `bytes` on standard input.
pub fn run_on_stdin(bytes: &[u8], args: &[&str]) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = bin().args(["-r", "-"]).args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    child.wait_with_output().unwrap()
}

fn fxhash(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &x| (h ^ u64::from(x)).wrapping_mul(0x100_0000_01b3))
}

/// `../shared/captures` beside the project, when present (tests that use it skip otherwise).
pub fn shared_captures() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/captures");
    p.is_dir().then_some(p)
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every node of a JSON message body named `name`, depth-first.
pub fn json_named<'a>(body: &'a serde_json::Value, name: &str) -> Vec<&'a serde_json::Value> {
    fn walk<'a>(nodes: &'a serde_json::Value, name: &str, out: &mut Vec<&'a serde_json::Value>) {
        for n in nodes.as_array().into_iter().flatten() {
            if n["name"] == name {
                out.push(n);
            }
            walk(&n["children"], name, out);
        }
    }
    let mut out = Vec::new();
    walk(body, name, &mut out);
    out
}

/// The first node named by the last part of `path` in a JSON message, each part looked for
/// (depth-first) under the node found for the part before.
pub fn json_path<'a>(msg: &'a serde_json::Value, path: &[&str]) -> &'a serde_json::Value {
    let mut at = &msg["body"];
    let mut last = None;
    for name in path {
        let n = *json_named(at, name).first().unwrap_or_else(|| panic!("no {name} (path {path:?}) in {msg:#}"));
        at = &n["children"];
        last = Some(n);
    }
    last.expect("a path")
}

/// Whether any node of a JSON message body is unknown or malformed.
pub fn json_has_problem(nodes: &serde_json::Value) -> bool {
    nodes
        .as_array()
        .into_iter()
        .flatten()
        .any(|n| n.get("unknown").is_some() || n.get("error").is_some() || json_has_problem(&n["children"]))
}
