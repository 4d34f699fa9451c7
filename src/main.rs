//! The `nlscope` command: reads a capture file or captures live, decodes, prints headless, and
//! writes captures.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};

use nlscope::capture::writer::{CaptureWriter, WriteFormat};
use nlscope::capture::{CaptureError, Frame, Source};
use nlscope::decode::{Decoder, GenlFamilies};
use nlscope::filter::{Filter, pointed};
use nlscope::headless::{self, Format, Options, Sink};
use nlscope::live::monitor::{self, MonitorSource};
use nlscope::live::packet::PacketSource;
use nlscope::live::process::Attributed;
use nlscope::live::{LiveError, Stop};
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
enum WriteFormatChoice {
    Pcap,
    Pcapng,
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
    /// Stop after this many messages (frames when only writing with -w).
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
    /// Capture live from this nlmon device, or `auto` (the default with no source): an existing
    /// nlmon device, else one created for the run and removed after it.
    #[arg(short = 'i', long = "interface", value_name = "DEVICE")]
    interface: Option<String>,
    /// List the capture sources (nlmon devices, auto, --monitor) and exit.
    #[arg(short = 'D', long = "list-sources")]
    list_sources: bool,
    /// Listen to the multicast notifications of these families (comma-separated: route, generic,
    /// netfilter, xfrm, selinux, uevent, audit, connector; all without a list) instead of nlmon.
    #[arg(long = "monitor", value_name = "FAMILIES", num_args = 0..=1, require_equals = false)]
    monitor: Option<Option<String>>,
    /// Write the frames read to this capture file ("-" for standard output); nothing is printed
    /// unless -P is given too.
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    write: Option<PathBuf>,
    /// Print headless (summary lines), also on a terminal, where the terminal UI opens
    /// otherwise; with -w: print the messages too.
    #[arg(short = 'P', long = "print")]
    print: bool,
    /// The format -w writes (default: pcapng for .pcapng names, else pcap).
    #[arg(long = "write-format", value_enum)]
    write_format: Option<WriteFormatChoice>,
    /// With -w: start a new file when one reaches this many megabytes (FILE0, FILE1...).
    #[arg(short = 'C', value_name = "MB")]
    file_size_mb: Option<u64>,
    /// With -C: keep at most this many files, overwriting the oldest.
    #[arg(short = 'W', value_name = "N", requires = "file_size_mb")]
    file_count: Option<u32>,
    /// Stop capturing after this many seconds.
    #[arg(long = "duration", value_name = "SECONDS")]
    duration: Option<f64>,
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

/// Where frames come from.
enum Input {
    File(PathBuf),
    Stdin,
    Nlmon(String),
    Monitor(Vec<i32>),
}

fn input(cli: &Cli) -> anyhow::Result<Input> {
    let live = cli.interface.is_some() || cli.monitor.is_some();
    if let Some(path) = &cli.read {
        if live {
            bail!("give one source: -r FILE, or -i DEVICE, or --monitor");
        }
        return Ok(if path == std::path::Path::new("-") { Input::Stdin } else { Input::File(path.clone()) });
    }
    if let Some(families) = &cli.monitor {
        if cli.interface.is_some() {
            bail!("give one source: -i DEVICE or --monitor");
        }
        let families = match families {
            None => monitor::ALL.to_vec(),
            Some(list) => list
                .split(',')
                .map(|f| {
                    monitor::family_by_name(f.trim()).with_context(|| {
                        format!("--monitor: `{f}` is no family with notifications (route, generic, netfilter, xfrm, selinux, uevent, audit, connector)")
                    })
                })
                .collect::<anyhow::Result<_>>()?,
        };
        return Ok(Input::Monitor(families));
    }
    Ok(Input::Nlmon(cli.interface.clone().unwrap_or_else(|| "auto".into())))
}

fn list_sources() -> anyhow::Result<ExitCode> {
    for s in nlscope::live::list_sources()? {
        println!("{:12} {}", s.name, s.description);
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes every frame read to a capture file on the way (`-w`).
struct Tee<S> {
    inner: S,
    writer: CaptureWriter,
    what: String,
    /// Stop after this many frames (`-c` when nothing is printed).
    left: Option<u64>,
}

impl<S: Source> Source for Tee<S> {
    fn read_into(&mut self, frame: &mut Frame) -> Option<Result<(), CaptureError>> {
        if self.left == Some(0) {
            return None;
        }
        let read = self.inner.read_into(frame)?;
        if read.is_ok() {
            if let Err(source) = self.writer.write(frame) {
                return Some(Err(CaptureError::Io { what: format!("writing {}", self.what), source }));
            }
            self.left = self.left.map(|n| n - 1);
        }
        Some(read)
    }
}

/// A source, with `-w` writing what it reads.
fn tee<S: Source>(inner: S, cli: &Cli, count_frames: bool) -> anyhow::Result<Tee<S>> {
    let path = cli.write.clone().expect("called with -w");
    let format = match cli.write_format {
        Some(WriteFormatChoice::Pcap) => WriteFormat::Pcap,
        Some(WriteFormatChoice::Pcapng) => WriteFormat::PcapNg,
        None => WriteFormat::for_path(&path),
    };
    let rotate = cli.file_size_mb.map(|mb| mb.saturating_mul(1_000_000));
    let writer = CaptureWriter::create(&path, format, rotate, cli.file_count)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(Tee { inner, writer, what: path.display().to_string(), left: if count_frames { cli.count } else { None } })
}

/// False when only writing a capture file (`-w` without `-P`).
fn prints(cli: &Cli) -> bool {
    cli.write.is_none() || cli.print
}

/// Reads frames, writing them with `-w`, and prints them unless only writing (live sources are
/// wrapped in [`Attributed`] then, so that messages say which process owns their port).
fn run_source<S: Source + Send>(
    source: S,
    cli: &Cli,
    decoder: Decoder<'_>,
    ahead: Correlator,
    opts: Options,
    filter: Option<&Filter>,
    live: bool,
) -> anyhow::Result<headless::Outcome> {
    // A live source, or a live pipe (`tcpdump -w - | nlscope -r -`): show each frame as it comes.
    let flush_each_frame = live || matches!(input(cli)?, Input::Stdin);
    let print = prints(cli);
    if cli.write.as_deref() == Some(std::path::Path::new("-")) && print {
        bail!("-w - writes the capture to standard output: nothing else can be printed there (drop -P)");
    }
    let mut sink = Sink { out: io::stdout().lock(), flush_each_frame };
    let result = if let Some(_path) = &cli.write {
        let mut tee = tee(source, cli, !print)?;
        if print {
            headless::run(tee, decoder, ahead, opts, filter, cli.count, &mut sink)
        } else {
            // Only writing: read until the end, a stop, or -c frames.
            let mut frame = Frame::empty();
            let mut outcome = headless::Outcome::default();
            while let Some(read) = tee.read_into(&mut frame) {
                if let Err(e) = read {
                    eprintln!("nlscope: {e}");
                    outcome.capture_errors += 1;
                }
            }
            eprintln!("nlscope: {} frames written to {}", tee.writer.frames, tee.what);
            Ok(outcome)
        }
    } else {
        headless::run(source, decoder, ahead, opts, filter, cli.count, &mut sink)
    };
    match result {
        Ok(mut outcome) => {
            if let Some(mut stats) = outcome.stats.take() {
                let mut text = Vec::new();
                stats.write(&mut text)?;
                match sink.out.write_all(&text).and_then(|()| sink.out.flush()) {
                    Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
                    other => other.context("cannot write the output")?,
                }
            }
            Ok(outcome)
        }
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(headless::Outcome::default()),
        Err(e) => Err(e).context("cannot write the output"),
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    if cli.list_sources {
        return list_sources();
    }
    let input = input(&cli)?;
    let live = matches!(input, Input::Nlmon(_) | Input::Monitor(_));
    let tui = wants_tui(&cli);
    let mut registry = Registry::builtin().context("the built-in dissector specs do not load")?;
    for dir in &cli.spec_dir {
        registry.add_dir(dir).with_context(|| format!("cannot load specs from {}", dir.display()))?;
    }
    let filter = match &cli.display_filter {
        Some(text) => Some(Filter::compile_for(text, &registry).map_err(|e| {
            anyhow::anyhow!("the display filter does not compile:\n  {}", pointed(text, &e).replace('\n', "\n  "))
        })?),
        None => None,
    };
    // Generic netlink ids: the user's, and the running kernel's when capturing live; reading a
    // file, a first pass over its headers learns them and where requests were answered
    // (`first_pass`). Standard input cannot be read twice: ids and links are learned as frames
    // pass there (requests cannot know their replies yet).
    let mut families = GenlFamilies::default();
    if live && let Ok(kernel) = nlscope::live::genl::families() {
        for f in kernel {
            families.known_at_start(f.id, &f.name);
        }
    }
    for (name, id) in &cli.genl_family {
        families.insert(*id, name);
    }
    let mut ahead = Correlator::default();
    // The terminal UI names and links as frames arrive, and shows them at once.
    if let Input::File(path) = &input
        && !tui
    {
        let scan = first_pass::scan(path, &cli.genl_family)?;
        families = scan.families;
        ahead = scan.ahead;
    }
    let decoder = Decoder::with_families(&registry, families);
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
        looked_ahead: matches!(input, Input::File(_)),
    };
    let stop = Stop::new(cli.duration.map(std::time::Duration::from_secs_f64));
    if live || tui {
        let flag = stop.flag();
        ctrlc::set_handler(move || flag.store(true, std::sync::atomic::Ordering::SeqCst))
            .context("cannot catch Ctrl-C")?;
    }
    if tui {
        return run_tui(input, &cli, decoder, filter, stop);
    }
    let filter = filter.as_ref();
    let outcome = match &input {
        Input::File(path) => run_source(capture::open(path)?, &cli, decoder, ahead, opts, filter, false)?,
        Input::Stdin => {
            run_source(capture::open(std::path::Path::new("-"))?, &cli, decoder, ahead, opts, filter, false)?
        }
        Input::Nlmon(device) => {
            let explicit = cli.interface.is_some();
            match PacketSource::open(device, stop.clone()) {
                Ok(source) => {
                    eprintln!("nlscope: capturing on {} (Ctrl-C stops)", source.device);
                    let counters = source.counters.clone();
                    let source = Attributed::new(source, prints(&cli));
                    let outcome = run_source(source, &cli, decoder, ahead, opts, filter, true)?;
                    eprintln!("nlscope: capture ended: {}", counters.report());
                    outcome
                }
                // Started with no source at all on a kernel without nlmon: listen instead.
                Err(LiveError::NoNlmon) if !explicit => {
                    eprintln!(
                        "nlscope: this kernel has no nlmon device; listening to notifications instead (--monitor)"
                    );
                    run_monitor(monitor::ALL, stop, &cli, decoder, ahead, opts, filter)?
                }
                Err(e) => return Err(e.into()),
            }
        }
        Input::Monitor(families) => run_monitor(families, stop, &cli, decoder, ahead, opts, filter)?,
    };
    if !outcome.failures.is_empty() {
        for f in &outcome.failures {
            eprintln!("nlscope: error reply in frame {f}");
        }
        eprintln!("nlscope: {} error replies (--fail-on-error)", outcome.failures.len());
        return Ok(ExitCode::from(3));
    }
    Ok(if outcome.capture_errors > 0 { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

/// The terminal UI opens on a terminal unless headless printing was asked for.
fn wants_tui(cli: &Cli) -> bool {
    io::stdout().is_terminal()
        && !cli.print
        && !cli.verbose
        && !cli.hex
        && cli.format == OutputFormat::Text
        && !cli.quiet
        && !cli.summary
        && !cli.fail_on_error
        && cli.count.is_none()
        && cli.write.as_deref() != Some(std::path::Path::new("-"))
}

/// Runs the terminal UI on a source (writing `-w` on the way), then says what the source did.
fn run_tui(
    input: Input,
    cli: &Cli,
    decoder: Decoder<'_>,
    filter: Option<Filter>,
    stop: Stop,
) -> anyhow::Result<ExitCode> {
    let (label, live) = match &input {
        Input::File(p) => (p.display().to_string(), false),
        Input::Stdin => ("standard input".to_string(), true),
        Input::Nlmon(_) | Input::Monitor(_) => (String::new(), true),
    };
    let start = |label: String, counters| nlscope::tui::Start {
        decoder,
        label,
        live,
        counters,
        quit: stop.flag(),
        stop: stop.clone(),
        filter,
    };
    match input {
        Input::File(path) => tui_on(capture::open(&path)?, cli, start(label, None)),
        Input::Stdin => tui_on(capture::open(std::path::Path::new("-"))?, cli, start(label, None)),
        Input::Nlmon(device) => match PacketSource::open(&device, stop.clone()) {
            Ok(source) => {
                let counters = source.counters.clone();
                let label = format!("nlmon {}", source.device);
                let code = tui_on(Attributed::new(source, true), cli, start(label, Some(counters.clone())))?;
                eprintln!("nlscope: capture ended: {}", counters.report());
                Ok(code)
            }
            Err(LiveError::NoNlmon) if cli.interface.is_none() => {
                eprintln!("nlscope: this kernel has no nlmon device; listening to notifications instead (--monitor)");
                tui_monitor(monitor::ALL, cli, stop.clone(), start)
            }
            Err(e) => Err(e.into()),
        },
        Input::Monitor(families) => tui_monitor(&families, cli, stop.clone(), start),
    }
}

fn tui_monitor<'r>(
    families: &[i32],
    cli: &Cli,
    stop: Stop,
    start: impl FnOnce(String, Option<std::sync::Arc<nlscope::live::Counters>>) -> nlscope::tui::Start<'r>,
) -> anyhow::Result<ExitCode> {
    let source = open_monitor(families, stop)?;
    let counters = source.counters.clone();
    let label = format!("monitor {}", source.families().join(","));
    let code = tui_on(Attributed::new(source, true), cli, start(label, Some(counters.clone())))?;
    eprintln!("nlscope: monitor ended: {}", counters.report());
    Ok(code)
}

fn tui_on<S: Source + Send + 'static>(
    source: S,
    cli: &Cli,
    start: nlscope::tui::Start<'_>,
) -> anyhow::Result<ExitCode> {
    if cli.write.is_some() {
        let tee = nlscope::tui::run(tee(source, cli, false)?, start)?;
        eprintln!("nlscope: {} frames written to {}", tee.writer.frames, tee.what);
    } else {
        nlscope::tui::run(source, start)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Opens the multicast monitor, naming the families it could not listen to.
fn open_monitor(families: &[i32], stop: Stop) -> anyhow::Result<MonitorSource> {
    let source = MonitorSource::open(families, stop)?;
    for s in &source.skipped {
        eprintln!("nlscope: not listening to {s}");
    }
    Ok(source)
}

#[allow(clippy::too_many_arguments)]
fn run_monitor(
    families: &[i32],
    stop: Stop,
    cli: &Cli,
    decoder: Decoder<'_>,
    ahead: Correlator,
    opts: Options,
    filter: Option<&Filter>,
) -> anyhow::Result<headless::Outcome> {
    let source = open_monitor(families, stop)?;
    eprintln!("nlscope: listening to {} notifications (Ctrl-C stops)", source.families().join(", "));
    let counters = source.counters.clone();
    let outcome = run_source(Attributed::new(source, prints(cli)), cli, decoder, ahead, opts, filter, true)?;
    eprintln!("nlscope: monitor ended: {}", counters.report());
    Ok(outcome)
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
