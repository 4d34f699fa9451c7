//! Every name a filter may use, gathered from the specs: attribute and struct member names (C
//! names and the specs' short names), the values their enums and flags name, family names, and
//! the fixed words (errno names, directions, protocols). Compiling a filter checks its names
//! here, so that a misspelt one is an error with a suggestion instead of a filter that never
//! matches.

use std::collections::{BTreeMap, BTreeSet};

use crate::netlink::protocol;
use crate::spec::registry::{AttrType, MemberType, Scalar};
use crate::spec::{Family, Registry};

const UEVENT_KEYS: &[&str] = &[
    "ACTION",
    "DEVPATH",
    "SUBSYSTEM",
    "SEQNUM",
    "DEVNAME",
    "DEVTYPE",
    "DRIVER",
    "MAJOR",
    "MINOR",
    "MODALIAS",
    "INTERFACE",
    "IFINDEX",
    "PRODUCT",
    "TYPE",
    "SYNTH_UUID",
];

/// What kinds of value a field holds, as bits (a name may hold several across specs).
pub mod class {
    pub const NUMBER: u16 = 1;
    pub const STRING: u16 = 2;
    pub const ADDRESS: u16 = 4;
    pub const MAC: u16 = 8;
    pub const ENUM: u16 = 16;
    pub const FLAGS: u16 = 32;
    pub const BYTES: u16 = 64;
    pub const NEST: u16 = 128;
    pub const FLAG: u16 = 256;
}

/// What the specs say about one field name.
#[derive(Debug, Default, Clone)]
pub struct FieldInfo {
    pub classes: u16,
    /// Names its enums and flag sets give values.
    pub values: BTreeSet<&'static str>,
}

/// The names a filter can use.
#[derive(Debug, Default)]
pub struct Names {
    /// C names of attributes and struct members.
    pub fields: BTreeMap<&'static str, FieldInfo>,
    /// A spec's short name of an attribute, per family: the C names it stands for.
    pub short: BTreeMap<String, BTreeMap<&'static str, BTreeSet<&'static str>>>,
    /// Every value name any enum or flag set has, message type names, and the fixed words.
    pub values: BTreeSet<String>,
    /// Family (spec) names and protocol names, which can start a path (`nl80211.NL80211_ATTR_SSID`).
    pub families: BTreeSet<String>,
}

impl Names {
    /// Everything the registry's specs name (every built-in spec is compiled for it).
    pub fn gather(registry: &Registry) -> Names {
        let mut n = Names::default();
        registry.for_each_family(|f| n.add_family(f));
        for (num, _) in protocol::all() {
            if let Some(name) = protocol::lower_name(num) {
                n.families.insert(name.to_string());
                n.values.insert(name.to_string());
                n.values.insert(name.to_ascii_uppercase());
            }
        }
        for (_, name) in crate::netlink::errno::all() {
            n.values.insert(name.to_string());
        }
        for w in ["to-kernel", "to-user", "unknown"] {
            n.values.insert(w.to_string());
        }
        for f in crate::netlink::header::ALL_FLAG_NAMES {
            n.values.insert(f.to_string());
        }
        for t in ["NLMSG_NOOP", "NLMSG_ERROR", "NLMSG_DONE", "NLMSG_OVERRUN"] {
            n.values.insert(t.to_string());
        }
        // The kobject uevent keys every device event has (any other works after
        // `kobject_uevent.`).
        for key in UEVENT_KEYS {
            n.fields.entry(key).or_default().classes |= class::STRING | class::NUMBER;
        }
        n
    }

    fn add_family(&mut self, f: &Family) {
        self.families.insert(f.name.to_string());
        self.values.insert(f.name.to_string());
        for op in &f.ops {
            self.values.insert(op.name.to_string());
            self.values.insert(op.reply_name.to_string());
        }
        for e in &f.enums {
            for &(_, name) in e.entries {
                self.values.insert(name.to_string());
            }
        }
        let enum_values = |pres: &crate::spec::registry::Presentation| -> (u16, BTreeSet<&'static str>) {
            match pres.enumeration {
                Some(e) => {
                    let def = &f.enums[e];
                    let c = if pres.as_flags || def.flags { class::FLAGS } else { class::ENUM };
                    (c | class::NUMBER, def.entries.iter().map(|e| e.1).collect())
                }
                None => (0, BTreeSet::new()),
            }
        };
        for s in &f.structs {
            for m in &s.members {
                let (mut classes, values) = enum_values(&m.pres);
                classes |= match &m.ty {
                    MemberType::Scalar(_) => class::NUMBER,
                    MemberType::String(_) => class::STRING,
                    MemberType::Binary { structure: Some(_), .. } => class::NEST,
                    MemberType::Binary { .. } | MemberType::Flexible { .. } => hint_class(m.pres.hint),
                    MemberType::Pad(_) => 0,
                };
                let info = self.fields.entry(m.name).or_default();
                info.classes |= classes;
                info.values.extend(values);
            }
        }
        for set in &f.sets {
            for a in set.by_type.iter().flatten() {
                let (mut classes, values) = enum_values(&a.pres);
                classes |= match &a.ty {
                    AttrType::Scalar(Scalar::U8 | Scalar::U16 | Scalar::U32 | Scalar::U64 | Scalar::Uint)
                    | AttrType::Scalar(_) => {
                        if a.pres.hint.is_some() {
                            hint_class(a.pres.hint) | class::NUMBER
                        } else {
                            class::NUMBER
                        }
                    }
                    AttrType::String => class::STRING,
                    AttrType::Flag => class::FLAG | class::NUMBER,
                    AttrType::Binary { structure: Some(_), .. } | AttrType::Binary { sub_type: Some(_), .. } => {
                        class::NEST
                    }
                    AttrType::Binary { .. } => hint_class(a.pres.hint),
                    AttrType::Bitfield32 | AttrType::Nest(_) | AttrType::IndexedArray { .. } => class::NEST,
                    AttrType::NestTypeValue { .. } | AttrType::SubMessage { .. } => class::NEST,
                    AttrType::Unused | AttrType::Pad => class::BYTES,
                };
                let info = self.fields.entry(a.name).or_default();
                info.classes |= classes;
                info.values.extend(values);
                let short = a.spec_name.replace('_', "-");
                self.short.entry(short).or_default().entry(f.name).or_default().insert(a.name);
            }
        }
    }

    /// The closest known name to `word` among `candidates`, if one is close enough to be a
    /// likely misspelling.
    pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
        let word_l = word.to_ascii_lowercase();
        let mut best: Option<(usize, &str)> = None;
        for c in candidates {
            let d = distance(&word_l, &c.to_ascii_lowercase());
            if best.is_none_or(|(bd, _)| d < bd) {
                best = Some((d, c));
            }
        }
        let limit = (word.chars().count() / 3).max(1);
        best.filter(|&(d, _)| d <= limit).map(|(_, c)| c)
    }
}

fn hint_class(hint: Option<crate::spec::registry::Hint>) -> u16 {
    use crate::spec::registry::Hint;
    match hint {
        Some(Hint::Ipv4 | Hint::Ipv6 | Hint::Ipv4OrV6) => class::ADDRESS | class::BYTES,
        Some(Hint::Mac) => class::MAC | class::BYTES,
        Some(Hint::Mpls) => class::NUMBER | class::BYTES,
        _ => class::BYTES,
    }
}

/// Levenshtein distance.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_near() {
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(Names::suggest("ifnmae", ["ifname", "mtu", "index"]), Some("ifname"));
        assert_eq!(Names::suggest("zzz", ["ifname", "mtu"]), None);
    }
}
