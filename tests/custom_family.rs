//! A spec in the kernel's own YNL format, for a generic netlink family invented here, loads
//! unchanged with `--spec-dir` and decodes that family's messages once nlctrl names its id.

mod common;

use common::*;

fn spec_dir() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/specs").to_string()
}

/// nlctrl NEWFAMILY announcing `nlscope-demo` as id 0x30.
fn newfamily() -> Vec<u8> {
    let mut p = vec![1u8, 2, 0, 0];
    p.extend(nlattr(2, b"nlscope-demo\0", None));
    p.extend(nlattr(1, &0x30u16.to_le_bytes(), None));
    nlmsg(0x10, 0, 1, 77, &p, None)
}

fn widget_reply() -> Vec<u8> {
    let mut p = vec![1u8, 2, 0, 0]; // cmd 1 = get, version 2
    p.extend(5u32.to_le_bytes()); // widget-hdr: ifindex 5, pad
    p.extend([0; 4]);
    p.extend(nlattr(1, &42u32.to_le_bytes(), None));
    p.extend(nlattr(2, b"sprocket\0", None));
    p.extend(nlattr(3, &[2], None));
    p.extend(nlattr(4, &5u32.to_le_bytes(), None));
    p.extend(nlattr(5, &[192, 0, 2, 7], None));
    p.extend(nlattr(6, &4789u16.to_be_bytes(), None));
    let mut part = nlattr(1, &7u64.to_le_bytes(), None);
    part.extend(nlattr(2, b"cog\0", None));
    p.extend(nlattr(0x8007, &part, None));
    nlmsg(0x30, 0, 2, 77, &p, None)
}

#[test]
fn kernel_format_spec_decodes_its_family() {
    let f = netlink_pcap(16, &[newfamily(), widget_reply()]);
    let out = run_on_bytes(&f, &["--spec-dir", &spec_dir(), "-V", "--color", "never"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for want in [
        "GENERIC NLSCOPE_DEMO_CMD_GET [] seq=2 pid=77  nlscope-demo",
        "nlmsg_type u16: genl family nlscope-demo (48)",
        "struct widget_hdr",
        "ifindex u32: 5",
        "NLSCOPE_DEMO_A_WIDGET_ID (1) u32: 42",
        "NLSCOPE_DEMO_A_WIDGET_NAME (2) string: \"sprocket\"",
        "NLSCOPE_DEMO_A_WIDGET_STATE (3) u8: NLSCOPE_DEMO_WIDGET_STATE_ON (2)",
        "NLSCOPE_DEMO_A_WIDGET_CAPS (4) u32: 0x5 (NLSCOPE_DEMO_WIDGET_CAPS_FAST|NLSCOPE_DEMO_WIDGET_CAPS_SHINY)",
        "NLSCOPE_DEMO_A_WIDGET_ADDR (5) binary: 192.0.2.7",
        "NLSCOPE_DEMO_A_WIDGET_PORT (6) u16: 4789",
        "NLSCOPE_DEMO_A_PART_SERIAL (1) u64: 7",
        "NLSCOPE_DEMO_A_PART_LABEL (2) string: \"cog\"",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
    let demo = &text[text.find("     2.0 ").expect("frame 2")..];
    assert!(!demo.contains("[unknown]") && !demo.contains("malformed"), "{demo}");
}

#[test]
fn without_the_spec_the_family_is_named_but_walked_generically() {
    let f = netlink_pcap(16, &[newfamily(), widget_reply()]);
    let text = stdout(&run_on_bytes(&f, &["-V", "--color", "never"]));
    assert!(text.contains("GENERIC cmd 1"), "{text}");
    assert!(text.contains("attr (1) bytes: 2a000000  [unknown]"), "{text}");
}

#[test]
fn a_spec_with_an_unknown_key_names_file_and_line() {
    let dir = std::env::temp_dir().join(format!("nlscope-badspec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("bad.yaml"), "name: bad\nprotocol: genetlink\ndoc: x\nattribute-sets: []\nfrobnicate: 1\n")
        .unwrap();
    let out = run_on_bytes(&netlink_pcap(16, &[newfamily()]), &["--spec-dir", dir.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("bad.yaml") && err.contains("frobnicate") && err.contains("line 5"), "{err}");
}
