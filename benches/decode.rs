//! Decoding throughput on a real rtnetlink dump (../shared's big route dump when present, else
//! the bundled address capture): the decoder alone (spec engine included), decoding with the
//! `-V` text rendering on one thread, the whole headless `-V` run (first pass, then decoding and
//! rendering on every core) into a sink that keeps nothing, the terminal UI's indexing and first
//! screen, and compiling every built-in spec.

use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nlscope::capture::{self, Frame};
use nlscope::decode::Decoder;
use nlscope::filter::Filter;
use nlscope::first_pass;
use nlscope::headless::{self, Format, Options, Sink};
use nlscope::render::text::{Style, write_tree};
use nlscope::spec::Registry;
use nlscope::tui::App;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn capture_path() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let big = root.join("../shared/captures/real/rtnl_route_dump_big.pcap");
    if big.exists() { big } else { root.join("captures/rtnl_addr.pcap") }
}

fn bench(c: &mut Criterion) {
    let path = capture_path();
    let frames: Vec<Frame> = capture::open(&path).unwrap().collect::<Result<_, _>>().unwrap();
    let registry = Registry::builtin().unwrap();
    let bytes: usize = frames.iter().map(|f| f.data.len()).sum();
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.sample_size(10);
    g.bench_function("decode_frames", |b| {
        b.iter(|| {
            let mut d = Decoder::new(&registry);
            frames.iter().map(|f| d.stream_frame(f, &[], |_, _| true).messages).sum::<usize>()
        })
    });
    g.bench_function("decode_and_render_tree", |b| {
        let mut out = Vec::with_capacity(64 << 20);
        b.iter(|| {
            out.clear();
            let mut d = Decoder::new(&registry);
            for f in &frames {
                d.stream_frame(f, &[], |_, m| {
                    write_tree(&mut out, m, Style { color: false });
                    true
                });
            }
            out.len()
        })
    });
    g.bench_function("headless_verbose_all_cores", |b| {
        let opts = Options {
            format: Format::Text,
            verbose: true,
            hex: false,
            quiet: false,
            style: Style { color: false },
            stats: false,
            failures: false,
            looked_ahead: true,
        };
        b.iter(|| {
            let registry = Registry::builtin().unwrap();
            let scan = first_pass::scan(&path, &[]).unwrap();
            let decoder = Decoder::with_families(&registry, scan.families);
            // Into a sink that keeps nothing, as `> /dev/null` does.
            let mut sink = Sink { out: std::io::sink(), flush_each_frame: false };
            headless::run(capture::open(&path).unwrap(), decoder, scan.ahead, opts, None, None, &mut sink).unwrap()
        })
    });
    g.bench_function("decode_and_filter", |b| {
        let filter = Filter::compile_for(
            r#"RTA_DST in 10.0.0.0/8 and (type == RTM_NEWROUTE or linkinfo.kind == "dummy") and not error"#,
            &registry,
        )
        .unwrap();
        let link = Default::default();
        b.iter(|| {
            let mut d = Decoder::new(&registry);
            let mut passed = 0;
            for f in &frames {
                d.stream_frame(f, &[], |_, m| {
                    passed += usize::from(filter.matches(m, &link, f.timestamp));
                    true
                });
            }
            passed
        })
    });
    // The terminal UI on the same capture: indexing every frame as it arrives (one decode per
    // frame into rows), then drawing the first screen at 150x45.
    g.bench_function("tui_index_and_first_screen", |b| {
        b.iter(|| {
            let mut app = App::new(Decoder::new(&registry), "bench".into(), false);
            for f in &frames {
                app.push_frame(f.clone());
            }
            app.loading = false;
            let mut t = Terminal::new(TestBackend::new(150, 45)).unwrap();
            t.draw(|f| nlscope::tui::view::draw(f, &mut app)).unwrap();
            app.store.len()
        })
    });
    g.finish();
    c.bench_function("compile_every_builtin_spec", |b| b.iter(|| Registry::builtin().unwrap().compile_all().unwrap()));
}

criterion_group!(benches, bench);
criterion_main!(benches);
