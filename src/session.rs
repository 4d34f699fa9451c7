//! Request/reply correlation across frames: which message answers which request, and how long it
//! took. Works on netlink headers only, so it can run as a first pass over a file (then requests
//! also learn where they were answered) or alongside decoding on a stream (then only replies are
//! linked back).
//!
//! A reply is matched to the latest pending request of the same protocol and sequence number whose
//! port id is the reply's or 0 (the kernel fills in a sender's port when the sender left it 0).
//! Multicast notifications (port 0, sequence 0) answer nothing. A request stays pending through
//! every part of a multi-part reply and ends with NLMSG_ERROR, NLMSG_DONE, or a single reply when
//! no ACK was asked for.

use std::collections::HashMap;

use crate::capture::{Frame, Timestamp};
use crate::decode::guess_endianness;
use crate::netlink::attr::align;
use crate::netlink::header::{NLM_F_ACK, NLM_F_MULTI, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, NlMsgHdr};

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
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    at: MsgRef,
    time: Timestamp,
    pid: u32,
    wants_ack: bool,
}

/// Links requests and replies as messages are observed in capture order.
#[derive(Debug, Default)]
pub struct Correlator {
    pending: HashMap<(u16, u32), Vec<Pending>>,
    links: HashMap<MsgRef, Link>,
}

impl Correlator {
    /// Observes every message header of a frame (no decoding).
    pub fn observe_frame(&mut self, frame: &Frame) {
        let Some(protocol) = frame.protocol() else { return };
        let payload = frame.payload();
        let endian = guess_endianness(payload);
        let mut pos = 0;
        let mut index = 0;
        while let Some(hdr) = NlMsgHdr::parse(&payload[pos..], endian) {
            let len = hdr.len as usize;
            if len < NLMSG_HDRLEN || len > payload.len() - pos {
                break;
            }
            self.observe(protocol, &hdr, (frame.number, index), frame.timestamp);
            index += 1;
            pos += align(len);
            if pos >= payload.len() {
                break;
            }
        }
    }

    /// Observes one message.
    pub fn observe(&mut self, protocol: u16, hdr: &NlMsgHdr, at: MsgRef, time: Timestamp) {
        let key = (protocol, hdr.seq);
        if hdr.flags & NLM_F_REQUEST != 0 {
            let p = Pending { at, time, pid: hdr.pid, wants_ack: hdr.flags & NLM_F_ACK != 0 };
            self.pending.entry(key).or_default().push(p);
            return;
        }
        if hdr.pid == 0 && hdr.seq == 0 {
            return; // a multicast notification
        }
        let Some(list) = self.pending.get_mut(&key) else { return };
        let Some(i) = list.iter().rposition(|p| p.pid == hdr.pid || p.pid == 0) else { return };
        let req = list[i];
        let latency = i64::try_from(time.nanos_since(&req.time)).ok();
        self.links.insert(at, Link { reply_to: Some(req.at), replied_in: None, latency_ns: latency });
        let request = self.links.entry(req.at).or_default();
        if request.replied_in.is_none() {
            request.replied_in = Some(at);
            request.latency_ns = latency;
        }
        let last_part =
            hdr.ty == NLMSG_ERROR || hdr.ty == NLMSG_DONE || (hdr.flags & NLM_F_MULTI == 0 && !req.wants_ack);
        if last_part {
            list.remove(i);
            if list.is_empty() {
                self.pending.remove(&key);
            }
        }
    }

    /// What is known about a message.
    pub fn link(&self, at: MsgRef) -> Link {
        self.links.get(&at).copied().unwrap_or_default()
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
        let mut c = Correlator::default();
        c.observe(0, &hdr(18, 0x301, 7, 0), (1, 0), t(0));
        c.observe(0, &hdr(16, NLM_F_MULTI, 7, 4242), (2, 0), t(2));
        c.observe(0, &hdr(16, NLM_F_MULTI, 7, 4242), (2, 1), t(2));
        c.observe(0, &hdr(NLMSG_DONE, NLM_F_MULTI, 7, 4242), (3, 0), t(5));
        assert_eq!(c.link((1, 0)), Link { reply_to: None, replied_in: Some((2, 0)), latency_ns: Some(2_000_000) });
        assert_eq!(c.link((2, 1)).reply_to, Some((1, 0)));
        assert_eq!(c.link((3, 0)), Link { reply_to: Some((1, 0)), replied_in: None, latency_ns: Some(5_000_000) });
        // The dump is over: a later message with the same sequence number answers nothing.
        c.observe(0, &hdr(16, 0, 7, 4242), (4, 0), t(9));
        assert_eq!(c.link((4, 0)), Link::default());
    }

    #[test]
    fn acked_requests_wait_for_the_ack_and_notifications_answer_nothing() {
        let mut c = Correlator::default();
        c.observe(0, &hdr(16, NLM_F_REQUEST | NLM_F_ACK, 9, 0), (1, 0), t(0));
        c.observe(0, &hdr(16, 0, 0, 0), (2, 0), t(1)); // multicast RTM_NEWLINK
        c.observe(0, &hdr(NLMSG_ERROR, 0, 9, 77), (3, 0), t(3));
        assert_eq!(c.link((2, 0)), Link::default());
        assert_eq!(c.link((3, 0)).reply_to, Some((1, 0)));
        assert_eq!(c.link((1, 0)).replied_in, Some((3, 0)));
    }

    #[test]
    fn port_ids_keep_two_senders_apart() {
        let mut c = Correlator::default();
        c.observe(16, &hdr(0x1c, NLM_F_REQUEST, 1, 100), (1, 0), t(0));
        c.observe(16, &hdr(0x1c, NLM_F_REQUEST, 1, 200), (2, 0), t(1));
        c.observe(16, &hdr(0x1c, 0, 1, 100), (3, 0), t(2));
        assert_eq!(c.link((3, 0)).reply_to, Some((1, 0)));
    }
}
