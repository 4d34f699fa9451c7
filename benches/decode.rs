//! Decoding throughput: frames of a real rtnetlink dump through the full decoder (spec engine
//! included), and the `-V` text rendering of them. Uses ../shared's big route dump when present,
//! else the bundled address capture.

use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nlscope::capture::{self, Frame};
use nlscope::decode::Decoder;
use nlscope::render::text::{Style, write_tree};
use nlscope::spec::Registry;

fn frames() -> Vec<Frame> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let big = root.join("../shared/captures/real/rtnl_route_dump_big.pcap");
    let path = if big.exists() { big } else { root.join("captures/rtnl_addr.pcap") };
    capture::open(&path).unwrap().collect::<Result<_, _>>().unwrap()
}

fn bench(c: &mut Criterion) {
    let frames = frames();
    let registry = Registry::builtin().unwrap();
    let bytes: usize = frames.iter().map(|f| f.data.len()).sum();
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.sample_size(10);
    g.bench_function("decode_frames", |b| {
        b.iter(|| {
            let mut d = Decoder::new(&registry);
            frames.iter().map(|f| d.decode_frame(f).messages.len()).sum::<usize>()
        })
    });
    g.bench_function("decode_and_render_tree", |b| {
        let mut out = Vec::with_capacity(64 << 20);
        b.iter(|| {
            out.clear();
            let mut d = Decoder::new(&registry);
            for f in &frames {
                for m in d.decode_frame(f).messages {
                    write_tree(&mut out, &m, Style { color: false });
                }
            }
            out.len()
        })
    });
    g.finish();
    c.bench_function("load_builtin_specs", |b| b.iter(|| Registry::builtin().unwrap().families().len()));
}

criterion_group!(benches, bench);
criterion_main!(benches);
