//! Draws an [`App`]: the message list, the detail tree, the hex pane, the status bar and what
//! covers them (prompt, help, statistics). Reads decoded messages and rows only; never parses.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::app::{App, KEYS, Overlay, Pane, PromptKind, TimeFormat};
use super::store::{PROBLEM, Row};
use crate::capture::{Direction, Timestamp};
use crate::render::text::{self, write_node_text};
use crate::tree::Problem;

/// The colour of a netlink protocol, as the text output uses them.
fn family_color(protocol: u16) -> Color {
    match protocol {
        0 => Color::Cyan,
        16 => Color::Magenta,
        12 => Color::Blue,
        4 => Color::Green,
        _ => Color::Yellow,
    }
}

fn arrow(d: Direction) -> &'static str {
    match d {
        Direction::ToKernel => "->K",
        Direction::ToUser => "K->",
        Direction::Unknown => " ? ",
    }
}

/// Seconds with microseconds, from `earlier` to `t`.
fn seconds(t: Timestamp, earlier: Timestamp) -> String {
    let ns = t.nanos_since(&earlier);
    let sign = if ns < 0 { "-" } else { "" };
    let us = ns.unsigned_abs() / 1000;
    format!("{sign}{}.{:06}", us / 1_000_000, us % 1_000_000)
}

/// Draws everything.
pub fn draw(f: &mut Frame, app: &mut App) {
    app.ensure_detail();
    let area = f.area();
    let prompt_lines = match &app.prompt {
        Some(p) if p.error.is_some() => 2,
        Some(_) => 1,
        None => 0,
    };
    let [main, status, prompt] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(1), Constraint::Length(prompt_lines)]).areas(area);
    let (list_share, tree_share) = match app.layout {
        1 => (30, 70),
        2 => (30, 35),
        _ => (40, 55),
    };
    let [list, bottom] =
        Layout::vertical([Constraint::Percentage(list_share), Constraint::Percentage(100 - list_share)]).areas(main);
    let [tree, hex] =
        Layout::horizontal([Constraint::Percentage(tree_share), Constraint::Percentage(100 - tree_share)])
            .areas(bottom);
    draw_list(f, app, list);
    draw_tree(f, app, tree);
    draw_hex(f, app, hex);
    draw_status(f, app, status);
    if let Some(p) = &app.prompt {
        let label = match p.kind {
            PromptKind::Filter => "filter: ",
            PromptKind::Search => "search: ",
            PromptKind::Goto => "go to frame: ",
        };
        let mut lines = vec![Line::from(vec![
            Span::styled(label, Style::new().add_modifier(Modifier::BOLD)),
            Span::raw(p.input.clone()),
            Span::styled(" ", Style::new().add_modifier(Modifier::REVERSED)),
        ])];
        if let Some(e) = &p.error {
            lines[0].spans[1].style = Style::new().fg(Color::Red);
            lines.push(Line::styled(
                format!("{}^ {}", " ".repeat(label.len() + e.column.saturating_sub(1)), e.message),
                Style::new().fg(Color::Red),
            ));
        }
        f.render_widget(Paragraph::new(lines), prompt);
    }
    match &app.overlay {
        Some(Overlay::Help { scroll }) => {
            let lines = help_lines(overlay_rect(area, KEYS.len()).width.saturating_sub(2) as usize);
            app.geometry.help_lines = lines.len();
            overlay(f, area, " keys (j/k scroll, any other key closes) ", lines, *scroll);
        }
        Some(Overlay::Stats { lines, scroll }) => {
            let lines = lines.iter().map(|l| Line::raw(l.clone())).collect();
            overlay(f, area, " statistics of the messages shown (j/k scroll, any other key closes) ", lines, *scroll);
        }
        None => {}
    }
}

