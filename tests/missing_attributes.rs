//! NLMSGERR_ATTR_MISS_TYPE named in the attribute set of the nest NLMSGERR_ATTR_MISS_NEST points
//! at. No real capture holds a MISS_TYPE (none of ../shared/captures does: iproute2 and nftables
//! requests of 6.1 trip no NL_REQ_ATTR_CHECK), so the errors are built around a real request:
//! RTM_NEWLINK creating the vlan `d0.5000`, frame 25 of the bundled errors_extack capture, whose
//! bytes are:
//!
//! ```text
//!  0 nlmsghdr            16 ifinfomsg          32 IFLA_LINK 3        40 IFLA_IFNAME "d0.5000"
//! 52 IFLA_LINKINFO (24)  56  IFLA_INFO_KIND "vlan"  64  IFLA_INFO_DATA (12)  68   IFLA_VLAN_ID
//! ```
//!
//! Attribute 2 is IFLA_BROADCAST at the top level, IFLA_INFO_DATA in IFLA_LINKINFO and
//! IFLA_VLAN_FLAGS in the vlan kind's data: the name says which set it was looked up in.

mod common;

use common::*;
use nlscope::capture::{self, Frame};

/// The request of frame 25, its 76 bytes from its netlink header on.
fn real_request() -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/captures/errors_extack.pcap");
    let mut reader = capture::open(std::path::Path::new(path)).unwrap();
    let mut frame = Frame::empty();
    while let Some(read) = reader.read_into(&mut frame) {
        read.unwrap();
        if frame.number == 25 {
            let request = frame.payload().to_vec();
            assert_eq!(request.len(), 76);
            assert_eq!(&request[52 + 8..52 + 12], b"vlan", "IFLA_INFO_KIND where the layout above says");
            return request;
        }
    }
    panic!("frame 25 is missing");
}

const NLMSG_ERROR: u16 = 2;
const NLM_F_CAPPED: u16 = 0x100;
const NLM_F_ACK_TLVS: u16 = 0x200;
const MISS_TYPE: u16 = 5;
const MISS_NEST: u16 = 6;

/// An EINVAL error answering `request` (whole, or only its header when `capped`), with these
/// extended-ACK attributes.
fn error(request: &[u8], capped: bool, tlvs: &[(u16, u32)]) -> Vec<u8> {
    let mut body = (-22i32).to_le_bytes().to_vec();
    body.extend_from_slice(if capped { &request[..16] } else { request });
    for &(ty, v) in tlvs {
        body.extend(nlattr(ty, &v.to_le_bytes(), None));
    }
    let seq = u32::from_le_bytes(request[8..12].try_into().unwrap());
    let flags = NLM_F_ACK_TLVS | if capped { NLM_F_CAPPED } else { 0 };
    nlmsg(NLMSG_ERROR, flags, seq, 4242, &body, None)
}

/// The JSON of the error (the last message) when the capture holds `frames`.
fn decoded(frames: &[Vec<u8>]) -> (serde_json::Value, String) {
    let pcap = netlink_pcap(0, frames);
    let json = stdout(&run_on_bytes(&pcap, &["-T", "json"]));
    let last = json.lines().last().expect("a message").to_string();
    let text = stdout(&run_on_bytes(&pcap, &[]));
    (serde_json::from_str(&last).unwrap(), text.lines().last().unwrap_or_default().to_string())
}

fn find<'a>(nodes: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    nodes.as_array()?.iter().find_map(|n| if n["name"] == name { Some(n) } else { find(&n["children"], name) })
}

/// The name MISS_TYPE got (null when it stayed a number), and MISS_NEST's attribute path.
fn missing(e: &serde_json::Value) -> (serde_json::Value, Option<String>) {
    let ty = find(&e["body"], "NLMSGERR_ATTR_MISS_TYPE").expect("MISS_TYPE decoded");
    let nest = find(&e["body"], "NLMSGERR_ATTR_MISS_NEST")
        .and_then(|n| find(&n["children"], "attribute"))
        .map(|p| p["value"].as_str().unwrap().to_string());
    (ty["value"]["name"].clone(), nest)
}

