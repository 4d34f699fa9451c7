//! Request/reply correlation across frames: which message answers which request, and how long it
//! took. Works on netlink headers only. Alongside decoding it links each reply back to its request
//! as the reply passes, keeping only the requests still waiting. A first pass over a file, made with
//! [`Correlator::looking_ahead`], also records where each request was answered, so that a request
//! can say so when it is printed (that record holds one entry per answered request until printed).
//!
//! A reply is matched to the latest pending request of the same protocol and sequence number whose
//! port id is the reply's or 0 (the kernel fills in a sender's port when the sender left it 0).
//! When none does, an NLMSG_ERROR is matched by the request header it echoes: to the oldest pending
//! request of the protocol whose whole header (length, type, flags, sequence number, port) it is
//! (`ip rule flush` sends dumped rules back with the dump's header, port included, from another
//! socket, whose port the ACK then names). Two requests have one header only when one program
//! copies it, and the kernel answers them in order; a different program would have to send the
//! same length, type and flags under the same sequence number with the same nonzero port.
//!
//! Multicast notifications (port 0, sequence 0) answer nothing. A request stays pending through
//! every part of a multi-part reply and ends with NLMSG_ERROR, NLMSG_DONE, or a single reply when
//! no ACK was asked for. A dump request (NLM_F_ROOT|NLM_F_MATCH) ends only with NLMSG_DONE or
//! NLMSG_ERROR: some dumps send parts without NLM_F_MULTI (SCTP associations in sock_diag).
//!
//! A request that only changes state (see [`changes_only`]) is answered by its NLMSG_ERROR: what
//! else comes with its port and sequence number is a notification of the change, sent to every
//! listener (`ip monitor`) before the ACK. Such a notification links to the request that caused
//! it, but is not where the request was answered, and its latency is not the request's.
//!
//! NETLINK_ISCSI has its own conversation (see [`Correlator::iscsi`]): iscsid sets no flags and
//! no sequence number, and the kernel answers with port 0 and the request's type.

use std::collections::hash_map::Entry;

use nom::number::Endianness;
use rustc_hash::FxHashMap as HashMap;

use crate::capture::{Frame, Timestamp};
use crate::decode::guess_endianness;
use crate::netlink::header::{
    self, NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_ECHO, NLM_F_MULTI, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR,
    NLMSG_HDRLEN, NlMsgHdr,
};
use crate::netlink::protocol::{NETLINK_ROUTE, NETLINK_XFRM};

const NETLINK_ISCSI: u16 = 8;
const NETLINK_FIB_LOOKUP: u16 = 10;

/// A message's place in the capture: frame number and index within the frame.
pub type MsgRef = (u64, usize);

/// What correlation found for one message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Link {
    /// For replies: the request they answer.
    pub reply_to: Option<MsgRef>,
    /// For requests: the first message that answered them.
    pub replied_in: Option<MsgRef>,
    /// Time from the request to this reply, or to the first reply of this request.
    pub latency_ns: Option<i64>,
    /// On the message that ends a multi-part reply (NLMSG_DONE): how many parts came before it.
    pub dump_parts: Option<u32>,
    /// On the end of a multi-part reply: some part carried NLM_F_DUMP_INTR, the kernel's data
    /// changed during the dump and its result is inconsistent.
    pub dump_interrupted: bool,
    /// A notification that `reply_to` caused (a change it made, sent to listeners), not its
    /// answer: the request is answered by its ACK.
    pub notification: bool,
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    at: MsgRef,
    time: Timestamp,
    hdr: NlMsgHdr,
    wants_ack: bool,
    /// Answered by its NLMSG_ERROR only: other messages naming it are notifications.
    acked_only: bool,
    /// A dump request: answered until NLMSG_DONE (or an error).
    dump: bool,
    /// Multi-part replies seen so far, and whether one was interrupted.
    parts: u32,
    interrupted: bool,
}

/// The requests waiting under one (protocol, sequence number): nearly always one.
#[derive(Debug)]
enum Slot {
    One(Pending),
    Many(Vec<Pending>),
}

