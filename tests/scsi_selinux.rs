//! NETLINK_ISCSI (8), NETLINK_SCSITRANSPORT (18) and NETLINK_SELINUX (7) never appear on nlmon.
//! captures/scsi_selinux.pcapng holds real traffic of all three, recorded from the sockets
//! themselves in the nlvm VM (tools/nlvm_scsi_selinux.sh); hand-built captures laid out as the
//! Linux 6.1 kernel and iscsid send them (drivers/scsi/scsi_transport_iscsi.c,
//! drivers/scsi/scsi_transport_fc.c, security/selinux/netlink.c) cover what the VM cannot make
//! (FC events, PDUs, flash nodes). Every message type, struct field and enum is named, and no node
//! is left unknown or in error.

mod common;

use common::*;
use serde_json::Value;

const NETLINK_SELINUX: u16 = 7;
const NETLINK_ISCSI: u16 = 8;
const NETLINK_SCSITRANSPORT: u16 = 18;
const NLM_F_REQUEST: u16 = 0x01;
/// iscsid's port id (it binds with its process id and sends with nlmsg_flags 0 and seq 0).
const ISCSID: u32 = 4242;
/// iscsi_handle(transport): the kernel address of the struct iscsi_transport.
const TRANSPORT: u64 = 0xffff_ffff_c0a1_b2c0;

/// Runs nlscope `-T json` on the frames of `protocol` and returns one object per message.
fn run(protocol: u16, frames: &[Vec<u8>]) -> Vec<Value> {
    let out = run_on_bytes(&netlink_pcap(protocol, frames), &["-T", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// The node at `path` (see `json_path`).
fn node<'a>(msg: &'a Value, path: &[&str]) -> &'a Value {
    json_path(msg, path)
}

/// The value of the node at `path`.
fn val<'a>(msg: &'a Value, path: &[&str]) -> &'a Value {
    &node(msg, path)["value"]
}

/// An enum value: its number and name.
fn en(v: u64, name: &str) -> Value {
    serde_json::json!({"value": v, "name": name})
}

