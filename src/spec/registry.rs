//! Specs compiled for decoding: every reference resolved to an index at load time (a dangling
//! one is a load error naming the file), attributes indexed by number, message types by value.

use std::collections::HashMap;

use rustc_hash::FxHashMap;
use std::path::Path;
use std::sync::OnceLock;

use thiserror::Error;

use super::model::{Entry, NumOrName, SpecFile};
use crate::netlink::header::OpKind;
use crate::tree::{Known, leak_known};

#[derive(Debug, Error)]
pub enum SpecError {
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error("cannot read spec directory {dir}: {source}")]
    Io { dir: String, source: std::io::Error },
}

pub type SetId = usize;
pub type StructId = usize;
pub type EnumId = usize;
pub type SubMsgId = usize;

/// Byte order of a field when the spec fixes it; `None` means the capturing host's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Host,
    Big,
    Little,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    Mac,
    Ipv4,
    Ipv6,
    Ipv4OrV6,
    Hex,
    Uuid,
    Mpls,
    /// A negative errno (or 0) in a signed field: shown with its name and text.
    Errno,
}

/// Scalar widths and signedness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    U8,
    U16,
    U32,
    U64,
    S8,
    S16,
    S32,
    S64,
    /// `uint`/`sint`: 4 or 8 bytes.
    Uint,
    Sint,
}

impl Scalar {
    fn parse(s: &str) -> Option<Scalar> {
        Some(match s {
            "u8" => Scalar::U8,
            "u16" => Scalar::U16,
            "u32" => Scalar::U32,
            "u64" => Scalar::U64,
            "s8" => Scalar::S8,
            "s16" => Scalar::S16,
            "s32" => Scalar::S32,
            "s64" => Scalar::S64,
            "uint" => Scalar::Uint,
            "sint" => Scalar::Sint,
            _ => return None,
        })
    }

    /// Fixed width in bytes, `None` for `uint`/`sint`.
    pub fn width(self) -> Option<usize> {
        match self {
            Scalar::U8 | Scalar::S8 => Some(1),
            Scalar::U16 | Scalar::S16 => Some(2),
            Scalar::U32 | Scalar::S32 => Some(4),
            Scalar::U64 | Scalar::S64 => Some(8),
            Scalar::Uint | Scalar::Sint => None,
        }
    }

    /// The spec's name of the type (`u32`).
    pub fn name(self) -> &'static str {
        match self {
            Scalar::U8 => "u8",
            Scalar::U16 => "u16",
            Scalar::U32 => "u32",
            Scalar::U64 => "u64",
            Scalar::S8 => "s8",
            Scalar::S16 => "s16",
            Scalar::S32 => "s32",
            Scalar::S64 => "s64",
            Scalar::Uint => "uint",
            Scalar::Sint => "sint",
        }
    }

    pub fn signed(self) -> bool {
        matches!(self, Scalar::S8 | Scalar::S16 | Scalar::S32 | Scalar::S64 | Scalar::Sint)
    }
}

/// How a value's number is shown: plain, as a named constant or as flags, with a display hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Presentation {
    pub order: Order,
    pub hint: Option<Hint>,
    pub enumeration: Option<EnumId>,
    pub as_flags: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrType {
    Unused,
    Pad,
    Flag,
    Scalar(Scalar),
    String,
    /// Opaque bytes, or a struct, or an array of scalars (`sub-type: u32`) or of structs
    /// (`sub-type: struct` with `struct`); a struct may be followed by attributes
    /// (`nested-attributes`, as in VETH_INFO_PEER: an ifinfomsg, then link attributes).
    Binary {
        structure: Option<StructId>,
        sub_type: Option<Scalar>,
        struct_array: bool,
        then: Option<SetId>,
    },
    Bitfield32,
    Nest(Option<SetId>),
    IndexedArray {
        sub_type: Box<AttrType>,
    },
    NestTypeValue {
        set: Option<SetId>,
        type_value: Vec<&'static str>,
    },
    SubMessage {
        sub_message: SubMsgId,
        selector: &'static str,
        /// Where a reply finds the selector's value in its request, tried in turn
        /// (`request-selector`).
        request_selector: Vec<&'static str>,
        /// The selector value assumed when none is found (`selector-default`).
        default: Option<&'static str>,
    },
}

#[derive(Debug, Clone)]
pub struct AttrSpec {
    /// The C name shown to users (`IFLA_IFNAME`).
    pub name: &'static str,
    /// The spec's own name (`ifname`), used by selectors.
    pub spec_name: &'static str,
    /// The type as the spec writes it (`u32`, `nest`...), with the struct for binary structs
    /// (`binary (struct ifla-cacheinfo)`).
    pub kind: &'static str,
    /// `name (number) kind`, how a text tree line starts (written at once, not in pieces).
    pub line: &'static Known,
    /// The same for a sub-message attribute whose format was found (it shows as a nest).
    pub line_as_nest: Option<&'static Known>,
    pub ty: AttrType,
    pub pres: Presentation,
}

