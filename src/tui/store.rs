//! What the terminal UI keeps of a capture: every frame as read, and one small [`Row`] per
//! message — its header, its links to request and replies, a few flags — instead of trees.
//! Trees are decoded again from the frame when a message is shown, so a capture of a million
//! messages costs its own size plus a few dozen bytes per message (frames are packed by
//! [`super::frames`]).
//!
//! Frames are added in capture order, from a file or live, and each is decoded once as it is
//! added: that gives exactly the messages the headless output shows, and links requests and
//! replies (a request learns where it was answered when the answer arrives).

use std::ops::Range;
use std::sync::Arc;

use super::frames::Frames;
use crate::capture::{Direction, Frame, Process, Timestamp};
use crate::decode::{Decoder, Message, RequestOf, annotate_error_from_request, error_needs_request};
use crate::netlink::header::{NLM_F_ACK, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NlMsgHdr, OpKind};
use crate::session::{Correlator, Link, MsgRef, answered_by_ack, echoed_request};
use crate::tree::Tree;

/// No row (for the links of [`Row`]).
const NONE: u32 = u32::MAX;
/// No latency known.
const NO_LATENCY: i64 = i64::MIN;
/// The `index` of a row standing for a frame's problem (bytes that are no message).
pub const PROBLEM: u16 = u16::MAX;

/// One message of the capture (or one frame problem), as the list needs it.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    /// Index into the store's frames.
    pub frame: u32,
    /// The message's index within its frame, or [`PROBLEM`].
    pub index: u16,
    pub protocol: u16,
    /// Meaningful with [`HAS_HEADER`] (kobject uevents and frame problems have none).
    hdr: NlMsgHdr,
    pub direction: Direction,
    reply_to: u32,
    replied_in: u32,
    /// [`NO_LATENCY`] when unknown (sentinels keep a million rows small).
    latency_ns: i64,
    /// [`NONE`] when the row ends no dump.
    dump_parts: u32,
    flags: u8,
}

const ERROR_REPLY: u8 = 1;
const PROBLEM_NODES: u8 = 2;
const UNKNOWN: u8 = 4;
const DUMP_INTERRUPTED: u8 = 8;
const EXPECTS_ANSWER: u8 = 16;
const HAS_HEADER: u8 = 32;
const NO_HDR: NlMsgHdr = NlMsgHdr { len: 0, ty: 0, flags: 0, seq: 0, pid: 0 };

impl Row {
    /// The netlink header, for messages that have one.
    pub fn header(&self) -> Option<NlMsgHdr> {
        (self.flags & HAS_HEADER != 0).then_some(self.hdr)
    }

    /// An NLMSG_ERROR or NLMSG_DONE carrying a negative errno.
    pub fn is_error_reply(&self) -> bool {
        self.flags & ERROR_REPLY != 0
    }

    /// Some node is malformed or truncated, or the row is a frame problem.
    pub fn has_problem(&self) -> bool {
        self.flags & PROBLEM_NODES != 0
    }

    /// No dissector knows the message type.
    pub fn is_unknown(&self) -> bool {
        self.flags & UNKNOWN != 0
    }

    /// The end of a dump that the kernel interrupted (NLM_F_DUMP_INTR).
    pub fn dump_interrupted(&self) -> bool {
        self.flags & DUMP_INTERRUPTED != 0
    }

    /// A request that asked for an answer (an ACK, or what it gets) and has none yet.
    pub fn unanswered(&self) -> bool {
        self.flags & EXPECTS_ANSWER != 0 && self.replied_in == NONE
    }

    pub fn reply_to(&self) -> Option<u32> {
        (self.reply_to != NONE).then_some(self.reply_to)
    }

    pub fn replied_in(&self) -> Option<u32> {
        (self.replied_in != NONE).then_some(self.replied_in)
    }

    pub fn latency_ns(&self) -> Option<i64> {
        (self.latency_ns != NO_LATENCY).then_some(self.latency_ns)
    }