/// The keys and what they do, the descriptions wrapped to `width` columns under themselves.
fn help_lines(width: usize) -> Vec<Line<'static>> {
    let keys = KEYS.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
    let room = width.saturating_sub(keys + 2).max(20);
    let mut lines = Vec::new();
    for (k, what) in KEYS {
        let mut key = Some(Span::styled(format!("{k:>keys$}  "), Style::new().add_modifier(Modifier::BOLD)));
        let mut rest = *what;
        while !rest.is_empty() {
            let (chunk, next) = split_at_word(rest, room);
            let lead = key.take().unwrap_or_else(|| Span::raw(" ".repeat(keys + 2)));
            lines.push(Line::from(vec![lead, Span::raw(chunk.to_owned())]));
            rest = next;
        }
    }
    lines
}

/// The longest start of `text` of at most `width` characters that ends before a space (all of
/// the first word if it is longer), and what follows that space.
fn split_at_word(text: &str, width: usize) -> (&str, &str) {
    if text.chars().count() <= width {
        return (text, "");
    }
    // Byte offsets of the spaces among the first `width + 1` characters (a space right after
    // `width` characters ends a line that fits).
    let fitting = text.char_indices().take(width + 1).filter(|&(_, c)| c == ' ').map(|(i, _)| i).last();
    let cut = fitting.or_else(|| text.find(' ')).unwrap_or(text.len());
    (&text[..cut], text[cut..].trim_start())
}

/// Where an overlay of `lines` lines goes in `area`.
fn overlay_rect(area: Rect, lines: usize) -> Rect {
    let w = area.width.saturating_sub(4).min(110);
    let h = area.height.saturating_sub(2).min(lines as u16 + 2);
    Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h }
}

fn overlay(f: &mut Frame, area: Rect, title: &str, lines: Vec<Line>, scroll: usize) {
    let r = overlay_rect(area, lines.len());
    f.render_widget(Clear, r);
    let block = Block::new().borders(Borders::ALL).title(title.to_string());
    let text = Paragraph::new(lines).block(block).wrap(Wrap { trim: false }).scroll((scroll as u16, 0));
    f.render_widget(text, r);
}

fn pane_block(title: String, focused: bool) -> Block<'static> {
    let style = if focused { Style::new().fg(Color::Yellow) } else { Style::new() };
    Block::new().borders(Borders::TOP).border_style(style).title(title)
}

/// The columns of the list, by terminal width: (name, width), the summary taking what is left.
fn columns(width: u16) -> Vec<(&'static str, usize)> {
    let mut c = vec![("", 1), ("No.", 9), ("Time", 15), ("Dir", 3), ("Family", 9), ("Type", 22)];
    if width >= 120 {
        c.extend([("Flags", 16), ("Seq", 10), ("Port/process", 14)]);
    }
    c
}

fn fit(text: &str, width: usize) -> String {
    let n = text.chars().count();
    if n > width {
        let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
        s.push('…');
        s
    } else {
        format!("{text:<width$}")
    }
}

