//! Headless runs: a capture decoded and printed (summary lines, trees, hex, JSON Lines), in
//! capture order, on every core.
//!
//! What depends on order — linking replies to requests, keeping requests for the errors that do
//! not echo them whole, the first timestamp — is settled from message headers alone, frame by
//! frame, before a frame is handed out. Decoding and rendering, the expensive part, then need
//! nothing but the frame: batches of frames go to worker threads, and their text comes back and
//! is written in the order the frames were read. Reading standard input (a live pipe) and
//! counting messages (`-c`) run on one thread, frame by frame.

use std::collections::{BTreeMap, VecDeque};

use rustc_hash::FxHashMap as HashMap;
use std::io::{self, Write};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use crate::capture::{Direction, Frame, Source, Timestamp};
use crate::decode::{Decoder, FrameEnd, Message, RequestOf, annotate_error_from_request, error_needs_request};
use crate::filter::Filter;
use crate::netlink::header::{NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN};
use crate::render::stats::Stats;
use crate::render::text::{Style, write_nodes, write_summary, write_tree};
use crate::render::{hex::write_hex, json, summary};
use crate::session::{Correlator, Link, MsgRef};

/// How messages are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Summary lines (with `verbose`, trees).
    Text,
    /// JSON Lines, one object per message.
    Json,
}

/// What a headless run prints.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub format: Format,
    /// Trees under the summary lines (`-V`).
    pub verbose: bool,
    /// A hex dump of each frame (`-x`).
    pub hex: bool,
    /// No message lines (`-q`).
    pub quiet: bool,
    pub style: Style,
    /// Gather the end-of-run statistics.
    pub stats: bool,
    /// Collect error replies for `--fail-on-error`.
    pub failures: bool,
    /// Requests learned their answers in a first pass (files; not standard input).
    pub looked_ahead: bool,
}

/// Requests kept for errors that do not echo them whole (CAPPED): the most recent ones only.
const KEPT_REQUESTS: usize = 4096;
/// Frame bytes per batch handed to a worker (a batch's `-V` text is about 13 times as much).
const BATCH_BYTES: usize = 32 << 10;
/// Room for a batch's text, made once per buffer: growing buffers as they fill costs fresh
/// memory (and the system's zeroing of it) again and again.
const TEXT_PER_BATCH: usize = 32 * BATCH_BYTES;
/// Batches handed out and not yet written, per worker: bounds memory whatever the file's size.
const IN_FLIGHT_PER_WORKER: usize = 2;

/// One frame and what its messages need from the frames before it. Jobs go round between the
/// reading thread and the workers, so that frames are read into memory already in use.
struct Job {
    frame: Frame,
    /// Each message's link to its request or answer, by message index.
    links: Vec<Link>,
    /// For replies whose request is kept and needed (errors that do not echo it whole, replies
    /// whose layout depends on it): (message index, the request's frame, its index).
    requests: Vec<RequestOf>,
    /// The first frame's time (summary lines show time since then).
    first: Timestamp,
}

impl Job {
    fn new() -> Self {
        Job { frame: Frame::empty(), links: Vec::new(), requests: Vec::new(), first: Timestamp::default() }
    }
}

/// What printing some frames produced.
#[derive(Default)]
struct Printed {
    pub text: Vec<u8>,
    /// Messages printed (or counted, with `quiet`).
    pub messages: u64,
    pub stats: Option<Stats>,
    /// Error replies, as `frame.index: summary` lines.
    pub failures: Vec<String>,
    /// The batch's jobs, done with, to be read into again.
    jobs: Vec<Job>,
}

/// The end of a run: statistics and error replies, for the caller to report.
#[derive(Default)]
pub struct Outcome {
    pub stats: Option<Stats>,
    pub failures: Vec<String>,
    /// Records that could not be read (each was reported on standard error, in order).
    pub capture_errors: usize,
}

/// Settles, frame by frame in capture order, what needs the frames before: links and kept
/// requests.
struct Sequencer {
    links: Correlator,
    ahead: Correlator,
    requests: HashMap<MsgRef, Arc<Frame>>,
    request_order: VecDeque<MsgRef>,
    first: Option<Timestamp>,
    /// Protocols (bit per number below 32) whose replies are decoded with their request.
    reply_protocols: u32,
}

impl Sequencer {
    fn new(decoder: &Decoder<'_>, ahead: Correlator) -> Self {
        Sequencer {
            links: Correlator::default(),
            ahead,
            requests: HashMap::default(),
            request_order: VecDeque::new(),
            first: None,
            reply_protocols: (0..32u16)
                .filter(|&p| decoder.registry.replies_need_request(p))
                .fold(0, |mask, p| mask | (1 << p)),
        }
    }

