//! The terminal UI's state and everything a key or a mouse click does to it. No terminal here:
//! [`super::view`] draws an [`App`], [`super::run`] feeds it frames and events, and tests drive
//! it with key events and a test backend.

use std::ops::Range;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};
use rustc_hash::FxHashMap as HashMap;

use super::store::{Decoded, PROBLEM, Store};
use crate::capture::Frame;
use crate::decode::{Decoder, Message};
use crate::filter::{Filter, FilterError, Names};
use crate::render::stats::Stats;
use crate::render::summary;
use crate::render::text::write_node_text;
use crate::session::Link;
use crate::tree::{NodeId, Tree};

/// Every key, as the help overlay lists it (the same order as [`App::normal_key`] handles them).
pub const KEYS: &[(&str, &str)] = &[
    ("↑ ↓  k j", "previous / next message (tree: node, hex: line)"),
    ("PgUp PgDn  Ctrl-b Ctrl-f", "a page up / down"),
    ("Home End  g G", "first / last message (End in a live capture: follow)"),
    ("Tab  Shift-Tab", "next / previous pane: list, tree, hex"),
    ("Enter", "list: go to the tree; tree: expand or collapse"),
    ("→ ←  l h", "tree: expand / collapse (or go to the parent); hex: next / previous byte"),
    ("Space", "tree: expand or collapse"),
    ("e  C", "tree: expand all / collapse all"),
    ("/  f", "display filter (applied as you type; ↑ ↓ history, Enter keeps, Esc restores)"),
    ("r", "jump from a request to its reply, or from a reply to its request"),
    ("n  N", "next / previous error (error reply or malformed message)"),
    ("d  D", "next / previous message of the same request or dump"),
    (":", "go to a frame number"),
    ("s  ;", "search text in the trees / search again"),
    ("Esc", "stop a search or the statistics being counted; else back to the list"),
    ("F", "follow the newest message on / off"),
    ("p", "pause / resume the display (the capture goes on)"),
    ("t", "time: relative / absolute / delta"),
    ("z", "layout: balanced / more tree / more hex"),
    ("S", "statistics of the messages shown"),
    ("?", "this help"),
    ("q  Ctrl-c", "quit"),
];

/// The first slice of a job, run as its key is handled: small captures need no more.
const JOB_SLICE: Duration = Duration::from_millis(30);