#[derive(Debug, Clone, Default)]
pub struct AttrSet {
    pub name: &'static str,
    /// Indexed by attribute number.
    pub by_type: Vec<Option<AttrSpec>>,
}

impl AttrSet {
    pub fn get(&self, ty: u16) -> Option<&AttrSpec> {
        self.by_type.get(usize::from(ty)).and_then(Option::as_ref)
    }

    /// The attribute number of the attribute with this spec name.
    pub fn type_of(&self, spec_name: &str) -> Option<u16> {
        self.by_type.iter().position(|a| a.as_ref().is_some_and(|a| a.spec_name == spec_name)).map(|p| p as u16)
    }
}

#[derive(Debug, Clone)]
pub enum MemberType {
    Scalar(Scalar),
    String(usize),
    Binary {
        len: usize,
        structure: Option<StructId>,
    },
    /// The last member as a C flexible array (`len: 0`): all the bytes left, as entries of
    /// `structure` or as bytes shown by the display hint (a list of addresses, say).
    Flexible {
        structure: Option<StructId>,
    },
    Pad(usize),
}

#[derive(Debug, Clone)]
pub struct MemberSpec {
    /// C-style field name (`ifi_family`).
    pub name: &'static str,
    pub kind: &'static str,
    /// `name kind`, how a text tree line starts.
    pub line: &'static Known,
    pub ty: MemberType,
    pub pres: Presentation,
    /// A union laid out by a sub-message format, chosen by the earlier member named here
    /// (`sub-message` and `selector` on a binary member, or on the flexible last one).
    pub select: Option<(SubMsgId, &'static str)>,
}

impl MemberSpec {
    pub fn size(&self, structs: &[StructDef]) -> usize {
        match &self.ty {
            MemberType::Scalar(s) => s.width().unwrap_or(8),
            MemberType::String(n) | MemberType::Pad(n) => *n,
            MemberType::Binary { len, structure } => {
                if *len == 0 {
                    structure.map(|s| structs[s].size).unwrap_or(0)
                } else {
                    *len
                }
            }
            MemberType::Flexible { .. } => 0,
        }
    }
}

#[derive(Debug, Clone)]
pub struct StructDef {
    pub name: &'static str,
    /// `struct <name>`, as nodes show it.
    pub kind: &'static str,
    /// `name kind`, how the text line of a struct named by its own name starts.
    pub line: &'static Known,
    pub members: Vec<MemberSpec>,
    pub size: usize,
}

#[derive(Debug, Clone)]
pub struct EnumDef {
    pub name: &'static str,
    /// (value, C name); for flags the value is the bit mask. Leaked like every spec string:
    /// flag values point at it.
    pub entries: &'static [(u64, &'static str)],
    /// The spec's own entry names (`bridge` for AF_BRIDGE), parallel to `entries`.
    pub spec_names: Vec<&'static str>,
    pub flags: bool,
    /// Every entry is negative: the enum names special values of a number (NETCONFA_IFINDEX_ALL
    /// = -1 among device indexes), and other values are plain numbers, not unknown entries.
    pub sentinels_only: bool,
}

impl EnumDef {
    pub fn name_of(&self, v: u64) -> Option<&'static str> {
        self.entries.iter().find(|e| e.0 == v).map(|e| e.1)
    }

    /// The spec's name of a value (`bridge`), as sub-message selectors use it.
    pub fn spec_name_of(&self, v: u64) -> Option<&'static str> {
        self.entries.iter().position(|e| e.0 == v).map(|i| self.spec_names[i])
    }
}

#[derive(Debug, Clone)]
pub struct SubMsgFormat {
    pub value: String,
    pub fixed_header: Option<StructId>,
    pub set: Option<SetId>,
}

#[derive(Debug, Clone)]
pub struct SubMsg {
    pub name: &'static str,
    pub formats: Vec<SubMsgFormat>,
}

#[derive(Debug, Clone)]
pub struct Op {
    /// The C name (`RTM_NEWLINK`, `CTRL_CMD_GETFAMILY`).
    pub name: &'static str,
    /// The C name of its reply where replies are numbered apart from requests
    /// (`ETHTOOL_MSG_TSINFO_GET_REPLY`); else the same as `name`.
    pub reply_name: &'static str,
    pub kind: OpKind,
    pub set: Option<SetId>,
    pub fixed_header: Option<StructId>,
}

