//! MAC80211_HWSIM and the legacy "802.15.4 MAC" family in the real capture genl_raw_misc.pcap
//! (../shared/captures/real, recorded on Debian's 6.1.192 kernel by
//! ../shared/tools/nlvm/jobs/genl_raw_misc.sh), decoded by dissectors/mac80211-hwsim.yaml and
//! dissectors/ieee802154-legacy.yaml; and a hand-built nl802154 message laid out as
//! net/ieee802154/nl802154.c writes it, for dissectors/nl802154.yaml (no capture holds one).

mod common;

use common::*;
use serde_json::Value;

fn capture_json() -> Option<Vec<Value>> {
    let path = shared_captures()?.join("real/genl_raw_misc.pcap");
    let out = bin().arg("-r").arg(&path).args(["-T", "json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    Some(stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect())
}

/// Every node of a body, depth-first.
fn walk<'a>(nodes: &'a Value, out: &mut Vec<&'a Value>) {
    for n in nodes.as_array().into_iter().flatten() {
        out.push(n);
        walk(&n["children"], out);
    }
}

fn assert_clean(m: &Value) {
    assert!(m.get("unknown").is_none(), "{m}");
    let mut nodes = Vec::new();
    walk(&m["body"], &mut nodes);
    for n in nodes {
        assert!(n.get("unknown").is_none() && n.get("error").is_none(), "{n} in {m}");
    }
}

/// The top-level attributes of a message (or the children of a node) as (name, value).
fn attrs(nodes: &Value) -> Vec<(String, Value)> {
    nodes
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n.get("attr").is_some())
        .map(|n| (n["name"].as_str().unwrap().to_string(), n["value"].clone()))
        .collect()
}

fn node<'a>(nodes: &'a Value, name: &str) -> &'a Value {
    nodes.as_array().unwrap().iter().find(|n| n["name"] == name).unwrap_or_else(|| panic!("no {name} in {nodes}"))
}

fn at(lines: &[Value], frame: u64, index: u64) -> &Value {
    lines.iter().find(|l| l["frame"] == frame && l["index"] == index).unwrap_or_else(|| panic!("no {frame}.{index}"))
}

fn s(v: &str) -> Value {
    Value::String(v.into())
}

fn radio(id: u64, channels: u64, name: &str) -> Vec<(String, Value)> {
    vec![
        ("HWSIM_ATTR_RADIO_ID".into(), id.into()),
        ("HWSIM_ATTR_CHANNELS".into(), channels.into()),
        ("HWSIM_ATTR_SUPPORT_P2P_DEVICE".into(), true.into()),
        ("HWSIM_ATTR_RADIO_NAME".into(), s(name)),
    ]
}

