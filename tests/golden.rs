//! Golden snapshots of the `-V` text and the JSON Lines of every capture in `captures/`.
//! A change in output shows up as a snapshot diff to read, not to accept blindly.

mod common;

use common::*;

fn captures() -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    let mut v: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    v.retain(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"));
    v.sort();
    v
}

#[test]
fn every_capture_text_and_json() {
    let files = captures();
    assert!(files.len() >= 5, "captures/ holds the bundled captures");
    for f in files {
        let name = f.file_stem().unwrap().to_string_lossy().into_owned();
        let text = bin().arg("-r").arg(&f).args(["-V", "--color", "never"]).output().unwrap();
        assert!(text.status.success(), "{name}: {}", stderr(&text));
        insta::assert_snapshot!(format!("{name}.text"), stdout(&text));
        let json = bin().arg("-r").arg(&f).args(["-T", "json"]).output().unwrap();
        assert!(json.status.success(), "{name}: {}", stderr(&json));
        // Every line is one JSON object with the contract's keys.
        for line in stdout(&json).lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            for key in [
                "frame",
                "index",
                "time",
                "protocol",
                "family",
                "type",
                "flags",
                "seq",
                "pid",
                "len",
                "direction",
                "body",
            ] {
                assert!(v.get(key).is_some(), "{name}: no `{key}` in {line}");
            }
        }
        insta::assert_snapshot!(format!("{name}.json"), stdout(&json));
    }
}