/// One compiled spec file.
#[derive(Debug)]
pub struct Family {
    pub name: &'static str,
    pub file: String,
    /// `netlink-raw` protocol number; `None` for generic netlink families.
    pub protonum: Option<u16>,
    pub enums: Vec<EnumDef>,
    pub structs: Vec<StructDef>,
    pub sets: Vec<AttrSet>,
    pub sub_messages: Vec<SubMsg>,
    pub ops: Vec<Op>,
    /// Message type (raw) or command (generic) to the operation whose request has that value.
    pub op_by_value: FxHashMap<u16, usize>,
    /// Message type or command to the operation whose reply has that value (kernel-to-user
    /// messages use its layout).
    pub reply_op_by_value: FxHashMap<u16, usize>,
    /// Value to the event (notification) operation that uses it (`event:`/`mcgrp:` operations);
    /// multicast notifications are looked up here first, as their numbers may be reply numbers too.
    pub event_op_by_value: FxHashMap<u16, usize>,
    /// A sub-message of this spec takes its selector from the request (`request-selector`).
    pub uses_request: bool,
}

impl Family {
    pub fn op(&self, value: u16) -> Option<&Op> {
        self.op_by_value.get(&value).map(|&i| &self.ops[i])
    }

    /// The name and layout of a message with this type (raw) or command (generic). Messages to
    /// user space take the reply's layout where the spec gives one (and, in generic families
    /// that number replies apart, its name); multicast notifications take an event's first.
    pub fn resolve(&self, value: u16, to_user: bool, notification: bool) -> Option<(&'static str, &Op)> {
        let get = |m: &FxHashMap<u16, usize>| m.get(&value).map(|&i| &self.ops[i]);
        if to_user {
            if let Some(op) = get(&self.event_op_by_value).filter(|_| notification) {
                return Some((op.name, op));
            }
            if let Some(op) = get(&self.reply_op_by_value) {
                // Raw families number replies as requests (RTM_NEWLINK answers RTM_GETLINK).
                let name = match self.protonum {
                    Some(_) => get(&self.op_by_value).map_or(op.name, |o| o.name),
                    None => op.reply_name,
                };
                return Some((name, op));
            }
            if let Some(op) = get(&self.event_op_by_value) {
                return Some((op.name, op));
            }
        }
        get(&self.op_by_value).map(|op| (op.name, op))
    }
}

/// Where a spec is: built in (compiled on first use) or loaded at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Builtin(usize),
    Loaded(usize),
}

/// The specs, indexed for decoding. Built-in specs are compiled the first time a message needs
/// them (their message types are known from the build), so start-up costs nothing for families
/// a capture does not hold; threads share the registry and whichever asks first compiles.
#[derive(Debug, Default)]
pub struct Registry {
    /// Parallel to `BUILTIN_SPECS` (empty for a registry without built-in specs).
    builtin: Vec<OnceLock<Option<Family>>>,
    /// Specs loaded at run time (`--spec-dir`).
    loaded: Vec<Family>,
    /// (protocol, message type) to spec.
    raw: FxHashMap<(u16, u16), Slot>,
    genl: FxHashMap<&'static str, Slot>,
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// `ifla-` + `ifname` → `IFLA_IFNAME`.
fn c_name(prefix: Option<&str>, name: &str) -> &'static str {
    let full = match prefix {
        Some(p) => format!("{p}{name}"),
        None => return leak(name.to_string()),
    };
    leak(full.to_ascii_uppercase().replace('-', "_"))
}

include!(concat!(env!("OUT_DIR"), "/builtin_specs.rs"));

impl Registry {
    /// The specs built into the binary (parsed from YAML at build time, embedded as JSON),
    /// indexed; each is compiled when first used.
    pub fn builtin() -> Result<Registry, SpecError> {
        let mut r =
            Registry { builtin: BUILTIN_SPECS.iter().map(|_| OnceLock::new()).collect(), ..Registry::default() };
        for (i, &(_, name, protonum, types, _, _)) in BUILTIN_SPECS.iter().enumerate() {
            match protonum {
                Some(p) => {
                    for &t in types {
                        r.raw.insert((p, t), Slot::Builtin(i));
                    }
                }
                None => {
                    r.genl.insert(name, Slot::Builtin(i));
                }
            }
        }
        Ok(r)
    }

    /// Compiles every built-in spec now (a test, and a benchmark, want them all).
    pub fn compile_all(&self) -> Result<usize, SpecError> {
        for i in 0..self.builtin.len() {
            compile_builtin(i)?;
        }
        Ok(self.builtin.len())
    }

    fn get(&self, slot: Slot) -> Option<&Family> {
        match slot {
            Slot::Loaded(i) => Some(&self.loaded[i]),
            Slot::Builtin(i) => self.builtin[i]
                .get_or_init(|| match compile_builtin(i) {
                    Ok(f) => Some(f),
                    Err(e) => {
                        // Every built-in spec compiles in the tests; say so if one does not.
                        eprintln!("nlscope: built-in spec left out: {e}");
                        None
                    }
                })
                .as_ref(),
        }
    }

    /// Loads every `*.yaml` in `dir`; a spec replaces a loaded one of the same name.
    pub fn add_dir(&mut self, dir: &Path) -> Result<usize, SpecError> {
        let io = |source| SpecError::Io { dir: dir.display().to_string(), source };
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .collect();
        paths.sort();
        for p in &paths {
            let text = std::fs::read_to_string(p).map_err(io)?;
            self.add_text(&p.display().to_string(), &text)?;
        }
        Ok(paths.len())
    }

