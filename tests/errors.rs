//! NLMSG_ERROR on the bundled errors_extack capture: errno names, extended-ACK texts, and
//! NLMSGERR_ATTR_OFFS turned into the path of the offending attribute in the echoed request.

mod common;

use common::*;

fn errors() -> Vec<serde_json::Value> {
    let f = concat!(env!("CARGO_MANIFEST_DIR"), "/captures/errors_extack.pcap");
    let out = bin().args(["-r", f, "-T", "json"]).output().unwrap();
    stdout(&out)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|m| m["type"] == "NLMSG_ERROR" && m["errno"] != 0)
        .collect()
}

fn find<'a>(nodes: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    nodes.as_array()?.iter().find_map(|n| if n["name"] == name { Some(n) } else { find(&n["children"], name) })
}

#[test]
fn every_error_is_named_and_offsets_become_attribute_paths() {
    let errors = errors();
    assert_eq!(errors.len(), 41, "tshark counts 41 non-zero netlink.error fields too");
    assert!(errors.iter().all(|e| e["error_name"].is_string()));
    let texts: Vec<&str> =
        errors.iter().filter_map(|e| find(&e["body"], "NLMSGERR_ATTR_MSG")?["value"].as_str()).collect();
    assert!(texts.contains(&"Unknown device type"), "{texts:?}");
    assert!(texts.contains(&"8021q: Invalid VLAN id"), "{texts:?}");
    let paths: Vec<(u64, &str, u64)> = errors
        .iter()
        .filter_map(|e| {
            let offs = find(&e["body"], "NLMSGERR_ATTR_OFFS")?;
            let path = find(&offs["children"], "attribute")?;
            Some((e["frame"].as_u64()?, path["value"].as_str()?, path["offset"].as_u64()?))
        })
        .collect();
    // Each path's offset is the echoed request's start (16 cooked + 16 error header + 4 errno)
    // plus NLMSGERR_ATTR_OFFS.
    assert_eq!(
        paths,
        [
            (114, ".NFTA_TABLE_NAME", 36 + 20),
            (145, ".NFTA_RULE_EXPRESSIONS.NFTA_LIST_ELEM", 36 + 60),
            (190, ".NFTA_RULE_HANDLE", 36 + 36),
        ]
    );
}
