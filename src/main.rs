//! The `nlscope` command: reads a capture, decodes it and prints it headless.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};

use nlscope::capture::{self, Frame, Timestamp};
use std::collections::{HashMap, VecDeque};

use nlscope::decode::{DecodedFrame, Decoder, Message, annotate_error_from_request};
use nlscope::netlink::header::{NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR};
use nlscope::render::stats::Stats;
use nlscope::render::text::{Style, write_node, write_summary, write_tree};
use nlscope::render::{hex::write_hex, json};
use nlscope::session::{Correlator, Link, MsgRef};
use nlscope::spec::Registry;
use nlscope::tree::find_in;

/// Frames come and go by the thousand; glibc's allocator returns freed memory to the kernel and
/// faults it back in for every big dump frame, which cost a third of the run time.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OutputFormat {
    /// Summary lines (with -V, trees).
    Text,
    /// JSON Lines, one object per message.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Netlink traffic debugger: decodes netlink captures (nlmon pcap/pcapng) down to the last
/// nested attribute.
#[derive(Debug, Parser)]
#[command(name = "nlscope", version, about, disable_version_flag = true)]
struct Cli {
    /// Print the version.
    #[arg(long, action = clap::ArgAction::Version)]
    version: Option<bool>,
    /// Read packets from a pcap or pcapng file ("-" for standard input).
    #[arg(short = 'r', long = "read", value_name = "FILE")]
    read: Option<PathBuf>,
    /// Print the full tree of every message.
    #[arg(short = 'V', long = "verbose")]
    verbose: bool,
    /// Add a hex and ASCII dump of every frame.
    #[arg(short = 'x', long = "hex")]
    hex: bool,
    /// Stop after this many messages.
    #[arg(short = 'c', long = "count", value_name = "N")]
    count: Option<u64>,
    /// Output format.
    #[arg(short = 'T', long = "format", value_enum, default_value_t = OutputFormat::Text)]
    format: OutputFormat,
    /// Colour the text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Load more dissector specs (kernel YNL YAML) from this directory; repeatable. A spec replaces
    /// a built-in one of the same name.
    #[arg(long = "spec-dir", value_name = "DIR")]
    spec_dir: Vec<PathBuf>,
    /// Print a summary at the end: messages per family and type, errors by errno with their
    /// requests, unanswered requests, interrupted dumps, latency percentiles.
    #[arg(long = "summary")]
    summary: bool,
    /// Print no message lines (with --summary or --fail-on-error: only what they report);
    /// alone it means --summary.
    #[arg(short = 'q', long = "quiet")]
    quiet: bool,
    /// Exit with status 3 if the capture holds an error reply (NLMSG_ERROR or NLMSG_DONE with a
    /// non-zero errno), after naming each on standard error. For CI.
    #[arg(long = "fail-on-error")]
    fail_on_error: bool,
    /// Name a generic netlink family id by hand, e.g. nl80211=0x1c; repeatable.
    #[arg(long = "genl-family", value_name = "NAME=ID", value_parser = parse_genl_family)]
    genl_family: Vec<(String, u16)>,
}

fn parse_genl_family(s: &str) -> Result<(String, u16), String> {
    let (name, id) = s.split_once('=').ok_or("expected NAME=ID, e.g. nl80211=0x1c")?;
    let id = match id.strip_prefix("0x") {
        Some(h) => u16::from_str_radix(h, 16),
        None => id.parse(),
    }
    .map_err(|_| format!("`{id}` is not a family id (a number such as 28 or 0x1c)"))?;
    Ok((name.to_string(), id))
}

/// Requests kept for errors that do not echo them whole (CAPPED): the most recent ones only.
const KEPT_REQUESTS: usize = 4096;

