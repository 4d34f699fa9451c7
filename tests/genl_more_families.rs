//! Generic netlink families that Debian's Linux 6.1 linux-libc-dev has no uapi header for
//! (netdev, dpll, handshake, the four NetLabel families, acpi_event): hand-built captures of
//! their requests, replies and notifications decode through the built-in specs, with every
//! command, attribute, enum and flag named and typed, and no node left unknown.

mod common;

use common::*;
use serde_json::Value;

const NLA_F_NESTED: u16 = 0x8000;
const REQUEST: u16 = 0x01;
const MULTI: u16 = 0x02;
const ACK: u16 = 0x04;
const DUMP: u16 = 0x300;
const PID: u32 = 4242;

/// nlctrl CTRL_CMD_NEWFAMILY naming generic netlink family `name` as `id`.
fn newfamily(name: &str, id: u16) -> Vec<u8> {
    let mut p = vec![1u8, 2, 0, 0];
    p.extend(nlattr(2, format!("{name}\0").as_bytes(), None));
    p.extend(nlattr(1, &id.to_le_bytes(), None));
    nlmsg(0x10, 0, 1, 77, &p, None)
}

/// A generic netlink message of family `id`: genlmsghdr (cmd, version) then `attrs`.
fn genl(id: u16, flags: u16, seq: u32, pid: u32, cmd: u8, version: u8, attrs: &[Vec<u8>]) -> Vec<u8> {
    let mut p = vec![cmd, version, 0, 0];
    for a in attrs {
        p.extend(a);
    }
    nlmsg(id, flags, seq, pid, &p, None)
}

fn u8a(ty: u16, v: u8) -> Vec<u8> {
    nlattr(ty, &[v], None)
}

fn u16a(ty: u16, v: u16) -> Vec<u8> {
    nlattr(ty, &v.to_le_bytes(), None)
}

fn u32a(ty: u16, v: u32) -> Vec<u8> {
    nlattr(ty, &v.to_le_bytes(), None)
}

fn s32a(ty: u16, v: i32) -> Vec<u8> {
    nlattr(ty, &v.to_le_bytes(), None)
}

fn u64a(ty: u16, v: u64) -> Vec<u8> {
    nlattr(ty, &v.to_le_bytes(), None)
}

fn s64a(ty: u16, v: i64) -> Vec<u8> {
    nlattr(ty, &v.to_le_bytes(), None)
}

fn stra(ty: u16, s: &str) -> Vec<u8> {
    nlattr(ty, format!("{s}\0").as_bytes(), None)
}

/// An empty attribute (a pad the kernel puts before a 64-bit value).
fn pada(ty: u16) -> Vec<u8> {
    nlattr(ty, &[], None)
}

/// A nested attribute (NLA_F_NESTED set, as nla_nest_start() does).
fn nest(ty: u16, inner: &[Vec<u8>]) -> Vec<u8> {
    nlattr(ty | NLA_F_NESTED, &inner.concat(), None)
}

/// A nested attribute without NLA_F_NESTED (nla_nest_start_noflag(), older code).
fn nest_noflag(ty: u16, inner: &[Vec<u8>]) -> Vec<u8> {
    nlattr(ty, &inner.concat(), None)
}

/// Runs nlscope `-T json` on the frames (protocol GENERIC) and returns one object per message.
fn run(frames: &[Vec<u8>], args: &[&str]) -> Vec<Value> {
    let out = run_on_bytes(&netlink_pcap(16, frames), &[&["-T", "json"], args].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// The messages of frame `frame` (1-based), first message.
fn frame(msgs: &[Value], frame: u64) -> &Value {
    msgs.iter().find(|m| m["frame"] == frame).unwrap_or_else(|| panic!("no frame {frame}"))
}

/// The node at `path` (see `json_path`).
fn node<'a>(msg: &'a Value, path: &[&str]) -> &'a Value {
    json_path(msg, path)
}

/// Every node named `name` (a multi-attr list).
fn nodes<'a>(msg: &'a Value, name: &str) -> Vec<&'a Value> {
    json_named(&msg["body"], name)
}

/// The value of the node at `path`.
fn value<'a>(msg: &'a Value, path: &[&str]) -> &'a Value {
    &node(msg, path)["value"]
}

/// An enum value: its number and name.
fn named(v: u64, name: &str) -> Value {
    serde_json::json!({"value": v, "name": name})
}

/// A flags value: its number and the names of its bits.
fn flags(v: u64, names: &[&str]) -> Value {
    serde_json::json!({"value": v, "flags": names})
}