#[test]
fn hwsim_radio_dump_new_and_del_decode() {
    let Some(lines) = capture_json() else { return };
    let hwsim: Vec<&Value> = lines.iter().filter(|l| l["genl_family"] == "MAC80211_HWSIM").collect();
    let types: Vec<&str> = hwsim.iter().map(|l| l["type"].as_str().unwrap()).collect();
    // genl.py: GET_RADIO dump (two radios: the module's default), NEW_RADIO, GET_RADIO dump (three),
    // GET_RADIO by name, DEL_RADIO.
    assert_eq!(
        types,
        [
            "HWSIM_CMD_GET_RADIO",
            "HWSIM_CMD_GET_RADIO",
            "HWSIM_CMD_GET_RADIO",
            "HWSIM_CMD_NEW_RADIO",
            "HWSIM_CMD_GET_RADIO",
            "HWSIM_CMD_GET_RADIO",
            "HWSIM_CMD_GET_RADIO",
            "HWSIM_CMD_GET_RADIO",
            "HWSIM_CMD_GET_RADIO",
            "HWSIM_CMD_DEL_RADIO",
        ]
    );
    for m in &hwsim {
        assert_clean(m);
        assert_eq!(m["genl_family"], "MAC80211_HWSIM");
    }
    let attr_count: usize = hwsim.iter().map(|m| attrs(&m["body"]).len()).sum();
    assert_eq!(attr_count, 26);

    // The first dump: a GET_RADIO request with NLM_F_DUMP, answered by radios 0 and 1.
    let dump = at(&lines, 4, 0);
    assert_eq!(dump["flags"], serde_json::json!(["REQUEST", "DUMP"]));
    assert_eq!(dump["direction"], "to-kernel");
    assert_eq!(node(&node(&dump["body"], "genlmsghdr")["children"], "cmd")["value"]["name"], "HWSIM_CMD_GET_RADIO");
    assert_eq!(attrs(&at(&lines, 5, 0)["body"]), radio(0, 1, "phy0"));
    assert_eq!(attrs(&at(&lines, 5, 1)["body"]), radio(1, 1, "phy1"));

    // NEW_RADIO with RADIO_NAME(17), CHANNELS(9) and REG_HINT_ALPHA2(11) as genl.py sends them.
    let new = at(&lines, 10, 0);
    assert_eq!(new["type"], "HWSIM_CMD_NEW_RADIO");
    assert_eq!(
        attrs(&new["body"]),
        [
            ("HWSIM_ATTR_RADIO_NAME".into(), s("nlvmradio")),
            ("HWSIM_ATTR_CHANNELS".into(), 2.into()),
            ("HWSIM_ATTR_REG_HINT_ALPHA2".into(), s("US")),
        ]
    );
    let numbers: Vec<u64> =
        new["body"].as_array().unwrap().iter().filter_map(|n| n.get("attr")).map(|a| a.as_u64().unwrap()).collect();
    assert_eq!(numbers, [17, 9, 11]);
    // The kernel acknowledges with the new radio's id (2) as a positive "error", and echoes the
    // request, decoded again.
    let ack = at(&lines, 11, 0);
    assert_eq!(ack["type"], "NLMSG_ERROR");
    assert_eq!(node(&ack["body"], "error")["value"], 2);
    // A success with a value, not an errno: no error name, not an error reply.
    assert_eq!((&ack["errno"], &ack["ack_value"]), (&0.into(), &2.into()));
    assert!(ack.get("error_name").is_none(), "{ack}");
    let echoed = node(&ack["body"], "request");
    assert_eq!(echoed["value"]["name"], "HWSIM_CMD_NEW_RADIO");
    assert_eq!(attrs(&echoed["children"]).len(), 3);
    assert_eq!(attrs(&echoed["children"])[0], ("HWSIM_ATTR_RADIO_NAME".into(), s("nlvmradio")));
    assert_clean(ack);

    // The second dump has the new radio: id 2, two channels (so channel contexts), the US hint,
    // and its name as the kernel sends it (no NUL).
    assert_eq!(attrs(&at(&lines, 16, 0)["body"]), radio(0, 1, "phy0"));
    assert_eq!(attrs(&at(&lines, 16, 1)["body"]), radio(1, 1, "phy1"));
    assert_eq!(
        attrs(&at(&lines, 16, 2)["body"]),
        [
            ("HWSIM_ATTR_RADIO_ID".into(), 2.into()),
            ("HWSIM_ATTR_CHANNELS".into(), 2.into()),
            ("HWSIM_ATTR_REG_HINT_ALPHA2".into(), s("US")),
            ("HWSIM_ATTR_USE_CHANCTX".into(), true.into()),
            ("HWSIM_ATTR_RADIO_NAME".into(), s("nlvmradio")),
        ]
    );

    // GET_RADIO by name only: the 6.1 handler wants HWSIM_ATTR_RADIO_ID, so EINVAL.
    let get = at(&lines, 21, 0);
    assert_eq!(get["flags"], serde_json::json!(["REQUEST", "ACK"]));
    assert_eq!(attrs(&get["body"]), [("HWSIM_ATTR_RADIO_NAME".into(), s("nlvmradio"))]);
    let err = at(&lines, 22, 0);
    assert_eq!(err["error_name"], "EINVAL");
    assert_eq!(node(&err["body"], "request")["value"]["name"], "HWSIM_CMD_GET_RADIO");

    // DEL_RADIO by name, acknowledged (a capped ACK echoes only the header).
    let del = at(&lines, 26, 0);
    assert_eq!(del["type"], "HWSIM_CMD_DEL_RADIO");
    assert_eq!(attrs(&del["body"]), [("HWSIM_ATTR_RADIO_NAME".into(), s("nlvmradio"))]);
    let ack = at(&lines, 27, 0);
    assert_eq!(node(&ack["body"], "error")["value"], 0);
    assert_eq!(ack["reply_to"], serde_json::json!({"frame": 26, "index": 0}));
}

#[test]
fn legacy_802154_commands_are_named() {
    let Some(lines) = capture_json() else { return };
    // nlctrl names the family with the string the spec is found by.
    let newfamily = at(&lines, 186, 0);
    assert_eq!(newfamily["type"], "CTRL_CMD_NEWFAMILY");
    assert_eq!(node(&newfamily["body"], "CTRL_ATTR_FAMILY_NAME")["value"], "802.15.4 MAC");
    let legacy: Vec<&Value> = lines.iter().filter(|l| l["genl_family"] == "802.15.4 MAC").collect();
    assert_eq!(legacy.len(), 2);
    // genl.py dumps commands 13 and 14 (its comment calls them LIST_IFACE and LIST_PHY, which are
    // 31 and 32 in Linux 6.1's include/linux/nl802154.h): START_REQ has no dump handler and
    // START_CONF no handler at all, so both fail with EOPNOTSUPP.
    for (m, (cmd, name, reply)) in
        legacy.iter().zip([(13, "IEEE802154_START_REQ", 189), (14, "IEEE802154_START_CONF", 194)])
    {
        assert_clean(m);
        assert_eq!(m["type"], name);
        assert_eq!(m["type_id"], 38);
        assert_eq!(m["direction"], "to-kernel");
        let cmd_node = node(&node(&m["body"], "genlmsghdr")["children"], "cmd");
        assert_eq!(cmd_node["value"], serde_json::json!({"value": cmd, "name": name}));
        let err = at(&lines, reply, 0);
        assert_eq!(err["error_name"], "EOPNOTSUPP");
        assert_eq!(node(&err["body"], "request")["value"]["name"], name);
        assert_clean(err);
    }
}

