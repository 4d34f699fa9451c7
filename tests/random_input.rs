//! Deterministic random and mutated inputs through the reader, decoder and renderers: nothing may
//! panic. (The cargo-fuzz target in fuzz/ does the same with coverage guidance.)

mod common;

use common::*;
use nlscope::capture::CaptureReader;
use nlscope::decode::Decoder;
use nlscope::render::{json, text};
use nlscope::spec::Registry;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn run(reg: &Registry, bytes: Vec<u8>) -> usize {
    let Ok(reader) = CaptureReader::new("t".into(), Box::new(std::io::Cursor::new(bytes))) else { return 0 };
    let mut d = Decoder::new(reg);
    let mut n = 0;
    for frame in reader.flatten() {
        for m in d.decode_frame(&frame).messages {
            let mut out = Vec::new();
            text::write_tree(&mut out, &m, text::Style { color: false });
            json::write_message(&mut out, &m, Default::default());
            n += 1;
        }
    }
    n
}

#[test]
fn mutated_real_capture_never_panics() {
    let reg = Registry::builtin().unwrap();
    let base = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/captures/errors_extack.pcap")).unwrap();
    assert!(run(&reg, base.clone()) > 100);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..300 {
        let mut b = base.clone();
        for _ in 0..(rng.next() % 64 + 1) {
            let i = 24 + (rng.next() as usize % (b.len() - 24));
            b[i] = rng.next() as u8;
        }
        run(&reg, b);
    }
}

#[test]
fn random_payloads_in_every_protocol_never_panic() {
    let reg = Registry::builtin().unwrap();
    let mut rng = Rng(42);
    for proto in 0..23u16 {
        let frames: Vec<Vec<u8>> = (0..50)
            .map(|_| {
                let len = (rng.next() % 300) as usize;
                let mut p: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                if p.len() >= 16 && rng.next().is_multiple_of(2) {
                    // A plausible header so that bodies get decoded.
                    let ty = [16u16, 20, 24, 28, 2, 3, 0x10, 0x30, 0xa00, 1000][(rng.next() % 10) as usize];
                    p[0..4].copy_from_slice(&(len as u32).to_le_bytes());
                    p[4..6].copy_from_slice(&ty.to_le_bytes());
                }
                p
            })
            .collect();
        run(&reg, netlink_pcap(proto, &frames));
    }
}