    /// Fills in what `job`'s frame, just read, needs from the frames before it.
    fn settle(&mut self, job: &mut Job) {
        let Job { frame, links, requests, first } = job;
        *first = *self.first.get_or_insert(frame.timestamp);
        links.clear();
        requests.clear();
        let frame = &*frame;
        let mut keep = false;
        let with_request = frame.protocol().is_some_and(|p| p < 32 && self.reply_protocols & (1 << p) != 0);
        let (ahead, kept, order) = (&mut self.ahead, &mut self.requests, &mut self.request_order);
        self.links.observe_frame(frame, |hdr, mut link| {
            let index = links.len();
            let at = (frame.number, index);
            // Requests are answered (iSCSI's carry no REQUEST flag: see `session`).
            if let Some((answer, ns)) = ahead.take_answer(at) {
                link.replied_in = Some(answer);
                link.latency_ns = Some(ns);
            }
            if hdr.flags & NLM_F_REQUEST != 0 && hdr.len as usize > NLMSG_HDRLEN {
                if order.len() == KEPT_REQUESTS
                    && let Some(old) = order.pop_front()
                {
                    kept.remove(&old);
                }
                order.push_back(at);
                keep = true;
            } else if let Some(req) = link.reply_to.filter(|_| hdr.ty == NLMSG_ERROR || hdr.ty == NLMSG_DONE) {
                // The request is answered: it is needed no longer, except by this reply.
                if let Some(f) = kept.remove(&req) {
                    requests.push((index, f, req.1));
                }
            } else if let Some(f) = link.reply_to.filter(|_| with_request).and_then(|req| kept.get(&req)) {
                // A part of the answer whose layout may depend on the request (sock_diag).
                requests.push((index, f.clone(), link.reply_to.map_or(0, |r| r.1)));
            }
            links.push(link);
        });
        if keep {
            let shared = Arc::new(frame.clone());
            for at in self.request_order.iter().rev().take_while(|at| at.0 == frame.number) {
                self.requests.insert(*at, shared.clone());
            }
        }
    }
}

/// Decoding frame by frame in capture order, with what a headless run settles before decoding:
/// replies get the requests they answer (for tests and tools that read trees, not text).
pub struct InOrder<'r> {
    decoder: Decoder<'r>,
    seq: Sequencer,
    job: Job,
}

impl<'r> InOrder<'r> {
    pub fn new(decoder: Decoder<'r>) -> Self {
        let seq = Sequencer::new(&decoder, Correlator::default());
        InOrder { decoder, seq, job: Job::new() }
    }

    /// Decodes the next frame of the capture.
    pub fn decode(&mut self, frame: Frame) -> crate::decode::DecodedFrame {
        self.job.frame = frame;
        self.seq.settle(&mut self.job);
        self.decoder.decode_frame_with(&self.job.frame, &self.job.requests)
    }
}

/// Decodes and prints jobs; each worker thread has one.
struct Worker<'r> {
    decoder: Decoder<'r>,
    opts: Options,
    /// Messages that do not pass are neither printed nor counted.
    filter: Option<&'r Filter>,
}

impl Worker<'_> {
    /// Prints one frame's messages, at most `budget` of them.
    fn print(&mut self, job: &Job, budget: u64, out: &mut Printed) {
        let opts = self.opts;
        let filter = self.filter;
        let frame = &job.frame;
        let mut printed = 0;
        let end = self.decoder.stream_frame(frame, &job.requests, |decoder, msg| {
            if printed == budget {
                return false;
            }
            let link = job.links.get(msg.index).copied().unwrap_or_default();
            let annotated;
            let msg = match job.requests.iter().find(|r| r.0 == msg.index) {
                Some((_, request_frame, index)) if error_needs_request(msg) => {
                    let request = decoder.decode_frame(request_frame).messages.into_iter().nth(*index);
                    let mut copy = msg.clone();
                    if let Some(request) = request {
                        annotate_error_from_request(decoder, &mut copy, &request, request_frame);
                    }
                    annotated = copy;
                    &annotated
                }
                _ => msg,
            };
            // The kernel's copy of a request's header (see `session`) came from the kernel,
            // whatever its REQUEST flag made the header alone suggest.
            let redirected;
            let msg = match msg.header {
                Some(h)
                    if h.flags & NLM_F_REQUEST != 0
                        && link.reply_to.is_some()
                        && frame.direction == Direction::Unknown =>
                {
                    redirected = Message { direction: Direction::ToUser, ..msg.clone() };
                    &redirected
                }
                _ => msg,
            };
            if filter.is_some_and(|f| !f.matches(msg, &link, job.first)) {
                return true;
            }
            if opts.failures && msg.is_error_reply() {
                out.failures.push(format!("{}.{}: {}", msg.frame, msg.index, summary::summary(msg)));
            }
            if let Some(stats) = out.stats.as_mut() {
                stats.observe(msg, link);
            }
            printed += 1;
            if !opts.quiet {
                match opts.format {
                    Format::Json => json::write_message(&mut out.text, msg, link),
                    Format::Text => {
                        write_summary(&mut out.text, msg, link, job.first, opts.style);
                        if opts.verbose {
                            write_tree(&mut out.text, msg, opts.style);
                        }
                    }
                }
            }
            true
        });
        out.messages += printed;
        // With a filter, what is shown is the messages it lets through (and their frames).
        let shown = filter.is_none() || printed > 0;
        if !opts.quiet && !end.stopped && filter.is_none() {
            frame_problem(&mut out.text, frame, &end, opts);
        }
        if !opts.quiet && opts.hex && opts.format == Format::Text && shown {
            let _ = writeln!(
                out.text,
                "  frame {} ({} bytes, link type {}):",
                frame.number,
                frame.data.len(),
                frame.linktype
            );
            write_hex(&mut out.text, &frame.data);
        }
    }

    fn print_batch(&mut self, jobs: Vec<Job>, text: Vec<u8>) -> Printed {
        let stats = self.opts.stats.then(|| Stats::new(self.opts.looked_ahead));
        let mut out = Printed { text, stats, ..Printed::default() };
        for job in &jobs {
            self.print(job, u64::MAX, &mut out);
        }
        out.jobs = jobs;
        out
    }
}