/// Whether a tree node's line holds `needle` (lower case), in any case.
fn node_text_holds(tree: &Tree, id: NodeId, needle: &str, line: &mut Vec<u8>) -> bool {
    line.clear();
    write_node_text(line, tree, id);
    String::from_utf8_lossy(line).to_lowercase().contains(needle)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    List,
    Tree,
    Hex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeFormat {
    /// Seconds since the first frame.
    Relative,
    /// Wall-clock time (UTC).
    Absolute,
    /// Seconds since the message shown before.
    Delta,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    Filter,
    Search,
    Goto,
}

/// A line being typed at the bottom.
#[derive(Debug, Clone)]
pub struct Prompt {
    pub kind: PromptKind,
    pub input: String,
    /// Filter: why the input does not compile (the filter before it stays in force).
    pub error: Option<FilterError>,
    /// Filter: the text in force when the prompt opened (Esc goes back to it).
    before: String,
    /// Filter: position in the history while browsing it.
    history_at: Option<usize>,
}

/// What covers the panes.
#[derive(Debug, Clone)]
pub enum Overlay {
    Help { scroll: usize },
    Stats { lines: Vec<String>, scroll: usize },
}

/// The decoded message of the selected row, and how its tree is shown.
pub struct Detail {
    pub row: u32,
    pub decoded: Decoded,
    /// Per node: its children are shown.
    pub expanded: Vec<bool>,
    /// The selected node.
    pub cursor: NodeId,
    /// First tree line shown.
    pub scroll: usize,
    /// The byte the hex pane's cursor is on (an offset into the frame).
    pub hex_cursor: usize,
    /// First hex line shown.
    pub hex_scroll: usize,
    /// The store's generic-family epoch this was decoded in.
    epoch: u64,
}

impl Detail {
    pub fn tree(&self) -> &Tree {
        match &self.decoded {
            Decoded::Message(m) => &m.tree,
            Decoded::Problem(t) => t,
        }
    }

    pub fn message(&self) -> Option<&Message> {
        match &self.decoded {
            Decoded::Message(m) => Some(m),
            Decoded::Problem(_) => None,
        }
    }

    /// The nodes shown, in order: those whose ancestors are all expanded.
    pub fn visible(&self) -> Vec<NodeId> {
        let tree = self.tree();
        let mut out = Vec::new();
        let mut id = 0;
        while id < tree.len() {
            out.push(id);
            id = if self.expanded[id] { id + 1 } else { tree.end(id) };
        }
        out
    }

    /// The selected node's bytes, as a range of frame offsets.
    pub fn span(&self) -> Option<std::ops::Range<usize>> {
        let n = self.tree().nodes().get(self.cursor)?;
        Some(n.offset()..n.offset() + n.length())
    }

    /// Expands every ancestor of `id`, so that it is shown.
    fn reveal(&mut self, id: NodeId) {
        let tree = self.tree();
        let ancestors: Vec<NodeId> = (0..id).filter(|&a| tree.end(a) > id).collect();
        for a in ancestors {
            self.expanded[a] = true;
        }
    }

    /// The deepest node holding frame byte `at`.
    fn node_at(&self, at: usize) -> Option<NodeId> {
        let tree = self.tree();
        (0..tree.len())
            .rev()
            .filter(|&i| (tree.node(i).offset()..tree.node(i).offset() + tree.node(i).length()).contains(&at))
            .max_by_key(|&i| tree.node(i).depth)
    }

    fn select(&mut self, id: NodeId) {
        self.reveal(id);
        self.cursor = id;
        self.hex_cursor = self.tree().node(id).offset();
    }
}

/// The text of a row that needs its message decoded, kept for the rows drawn lately.
#[derive(Debug, Clone, Default)]
pub struct RowText {
    pub family: String,
    pub ty: String,
    pub flags: String,
    /// The port id, or the process owning it (live capture): `1234 (ip)`, `kernel`.
    pub port: String,
    pub summary: String,
}

/// Rows kept in the text cache at most before it is emptied.
const CACHE_ROWS: usize = 50_000;

/// Where things were drawn, for the mouse.
#[derive(Debug, Default, Clone, Copy)]
pub struct Geometry {
    pub list: Rect,
    pub list_offset: usize,
    pub tree: Rect,
    pub hex: Rect,
    pub bytes_per_line: usize,
    /// Lines of the help as last drawn (descriptions wrap on narrow terminals).
    pub help_lines: usize,
}

/// Work over many messages done in slices of time between drawings, as filtering is, so the UI
/// never stalls on a big capture. Rows, not list positions, say how far it got: positions move
/// when the filter matches a changed row again.
enum Job {
    /// Looking for `needle` (lower case) in the trees of the rows shown from `next` on.
    Search { text: String, needle: String, next: u32 },
    /// Counting the statistics overlay over the rows shown before `end`, from `next` on.
    Stats { stats: Box<Stats>, next: u32, end: u32 },
}

/// How a slice of a job's walk over the shown messages ended.
enum Scan {
    /// The handler found what it looked for.
    Stopped,
    /// No shown row is left (for now: the filter may still add some); the walk would go on
    /// from this row.
    Ended(u32),
    /// Time is up; the walk goes on from this row.
    OutOfTime(u32),
}

impl Scan {
    /// The row the walk goes on from, or None when it is over: stopped, or no row is left and
    /// the filter (`filtering` or not) adds none.
    fn resume_from(&self, filtering: bool) -> Option<u32> {
        match *self {
            Scan::Stopped => None,
            Scan::Ended(_) if !filtering => None,
            Scan::Ended(next) | Scan::OutOfTime(next) => Some(next),
        }
    }
}

pub struct App<'r> {
    pub store: Store,
    decoder: Decoder<'r>,
    names: Names,
    /// The display filter in force, and the rows it let through among the first `scanned`.
    filter: Option<Filter>,
    matched: Vec<u32>,
    scanned: u32,
    filter_history: Vec<String>,
    /// Paused: the rows shown stop at this count.
    frozen: Option<u32>,
    /// The selected position among the rows shown.
    pub selected: usize,
    pub follow: bool,
    pub focus: Pane,
    pub time_format: TimeFormat,
    /// 0 balanced, 1 more tree, 2 more hex.
    pub layout: u8,
    pub prompt: Option<Prompt>,
    pub overlay: Option<Overlay>,
    /// A line of news for the status bar (cleared by the next key).
    pub notice: Option<String>,
    pub detail: Option<Detail>,
    pub geometry: Geometry,
    last_search: Option<String>,
    job: Option<Job>,
    /// How long a job runs as its key is handled, before the next drawing ([`JOB_SLICE`]).
    pub job_slice: Duration,
    texts: HashMap<u32, RowText>,
    texts_epoch: u64,
    /// Where the frames come from, for the status bar.
    pub source: String,
    /// The source has more to give (a file being read, a live capture).
    pub loading: bool,
    /// Set by the live source: frames, kernel drops, lost notifications.
    pub counters: Option<std::sync::Arc<crate::live::Counters>>,
    /// Records that could not be read, and the last reason.
    pub capture_errors: u64,
    pub last_capture_error: Option<String>,
    pub quit: bool,
}