impl Slot {
    fn entries(&mut self) -> &mut [Pending] {
        match self {
            Slot::One(p) => std::slice::from_mut(p),
            Slot::Many(v) => v,
        }
    }
}

/// Links requests and replies as messages are observed in capture order.
#[derive(Debug, Default)]
pub struct Correlator {
    pending: HashMap<(u16, u32), Slot>,
    /// Requests and their first answer (with its latency), when looking ahead.
    answers: Option<HashMap<MsgRef, (MsgRef, i64)>>,
}

impl Correlator {
    /// A correlator for a first pass: it also records where each request was answered.
    pub fn looking_ahead() -> Self {
        Correlator { pending: HashMap::default(), answers: Some(HashMap::default()) }
    }

    /// Observes every message header of a frame (no decoding) and calls `each` with each
    /// message's header and its link as far as it is known now (replies know their request).
    pub fn observe_frame(&mut self, frame: &Frame, mut each: impl FnMut(NlMsgHdr, Link)) {
        let Some(protocol) = frame.protocol() else { return };
        let payload = frame.payload();
        let endian = guess_endianness(payload);
        for (i, (offset, hdr)) in header::walk(payload, endian).enumerate() {
            let echoed = echoed_request(&payload[offset..], endian);
            let link = self.observe(protocol, &hdr, echoed, (frame.number, i), frame.timestamp);
            each(hdr, link);
        }
    }

    /// Observes one message and returns its link as known now. `echoed` is the request header an
    /// NLMSG_ERROR carries (see [`echoed_request`]).
    pub fn observe(
        &mut self,
        protocol: u16,
        hdr: &NlMsgHdr,
        echoed: Option<NlMsgHdr>,
        at: MsgRef,
        time: Timestamp,
    ) -> Link {
        let key = (protocol, hdr.seq);
        if hdr.flags & NLM_F_REQUEST != 0 {
            if let Some(link) = self.kernel_echo(key, hdr, at, time) {
                return link;
            }
            let dump = hdr.flags & NLM_F_DUMP == NLM_F_DUMP;
            let p = Pending {
                at,
                time,
                hdr: *hdr,
                wants_ack: hdr.flags & NLM_F_ACK != 0,
                acked_only: answered_by_ack(protocol, hdr),
                dump,
                parts: 0,
                interrupted: false,
            };
            self.wait(key, p);
            return Link::default();
        }
        if protocol == NETLINK_ISCSI && hdr.seq == 0 && hdr.ty != 0 {
            return self.iscsi(hdr, at, time);
        }
        if hdr.pid == 0 && hdr.seq == 0 {
            return Link::default(); // a multicast notification
        }
        let Some(slot) = self.pending.get_mut(&key) else { return Link::default() };
        let list = slot.entries();
        let by_port = list.iter().rposition(|p| p.hdr.pid == hdr.pid || p.hdr.pid == 0);
        // The kernel answers in order: of several requests with the echoed header, the oldest.
        let by_echo = || echoed.filter(|_| hdr.ty == NLMSG_ERROR).and_then(|e| list.iter().position(|p| p.hdr == e));
        let Some(i) = by_port.or_else(by_echo) else { return Link::default() };
        if (hdr.flags & NLM_F_MULTI != 0 || list[i].dump) && hdr.ty != NLMSG_DONE && hdr.ty != NLMSG_ERROR {
            list[i].parts += 1;
        }
        list[i].interrupted |= hdr.flags & NLM_F_DUMP_INTR != 0;
        let req = list[i];
        let latency = i64::try_from(time.nanos_since(&req.time)).ok();
        let ends = hdr.ty == NLMSG_ERROR || hdr.ty == NLMSG_DONE;
        let notification = req.acked_only && !ends;
        if let (Some(answers), Some(ns), false) = (self.answers.as_mut(), latency, notification) {
            answers.entry(req.at).or_insert((at, ns));
        }
        let last_part = ends || (hdr.flags & NLM_F_MULTI == 0 && !req.wants_ack && !req.dump);
        if last_part {
            self.done(key, i);
        }
        let ends_dump = hdr.ty == NLMSG_DONE && hdr.flags & NLM_F_MULTI != 0;
        Link {
            reply_to: Some(req.at),
            replied_in: None,
            latency_ns: latency,
            dump_parts: ends_dump.then_some(req.parts),
            dump_interrupted: ends_dump && req.interrupted,
            notification,
        }
    }

