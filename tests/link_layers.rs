//! pcapng files with several interfaces and link types, cooked v1/v2 headers, direction flags,
//! frames cut by the snapshot length, and the output options (-c, -x, --color).

mod common;

use std::borrow::Cow;
use std::time::Duration;

use common::*;
use pcap_file::DataLink;
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock;

fn link_msg(index: i32, name: &[u8]) -> Vec<u8> {
    let mut p = ifinfomsg(index);
    p.extend(nlattr(3, name, None));
    nlmsg(16, 0, 7, 0, &p, None)
}

fn sll2(protocol: u16) -> Vec<u8> {
    let mut v = vec![0u8; 20];
    v[0..2].copy_from_slice(&protocol.to_be_bytes());
    v[8..10].copy_from_slice(&824u16.to_be_bytes());
    v
}

fn epb(interface_id: u32, secs: u64, data: Vec<u8>, flags: Option<u32>) -> EnhancedPacketBlock<'static> {
    let mut b = EnhancedPacketBlock::default();
    b.interface_id = interface_id;
    b.timestamp = Duration::new(secs, 5_000);
    b.original_len = data.len() as u32;
    b.data = Cow::Owned(data);
    b.options = flags.map(|f| vec![EnhancedPacketOption::Flags(f)]).unwrap_or_default();
    b
}

/// Interfaces: 0 netlink (253), 1 Ethernet, 2 Linux cooked v2.
fn mixed_pcapng() -> Vec<u8> {
    let mut w = PcapNgWriter::new(Vec::new()).unwrap();
    for lt in [DataLink::NETLINK, DataLink::ETHERNET, DataLink::LINUX_SLL2] {
        w.write_pcapng_block(InterfaceDescriptionBlock::new(lt, 262_144)).unwrap();
    }
    let mut a = cooked(0);
    a.extend(link_msg(1, b"lo\0"));
    w.write_pcapng_block(epb(0, 1_000, a, Some(1))).unwrap();
    w.write_pcapng_block(epb(1, 1_001, vec![0xff; 60], None)).unwrap();
    let mut c = sll2(0);
    c.extend(link_msg(2, b"eth0\0"));
    w.write_pcapng_block(epb(2, 1_002, c, Some(2))).unwrap();
    w.into_inner()
}

#[test]
fn pcapng_with_mixed_link_types() {
    let out = run_on_bytes(&mixed_pcapng(), &["-T", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["type"], "RTM_NEWLINK");
    assert_eq!(lines[0]["direction"], "to-user", "epb_flags inbound");
    assert_eq!(lines[0]["time"], "1970-01-01T00:16:40.000005000Z");
    assert_eq!(lines[1]["frame"], 2);
    assert!(lines[1]["error"].as_str().unwrap().contains("link type 1 (ETHERNET) is not netlink"));
    // SLL2: tshark 4.0 does not decode netlink inside it; offsets count its 20-byte header.
    assert_eq!(lines[2]["direction"], "to-kernel", "epb_flags outbound");
    let ifname = lines[2]["body"].as_array().unwrap().iter().find(|n| n["name"] == "IFLA_IFNAME").unwrap();
    assert_eq!(ifname["value"], "eth0");
    assert_eq!(ifname["offset"], 20 + 16 + 16);
}

#[test]
fn ethernet_only_pcapng_is_a_clear_error() {
    let mut w = PcapNgWriter::new(Vec::new()).unwrap();
    w.write_pcapng_block(InterfaceDescriptionBlock::new(DataLink::ETHERNET, 65535)).unwrap();
    w.write_pcapng_block(epb(0, 1, vec![0; 60], None)).unwrap();
    let out = run_on_bytes(&w.into_inner(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("link type 1 (ETHERNET), which is not netlink"), "{}", stderr(&out));
}

#[test]
fn frame_cut_by_snapshot_length_says_so() {
    let mut rec = cooked(0);
    rec.extend(link_msg(1, b"verylongname\0"));
    let orig = rec.len();
    rec.truncate(orig - 8);
    let mut f = pcap_header(253, 40);
    f.extend(pcap_record(1, &rec, orig));
    let out = run_on_bytes(&f, &["-V", "--color", "never"]);
    let text = stdout(&out);
    assert!(text.contains("the capture kept only"), "{text}");
    assert!(text.contains("ifi_index s32: 1"), "{text}");
}

#[test]
fn count_hex_and_colour() {
    let f = netlink_pcap(0, &[link_msg(1, b"lo\0"), link_msg(2, b"eth0\0"), link_msg(3, b"eth1\0")]);
    let out = run_on_bytes(&f, &["-c", "2", "-x", "--color", "never"]);
    let text = stdout(&out);
    assert_eq!(text.lines().filter(|l| l.contains("RTM_NEWLINK")).count(), 2);
    assert!(text.contains("dev eth0 index 2"), "{text}");
    assert!(!text.contains("eth1"));
    assert!(text.contains("  0000  00 04 03 38 00 00 00 00  00 00 00 00 00 00 00 00  ...8............"), "{text}");
    let coloured = stdout(&run_on_bytes(&f, &["--color", "always"]));
    assert!(coloured.contains("\x1b[36mROUTE\x1b[0m"), "{coloured}");
    let plain = stdout(&run_on_bytes(&f, &["--color", "auto"]));
    assert!(!plain.contains('\x1b'), "auto is off in a pipe");
}

#[test]
fn unknown_genl_family_is_labelled_and_walked() {
    let mut p = vec![3u8, 1, 0, 0];
    p.extend(nlattr(1, &7u32.to_le_bytes(), None));
    let f = netlink_pcap(16, &[nlmsg(0x1c, 1, 9, 100, &p, None)]);
    let text = stdout(&run_on_bytes(&f, &["-V", "--color", "never"]));
    assert!(text.contains("genl family 0x1c (unresolved) cmd 3"), "{text}");
    assert!(text.contains("    attr (1) bytes: 07000000  [unknown]"), "{text}");
    // Named by hand, the family's spec decodes it: NL80211_CMD_NEW_WIPHY (3) with NL80211_ATTR_WIPHY.
    let named = stdout(&run_on_bytes(&f, &["-V", "--color", "never", "--genl-family", "nl80211=0x1c"]));
    assert!(named.contains("GENERIC NL80211_CMD_NEW_WIPHY [REQUEST] seq=9 pid=100  nl80211"), "{named}");
    assert!(named.contains("NL80211_ATTR_WIPHY (1) u32: 7"), "{named}");
}