    /// Parses and compiles one spec; it replaces a built-in or loaded spec of the same name.
    pub fn add_text(&mut self, file: &str, text: &str) -> Result<(), SpecError> {
        let invalid = |message: String| SpecError::Invalid { file: file.to_string(), message };
        let spec = super::model::parse_yaml(text).map_err(|e| invalid(e.to_string()))?;
        let family = compile(file, spec).map_err(invalid)?;
        self.insert(family);
        Ok(())
    }

    fn insert(&mut self, family: Family) {
        // Drop every index entry of a spec of the same name, built in or loaded.
        let replaced = |slot: &Slot| match *slot {
            Slot::Builtin(i) => BUILTIN_SPECS[i].1 == family.name,
            Slot::Loaded(i) => self.loaded[i].name == family.name,
        };
        self.raw.retain(|_, v| !replaced(v));
        self.genl.retain(|_, v| !replaced(v));
        let slot = match self.loaded.iter().position(|f| f.name == family.name) {
            Some(old) => {
                self.loaded[old] = family;
                old
            }
            None => {
                self.loaded.push(family);
                self.loaded.len() - 1
            }
        };
        let f = &self.loaded[slot];
        match f.protonum {
            Some(proto) => {
                for &value in f.op_by_value.keys() {
                    self.raw.insert((proto, value), Slot::Loaded(slot));
                }
            }
            None => {
                self.genl.insert(f.name, Slot::Loaded(slot));
            }
        }
    }

    /// The spec describing a message type of a raw (non-generic) protocol.
    pub fn raw_family(&self, protocol: u16, ty: u16) -> Option<&Family> {
        self.get(*self.raw.get(&(protocol, ty))?)
    }

    /// A generic netlink family's spec by its name (`nlctrl`, `nl80211`).
    pub fn genl_family(&self, name: &str) -> Option<&Family> {
        self.get(*self.genl.get(name)?)
    }

    /// Calls `f` with every spec, built-in (compiled now if need be) and loaded.
    pub fn for_each_family(&self, mut f: impl FnMut(&Family)) {
        for family in &self.loaded {
            f(family);
        }
        for (i, spec) in BUILTIN_SPECS.iter().enumerate().take(self.builtin.len()) {
            if !self.loaded.iter().any(|l| l.name == spec.1)
                && let Some(family) = self.get(Slot::Builtin(i))
            {
                f(family);
            }
        }
    }

    /// A spec by its name, whatever its protocol (`connector`).
    pub fn family_named(&self, name: &str) -> Option<&Family> {
        if let Some(f) = self.loaded.iter().find(|f| f.name == name) {
            return Some(f);
        }
        let i = BUILTIN_SPECS.iter().position(|s| s.1 == name).filter(|&i| i < self.builtin.len())?;
        self.get(Slot::Builtin(i))
    }

    /// True if replies of this netlink-raw protocol may need the request they answer to be
    /// decoded (a spec of it has a `request-selector`). Compiles nothing.
    pub fn replies_need_request(&self, protocol: u16) -> bool {
        self.loaded.iter().any(|f| f.protonum == Some(protocol) && f.uses_request)
            || BUILTIN_SPECS
                .iter()
                .take(self.builtin.len())
                .any(|s| s.2 == Some(protocol) && s.5 && !self.loaded.iter().any(|f| f.name == s.1))
    }

    /// The specs of a netlink-raw protocol, loaded ones first (each compiled as it is reached).
    pub fn raw_families(&self, protocol: u16) -> impl Iterator<Item = &Family> {
        let loaded = self.loaded.iter().filter(move |f| f.protonum == Some(protocol));
        let builtin = (0..self.builtin.len())
            .filter(move |&i| {
                BUILTIN_SPECS[i].2 == Some(protocol) && !self.loaded.iter().any(|f| f.name == BUILTIN_SPECS[i].1)
            })
            .filter_map(|i| self.get(Slot::Builtin(i)));
        loaded.chain(builtin)
    }
}

/// Compiles built-in spec `i`.
fn compile_builtin(i: usize) -> Result<Family, SpecError> {
    let (file, _, _, _, json, _) = BUILTIN_SPECS[i];
    let invalid = |message: String| SpecError::Invalid { file: file.to_string(), message };
    let spec: SpecFile = serde_json::from_str(json).map_err(|e| invalid(e.to_string()))?;
    compile(file, spec).map_err(invalid)
}

fn num(v: &NumOrName, consts: &HashMap<String, i64>) -> Result<i64, String> {
    match v {
        NumOrName::Num(n) => Ok(*n),
        NumOrName::Name(s) => {
            let (base, minus_one) = match s.strip_suffix(" - 1") {
                Some(b) => (b.trim(), 1),
                None => (s.as_str(), 0),
            };
            consts
                .get(base)
                .map(|v| v - minus_one)
                .or_else(|| base.parse().ok())
                .ok_or_else(|| format!("unknown constant `{s}`"))
        }
    }
}

