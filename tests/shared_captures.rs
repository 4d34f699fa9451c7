//! Runs over ../shared/captures (real nlmon captures and public ones) when it is there: every
//! file reads without a capture error, and known values decode right.

mod common;

use common::*;

fn json_lines(path: &std::path::Path) -> Vec<serde_json::Value> {
    let out = bin().arg("-r").arg(path).args(["-T", "json"]).output().unwrap();
    assert!(out.status.success(), "{}: {}", path.display(), stderr(&out));
    stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn every_shared_capture_reads_cleanly() {
    let Some(root) = shared_captures() else { return };
    let mut files = Vec::new();
    for sub in ["real", "public", "public/xtcp2-sock-diag"] {
        for e in std::fs::read_dir(root.join(sub)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "pcap" || x == "pcapng") {
                files.push(p);
            }
        }
    }
    assert!(files.len() > 80, "{} files", files.len());
    for f in &files {
        let lines = json_lines(f);
        assert!(!lines.is_empty(), "{}", f.display());
        // No frame is left undecoded for want of a netlink header.
        for l in &lines {
            assert!(l.get("body").is_some(), "{}: {l}", f.display());
        }
    }
}

#[test]
fn big_route_dump_has_every_message() {
    let Some(root) = shared_captures() else { return };
    let lines = json_lines(&root.join("real/rtnl_route_dump_big.pcap"));
    assert_eq!(lines.len(), 100_020);
    // MANIFEST.md (counted by tshark): 40134 packets, 20000 of them NLMSG_ERROR (the ip -batch ACKs).
    let frames: std::collections::BTreeSet<u64> = lines.iter().map(|l| l["frame"].as_u64().unwrap()).collect();
    assert_eq!(frames.len(), 40_134);
    assert_eq!(lines.iter().filter(|l| l["type"] == "NLMSG_ERROR").count(), 20_000);
    assert_eq!(lines.iter().filter(|l| l["type"] == "NLMSG_DONE").count(), 4);
}

#[test]
fn big_endian_host_capture_decodes() {
    let Some(root) = shared_captures() else { return };
    let lines = json_lines(&root.join("public/wireshark-sample_nlmon-big_rtnl_bigendian-host.pcap"));
    assert_eq!(lines.len(), 13);
    assert_eq!(lines.iter().filter(|l| l["type"] == "RTM_NEWLINK").count(), 12);
    assert_eq!(lines[2]["type"], "RTM_DELNEIGH");
    let first = &lines[0]["body"];
    let ifname = first.as_array().unwrap().iter().find(|n| n["name"] == "IFLA_IFNAME").unwrap();
    assert_eq!(ifname["value"], "eth0");
    let mtu = first.as_array().unwrap().iter().find(|n| n["name"] == "IFLA_MTU").unwrap();
    assert_eq!(mtu["value"], 1500);
}

/// Real kobject uevent payloads published by pyroute2 (hex dumps, see SOURCES.md; the file names
/// are swapped upstream: `_kernel_` holds udev's `libudev` format, `_udevd_` the kernel's).
fn raw_dump(name: &str) -> Option<Vec<u8>> {
    let path = shared_captures()?.join("public/raw/pyroute2").join(name);
    let text = std::fs::read_to_string(path).ok()?;
    let hex: String = text
        .lines()
        .skip_while(|l| l.starts_with('#'))
        .take_while(|l| l.len() > 2 && l.as_bytes()[2] == b':')
        .flat_map(|l| l.split(':'))
        .collect();
    hex::decode(hex).ok()
}

fn uevent_fields(payload: &[u8]) -> Vec<(String, String)> {
    let out = run_on_bytes(&netlink_pcap(15, &[payload.to_vec()]), &["-T", "json"]);
    let m: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(m["family"], "kobject_uevent");
    let body = m["body"].as_array().unwrap();
    assert!(body.iter().all(|n| n.get("unknown").is_none() && n.get("error").is_none()), "{m}");
    body.iter().map(|n| (n["name"].as_str().unwrap().into(), n["value"].as_str().unwrap_or("").into())).collect()
}

#[test]
fn real_uevent_payloads_decode() {
    let (Some(udev), Some(kernel)) =
        (raw_dump("uevent_kernel_backlight.dump"), raw_dump("uevent_udevd_backlight.dump"))
    else {
        return;
    };
    let f = uevent_fields(&udev);
    assert!(f.contains(&("ACTION".into(), "change".into())), "{f:?}");
    assert!(f.contains(&("SUBSYSTEM".into(), "backlight".into())), "{f:?}");
    assert!(f.contains(&("SEQNUM".into(), "19371".into())), "{f:?}");
    let f = uevent_fields(&kernel);
    assert_eq!(
        f[0],
        ("header".into(), "change@/devices/pci0000:00/0000:00:02.0/drm/card0/card0-eDP-1/intel_backlight".into())
    );
    assert!(f.contains(&("SUBSYSTEM".into(), "backlight".into())), "{f:?}");
}

/// Every value of the named node in a message body, depth-first.
fn values_named(nodes: &serde_json::Value, name: &str, out: &mut Vec<serde_json::Value>) {
    for n in nodes.as_array().into_iter().flatten() {
        if n["name"] == name {
            out.push(n["value"].clone());
        }
        values_named(&n["children"], name, out);
    }
}

#[test]
fn mpls_label_stacks_are_labels() {
    // MANIFEST.md: `ip -f mpls route add 300 as 400 via inet 192.0.2.3 dev d0`, routes 301 and
    // 302, and `ip route add 10.10.0.0/16 encap mpls 100/200 via 192.0.2.2 dev d0`.
    let Some(root) = shared_captures() else { return };
    let lines = json_lines(&root.join("real/rtnl_route_encap.pcap"));
    let mut dst = Vec::new();
    let mut newdst = Vec::new();
    let mut encap = Vec::new();
    let mut via = Vec::new();
    for l in lines.iter().filter(|l| l["type"] == "RTM_NEWROUTE" && l["direction"] == "to-kernel") {
        let body = &l["body"];
        let mut family = Vec::new();
        values_named(body, "rtm_family", &mut family);
        if family.first().is_some_and(|f| f["name"] == "AF_MPLS") {
            values_named(body, "RTA_DST", &mut dst);
            values_named(body, "RTA_NEWDST", &mut newdst);
            values_named(body, "rtvia_addr", &mut via);
        }
        values_named(body, "MPLS_IPTUNNEL_DST", &mut encap);
    }
    assert_eq!(dst, ["300", "301", "302"]);
    assert_eq!(newdst, ["400"]);
    // The next hop's own family (AF_INET) governs its address.
    assert_eq!(via, ["192.0.2.3", "192.0.2.4"]);
    assert_eq!(encap, ["100/200"]);
}