struct Printer<W: Write> {
    out: W,
    /// Recent requests, for naming the attribute a CAPPED error's offset points at.
    requests: HashMap<MsgRef, Message>,
    request_order: VecDeque<MsgRef>,
    /// The end-of-run summary, when asked for.
    stats: Option<Stats>,
    /// Error replies seen, as `frame.index: summary` lines (kept only with --fail-on-error).
    failures: Vec<String>,
    /// Links replies to requests as frames pass.
    links: Correlator,
    /// Where requests were answered, from the first pass over a file.
    ahead: Correlator,
    cli: Cli,
    style: Style,
    first: Option<Timestamp>,
}

impl<W: Write> Printer<W> {
    /// Keeps requests until answered (bounded), and gives an error reply whose request was capped
    /// the path of the attribute its offset points at, from the kept request.
    fn remember(&mut self, msg: &Message, link: Link) -> Option<Message> {
        let hdr = msg.header?;
        let at = (msg.frame, msg.index);
        if hdr.flags & NLM_F_REQUEST != 0 && !msg.body.is_empty() {
            if self.request_order.len() == KEPT_REQUESTS {
                let old = self.request_order.pop_front()?;
                self.requests.remove(&old);
            }
            self.request_order.push_back(at);
            self.requests.insert(at, msg.clone());
            return None;
        }
        let request = link.reply_to?;
        if hdr.ty != NLMSG_ERROR && hdr.ty != NLMSG_DONE {
            return None;
        }
        // The request is answered: drop it, and use it only if the error points into it unnamed.
        let request = self.requests.remove(&request)?;
        let unnamed = find_in(&msg.body, "NLMSGERR_ATTR_OFFS").is_some_and(|o| o.children.is_empty());
        unnamed.then(|| {
            let mut annotated = msg.clone();
            annotate_error_from_request(&mut annotated, &request);
            annotated
        })
    }

    fn frame_problem(&mut self, frame: &Frame, decoded: &DecodedFrame) -> io::Result<()> {
        let Some(problem) = &decoded.problem else { return Ok(()) };
        let index = decoded.messages.len();
        match self.cli.format {
            OutputFormat::Json => json::write_frame_problem(&mut self.out, frame, index, problem),
            OutputFormat::Text => {
                let why = problem.problem.as_ref().map(|p| p.to_string()).unwrap_or_default();
                writeln!(self.out, "{:>6}.{:<3} frame problem: {why}", frame.number, index)?;
                if self.cli.verbose {
                    write_node(&mut self.out, problem, 1, self.style)?;
                }
                Ok(())
            }
        }
    }