/// What is wrong with a frame as a whole, and the zero padding after its messages.
fn frame_problem(out: &mut Vec<u8>, frame: &Frame, decoded: &FrameEnd, opts: Options) {
    if let Some(problem) = &decoded.problem {
        let index = decoded.messages;
        match opts.format {
            Format::Json => json::write_frame_problem(out, frame, index, problem),
            Format::Text => {
                let why = problem.node(0).problem.map(|p| problem.problem_text(p)).unwrap_or_default();
                let _ = writeln!(out, "{:>6}.{:<3} frame problem: {why}", frame.number, index);
                if opts.verbose {
                    write_nodes(out, problem, 0..problem.len(), 1, opts.style);
                }
            }
        }
    }
    if decoded.padding > 0 && opts.verbose && opts.format == Format::Text {
        let _ = writeln!(out, "  ({} zero bytes after the last message, ignored by the kernel)", decoded.padding);
    }
}

/// Where a run's output goes, and whether each frame must reach it at once (a live pipe).
pub struct Sink<W: Write> {
    pub out: W,
    pub flush_each_frame: bool,
}

/// Decodes and prints every frame of `frames`, in order. `ahead` holds what a first pass learned
/// about answers (empty when there was none); `count` stops after that many messages. Output
/// errors (a closed pipe among them) end the run and are returned as they are.
#[allow(clippy::too_many_arguments)]
pub fn run<W: Write, S: Source + Send>(
    frames: S,
    decoder: Decoder<'_>,
    ahead: Correlator,
    opts: Options,
    filter: Option<&Filter>,
    count: Option<u64>,
    sink: &mut Sink<W>,
) -> io::Result<Outcome> {
    let seq = Sequencer::new(&decoder, ahead);
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    if count.is_some() || sink.flush_each_frame || workers < 2 {
        run_in_order(frames, seq, Worker { decoder, opts, filter }, count.unwrap_or(u64::MAX), sink)
    } else {
        run_parallel(frames, seq, Worker { decoder, opts, filter }, workers, sink)
    }
}

/// One thread, frame by frame.
fn run_in_order<W: Write, S: Source>(
    mut frames: S,
    mut seq: Sequencer,
    mut worker: Worker<'_>,
    mut left: u64,
    sink: &mut Sink<W>,
) -> io::Result<Outcome> {
    let mut outcome = Outcome::default();
    let mut printed =
        Printed { stats: worker.opts.stats.then(|| Stats::new(worker.opts.looked_ahead)), ..Printed::default() };
    let mut job = Job::new();
    while let Some(item) = frames.read_into(&mut job.frame) {
        if left == 0 {
            break;
        }
        match item {
            Ok(()) => {
                seq.settle(&mut job);
                printed.messages = 0;
                worker.print(&job, left, &mut printed);
                left -= printed.messages;
                sink.out.write_all(&printed.text)?;
                printed.text.clear();
                if sink.flush_each_frame {
                    sink.out.flush()?;
                }
            }
            Err(e) => {
                // Everything before was printed; say what went wrong, in order.
                sink.out.flush()?;
                eprintln!("nlscope: {e}");
                outcome.capture_errors += 1;
            }
        }
    }
    sink.out.flush()?;
    outcome.stats = printed.stats;
    outcome.failures = printed.failures;
    Ok(outcome)
}

