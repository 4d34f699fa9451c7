//! The terminal UI driven by keys and mouse events on real captures, drawn on ratatui's test
//! backend: snapshots of every view at two terminal sizes, and checks of what each key does
//! against the decoded values (selection, filter, jump to reply, expand, hex highlight).

mod common;

use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use nlscope::capture::{self, Frame};
use nlscope::decode::Decoder;
use nlscope::spec::Registry;
use nlscope::tui::App;
use nlscope::tui::app::{Overlay, Pane};
use nlscope::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

fn registry() -> &'static Registry {
    static R: std::sync::OnceLock<Registry> = std::sync::OnceLock::new();
    R.get_or_init(|| Registry::builtin().unwrap())
}

fn capture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("captures").join(name)
}

/// An app holding every frame of a capture, as after reading it to the end.
fn app_on(name: &str) -> App<'static> {
    let mut app = App::new(Decoder::new(registry()), format!("captures/{name}"), false);
    let mut reader = capture::open(&capture(name)).unwrap();
    loop {
        let mut frame = Frame::empty();
        match reader.read_into(&mut frame) {
            None => break,
            Some(r) => {
                r.unwrap();
                app.push_frame(frame);
            }
        }
    }
    app.loading = false;
    app.work(std::time::Duration::from_secs(60));
    app
}

fn press(app: &mut App, code: KeyCode) {
    app.key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c));
    }
}

fn terminal(w: u16, h: u16) -> Terminal<TestBackend> {
    Terminal::new(TestBackend::new(w, h)).unwrap()
}

/// Draws and returns the screen as text, one line per row, trailing spaces cut.
fn screen(t: &mut Terminal<TestBackend>, app: &mut App) -> String {
    t.draw(|f| view::draw(f, app)).unwrap();
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        let line: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The frame and message index of the selected row.
fn selected(app: &App) -> (u64, usize) {
    app.store.msg_ref(app.selected_row().unwrap())
}

/// Every view of the UI, at two sizes, on the capture of errors and extended ACKs.
#[test]
fn views_at_two_sizes() {
    for (w, h) in [(80, 24), (150, 45)] {
        let mut t = terminal(w, h);
        let mut app = app_on("errors_extack.pcap");
        insta::assert_snapshot!(format!("list_{w}x{h}"), screen(&mut t, &mut app));
        // The EOPNOTSUPP reply with its extended ACK, the tree focused and expanded.
        typed(&mut app, ":4");
        press(&mut app, KeyCode::Enter);
        press(&mut app, KeyCode::Tab);
        press(&mut app, KeyCode::Char('e'));
        insta::assert_snapshot!(format!("error_tree_{w}x{h}"), screen(&mut t, &mut app));
        press(&mut app, KeyCode::Char('z'));
        press(&mut app, KeyCode::Char('t'));
        insta::assert_snapshot!(format!("tree_layout_absolute_time_{w}x{h}"), screen(&mut t, &mut app));
        press(&mut app, KeyCode::Char('?'));
        insta::assert_snapshot!(format!("help_{w}x{h}"), screen(&mut t, &mut app));
        press(&mut app, KeyCode::Esc);
        press(&mut app, KeyCode::Char('S'));
        insta::assert_snapshot!(format!("stats_{w}x{h}"), screen(&mut t, &mut app));
        press(&mut app, KeyCode::Esc);
        typed(&mut app, "/error == EEXIST and type ==");
        insta::assert_snapshot!(format!("filter_error_{w}x{h}"), screen(&mut t, &mut app));
    }
}

#[test]
fn a_monitor_capture_and_a_generic_capture_draw() {
    for name in ["nlvm_uncaptured_families.pcapng", "genl_tcp_metrics.pcap"] {
        let mut t = terminal(120, 30);
        let mut app = app_on(name);
        press(&mut app, KeyCode::Char('G'));
        insta::assert_snapshot!(format!("last_of_{name}"), screen(&mut t, &mut app));
    }
}

#[test]
fn moving_and_jumping_between_request_and_reply() {
    let mut app = app_on("errors_extack.pcap");
    assert_eq!(app.store.len(), 296);
    assert_eq!(selected(&app), (1, 0));
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Down);
    assert_eq!(selected(&app), (3, 0));
    // 3.0 (RTM_NEWLINK kind nosuchkind) is answered in 4.0, and back.
    press(&mut app, KeyCode::Char('r'));
    assert_eq!(selected(&app), (4, 0));
    press(&mut app, KeyCode::Char('r'));
    assert_eq!(selected(&app), (3, 0));
    press(&mut app, KeyCode::Char('G'));
    assert_eq!(app.selected, 295);
    press(&mut app, KeyCode::Char('g'));
    // The next error from 1.0 is the ENODEV in 2.0; the one before 8.0 is 6.0.
    press(&mut app, KeyCode::Char('n'));
    assert_eq!(selected(&app), (2, 0));
    typed(&mut app, ":8");
    press(&mut app, KeyCode::Enter);
    assert_eq!(selected(&app), (8, 0));
    press(&mut app, KeyCode::Char('N'));
    assert_eq!(selected(&app), (6, 0));
    // No such frame: a notice, the selection stays.
    typed(&mut app, ":99999");
    press(&mut app, KeyCode::Enter);
    assert_eq!(selected(&app), (6, 0));
    assert_eq!(app.notice.as_deref(), Some("no frame 99999"));
}