fn presentation(
    byte_order: Option<&str>,
    hint: Option<&str>,
    enumeration: Option<&str>,
    as_flags: Option<bool>,
    enums: &HashMap<String, EnumId>,
    enum_defs: &[EnumDef],
    owner: &str,
) -> Result<Presentation, String> {
    let order = match byte_order {
        None => Order::Host,
        Some("big-endian") => Order::Big,
        Some("little-endian") => Order::Little,
        Some(o) => return Err(format!("{owner}: unknown byte-order `{o}`")),
    };
    let hint = match hint {
        None => None,
        Some("mac") | Some("fddi") => Some(Hint::Mac),
        Some("ipv4") => Some(Hint::Ipv4),
        Some("ipv6") => Some(Hint::Ipv6),
        Some("ipv4-or-v6") => Some(Hint::Ipv4OrV6),
        Some("hex") => Some(Hint::Hex),
        Some("uuid") => Some(Hint::Uuid),
        // nlscope's own: an MPLS label stack (32-bit big-endian entries).
        Some("mpls") => Some(Hint::Mpls),
        Some("errno") => Some(Hint::Errno),
        Some(h) => return Err(format!("{owner}: unknown display-hint `{h}`")),
    };
    let enumeration = match enumeration {
        None => None,
        Some(e) => Some(*enums.get(e).ok_or_else(|| format!("{owner}: enum `{e}` is not defined"))?),
    };
    let as_flags = as_flags.unwrap_or(false) || enumeration.is_some_and(|e| enum_defs[e].flags);
    Ok(Presentation { order, hint, enumeration, as_flags })
}