/// A little-endian attribute holding a u32.
fn a32(ty: u16, v: u32) -> Vec<u8> {
    nlattr(ty, &v.to_le_bytes(), None)
}

#[test]
fn nl802154_wpan_phy_with_capabilities_decodes() {
    // NL802154_CMD_NEW_WPAN_PHY as nl802154_send_wpan_phy() lays it out (nests without
    // NLA_F_NESTED, capability lists numbered by page, channel, power index).
    let mut attrs = Vec::new();
    attrs.extend(a32(1, 0)); // WPAN_PHY
    attrs.extend(nlattr(2, b"wpan-phy0\0", None)); // WPAN_PHY_NAME
    attrs.extend(a32(20, 3)); // GENERATION
    attrs.extend(nlattr(7, &[0], None)); // PAGE
    attrs.extend(nlattr(8, &[11], None)); // CHANNEL
    attrs.extend(nlattr(21, &a32(22, 0x07ff_f800), None)); // CHANNELS_SUPPORTED
    let mut caps = Vec::new();
    caps.extend(nlattr(1, &[nlattr(0, &[], None), nlattr(2, &[], None)].concat(), None)); // IFTYPES
    caps.extend(nlattr(2, &nlattr(0, &[nlattr(11, &[], None), nlattr(26, &[], None)].concat(), None), None));
    caps.extend(nlattr(3, &[a32(0, 500), a32(1, (-1000i32) as u32)].concat(), None)); // TX_POWERS
    caps.extend(nlattr(5, &[nlattr(1, &[], None), nlattr(3, &[], None)].concat(), None)); // CCA_MODES
    caps.extend(nlattr(13, &[(-1i8) as u8], None)); // MIN_FRAME_RETRIES
    caps.extend(a32(15, 3)); // LBT
    attrs.extend(nlattr(24, &caps, None)); // WPAN_PHY_CAPS
    attrs.extend(a32(14, (-7500i32) as u32)); // CCA_ED_LEVEL
    attrs.extend(nlattr(25, &[a32(1, 7), a32(2, 8)].concat(), None)); // SUPPORTED_COMMANDS
    let mut payload = vec![3, 1, 0, 0];
    payload.extend(attrs);
    let frame = nlmsg(0x30, 0, 1, 4242, &payload, None);
    let out = run_on_bytes(&netlink_pcap(16, &[frame]), &["-T", "json", "--genl-family", "nl802154=48"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let m: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(m["genl_family"], "nl802154");
    assert_eq!(m["type"], "NL802154_CMD_NEW_WPAN_PHY");
    assert_clean(&m);
    let body = &m["body"];
    assert_eq!(node(body, "NL802154_ATTR_WPAN_PHY_NAME")["value"], "wpan-phy0");
    assert_eq!(node(body, "NL802154_ATTR_CHANNEL")["value"], 11);
    assert_eq!(node(body, "NL802154_ATTR_CCA_ED_LEVEL")["value"], -7500);
    let supported = node(body, "NL802154_ATTR_CHANNELS_SUPPORTED");
    assert_eq!(node(&supported["children"], "NL802154_ATTR_SUPPORTED_CHANNEL")["value"], 0x07ff_f800);
    let caps = &node(body, "NL802154_ATTR_WPAN_PHY_CAPS")["children"];
    let iftypes: Vec<&str> = node(caps, "NL802154_CAP_ATTR_IFTYPES")["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(iftypes, ["NL802154_IFTYPE_NODE", "NL802154_IFTYPE_COORD"]);
    let page0 = &node(caps, "NL802154_CAP_ATTR_CHANNELS")["children"][0];
    let channels: Vec<&str> =
        page0["children"].as_array().unwrap().iter().map(|n| n["name"].as_str().unwrap()).collect();
    assert_eq!(channels, ["CHANNEL_11", "CHANNEL_26"]);
    let powers: Vec<i64> = node(caps, "NL802154_CAP_ATTR_TX_POWERS")["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["value"].as_i64().unwrap())
        .collect();
    assert_eq!(powers, [500, -1000]);
    let modes: Vec<&str> = node(caps, "NL802154_CAP_ATTR_CCA_MODES")["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(modes, ["NL802154_CCA_ENERGY", "NL802154_CCA_ENERGY_CARRIER"]);
    assert_eq!(node(caps, "NL802154_CAP_ATTR_MIN_FRAME_RETRIES")["value"], -1);
    assert_eq!(node(caps, "NL802154_CAP_ATTR_LBT")["value"]["name"], "NL802154_SUPPORTED_BOOL_BOTH");
    let commands: Vec<&Value> = node(body, "NL802154_ATTR_SUPPORTED_COMMANDS")["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| &n["value"])
        .collect();
    assert_eq!(commands[0]["name"], "NL802154_CMD_NEW_INTERFACE");
    assert_eq!(commands[1]["name"], "NL802154_CMD_DEL_INTERFACE");
}
