//! Compiles every spec in `dissectors/` into the binary. Each YAML file is parsed here with the
//! same schema types the program uses (`src/spec/model.rs`), so a spec with an unknown key or a
//! wrong type fails the build with its file and line; what is embedded is the parsed spec as JSON,
//! which loads at start-up many times faster than YAML.

use std::fs;
use std::path::Path;

#[allow(dead_code)]
#[path = "src/spec/model.rs"]
mod model;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("dissectors");
    let out_dir = std::env::var("OUT_DIR").unwrap();
    println!("cargo:rerun-if-changed={}", dir.display());
    println!("cargo:rerun-if-changed=src/spec/model.rs");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .expect("dissectors/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let mut out = String::from(
        "/// Every spec file of `dissectors/`, parsed at build time: (file name, spec as JSON).\n\
         /// With each: the spec's name, its netlink-raw protocol number (None: generic netlink), and\n\
         /// the message types it describes (netlink-raw specs), by which the registry finds it, and\n\
         /// whether its replies need their request (`request-selector`).\n\
         #[allow(clippy::type_complexity)]\n\
         const BUILTIN_SPECS: &[(&str, &str, Option<u16>, &[u16], &str, bool)] = &[\n",
    );
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let text = fs::read_to_string(f).unwrap();
        let spec: model::SpecFile = model::parse_yaml(&text).unwrap_or_else(|e| panic!("dissectors/{name}: {e}"));
        let json_path = Path::new(&out_dir).join(format!("{name}.json"));
        // Documentation and absent keys are for readers of the YAML: leave them out of the binary.
        let mut value = serde_json::to_value(&spec).unwrap();
        strip(&mut value);
        fs::write(&json_path, serde_json::to_string(&value).unwrap()).unwrap();
        let protonum = if spec.protocol.as_deref() == Some("netlink-raw") { spec.protonum } else { None };
        let types = if protonum.is_some() { spec.message_types() } else { Vec::new() };
        out.push_str(&format!(
            "    ({name:?}, {:?}, {protonum:?}, &{types:?}, include_str!({:?}), {}),\n",
            spec.name,
            json_path.display().to_string(),
            spec.uses_request()
        ));
    }
    out.push_str("];\n");
    fs::write(Path::new(&out_dir).join("builtin_specs.rs"), out).unwrap();
}

/// Removes `doc` keys and nulls, which decoding never reads.
fn strip(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            m.retain(|k, v| k != "doc" && !v.is_null());
            m.values_mut().for_each(strip);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
        _ => {}
    }
}