    /// Prints a frame's messages, at most `budget`; returns how many were printed.
    fn frame(&mut self, frame: &Frame, decoded: &DecodedFrame, budget: u64) -> io::Result<u64> {
        let first = *self.first.get_or_insert(frame.timestamp);
        let links = self.links.observe_frame(frame);
        let mut printed = 0;
        for msg in decoded.messages.iter().take(budget.try_into().unwrap_or(usize::MAX)) {
            let mut link = links.get(msg.index).copied().unwrap_or_default();
            let annotated;
            let msg = match self.remember(msg, link) {
                Some(a) => {
                    annotated = a;
                    &annotated
                }
                None => msg,
            };
            if let Some((answer, ns)) = self.ahead.take_answer((msg.frame, msg.index)) {
                link.replied_in = Some(answer);
                link.latency_ns = Some(ns);
            }
            if self.cli.fail_on_error && msg.error.is_some_and(|e| e != 0) {
                self.failures.push(format!("{}.{}: {}", msg.frame, msg.index, nlscope::render::summary::summary(msg)));
            }
            if let Some(stats) = self.stats.as_mut() {
                stats.observe(msg, link);
            }
            if self.cli.quiet {
                printed += 1;
                continue;
            }
            match self.cli.format {
                OutputFormat::Json => json::write_message(&mut self.out, msg, link)?,
                OutputFormat::Text => {
                    write_summary(&mut self.out, msg, link, first, self.style)?;
                    if self.cli.verbose {
                        write_tree(&mut self.out, msg, self.style)?;
                    }
                }
            }
            printed += 1;
        }
        if printed as usize == decoded.messages.len() && !self.cli.quiet {
            self.frame_problem(frame, decoded)?;
            if decoded.padding > 0 && self.cli.verbose && self.cli.format == OutputFormat::Text {
                writeln!(self.out, "  ({} zero bytes after the last message, ignored by the kernel)", decoded.padding)?;
            }
        }
        if self.cli.hex && self.cli.format == OutputFormat::Text && !self.cli.quiet {
            writeln!(self.out, "  frame {} ({} bytes, link type {}):", frame.number, frame.data.len(), frame.linktype)?;
            write_hex(&mut self.out, &frame.data)?;
        }
        Ok(printed)
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    let Some(path) = cli.read.clone() else {
        bail!("no capture to read: give one with -r FILE (or -r - for standard input)");
    };
    // First pass over a file: which protocols and generic families it holds (only their specs
    // are compiled), the family ids nlctrl names anywhere in it, and which reply answers which
    // request. Standard input cannot be read twice: there every spec is loaded and ids and links
    // are learned as frames pass (requests cannot know their replies yet).
    let stdin = path == std::path::Path::new("-");
    let no_specs = Registry::default();
    let mut scout = Decoder::new(&no_specs);
    for (name, id) in &cli.genl_family {
        scout.set_genl_family(*id, name);
    }
    let mut ahead = Correlator::default();
    let mut protocols = std::collections::BTreeSet::new();
    if !stdin {
        ahead = Correlator::looking_ahead();
        for frame in capture::open(&path)?.flatten() {
            scout.learn_genl_families(&frame);
            ahead.observe_frame(&frame);
            protocols.extend(frame.protocol());
        }
    }
    let families = scout.into_families();
    let wanted = |protonum: Option<u16>, name: &str| {
        stdin
            || match protonum {
                Some(p) => protocols.contains(&p),
                None => name == "nlctrl" || name == "netlink-ext-ack" || families.knows(name),
            }
    };
    let mut registry = Registry::builtin_only(wanted).context("the built-in dissector specs do not load")?;
    for dir in &cli.spec_dir {
        registry.add_dir(dir).with_context(|| format!("cannot load specs from {}", dir.display()))?;
    }
    let mut decoder = Decoder::with_families(&registry, families);
    let reader = capture::open(&path)?;
    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let stdout = io::stdout().lock();
    let want_stats = cli.summary || (cli.quiet && !cli.fail_on_error);
    let mut printer = Printer {
        out: BufWriter::with_capacity(1 << 16, stdout),
        requests: HashMap::new(),
        request_order: VecDeque::new(),
        stats: want_stats.then(|| Stats::new(!stdin)),
        failures: Vec::new(),
        links: Correlator::default(),
        ahead,
        cli,
        style: Style { color },
        first: None,
    };
    let mut left = printer.cli.count.unwrap_or(u64::MAX);
    let mut capture_errors = 0;
    let result: io::Result<()> = (|| {
        for item in reader {
            if left == 0 {
                break;
            }
            match item {
                Ok(frame) => {
                    let decoded = decoder.decode_frame(&frame);
                    left -= printer.frame(&frame, &decoded, left)?;
                    if stdin {
                        // A live pipe (`tcpdump -w - | nlscope -r -`): show each frame as it comes.
                        printer.out.flush()?;
                    }
                }
                Err(e) => {
                    // Everything before was printed; say what went wrong, in order.
                    printer.out.flush()?;
                    eprintln!("nlscope: {e}");
                    capture_errors += 1;
                }
            }
        }
        if let Some(stats) = printer.stats.as_mut() {
            stats.write(&mut printer.out)?;
        }
        printer.out.flush()
    })();
    match result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        Err(e) => return Err(e).context("cannot write the output"),
        Ok(()) => {}
    }
    if !printer.failures.is_empty() {
        for f in &printer.failures {
            eprintln!("nlscope: error reply in frame {f}");
        }
        eprintln!("nlscope: {} error replies (--fail-on-error)", printer.failures.len());
        return Ok(ExitCode::from(3));
    }
    Ok(if capture_errors > 0 { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("nlscope: {e:#}");
            ExitCode::FAILURE
        }
    }
}