#[test]
fn the_filter_applies_as_typed_and_keeps_the_last_good_one() {
    let mut app = app_on("errors_extack.pcap");
    // Counted by the headless output of the same filter.
    let out = common::bin()
        .args(["-r", capture("errors_extack.pcap").to_str().unwrap(), "-Y", "error == EEXIST"])
        .output()
        .unwrap();
    let want = common::stdout(&out).lines().count();
    assert!(want >= 3, "{want}");
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "error == EEXIST");
    app.work(std::time::Duration::from_secs(60));
    assert_eq!(app.shown_len(), want);
    assert_eq!(app.filter_text(), Some("error == EEXIST"));
    // Every row shown is an EEXIST reply.
    for pos in 0..app.shown_len() {
        let row = app.shown_row(pos).unwrap();
        assert!(app.store.row(row).is_error_reply());
        assert!(app.row_text(row).summary.contains("EEXIST"), "{}", app.row_text(row).summary);
    }
    // Broken input: an error at its column, the filter before stays.
    typed(&mut app, " and");
    let e = app.prompt.as_ref().unwrap().error.clone().unwrap();
    assert_eq!(e.column, 20, "{e:?}");
    assert_eq!(app.filter_text(), Some("error == EEXIST"));
    assert_eq!(app.shown_len(), want);
    // Esc goes back to the filter in force when the prompt opened: none.
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.filter_text(), None);
    assert_eq!(app.shown_len(), 296);
    // The history has what was accepted with Enter.
    press(&mut app, KeyCode::Char('f'));
    typed(&mut app, "type == RTM_NEWQDISC");
    press(&mut app, KeyCode::Enter);
    let qdiscs = app.shown_len();
    assert!(qdiscs > 0 && qdiscs < 296);
    press(&mut app, KeyCode::Char('/'));
    press(&mut app, KeyCode::Backspace);
    assert_eq!(app.prompt.as_ref().unwrap().error.as_ref().map(|e| e.column), Some(9));
    press(&mut app, KeyCode::Up);
    assert_eq!(app.prompt.as_ref().unwrap().input, "type == RTM_NEWQDISC");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.shown_len(), qdiscs);
    // A hidden reply is named, not jumped to.
    press(&mut app, KeyCode::Char('r'));
    assert!(app.notice.as_deref().unwrap().contains("hidden by the filter"), "{:?}", app.notice);
}