    /// A message with the REQUEST flag that the kernel sent, copying the header of the request
    /// it answers or reports: NETLINK_FIB_LOOKUP answers with the request's own bytes (same port,
    /// sequence number, type and flags), and the nexthop and tc filter notifications carry the
    /// request's flags with the requester's port filled in where the request had 0, before the
    /// ACK the request asked for. Such a message has the type, flags and sequence number of a
    /// pending request, and its port (FIB_LOOKUP), or a port where the pending request, waiting
    /// for its ACK, has 0. The FIB_LOOKUP answer is the only one; a notification leaves the
    /// request waiting for its ACK (with NLM_F_ECHO, the copy sent back is its answer).
    fn kernel_echo(&mut self, key: (u16, u32), hdr: &NlMsgHdr, at: MsgRef, time: Timestamp) -> Option<Link> {
        let fib = key.0 == NETLINK_FIB_LOOKUP;
        let echoes = |p: &Pending| {
            p.hdr.ty == hdr.ty
                && p.hdr.flags == hdr.flags
                && if fib { p.hdr.pid == hdr.pid } else { p.wants_ack && p.hdr.pid == 0 && hdr.pid != 0 }
        };
        let slot = self.pending.get_mut(&key)?;
        let list = slot.entries();
        let i = list.iter().rposition(echoes)?;
        let req = list[i];
        let latency = i64::try_from(time.nanos_since(&req.time)).ok();
        let notification = req.acked_only;
        if let (Some(answers), Some(ns), false) = (self.answers.as_mut(), latency, notification) {
            answers.entry(req.at).or_insert((at, ns));
        }
        if fib {
            self.done(key, i);
        }
        Some(Link { reply_to: Some(req.at), latency_ns: latency, notification, ..Link::default() })
    }

    /// Adds a request to those waiting under `key`.
    fn wait(&mut self, key: (u16, u32), p: Pending) {
        match self.pending.entry(key) {
            Entry::Vacant(v) => {
                v.insert(Slot::One(p));
            }
            Entry::Occupied(mut o) => match o.get_mut() {
                Slot::One(first) => {
                    let first = *first;
                    o.insert(Slot::Many(vec![first, p]));
                }
                Slot::Many(v) => v.push(p),
            },
        }
    }

    /// The `i`th request waiting under `key` got its last answer.
    fn done(&mut self, key: (u16, u32), i: usize) {
        match self.pending.get_mut(&key) {
            Some(Slot::Many(v)) if v.len() > 1 => {
                v.remove(i);
            }
            _ => {
                self.pending.remove(&key);
            }
        }
    }

    /// NETLINK_ISCSI (a message with sequence number 0 and a nonzero type): iscsid sends its
    /// requests (ISCSI_UEVENT_*) with no flags, sequence number 0 and its own port, one at a time,
    /// and the kernel answers each with one message of the request's type and port 0
    /// (iscsi_if_send_reply); kernel events have type 0 and answer nothing. A message with a port
    /// is taken as a request, one with port 0 answers the latest request of its type. (The
    /// statistics and CHAP records GET_STATS and GET_CHAP ask for come as type-0 multicast
    /// events: those requests stay unlinked.)
    fn iscsi(&mut self, hdr: &NlMsgHdr, at: MsgRef, time: Timestamp) -> Link {
        let key = (NETLINK_ISCSI, 0);
        if hdr.pid != 0 {
            let p = Pending {
                at,
                time,
                hdr: *hdr,
                wants_ack: false,
                acked_only: false,
                dump: false,
                parts: 0,
                interrupted: false,
            };
            self.wait(key, p);
            return Link::default();
        }
        let Some(slot) = self.pending.get_mut(&key) else { return Link::default() };
        let Some(i) = slot.entries().iter().rposition(|p| p.hdr.ty == hdr.ty) else { return Link::default() };
        let req = slot.entries()[i];
        self.done(key, i);
        let latency = i64::try_from(time.nanos_since(&req.time)).ok();
        if let (Some(answers), Some(ns)) = (self.answers.as_mut(), latency) {
            answers.entry(req.at).or_insert((at, ns));
        }
        Link { reply_to: Some(req.at), latency_ns: latency, ..Link::default() }
    }

