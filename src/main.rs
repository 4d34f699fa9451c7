//! The `nlscope` command: reads a capture, decodes it and prints it headless.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};

use nlscope::decode::Decoder;
use nlscope::filter::{Filter, pointed};
use nlscope::headless::{self, Format, Options, Sink};
use nlscope::render::text::Style;
use nlscope::session::Correlator;
use nlscope::spec::Registry;
use nlscope::{capture, first_pass};

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
    /// Print only the messages this display filter lets through, e.g.
    /// 'type == RTM_NEWLINK and linkinfo.kind == "vxlan"' (see README, "Display filters").
    #[arg(short = 'Y', long = "display-filter", value_name = "FILTER")]
    display_filter: Option<String>,
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

fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    let Some(path) = cli.read.clone() else {
        bail!("no capture to read: give one with -r FILE (or -r - for standard input)");
    };
    // Specs are compiled as messages need them. A file is read twice: a first pass over its
    // headers (see `first_pass`), then decoding. Standard input cannot be read twice: there ids
    // and links are learned as frames pass (requests cannot know their replies yet).
    let stdin = path == std::path::Path::new("-");
    let mut registry = Registry::builtin().context("the built-in dissector specs do not load")?;
    let (families, ahead) = if stdin {
        let mut scout = Decoder::new(&registry);
        for (name, id) in &cli.genl_family {
            scout.set_genl_family(*id, name);
        }
        (scout.into_families(), Correlator::default())
    } else {
        let scan = first_pass::scan(&path, &cli.genl_family)?;
        (scan.families, scan.ahead)
    };
    for dir in &cli.spec_dir {
        registry.add_dir(dir).with_context(|| format!("cannot load specs from {}", dir.display()))?;
    }
    let filter = match &cli.display_filter {
        Some(text) => Some(Filter::compile_for(text, &registry).map_err(|e| {
            anyhow::anyhow!("the display filter does not compile:\n  {}", pointed(text, &e).replace('\n', "\n  "))
        })?),
        None => None,
    };
    let decoder = Decoder::with_families(&registry, families);
    let reader = capture::open(&path)?;
    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let opts = Options {
        format: match cli.format {
            OutputFormat::Text => Format::Text,
            OutputFormat::Json => Format::Json,
        },
        verbose: cli.verbose,
        hex: cli.hex,
        quiet: cli.quiet,
        style: Style { color },
        stats: cli.summary || (cli.quiet && !cli.fail_on_error),
        failures: cli.fail_on_error,
        looked_ahead: !stdin,
    };
    // A live pipe (`tcpdump -w - | nlscope -r -`): show each frame as it comes.
    let mut sink = Sink { out: io::stdout().lock(), flush_each_frame: stdin };
    let outcome = match headless::run(reader, decoder, ahead, opts, filter.as_ref(), cli.count, &mut sink) {
        Ok(outcome) => outcome,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        Err(e) => return Err(e).context("cannot write the output"),
    };
    if let Some(mut stats) = outcome.stats {
        let mut text = Vec::new();
        stats.write(&mut text)?;
        match sink.out.write_all(&text).and_then(|()| sink.out.flush()) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
            other => other.context("cannot write the output")?,
        }
    }
    if !outcome.failures.is_empty() {
        for f in &outcome.failures {
            eprintln!("nlscope: error reply in frame {f}");
        }
        eprintln!("nlscope: {} error replies (--fail-on-error)", outcome.failures.len());
        return Ok(ExitCode::from(3));
    }
    Ok(if outcome.capture_errors > 0 { ExitCode::from(2) } else { ExitCode::SUCCESS })
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