/// Compiles a parsed spec, resolving every name.
fn compile(file: &str, spec: SpecFile) -> Result<Family, String> {
    let family_name = leak(spec.name.clone());
    let uses_request = spec.uses_request();
    let protonum = match spec.protocol.as_deref() {
        Some("netlink-raw") => Some(spec.protonum.ok_or("`protocol: netlink-raw` needs `protonum`")?),
        None | Some("genetlink") | Some("genetlink-c") | Some("genetlink-legacy") => None,
        Some(p) => return Err(format!("unknown protocol `{p}`")),
    };

    // Definitions: consts first (others may use them), then enums/flags, then structs.
    let mut consts: HashMap<String, i64> = HashMap::new();
    for d in spec.definitions.iter().filter(|d| d.ty == "const") {
        let v = d.value.as_ref().ok_or_else(|| format!("const `{}` has no value", d.name))?;
        let v = num(v, &consts)?;
        consts.insert(d.name.clone(), v);
    }
    let mut enum_ids: HashMap<String, EnumId> = HashMap::new();
    let mut enums = Vec::new();
    for d in spec.definitions.iter().filter(|d| d.ty == "enum" || d.ty == "flags") {
        let flags = d.ty == "flags";
        let prefix = d.name_prefix.clone().unwrap_or_else(|| format!("{}-{}-", spec.name, d.name));
        let mut next = match &d.value_start {
            Some(v) => num(v, &consts)?,
            None => 0,
        };
        let mut entries = Vec::new();
        let mut spec_names = Vec::new();
        for e in &d.entries {
            let (name, value) = match e {
                Entry::Name(n) => (n.as_str(), None),
                Entry::Full(f) => (f.name.as_str(), f.value),
            };
            let v = value.unwrap_or(next);
            next = v + 1;
            let raw = if flags {
                if !(0..64).contains(&v) {
                    return Err(format!("flags `{}`: bit {v} of `{name}` is out of range", d.name));
                }
                1u64 << v
            } else {
                v as u64
            };
            entries.push((raw, c_name(Some(&prefix), name)));
            spec_names.push(leak(name.to_string()));
        }
        enum_ids.insert(d.name.clone(), enums.len());
        let entries: &'static [(u64, &'static str)] = Box::leak(entries.into_boxed_slice());
        let sentinels_only = !flags && !entries.is_empty() && entries.iter().all(|e| (e.0 as i64) < 0);
        enums.push(EnumDef { name: leak(d.name.clone()), entries, spec_names, flags, sentinels_only });
    }
    // Structs may nest other structs: resolve names to ids first, then compile in order.
    let struct_defs: Vec<_> = spec.definitions.iter().filter(|d| d.ty == "struct").collect();
    let struct_ids: HashMap<String, StructId> =
        struct_defs.iter().enumerate().map(|(i, d)| (d.name.clone(), i)).collect();
    let sub_ids: HashMap<String, SubMsgId> =
        spec.sub_messages.iter().enumerate().map(|(i, s)| (s.name.clone(), i)).collect();
    let mut structs: Vec<StructDef> = Vec::new();
    for d in &struct_defs {
        let mut members = Vec::new();
        for m in &d.members {
            let owner = format!("struct `{}` member `{}`", d.name, m.name);
            let len = m.len.as_ref().map(|l| num(l, &consts)).transpose()?.map(|l| l as usize);
            let ty = match m.ty.as_str() {
                "pad" => MemberType::Pad(len.ok_or_else(|| format!("{owner}: pad needs len"))?),
                "string" => MemberType::String(len.ok_or_else(|| format!("{owner}: string needs len"))?),
                "binary" => {
                    let structure = match &m.r#struct {
                        Some(s) => {
                            Some(*struct_ids.get(s).ok_or_else(|| format!("{owner}: struct `{s}` is not defined"))?)
                        }
                        None => None,
                    };
                    if len.is_none() && structure.is_none() {
                        return Err(format!("{owner}: binary needs len or struct"));
                    }
                    if len == Some(0) {
                        if !std::ptr::eq(m, d.members.last().expect("m is a member")) {
                            return Err(format!("{owner}: only the last member can be a flexible array (len 0)"));
                        }
                        MemberType::Flexible { structure }
                    } else {
                        MemberType::Binary { len: len.unwrap_or(0), structure }
                    }
                }
                other => MemberType::Scalar(
                    Scalar::parse(other).ok_or_else(|| format!("{owner}: unknown member type `{other}`"))?,
                ),
            };
            let pres = presentation(
                m.byte_order.as_deref(),
                m.display_hint.as_deref(),
                m.r#enum.as_deref(),
                m.enum_as_flags,
                &enum_ids,
                &enums,
                &owner,
            )?;
            let select = match (&m.sub_message, &m.selector) {
                (None, None) => None,
                (Some(sm), Some(sel))
                    if matches!(
                        ty,
                        MemberType::Binary { len: 1.., structure: None } | MemberType::Flexible { structure: None }
                    ) =>
                {
                    let sm = *sub_ids.get(sm).ok_or_else(|| format!("{owner}: sub-message `{sm}` is not defined"))?;
                    let sel = sel.replace('-', "_");
                    if !members.iter().any(|p: &MemberSpec| p.name == sel && matches!(p.ty, MemberType::Scalar(_))) {
                        return Err(format!("{owner}: selector `{sel}` is no earlier scalar member"));
                    }
                    Some((sm, leak(sel)))
                }
                _ => {
                    return Err(format!(
                        "{owner}: sub-message and selector go together, on a binary member with len (or the last, len 0)"
                    ));
                }
            };
            let (name, kind) = (m.name.replace('-', "_"), m.ty.clone());
            let line = leak_known(&format!("{name} {kind}"), &name, None);
            members.push(MemberSpec { name: leak(name), kind: leak(kind), line, ty, pres, select });
        }
        // Shown as C names: `if-stats-msg` is `struct if_stats_msg`.
        let c_struct = d.name.replace('-', "_");
        structs.push(StructDef {
            kind: leak(format!("struct {c_struct}")),
            line: leak_known(&format!("{c_struct} struct {c_struct}"), &c_struct, None),
            name: leak(c_struct),
            members,
            size: 0,
        });
    }
    // Sizes, innermost first (a struct can only contain structs defined without cycles).
    for _ in 0..structs.len() {
        for i in 0..structs.len() {
            let size = structs[i].members.iter().map(|m| m.size(&structs)).sum();
            structs[i].size = size;
        }
    }
    for d in spec.definitions.iter() {
        if !matches!(d.ty.as_str(), "const" | "enum" | "flags" | "struct") {
            return Err(format!("definition `{}` has unknown type `{}`", d.name, d.ty));
        }
    }

    // Attribute sets: ids first, so nests can refer to sets defined later.
    let set_ids: HashMap<String, SetId> =
        spec.attribute_sets.iter().enumerate().map(|(i, s)| (s.name.clone(), i)).collect();
    let mut sets = Vec::new();
    for s in &spec.attribute_sets {
        let parent = match &s.subset_of {
            Some(p) => Some(
                spec.attribute_sets
                    .iter()
                    .find(|x| &x.name == p)
                    .ok_or_else(|| format!("attribute set `{}`: subset-of `{p}` is not defined", s.name))?,
            ),
            None => None,
        };
        let prefix = parent
            .map(|p| p.name_prefix.clone().unwrap_or_else(|| format!("{}-a-{}-", spec.name, p.name)))
            .unwrap_or_else(|| s.name_prefix.clone().unwrap_or_else(|| format!("{}-a-{}-", spec.name, s.name)));
        let mut set = AttrSet { name: leak(s.name.clone()), by_type: Vec::new() };
        let mut next: u16 = 1;
        for a in &s.attributes {
            let owner = format!("attribute set `{}` attribute `{}`", s.name, a.name);
            // Subsets take number and type from the full set.
            let full = parent.and_then(|p| {
                let mut n = 1;
                p.attributes.iter().find_map(|x| {
                    let v = x.value.unwrap_or(n);
                    n = v + 1;
                    (x.name == a.name).then_some((x, v))
                })
            });
            let (def, value) = match full {
                Some((x, v)) => (x, a.value.unwrap_or(v)),
                None if parent.is_some() => {
                    return Err(format!("{owner}: not in the set it is a subset of"));
                }
                None => (a, a.value.unwrap_or(next)),
            };
            next = value.checked_add(1).ok_or_else(|| format!("{owner}: value out of range"))?;
            let kind = def.ty.clone().ok_or_else(|| format!("{owner}: no type"))?;
            let nested = |n: &Option<String>| -> Result<Option<SetId>, String> {
                match n {
                    Some(n) => {
                        Ok(Some(*set_ids.get(n).ok_or_else(|| format!("{owner}: attribute set `{n}` is not defined"))?))
                    }
                    None => Ok(None),
                }
            };
            let structure = match &def.r#struct {
                Some(st) => Some(*struct_ids.get(st).ok_or_else(|| format!("{owner}: struct `{st}` is not defined"))?),
                None => None,
            };
            let sub_scalar = def.sub_type.as_deref().and_then(Scalar::parse);
            if (!def.request_selector.is_empty() || def.selector_default.is_some()) && kind != "sub-message" {
                return Err(format!("{owner}: request-selector and selector-default are for sub-message attributes"));
            }
            let ty = match kind.as_str() {
                "unused" => AttrType::Unused,
                "pad" => AttrType::Pad,
                "flag" => AttrType::Flag,
                "string" => AttrType::String,
                "binary" => AttrType::Binary {
                    structure,
                    sub_type: sub_scalar,
                    struct_array: structure.is_some() && def.sub_type.as_deref() == Some("struct"),
                    then: if structure.is_some() { nested(&def.nested_attributes)? } else { None },
                },
                "bitfield32" => AttrType::Bitfield32,
                "nest" => AttrType::Nest(nested(&def.nested_attributes)?),
                "indexed-array" => {
                    let sub =
                        def.sub_type.as_deref().ok_or_else(|| format!("{owner}: indexed-array needs sub-type"))?;
                    let sub_type = match sub {
                        "nest" => AttrType::Nest(nested(&def.nested_attributes)?),
                        "binary" => AttrType::Binary { structure, sub_type: None, struct_array: false, then: None },
                        s => AttrType::Scalar(
                            Scalar::parse(s).ok_or_else(|| format!("{owner}: unknown sub-type `{s}`"))?,
                        ),
                    };
                    AttrType::IndexedArray { sub_type: Box::new(sub_type) }
                }
                "nest-type-value" => AttrType::NestTypeValue {
                    set: nested(&def.nested_attributes)?,
                    type_value: def.type_value.iter().map(|t| leak(t.clone())).collect(),
                },
                "sub-message" => {
                    let sm =
                        def.sub_message.as_ref().ok_or_else(|| format!("{owner}: sub-message needs sub-message"))?;
                    let selector =
                        def.selector.as_ref().ok_or_else(|| format!("{owner}: sub-message needs selector"))?;
                    AttrType::SubMessage {
                        sub_message: *sub_ids
                            .get(sm)
                            .ok_or_else(|| format!("{owner}: sub-message `{sm}` is not defined"))?,
                        selector: leak(selector.clone()),
                        request_selector: def.request_selector.iter().map(|r| leak(r.clone())).collect(),
                        default: def.selector_default.clone().map(leak),
                    }
                }
                other => {
                    AttrType::Scalar(Scalar::parse(other).ok_or_else(|| format!("{owner}: unknown type `{other}`"))?)
                }
            };
            let pres = presentation(
                def.byte_order.as_deref(),
                def.display_hint.as_deref(),
                def.r#enum.as_deref(),
                def.enum_as_flags,
                &enum_ids,
                &enums,
                &owner,
            )?;
            let idx = usize::from(value);
            if set.by_type.len() <= idx {
                set.by_type.resize(idx + 1, None);
            }
            if let Some(prev) = &set.by_type[idx] {
                return Err(format!("{owner}: value {value} is already used by `{}`", prev.spec_name));
            }
            let kind = match structure {
                Some(s) if kind == "binary" && def.sub_type.as_deref() == Some("struct") => {
                    format!("binary (array of {})", structs[s].kind)
                }
                Some(s) if kind == "binary" => format!("binary ({})", structs[s].kind),
                _ => kind,
            };
            let name = c_name(Some(&prefix), &def.name);
            let spec_name = leak(a.name.clone());
            // What a sub-message's chosen format shows as: a nest.
            let as_nest = matches!(ty, AttrType::SubMessage { .. })
                .then(|| leak_known(&format!("{name} ({value}) nest"), name, Some(spec_name)));
            set.by_type[idx] = Some(AttrSpec {
                name,
                spec_name,
                line: leak_known(&format!("{name} ({value}) {kind}"), name, Some(spec_name)),
                line_as_nest: as_nest,
                kind: leak(kind),
                ty,
                pres,
            });
        }
        sets.push(set);
    }

    let mut sub_messages = Vec::new();
    for s in &spec.sub_messages {
        let mut formats = Vec::new();
        for f in &s.formats {
            let owner = format!("sub-message `{}`", s.name);
            let value = match &f.value {
                NumOrName::Num(n) => n.to_string(),
                NumOrName::Name(n) => n.clone(),
            };
            let fixed_header = match &f.fixed_header {
                Some(h) => Some(*struct_ids.get(h).ok_or_else(|| format!("{owner}: struct `{h}` is not defined"))?),
                None => None,
            };
            let set = match &f.attribute_set {
                Some(a) => Some(*set_ids.get(a).ok_or_else(|| format!("{owner}: attribute set `{a}` is not defined"))?),
                None => None,
            };
            formats.push(SubMsgFormat { value, fixed_header, set });
        }
        sub_messages.push(SubMsg { name: leak(s.name.clone()), formats });
    }

    let mut ops = Vec::new();
    let mut op_by_value = FxHashMap::default();
    let mut reply_op_by_value = FxHashMap::default();
    let mut event_op_by_value = FxHashMap::default();
    if let Some(o) = &spec.operations {
        let prefix = o.name_prefix.clone().unwrap_or_else(|| format!("{}-cmd-", spec.name));
        let directional = o.enum_model.as_deref() == Some("directional");
        let default_header = match &o.fixed_header {
            Some(h) => Some(*struct_ids.get(h).ok_or_else(|| format!("operations: struct `{h}` is not defined"))?),
            None => None,
        };
        let mut next_req: u16 = 1;
        for op in &o.list {
            let owner = format!("operation `{}`", op.name);
            let set = match &op.attribute_set {
                Some(a) => Some(*set_ids.get(a).ok_or_else(|| format!("{owner}: attribute set `{a}` is not defined"))?),
                None => None,
            };
            let fixed_header = match &op.fixed_header {
                Some(h) => Some(*struct_ids.get(h).ok_or_else(|| format!("{owner}: struct `{h}` is not defined"))?),
                None => default_header,
            };
            let idx = ops.len();
            let subops = [&op.r#do, &op.dump];
            let mut requests: Vec<u16> = subops.iter().filter_map(|s| s.as_ref()?.request.as_ref()?.value).collect();
            let replies: Vec<u16> = subops.iter().filter_map(|s| s.as_ref()?.reply.as_ref()?.value).collect();
            let name = c_name(Some(&prefix), &op.name);
            // ETHTOOL_MSG_TSINFO_GET (25) is answered by ETHTOOL_MSG_TSINFO_GET_REPLY (26); a
            // reply under the request's own number keeps the request's name.
            let reply_name = if protonum.is_none() && replies.iter().any(|r| !requests.contains(r)) {
                leak(format!("{name}_REPLY"))
            } else {
                name
            };
            ops.push(Op { name, reply_name, kind: OpKind::from_op_name(&op.name), set, fixed_header });
            let is_event = op.event.is_some() || op.mcgrp.is_some();
            if let Some(v) = op.value {
                requests.push(v);
            }
            if requests.is_empty() && !directional {
                requests.push(next_req);
            }
            if let Some(&last) = requests.iter().max() {
                next_req = last.saturating_add(1);
            }
            for v in requests {
                op_by_value.insert(v, idx);
            }
            for v in replies {
                if is_event {
                    event_op_by_value.insert(v, idx);
                } else {
                    reply_op_by_value.insert(v, idx);
                }
            }
        }
    }
    // In raw families a value that only ever appears as a reply is still named by its operation.
    if protonum.is_some() {
        for (&v, &idx) in reply_op_by_value.iter().chain(&event_op_by_value) {
            op_by_value.entry(v).or_insert(idx);
        }
    }
    Ok(Family {
        name: family_name,
        file: file.to_string(),
        protonum,
        enums,
        structs,
        sets,
        sub_messages,
        ops,
        op_by_value,
        reply_op_by_value,
        event_op_by_value,
        uses_request,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_types_are_what_the_registry_indexes() {
        for &(file, _, protonum, types, json, uses_request) in BUILTIN_SPECS {
            let spec: SpecFile = serde_json::from_str(json).unwrap();
            assert_eq!(spec.uses_request(), uses_request, "{file}");
            let family = compile(file, spec).unwrap();
            assert_eq!(family.uses_request, uses_request, "{file}");
            if protonum.is_some() {
                let mut indexed: Vec<u16> = family.op_by_value.keys().copied().collect();
                indexed.sort_unstable();
                assert_eq!(indexed, types, "{file}");
            }
        }
    }

    #[test]
    fn builtin_specs_load() {
        let r = Registry::builtin().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.compile_all().unwrap_or_else(|e| panic!("{e}")), BUILTIN_SPECS.len());
        let f = r.raw_family(0, 16).expect("RTM_NEWLINK");
        assert_eq!(f.op(16).unwrap().name, "RTM_NEWLINK");
    }
}
