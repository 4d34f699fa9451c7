//! Request/reply correlation across frames: which message answers which request, and how long it
//! took. Works on netlink headers only. Alongside decoding it links each reply back to its request
//! as the reply passes, keeping only the requests still waiting. A first pass over a file, made with
//! [`Correlator::looking_ahead`], also records where each request was answered, so that a request
//! can say so when it is printed (that record holds one entry per answered request until printed).
//!
//! A reply is matched to the latest pending request of the same protocol and sequence number whose
//! port id is the reply's or 0 (the kernel fills in a sender's port when the sender left it 0).
//! Multicast notifications (port 0, sequence 0) answer nothing. A request stays pending through
//! every part of a multi-part reply and ends with NLMSG_ERROR, NLMSG_DONE, or a single reply when
//! no ACK was asked for. A dump request (NLM_F_ROOT|NLM_F_MATCH) ends only with NLMSG_DONE or
//! NLMSG_ERROR: some dumps send parts without NLM_F_MULTI (SCTP associations in sock_diag).

use std::collections::hash_map::Entry;

use rustc_hash::FxHashMap as HashMap;

use crate::capture::{Frame, Timestamp};
use crate::decode::guess_endianness;
use crate::netlink::header::{
    self, NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_MULTI, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NlMsgHdr,
};

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
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    at: MsgRef,
    time: Timestamp,
    pid: u32,
    ty: u16,
    flags: u16,
    wants_ack: bool,
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
        for (i, (_, hdr)) in header::walk(payload, guess_endianness(payload)).enumerate() {
            let link = self.observe(protocol, &hdr, (frame.number, i), frame.timestamp);
            each(hdr, link);
        }
    }

    /// Observes one message and returns its link as known now.
    pub fn observe(&mut self, protocol: u16, hdr: &NlMsgHdr, at: MsgRef, time: Timestamp) -> Link {
        let key = (protocol, hdr.seq);
        if hdr.flags & NLM_F_REQUEST != 0 {
            if let Some(link) = self.kernel_echo(key, hdr, at, time) {
                return link;
            }
            let p = Pending {
                at,
                time,
                pid: hdr.pid,
                ty: hdr.ty,
                flags: hdr.flags,
                wants_ack: hdr.flags & NLM_F_ACK != 0,
                dump: hdr.flags & NLM_F_DUMP == NLM_F_DUMP,
                parts: 0,
                interrupted: false,
            };
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
            return Link::default();
        }
        if hdr.pid == 0 && hdr.seq == 0 {
            return Link::default(); // a multicast notification
        }
        let Some(slot) = self.pending.get_mut(&key) else { return Link::default() };
        let list = slot.entries();
        let Some(i) = list.iter().rposition(|p| p.pid == hdr.pid || p.pid == 0) else { return Link::default() };
        if (hdr.flags & NLM_F_MULTI != 0 || list[i].dump) && hdr.ty != NLMSG_DONE && hdr.ty != NLMSG_ERROR {
            list[i].parts += 1;
        }
        list[i].interrupted |= hdr.flags & NLM_F_DUMP_INTR != 0;
        let req = list[i];
        let latency = i64::try_from(time.nanos_since(&req.time)).ok();
        if let (Some(answers), Some(ns)) = (self.answers.as_mut(), latency) {
            answers.entry(req.at).or_insert((at, ns));
        }
        let last_part = hdr.ty == NLMSG_ERROR
            || hdr.ty == NLMSG_DONE
            || (hdr.flags & NLM_F_MULTI == 0 && !req.wants_ack && !req.dump);
        if last_part {
            match slot {
                Slot::Many(v) if v.len() > 1 => {
                    v.remove(i);
                }
                _ => {
                    self.pending.remove(&key);
                }
            }
        }
        let ends_dump = hdr.ty == NLMSG_DONE && hdr.flags & NLM_F_MULTI != 0;
        Link {
            reply_to: Some(req.at),
            replied_in: None,
            latency_ns: latency,
            dump_parts: ends_dump.then_some(req.parts),
            dump_interrupted: ends_dump && req.interrupted,
        }
    }

    /// A message with the REQUEST flag that the kernel sent, copying the header of the request
    /// it answers or reports: NETLINK_FIB_LOOKUP answers with the request's own bytes (same port,
    /// sequence number, type and flags), and the nexthop and tc filter notifications carry the
    /// request's flags with the requester's port filled in where the request had 0, before the
    /// ACK the request asked for. Such a message has the type, flags and sequence number of a
    /// pending request, and its port (FIB_LOOKUP), or a port where the pending request, waiting
    /// for its ACK, has 0. The FIB_LOOKUP answer is the only one; a notification leaves the
    /// request waiting for its ACK.
    fn kernel_echo(&mut self, key: (u16, u32), hdr: &NlMsgHdr, at: MsgRef, time: Timestamp) -> Option<Link> {
        let fib = key.0 == NETLINK_FIB_LOOKUP;
        let echoes = |p: &Pending| {
            p.ty == hdr.ty
                && p.flags == hdr.flags
                && if fib { p.pid == hdr.pid } else { p.wants_ack && p.pid == 0 && hdr.pid != 0 }
        };
        let slot = self.pending.get_mut(&key)?;
        let list = slot.entries();
        let i = list.iter().rposition(echoes)?;
        let req = list[i];
        let latency = i64::try_from(time.nanos_since(&req.time)).ok();
        if let (Some(answers), Some(ns)) = (self.answers.as_mut(), latency) {
            answers.entry(req.at).or_insert((at, ns));
        }
        if fib {
            match slot {
                Slot::Many(v) if v.len() > 1 => {
                    v.remove(i);
                }
                _ => {
                    self.pending.remove(&key);
                }
            }
        }
        Some(Link { reply_to: Some(req.at), latency_ns: latency, ..Link::default() })
    }

    /// Where a request was answered, from a first pass; the record is dropped once taken.
    pub fn take_answer(&mut self, request: MsgRef) -> Option<(MsgRef, i64)> {
        self.answers.as_mut()?.remove(&request)
    }
}

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
        assert_eq!(c.observe(0, &hdr(18, 0x301, 7, 0), (1, 0), t(0)), Link::default());
        c.observe(0, &hdr(16, NLM_F_MULTI, 7, 4242), (2, 0), t(2));
        let part = c.observe(0, &hdr(16, NLM_F_MULTI, 7, 4242), (2, 1), t(2));
        assert_eq!(part.reply_to, Some((1, 0)));
        let done = c.observe(0, &hdr(NLMSG_DONE, NLM_F_MULTI | NLM_F_DUMP_INTR, 7, 4242), (3, 0), t(5));
        let want = Link {
            reply_to: Some((1, 0)),
            replied_in: None,
            latency_ns: Some(5_000_000),
            dump_parts: Some(2),
            dump_interrupted: true,
        };
        assert_eq!(done, want);
        assert_eq!(c.take_answer((1, 0)), Some(((2, 0), 2_000_000)));
        assert_eq!(c.take_answer((1, 0)), None, "taken once");
        // The dump is over: a later message with the same sequence number answers nothing.
        assert_eq!(c.observe(0, &hdr(16, 0, 7, 4242), (4, 0), t(9)), Link::default());
    }

    #[test]
    fn acked_requests_wait_for_the_ack_and_notifications_answer_nothing() {
        let mut c = Correlator::default();
        c.observe(0, &hdr(16, NLM_F_REQUEST | NLM_F_ACK, 9, 0), (1, 0), t(0));
        assert_eq!(c.observe(0, &hdr(16, 0, 0, 0), (2, 0), t(1)), Link::default()); // multicast
        assert_eq!(c.observe(0, &hdr(NLMSG_ERROR, 0, 9, 77), (3, 0), t(3)).reply_to, Some((1, 0)));
        assert_eq!(c.take_answer((1, 0)), None, "not looking ahead");
    }

    #[test]
    fn port_ids_keep_two_senders_apart() {
        let mut c = Correlator::default();
        c.observe(16, &hdr(0x1c, NLM_F_REQUEST, 1, 100), (1, 0), t(0));
        c.observe(16, &hdr(0x1c, NLM_F_REQUEST, 1, 200), (2, 0), t(1));
        assert_eq!(c.observe(16, &hdr(0x1c, 0, 1, 100), (3, 0), t(2)).reply_to, Some((1, 0)));
    }
}
