//! Generic netlink family ids: named from nlctrl anywhere in a file (also before the reply that
//! names them), changed from the point of a removal or re-registration, and given by hand.

mod common;

use common::*;

fn ctrl(cmd: u8, id: u16, name: &str) -> Vec<u8> {
    let mut p = vec![cmd, 2, 0, 0];
    p.extend(nlattr(2, format!("{name}\0").as_bytes(), None));
    p.extend(nlattr(1, &id.to_le_bytes(), None));
    nlmsg(0x10, 0, 1, 5, &p, None)
}

fn genl(id: u16, cmd: u8) -> Vec<u8> {
    nlmsg(id, 1, 3, 5, &[cmd, 1, 0, 0], None)
}

fn families(out: &std::process::Output) -> Vec<Option<String>> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|m| m["type_id"] == 0x22)
        .map(|m| m["genl_family"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn ids_used_before_their_nlctrl_reply_are_named() {
    // Frame 1 uses 0x22; frame 2 is the nlctrl reply naming it.
    let f = netlink_pcap(16, &[genl(0x22, 5), ctrl(1, 0x22, "nl80211"), genl(0x22, 7)]);
    assert_eq!(families(&run_on_bytes(&f, &["-T", "json"])), [Some("nl80211".into()), Some("nl80211".into())]);
}

#[test]
fn reregistration_changes_the_name_from_that_point_on() {
    let f = netlink_pcap(
        16,
        &[
            ctrl(1, 0x22, "fou"),
            genl(0x22, 1),
            ctrl(2, 0x22, "fou"),
            genl(0x22, 1),
            ctrl(1, 0x22, "l2tp"),
            genl(0x22, 1),
        ],
    );
    assert_eq!(families(&run_on_bytes(&f, &["-T", "json"])), [Some("fou".into()), None, Some("l2tp".into())]);
}

#[test]
fn standard_input_learns_as_it_goes_and_hand_names_win() {
    let f = netlink_pcap(16, &[genl(0x22, 5), ctrl(1, 0x22, "nl80211"), genl(0x22, 7)]);
    let run = |args: &[&str]| run_on_stdin(&f, &[&["-T", "json"], args].concat());
    assert_eq!(families(&run(&[])), [None, Some("nl80211".into())]);
    assert_eq!(families(&run(&["--genl-family", "mine=0x22"])), [Some("mine".into()), Some("mine".into())]);
}