/// No node of the message is unknown or malformed, and the message type is known.
fn assert_clean(msg: &Value) {
    assert!(msg.get("unknown").is_none(), "unknown message: {msg:#}");
    assert!(msg["type"].is_string(), "no type name: {msg:#}");
    fn walk(nodes: &Value, msg: &Value) {
        for n in nodes.as_array().into_iter().flatten() {
            assert!(n.get("unknown").is_none(), "unknown node {n:#} in {msg:#}");
            assert!(n.get("error").is_none(), "problem node {n:#} in {msg:#}");
            walk(&n["children"], msg);
        }
    }
    walk(&msg["body"], msg);
}

fn header(msg: &Value, family: &str, ty: &str, direction: &str) {
    assert_eq!(msg["genl_family"], family, "{msg:#}");
    assert_eq!(msg["type"], ty, "{msg:#}");
    assert_eq!(msg["direction"], direction, "{msg:#}");
    assert_clean(msg);
}

#[test]
fn netdev_requests_replies_and_notifications() {
    const ID: u16 = 0x20;
    let frames = [
        newfamily("netdev", ID),
        // 2: NETDEV_CMD_DEV_GET for ifindex 2.
        genl(ID, REQUEST | ACK, 2, PID, 1, 1, &[u32a(1, 2)]),
        // 3: its reply: XDP features (64-bit, after a pad), zero-copy segments, metadata, xsk.
        genl(
            ID,
            0,
            2,
            PID,
            1,
            1,
            &[u32a(1, 2), pada(2), u64a(3, 0x23), u32a(4, 16), pada(2), u64a(5, 0x5), pada(2), u64a(6, 0x3)],
        ),
        // 4: NETDEV_CMD_DEV_ADD_NTF on the "mgmt" group.
        genl(ID, 0, 0, 0, 2, 1, &[u32a(1, 7), pada(2), u64a(3, 0x1)]),
        // 5: NETDEV_CMD_QSTATS_GET dump, scoped per queue (uint of 4 bytes).
        genl(ID, REQUEST | DUMP, 5, PID, 12, 1, &[u32a(1, 2), u32a(4, 1)]),
        // 6: a qstats dump part: uints of 8 and 4 bytes.
        genl(
            ID,
            MULTI,
            5,
            PID,
            12,
            1,
            &[u32a(1, 2), u32a(2, 1), u32a(3, 0), u64a(10, 5_000_000_000), u32a(11, 123_456), u32a(34, 9)],
        ),
        // 7: NETDEV_CMD_PAGE_POOL_STATS_GET reply: nested page pool identity, 64-bit counters.
        genl(ID, 0, 7, PID, 9, 1, &[nest(1, &[u64a(1, 77), u32a(2, 2)]), u64a(8, 1 << 33), u32a(18, 12)]),
        // 8: NETDEV_CMD_BIND_RX request: two queues.
        genl(
            ID,
            REQUEST | ACK,
            8,
            PID,
            13,
            1,
            &[u32a(1, 2), u32a(3, 9), nest(2, &[u32a(1, 3), u32a(3, 0)]), nest(2, &[u32a(1, 4), u32a(3, 0)])],
        ),
        // 9: NETDEV_CMD_NAPI_SET request.
        genl(ID, REQUEST | ACK, 9, PID, 14, 1, &[u32a(2, 8193), u64a(6, 20_000), u32a(8, 1)]),
        // 10: NETDEV_CMD_QUEUE_GET reply.
        genl(ID, 0, 10, PID, 10, 1, &[u32a(1, 0), u32a(2, 2), u32a(3, 0), u32a(4, 8193)]),
    ];
    let msgs = run(&frames, &[]);

    let req = frame(&msgs, 2);
    header(req, "netdev", "NETDEV_CMD_DEV_GET", "to-kernel");
    assert_eq!(node(req, &["cmd"])["value"], named(1, "NETDEV_CMD_DEV_GET"));
    assert_eq!(value(req, &["NETDEV_A_DEV_IFINDEX"]), 2);
    assert_eq!(node(req, &["NETDEV_A_DEV_IFINDEX"])["kind"], "u32");
    assert_eq!(node(req, &["NETDEV_A_DEV_IFINDEX"])["attr"], 1);

    let reply = frame(&msgs, 3);
    header(reply, "netdev", "NETDEV_CMD_DEV_GET", "to-user");
    assert_eq!(reply["reply_to"]["frame"], 2);
    assert_eq!(nodes(reply, "NETDEV_A_DEV_PAD").len(), 3);
    assert_eq!(node(reply, &["NETDEV_A_DEV_XDP_FEATURES"])["kind"], "u64");
    assert_eq!(
        value(reply, &["NETDEV_A_DEV_XDP_FEATURES"]),
        &flags(0x23, &["NETDEV_XDP_ACT_BASIC", "NETDEV_XDP_ACT_REDIRECT", "NETDEV_XDP_ACT_RX_SG"])
    );
    assert_eq!(value(reply, &["NETDEV_A_DEV_XDP_ZC_MAX_SEGS"]), 16);
    assert_eq!(
        value(reply, &["NETDEV_A_DEV_XDP_RX_METADATA_FEATURES"]),
        &flags(5, &["NETDEV_XDP_RX_METADATA_TIMESTAMP", "NETDEV_XDP_RX_METADATA_VLAN_TAG"])
    );
    assert_eq!(
        value(reply, &["NETDEV_A_DEV_XSK_FEATURES"]),
        &flags(3, &["NETDEV_XSK_FLAGS_TX_TIMESTAMP", "NETDEV_XSK_FLAGS_TX_CHECKSUM"])
    );

    let ntf = frame(&msgs, 4);
    header(ntf, "netdev", "NETDEV_CMD_DEV_ADD_NTF", "to-user");
    assert_eq!(value(ntf, &["NETDEV_A_DEV_IFINDEX"]), 7);
    assert_eq!(value(ntf, &["NETDEV_A_DEV_XDP_FEATURES"]), &flags(1, &["NETDEV_XDP_ACT_BASIC"]));

    let dump = frame(&msgs, 5);
    header(dump, "netdev", "NETDEV_CMD_QSTATS_GET", "to-kernel");
    assert!(dump["flags"].as_array().unwrap().contains(&Value::from("DUMP")), "{dump:#}");
    assert_eq!(node(dump, &["NETDEV_A_QSTATS_SCOPE"])["kind"], "uint");
    assert_eq!(value(dump, &["NETDEV_A_QSTATS_SCOPE"]), &flags(1, &["NETDEV_QSTATS_SCOPE_QUEUE"]));

    let part = frame(&msgs, 6);
    header(part, "netdev", "NETDEV_CMD_QSTATS_GET", "to-user");
    assert_eq!(value(part, &["NETDEV_A_QSTATS_QUEUE_TYPE"]), &named(1, "NETDEV_QUEUE_TYPE_TX"));
    assert_eq!(value(part, &["NETDEV_A_QSTATS_QUEUE_ID"]), 0);
    assert_eq!(value(part, &["NETDEV_A_QSTATS_TX_PACKETS"]), 5_000_000_000u64);
    assert_eq!(node(part, &["NETDEV_A_QSTATS_TX_PACKETS"])["length"], 12);
    assert_eq!(value(part, &["NETDEV_A_QSTATS_TX_BYTES"]), 123_456);
    assert_eq!(value(part, &["NETDEV_A_QSTATS_TX_WAKE"]), 9);
    assert_eq!(node(part, &["NETDEV_A_QSTATS_TX_WAKE"])["attr"], 34);

    let stats = frame(&msgs, 7);
    header(stats, "netdev", "NETDEV_CMD_PAGE_POOL_STATS_GET", "to-user");
    assert_eq!(value(stats, &["NETDEV_A_PAGE_POOL_STATS_INFO", "NETDEV_A_PAGE_POOL_ID"]), 77);
    assert_eq!(value(stats, &["NETDEV_A_PAGE_POOL_STATS_INFO", "NETDEV_A_PAGE_POOL_IFINDEX"]), 2);
    assert_eq!(value(stats, &["NETDEV_A_PAGE_POOL_STATS_ALLOC_FAST"]), 1u64 << 33);
    assert_eq!(value(stats, &["NETDEV_A_PAGE_POOL_STATS_RECYCLE_RELEASED_REFCNT"]), 12);

    let bind = frame(&msgs, 8);
    header(bind, "netdev", "NETDEV_CMD_BIND_RX", "to-kernel");
    assert_eq!(value(bind, &["NETDEV_A_DMABUF_FD"]), 9);
    let queues = nodes(bind, "NETDEV_A_DMABUF_QUEUES");
    assert_eq!(queues.len(), 2);
    assert_eq!(queues[1]["children"][0]["name"], "NETDEV_A_QUEUE_ID");
    assert_eq!(queues[1]["children"][0]["value"], 4);
    assert_eq!(queues[1]["children"][1]["value"], named(0, "NETDEV_QUEUE_TYPE_RX"));

    let set = frame(&msgs, 9);
    header(set, "netdev", "NETDEV_CMD_NAPI_SET", "to-kernel");
    assert_eq!(value(set, &["NETDEV_A_NAPI_ID"]), 8193);
    assert_eq!(value(set, &["NETDEV_A_NAPI_GRO_FLUSH_TIMEOUT"]), 20_000);
    assert_eq!(value(set, &["NETDEV_A_NAPI_THREADED"]), 1);

    let queue = frame(&msgs, 10);
    header(queue, "netdev", "NETDEV_CMD_QUEUE_GET", "to-user");
    assert_eq!(value(queue, &["NETDEV_A_QUEUE_TYPE"]), &named(0, "NETDEV_QUEUE_TYPE_RX"));
    assert_eq!(value(queue, &["NETDEV_A_QUEUE_NAPI_ID"]), 8193);
}

