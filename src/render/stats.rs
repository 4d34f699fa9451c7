//! The end-of-run summary (`--summary`, or `-q` alone): messages per family and type, errors by
//! errno with the requests that got them, requests left unanswered, interrupted dumps, and
//! latency percentiles per request type. Reads decoded messages and their links only.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::decode::Message;
use crate::netlink::errno;
use crate::netlink::header::{NLM_F_ACK, NLM_F_REQUEST, NLM_F_ROOT, OpKind};
use crate::session::Link;
use crate::tree::Value;

/// Counts gathered while messages are printed.
#[derive(Debug, Default)]
pub struct Stats {
    /// (family, type) to count.
    types: BTreeMap<(String, String), u64>,
    /// errno to (count, request type to count).
    errors: BTreeMap<i32, (u64, BTreeMap<String, u64>)>,
    /// Requests that expected an answer and got none (only known when looking ahead).
    unanswered: Vec<String>,
    interrupted_dumps: Vec<String>,
    /// Request type to latencies of their first answer.
    latencies: BTreeMap<String, Vec<i64>>,
    /// Whether requests could learn their answers (files: yes; standard input: no).
    looked_ahead: bool,
}

impl Stats {
    pub fn new(looked_ahead: bool) -> Self {
        Stats { looked_ahead, ..Stats::default() }
    }

    pub fn observe(&mut self, msg: &Message, link: Link) {
        let ty = msg.type_name().unwrap_or("(unnamed)").to_string();
        *self.types.entry((msg.family_key().into_owned(), ty.clone())).or_default() += 1;
        if let Some(e) = msg.error.filter(|_| msg.is_error_reply()) {
            let request = msg
                .find("request")
                .and_then(|r| match msg.tree.node(r).value {
                    Value::Enum { name: Some(n), .. } => Some(msg.tree.str(n).to_string()),
                    _ => None,
                })
                .unwrap_or_else(|| "(end of dump)".to_string());
            let entry = self.errors.entry(e).or_default();
            entry.0 += 1;
            *entry.1.entry(request).or_default() += 1;
        }
        // A message that answers a request is none itself, whatever its flags (the kernel's copies
        // of a request's header: see `session`).
        if let Some(h) = msg.header.filter(|h| h.flags & NLM_F_REQUEST != 0 && link.reply_to.is_none()) {
            let expects = h.flags & (NLM_F_ACK | NLM_F_ROOT) != 0 || msg.op_kind == OpKind::Get;
            match (link.replied_in, link.latency_ns) {
                (Some(_), Some(ns)) => self.latencies.entry(ty).or_default().push(ns),
                (None, _) if expects && self.looked_ahead => {
                    self.unanswered.push(format!("{}.{} {ty} seq={}", msg.frame, msg.index, h.seq));
                }
                _ => {}
            }
        }
        if link.dump_interrupted {
            let (f, i) = link.reply_to.unwrap_or_default();
            self.interrupted_dumps.push(format!("dump of {f}.{i} ended in {}.{}", msg.frame, msg.index));
        }
    }

    /// Adds what `later` counted, from messages that came after this one's.
    pub fn merge(&mut self, later: Stats) {
        for (k, n) in later.types {
            *self.types.entry(k).or_default() += n;
        }
        for (e, (n, requests)) in later.errors {
            let entry = self.errors.entry(e).or_default();
            entry.0 += n;
            for (r, n) in requests {
                *entry.1.entry(r).or_default() += n;
            }
        }
        self.unanswered.extend(later.unanswered);
        self.interrupted_dumps.extend(later.interrupted_dumps);
        for (ty, v) in later.latencies {
            self.latencies.entry(ty).or_default().extend(v);
        }
    }

    pub fn write(&mut self, out: &mut impl Write) -> io::Result<()> {
        writeln!(out, "\n== Messages by family and type")?;
        for ((family, ty), n) in &self.types {
            writeln!(out, "  {n:>8}  {family} {ty}")?;
        }
        writeln!(out, "\n== Error replies")?;
        if self.errors.is_empty() {
            writeln!(out, "  none")?;
        }
        for (e, (n, requests)) in &self.errors {
            let (name, text) = errno::lookup(e.unsigned_abs()).unwrap_or(("?", "unknown errno"));
            let by: Vec<String> = requests.iter().map(|(r, n)| format!("{r} x{n}")).collect();
            writeln!(out, "  {n:>8}  {e} {name} ({text}): {}", by.join(", "))?;
        }
        writeln!(out, "\n== Requests left unanswered")?;
        if !self.looked_ahead {
            writeln!(out, "  not known: standard input is read once, so requests cannot wait for their answers")?;
        } else if self.unanswered.is_empty() {
            writeln!(out, "  none")?;
        }
        for u in &self.unanswered {
            writeln!(out, "  {u}")?;
        }
        writeln!(out, "\n== Interrupted dumps (NLM_F_DUMP_INTR)")?;
        if self.interrupted_dumps.is_empty() {
            writeln!(out, "  none")?;
        }
        for d in &self.interrupted_dumps {
            writeln!(out, "  {d}")?;
        }
        writeln!(out, "\n== Latency to the first answer (ms)            count      p50      p90      p99      max")?;
        for (ty, v) in &mut self.latencies {
            v.sort_unstable();
            let p = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize] as f64 / 1e6;
            writeln!(
                out,
                "  {ty:<44} {:>6} {:>8.3} {:>8.3} {:>8.3} {:>8.3}",
                v.len(),
                p(0.5),
                p(0.9),
                p(0.99),
                p(1.0)
            )?;
        }
        Ok(())
    }
}