#[test]
fn expanding_collapsing_and_the_hex_highlight_follow_the_tree() {
    let mut app = app_on("errors_extack.pcap");
    let mut t = terminal(150, 45);
    typed(&mut app, ":4");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.focus, Pane::Tree);
    app.ensure_detail();
    let nodes = app.detail.as_ref().unwrap().tree().len();
    press(&mut app, KeyCode::Char('e'));
    assert_eq!(app.detail.as_ref().unwrap().visible().len(), nodes);
    press(&mut app, KeyCode::Char('C'));
    let d = app.detail.as_ref().unwrap();
    let top = d.tree().nodes().iter().filter(|n| n.depth == 0).count();
    assert_eq!(d.visible().len(), top);
    press(&mut app, KeyCode::Char('e'));
    // Walk down to NLMSGERR_ATTR_MSG and check the bytes lit in the hex pane are its bytes.
    for _ in 0..100 {
        let d = app.detail.as_ref().unwrap();
        if d.tree().name(d.cursor) == "NLMSGERR_ATTR_MSG" {
            break;
        }
        press(&mut app, KeyCode::Down);
    }
    let d = app.detail.as_ref().unwrap();
    assert_eq!(d.tree().name(d.cursor), "NLMSGERR_ATTR_MSG");
    let span = d.span().unwrap();
    assert_eq!(span.len(), 4 + "Unknown device type".len() + 1);
    screen(&mut t, &mut app);
    let g = app.geometry;
    assert_eq!(g.bytes_per_line, 8);
    // Hex digits of byte i sit at column 6 + 3 * (i % 8) of line i / 8, inside the pane.
    let buf = t.backend().buffer();
    let data_len = app.store.frame_bytes(app.selected_row().unwrap()).len();
    let scroll = app.detail.as_ref().unwrap().hex_scroll;
    let mut lit = Vec::new();
    for i in 0..data_len {
        let line = i / 8;
        if line < scroll || line >= scroll + usize::from(g.hex.height - 1) {
            continue;
        }
        let x = g.hex.x + 1 + 6 + 3 * (i % 8) as u16;
        let y = g.hex.y + 1 + (line - scroll) as u16;
        if buf[(x, y)].bg == Color::Blue {
            lit.push(i);
        }
    }
    assert_eq!(lit, span.clone().collect::<Vec<_>>());
    // The reverse: a click on a byte of the nlmsghdr's nlmsg_type selects that field.
    let click = MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: g.hex.x + 1 + 6 + 3 * 4,
        row: g.hex.y + 1 + (16 / 8 - scroll) as u16,
        modifiers: KeyModifiers::NONE,
    };
    assert!(scroll <= 2, "the header's line is on screen: {scroll}");
    app.mouse(click);
    let d = app.detail.as_ref().unwrap();
    assert_eq!(app.focus, Pane::Hex);
    assert_eq!(d.hex_cursor, 20);
    assert_eq!(d.tree().name(d.cursor), "nlmsg_type");
    // Moving in the hex pane selects the deepest node holding the byte.
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.focus, Pane::Hex);
    let d = app.detail.as_ref().unwrap();
    let at = d.span().unwrap().start;
    press(&mut app, KeyCode::Right);
    let d = app.detail.as_ref().unwrap();
    assert_eq!(d.hex_cursor, at + 1);
    let n = d.tree().node(d.cursor);
    assert!((n.offset()..n.offset() + n.length()).contains(&(at + 1)));
}

#[test]
fn search_finds_text_in_later_trees() {
    let mut app = app_on("errors_extack.pcap");
    press(&mut app, KeyCode::Char('s'));
    typed(&mut app, "Exclusivity flag on");
    press(&mut app, KeyCode::Enter);
    assert_eq!(selected(&app), (76, 0));
    let d = app.detail.as_ref().unwrap();
    assert_eq!(d.tree().name(d.cursor), "NLMSGERR_ATTR_MSG");
    assert_eq!(app.focus, Pane::Tree);
    press(&mut app, KeyCode::Char(';'));
    assert!(selected(&app).0 > 76 || app.notice.is_some());
}

#[test]
fn live_follow_pause_and_bad_frames() {
    let mut app = App::new(Decoder::new(registry()), "test".into(), true);
    let mut reader = capture::open(&capture("rtnl_addr.pcap")).unwrap();
    let mut frames = Vec::new();
    loop {
        let mut f = Frame::empty();
        match reader.read_into(&mut f) {
            None => break,
            Some(r) => {
                r.unwrap();
                frames.push(f);
            }
        }
    }
    let total = frames.len();
    let mut frames = frames.into_iter();
    for f in frames.by_ref().take(5) {
        app.push_frame(f);
    }
    app.work(std::time::Duration::from_secs(1));
    assert!(app.follow);
    assert_eq!(app.selected, app.shown_len() - 1);
    press(&mut app, KeyCode::Char('p'));
    let shown = app.shown_len();
    for f in frames.by_ref().take(5) {
        app.push_frame(f);
    }
    app.work(std::time::Duration::from_secs(1));
    assert_eq!(app.shown_len(), shown, "paused: the display stays");
    assert!(app.store.len() > shown, "paused: the capture goes on");
    press(&mut app, KeyCode::Char('p'));
    press(&mut app, KeyCode::Char('F'));
    app.work(std::time::Duration::from_secs(1));
    assert_eq!(app.shown_len(), app.store.len());
    assert_eq!(app.selected, app.shown_len() - 1);
    // A frame that is no netlink message is a row of its own, marked, and draws.
    let mut junk = Frame::empty();
    junk.fill_netlink(1000, Default::default(), 0, nlscope::capture::Direction::Unknown, &[1, 2, 3], 3);
    app.push_frame(junk);
    app.work(std::time::Duration::from_secs(1));
    let last = app.shown_row(app.shown_len() - 1).unwrap();
    assert!(app.store.row(last).has_problem());
    assert!(app.row_text(last).summary.contains("stray bytes"), "{}", app.row_text(last).summary);
    let mut t = terminal(100, 30);
    assert!(screen(&mut t, &mut app).contains("frame problem"));
    for f in frames {
        app.push_frame(f);
    }
    assert!(total > 10);
    press(&mut app, KeyCode::Char('S'));
    assert!(matches!(app.overlay, Some(Overlay::Stats { .. })));
    press(&mut app, KeyCode::Char('q'));
    assert!(app.quit);
}