    /// Where a request was answered, from a first pass; the record is dropped once taken.
    pub fn take_answer(&mut self, request: MsgRef) -> Option<(MsgRef, i64)> {
        self.answers.as_mut()?.remove(&request)
    }
}

/// The request header at the start of an NLMSG_ERROR's payload, after the error code; `msg` starts
/// at the error's own header. The echo is in the byte order of the message that carries it.
pub fn echoed_request(msg: &[u8], endian: Endianness) -> Option<NlMsgHdr> {
    let hdr = NlMsgHdr::parse(msg, endian)?;
    if hdr.ty != NLMSG_ERROR {
        return None;
    }
    NlMsgHdr::parse(msg.get(NLMSG_HDRLEN + 4..)?, endian)
}

/// A request answered by its ACK (or error) alone: one that only changes state, without
/// NLM_F_ECHO (which asks for a copy of the notification as the answer).
pub fn answered_by_ack(protocol: u16, request: &NlMsgHdr) -> bool {
    request.flags & NLM_F_ECHO == 0 && changes_only(protocol, request.ty)
}

/// A request type that only changes the kernel's state, answered by nothing but its ACK (or its
/// error), as far as the header tells: rtnetlink's NEW, DEL and SET (`type & 3` of RTM_BASE-based
/// types, as `rtnetlink_rcv_msg` reads it: 2 is GET), and xfrm's changes (from `<linux/xfrm.h>`;
/// its GETs, ALLOCSPI and GETAE among them, reply with a message). Other protocols' types do not
/// say (a generic netlink NEW or SET may well reply, as nl80211's NEW_INTERFACE and ethtool's SET
/// commands do), so their first reply still counts as the answer.
pub fn changes_only(protocol: u16, ty: u16) -> bool {
    match protocol {
        NETLINK_ROUTE => ty >= RTM_BASE && (ty - RTM_BASE) & 3 != 2,
        NETLINK_XFRM => XFRM_CHANGES.contains(&ty),
        _ => false,
    }
}

const RTM_BASE: u16 = 16;
/// XFRM_MSG_NEWSA, DELSA, NEWPOLICY, DELPOLICY, ACQUIRE, EXPIRE, UPDPOLICY, UPDSA, POLEXPIRE,
/// FLUSHSA, FLUSHPOLICY, NEWAE, MIGRATE, NEWSPDINFO and SETDEFAULT: requests whose handlers in
/// the kernel's xfrm_user.c send no reply.
const XFRM_CHANGES: [u16; 15] =
    [0x10, 0x11, 0x13, 0x14, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x21, 0x24, 0x27];

#[cfg(test)]
mod tests {
    use super::*;

    fn hdr(ty: u16, flags: u16, seq: u32, pid: u32) -> NlMsgHdr {
        NlMsgHdr { len: 16, ty, flags, seq, pid }
    }

    fn t(ms: i64) -> Timestamp {
        Timestamp { secs: ms / 1000, nanos: (ms % 1000) as u32 * 1_000_000 }
    }