#[test]
fn a_missing_attribute_is_named_in_the_set_of_its_nest() {
    let req = real_request();
    // In the vlan kind's IFLA_INFO_DATA (a sub-message chosen by IFLA_INFO_KIND).
    let (e, line) = decoded(&[error(&req, false, &[(MISS_TYPE, 2), (MISS_NEST, 64)])]);
    assert_eq!(missing(&e), ("IFLA_VLAN_FLAGS".into(), Some(".IFLA_LINKINFO.IFLA_INFO_DATA".into())));
    assert!(
        line.ends_with(
            "-22 EINVAL (Invalid argument) for RTM_NEWLINK missing IFLA_VLAN_FLAGS in .IFLA_LINKINFO.IFLA_INFO_DATA"
        ),
        "{line}"
    );
    // In IFLA_LINKINFO, a plain nest.
    let (e, _) = decoded(&[error(&req, false, &[(MISS_TYPE, 1), (MISS_NEST, 52)])]);
    assert_eq!(missing(&e), ("IFLA_INFO_KIND".into(), Some(".IFLA_LINKINFO".into())));
    // Without a nest: the operation's own set.
    let (e, line) = decoded(&[error(&req, false, &[(MISS_TYPE, 2)])]);
    assert_eq!(missing(&e), ("IFLA_BROADCAST".into(), None));
    assert!(line.ends_with("for RTM_NEWLINK missing IFLA_BROADCAST"), "{line}");
}

#[test]
fn a_capped_error_names_the_missing_attribute_from_the_request_in_its_own_frame() {
    let req = real_request();
    let (e, line) = decoded(&[req.clone(), error(&req, true, &[(MISS_TYPE, 2), (MISS_NEST, 64)])]);
    assert_eq!(e["reply_to"]["frame"], 1);
    let nest = find(&e["body"], "NLMSGERR_ATTR_MISS_NEST").unwrap();
    let path = find(&nest["children"], "attribute").expect("MISS_NEST named in the request's frame");
    assert_eq!(path["value"], ".IFLA_LINKINFO.IFLA_INFO_DATA");
    assert_eq!(missing(&e).0, "IFLA_VLAN_FLAGS");
    assert!(line.contains("missing IFLA_VLAN_FLAGS in .IFLA_LINKINFO.IFLA_INFO_DATA  (reply to 1.0,"), "{line}");
    // Reading standard input, requests are kept the same way.
    let out =
        run_on_stdin(&netlink_pcap(0, &[req.clone(), error(&req, true, &[(MISS_TYPE, 2), (MISS_NEST, 64)])]), &[]);
    assert!(stdout(&out).contains("missing IFLA_VLAN_FLAGS in .IFLA_LINKINFO.IFLA_INFO_DATA  (reply to 1.0,"));
}

#[test]
fn a_nest_offset_that_names_no_nest_leaves_the_number() {
    let req = real_request();
    // 56 is IFLA_INFO_KIND, a string: no set to look the number up in.
    let (e, line) = decoded(&[error(&req, false, &[(MISS_TYPE, 2), (MISS_NEST, 56)])]);
    assert_eq!(missing(&e), (serde_json::Value::Null, Some(".IFLA_LINKINFO.IFLA_INFO_KIND".into())));
    assert!(line.ends_with("missing attribute 2 in .IFLA_LINKINFO.IFLA_INFO_KIND"), "{line}");
    // Offsets inside no attribute, past the request, and huge: the number stays, nothing breaks.
    for offs in [6, 60, 76, 1000, u32::MAX] {
        let (e, line) = decoded(&[error(&req, false, &[(MISS_TYPE, 2), (MISS_NEST, offs)])]);
        assert_eq!(missing(&e).0, serde_json::Value::Null, "offset {offs}");
        let nest = find(&e["body"], "NLMSGERR_ATTR_MISS_NEST").unwrap();
        assert!(nest["error"].as_str().unwrap().contains("is not at an attribute"), "offset {offs}: {nest}");
        assert!(line.contains("missing attribute 2"), "{line}");
    }
}