#[test]
fn dpll_devices_and_pins() {
    let frames = [
        // 1: DPLL_CMD_DEVICE_GET for device 0 (the family id is given by hand).
        genl(0x21, REQUEST | ACK, 1, PID, 2, 1, &[u32a(1, 0)]),
        // 2: its reply.
        genl(
            0x21,
            0,
            1,
            PID,
            2,
            1,
            &[
                u32a(1, 0),
                stra(2, "ice"),
                pada(3),
                u64a(4, 0x0050_c2ff_fe12_3456),
                s32a(8, -5250),
                u32a(7, 3),
                u32a(5, 2),
                u32a(6, 1),
                u32a(6, 2),
                u32a(9, 2),
                u32a(10, 1),
                u32a(11, 4),
                u32a(12, 1),
            ],
        ),
        // 3: DPLL_CMD_PIN_GET reply: a SyncE pin with frequency ranges and a parent device.
        genl(
            0x21,
            0,
            3,
            PID,
            8,
            1,
            &[
                u32a(1, 13),
                stra(3, "ice"),
                pada(4),
                u64a(5, 0x0050_c2ff_fe12_3456),
                stra(6, "C827_0-RCLKA"),
                u32a(9, 3),
                u32a(17, 6),
                pada(4),
                u64a(11, 10_000_000),
                nest(12, &[pada(4), u64a(13, 1), pada(4), u64a(14, 25_000_000)]),
                nest(18, &[u32a(2, 0), u32a(10, 1), u32a(15, 3), u32a(16, 1), pada(4), s64a(23, -1234)]),
                s32a(20, -16_000),
                s32a(21, 16_000),
                s32a(22, -100),
                s32a(24, -7),
                nest(28, &[u32a(1, 14), u32a(16, 2)]),
                s32a(29, 50),
            ],
        ),
        // 4: DPLL_CMD_PIN_SET request: the pin's state on its parent pin.
        genl(0x21, REQUEST | ACK, 4, PID, 9, 1, &[u32a(1, 13), nest(19, &[u32a(2, 12), u32a(16, 3)])]),
        // 5: DPLL_CMD_PIN_CHANGE_NTF on "monitor".
        genl(0x21, 0, 0, 0, 12, 1, &[u32a(1, 13), u32a(9, 5)]),
    ];
    let msgs = run(&frames, &["--genl-family", "dpll=0x21"]);

    let req = frame(&msgs, 1);
    header(req, "dpll", "DPLL_CMD_DEVICE_GET", "to-kernel");
    assert_eq!(value(req, &["DPLL_A_ID"]), 0);

    let dev = frame(&msgs, 2);
    header(dev, "dpll", "DPLL_CMD_DEVICE_GET", "to-user");
    assert_eq!(value(dev, &["DPLL_A_MODULE_NAME"]), "ice");
    assert_eq!(value(dev, &["DPLL_A_CLOCK_ID"]), 0x0050_c2ff_fe12_3456u64);
    assert_eq!(node(dev, &["DPLL_A_TEMP"])["kind"], "s32");
    assert_eq!(value(dev, &["DPLL_A_TEMP"]), -5250);
    assert_eq!(value(dev, &["DPLL_A_LOCK_STATUS"]), &named(3, "DPLL_LOCK_STATUS_LOCKED_HO_ACQ"));
    assert_eq!(value(dev, &["DPLL_A_MODE"]), &named(2, "DPLL_MODE_AUTOMATIC"));
    let modes: Vec<&Value> = nodes(dev, "DPLL_A_MODE_SUPPORTED").iter().map(|n| &n["value"]).collect();
    assert_eq!(modes, [&named(1, "DPLL_MODE_MANUAL"), &named(2, "DPLL_MODE_AUTOMATIC")]);
    assert_eq!(value(dev, &["DPLL_A_TYPE"]), &named(2, "DPLL_TYPE_EEC"));
    assert_eq!(value(dev, &["DPLL_A_LOCK_STATUS_ERROR"]), &named(1, "DPLL_LOCK_STATUS_ERROR_NONE"));
    assert_eq!(value(dev, &["DPLL_A_CLOCK_QUALITY_LEVEL"]), &named(4, "DPLL_CLOCK_QUALITY_LEVEL_ITU_OPT1_EEC1"));
    assert_eq!(value(dev, &["DPLL_A_PHASE_OFFSET_MONITOR"]), &named(1, "DPLL_FEATURE_STATE_ENABLE"));

    let pin = frame(&msgs, 3);
    header(pin, "dpll", "DPLL_CMD_PIN_GET", "to-user");
    assert_eq!(value(pin, &["DPLL_A_PIN_ID"]), 13);
    assert_eq!(value(pin, &["DPLL_A_PIN_BOARD_LABEL"]), "C827_0-RCLKA");
    assert_eq!(value(pin, &["DPLL_A_PIN_TYPE"]), &named(3, "DPLL_PIN_TYPE_SYNCE_ETH_PORT"));
    assert_eq!(
        value(pin, &["DPLL_A_PIN_CAPABILITIES"]),
        &flags(6, &["DPLL_PIN_CAPABILITIES_PRIORITY_CAN_CHANGE", "DPLL_PIN_CAPABILITIES_STATE_CAN_CHANGE"])
    );
    assert_eq!(value(pin, &["DPLL_A_PIN_FREQUENCY"]), 10_000_000);
    assert_eq!(value(pin, &["DPLL_A_PIN_FREQUENCY_SUPPORTED", "DPLL_A_PIN_FREQUENCY_MIN"]), 1);
    assert_eq!(value(pin, &["DPLL_A_PIN_FREQUENCY_SUPPORTED", "DPLL_A_PIN_FREQUENCY_MAX"]), 25_000_000);
    assert_eq!(value(pin, &["DPLL_A_PIN_PARENT_DEVICE", "DPLL_A_PIN_PARENT_ID"]), 0);
    assert_eq!(
        value(pin, &["DPLL_A_PIN_PARENT_DEVICE", "DPLL_A_PIN_DIRECTION"]),
        &named(1, "DPLL_PIN_DIRECTION_INPUT")
    );
    assert_eq!(value(pin, &["DPLL_A_PIN_PARENT_DEVICE", "DPLL_A_PIN_PRIO"]), 3);
    assert_eq!(value(pin, &["DPLL_A_PIN_PARENT_DEVICE", "DPLL_A_PIN_STATE"]), &named(1, "DPLL_PIN_STATE_CONNECTED"));
    assert_eq!(value(pin, &["DPLL_A_PIN_PARENT_DEVICE", "DPLL_A_PIN_PHASE_OFFSET"]), -1234);
    assert_eq!(value(pin, &["DPLL_A_PIN_PHASE_ADJUST_MIN"]), -16_000);
    assert_eq!(value(pin, &["DPLL_A_PIN_PHASE_ADJUST"]), -100);
    assert_eq!(node(pin, &["DPLL_A_PIN_FRACTIONAL_FREQUENCY_OFFSET"])["kind"], "sint");
    assert_eq!(value(pin, &["DPLL_A_PIN_FRACTIONAL_FREQUENCY_OFFSET"]), -7);
    assert_eq!(value(pin, &["DPLL_A_PIN_REFERENCE_SYNC", "DPLL_A_PIN_ID"]), 14);
    assert_eq!(
        value(pin, &["DPLL_A_PIN_REFERENCE_SYNC", "DPLL_A_PIN_STATE"]),
        &named(2, "DPLL_PIN_STATE_DISCONNECTED")
    );
    assert_eq!(value(pin, &["DPLL_A_PIN_PHASE_ADJUST_GRAN"]), 50);

    let set = frame(&msgs, 4);
    header(set, "dpll", "DPLL_CMD_PIN_SET", "to-kernel");
    assert_eq!(value(set, &["DPLL_A_PIN_PARENT_PIN", "DPLL_A_PIN_PARENT_ID"]), 12);
    assert_eq!(value(set, &["DPLL_A_PIN_PARENT_PIN", "DPLL_A_PIN_STATE"]), &named(3, "DPLL_PIN_STATE_SELECTABLE"));

    let ntf = frame(&msgs, 5);
    header(ntf, "dpll", "DPLL_CMD_PIN_CHANGE_NTF", "to-user");
    assert_eq!(value(ntf, &["DPLL_A_PIN_TYPE"]), &named(5, "DPLL_PIN_TYPE_GNSS"));
}

