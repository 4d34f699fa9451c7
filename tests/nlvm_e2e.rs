//! Live nlmon capture end to end in a real 6.1 kernel with nlmon (../shared/tools/nlvm, qemu):
//! `nlscope -i auto -w` creates its own nlmon device and removes it on SIGTERM, and records the
//! same messages as tcpdump on that device; under a dump of 100,000 routes both record every
//! message and the kernel drops nothing.
//!
//! Takes about a minute: it runs when NLSCOPE_NLVM=1 (as `.ci/run` sets after `nlvm setup
//! --minimal`), and says it skipped otherwise.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A message's JSON without what depends on where it sits in its file (frame numbers, times,
/// links to other frames, offsets) or on the file format (pcap has no direction flags).
fn content(path: &Path) -> Vec<String> {
    let out = bin().arg("-r").arg(path).args(["-T", "json"]).output().unwrap();
    assert!(out.status.success(), "{}: {}", path.display(), stderr(&out));
    fn strip(v: &mut serde_json::Value) {
        if let Some(m) = v.as_object_mut() {
            for k in
                ["frame", "index", "time", "reply_to", "replied_in", "latency_ns", "dump_parts", "direction", "offset"]
            {
                m.remove(k);
            }
        }
        for c in v.as_object_mut().into_iter().flat_map(|m| m.values_mut()) {
            if let Some(a) = c.as_array_mut() {
                a.iter_mut().for_each(strip);
            }
        }
    }
    stdout(&out)
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            strip(&mut v);
            v.to_string()
        })
        .collect()
}

#[test]
fn nlmon_capture_in_a_real_kernel() {
    if std::env::var_os("NLSCOPE_NLVM").is_none() {
        eprintln!("skipped: set NLSCOPE_NLVM=1 (after ../shared/tools/nlvm/nlvm setup --minimal) to run it");
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let nlvm = root.join("../shared/tools/nlvm/nlvm");
    let out_dir = std::env::temp_dir().join(format!("nlscope-nlvm-{}", std::process::id()));
    let run = Command::new(&nlvm)
        .arg("run")
        .arg(root.join("tests/nlvm/nlmon_capture.sh"))
        .arg(&out_dir)
        .arg(&root)
        .output()
        .unwrap();
    let log = stdout(&run) + &stderr(&run);
    assert!(run.status.success(), "{log}");
    // auto made its own device and removed it; nothing was lost.
    assert!(log.contains("capturing on nlscope0"), "{log}");
    assert!(log.contains("nlscope0 removed"), "{log}");
    assert!(log.contains("nlscope exit status 0"), "{log}");
    assert!(!log.contains("DROPPED"), "{log}");
    assert!(log.contains("0 packets dropped by kernel"), "{log}");
    // An existing nlmon device needs CAP_NET_RAW, and the message says how to grant it.
    let nobody = log.split("== as nobody").nth(1).unwrap_or_default();
    assert!(nobody.contains("CAP_NET_RAW") && nobody.contains("setcap"), "{log}");
    // Everything tcpdump recorded, nlscope recorded the same (it started earlier: its own
    // nlctrl dump comes first).
    let ours = content(&out_dir.join("nlscope.pcapng"));
    let theirs = content(&out_dir.join("tcpdump.pcap"));
    assert!(theirs.len() > 20, "{}", theirs.len());
    assert!(ours.len() >= theirs.len(), "{} < {}", ours.len(), theirs.len());
    assert_eq!(ours[ours.len() - theirs.len()..], theirs[..]);
    // The big dump: the same 100,022 messages in both (the dump, its request and its end), after
    // nlscope's own nlctrl dump.
    let ours = content(&out_dir.join("dump_nlscope.pcap"));
    let theirs = content(&out_dir.join("dump_tcpdump.pcap"));
    assert!(theirs.len() > 100_000, "{}", theirs.len());
    assert!(ours.len() >= theirs.len(), "{} < {}", ours.len(), theirs.len());
    assert!(ours[ours.len() - theirs.len()..] == theirs[..], "the dump captures differ");
}