impl<'r> App<'r> {
    pub fn new(decoder: Decoder<'r>, source: String, live: bool) -> Self {
        let names = Names::gather(decoder.registry);
        App {
            store: Store::default(),
            decoder,
            names,
            filter: None,
            matched: Vec::new(),
            scanned: 0,
            filter_history: Vec::new(),
            frozen: None,
            selected: 0,
            follow: live,
            focus: Pane::List,
            time_format: TimeFormat::Relative,
            layout: 0,
            prompt: None,
            overlay: None,
            notice: None,
            detail: None,
            geometry: Geometry::default(),
            last_search: None,
            job: None,
            job_slice: JOB_SLICE,
            texts: HashMap::default(),
            texts_epoch: 0,
            source,
            loading: true,
            counters: None,
            capture_errors: 0,
            last_capture_error: None,
            quit: false,
        }
    }

    /// Adds a frame read from the source.
    pub fn push_frame(&mut self, frame: Frame) {
        for rows in self.store.push(&mut self.decoder, frame) {
            for r in rows.clone() {
                self.texts.remove(&r);
            }
            self.filter_again(rows);
        }
    }

    /// Rows the filter already looked at whose link or process has changed since (a request
    /// answered now has a latency; a request sent with port 0 has a process now): matched again,
    /// the selection kept on its row.
    fn filter_again(&mut self, rows: Range<u32>) {
        let Some(filter) = &self.filter else { return };
        let rows = rows.start..rows.end.min(self.scanned);
        if rows.is_empty() {
            return;
        }
        let selected = self.selected_row();
        let (first, limit) = (self.store.first_time(), self.limit());
        let (store, matched) = (&self.store, &mut self.matched);
        let mut frame_start = rows.start;
        while frame_start < rows.end {
            if store.row(frame_start).index != PROBLEM {
                store.decode_frame_of(&mut self.decoder, frame_start, |r, msg| {
                    if !rows.contains(&r) || r >= limit {
                        return;
                    }
                    match (matched.binary_search(&r), filter.matches(msg, &store.link(r), first)) {
                        (Ok(at), false) => {
                            matched.remove(at);
                        }
                        (Err(at), true) => matched.insert(at, r),
                        _ => {}
                    }
                });
            }
            frame_start = store.frame_rows(frame_start).end;
        }
        if let Some(pos) = selected.and_then(|row| self.position_of(row)) {
            self.selected = pos;
        }
    }

    /// A record the source could not read.
    pub fn capture_error(&mut self, why: String) {
        self.capture_errors += 1;
        self.last_capture_error = Some(why);
    }

    /// Rows the display considers (all, or those before the pause).
    fn limit(&self) -> u32 {
        let all = self.store.len() as u32;
        self.frozen.map_or(all, |f| f.min(all))
    }

    /// How many rows are shown.
    pub fn shown_len(&self) -> usize {
        match self.filter {
            None => self.limit() as usize,
            Some(_) => self.matched.len(),
        }
    }

    /// The row at a position of the list.
    pub fn shown_row(&self, pos: usize) -> Option<u32> {
        match self.filter {
            None => (pos < self.limit() as usize).then_some(pos as u32),
            Some(_) => self.matched.get(pos).copied(),
        }
    }

    /// The position of a row in the list, if shown.
    pub fn position_of(&self, row: u32) -> Option<usize> {
        match self.filter {
            None => (row < self.limit()).then_some(row as usize),
            Some(_) => self.matched.binary_search(&row).ok(),
        }
    }

    pub fn selected_row(&self) -> Option<u32> {
        self.shown_row(self.selected)
    }

    pub fn filter_text(&self) -> Option<&str> {
        self.filter.as_ref().map(Filter::text)
    }

    /// Filtering is not done: the share of rows looked at so far.
    pub fn filter_progress(&self) -> Option<f64> {
        let limit = self.limit();
        (self.filter.is_some() && self.scanned < limit).then(|| f64::from(self.scanned) / f64::from(limit.max(1)))
    }

    pub fn paused(&self) -> bool {
        self.frozen.is_some()
    }

    /// Does the work that waits (filtering rows not yet looked at) for at most `budget`, then
    /// keeps the selection where it belongs. True if work remains.
    pub fn work(&mut self, budget: Duration) -> bool {
        let start = Instant::now();
        let limit = self.limit();
        if let Some(filter) = &self.filter {
            let first = self.store.first_time();
            while self.scanned < limit && start.elapsed() < budget {
                let row = self.scanned;
                let (store, matched) = (&self.store, &mut self.matched);
                if self.store.row(row).index != PROBLEM {
                    store.decode_frame_of(&mut self.decoder, row, |r, msg| {
                        if r >= row && r < limit && filter.matches(msg, &store.link(r), first) {
                            matched.push(r);
                        }
                    });
                }
                self.scanned = self.store.frame_rows(row).end.min(limit);
            }
        }
        if self.follow {
            self.selected = self.shown_len().saturating_sub(1);
        }
        self.selected = self.selected.min(self.shown_len().saturating_sub(1));
        let filtering = self.filter.is_some() && self.scanned < limit;
        // A job gets a slice even when filtering took the budget: it must not wait for ever.
        let job = self.job.is_some() && self.run_job(Instant::now().max(start + budget));
        filtering || job
    }