#[test]
fn handshake_ready_accept_done() {
    const ID: u16 = 0x22;
    let frames = [
        newfamily("handshake", ID),
        // 2: HANDSHAKE_CMD_READY on the "tlshd" group.
        genl(ID, 0, 0, 0, 1, 1, &[u32a(2, 1)]),
        // 3: tlshd's HANDSHAKE_CMD_ACCEPT.
        genl(ID, REQUEST, 3, PID, 2, 1, &[u32a(2, 1)]),
        // 4: the kernel's answer: an x.509 client handshake.
        genl(
            ID,
            0,
            3,
            PID,
            2,
            1,
            &[
                u32a(1, 7),
                u32a(3, 1),
                u32a(4, 5000),
                u32a(5, 3),
                nest(7, &[u32a(1, 0x1234), u32a(2, 0x5678)]),
                stra(8, "nfs.example.net"),
                u32a(9, 0x2a),
            ],
        ),
        // 5: HANDSHAKE_CMD_DONE: success, two authenticated peer identities.
        genl(ID, REQUEST | ACK, 5, PID, 3, 1, &[u32a(1, 0), u32a(2, 7), u32a(3, 0x99), u32a(3, 0x9a)]),
    ];
    let msgs = run(&frames, &[]);

    let ready = frame(&msgs, 2);
    header(ready, "handshake", "HANDSHAKE_CMD_READY", "to-user");
    assert_eq!(value(ready, &["HANDSHAKE_A_ACCEPT_HANDLER_CLASS"]), &named(1, "HANDSHAKE_HANDLER_CLASS_TLSHD"));

    let accept = frame(&msgs, 3);
    header(accept, "handshake", "HANDSHAKE_CMD_ACCEPT", "to-kernel");
    assert_eq!(value(accept, &["HANDSHAKE_A_ACCEPT_HANDLER_CLASS"]), &named(1, "HANDSHAKE_HANDLER_CLASS_TLSHD"));

    let reply = frame(&msgs, 4);
    header(reply, "handshake", "HANDSHAKE_CMD_ACCEPT", "to-user");
    assert_eq!(reply["reply_to"]["frame"], 3);
    assert_eq!(value(reply, &["HANDSHAKE_A_ACCEPT_SOCKFD"]), 7);
    assert_eq!(value(reply, &["HANDSHAKE_A_ACCEPT_MESSAGE_TYPE"]), &named(1, "HANDSHAKE_MSG_TYPE_CLIENTHELLO"));
    assert_eq!(value(reply, &["HANDSHAKE_A_ACCEPT_TIMEOUT"]), 5000);
    assert_eq!(value(reply, &["HANDSHAKE_A_ACCEPT_AUTH_MODE"]), &named(3, "HANDSHAKE_AUTH_X509"));
    assert_eq!(value(reply, &["HANDSHAKE_A_ACCEPT_CERTIFICATE", "HANDSHAKE_A_X509_CERT"]), 0x1234);
    assert_eq!(value(reply, &["HANDSHAKE_A_ACCEPT_CERTIFICATE", "HANDSHAKE_A_X509_PRIVKEY"]), 0x5678);
    assert_eq!(value(reply, &["HANDSHAKE_A_ACCEPT_PEERNAME"]), "nfs.example.net");
    assert_eq!(value(reply, &["HANDSHAKE_A_ACCEPT_KEYRING"]), 0x2a);

    let done = frame(&msgs, 5);
    header(done, "handshake", "HANDSHAKE_CMD_DONE", "to-kernel");
    assert_eq!(value(done, &["HANDSHAKE_A_DONE_STATUS"]), 0);
    assert_eq!(value(done, &["HANDSHAKE_A_DONE_SOCKFD"]), 7);
    let peers: Vec<&Value> = nodes(done, "HANDSHAKE_A_DONE_REMOTE_AUTH").iter().map(|n| &n["value"]).collect();
    assert_eq!(peers, [&Value::from(0x99), &Value::from(0x9a)]);
}