    #[test]
    fn dump_parts_and_done_link_to_their_request() {
        let mut c = Correlator::looking_ahead();
        assert_eq!(c.observe(0, &hdr(18, 0x301, 7, 0), None, (1, 0), t(0)), Link::default());
        c.observe(0, &hdr(16, NLM_F_MULTI, 7, 4242), None, (2, 0), t(2));
        let part = c.observe(0, &hdr(16, NLM_F_MULTI, 7, 4242), None, (2, 1), t(2));
        assert_eq!(part.reply_to, Some((1, 0)));
        let done = c.observe(0, &hdr(NLMSG_DONE, NLM_F_MULTI | NLM_F_DUMP_INTR, 7, 4242), None, (3, 0), t(5));
        let want = Link {
            reply_to: Some((1, 0)),
            replied_in: None,
            latency_ns: Some(5_000_000),
            dump_parts: Some(2),
            dump_interrupted: true,
            notification: false,
        };
        assert_eq!(done, want);
        assert_eq!(c.take_answer((1, 0)), Some(((2, 0), 2_000_000)));
        assert_eq!(c.take_answer((1, 0)), None, "taken once");
        // The dump is over: a later message with the same sequence number answers nothing.
        assert_eq!(c.observe(0, &hdr(16, 0, 7, 4242), None, (4, 0), t(9)), Link::default());
    }

    #[test]
    fn acked_requests_wait_for_the_ack_and_notifications_answer_nothing() {
        let mut c = Correlator::default();
        c.observe(0, &hdr(16, NLM_F_REQUEST | NLM_F_ACK, 9, 0), None, (1, 0), t(0));
        assert_eq!(c.observe(0, &hdr(16, 0, 0, 0), None, (2, 0), t(1)), Link::default()); // multicast
        assert_eq!(c.observe(0, &hdr(NLMSG_ERROR, 0, 9, 77), None, (3, 0), t(3)).reply_to, Some((1, 0)));
        assert_eq!(c.take_answer((1, 0)), None, "not looking ahead");
    }

    #[test]
    fn port_ids_keep_two_senders_apart() {
        let mut c = Correlator::default();
        c.observe(16, &hdr(0x1c, NLM_F_REQUEST, 1, 100), None, (1, 0), t(0));
        c.observe(16, &hdr(0x1c, NLM_F_REQUEST, 1, 200), None, (2, 0), t(1));
        assert_eq!(c.observe(16, &hdr(0x1c, 0, 1, 100), None, (3, 0), t(2)).reply_to, Some((1, 0)));
    }

    /// An NLMSG_ERROR's bytes: its header, error 0, then the echoed request header.
    fn ack(echo: NlMsgHdr, seq: u32, pid: u32) -> (NlMsgHdr, Vec<u8>) {
        let outer = NlMsgHdr { len: 36, ty: NLMSG_ERROR, flags: 0x100, seq, pid };
        let put = |b: &mut Vec<u8>, h: NlMsgHdr| {
            b.extend(h.len.to_le_bytes());
            b.extend(h.ty.to_le_bytes());
            b.extend(h.flags.to_le_bytes());
            b.extend(h.seq.to_le_bytes());
            b.extend(h.pid.to_le_bytes());
        };
        let mut b = Vec::new();
        put(&mut b, outer);
        b.extend(0i32.to_le_bytes());
        put(&mut b, echo);
        (outer, b)
    }

    #[test]
    fn acks_sent_to_another_port_are_matched_by_the_echoed_header_oldest_first() {
        let mut c = Correlator::looking_ahead();
        // Two RTM_DELRULE requests copying a dump's header (port 161), from other sockets.
        let del = NlMsgHdr { len: 60, ty: 33, flags: NLM_F_REQUEST | NLM_F_ACK, seq: 5, pid: 161 };
        c.observe(0, &del, None, (1, 0), t(0));
        c.observe(0, &del, None, (2, 0), t(1));
        let (outer, bytes) = ack(del, 5, 0x9000_0001);
        let echoed = echoed_request(&bytes, Endianness::Little);
        assert_eq!(echoed, Some(del));
        assert_eq!(c.observe(0, &outer, echoed, (3, 0), t(2)).reply_to, Some((1, 0)));
        assert_eq!(c.observe(0, &outer, echoed, (4, 0), t(3)).reply_to, Some((2, 0)));
        assert_eq!(c.take_answer((2, 0)), Some(((4, 0), 2_000_000)));
        // A header that differs in any field (here the length) links nothing.
        c.observe(0, &del, None, (5, 0), t(4));
        let other = NlMsgHdr { len: 64, ..del };
        let (outer, bytes) = ack(other, 5, 0x9000_0002);
        assert_eq!(c.observe(0, &outer, echoed_request(&bytes, Endianness::Little), (6, 0), t(5)).reply_to, None);
        // Too short for an echo: none.
        assert_eq!(echoed_request(&bytes[..30], Endianness::Little), None);
    }

