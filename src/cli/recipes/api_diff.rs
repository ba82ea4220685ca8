//! The API section of `recipes diff`: the `RECIPE`s of two versions of a library,
//! compared statically, per entry point: parameters added or removed, a changed
//! type or default, required ↔ optional, newly deprecated.

use super::super::CliError;
use super::doc::{module_names, read, signature};
use crate::dsl::{EntryDoc, ParamDoc};
use std::{collections::BTreeMap, path::Path};

/// The lines of the API section for library `name` from `old` to `new` (roots).
pub fn api_changes(name: &str, old: &Path, new: &Path) -> Result<String, CliError> {
    let entries = |root: &Path| -> Result<BTreeMap<String, EntryDoc>, CliError> {
        let mut out = BTreeMap::new();
        for m in module_names(root) {
            let file = root.join("recipes").join(format!("{m}.rhai"));
            let title = format!("@{name}/{m}");
            for e in read(&file, &title, None)?.doc.entries {
                out.insert(format!("{title}::{}", e.name), e);
            }
        }
        Ok(out)
    };
    let (old, new) = (entries(old)?, entries(new)?);
    let mut out = String::new();
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        match (old.get(key), new.get(key)) {
            (Some(_), None) => out.push_str(&format!("  - {key}   removed\n")),
            (None, Some(e)) => {
                out.push_str(&format!("  + {key}   new\n"));
                for p in &e.params {
                    out.push_str(&format!("    + param {}: {}\n", p.name, signature(p)));
                }
            }
            (Some(a), Some(b)) => {
                let lines = entry_changes(a, b);
                if lines.is_empty() {
                    out.push_str(&format!("  {key}   unchanged\n"));
                } else {
                    out.push_str(&format!("  {key}\n"));
                    for l in lines {
                        out.push_str(&format!("    {l}\n"));
                    }
                }
            }
            (None, None) => {}
        }
    }
    if out.is_empty() {
        out.push_str("  no entry points\n");
    }
    Ok(out)
}

/// What changed between two versions of one entry point, one line each.
pub fn entry_changes(old: &EntryDoc, new: &EntryDoc) -> Vec<String> {
    let find = |e: &'_ EntryDoc, n: &str| e.params.iter().find(|p| p.name == n).cloned();
    let mut lines = Vec::new();
    for p in &new.params {
        match find(old, &p.name) {
            None => {
                let note = if p.required() {
                    "   breaks every call without it"
                } else {
                    ""
                };
                lines.push(format!("+ param {}: {}{note}", p.name, signature(p)));
            }
            Some(o) => lines.extend(param_changes(&o, p)),
        }
    }
    for p in &old.params {
        if find(new, &p.name).is_none() {
            lines.push(format!(
                "- param {}   breaks every call that gives it",
                p.name
            ));
        }
    }
    if old.returns != new.returns {
        lines.push(format!(
            "~ returns: {} → {}",
            old.returns.as_deref().unwrap_or("(nothing said)"),
            new.returns.as_deref().unwrap_or("(nothing said)")
        ));
    }
    if old.checks != new.checks {
        lines.push(format!(
            "~ checks: [{}] → [{}]",
            old.checks.join(", "),
            new.checks.join(", ")
        ));
    }
    lines
}

fn param_changes(o: &ParamDoc, n: &ParamDoc) -> Vec<String> {
    let mut lines = Vec::new();
    let name = &n.name;
    if o.type_name != n.type_name {
        lines.push(format!("~ type {name}: {} → {}", o.type_name, n.type_name));
    }
    match (&o.default, &n.default) {
        (Some(a), Some(b)) if a != b => lines.push(format!(
            "~ default {name}: {a} → {b}   changes every site that does not set it"
        )),
        (Some(a), None) if n.optional => lines.push(format!(
            "~ default {name}: {a} → none (optional)   changes every site that does not set it"
        )),
        _ => {}
    }
    match (o.required(), n.required()) {
        (false, true) => lines.push(format!(
            "~ param {name} is now required   breaks every call without it"
        )),
        (true, false) => lines.push(format!("~ param {name} is now optional")),
        _ => {}
    }
    if o.constraints != n.constraints {
        let show = |c: &[String]| {
            if c.is_empty() {
                "none".to_string()
            } else {
                c.join(", ")
            }
        };
        lines.push(format!(
            "~ constraints {name}: {} → {}",
            show(&o.constraints),
            show(&n.constraints)
        ));
    }
    match (&o.deprecated, &n.deprecated) {
        (None, Some(why)) => lines.push(format!("! param {name} deprecated: {why}")),
        (Some(_), None) => lines.push(format!("~ param {name} no longer deprecated")),
        _ => {}
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(src: &str) -> EntryDoc {
        crate::dsl::doc_of_text(
            &format!("const RECIPE = #{{ web: #{{ params: #{{ {src} }} }} }};\nfn web(p) {{ let p = args(p); }}"),
            "r.rhai",
        )
        .unwrap()
        .unwrap()
        .entries
        .remove(0)
    }

    #[test]
    fn each_kind_of_change_is_one_line() {
        let old = entry(
            r#"persist: #{ type: "seconds", "default": 1200 }, weight: #{ type: "weight", "default": 1 }, gone: #{ type: "int", optional: true }, vip: #{ type: "ip" }"#,
        );
        let new = entry(
            r#"persist: #{ type: "seconds", "default": 900 }, weight: #{ type: "weight", "default": 1, deprecated: "per server" }, mh_port: #{ type: "bool", "default": false }, vip: #{ type: "ipv4" }"#,
        );
        assert_eq!(
            entry_changes(&old, &new),
            [
                "+ param mh_port: bool = false",
                "~ default persist: 1200 → 900   changes every site that does not set it",
                "~ type vip: ip → ipv4",
                "! param weight deprecated: per server",
                "- param gone   breaks every call that gives it",
            ]
        );
        assert!(entry_changes(&old, &old).is_empty());
    }
}
