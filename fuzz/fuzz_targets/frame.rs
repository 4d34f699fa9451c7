//! Fuzzes the whole read-and-decode path: the input is a capture file (pcap or pcapng); every
//! frame is decoded and rendered. Any panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nlscope::capture::CaptureReader;
use nlscope::decode::Decoder;
use nlscope::render::{json, text};
use nlscope::spec::Registry;
use std::sync::OnceLock;

static REGISTRY: OnceLock<Registry> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let registry = REGISTRY.get_or_init(|| Registry::builtin().unwrap());
    let Ok(reader) = CaptureReader::new("fuzz".into(), Box::new(std::io::Cursor::new(data.to_vec()))) else {
        return;
    };
    let mut decoder = Decoder::new(registry);
    let mut out = Vec::new();
    for frame in reader.flatten() {
        for m in decoder.decode_frame(&frame).messages {
            out.clear();
            text::write_tree(&mut out, &m, text::Style { color: false });
            text::write_summary(&mut out, &m, Default::default(), frame.timestamp, text::Style { color: true });
            json::write_message(&mut out, &m, Default::default());
        }
    }
});
