//! The YNL spec schema as serde types: exactly the keys of the kernel's `genetlink`,
//! `genetlink-c`, `genetlink-legacy` and `netlink-raw` schemas, so that an unknown key is an error
//! with its line and a kernel spec loads unchanged.

use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SpecFile {
    pub name: String,
    #[serde(default)]
    pub doc: Option<String>,
    #[serde(default)]
    pub protocol: Option<String>,
    #[serde(default)]
    pub protonum: Option<u16>,
    #[serde(default)]
    pub uapi_header: Option<String>,
    #[serde(default)]
    pub version: Option<u32>,
    #[serde(default)]
    pub c_family_name: Option<String>,
    #[serde(default)]
    pub c_version_name: Option<String>,
    #[serde(default)]
    pub max_by_define: Option<bool>,
    #[serde(default)]
    pub cmd_max_name: Option<String>,
    #[serde(default)]
    pub cmd_cnt_name: Option<String>,
    #[serde(default)]
    pub kernel_policy: Option<String>,
    #[serde(default)]
    pub definitions: Vec<Definition>,
    #[serde(default)]
    pub attribute_sets: Vec<AttributeSet>,
    #[serde(default)]
    pub sub_messages: Vec<SubMessage>,
    #[serde(default)]
    pub operations: Option<Operations>,
    #[serde(default)]
    pub mcast_groups: Option<McastGroups>,
}