fn draw_list(f: &mut Frame, app: &mut App, area: Rect) {
    let title = format!(" Messages {}/{} ", app.shown_len(), app.store.len());
    let block = pane_block(title, app.focus == Pane::List);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let rows_room = inner.height.saturating_sub(1) as usize;
    let mut offset = app.geometry.list_offset;
    if app.selected < offset {
        offset = app.selected;
    } else if rows_room > 0 && app.selected >= offset + rows_room {
        offset = app.selected + 1 - rows_room;
    }
    app.geometry.list = area;
    app.geometry.list_offset = offset;
    let cols = columns(inner.width);
    let used: usize = cols.iter().map(|c| c.1 + 1).sum();
    let summary_width = (inner.width as usize).saturating_sub(used);
    let mut header: Vec<Span> = cols.iter().map(|(n, w)| Span::raw(format!("{} ", fit(n, *w)))).collect();
    header.push(Span::raw("Summary"));
    let mut lines = vec![Line::from(header).style(Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED))];
    let first = app.store.first_time();
    for pos in offset..(offset + rows_room).min(app.shown_len()) {
        let Some(row_id) = app.shown_row(pos) else { break };
        let row = *app.store.row(row_id);
        let text = app.row_text(row_id);
        let at = app.store.frame_time(row_id);
        let time = match app.time_format {
            TimeFormat::Relative => seconds(at, first),
            TimeFormat::Absolute => at.to_string().get(11..26).unwrap_or_default().to_string(),
            TimeFormat::Delta => {
                let before = pos.checked_sub(1).and_then(|p| app.shown_row(p));
                seconds(at, before.map_or(at, |b| app.store.frame_time(b)))
            }
        };
        let (frame_number, _) = app.store.msg_ref(row_id);
        let number =
            if row.index == PROBLEM { format!("{frame_number}.-") } else { format!("{frame_number}.{}", row.index) };
        let (mark, mark_style) = marker(&row);
        let mut cells = vec![
            Span::styled(mark.to_string(), mark_style),
            Span::raw(" "),
            Span::raw(format!("{:>9} ", number)),
            Span::raw(format!("{} ", fit(&time, 15))),
            Span::raw(format!("{} ", arrow(row.direction))),
            Span::styled(format!("{} ", fit(&text.family, 9)), Style::new().fg(family_color(row.protocol))),
            Span::styled(format!("{} ", fit(&text.ty, 22)), type_style(&row)),
        ];
        if cols.len() > 6 {
            let seq = row.header().map_or(String::new(), |h| h.seq.to_string());
            cells.push(Span::raw(format!("{} ", fit(&text.flags, 16))));
            cells.push(Span::raw(format!("{} ", fit(&seq, 10))));
            cells.push(Span::raw(format!("{} ", fit(&text.port, 14))));
        }
        cells.push(Span::raw(fit(&link_text(app, row_id, &row, &text.summary), summary_width)));
        let mut line = Line::from(cells);
        if pos == app.selected {
            line = line.style(Style::new().add_modifier(Modifier::REVERSED));
        }
        lines.push(line);
    }
    f.render_widget(Paragraph::new(lines), inner);
}

/// One character before each row: what is wrong or pending with it.
fn marker(row: &Row) -> (char, Style) {
    if row.is_error_reply() || row.has_problem() {
        ('!', Style::new().fg(Color::Red).add_modifier(Modifier::BOLD))
    } else if row.dump_interrupted() {
        ('~', Style::new().fg(Color::Red).add_modifier(Modifier::BOLD))
    } else if row.unanswered() {
        ('?', Style::new().fg(Color::Yellow))
    } else {
        (' ', Style::new())
    }
}

fn type_style(row: &Row) -> Style {
    if row.is_error_reply() || row.has_problem() {
        Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
    } else if row.is_unknown() {
        Style::new().fg(Color::Yellow)
    } else {
        Style::new().add_modifier(Modifier::BOLD)
    }
}