    /// The job in progress, for the status bar: what it does and how far it got (0 to 1).
    pub fn job_progress(&self) -> Option<(String, f64)> {
        let share = |next: u32, end: u32| f64::from(next) / f64::from(end.max(1));
        match self.job.as_ref()? {
            Job::Search { text, next, .. } => Some((format!("searching `{text}`"), share(*next, self.limit()))),
            Job::Stats { next, end, .. } => Some(("counting statistics".into(), share(*next, *end))),
        }
    }

    /// Advances the job until `until` (at least one frame's worth); true if it is not done.
    fn run_job(&mut self, until: Instant) -> bool {
        let Some(mut job) = self.job.take() else { return false };
        let filtering = self.filter.is_some() && self.scanned < self.limit();
        let done = match &mut job {
            Job::Search { text, needle, next } => {
                let mut found = None;
                let mut line = Vec::new();
                let scan = self.scan_shown(*next, until, |pos, _, msg, _| {
                    found = (0..msg.tree.len())
                        .find(|&id| node_text_holds(&msg.tree, id, needle, &mut line))
                        .map(|id| (pos, id));
                    found.is_none()
                });
                if let Some(n) = scan.resume_from(filtering) {
                    *next = n;
                    false
                } else {
                    match found {
                        Some((pos, id)) => {
                            self.select_position(pos);
                            self.ensure_detail();
                            if let Some(d) = &mut self.detail {
                                d.select(id);
                            }
                            self.focus = Pane::Tree;
                        }
                        None => self.notice = Some(format!("`{text}` is not in the trees after this one")),
                    }
                    true
                }
            }
            Job::Stats { stats, next, end } => {
                let end = *end;
                let scan = self.scan_shown(*next, until, |_, row, msg, link| {
                    if row < end {
                        stats.observe(msg, link);
                    }
                    row < end
                });
                match scan.resume_from(filtering) {
                    Some(n) => {
                        *next = n;
                        false
                    }
                    None => true,
                }
            }
        };
        if !done {
            self.job = Some(job);
        } else if let Job::Stats { mut stats, .. } = job {
            let mut text = Vec::new();
            let _ = stats.write(&mut text);
            let lines = String::from_utf8_lossy(&text).lines().map(str::to_string).collect();
            self.overlay = Some(Overlay::Stats { lines, scroll: 0 });
        }
        !done
    }

    /// Decodes the selected message for the detail panes if it changed.
    pub fn ensure_detail(&mut self) {
        let Some(row) = self.selected_row() else {
            self.detail = None;
            return;
        };
        if self.detail.as_ref().is_some_and(|d| d.row == row && d.epoch == self.store.genl_epoch) {
            return;
        }
        let decoded = self.store.decode(&mut self.decoder, row);
        let tree = match &decoded {
            Decoded::Message(m) => &m.tree,
            Decoded::Problem(t) => t,
        };
        // Everything open but the netlink header, which rarely matters.
        let mut expanded = vec![true; tree.len()];
        if let Decoded::Message(m) = &decoded
            && let Some(h) = m.header_node()
        {
            expanded[h] = false;
        }
        let cursor = match &decoded {
            Decoded::Message(m) if m.body_start < tree.len() => m.body_start,
            _ => 0,
        };
        let hex_cursor = tree.nodes().get(cursor).map_or(0, |n| n.offset());
        self.detail = Some(Detail {
            row,
            decoded,
            expanded,
            cursor,
            scroll: 0,
            hex_cursor,
            hex_scroll: 0,
            epoch: self.store.genl_epoch,
        });
    }

    /// The text of a row's columns that needs its message: decoded with its whole frame, kept.
    pub fn row_text(&mut self, row: u32) -> RowText {
        if self.texts_epoch != self.store.genl_epoch || self.texts.len() > CACHE_ROWS {
            self.texts.clear();
            self.texts_epoch = self.store.genl_epoch;
        }
        if let Some(t) = self.texts.get(&row) {
            return t.clone();
        }
        if self.store.row(row).index == PROBLEM {
            let tree = match self.store.decode(&mut self.decoder, row) {
                Decoded::Problem(t) => t,
                Decoded::Message(m) => m.tree,
            };
            let why = tree.nodes().first().and_then(|n| n.problem).map(|p| tree.problem_text(p)).unwrap_or_default();
            let text = RowText { ty: "frame problem".into(), summary: why, ..RowText::default() };
            self.texts.insert(row, text.clone());
            return text;
        }
        let texts = &mut self.texts;
        self.store.decode_frame_of(&mut self.decoder, row, |r, msg| {
            texts.insert(r, text_of(msg));
        });
        self.texts.get(&row).cloned().unwrap_or_default()
    }

    /// Puts a display filter in force (as `-Y` gives one), remembered in the history.
    pub fn apply_filter(&mut self, filter: Filter) {
        self.filter_history.push(filter.text().to_string());
        self.set_filter(Some(filter));
    }