/// A number, or a name (of a const, or an expression the kernel's C generator understands).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum NumOrName {
    Num(i64),
    Name(String),
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Definition {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(default)]
    pub doc: Option<String>,
    #[serde(default)]
    pub header: Option<String>,
    #[serde(default)]
    pub value: Option<NumOrName>,
    #[serde(default)]
    pub value_start: Option<NumOrName>,
    #[serde(default)]
    pub entries: Vec<Entry>,
    #[serde(default)]
    pub render_max: Option<bool>,
    #[serde(default)]
    pub enum_name: Option<Option<String>>,
    #[serde(default)]
    pub enum_cnt_name: Option<String>,
    #[serde(default)]
    pub name_prefix: Option<String>,
    #[serde(default)]
    pub members: Vec<Member>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Entry {
    Name(String),
    Full(EntryFull),
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EntryFull {
    pub name: String,
    #[serde(default)]
    pub value: Option<i64>,
    #[serde(default)]
    pub doc: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Member {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(default)]
    pub len: Option<NumOrName>,
    #[serde(default)]
    pub byte_order: Option<String>,
    #[serde(default)]
    pub doc: Option<String>,
    #[serde(default)]
    pub r#enum: Option<String>,
    #[serde(default)]
    pub enum_as_flags: Option<bool>,
    #[serde(default)]
    pub display_hint: Option<String>,
    #[serde(default)]
    pub r#struct: Option<String>,
    /// nlscope extension: a binary member (a C union) laid out by the sub-message format that
    /// an earlier member of the same struct, `selector`, chooses.
    #[serde(default)]
    pub sub_message: Option<String>,
    #[serde(default)]
    pub selector: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AttributeSet {
    pub name: String,
    #[serde(default)]
    pub name_prefix: Option<String>,
    #[serde(default)]
    pub enum_name: Option<Option<String>>,
    #[serde(default)]
    pub doc: Option<String>,
    #[serde(default)]
    pub subset_of: Option<String>,
    #[serde(default)]
    pub attr_cnt_name: Option<String>,
    #[serde(default)]
    pub attr_max_name: Option<String>,
    pub attributes: Vec<Attribute>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Attribute {
    pub name: String,
    #[serde(rename = "type", default)]
    pub ty: Option<String>,
    #[serde(default)]
    pub doc: Option<String>,
    #[serde(default)]
    pub value: Option<u16>,
    #[serde(default)]
    pub type_value: Vec<String>,
    #[serde(default)]
    pub byte_order: Option<String>,
    #[serde(default)]
    pub multi_attr: Option<bool>,
    #[serde(default)]
    pub nested_attributes: Option<String>,
    #[serde(default)]
    pub r#enum: Option<String>,
    #[serde(default)]
    pub enum_as_flags: Option<bool>,
    #[serde(default)]
    pub checks: Option<Checks>,
    #[serde(default)]
    pub sub_type: Option<String>,
    #[serde(default)]
    pub display_hint: Option<String>,
    #[serde(default)]
    pub name_prefix: Option<String>,
    #[serde(default)]
    pub r#struct: Option<String>,
    #[serde(default)]
    pub sub_message: Option<String>,
    #[serde(default)]
    pub selector: Option<String>,
    /// nlscope extension: where a reply finds the selector's value when `selector` is neither a
    /// sibling attribute nor a field of its fixed header: names tried in turn in the request it
    /// answers (an attribute of the request's set, else a field of its fixed header).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub request_selector: Vec<String>,
    /// nlscope extension: the selector value assumed when neither the message nor a known
    /// request gives one (the node says it was assumed).
    #[serde(default)]
    pub selector_default: Option<String>,
}

/// Kernel input validation: read for completeness, not used for decoding.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Checks {
    #[serde(default)]
    pub flags_mask: Option<String>,
    #[serde(default)]
    pub min: Option<NumOrName>,
    #[serde(default)]
    pub max: Option<NumOrName>,
    #[serde(default)]
    pub min_len: Option<NumOrName>,
    #[serde(default)]
    pub max_len: Option<NumOrName>,
    #[serde(default)]
    pub exact_len: Option<NumOrName>,
    #[serde(default)]
    pub unterminated_ok: Option<bool>,
    #[serde(default)]
    pub sparse: Option<bool>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SubMessage {
    pub name: String,
    #[serde(default)]
    pub doc: Option<String>,
    pub formats: Vec<SubMessageFormat>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SubMessageFormat {
    pub value: NumOrName,
    #[serde(default)]
    pub fixed_header: Option<String>,
    #[serde(default)]
    pub attribute_set: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Operations {
    #[serde(default)]
    pub enum_model: Option<String>,
    #[serde(default)]
    pub name_prefix: Option<String>,
    #[serde(default)]
    pub enum_name: Option<Option<String>>,
    #[serde(default)]
    pub async_prefix: Option<String>,
    #[serde(default)]
    pub async_enum: Option<Option<String>>,
    #[serde(default)]
    pub fixed_header: Option<String>,
    pub list: Vec<Operation>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Operation {
    pub name: String,
    #[serde(default)]
    pub doc: Option<String>,
    #[serde(default)]
    pub value: Option<u16>,
    #[serde(default)]
    pub attribute_set: Option<String>,
    #[serde(default)]
    pub flags: Vec<String>,
    #[serde(default)]
    pub dont_validate: Vec<String>,
    #[serde(default)]
    pub config_cond: Option<String>,
    #[serde(default)]
    pub fixed_header: Option<String>,
    #[serde(default)]
    pub r#do: Option<SubOp>,
    #[serde(default)]
    pub dump: Option<SubOp>,
    #[serde(default)]
    pub notify: Option<String>,
    #[serde(default)]
    pub event: Option<AttrList>,
    #[serde(default)]
    pub mcgrp: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SubOp {
    #[serde(default)]
    pub request: Option<AttrList>,
    #[serde(default)]
    pub reply: Option<AttrList>,
    #[serde(default)]
    pub pre: Option<String>,
    #[serde(default)]
    pub post: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AttrList {
    #[serde(default)]
    pub attributes: Vec<String>,
    #[serde(default)]
    pub value: Option<u16>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct McastGroups {
    pub list: Vec<McastGroup>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct McastGroup {
    pub name: String,
    #[serde(default)]
    pub c_define_name: Option<String>,
    #[serde(default)]
    pub flags: Vec<String>,
    #[serde(default)]
    pub value: Option<u32>,
}

/// Parses a spec file's YAML. Specs are YAML 1.2 (the kernel's say so): `on`, `off`, `yes` and
/// `no` are strings, as enum entries named that way need.
impl SpecFile {
    /// Every value the operations give a message (requests, replies, events, and the implicit
    /// numbering of the unified model): for netlink-raw specs, the `nlmsg_type`s the spec
    /// describes. The registry indexes operations by the same rule.
    /// True if a sub-message of this spec takes its selector from the request a reply answers
    /// (`request-selector`): its replies need their request to be decoded.
    pub fn uses_request(&self) -> bool {
        self.attribute_sets.iter().flat_map(|s| &s.attributes).any(|a| !a.request_selector.is_empty())
    }

    pub fn message_types(&self) -> Vec<u16> {
        let mut all = Vec::new();
        let Some(o) = &self.operations else { return all };
        let directional = o.enum_model.as_deref() == Some("directional");
        let mut next_req: u16 = 1;
        for op in &o.list {
            let subops = [&op.r#do, &op.dump];
            let mut requests: Vec<u16> = subops.iter().filter_map(|s| s.as_ref()?.request.as_ref()?.value).collect();
            let replies = subops.iter().filter_map(|s| s.as_ref()?.reply.as_ref()?.value);
            if let Some(v) = op.value {
                requests.push(v);
            }
            if requests.is_empty() && !directional {
                requests.push(next_req);
            }
            if let Some(&last) = requests.iter().max() {
                next_req = last.saturating_add(1);
            }
            all.extend(requests);
            all.extend(replies);
        }
        all.sort_unstable();
        all.dedup();
        all
    }
}

pub fn parse_yaml(text: &str) -> Result<SpecFile, serde_saphyr::Error> {
    let options = serde_saphyr::options! { strict_booleans: true };
    serde_saphyr::from_str_with_options(text, options)
}