/// Writes the batches that are back, as long as they come in order.
fn write_ready<W: Write>(
    sink: &mut Sink<W>,
    finished: &mut BTreeMap<u64, Printed>,
    written: &mut u64,
    out: &mut Outcome,
    pool: &mut Vec<Vec<u8>>,
    spare: &mut Vec<Job>,
) -> io::Result<()> {
    while let Some(mut p) = finished.remove(written) {
        sink.out.write_all(&p.text)?;
        p.text.clear();
        pool.push(p.text);
        spare.append(&mut p.jobs);
        if let (Some(all), Some(s)) = (out.stats.as_mut(), p.stats) {
            all.merge(s);
        }
        out.failures.extend(p.failures);
        *written += 1;
    }
    Ok(())
}

/// Reading and ordering on this thread, decoding and printing on `workers` threads.
fn run_parallel<W: Write, S: Source>(
    mut frames: S,
    mut seq: Sequencer,
    worker: Worker<'_>,
    workers: usize,
    sink: &mut Sink<W>,
) -> io::Result<Outcome> {
    let opts = worker.opts;
    let mut outcome = Outcome { stats: opts.stats.then(|| Stats::new(opts.looked_ahead)), ..Outcome::default() };
    std::thread::scope(|scope| {
        // A batch: its number, its frames, and a buffer for its text (buffers go round, so their
        // memory is not returned to the system and faulted in again for every batch).
        let (job_tx, job_rx) = mpsc::channel::<(u64, Vec<Job>, Vec<u8>)>();
        let job_rx = Arc::new(Mutex::new(job_rx));
        let (done_tx, done_rx) = mpsc::channel::<(u64, Printed)>();
        for _ in 0..workers {
            let (job_rx, done_tx) = (job_rx.clone(), done_tx.clone());
            let mut worker = Worker { decoder: worker.decoder.clone(), opts, filter: worker.filter };
            let spawned = std::thread::Builder::new().name("nlscope-worker".into()).spawn_scoped(scope, move || {
                loop {
                    // The lock is held only to take the next batch.
                    let next = job_rx.lock().map_err(|_| ()).and_then(|rx| rx.recv().map_err(|_| ()));
                    let Ok((n, jobs, buffer)) = next else { return };
                    if done_tx.send((n, worker.print_batch(jobs, buffer))).is_err() {
                        return;
                    }
                }
            });
            if let Err(e) = spawned {
                eprintln!("nlscope: cannot start a worker thread ({e}); carrying on with fewer");
            }
        }
        drop(done_tx);
        // Batches are numbered as handed out and written in that order.
        let mut sent = 0u64;
        let mut written = 0u64;
        let mut finished: BTreeMap<u64, Printed> = BTreeMap::new();
        let mut pool: Vec<Vec<u8>> = Vec::new();
        // Waits for the next batch to come back; false if the workers are gone.
        let wait = |finished: &mut BTreeMap<u64, Printed>| match done_rx.recv() {
            Ok((n, p)) => {
                finished.insert(n, p);
                true
            }
            Err(_) => false,
        };
        let mut batch = Vec::new();
        let mut spare: Vec<Job> = Vec::new();
        let mut bytes = 0;
        loop {
            let mut job = spare.pop().unwrap_or_else(Job::new);
            let (end_of_batch, done, error) = match frames.read_into(&mut job.frame) {
                Some(Ok(())) => {
                    bytes += job.frame.data.len();
                    seq.settle(&mut job);
                    batch.push(job);
                    (bytes >= BATCH_BYTES, false, None)
                }
                Some(Err(e)) => (true, false, Some(e)),
                None => (true, true, None),
            };
            if end_of_batch && !batch.is_empty() {
                while sent - written >= (IN_FLIGHT_PER_WORKER * workers) as u64 {
                    if !wait(&mut finished) {
                        break;
                    }
                    write_ready(sink, &mut finished, &mut written, &mut outcome, &mut pool, &mut spare)?;
                }
                let buffer = pool.pop().unwrap_or_else(|| Vec::with_capacity(TEXT_PER_BATCH));
                let _ = job_tx.send((sent, std::mem::take(&mut batch), buffer));
                sent += 1;
                bytes = 0;
            }
            if let Some(e) = error {
                // Everything before is written first; then what went wrong, in order.
                while written < sent && wait(&mut finished) {
                    write_ready(sink, &mut finished, &mut written, &mut outcome, &mut pool, &mut spare)?;
                }
                sink.out.flush()?;
                eprintln!("nlscope: {e}");
                outcome.capture_errors += 1;
            }
            if done {
                break;
            }
        }
        drop(job_tx);
        while written < sent && wait(&mut finished) {
            write_ready(sink, &mut finished, &mut written, &mut outcome, &mut pool, &mut spare)?;
        }
        sink.out.flush()
    })?;
    Ok(outcome)
}