    fn set_filter(&mut self, filter: Option<Filter>) {
        let keep = self.selected_row();
        self.filter = filter;
        self.matched.clear();
        self.scanned = 0;
        // Filter what is there now at once when it is quick; the rest follows in `work`.
        self.work(Duration::from_millis(30));
        self.follow_or_keep(keep);
    }

    /// After the rows shown changed: the newest when following, else the row selected before
    /// (or the nearest row after it).
    fn follow_or_keep(&mut self, keep: Option<u32>) {
        if self.follow {
            self.selected = self.shown_len().saturating_sub(1);
            return;
        }
        if let Some(row) = keep {
            self.selected = match self.filter {
                None => row as usize,
                Some(_) => self.matched.partition_point(|&r| r < row),
            };
        }
        self.selected = self.selected.min(self.shown_len().saturating_sub(1));
    }

    fn select_position(&mut self, pos: usize) {
        let last = self.shown_len().saturating_sub(1);
        self.selected = pos.min(last);
        if self.selected < last {
            self.follow = false;
        }
    }

    /// Selects a row if the filter shows it, else says why not.
    fn jump_to_row(&mut self, row: u32, what: &str) {
        match self.position_of(row) {
            Some(pos) => {
                self.select_position(pos);
                self.follow = false;
            }
            None => {
                let (f, i) = self.store.msg_ref(row);
                self.notice = Some(format!("{what} ({f}.{i}) is hidden by the filter"));
            }
        }
    }