    #[test]
    fn notifications_of_a_change_link_to_it_but_the_ack_answers_it() {
        let mut c = Correlator::looking_ahead();
        // RTM_NEWADDR with ACK, then the notification with the requester's port, then the ACK.
        c.observe(0, &hdr(20, NLM_F_REQUEST | NLM_F_ACK, 8, 0), None, (1, 0), t(0));
        let note = c.observe(0, &hdr(20, 0, 8, 134), None, (2, 0), t(1));
        assert_eq!((note.reply_to, note.notification), (Some((1, 0)), true));
        let done = c.observe(0, &hdr(NLMSG_ERROR, 0x100, 8, 134), None, (3, 0), t(3));
        assert_eq!((done.reply_to, done.notification), (Some((1, 0)), false));
        assert_eq!(c.take_answer((1, 0)), Some(((3, 0), 3_000_000)));
        // A GET's reply answers it; with NLM_F_ECHO the echoed copy answers a NEW.
        c.observe(0, &hdr(18, NLM_F_REQUEST, 9, 0), None, (4, 0), t(4));
        assert!(!c.observe(0, &hdr(16, 0, 9, 134), None, (5, 0), t(5)).notification);
        assert_eq!(c.take_answer((4, 0)), Some(((5, 0), 1_000_000)));
        c.observe(0, &hdr(20, NLM_F_REQUEST | NLM_F_ECHO, 10, 0), None, (6, 0), t(6));
        assert!(!c.observe(0, &hdr(20, 0, 10, 134), None, (7, 0), t(8)).notification);
        assert_eq!(c.take_answer((6, 0)), Some(((7, 0), 2_000_000)));
        // Generic netlink types do not say what they do: a SET's first reply answers it.
        assert!(!changes_only(16, 0x1c) && changes_only(0, 19) && !changes_only(0, 94) && changes_only(6, 0x10));
    }

    #[test]
    fn iscsi_replies_have_port_0_and_the_requests_type() {
        let mut c = Correlator::looking_ahead();
        // iscsid (port 4242): CREATE_SESSION (11); the kernel's event (type 0) answers nothing,
        // its reply (type 11, port 0) does.
        assert_eq!(c.observe(8, &hdr(11, 0, 0, 4242), None, (1, 0), t(0)), Link::default());
        assert_eq!(c.observe(8, &hdr(0, 0, 0, 0), None, (2, 0), t(1)).reply_to, None);
        let reply = c.observe(8, &hdr(11, 0, 0, 0), None, (3, 0), t(2));
        assert_eq!((reply.reply_to, reply.latency_ns), (Some((1, 0)), Some(2_000_000)));
        assert_eq!(c.take_answer((1, 0)), Some(((3, 0), 2_000_000)));
        // A reply of another type, or a second one, links nothing.
        c.observe(8, &hdr(13, 0, 0, 4242), None, (4, 0), t(3));
        assert_eq!(c.observe(8, &hdr(12, 0, 0, 0), None, (5, 0), t(4)).reply_to, None);
        assert_eq!(c.observe(8, &hdr(13, 0, 0, 0), None, (6, 0), t(5)).reply_to, Some((4, 0)));
        assert_eq!(c.observe(8, &hdr(13, 0, 0, 0), None, (7, 0), t(6)).reply_to, None);
        // Other protocols keep the rule that port 0 and sequence 0 is a notification.
        c.observe(0, &hdr(18, 0, 0, 4242), None, (8, 0), t(7));
        assert_eq!(c.observe(0, &hdr(18, 0, 0, 0), None, (9, 0), t(8)).reply_to, None);
    }
}
