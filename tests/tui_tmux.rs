//! The real binary's terminal UI in a real terminal: tmux runs `nlscope -r CAPTURE` (a terminal
//! on standard output opens the UI), keys are sent, and the screen is read back. Skipped when
//! tmux is not installed.

use std::path::Path;
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

/// One tmux session on a server of its own (other tmux users are left alone).
struct Tmux {
    name: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux").args(["-L", &self.name]).args(args).output().expect("tmux runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-t", &self.name, "-p"])
    }

    /// Waits until the screen holds `text` (ten seconds at most) and returns it.
    fn wait_for(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(text) || start.elapsed() > Duration::from_secs(10) {
                assert!(screen.contains(text), "`{text}` never showed:\n{screen}");
                return screen;
            }
            sleep(Duration::from_millis(50));
        }
    }

    /// Sends keys one at a time (an Esc and the key after it must not arrive as one Alt+key).
    fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.run(&["send-keys", "-t", &self.name, k]);
            sleep(Duration::from_millis(80));
        }
    }

    fn text(&self, text: &str) {
        self.run(&["send-keys", "-t", &self.name, "-l", text]);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.run(&["kill-server"]);
    }
}

#[test]
fn the_binary_opens_filters_jumps_and_leaves_the_terminal_clean() {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("skipped: tmux is not installed");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_nlscope");
    let capture = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/errors_extack.pcap");
    let tmux = Tmux { name: format!("nlscope-test-{}", std::process::id()) };
    let cmd = format!("{bin} -r {} ; echo EXIT=$? ; sleep 30", capture.display());
    tmux.run(&["new-session", "-d", "-s", &tmux.name, "-x", "150", "-y", "45", &cmd]);
    let screen = tmux.wait_for("messages 296 | shown 296");
    assert!(screen.contains("RTM_NEWLINK") && screen.contains("-19 ENODEV"), "{screen}");
    // A filter typed: only the EEXIST replies stay.
    tmux.keys(&["/"]);
    tmux.text("error == EEXIST");
    let screen = tmux.wait_for("filter `error == EEXIST`");
    assert!(screen.contains("-17 EEXIST (File exists)"), "{screen}");
    assert!(!screen.contains("-19 ENODEV"), "{screen}");
    tmux.keys(&["Enter", "/", "C-u", "Enter"]);
    tmux.wait_for("shown 296 |");
    // Frame 8 is an EEXIST reply; r jumps to its request, whose tree shows.
    tmux.keys(&[":", "8", "Enter", "r"]);
    let screen = tmux.wait_for(" 7.0 ROUTE RTM_NEWLINK");
    assert!(screen.contains("IFLA_INFO_KIND (1) string: \"dummy\""), "{screen}");
    // Help, then quit: the shell has its screen back and nlscope exited cleanly.
    tmux.keys(&["?"]);
    tmux.wait_for("keys (j/k scroll");
    tmux.keys(&["Escape", "q"]);
    let screen = tmux.wait_for("EXIT=0");
    assert!(!screen.contains("Messages 296/296"), "the alternate screen is gone:\n{screen}");
}

/// A terminal that goes away (the tmux server killed: SIGHUP, a hung-up terminal) ends the UI
/// instead of leaving it spinning on a dead terminal.
#[test]
fn the_ui_ends_when_its_terminal_goes_away() {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("skipped: tmux is not installed");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_nlscope");
    let capture = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/errors_extack.pcap");
    let pidfile = std::env::temp_dir().join(format!("nlscope-tui-hup-{}", std::process::id()));
    let tmux = Tmux { name: format!("nlscope-hup-{}", std::process::id()) };
    let cmd = format!("echo $$ > {}; exec {bin} -r {}", pidfile.display(), capture.display());
    tmux.run(&["new-session", "-d", "-s", &tmux.name, "-x", "100", "-y", "30", &cmd]);
    tmux.wait_for("messages 296");
    let pid = std::fs::read_to_string(&pidfile).unwrap().trim().to_string();
    let _ = std::fs::remove_file(&pidfile);
    let proc_dir = Path::new("/proc").join(&pid);
    assert!(proc_dir.exists());
    tmux.run(&["kill-server"]);
    let start = Instant::now();
    while proc_dir.exists() && start.elapsed() < Duration::from_secs(5) {
        sleep(Duration::from_millis(50));
    }
    let state = std::fs::read_to_string(proc_dir.join("stat")).unwrap_or_default();
    // Gone, or a zombie waiting for tmux (dead) to reap it.
    assert!(state.is_empty() || state.contains(") Z "), "nlscope {pid} still runs: {state}");
}