#[test]
fn netlabel_families() {
    const MGMT: u16 = 0x23;
    const CIPSO: u16 = 0x24;
    const UNLBL: u16 = 0x25;
    const CALIPSO: u16 = 0x26;
    let ctx = "system_u:object_r:netlabel_peer_t:s0";
    let frames = [
        newfamily("NLBL_MGMT", MGMT),
        newfamily("NLBL_CIPSOv4", CIPSO),
        newfamily("NLBL_UNLBL", UNLBL),
        newfamily("NLBL_CALIPSO", CALIPSO),
        // 5, 6: NLBL_MGMT_C_VERSION and its answer.
        genl(MGMT, REQUEST, 5, PID, 8, 3, &[]),
        genl(MGMT, 0, 5, PID, 8, 3, &[u32a(3, 3)]),
        // 7, 8: NLBL_MGMT_C_LISTALL dump and one mapping with an IPv4 address selector.
        genl(MGMT, REQUEST | DUMP, 7, PID, 3, 3, &[]),
        genl(
            MGMT,
            MULTI,
            7,
            PID,
            3,
            3,
            &[
                stra(1, "httpd_t"),
                u16a(11, 2),
                nest(
                    10,
                    &[nest(
                        9,
                        &[
                            nlattr(7, &[192, 168, 1, 0], None),
                            nlattr(8, &[255, 255, 255, 0], None),
                            u32a(2, 3),
                            u32a(4, 16),
                        ],
                    )],
                ),
            ],
        ),
        // 9: NLBL_CIPSOV4_C_ADD of a translated DOI (nests without NLA_F_NESTED, as netlabelctl).
        genl(
            CIPSO,
            REQUEST | ACK,
            9,
            PID,
            1,
            3,
            &[
                u32a(1, 16),
                u32a(2, 1),
                nest_noflag(4, &[u8a(3, 1), u8a(3, 5)]),
                nest_noflag(8, &[nest_noflag(7, &[u32a(5, 0), u32a(6, 1)])]),
                nest_noflag(12, &[nest_noflag(11, &[u32a(9, 2), u32a(10, 3)])]),
            ],
        ),
        // 10, 11: NLBL_CIPSOV4_C_LIST of DOI 16 and the answer.
        genl(CIPSO, REQUEST, 10, PID, 3, 3, &[u32a(1, 16)]),
        genl(CIPSO, 0, 10, PID, 3, 3, &[u32a(2, 2), nest(4, &[u8a(3, 128)])]),
        // 12, 13: NLBL_UNLABEL_C_LIST and the answer.
        genl(UNLBL, REQUEST, 12, PID, 2, 3, &[]),
        genl(UNLBL, 0, 12, PID, 2, 3, &[u8a(1, 1)]),
        // 14: NLBL_UNLABEL_C_STATICADD for an IPv6 network on eth0.
        genl(
            UNLBL,
            REQUEST | ACK,
            14,
            PID,
            3,
            3,
            &[
                stra(6, "eth0"),
                nlattr(2, &[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], None),
                nlattr(3, &[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], None),
                stra(7, ctx),
            ],
        ),
        // 15, 16: NLBL_CALIPSO_C_ADD and a NLBL_CALIPSO_C_LISTALL dump part.
        genl(CALIPSO, REQUEST | ACK, 15, PID, 1, 3, &[u32a(1, 8), u32a(2, 2)]),
        genl(CALIPSO, MULTI, 16, PID, 4, 3, &[u32a(1, 8), u32a(2, 2)]),
    ];
    let msgs = run(&frames, &[]);

    let version = frame(&msgs, 5);
    header(version, "NLBL_MGMT", "NLBL_MGMT_C_VERSION", "to-kernel");
    let version = frame(&msgs, 6);
    header(version, "NLBL_MGMT", "NLBL_MGMT_C_VERSION", "to-user");
    assert_eq!(value(version, &["NLBL_MGMT_A_VERSION"]), 3);

    let dump = frame(&msgs, 7);
    header(dump, "NLBL_MGMT", "NLBL_MGMT_C_LISTALL", "to-kernel");
    let map = frame(&msgs, 8);
    header(map, "NLBL_MGMT", "NLBL_MGMT_C_LISTALL", "to-user");
    assert_eq!(value(map, &["NLBL_MGMT_A_DOMAIN"]), "httpd_t");
    assert_eq!(node(map, &["NLBL_MGMT_A_FAMILY"])["kind"], "u16");
    assert_eq!(value(map, &["NLBL_MGMT_A_FAMILY"]), &named(2, "AF_INET"));
    let sel = ["NLBL_MGMT_A_SELECTORLIST", "NLBL_MGMT_A_ADDRSELECTOR"];
    assert_eq!(value(map, &[sel[0], sel[1], "NLBL_MGMT_A_IPV4ADDR"]), "192.168.1.0");
    assert_eq!(value(map, &[sel[0], sel[1], "NLBL_MGMT_A_IPV4MASK"]), "255.255.255.0");
    assert_eq!(value(map, &[sel[0], sel[1], "NLBL_MGMT_A_PROTOCOL"]), &named(3, "NETLBL_NLTYPE_CIPSOV4"));
    assert_eq!(value(map, &[sel[0], sel[1], "NLBL_MGMT_A_CV4DOI"]), 16);

    let add = frame(&msgs, 9);
    header(add, "NLBL_CIPSOv4", "NLBL_CIPSOV4_C_ADD", "to-kernel");
    assert_eq!(value(add, &["NLBL_CIPSOV4_A_DOI"]), 16);
    assert_eq!(value(add, &["NLBL_CIPSOV4_A_MTYPE"]), &named(1, "CIPSO_V4_MAP_TRANS"));
    let tags: Vec<&Value> = nodes(add, "NLBL_CIPSOV4_A_TAG").iter().map(|n| &n["value"]).collect();
    assert_eq!(tags, [&named(1, "CIPSO_V4_TAG_RBITMAP"), &named(5, "CIPSO_V4_TAG_RANGE")]);
    let lvl = ["NLBL_CIPSOV4_A_MLSLVLLST", "NLBL_CIPSOV4_A_MLSLVL"];
    assert_eq!(value(add, &[lvl[0], lvl[1], "NLBL_CIPSOV4_A_MLSLVLLOC"]), 0);
    assert_eq!(value(add, &[lvl[0], lvl[1], "NLBL_CIPSOV4_A_MLSLVLREM"]), 1);
    let cat = ["NLBL_CIPSOV4_A_MLSCATLST", "NLBL_CIPSOV4_A_MLSCAT"];
    assert_eq!(value(add, &[cat[0], cat[1], "NLBL_CIPSOV4_A_MLSCATLOC"]), 2);
    assert_eq!(value(add, &[cat[0], cat[1], "NLBL_CIPSOV4_A_MLSCATREM"]), 3);

    let list = frame(&msgs, 10);
    header(list, "NLBL_CIPSOv4", "NLBL_CIPSOV4_C_LIST", "to-kernel");
    let list = frame(&msgs, 11);
    header(list, "NLBL_CIPSOv4", "NLBL_CIPSOV4_C_LIST", "to-user");
    assert_eq!(value(list, &["NLBL_CIPSOV4_A_MTYPE"]), &named(2, "CIPSO_V4_MAP_PASS"));
    assert_eq!(value(list, &["NLBL_CIPSOV4_A_TAGLST", "NLBL_CIPSOV4_A_TAG"]), &named(128, "CIPSO_V4_TAG_LOCAL"));

    header(frame(&msgs, 12), "NLBL_UNLBL", "NLBL_UNLABEL_C_LIST", "to-kernel");
    let list = frame(&msgs, 13);
    header(list, "NLBL_UNLBL", "NLBL_UNLABEL_C_LIST", "to-user");
    assert_eq!(node(list, &["NLBL_UNLABEL_A_ACPTFLG"])["kind"], "u8");
    assert_eq!(value(list, &["NLBL_UNLABEL_A_ACPTFLG"]), 1);

    let add = frame(&msgs, 14);
    header(add, "NLBL_UNLBL", "NLBL_UNLABEL_C_STATICADD", "to-kernel");
    assert_eq!(value(add, &["NLBL_UNLABEL_A_IFACE"]), "eth0");
    assert_eq!(value(add, &["NLBL_UNLABEL_A_IPV6ADDR"]), "2001:db8::");
    assert_eq!(value(add, &["NLBL_UNLABEL_A_IPV6MASK"]), "ffff:ffff::");
    assert_eq!(value(add, &["NLBL_UNLABEL_A_SECCTX"]), ctx);

    let add = frame(&msgs, 15);
    header(add, "NLBL_CALIPSO", "NLBL_CALIPSO_C_ADD", "to-kernel");
    assert_eq!(value(add, &["NLBL_CALIPSO_A_DOI"]), 8);
    assert_eq!(value(add, &["NLBL_CALIPSO_A_MTYPE"]), &named(2, "CALIPSO_MAP_PASS"));
    let part = frame(&msgs, 16);
    header(part, "NLBL_CALIPSO", "NLBL_CALIPSO_C_LISTALL", "to-user");
    assert_eq!(value(part, &["NLBL_CALIPSO_A_DOI"]), 8);
}