#[test]
fn a_click_selects_a_row_and_the_wheel_scrolls() {
    let mut app = app_on("errors_extack.pcap");
    let mut t = terminal(120, 40);
    screen(&mut t, &mut app);
    let g = app.geometry;
    let click = |row| MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: 10,
        row,
        modifiers: KeyModifiers::NONE,
    };
    // Border line, column headers, then rows.
    app.mouse(click(g.list.y + 2 + 4));
    assert_eq!(selected(&app), (5, 0));
    app.mouse(MouseEvent {
        kind: MouseEventKind::ScrollDown,
        column: 10,
        row: g.list.y + 3,
        modifiers: KeyModifiers::NONE,
    });
    assert_eq!(selected(&app), (8, 0));
}

/// Replies whose layout depends on their request (sock_diag INET_DIAG_INFO by protocol) are
/// decoded with it in the tree too: the MPTCP sockets of 2.0 show their mptcp_info.
#[test]
fn sock_diag_replies_are_read_by_their_requests_protocol() {
    let mut app = app_on("sock_diag_info.pcap");
    typed(&mut app, ":2");
    press(&mut app, KeyCode::Enter);
    app.ensure_detail();
    let d = app.detail.as_ref().unwrap();
    let token = (0..d.tree().len()).find(|&id| d.tree().name(id) == "mptcpi_token");
    assert!(token.is_some(), "no mptcp_info in the tree of 2.0");
    let mut line = Vec::new();
    nlscope::render::text::write_node_text(&mut line, d.tree(), token.unwrap());
    assert_eq!(String::from_utf8(line).unwrap(), "mptcpi_token u32: 0x99dc0c4a");
}

/// Frames are attributed here as `live::process::Attributed` does (the owner of the port the
/// first message names; none for a request that left it 0), with two made-up owners of the ports
/// of rtnl_addr.pcap. Feeds its first ten frames to `app` as a live capture would, calling `after`
/// with each frame's number once it is in.
fn feed_rtnl_addr_live(app: &mut App, mut after: impl FnMut(&mut App, u64)) {
    use nlscope::capture::Process;
    let owner = |port: u32| match port {
        130 => Some(Process { pid: 4321, comm: "ip".into() }),
        3971574085 => Some(Process { pid: 4400, comm: "ip".into() }),
        0 => Some(Process::kernel()),
        _ => None,
    };
    let mut reader = capture::open(&capture("rtnl_addr.pcap")).unwrap();
    for _ in 0..10 {
        let mut f = Frame::empty();
        reader.read_into(&mut f).unwrap().unwrap();
        let p = f.payload();
        let (flags, port) = (u16::from_le_bytes([p[6], p[7]]), u32::from_le_bytes([p[12], p[13], p[14], p[15]]));
        let request = flags & 1 != 0;
        f.process = if request && port == 0 { None } else { owner(port) };
        let number = f.number;
        app.push_frame(f);
        after(app, number);
    }
}

/// Live capture: a request sent with port 0 names no process, its reply names the requester's
/// port: the request row shows its reply's process once the reply is in.
#[test]
fn a_request_sent_with_port_0_takes_the_process_its_reply_was_sent_to() {
    let mut app = App::new(Decoder::new(registry()), "live".into(), true);
    let mut row_of_request = Vec::new();
    feed_rtnl_addr_live(&mut app, |app, number| {
        if number == 1 || number == 9 {
            // The request, drawn before its answer: only its port is known.
            let row = app.store.row_of_frame_number(number).unwrap();
            assert_eq!(app.row_text(row).port, "0");
            row_of_request.push(row);
        }
    });
    // Request 1.0 (RTM_GETLINK dump) was answered to port 130, request 9.0 to port 3971574085.
    assert_eq!(app.store.msg_ref(row_of_request[0]), (1, 0));
    assert_eq!(app.row_text(row_of_request[0]).port, "4321 (ip)");
    assert_eq!(app.store.msg_ref(row_of_request[1]), (9, 0));
    assert_eq!(app.row_text(row_of_request[1]).port, "4400 (ip)");
    // The reply keeps its own, and the screen shows the request's.
    let reply = app.store.row_of_frame_number(10).unwrap();
    assert_eq!(app.row_text(reply).port, "4400 (ip)");
    app.work(std::time::Duration::from_secs(1));
    press(&mut app, KeyCode::Home);
    let mut t = terminal(150, 45);
    let s = screen(&mut t, &mut app);
    let line = s.lines().find(|l| l.contains("RTM_GETLINK") && l.contains("4321 (ip)"));
    assert!(line.is_some(), "{s}");
}

