//! The terminal UI: a message list, the selected message's tree and its bytes, a display filter
//! applied as it is typed, on a capture file or live traffic.
//!
//! A thread reads the source (a file, standard input, a live capture that may write `-w` on the
//! way) and hands frames over; the UI thread adds them to its [`store::Store`], filters in slices
//! of time, and draws. Only what is on screen is decoded, so big captures open at once and
//! memory grows with the capture's bytes, not its trees.

pub mod app;
mod frames;
pub mod store;
pub mod view;

use std::io::IsTerminal;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, TryRecvError};
use std::thread;
use std::time::{Duration, Instant};

use crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event};

use crate::capture::{Frame, Source};
use crate::decode::Decoder;
use crate::live::Counters;
use crate::live::sys::{self, TerminalInput};
pub use app::App;

/// What the UI is started on.
pub struct Start<'r> {
    pub decoder: Decoder<'r>,
    /// Names the source in the status bar.
    pub label: String,
    pub live: bool,
    pub counters: Option<Arc<Counters>>,
    /// Set on SIGTERM (and SIGINT from outside): leave, restoring the terminal.
    pub quit: Arc<AtomicBool>,
    /// Asks the source to stop when the UI is left.
    pub stop: crate::live::Stop,
    /// The display filter given on the command line (`-Y`).
    pub filter: Option<crate::filter::Filter>,
}

/// Puts the terminal back however the UI ends (errors included; panics restore it through the
/// hook ratatui installs).
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        let _ = crossterm::execute!(std::io::stdout(), DisableMouseCapture);
        ratatui::restore();
    }
}

/// Frames read from a source on a thread of their own.
enum Fed {
    Frame(Frame),
    Error(String),
}

/// Frames read from a file ahead of the UI at most.
const FRAMES_IN_FLIGHT: usize = 16 * 1024;

/// Hands frames from the reading thread to the UI; false once the UI is gone.
type Handover = Box<dyn Fn(Fed) -> bool + Send>;

/// Runs the UI until the user leaves; returns the source (to report on it) once its thread ended.
pub fn run<S: Source + Send + 'static>(source: S, start: Start<'_>) -> anyhow::Result<S> {
    // A file is read much faster than it is indexed, and frames waiting in the channel would
    // hold memory twice over (its slots stay with the reading thread's heap): it is read at
    // most FRAMES_IN_FLIGHT ahead. A live capture is never held back: while the UI is busy (a
    // search), the kernel would drop what it has not taken.
    let (send, rx): (Handover, mpsc::Receiver<Fed>) = if start.live {
        let (tx, rx) = mpsc::channel();
        (Box::new(move |fed| tx.send(fed).is_ok()), rx)
    } else {
        let (tx, rx) = mpsc::sync_channel(FRAMES_IN_FLIGHT);
        (Box::new(move |fed| tx.send(fed).is_ok()), rx)
    };
    let stop = start.stop.clone();
    let reader = thread::spawn(move || {
        let mut source = source;
        loop {
            let mut frame = Frame::empty();
            let fed = match source.read_into(&mut frame) {
                None => break,
                Some(Ok(())) => Fed::Frame(frame),
                Some(Err(e)) => Fed::Error(e.to_string()),
            };
            if !send(fed) {
                break;
            }
        }
        source
    });
    let mut app = App::new(start.decoder, start.label, start.live);
    app.counters = start.counters;
    if let Some(f) = start.filter {
        app.apply_filter(f);
    }
    let result = event_loop(&mut app, &rx, &start.quit);
    stop.request();
    drop(rx);
    let source = reader.join().map_err(|_| anyhow::anyhow!("the capture thread panicked"))?;
    result?;
    Ok(source)
}

/// Events handled at most between two drawings.
const EVENTS_PER_DRAW: usize = 1024;

fn event_loop(app: &mut App, rx: &mpsc::Receiver<Fed>, quit: &AtomicBool) -> anyhow::Result<()> {
    // Keys come from where crossterm reads them: standard input when it is the terminal, else
    // the terminal itself (standard input may be a capture: `nlscope -r -`).
    let tty: std::os::fd::OwnedFd = if std::io::stdin().is_terminal() {
        std::io::stdin().as_fd().try_clone_to_owned()?
    } else {
        std::fs::File::open("/dev/tty")
            .map_err(|e| anyhow::anyhow!("the terminal UI needs a terminal (/dev/tty: {e}); -P prints instead"))?
            .into()
    };
    let mut terminal = ratatui::try_init()?;
    let _restore = Restore;
    crossterm::execute!(std::io::stdout(), EnableMouseCapture)?;
    while !app.quit && !quit.load(Ordering::SeqCst) {
        let started = Instant::now();
        let mut more = false;
        while started.elapsed() < Duration::from_millis(25) {
            match rx.try_recv() {
                Ok(Fed::Frame(frame)) => app.push_frame(frame),
                Ok(Fed::Error(why)) => app.capture_error(why),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    app.loading = false;
                    break;
                }
            }
            more = true;
        }
        let busy = app.work(Duration::from_millis(20)) || more;
        terminal.draw(|f| view::draw(f, app))?;
        let wait = if busy { Duration::ZERO } else { Duration::from_millis(100) };
        // The events waiting are handled before the next drawing, a bounded number of them.
        // crossterm is asked only once the terminal has input: on a terminal that hung up it
        // would read nothing forever; the UI ends then.
        match sys::wait_for_terminal(&tty, wait.as_millis() as i32)? {
            TerminalInput::HungUp => return Ok(()),
            TerminalInput::Timeout => {}
            // What crossterm read and parsed is handled to the last event.
            TerminalInput::Ready => {
                for _ in 0..EVENTS_PER_DRAW {
                    if !event::poll(Duration::ZERO)? {
                        break;
                    }
                    match event::read()? {
                        Event::Key(k) => app.key(k),
                        Event::Mouse(m) => app.mouse(m),
                        _ => {}
                    }
                }
            }
        }
    }
    Ok(())
}