/// struct acpi_genl_event as drivers/acpi/event.c fills it: zeroed, then the strings copied.
fn acpi_event(class: &str, bus_id: &str, ty: u32, data: u32) -> Vec<u8> {
    let mut ev = vec![0u8; 44];
    ev[..class.len()].copy_from_slice(class.as_bytes());
    ev[20..20 + bus_id.len()].copy_from_slice(bus_id.as_bytes());
    ev[36..40].copy_from_slice(&ty.to_le_bytes());
    ev[40..44].copy_from_slice(&data.to_le_bytes());
    nlattr(1, &ev, None)
}

#[test]
fn acpi_events() {
    const ID: u16 = 0x27;
    // The kernel only sends: multicast events, pid 0, seq from its own event counter.
    let frames = [
        newfamily("acpi_event", ID),
        genl(ID, 0, 5, 0, 1, 1, &[acpi_event("battery", "PNP0C0A:00", 0x80, 1)]),
        genl(ID, 0, 6, 0, 1, 1, &[acpi_event("ac_adapter", "ACPI0003:00", 0x80, 0)]),
    ];
    let msgs = run(&frames, &[]);
    for (f, class, bus, data) in [(2, "battery", "PNP0C0A:00", 1), (3, "ac_adapter", "ACPI0003:00", 0)] {
        let ev = frame(&msgs, f);
        assert_eq!(ev["genl_family"], "acpi_event");
        assert_eq!(ev["type"], "ACPI_GENL_CMD_EVENT");
        assert_clean(ev);
        let attr = node(ev, &["ACPI_GENL_ATTR_EVENT"]);
        assert_eq!(attr["attr"], 1);
        assert_eq!(attr["length"], 48);
        assert_eq!(value(ev, &["ACPI_GENL_ATTR_EVENT", "device_class"]), class);
        assert_eq!(node(ev, &["ACPI_GENL_ATTR_EVENT", "device_class"])["length"], 20);
        assert_eq!(value(ev, &["ACPI_GENL_ATTR_EVENT", "bus_id"]), bus);
        let ty = node(ev, &["ACPI_GENL_ATTR_EVENT", "type"]);
        assert_eq!(ty["value"], 0x80);
        assert_eq!(ty["offset"], attr["offset"].as_u64().unwrap() + 4 + 36);
        assert_eq!(value(ev, &["ACPI_GENL_ATTR_EVENT", "data"]), data);
    }
}