    /// Handles a key; sets `quit` to leave.
    pub fn key(&mut self, key: KeyEvent) {
        if key.kind == KeyEventKind::Release {
            return;
        }
        self.notice = None;
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            self.quit = true;
            return;
        }
        if self.prompt.is_some() {
            self.prompt_key(key);
            return;
        }
        if let Some(overlay) = &mut self.overlay {
            let (scroll, lines) = match overlay {
                Overlay::Help { scroll } => (scroll, self.geometry.help_lines.max(KEYS.len())),
                Overlay::Stats { scroll, lines } => (scroll, lines.len()),
            };
            match key.code {
                KeyCode::Down | KeyCode::Char('j') => *scroll = (*scroll + 1).min(lines.saturating_sub(1)),
                KeyCode::Up | KeyCode::Char('k') => *scroll = scroll.saturating_sub(1),
                KeyCode::Char('q') => self.quit = true,
                _ => self.overlay = None,
            }
            return;
        }
        self.normal_key(key);
    }

    fn normal_key(&mut self, key: KeyEvent) {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let page = self.geometry.list.height.saturating_sub(3).max(1) as usize;
        match key.code {
            KeyCode::Up | KeyCode::Char('k') => self.step(-1),
            KeyCode::Down | KeyCode::Char('j') => self.step(1),
            KeyCode::PageUp => self.select_position(self.selected.saturating_sub(page)),
            KeyCode::Char('b') if ctrl => self.select_position(self.selected.saturating_sub(page)),
            KeyCode::PageDown => self.select_position(self.selected + page),
            KeyCode::Char('f') if ctrl => self.select_position(self.selected + page),
            KeyCode::Home | KeyCode::Char('g') => self.select_position(0),
            KeyCode::End | KeyCode::Char('G') => {
                self.selected = self.shown_len().saturating_sub(1);
                self.follow = self.loading;
            }
            KeyCode::Tab => self.focus = next_pane(self.focus, 1),
            KeyCode::BackTab => self.focus = next_pane(self.focus, 2),
            KeyCode::Enter if self.focus == Pane::List => self.focus = Pane::Tree,
            KeyCode::Enter | KeyCode::Char(' ') => self.tree_toggle(),
            KeyCode::Right | KeyCode::Char('l') => self.horizontal(1),
            KeyCode::Left | KeyCode::Char('h') => self.horizontal(-1),
            KeyCode::Char('e') => self.expand_all(true),
            KeyCode::Char('C') => self.expand_all(false),
            KeyCode::Char('/' | 'f') => self.open_prompt(PromptKind::Filter),
            KeyCode::Char('r') => self.jump_request_reply(),
            KeyCode::Char('n') => self.next_error(true),
            KeyCode::Char('N') => self.next_error(false),
            KeyCode::Char('d') => self.next_in_conversation(true),
            KeyCode::Char('D') => self.next_in_conversation(false),
            KeyCode::Char(':') => self.open_prompt(PromptKind::Goto),
            KeyCode::Char('s') => self.open_prompt(PromptKind::Search),
            KeyCode::Char(';') => match self.last_search.clone() {
                Some(text) => self.search(&text),
                None => self.notice = Some("no search yet: s searches".into()),
            },
            KeyCode::Char('F') => {
                self.follow = !self.follow;
                if self.follow {
                    self.selected = self.shown_len().saturating_sub(1);
                }
            }
            KeyCode::Char('p') => self.toggle_pause(),
            KeyCode::Char('t') => {
                self.time_format = match self.time_format {
                    TimeFormat::Relative => TimeFormat::Absolute,
                    TimeFormat::Absolute => TimeFormat::Delta,
                    TimeFormat::Delta => TimeFormat::Relative,
                }
            }
            KeyCode::Char('z') => self.layout = (self.layout + 1) % 3,
            KeyCode::Char('S') => self.open_stats(),
            KeyCode::Char('?') => self.overlay = Some(Overlay::Help { scroll: 0 }),
            KeyCode::Char('q') => self.quit = true,
            KeyCode::Esc if self.job.is_some() => {
                self.job = None;
                self.notice = Some("stopped".into());
            }
            KeyCode::Esc => self.focus = Pane::List,
            _ => {}
        }
    }

    /// Up or down in the focused pane.
    fn step(&mut self, delta: isize) {
        match self.focus {
            Pane::List => {
                let pos = self.selected.saturating_add_signed(delta);
                self.select_position(pos);
            }
            Pane::Tree => {
                self.ensure_detail();
                if let Some(d) = &mut self.detail {
                    let visible = d.visible();
                    let at = visible.iter().position(|&id| id == d.cursor).unwrap_or(0);
                    let to = at.saturating_add_signed(delta).min(visible.len().saturating_sub(1));
                    if let Some(&id) = visible.get(to) {
                        d.select(id);
                    }
                }
            }
            Pane::Hex => self.hex_move(delta * self.geometry.bytes_per_line.max(1) as isize),
        }
    }

    /// Right or left: expand/collapse in the tree, a byte in the hex pane.
    fn horizontal(&mut self, delta: isize) {
        match self.focus {
            Pane::Hex => self.hex_move(delta),
            Pane::Tree | Pane::List => {
                self.ensure_detail();
                let Some(d) = &mut self.detail else { return };
                let id = d.cursor;
                let tree = d.tree();
                let parent = tree.node(id).is_parent(id);
                if delta > 0 {
                    if parent && !d.expanded[id] {
                        d.expanded[id] = true;
                    } else if parent {
                        d.select(id + 1);
                    }
                } else if parent && d.expanded[id] {
                    d.expanded[id] = false;
                } else if let Some(up) = (0..id).rev().find(|&a| tree.end(a) > id) {
                    d.select(up);
                }
            }
        }
    }

    fn hex_move(&mut self, delta: isize) {
        self.ensure_detail();
        let len = self.selected_row().map_or(0, |r| self.store.frame_bytes(r).len());
        let Some(d) = &mut self.detail else { return };
        d.hex_cursor = d.hex_cursor.saturating_add_signed(delta).min(len.saturating_sub(1));
        if let Some(id) = d.node_at(d.hex_cursor) {
            let at = d.hex_cursor;
            d.select(id);
            d.hex_cursor = at;
        }
    }

    fn tree_toggle(&mut self) {
        self.ensure_detail();
        if let Some(d) = &mut self.detail {
            let id = d.cursor;
            if d.tree().node(id).is_parent(id) {
                d.expanded[id] = !d.expanded[id];
            }
        }
    }

    fn expand_all(&mut self, open: bool) {
        self.ensure_detail();
        if let Some(d) = &mut self.detail {
            d.expanded.iter_mut().for_each(|e| *e = open);
            if !open {
                // The cursor goes to its top-level node, which stays visible.
                let tree = d.tree();
                d.cursor = (0..=d.cursor).rev().find(|&a| tree.node(a).depth == 0).unwrap_or(0);
            }
        }
    }

    fn jump_request_reply(&mut self) {
        let Some(row) = self.selected_row() else { return };
        let r = *self.store.row(row);
        match (r.reply_to(), r.replied_in()) {
            (Some(req), _) => self.jump_to_row(req, "the request"),
            (None, Some(reply)) => self.jump_to_row(reply, "the reply"),
            (None, None) if r.unanswered() => self.notice = Some("this request has no answer in the capture".into()),
            (None, None) => self.notice = Some("no request or reply is linked to this message".into()),
        }
    }

    /// The next shown row (forward or back) satisfying `pred`.
    fn find_shown(&self, forward: bool, pred: impl Fn(u32) -> bool) -> Option<usize> {
        let n = self.shown_len();
        let mut pos = self.selected;
        loop {
            pos = if forward {
                if pos + 1 >= n {
                    return None;
                }
                pos + 1
            } else {
                pos.checked_sub(1)?
            };
            if pred(self.shown_row(pos)?) {
                return Some(pos);
            }
        }
    }

    fn next_error(&mut self, forward: bool) {
        let store = &self.store;
        match self.find_shown(forward, |r| store.row(r).is_error_reply() || store.row(r).has_problem()) {
            Some(pos) => self.select_position(pos),
            None => self.notice = Some(format!("no error {}", if forward { "after this" } else { "before this" })),
        }
    }

    fn next_in_conversation(&mut self, forward: bool) {
        let Some(row) = self.selected_row() else { return };
        let Some(conv) = self.store.row(row).conversation(row) else {
            self.notice = Some("this message belongs to no request or dump".into());
            return;
        };
        let store = &self.store;
        match self.find_shown(forward, |r| store.row(r).conversation(r) == Some(conv)) {
            Some(pos) => self.select_position(pos),
            None => self.notice = Some("no more messages of this request".into()),
        }
    }

    fn toggle_pause(&mut self) {
        if self.frozen.take().is_none() {
            self.frozen = Some(self.store.len() as u32);
            self.follow = false;
        }
    }

    fn open_prompt(&mut self, kind: PromptKind) {
        let before = self.filter_text().unwrap_or_default().to_string();
        let input = if kind == PromptKind::Filter { before.clone() } else { String::new() };
        self.prompt = Some(Prompt { kind, input, error: None, before, history_at: None });
    }

    fn prompt_key(&mut self, key: KeyEvent) {
        let Some(mut p) = self.prompt.take() else { return };
        let mut changed = false;
        match key.code {
            KeyCode::Esc => {
                if p.kind == PromptKind::Filter && self.filter_text().unwrap_or_default() != p.before {
                    let f = self.compile(&p.before).ok().flatten();
                    self.set_filter(f);
                }
                return;
            }
            KeyCode::Enter => {
                self.prompt_done(p);
                return;
            }
            KeyCode::Backspace => {
                p.input.pop();
                changed = true;
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                p.input.clear();
                changed = true;
            }
            KeyCode::Up | KeyCode::Down if p.kind == PromptKind::Filter && !self.filter_history.is_empty() => {
                let n = self.filter_history.len();
                let at = match (p.history_at, key.code) {
                    (None, KeyCode::Up) => n - 1,
                    (Some(i), KeyCode::Up) => i.saturating_sub(1),
                    (Some(i), _) if i + 1 < n => i + 1,
                    _ => n - 1,
                };
                p.history_at = Some(at);
                p.input = self.filter_history[at].clone();
                changed = true;
            }
            KeyCode::Char(c) if !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => {
                p.input.push(c);
                changed = true;
            }
            _ => {}
        }
        if changed && p.kind == PromptKind::Filter {
            match self.compile(&p.input) {
                Ok(f) => {
                    p.error = None;
                    if self.filter_text().unwrap_or_default() != p.input.trim() {
                        self.set_filter(f);
                    }
                }
                Err(e) => p.error = Some(e),
            }
        }
        self.prompt = Some(p);
    }

    /// `None` for an empty filter (everything shown).
    fn compile(&self, text: &str) -> Result<Option<Filter>, FilterError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        Filter::compile(text, &self.names).map(Some)
    }

    fn prompt_done(&mut self, p: Prompt) {
        match p.kind {
            PromptKind::Filter => {
                if let Some(e) = &p.error {
                    self.notice = Some(format!("the filter does not compile ({e}); the one before stays"));
                }
                let text = p.input.trim().to_string();
                if p.error.is_none() && !text.is_empty() && self.filter_history.last() != Some(&text) {
                    self.filter_history.push(text);
                }
            }
            PromptKind::Goto => {
                let number = p.input.trim().split('.').next().unwrap_or_default();
                match number.parse::<u64>().ok().and_then(|n| self.store.row_of_frame_number(n)) {
                    Some(row) => self.jump_to_row(row, "that frame"),
                    None => self.notice = Some(format!("no frame {}", p.input.trim())),
                }
            }
            PromptKind::Search => {
                let text = p.input.trim().to_string();
                if !text.is_empty() {
                    self.search(&text);
                    self.last_search = Some(text);
                }
            }
        }
    }

    /// Selects the next tree node whose line holds `text` (any case): after the selected node
    /// in this message, then in the messages shown after it (a job: see [`Job`]).
    fn search(&mut self, text: &str) {
        let needle = text.to_lowercase();
        self.ensure_detail();
        let mut line = Vec::new();
        if let Some(d) = &mut self.detail {
            let tree = d.tree();
            if let Some(id) = (d.cursor + 1..tree.len()).find(|&id| node_text_holds(tree, id, &needle, &mut line)) {
                d.select(id);
                self.focus = Pane::Tree;
                return;
            }
        }
        let next = self.selected_row().map_or(0, |r| r + 1);
        self.job = Some(Job::Search { text: text.to_owned(), needle, next });
        self.run_job(Instant::now() + self.job_slice);
    }

    /// Decodes the messages shown from row `from` on, each frame once, handing each with its
    /// position, row and links to `each` until it returns false or `until` has passed.
    fn scan_shown(
        &mut self,
        from: u32,
        until: Instant,
        mut each: impl FnMut(usize, u32, &Message, Link) -> bool,
    ) -> Scan {
        let mut pos = match self.filter {
            None => from as usize,
            Some(_) => self.matched.partition_point(|&r| r < from),
        };
        let mut next = from;
        while let Some(row) = self.shown_row(pos) {
            if Instant::now() >= until && next != from {
                return Scan::OutOfTime(next);
            }
            let frame = self.store.row(row).frame;
            // The shown rows of this frame: (row, position).
            let mut rows = Vec::new();
            while let Some(r) = self.shown_row(pos).filter(|&r| self.store.row(r).frame == frame) {
                rows.push((r, pos));
                pos += 1;
                next = r + 1;
            }
            if self.store.row(row).index == PROBLEM {
                continue;
            }
            let mut go_on = true;
            let store = &self.store;
            store.decode_frame_of(&mut self.decoder, row, |r, msg| {
                if go_on && let Ok(i) = rows.binary_search_by_key(&r, |x| x.0) {
                    go_on = each(rows[i].1, r, msg, store.link(r));
                }
            });
            if !go_on {
                return Scan::Stopped;
            }
        }
        Scan::Ended(next)
    }

    /// Counts the statistics of the messages shown now (a job: see [`Job`]), then shows them.
    fn open_stats(&mut self) {
        if self.shown_row(0).is_none() && self.filter_progress().is_none() {
            self.overlay = Some(Overlay::Stats { lines: vec!["no messages shown".into()], scroll: 0 });
            return;
        }
        let stats = Box::new(Stats::new(!self.loading));
        self.job = Some(Job::Stats { stats, next: 0, end: self.limit() });
        self.run_job(Instant::now() + self.job_slice);
    }

    /// Handles a mouse event on what was drawn last.
    pub fn mouse(&mut self, ev: MouseEvent) {
        let at = Position { x: ev.column, y: ev.row };
        let g = self.geometry;
        match ev.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                if g.list.contains(at) && at.y > g.list.y + 1 {
                    self.focus = Pane::List;
                    let pos = g.list_offset + usize::from(at.y - g.list.y - 2);
                    if pos < self.shown_len() {
                        self.select_position(pos);
                    }
                } else if g.tree.contains(at) && at.y > g.tree.y {
                    self.focus = Pane::Tree;
                    self.ensure_detail();
                    if let Some(d) = &mut self.detail {
                        let visible = d.visible();
                        if let Some(&id) = visible.get(d.scroll + usize::from(at.y - g.tree.y - 1)) {
                            if d.cursor == id && d.tree().node(id).is_parent(id) {
                                d.expanded[id] = !d.expanded[id];
                            }
                            d.select(id);
                        }
                    }
                } else if g.hex.contains(at) && at.y > g.hex.y {
                    self.focus = Pane::Hex;
                    self.ensure_detail();
                    let len = self.selected_row().map_or(0, |r| self.store.frame_bytes(r).len());
                    if let Some(d) = &mut self.detail
                        && let Some(col) =
                            super::view::hex_column_byte(usize::from(at.x - g.hex.x - 1), g.bytes_per_line)
                    {
                        let byte = (d.hex_scroll + usize::from(at.y - g.hex.y - 1)) * g.bytes_per_line + col;
                        if byte < len {
                            d.hex_cursor = byte;
                            if let Some(id) = d.node_at(byte) {
                                d.select(id);
                                d.hex_cursor = byte;
                            }
                        }
                    }
                }
            }
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let delta: isize = if ev.kind == MouseEventKind::ScrollDown { 3 } else { -3 };
                if g.tree.contains(at) {
                    if let Some(d) = &mut self.detail {
                        d.scroll = d.scroll.saturating_add_signed(delta).min(d.visible().len().saturating_sub(1));
                    }
                } else if g.hex.contains(at) {
                    if let Some(d) = &mut self.detail {
                        d.hex_scroll = d.hex_scroll.saturating_add_signed(delta);
                    }
                } else {
                    self.select_position(self.selected.saturating_add_signed(delta));
                }
            }
            _ => {}
        }
    }
}

fn next_pane(p: Pane, by: usize) -> Pane {
    const ORDER: [Pane; 3] = [Pane::List, Pane::Tree, Pane::Hex];
    let at = ORDER.iter().position(|&o| o == p).unwrap_or(0);
    ORDER[(at + by) % 3]
}

fn text_of(msg: &Message) -> RowText {
    let family = match &msg.genl_family {
        Some(g) => g.clone(),
        None => msg.protocol_name().map_or_else(|| format!("proto {}", msg.protocol), str::to_string),
    };
    let ty = match (msg.type_name(), msg.header) {
        (Some(t), _) => t.to_string(),
        (None, Some(h)) => format!("type 0x{:x}", h.ty),
        (None, None) => String::new(),
    };
    let port = match (&msg.process, msg.header) {
        (Some(p), _) if p.pid == 0 => p.comm.to_string(),
        (Some(p), _) => format!("{} ({})", p.pid, p.comm),
        (None, Some(h)) => h.pid.to_string(),
        (None, None) => String::new(),
    };
    RowText { family, ty, flags: msg.flag_names().join(","), port, summary: summary::summary(msg) }
}