/// A filter in force while frames arrive: the rows it already looked at are matched again when
/// their request is answered (latency) or takes its reply's process.
#[test]
fn rows_changed_by_later_frames_are_filtered_again() {
    for (filter, want) in [
        // Requests 1.0 and 9.0 carry no process when they arrive, their replies do.
        ("process == \"ip\" and type == RTM_GETLINK", vec![(1, 0), (9, 0)]),
        // A request's latency is known once its answer is in.
        ("latency > 0 and flags has REQUEST", vec![(1, 0), (5, 0), (9, 0)]),
    ] {
        let mut app = App::new(Decoder::new(registry()), "live".into(), true);
        press(&mut app, KeyCode::Char('/'));
        typed(&mut app, filter);
        press(&mut app, KeyCode::Enter);
        assert_eq!(app.filter_text(), Some(filter), "{:?}", app.prompt.as_ref().and_then(|p| p.error.clone()));
        feed_rtnl_addr_live(&mut app, |app, _| {
            app.work(std::time::Duration::from_secs(1));
        });
        let shown: Vec<_> = (0..app.shown_len()).map(|pos| app.store.msg_ref(app.shown_row(pos).unwrap())).collect();
        assert_eq!(shown, want, "{filter}");
    }
}

/// Searching and counting statistics run in slices between drawings (here a frame a slice): the
/// status bar shows how far they got, Esc stops them, and what they find is what one go finds.
#[test]
fn search_and_statistics_run_in_slices() {
    let step = |app: &mut App| {
        let mut slices = 0;
        while app.job_progress().is_some() {
            app.work(std::time::Duration::ZERO);
            slices += 1;
            assert!(slices < 10_000, "the job ends");
        }
        slices
    };
    let mut whole = app_on("errors_extack.pcap");
    press(&mut whole, KeyCode::Char('S'));
    let Some(Overlay::Stats { lines: want, .. }) = whole.overlay.clone() else { panic!("statistics in one go") };

    let mut app = app_on("errors_extack.pcap");
    app.job_slice = std::time::Duration::ZERO;
    press(&mut app, KeyCode::Char('S'));
    assert!(app.overlay.is_none(), "shown when counted");
    let (what, share) = app.job_progress().unwrap();
    assert_eq!(what, "counting statistics");
    assert!(share > 0.0 && share < 0.1, "{share}");
    let mut t = terminal(150, 45);
    assert!(screen(&mut t, &mut app).contains("counting statistics"), "the status bar says so");
    assert!(step(&mut app) > 50);
    let Some(Overlay::Stats { lines, .. }) = app.overlay.clone() else { panic!("statistics shown") };
    assert_eq!(lines, want);
    press(&mut app, KeyCode::Esc);

    // The search of search_finds_text_in_later_trees, a frame at a time.
    press(&mut app, KeyCode::Char('s'));
    typed(&mut app, "Exclusivity flag on");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.job_progress().unwrap().0, "searching `Exclusivity flag on`");
    assert_eq!(selected(&app), (1, 0), "not moved yet");
    assert!(step(&mut app) > 10);
    assert_eq!(selected(&app), (76, 0));
    let d = app.detail.as_ref().unwrap();
    assert_eq!(d.tree().name(d.cursor), "NLMSGERR_ATTR_MSG");

    // Esc stops a search, and says so.
    press(&mut app, KeyCode::Char('s'));
    typed(&mut app, "no such text anywhere");
    press(&mut app, KeyCode::Enter);
    assert!(app.job_progress().is_some());
    press(&mut app, KeyCode::Esc);
    assert!(app.job_progress().is_none());
    assert_eq!(app.notice.as_deref(), Some("stopped"));
    assert_eq!(selected(&app), (76, 0));
    // Run to the end, it says where it looked.
    press(&mut app, KeyCode::Char(';'));
    step(&mut app);
    assert_eq!(app.notice.as_deref(), Some("`no such text anywhere` is not in the trees after this one"));
}