/// The names of the children of the node at `path`, in order.
fn child_names(msg: &Value, path: &[&str]) -> Vec<String> {
    node(msg, path)["children"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

/// No unknown message, no unknown node, no problem node.
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

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A netlink message whose payload is padded to 4 bytes and counted in nlmsg_len, as the kernel's
/// nlmsg_total_size() and iscsid's NLMSG_SPACE() both do.
fn padded(ty: u16, flags: u16, seq: u32, pid: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = payload.to_vec();
    while !p.len().is_multiple_of(4) {
        p.push(0);
    }
    nlmsg(ty, flags, seq, pid, &p, None)
}

/// `struct iscsi_uevent` (56 bytes): type, iferror, transport_handle, the 24-byte union u at
/// offset 16 and the 16-byte union r at offset 40.
fn uevent(ty: u32, iferror: i32, u: &[u8], r: &[u8]) -> Vec<u8> {
    assert!(u.len() <= 24 && r.len() <= 16);
    let mut v = Vec::new();
    v.extend(ty.to_le_bytes());
    v.extend(iferror.to_le_bytes());
    v.extend(TRANSPORT.to_le_bytes());
    let mut u = u.to_vec();
    u.resize(24, 0);
    let mut r = r.to_vec();
    r.resize(16, 0);
    v.extend(u);
    v.extend(r);
    assert_eq!(v.len(), 56);
    v
}

fn le32(vals: &[u32]) -> Vec<u8> {
    vals.iter().flat_map(|v| v.to_le_bytes()).collect()
}

const ISCSI_UEVENT_SET_PARAM: u16 = 16;
const ISCSI_UEVENT_SEND_PDU: u16 = 19;
const ISCSI_UEVENT_TRANSPORT_EP_CONNECT: u16 = 22;
const ISCSI_UEVENT_CREATE_BOUND_SESSION: u16 = 28;
const ISCSI_UEVENT_SET_IFACE_PARAMS: u16 = 31;
const ISCSI_KEVENT_RECV_PDU: u32 = 101;
const ISCSI_KEVENT_CONN_ERROR: u32 = 102;
const ISCSI_KEVENT_IF_ERROR: u32 = 103;

/// A request from iscsid and the kernel's answer (iscsi_if_send_reply: the request's nlmsg_type,
/// pid 0, seq 0, the 56-byte struct with r filled in).
#[test]
fn iscsi_requests_and_their_replies() {
    let ty = ISCSI_UEVENT_CREATE_BOUND_SESSION;
    // u.c_bound_session: ep_handle (an endpoint id), initial_cmdsn, cmds_max, queue_depth.
    let mut c_bound = 5u64.to_le_bytes().to_vec();
    c_bound.extend(1u32.to_le_bytes());
    c_bound.extend(128u16.to_le_bytes());
    c_bound.extend(32u16.to_le_bytes());
    let request = padded(ty, 0, 0, ISCSID, &uevent(ty.into(), 0, &c_bound, &[]));
    // r.c_session_ret: sid, host_no.
    let reply = padded(ty, 0, 0, 0, &uevent(ty.into(), 0, &c_bound, &le32(&[3, 7])));

    // ISCSI_UEVENT_SET_PARAM: u.set_param (sid, cid, param, len), then the value as a string; it
    // fails (-ENOTCONN, the connection is not bound): the reply says ISCSI_KEVENT_IF_ERROR.
    let target = b"iqn.2005-03.org.example:t1\0";
    let set_param_u = le32(&[3, 0, 15, target.len() as u32]);
    let mut set_param = uevent(ISCSI_UEVENT_SET_PARAM.into(), 0, &set_param_u, &[]);
    set_param.extend(target);
    let set_param = padded(ISCSI_UEVENT_SET_PARAM, 0, 0, ISCSID, &set_param);
    let if_error = padded(ISCSI_UEVENT_SET_PARAM, 0, 0, 0, &uevent(ISCSI_KEVENT_IF_ERROR, -107, &set_param_u, &[]));

    // ISCSI_UEVENT_TRANSPORT_EP_CONNECT: u.ep_connect.non_blocking, then a sockaddr_storage holding
    // 10.0.0.1 port 3260; the reply gives the endpoint id in r.ep_connect_ret.handle.
    let mut sin = 2u16.to_le_bytes().to_vec();
    sin.extend(3260u16.to_be_bytes());
    sin.extend([10, 0, 0, 1]);
    sin.resize(128, 0);
    let mut ep_connect = uevent(ISCSI_UEVENT_TRANSPORT_EP_CONNECT.into(), 0, &le32(&[1]), &[]);
    ep_connect.extend(&sin);
    let ep_connect = padded(ISCSI_UEVENT_TRANSPORT_EP_CONNECT, 0, 0, ISCSID, &ep_connect);
    let ep_reply = padded(
        ISCSI_UEVENT_TRANSPORT_EP_CONNECT,
        0,
        0,
        0,
        &uevent(ISCSI_UEVENT_TRANSPORT_EP_CONNECT.into(), 0, &le32(&[1]), &9u64.to_le_bytes()),
    );

    let msgs = run(NETLINK_ISCSI, &[request, reply, set_param, if_error, ep_connect, ep_reply]);
    assert_eq!(msgs.len(), 6);
    for m in &msgs {
        assert_clean(m);
        assert_eq!(m["family"], "iscsi");
    }

    let req = &msgs[0];
    assert_eq!(req["type"], "ISCSI_UEVENT_CREATE_BOUND_SESSION");
    assert_eq!(req["type_id"], 28);
    assert_eq!(req["len"], 72);
    let hdr = node(req, &["iscsi_uevent_create_bound_session"]);
    assert_eq!(hdr["kind"], "struct iscsi_uevent_create_bound_session");
    assert_eq!(hdr["length"], 56);
    assert_eq!(
        child_names(req, &["iscsi_uevent_create_bound_session"]),
        ["type", "iferror", "transport_handle", "c_bound_session", "c_session_ret"]
    );
    assert_eq!(*val(req, &["type"]), en(28, "ISCSI_UEVENT_CREATE_BOUND_SESSION"));
    assert_eq!(*val(req, &["iferror"]), 0);
    assert_eq!(*val(req, &["transport_handle"]), TRANSPORT);
    assert_eq!(node(req, &["c_bound_session"])["kind"], "struct msg_create_bound_session");
    assert_eq!(node(req, &["c_bound_session"])["offset"], 16 + 16 + 16);
    assert_eq!(*val(req, &["c_bound_session", "ep_handle"]), 5);
    assert_eq!(*val(req, &["c_bound_session", "initial_cmdsn"]), 1);
    assert_eq!(*val(req, &["c_bound_session", "cmds_max"]), 128);
    assert_eq!(*val(req, &["c_bound_session", "queue_depth"]), 32);
    assert_eq!(*val(req, &["c_session_ret", "sid"]), 0);

    let rep = &msgs[1];
    assert_eq!(rep["type"], "ISCSI_UEVENT_CREATE_BOUND_SESSION");
    assert_eq!(rep["pid"], 0);
    assert_eq!(rep["direction"], "to-user");
    assert_eq!(node(rep, &["c_session_ret"])["kind"], "struct msg_create_session_ret");
    assert_eq!(node(rep, &["c_session_ret"])["offset"], 16 + 16 + 40);
    assert_eq!(*val(rep, &["c_session_ret", "sid"]), 3);
    assert_eq!(*val(rep, &["c_session_ret", "host_no"]), 7);

    let sp = &msgs[2];
    assert_eq!(sp["type"], "ISCSI_UEVENT_SET_PARAM");
    assert_eq!(sp["len"], 16 + 56 + 28);
    assert_eq!(*val(sp, &["set_param", "sid"]), 3);
    assert_eq!(*val(sp, &["set_param", "cid"]), 0);
    assert_eq!(*val(sp, &["set_param", "param"]), en(15, "ISCSI_PARAM_TARGET_NAME"));
    assert_eq!(*val(sp, &["set_param", "len"]), 27);
    assert_eq!(*val(sp, &["retcode"]), 0);
    // The value after the struct, with the padding nlmsg_len counts.
    assert_eq!(*val(sp, &["value"]), format!("{}00", hex(target)));
    assert_eq!(node(sp, &["value"])["offset"], 16 + 16 + 56);

    let err = &msgs[3];
    assert_eq!(err["type"], "ISCSI_UEVENT_SET_PARAM");
    assert_eq!(*val(err, &["type"]), en(103, "ISCSI_KEVENT_IF_ERROR"));
    assert_eq!(*val(err, &["iferror"]), -107);
    assert_eq!(*val(err, &["set_param", "param"]), en(15, "ISCSI_PARAM_TARGET_NAME"));

    let epc = &msgs[4];
    assert_eq!(epc["type"], "ISCSI_UEVENT_TRANSPORT_EP_CONNECT");
    assert_eq!(*val(epc, &["ep_connect", "non_blocking"]), 1);
    assert_eq!(node(epc, &["dst_addr", "[0]"])["kind"], "struct sockaddr");
    assert_eq!(*val(epc, &["dst_addr", "family"]), en(2, "AF_INET"));
    assert_eq!(*val(epc, &["dst_addr", "port"]), 3260);
    assert!(val(epc, &["dst_addr", "addr"]).as_str().unwrap().starts_with("0a000001"));
    assert_eq!(*val(&msgs[5], &["ep_connect_ret", "handle"]), 9);
}

/// Requests whose struct is followed by more: a PDU (SEND_PDU) and netlink attributes holding
/// struct iscsi_iface_param_info records (SET_IFACE_PARAMS).
#[test]
fn iscsi_pdus_and_iface_parameters() {
    // A login request PDU: opcode ISCSI_OP_LOGIN | ISCSI_OP_IMMEDIATE, 10 bytes of data.
    let mut bhs = vec![0x43, 0x87, 0, 0, 0, 0, 0, 10];
    bhs.extend([0u8; 8]);
    bhs.extend(0x11u32.to_le_bytes());
    for v in [0xffff_ffffu32, 0, 1, 1] {
        bhs.extend(v.to_be_bytes());
    }
    bhs.extend([0u8; 12]);
    assert_eq!(bhs.len(), 48);
    let data = b"AuthMethod";
    let mut send_pdu = uevent(ISCSI_UEVENT_SEND_PDU.into(), 0, &le32(&[3, 0, 48, data.len() as u32]), &[]);
    send_pdu.extend(&bhs);
    send_pdu.extend(data);
    let send_pdu = padded(ISCSI_UEVENT_SEND_PDU, 0, 0, ISCSID, &send_pdu);

    // iscsid's iface records: nla_type is the parameter number; the struct says which enum.
    let iface_param = |param: u16, param_type: u8, value: &[u8]| {
        let mut p = 0u32.to_le_bytes().to_vec(); // iface_num
        p.extend((value.len() as u32).to_le_bytes());
        p.extend(param.to_le_bytes());
        p.push(1); // ISCSI_IFACE_TYPE_IPV4
        p.push(param_type);
        p.extend(value);
        nlattr(param, &p, None)
    };
    let mut set_iface = uevent(ISCSI_UEVENT_SET_IFACE_PARAMS.into(), 0, &le32(&[7, 2]), &[]);
    set_iface.extend(iface_param(1, 2, &[192, 168, 1, 10])); // ISCSI_NET_PARAM_IPV4_ADDR
    set_iface.extend(iface_param(0, 5, &30u16.to_le_bytes())); // ISCSI_IFACE_PARAM_DEF_TASKMGMT_TMO
    let set_iface = padded(ISCSI_UEVENT_SET_IFACE_PARAMS, 0, 0, ISCSID, &set_iface);

    let msgs = run(NETLINK_ISCSI, &[send_pdu, set_iface]);
    assert_eq!(msgs.len(), 2);
    msgs.iter().for_each(assert_clean);

    let pdu = &msgs[0];
    assert_eq!(pdu["type"], "ISCSI_UEVENT_SEND_PDU");
    assert_eq!(*val(pdu, &["send_pdu", "hdr_size"]), 48);
    assert_eq!(*val(pdu, &["send_pdu", "data_size"]), 10);
    assert_eq!(node(pdu, &["pdu", "hdr"])["kind"], "struct iscsi_hdr");
    assert_eq!(node(pdu, &["pdu", "hdr"])["offset"], 16 + 16 + 56);
    assert_eq!(*val(pdu, &["hdr", "opcode"]), 0x43);
    assert_eq!(*val(pdu, &["hdr", "dlength"]), "00000a");
    assert_eq!(*val(pdu, &["hdr", "ttt"]), 0xffff_ffffu32);
    assert_eq!(*val(pdu, &["hdr", "exp_statsn"]), 1);
    assert_eq!(*val(pdu, &["pdu", "data"]), format!("{}0000", hex(data)));

    let si = &msgs[1];
    assert_eq!(si["type"], "ISCSI_UEVENT_SET_IFACE_PARAMS");
    assert_eq!(*val(si, &["set_iface_params", "host_no"]), 7);
    assert_eq!(*val(si, &["set_iface_params", "count"]), 2);
    let params = json_named(&si["body"], "ISCSI_IFACE_PARAM_INFO");
    assert_eq!(params.len(), 2);
    assert_eq!(params[0]["attr"], 1);
    assert_eq!(params[0]["kind"], "binary (struct iscsi_iface_param_info)");
    let field = |p: &Value, name: &str| {
        p["children"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap()["value"].clone()
    };
    assert_eq!(field(params[0], "param_type"), en(2, "ISCSI_NET_PARAM"));
    assert_eq!(field(params[0], "iface_type"), en(1, "ISCSI_IFACE_TYPE_IPV4"));
    assert_eq!(field(params[0], "param"), 1);
    assert_eq!(field(params[0], "len"), 4);
    assert_eq!(field(params[0], "value"), "c0a8010a");
    assert_eq!(params[1]["attr"], 0);
    assert_eq!(field(params[1], "param_type"), en(5, "ISCSI_IFACE_PARAM"));
    assert_eq!(field(params[1], "value"), "1e00");
}

/// Kernel events go out with nlmsg_type 0 (ISCSI_UEVENT_UNKNOWN), the event type only in
/// iscsi_uevent.type; the r union is the member that type uses (its bytes for other types).
#[test]
fn iscsi_kernel_events_have_type_zero() {
    // iscsi_conn_error_event: r.connerror = sid, cid, error (ISCSI_ERR_CONN_FAILED); u is left
    // as it was in the fresh skb.
    let conn_error = padded(0, 0, 0, 0, &uevent(ISCSI_KEVENT_CONN_ERROR, 0, &[0xaa; 24], &le32(&[3, 1, 1011])));
    // iscsi_recv_pdu: memset ev, r.recv_req = sid, cid, then the struct iscsi_hdr and the data.
    let mut recv = uevent(ISCSI_KEVENT_RECV_PDU, 0, &[], &le32(&[3, 1]));
    let mut bhs = vec![0x23, 0x80];
    bhs.resize(48, 0);
    recv.extend(&bhs);
    recv.extend(b"hello");
    let recv = padded(0, 0, 0, 0, &recv);

    let msgs = run(NETLINK_ISCSI, &[conn_error, recv]);
    assert_eq!(msgs.len(), 2);
    msgs.iter().for_each(assert_clean);

    let ce = &msgs[0];
    assert_eq!(ce["type"], "ISCSI_UEVENT_UNKNOWN");
    assert_eq!(ce["type_id"], 0);
    assert_eq!(ce["len"], 72);
    assert_eq!(ce["direction"], "to-user");
    assert_eq!(node(ce, &["iscsi_uevent"])["kind"], "struct iscsi_uevent");
    assert_eq!(child_names(ce, &["iscsi_uevent"]), ["type", "iferror", "transport_handle", "u", "r", "data"]);
    assert_eq!(*val(ce, &["type"]), en(102, "ISCSI_KEVENT_CONN_ERROR"));
    assert_eq!(*val(ce, &["transport_handle"]), TRANSPORT);
    assert_eq!(*val(ce, &["u"]), "aa".repeat(24));
    // r.connerror: sid 3, cid 1, error 1011 (ISCSI_ERR_CONN_FAILED), 4 bytes of the union left.
    assert_eq!(node(ce, &["r"])["kind"], "binary (struct msg_conn_error)");
    assert_eq!(child_names(ce, &["r"]), ["sid", "cid", "error"]);
    assert_eq!(*val(ce, &["r", "sid"]), 3);
    assert_eq!(*val(ce, &["r", "cid"]), 1);
    assert_eq!(*val(ce, &["r", "error"]), en(1011, "ISCSI_ERR_CONN_FAILED"));
    assert_eq!(node(ce, &["r"])["offset"], 16 + 16 + 40);
    assert_eq!(node(ce, &["r"])["length"], 16);
    assert_eq!(node(ce, &["data"])["length"], 0);

    let rp = &msgs[1];
    assert_eq!(rp["type"], "ISCSI_UEVENT_UNKNOWN");
    assert_eq!(rp["len"], 16 + 56 + 48 + 8);
    assert_eq!(*val(rp, &["type"]), en(101, "ISCSI_KEVENT_RECV_PDU"));
    // r.recv_req: sid 3, cid 1, recv_handle 0.
    assert_eq!(node(rp, &["r"])["kind"], "binary (struct msg_recv_req)");
    assert_eq!(*val(rp, &["r", "sid"]), 3);
    assert_eq!(*val(rp, &["r", "cid"]), 1);
    assert_eq!(*val(rp, &["r", "recv_handle"]), 0);
    // What follows is the received PDU: its 48-byte header (opcode 0x23, ISCSI_OP_LOGIN_RSP;
    // flags 0x80, ISCSI_FLAG_LOGIN_TRANSIT) and its data, padded.
    assert_eq!(node(rp, &["data"])["kind"], "binary (struct iscsi_pdu)");
    assert_eq!(*val(rp, &["data", "hdr", "opcode"]), 0x23);
    assert_eq!(*val(rp, &["data", "hdr", "flags"]), 0x80);
    assert_eq!(*val(rp, &["data", "data"]), format!("{}000000", hex(b"hello")));
}

/// ISCSI_UEVENT_CREATE_SESSION (11) to BIND_CONN (15) are below NLMSG_MIN_TYPE (16):
/// scsi_transport_iscsi.c reads them itself (iscsi_if_rx does not use netlink_rcv_skb), but
/// nlscope treats every type from 1 to 15 as a control message before any spec is asked, so the
/// spec's layouts for them are not reached. This test says what they should decode to once
/// src/decode/mod.rs lets a netlink-raw spec take the reserved types 5-15.
#[test]
fn iscsi_create_session_below_nlmsg_min_type() {
    let mut c_session = 1u32.to_le_bytes().to_vec();
    c_session.extend(128u16.to_le_bytes());
    c_session.extend(32u16.to_le_bytes());
    let request = padded(11, 0, 0, ISCSID, &uevent(11, 0, &c_session, &[]));
    let reply = padded(11, 0, 0, 0, &uevent(11, 0, &c_session, &le32(&[3, 7])));
    let msgs = run(NETLINK_ISCSI, &[request, reply]);
    msgs.iter().for_each(assert_clean);
    assert_eq!(msgs[0]["type"], "ISCSI_UEVENT_CREATE_SESSION");
    assert_eq!(*val(&msgs[0], &["c_session", "cmds_max"]), 128);
    assert_eq!(*val(&msgs[1], &["c_session_ret", "host_no"]), 7);
}

/// `struct scsi_nl_hdr` as INIT_SCSI_NL_HDR fills it.
fn scsi_nl_hdr(transport: u8, msgtype: u16, msglen: u16) -> Vec<u8> {
    let mut v = vec![1, transport];
    v.extend(0xa1b2u16.to_le_bytes());
    v.extend(msgtype.to_le_bytes());
    v.extend(msglen.to_le_bytes());
    v
}

/// fc_host_post_fc_event: len = FC_NL_MSGALIGN(sizeof(struct fc_nl_event) - 4 + data_len),
/// nlmsg_put(skb, 0, 0, SCSI_TRANSPORT_MSG, len, 0), zeros after the data up to len.
fn fc_event(seconds: u64, host_no: u16, event_num: u32, code: u32, data: &[u8]) -> Vec<u8> {
    let len = (36 + data.len() + 7) & !7;
    let mut v = scsi_nl_hdr(1, 0x100, len as u16);
    v.extend(seconds.to_le_bytes());
    v.extend(0u64.to_le_bytes());
    v.extend(host_no.to_le_bytes());
    v.extend((data.len() as u16).to_le_bytes());
    v.extend(event_num.to_le_bytes());
    v.extend(code.to_le_bytes());
    v.extend(data);
    v.resize(len, 0);
    nlmsg(17, 0, 0, 0, &v, None)
}

#[test]
fn scsi_transport_fc_events() {
    // fc_host_post_event(shost, num, FCH_EVT_LINKUP, 0): 4 bytes of event data.
    let linkup = fc_event(1_700_000_000, 5, 9, 0x2, &0u32.to_le_bytes());
    // FCH_EVT_LINK_FPIN with a 12-byte FPIN ELS: msglen 48.
    let fpin = fc_event(1_700_000_001, 5, 10, 0x501, &[0x16, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0]);
    // A SCSI_NL_SHOST_VENDOR message from user space (struct scsi_nl_host_vendor_msg, PCI vendor
    // 0x10df), which scsi_nl_rcv_msg answers with -ESRCH.
    let mut vendor = scsi_nl_hdr(0, 1, 28);
    vendor.extend(((1u64 << 56) | 0x10df).to_le_bytes());
    vendor.extend(5u16.to_le_bytes());
    vendor.extend(4u16.to_le_bytes());
    vendor.extend([0u8; 4]);
    vendor.extend([1, 2, 3, 4]);
    let vendor = nlmsg(17, NLM_F_REQUEST, 1, ISCSID, &vendor, None);

    let msgs = run(NETLINK_SCSITRANSPORT, &[linkup, fpin, vendor]);
    assert_eq!(msgs.len(), 3);
    for m in &msgs {
        assert_clean(m);
        assert_eq!(m["family"], "scsitransport");
        assert_eq!(m["type"], "SCSI_TRANSPORT_MSG");
        assert_eq!(m["type_id"], 17);
    }

    let up = &msgs[0];
    assert_eq!(up["len"], 56);
    assert_eq!(up["direction"], "to-user");
    assert_eq!(node(up, &["fc_nl_event"])["kind"], "struct fc_nl_event");
    assert_eq!(node(up, &["snlh"])["kind"], "struct scsi_nl_hdr");
    assert_eq!(*val(up, &["snlh", "version"]), 1);
    assert_eq!(*val(up, &["snlh", "transport"]), en(1, "SCSI_NL_TRANSPORT_FC"));
    assert_eq!(*val(up, &["snlh", "magic"]), 0xa1b2);
    assert_eq!(*val(up, &["snlh", "msgtype"]), en(0x100, "FC_NL_ASYNC_EVENT"));
    assert_eq!(*val(up, &["snlh", "msglen"]), 40);
    assert_eq!(*val(up, &["seconds"]), 1_700_000_000u64);
    assert_eq!(*val(up, &["vendor_id"]), 0);
    assert_eq!(*val(up, &["host_no"]), 5);
    assert_eq!(*val(up, &["event_datalen"]), 4);
    assert_eq!(*val(up, &["event_num"]), 9);
    assert_eq!(*val(up, &["event_code"]), en(2, "FCH_EVT_LINKUP"));
    assert_eq!(*val(up, &["event_data"]), "00000000");
    assert_eq!(node(up, &["event_data"])["offset"], 16 + 16 + 36);

    let fp = &msgs[1];
    assert_eq!(fp["len"], 64);
    assert_eq!(*val(fp, &["snlh", "msglen"]), 48);
    assert_eq!(*val(fp, &["event_code"]), en(0x501, "FCH_EVT_LINK_FPIN"));
    assert_eq!(*val(fp, &["event_datalen"]), 12);
    assert_eq!(*val(fp, &["event_data"]), "160000000000000400010000");

    let vm = &msgs[2];
    assert_eq!(vm["direction"], "to-kernel");
    assert_eq!(node(vm, &["scsi_nl_host_vendor_msg"])["kind"], "struct scsi_nl_host_vendor_msg");
    assert_eq!(*val(vm, &["snlh", "transport"]), en(0, "SCSI_NL_TRANSPORT"));
    assert_eq!(*val(vm, &["snlh", "msgtype"]), en(1, "SCSI_NL_SHOST_VENDOR"));
    assert_eq!(*val(vm, &["vendor_id"]), 0x0100_0000_0000_10dfu64);
    assert_eq!(*val(vm, &["host_no"]), 5);
    assert_eq!(*val(vm, &["vmsg_datalen"]), 4);
    assert_eq!(*val(vm, &["vendor_data"]), "01020304");
}

#[test]
fn selinux_notifications() {
    // selnl_notify: nlmsg_put(skb, 0, 0, msgtype, 4, 0), nlmsg_len 20.
    let setenforce = nlmsg(0x10, 0, 0, 0, &1i32.to_le_bytes(), None);
    let policyload = nlmsg(0x11, 0, 0, 0, &5u32.to_le_bytes(), None);
    let msgs = run(NETLINK_SELINUX, &[setenforce, policyload]);
    assert_eq!(msgs.len(), 2);
    for m in &msgs {
        assert_clean(m);
        assert_eq!(m["family"], "selinux");
        assert_eq!(m["len"], 20);
        assert_eq!(m["direction"], "to-user");
    }
    let se = &msgs[0];
    assert_eq!(se["type"], "SELNL_MSG_SETENFORCE");
    assert_eq!(se["type_id"], 16);
    assert_eq!(node(se, &["selnl_msg_setenforce"])["kind"], "struct selnl_msg_setenforce");
    assert_eq!(node(se, &["val"])["kind"], "s32");
    assert_eq!(*val(se, &["val"]), 1);
    assert_eq!(node(se, &["val"])["offset"], 32);
    let pl = &msgs[1];
    assert_eq!(pl["type"], "SELNL_MSG_POLICYLOAD");
    assert_eq!(pl["type_id"], 17);
    assert_eq!(node(pl, &["selnl_msg_policyload"])["kind"], "struct selnl_msg_policyload");
    assert_eq!(*val(pl, &["seqno"]), 5);
}

/// The real capture: SELinux switched to enforcing and back, then a policy loaded; an iSCSI
/// session and connection made, configured, asked for statistics and torn down over iscsi_tcp; four
/// SCSI transport messages the kernel refuses, each with another errno.
#[test]
fn real_capture_from_the_vm() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/scsi_selinux.pcapng");
    let out = bin().arg("-r").arg(&path).args(["-T", "json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let msgs: Vec<Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(msgs.len(), 28);
    msgs.iter().for_each(assert_clean);
    let frame = |n: u64| msgs.iter().find(|m| m["frame"] == n).unwrap();

    // SELinux: setenforce 1, setenforce 0, load_policy (the first policy: sequence number 1).
    let kinds: Vec<_> = (1..=3).map(|n| (frame(n)["type"].as_str().unwrap(), frame(n)["direction"].as_str())).collect();
    assert_eq!(
        kinds,
        [
            ("SELNL_MSG_SETENFORCE", Some("to-user")),
            ("SELNL_MSG_SETENFORCE", Some("to-user")),
            ("SELNL_MSG_POLICYLOAD", Some("to-user"))
        ]
    );
    assert_eq!((val(frame(1), &["val"]), val(frame(2), &["val"])), (&Value::from(1), &Value::from(0)));
    assert_eq!(val(frame(3), &["seqno"]), 1);

    // iSCSI: the session request, the kernel's multicast event, then its unicast reply, both
    // with session 1 on SCSI host 2.
    assert_eq!(frame(4)["type"], "ISCSI_UEVENT_CREATE_SESSION");
    assert_eq!(frame(4)["direction"], "to-kernel");
    assert_eq!(val(frame(4), &["c_session", "cmds_max"]), 128);
    assert_eq!(val(frame(5), &["type"]), &en(106, "ISCSI_KEVENT_CREATE_SESSION"));
    assert_eq!((val(frame(5), &["r", "sid"]), val(frame(5), &["r", "host_no"])), (&Value::from(1), &Value::from(2)));
    assert_eq!(frame(6)["type"], "ISCSI_UEVENT_CREATE_SESSION");
    assert_eq!(val(frame(6), &["c_session_ret", "host_no"]), 2);
    // Each request is answered by the kernel's reply of its type (port 0): CREATE_SESSION in
    // 2.4 ms, the event before it answers nothing; GET_STATS is answered by the multicast event.
    assert_eq!((frame(4)["replied_in"]["frame"].as_u64(), frame(4)["latency_ns"].as_i64()), (Some(6), Some(2_411_562)));
    assert_eq!(frame(6)["reply_to"]["frame"], 4);
    assert!(frame(5).get("reply_to").is_none() && frame(12).get("reply_to").is_none());
    let answered: Vec<_> =
        [7, 9, 13, 15, 17].iter().map(|&n| frame(n)["replied_in"]["frame"].as_u64().unwrap()).collect();
    assert_eq!(answered, [8, 10, 14, 16, 20]);
    assert!(frame(11).get("replied_in").is_none());
    assert_eq!(val(frame(8), &["c_conn_ret", "sid"]), 1);
    // GET_STATS is answered by multicast: the MIB counters and iscsi_tcp's three of its own.
    assert_eq!(val(frame(12), &["type"]), &en(20, "ISCSI_UEVENT_GET_STATS"));
    assert_eq!(node(frame(12), &["data"])["kind"], "binary (struct iscsi_stats)");
    assert_eq!(val(frame(12), &["data", "custom_length"]), 3);
    let entries = node(frame(12), &["custom"])["children"].as_array().unwrap();
    let custom: Vec<_> = entries
        .iter()
        .map(|c| (c["children"][0]["name"].as_str().unwrap(), c["children"][0]["value"].as_str().unwrap()))
        .collect();
    assert_eq!(custom, [("desc", "tx_sendpage_failures"), ("desc", "rx_discontiguous_hdr"), ("desc", "eh_abort_cnt")]);
    // iscsi_tcp has no ep_connect: ISCSI_KEVENT_IF_ERROR with -EINVAL.
    assert_eq!(val(frame(14), &["type"]), &en(103, "ISCSI_KEVENT_IF_ERROR"));
    assert_eq!(val(frame(14), &["iferror"]), -22);
    let text = bin().arg("-r").arg(&path).args(["-V", "-Y", "frame == 14"]).output().unwrap();
    assert!(stdout(&text).contains("iferror s32: -22 EINVAL (Invalid argument)"), "{}", stdout(&text));
    assert_eq!(val(frame(19), &["type"]), &en(104, "ISCSI_KEVENT_DESTROY_SESSION"));
    assert_eq!((val(frame(19), &["r", "host_no"]), val(frame(19), &["r", "sid"])), (&Value::from(2), &Value::from(1)));

    // SCSITRANSPORT: each error linked to its request, whose echo is laid out as a request.
    let errors: Vec<_> = [22, 24, 26, 28]
        .iter()
        .map(|&n| (frame(n)["error_name"].as_str().unwrap(), frame(n)["reply_to"]["frame"].as_u64()))
        .collect();
    assert_eq!(errors, [("ESRCH", Some(21)), ("EBADR", Some(23)), ("ENOENT", Some(25)), ("EPROTOTYPE", Some(27))]);
    assert_eq!(val(frame(28), &["request", "magic"]), 0x1234);
    assert_eq!(val(frame(26), &["request", "transport"]), &en(1, "SCSI_NL_TRANSPORT_FC"));
}
