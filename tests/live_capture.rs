//! Live paths on this machine's kernel: monitor mode in a network namespace of the test's own
//! (`unshare -n`, as root; skipped otherwise) sees the notifications for the links, addresses and
//! routes the test makes, the uevents of the new device and generic netlink events; and capture
//! files nlscope writes read back as what was read, and decode in tshark when it is installed.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn json(path: &Path) -> Vec<serde_json::Value> {
    let out = bin().arg("-r").arg(path).args(["-T", "json"]).output().unwrap();
    assert!(out.status.success(), "{}: {}", path.display(), stderr(&out));
    stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn values(nodes: &serde_json::Value, name: &str, out: &mut Vec<serde_json::Value>) {
    for n in nodes.as_array().into_iter().flatten() {
        if n["name"] == name {
            out.push(n["value"].clone());
        }
        values(&n["children"], name, out);
    }
}

fn all(msgs: &[serde_json::Value], name: &str) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for m in msgs {
        values(&m["body"], name, &mut out);
    }
    out
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nlscope-live-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// True when this test can make network namespaces (root, unshare).
fn can_unshare() -> bool {
    Command::new("unshare").args(["-n", "true"]).status().is_ok_and(|s| s.success())
}

#[test]
fn monitor_mode_sees_what_the_test_does() {
    if !can_unshare() {
        eprintln!("skipped: needs root and unshare");
        return;
    }
    let file = temp("monitor.pcapng");
    let script = format!(
        "{bin} --monitor -w {file} --duration 2.5 & sleep 0.7; \
         ip link add nls0 type veth peer name nls1 && ip link set nls0 up && \
         ip addr add 192.0.2.1/24 dev nls0 && ip route add 198.51.100.0/24 via 192.0.2.2 dev nls0; \
         ip link del nls0; wait",
        bin = env!("CARGO_BIN_EXE_nlscope"),
        file = file.display()
    );
    let out = Command::new("unshare").args(["-n", "sh", "-c", &script]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("monitor ended:"), "{}", stderr(&out));
    let msgs = json(&file);
    let of = |ty: &str| msgs.iter().filter(|m| m["type"] == ty).cloned().collect::<Vec<_>>();
    // Notifications, known to go to user space.
    assert!(of("RTM_NEWLINK").iter().all(|m| m["direction"] == "to-user"));
    assert!(all(&of("RTM_NEWLINK"), "IFLA_IFNAME").contains(&"nls0".into()), "{msgs:?}");
    assert!(all(&of("RTM_NEWLINK"), "IFLA_INFO_KIND").contains(&"veth".into()));
    assert!(all(&of("RTM_DELLINK"), "IFLA_IFNAME").contains(&"nls0".into()));
    assert!(all(&of("RTM_NEWADDR"), "IFA_LOCAL").contains(&"192.0.2.1".into()));
    assert!(all(&of("RTM_NEWROUTE"), "RTA_DST").contains(&"198.51.100.0".into()));
    assert!(all(&of("RTM_NEWROUTE"), "RTA_GATEWAY").contains(&"192.0.2.2".into()));
    // The device's uevents.
    let uevents: Vec<_> = msgs.iter().filter(|m| m["family"] == "kobject_uevent").collect();
    let actions = all(&uevents.iter().map(|m| (*m).clone()).collect::<Vec<_>>(), "ACTION");
    assert!(actions.contains(&"add".into()) && actions.contains(&"remove".into()), "{actions:?}");
    assert!(all(&msgs, "DEVPATH").iter().any(|p| p.as_str().is_some_and(|p| p.ends_with("/net/nls0"))));
    // Generic netlink: nlscope's own nlctrl dump at the start names the families, so the file
    // decodes them by name (and the kernel's events, where it sends some, e.g. netdev's).
    let genl: Vec<_> = msgs.iter().filter(|m| m["family"] == "generic").collect();
    assert!(genl.iter().any(|m| m["type"] == "CTRL_CMD_NEWFAMILY" && m["direction"] == "to-user"));
    assert!(genl.iter().any(|m| m["type"] == "CTRL_CMD_GETFAMILY" && m["direction"] == "to-kernel"));
    let unnamed: Vec<_> =
        genl.iter().filter(|m| m["type_id"].as_u64() >= Some(16) && m.get("genl_family").is_none()).collect();
    assert!(unnamed.is_empty(), "every generic message is named: {unnamed:?}");
}

#[test]
fn written_captures_read_back_as_what_was_read() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/nlvm_uncaptured_families.pcapng");
    for name in ["copy.pcap", "copy.pcapng"] {
        let out_path = temp(name);
        let out = bin().arg("-r").arg(&src).arg("-w").arg(&out_path).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(out.stdout.is_empty(), "-w alone prints nothing");
        assert!(stderr(&out).contains("45 frames written"), "{}", stderr(&out));
        let mut a = json(&src);
        let mut b = json(&out_path);
        if name.ends_with(".pcap") {
            // pcap has no direction flags: directions are guessed again from the headers.
            for m in a.iter_mut().chain(b.iter_mut()) {
                m.as_object_mut().unwrap().remove("direction");
            }
        }
        assert_eq!(a, b, "{name}");
        if Command::new("tshark").arg("-v").output().is_ok() {
            let t = Command::new("tshark").arg("-r").arg(&out_path).output().unwrap();
            assert!(t.status.success(), "tshark reads {name}: {}", stderr(&t));
            assert_eq!(stdout(&t).lines().count(), 45, "{name}");
        }
    }
}

#[test]
fn a_ring_of_files_keeps_every_frame() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/rtnl_addr.pcap");
    let base = temp("ring.pcap");
    let out = bin().arg("-r").arg(&src).arg("-w").arg(&base).args(["-C", "0"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // -C 0: every frame starts a new file; the first frames go to ring0.pcap, ring1.pcap...
    let dir = base.parent().unwrap();
    let mut frames = 0;
    for n in 0.. {
        let f = dir.join(format!("ring{n}.pcap"));
        if !f.exists() {
            break;
        }
        let frame_numbers: std::collections::BTreeSet<u64> =
            json(&f).iter().map(|m| m["frame"].as_u64().unwrap()).collect();
        frames += frame_numbers.len();
    }
    assert_eq!(frames, 166);
}