    pub fn dump_parts(&self) -> Option<u32> {
        (self.dump_parts != NONE).then_some(self.dump_parts)
    }

    /// The row of the request this row answers, or the row itself for a request: what all
    /// messages of one conversation (a request, its dump parts, its end) share.
    pub fn conversation(&self, me: u32) -> Option<u32> {
        match self.reply_to() {
            Some(r) => Some(r),
            None => self.header().filter(|h| h.flags & NLM_F_REQUEST != 0).map(|_| me),
        }
    }
}

/// The frames of a capture and the index of their messages.
#[derive(Default)]
pub struct Store {
    frames: Frames,
    /// Per frame: its first row.
    first_row: Vec<u32>,
    rows: Vec<Row>,
    correlator: Correlator,
    first: Option<Timestamp>,
    /// Bumped whenever a frame names generic netlink families: names shown before may change.
    pub genl_epoch: u64,
}

impl Store {
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    pub fn row(&self, i: u32) -> &Row {
        &self.rows[i as usize]
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn frame_count(&self) -> usize {
        self.frames.len()
    }

    /// The captured bytes of a row's frame.
    pub fn frame_bytes(&self, row: u32) -> &[u8] {
        self.frames.bytes(self.rows[row as usize].frame)
    }

    /// When a row's frame was captured.
    pub fn frame_time(&self, row: u32) -> Timestamp {
        self.frames.timestamp(self.rows[row as usize].frame)
    }

    /// The rows of the frame that row `row` belongs to.
    pub fn frame_rows(&self, row: u32) -> Range<u32> {
        self.rows_of_frame(self.rows[row as usize].frame as usize)
    }

    fn rows_of_frame(&self, f: usize) -> Range<u32> {
        self.first_row[f]..self.first_row.get(f + 1).copied().unwrap_or(self.rows.len() as u32)
    }

    /// The first frame's time.
    pub fn first_time(&self) -> Timestamp {
        self.first.unwrap_or_default()
    }

    /// The row of the first message of the frame numbered `number` (as the capture numbers them).
    pub fn row_of_frame_number(&self, number: u64) -> Option<u32> {
        let f = self.frames.find(number)?;
        let row = self.first_row[f as usize];
        (row < self.rows.len() as u32 && self.rows[row as usize].frame == f).then_some(row)
    }

    fn row_of(&self, at: MsgRef) -> u32 {
        match self.frames.find(at.0) {
            Some(f) => self.first_row[f as usize] + at.1 as u32,
            None => NONE,
        }
    }

    /// Where a row sits in the capture: frame number and message index.
    pub fn msg_ref(&self, row: u32) -> MsgRef {
        let r = &self.rows[row as usize];
        (self.frames.number(r.frame), usize::from(r.index))
    }

    /// The row's links as the renderers and filters know them.
    pub fn link(&self, row: u32) -> Link {
        let r = &self.rows[row as usize];
        Link {
            reply_to: r.reply_to().map(|i| self.msg_ref(i)),
            replied_in: r.replied_in().map(|i| self.msg_ref(i)),
            latency_ns: r.latency_ns(),
            dump_parts: r.dump_parts(),
            dump_interrupted: r.dump_interrupted(),
            notification: self.is_notification(r),
        }
    }

    /// A reply row that is a notification its request caused, not the request's answer (see
    /// `session`).
    pub fn is_notification(&self, row: &Row) -> bool {
        let ends = row.header().is_some_and(|h| h.ty == NLMSG_ERROR || h.ty == NLMSG_DONE);
        let request = row.reply_to().and_then(|q| self.rows[q as usize].header());
        !ends && request.is_some_and(|q| answered_by_ack(row.protocol, &q))
    }

    /// Adds a frame: decodes it once for its rows, links requests and replies. Returns the rows
    /// of earlier frames that changed: requests now answered (their latency is known) and rows
    /// whose process changed. They are to be drawn and filtered again.
    pub fn push(&mut self, decoder: &mut Decoder<'_>, frame: Frame) -> Vec<Range<u32>> {
        let mut changed = Vec::new();
        self.first.get_or_insert(frame.timestamp);
        if decoder.learn_genl_families(&frame) {
            self.genl_epoch += 1;
        }
        let f = self.frames.len() as u32;
        let start = self.rows.len() as u32;
        self.first_row.push(start);
        let protocol = frame.protocol().unwrap_or(0);
        let mut new = Vec::new();
        // Decoded without the requests of its replies: the rows need no layout they choose.
        let end = decoder.stream_frame(&frame, &[], |_, msg| {
            let bytes = frame.data.get(msg.offset..msg.offset + msg.length).unwrap_or(&[]);
            new.push((row_of_message(f, protocol, msg), echoed_request(bytes, msg.endian)));
            true
        });
        for (i, (mut row, echoed)) in new.into_iter().enumerate() {
            if let Some(hdr) = row.header() {
                let link = self.correlator.observe(protocol, &hdr, echoed, (frame.number, i), frame.timestamp);
                row.latency_ns = link.latency_ns.unwrap_or(NO_LATENCY);
                row.dump_parts = link.dump_parts.unwrap_or(NONE);
                if link.dump_interrupted {
                    row.flags |= DUMP_INTERRUPTED;
                }
                if let Some(req) = link.reply_to {
                    let req = self.row_of(req);
                    row.reply_to = req;
                    if hdr.pid != 0
                        && let Some(rows) = self.lend_process(req, frame.process.as_ref())
                    {
                        changed.push(rows);
                    }
                    if let Some(r) = self.rows.get_mut(req as usize)
                        && r.replied_in == NONE
                        && !link.notification
                    {
                        r.replied_in = start + i as u32;
                        r.latency_ns = link.latency_ns.unwrap_or(NO_LATENCY);
                        changed.push(req..req + 1);
                    }
                }
            }
            self.rows.push(row);
        }
        if end.problem.is_some() {
            self.rows.push(Row {
                frame: f,
                index: PROBLEM,
                protocol,
                hdr: NO_HDR,
                direction: frame.direction,
                reply_to: NONE,
                replied_in: NONE,
                latency_ns: NO_LATENCY,
                dump_parts: NONE,
                flags: PROBLEM_NODES,
            });
        }
        self.frames.push(frame);
        changed
    }

    /// Live capture: a request sent with port 0 names no process (the kernel fills the sender's
    /// port in), but a reply naming a port was sent to the requester, so the request's frame
    /// takes the process its reply names, if it had none. One frame is one `sendmsg` from one
    /// socket: its other messages are the same sender's. Returns the frame's rows.
    fn lend_process(&mut self, request: u32, owner: Option<&Process>) -> Option<Range<u32>> {
        let owner = owner.filter(|p| p.pid != 0)?;
        let r = self.rows.get(request as usize)?;
        let sent_with_port_0 = r.header().is_some_and(|h| h.flags & NLM_F_REQUEST != 0 && h.pid == 0);
        let f = r.frame;
        if !sent_with_port_0 || !self.frames.lend_process(f, owner) {
            return None;
        }
        Some(self.rows_of_frame(f as usize))
    }

    /// Decodes one row's message again (a frame problem: its problem tree as a message-less
    /// tree). An error reply whose request is in the capture names its offending attribute in
    /// the request's terms.
    pub fn decode(&self, decoder: &mut Decoder<'_>, row: u32) -> Decoded {
        let r = self.rows[row as usize];
        if r.index == PROBLEM {
            let frame = self.frames.get(r.frame);
            let end = decoder.stream_frame(&frame, &[], |_, _| true);
            return Decoded::Problem(end.problem.unwrap_or_default());
        }
        let Some(mut msg) = self.message(decoder, row) else { return Decoded::Problem(Tree::default()) };
        if error_needs_request(&msg)
            && let Some(req) = r.reply_to()
            && let Some(request) = self.message(decoder, req)
        {
            let request_frame = self.frames.get(self.rows[req as usize].frame);
            annotate_error_from_request(decoder, &mut msg, &request, &request_frame);
        }
        Decoded::Message(Box::new(msg))
    }

    /// The message of a row, decoded from its frame.
    fn message(&self, decoder: &mut Decoder<'_>, row: u32) -> Option<Message> {
        let r = self.rows[row as usize];
        let mut found = None;
        self.stream(decoder, r.frame, |msg| {
            if msg.index == usize::from(r.index) {
                found = Some(msg.clone());
                return false;
            }
            true
        });
        found
    }

    /// Decodes every message of the frame holding `row`, handing each with its row.
    pub fn decode_frame_of(&self, decoder: &mut Decoder<'_>, row: u32, mut each: impl FnMut(u32, &Message)) {
        let r = self.rows[row as usize];
        let start = self.first_row[r.frame as usize];
        self.stream(decoder, r.frame, |msg| {
            each(start + msg.index as u32, msg);
            true
        });
    }

    /// Decodes the messages of frame `f` again, with the requests its replies need for their
    /// layout (sock_diag replies are read by the protocol their request asked for).
    fn stream(&self, decoder: &mut Decoder<'_>, f: u32, mut each: impl FnMut(&Message) -> bool) {
        let frame = self.frames.get(f);
        let mut requests: Vec<RequestOf> = Vec::new();
        if frame.protocol().is_some_and(|p| decoder.registry.replies_need_request(p)) {
            let first = self.first_row[f as usize] as usize;
            let rows = self.rows[first..].iter().take_while(|r| r.frame == f && r.index != PROBLEM);
            let mut shared: Vec<(u32, Arc<Frame>)> = Vec::new();
            for row in rows {
                let Some(req) = row.reply_to() else { continue };
                let req = self.rows[req as usize];
                let arc = match shared.iter().find(|s| s.0 == req.frame) {
                    Some(s) => s.1.clone(),
                    None => {
                        let a = Arc::new(self.frames.get(req.frame));
                        shared.push((req.frame, a.clone()));
                        a
                    }
                };
                requests.push((usize::from(row.index), arc, usize::from(req.index)));
            }
        }
        decoder.stream_frame(&frame, &requests, |_, msg| each(msg));
    }
}

/// A row decoded again.
pub enum Decoded {
    Message(Box<Message>),
    /// A frame problem: the bytes that are no message.
    Problem(Tree),
}

fn row_of_message(frame: u32, protocol: u16, msg: &Message) -> Row {
    let mut flags = 0;
    if msg.is_error_reply() {
        flags |= ERROR_REPLY;
    }
    if msg.has_error_nodes() {
        flags |= PROBLEM_NODES;
    }
    if msg.unknown {
        flags |= UNKNOWN;
    }
    if msg.header.is_some() {
        flags |= HAS_HEADER;
    }
    if let Some(h) = msg.header
        && h.flags & NLM_F_REQUEST != 0
        && (h.flags & NLM_F_ACK != 0 || msg.op_kind == OpKind::Get)
    {
        flags |= EXPECTS_ANSWER;
    }
    Row {
        frame,
        index: msg.index.min(usize::from(PROBLEM - 1)) as u16,
        protocol,
        hdr: msg.header.unwrap_or(NO_HDR),
        direction: msg.direction,
        reply_to: NONE,
        replied_in: NONE,
        latency_ns: NO_LATENCY,
        dump_parts: NONE,
        flags,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn rows_stay_small() {
        // A million messages: 48 MB of rows.
        assert!(std::mem::size_of::<super::Row>() <= 48, "{}", std::mem::size_of::<super::Row>());
    }
}
