//! What live capture says when it cannot start: no nlmon in the kernel, no such device, a device
//! that is no nlmon device, missing privileges. Each message says what to do.

mod common;

use common::*;
use std::process::Command;

fn in_netns(args: &str) -> Option<String> {
    let script = format!("{} {args} 2>&1; echo \"exit $?\"", env!("CARGO_BIN_EXE_nlscope"));
    let out = Command::new("unshare").args(["-n", "sh", "-c", &script]).output().ok()?;
    out.status.success().then(|| stdout(&out))
}

#[test]
fn devices_that_cannot_be_captured_are_named() {
    let Some(out) = in_netns("-i nosuchdevice") else { return eprintln!("skipped: needs root and unshare") };
    assert!(out.contains("no network device named nosuchdevice") && out.contains("-D lists"), "{out}");
    let out = in_netns("-i lo").unwrap();
    assert!(out.contains("lo is not an nlmon device"), "{out}");
    assert!(out.ends_with("exit 1\n"), "{out}");
}

#[test]
fn a_kernel_without_nlmon_suggests_monitor() {
    let Some(out) = in_netns("-i auto -c 1 --duration 2") else { return eprintln!("skipped: needs root and unshare") };
    if out.contains("capturing on") {
        return eprintln!("skipped: this kernel has nlmon");
    }
    assert!(out.contains("no nlmon device") && out.contains("--monitor"), "{out}");
    // With no source at all, nlscope listens to notifications instead.
    let out = in_netns("-c 1 --duration 2").unwrap();
    assert!(out.contains("listening to notifications instead"), "{out}");
    assert!(out.contains("exit 0"), "{out}");
}

#[test]
fn missing_privileges_say_which_and_how_to_grant_them() {
    let as_nobody = |args: &[&str]| {
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", env!("CARGO_BIN_EXE_nlscope")])
            .args(args)
            .output()
            .ok()
    };
    let Some(out) = as_nobody(&["-i", "auto"]) else { return eprintln!("skipped: needs setpriv") };
    if !stderr(&out).contains("capability") && stderr(&out).contains("setpriv") {
        return eprintln!("skipped: cannot change user here");
    }
    let e = stderr(&out);
    // Creating the device needs CAP_NET_ADMIN; opening a packet socket on an existing nlmon device
    // (CAP_NET_RAW) needs a kernel with nlmon and is exercised in the nlvm test.
    assert!(e.contains("CAP_NET_ADMIN") && e.contains("setcap cap_net_raw,cap_net_admin+eip"), "{e}");
}