/// The summary, then what correlation knows (`(reply to 3.0, +0.210 ms)`, in the headless
/// output's words), or that a request still waits.
fn link_text(app: &App, row_id: u32, row: &Row, summary: &str) -> String {
    let mut out = summary.as_bytes().to_vec();
    let before = out.len();
    text::write_link(&mut out, &app.store.link(row_id), text::Style { color: false });
    if out.len() == before && row.unanswered() {
        out.extend_from_slice(b"  (no answer yet)");
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn draw_tree(f: &mut Frame, app: &mut App, area: Rect) {
    let focused = app.focus == Pane::Tree;
    let Some(row_id) = app.detail.as_ref().map(|d| d.row) else {
        f.render_widget(pane_block(" Tree ".into(), focused), area);
        app.geometry.tree = area;
        return;
    };
    let (number, index) = app.store.msg_ref(row_id);
    let frame_len = app.store.frame_bytes(row_id).len();
    let d = app.detail.as_mut().expect("checked");
    let title = match d.message() {
        Some(m) => {
            let family = match (&m.genl_family, m.protocol_name()) {
                (Some(g), _) => format!("GENERIC {g}"),
                (None, Some(p)) => p.to_string(),
                (None, None) => format!("protocol {}", m.protocol),
            };
            let ty = m.type_name().unwrap_or("message");
            format!(" {number}.{index} {family} {ty}: {} bytes at {}, {} ", m.length, m.offset, m.direction.as_str())
        }
        None => format!(" frame {number}: {frame_len} bytes that are no message "),
    };
    let block = pane_block(title, focused);
    let inner = block.inner(area);
    f.render_widget(block, area);
    app.geometry.tree = area;
    let visible = d.visible();
    let at = visible.iter().position(|&id| id == d.cursor).unwrap_or(0);
    let room = inner.height as usize;
    if at < d.scroll {
        d.scroll = at;
    } else if room > 0 && at >= d.scroll + room {
        d.scroll = at + 1 - room;
    }
    let tree = d.tree();
    let mut text = Vec::new();
    let lines: Vec<Line> = visible
        .iter()
        .skip(d.scroll)
        .take(room)
        .map(|&id| {
            let n = tree.node(id);
            let open = if !n.is_parent(id) {
                "  "
            } else if d.expanded[id] {
                "▾ "
            } else {
                "▸ "
            };
            text.clear();
            write_node_text(&mut text, tree, id);
            let body = String::from_utf8_lossy(&text).into_owned();
            let mut style = match n.problem {
                Some(Problem::Unknown) => Style::new().fg(Color::Yellow),
                Some(_) => Style::new().fg(Color::Red),
                None => Style::new(),
            };
            if id == d.cursor {
                style = style.add_modifier(if focused {
                    Modifier::REVERSED
                } else {
                    Modifier::BOLD | Modifier::UNDERLINED
                });
            }
            Line::from(vec![
                Span::raw(" ".repeat(2 * usize::from(n.depth))),
                Span::raw(open),
                Span::styled(body, style),
            ])
        })
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
}

/// Bytes per hex line for a pane this wide (inside its border).
fn bytes_per_line(width: u16) -> usize {
    let needs = |n: u16| 6 + 3 * n + u16::from(n == 16) + 1 + n;
    [16, 8].into_iter().find(|&n| width >= needs(n)).unwrap_or(4) as usize
}

/// The byte column under text column `x` of a hex line, if any: `oooo  xx xx ... xx  ascii`.
pub fn hex_column_byte(x: usize, bpl: usize) -> Option<usize> {
    let x = x.checked_sub(6)?;
    // An extra space after the eighth byte of a 16-byte line.
    let x = if bpl == 16 && x >= 8 * 3 { x.checked_sub(1)? } else { x };
    let col = x / 3;
    (col < bpl && x % 3 < 2).then_some(col)
}

fn draw_hex(f: &mut Frame, app: &mut App, area: Rect) {
    let focused = app.focus == Pane::Hex;
    let block = pane_block(" Bytes ".into(), focused).borders(Borders::TOP | Borders::LEFT);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let bpl = bytes_per_line(inner.width);
    app.geometry.hex = area;
    app.geometry.bytes_per_line = bpl;
    let Some(row_id) = app.detail.as_ref().map(|d| d.row) else { return };
    let data = app.store.frame_bytes(row_id);
    let d = app.detail.as_mut().expect("checked");
    let span = d.span().unwrap_or(0..0);
    let room = inner.height as usize;
    let cursor_line = d.hex_cursor / bpl;
    if cursor_line < d.hex_scroll {
        d.hex_scroll = cursor_line;
    } else if room > 0 && cursor_line >= d.hex_scroll + room {
        d.hex_scroll = cursor_line + 1 - room;
    }
    let lines_total = data.len().div_ceil(bpl);
    d.hex_scroll = d.hex_scroll.min(lines_total.saturating_sub(1));
    let byte_style = |i: usize| {
        let mut s = Style::new();
        if span.contains(&i) {
            s = s.bg(Color::Blue).fg(Color::White);
        }
        if i == d.hex_cursor && focused {
            s = s.add_modifier(Modifier::REVERSED);
        }
        s
    };
    let lines: Vec<Line> = (d.hex_scroll..lines_total.min(d.hex_scroll + room))
        .map(|l| {
            let start = l * bpl;
            let chunk = &data[start..(start + bpl).min(data.len())];
            let mut spans = vec![Span::styled(format!("{start:04x}  "), Style::new().fg(Color::DarkGray))];
            for (j, b) in chunk.iter().enumerate() {
                spans.push(Span::styled(format!("{b:02x}"), byte_style(start + j)));
                spans.push(Span::raw(if bpl == 16 && j == 7 { "  " } else { " " }));
            }
            spans.push(Span::raw(" ".repeat((bpl - chunk.len()) * 3 + 1)));
            for (j, &b) in chunk.iter().enumerate() {
                let c = if b.is_ascii_graphic() || b == b' ' { b as char } else { '.' };
                spans.push(Span::styled(c.to_string(), byte_style(start + j)));
            }
            Line::from(spans)
        })
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
}

fn draw_status(f: &mut Frame, app: &App, area: Rect) {
    let mut parts = vec![format!(" {}", app.source)];
    parts.push(format!("frames {}", app.store.frame_count()));
    parts.push(format!("messages {}", app.store.len()));
    parts.push(format!("shown {}", app.shown_len()));
    if let Some(c) = &app.counters {
        let get = crate::live::Counters::get;
        parts.push(format!("drops {}", get(&c.kernel_drops)));
        parts.push(format!("lost notifications {}", get(&c.lost_notifications)));
    }
    if app.capture_errors > 0 {
        parts.push(format!(
            "unreadable records {} ({})",
            app.capture_errors,
            app.last_capture_error.as_deref().unwrap_or_default()
        ));
    }
    if let Some(t) = app.filter_text() {
        match app.filter_progress() {
            Some(p) => parts.push(format!("filter `{t}` {:.0}%", p * 100.0)),
            None => parts.push(format!("filter `{t}`")),
        }
    }
    if let Some((what, p)) = app.job_progress() {
        parts.push(format!("{what} {:.0}% (Esc stops)", p * 100.0));
    }
    if app.loading {
        parts.push(if app.counters.is_some() { "live".into() } else { "reading".into() });
    }
    if app.follow {
        parts.push("FOLLOW".into());
    }
    if app.paused() {
        parts.push("PAUSED".into());
    }
    let mut spans = vec![Span::raw(parts.join(" | "))];
    match &app.notice {
        Some(n) => spans.push(Span::styled(format!(" | {n}"), Style::new().fg(Color::Yellow))),
        None => spans.push(Span::styled(" | ? keys  / filter  q quit", Style::new().fg(Color::DarkGray))),
    }
    f.render_widget(Paragraph::new(Line::from(spans)).style(Style::new().add_modifier(Modifier::REVERSED)), area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_wrap_where_they_fit() {
        assert_eq!(split_at_word("next / previous", 40), ("next / previous", ""));
        assert_eq!(split_at_word("display filter (applied)", 14), ("display filter", "(applied)"));
        assert_eq!(split_at_word("↑ ↓ history", 3), ("↑ ↓", "history"));
        assert_eq!(split_at_word("expand/collapse all", 4), ("expand/collapse", "all"));
        assert_eq!(split_at_word("unbroken", 3), ("unbroken", ""));
    }

    #[test]
    fn help_descriptions_wrap_under_themselves() {
        let lines = help_lines(76);
        assert!(lines.len() > KEYS.len(), "some descriptions wrap at 76 columns");
        for l in &lines {
            assert!(l.width() <= 76, "{l:?}");
        }
        // A continuation line starts blank under the keys.
        let filter = lines.iter().position(|l| l.to_string().contains("display filter")).unwrap();
        let next = lines[filter + 1].to_string();
        assert!(next.starts_with(&" ".repeat(26)) && next.trim_start().contains("Esc restores"), "{next}");
        assert_eq!(help_lines(200).len(), KEYS.len());
    }
}
