//! `const RECIPE = #{ entry: #{ doc, params: #{ .. }, checks: [..] } }` of a recipe
//! module and `const PARAMS = #{ .. }` of a site script, read as literals from the
//! AST (nothing is evaluated), their shape checked, and maps of arguments filled
//! against them.

use super::param_type::{Bad, ParamType, same, shown};
use super::values::printable;
use crate::suggest::did_you_mean;
use rhai::{Array, Dynamic, INT, Map};
use std::collections::BTreeMap;

const PARAM_KEYS: &[&str] = &[
    "type",
    "default",
    "optional",
    "range",
    "min",
    "max",
    "min_len",
    "max_len",
    "unique",
    "values",
    "doc",
    "deprecated",
    "example",
];
const ENTRY_KEYS: &[&str] = &["doc", "returns", "params", "checks"];

/// One declared parameter.
#[derive(Debug, Clone)]
pub(crate) struct ParamSpec {
    pub name: String,
    pub type_name: String,
    pub ty: ParamType,
    /// Already checked against the type (and normalised).
    pub default: Option<Dynamic>,
    pub optional: bool,
    pub min: Option<INT>,
    pub max: Option<INT>,
    pub min_len: Option<INT>,
    pub max_len: Option<INT>,
    pub unique: bool,
    pub values: Vec<Dynamic>,
    pub doc: Option<String>,
    pub deprecated: Option<String>,
}

/// The parameters of one entry point (or of a site script's `PARAMS`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Params(pub Vec<ParamSpec>);

/// One entry point of a recipe. `doc` and `returns` are for `lvsh doc` and the
/// later `recipes doc`; the checks read only `params` and `checks`.
#[allow(dead_code)]
#[derive(Debug, Clone)]
pub(crate) struct EntrySpec {
    pub doc: Option<String>,
    pub returns: Option<String>,
    pub params: Params,
    pub checks: Vec<String>,
}

/// A recipe module's `RECIPE`, by entry point name.
#[derive(Debug, Clone, Default)]
pub(crate) struct RecipeSchema {
    pub entries: BTreeMap<String, EntrySpec>,
}

/// A schema problem: where (the path of keys, for the position in the text) and what.
#[derive(Debug, Clone)]
pub(crate) struct SchemaError {
    /// Keys from the constant down to the offending one (`["web", "params", "port"]`).
    pub path: Vec<String>,
    pub bad: Bad,
}

fn err(path: &[&str], message: impl Into<String>, help: Option<String>) -> SchemaError {
    SchemaError {
        path: path.iter().map(|s| s.to_string()).collect(),
        bad: Bad::new(message, help),
    }
}

fn as_map(v: &Dynamic, path: &[&str], what: &str) -> Result<Map, SchemaError> {
    v.read_lock::<Map>().map(|m| m.clone()).ok_or_else(|| {
        err(
            path,
            format!("{what} must be a map, not {}", shown(v)),
            None,
        )
    })
}

fn unknown_keys(m: &Map, known: &[&str], path: &[&str], what: &str) -> Result<(), SchemaError> {
    for k in m.keys() {
        if !known.contains(&k.as_str()) {
            let mut p = path.to_vec();
            p.push(k.as_str());
            return Err(err(
                &p,
                format!(
                    "{what} has no key `{}`{}",
                    printable(k),
                    did_you_mean(k, known.iter().copied())
                ),
                Some(format!("keys: {}", known.join(", "))),
            ));
        }
    }
    Ok(())
}

fn text(m: &Map, key: &str, path: &[&str]) -> Result<Option<String>, SchemaError> {
    match m.get(key) {
        None => Ok(None),
        Some(v) if v.is_string() => Ok(Some(v.to_string())),
        Some(v) => {
            let mut p = path.to_vec();
            p.push(key);
            Err(err(
                &p,
                format!("`{key}` must be a string, not {}", shown(v)),
                None,
            ))
        }
    }
}

fn int(m: &Map, key: &str, path: &[&str]) -> Result<Option<INT>, SchemaError> {
    match m.get(key) {
        None => Ok(None),
        Some(v) => v.as_int().map(Some).map_err(|_| {
            let mut p = path.to_vec();
            p.push(key);
            err(
                &p,
                format!("`{key}` must be an int, not {}", shown(v)),
                None,
            )
        }),
    }
}

fn flag(m: &Map, key: &str, path: &[&str]) -> Result<bool, SchemaError> {
    match m.get(key) {
        None => Ok(false),
        Some(v) => v.as_bool().map_err(|_| {
            let mut p = path.to_vec();
            p.push(key);
            err(
                &p,
                format!("`{key}` must be true or false, not {}", shown(v)),
                None,
            )
        }),
    }
}

impl ParamSpec {
    fn parse(name: &str, v: &Dynamic, path: &[&str]) -> Result<ParamSpec, SchemaError> {
        let mut here = path.to_vec();
        here.push(name);
        let m = as_map(v, &here, &format!("parameter `{name}`"))?;
        unknown_keys(&m, PARAM_KEYS, &here, &format!("parameter `{name}`"))?;
        let type_name = text(&m, "type", &here)?.ok_or_else(|| {
            err(
                &here,
                format!("parameter `{name}` has no `type`"),
                Some("add `type: \"..\"` (ip, port, server, list<server>, enum, ..)".into()),
            )
        })?;
        let at_type = || {
            let mut p = here.clone();
            p.push("type");
            p
        };
        let ty = ParamType::parse(&type_name).map_err(|bad| SchemaError {
            path: at_type().iter().map(|s| s.to_string()).collect(),
            bad,
        })?;
        let values: Vec<Dynamic> = match m.get("values") {
            None => Vec::new(),
            Some(v) => v.clone().into_array().map_err(|_| {
                let mut p = here.clone();
                p.push("values");
                err(&p, "`values` must be a list", None)
            })?,
        };
        let wants_values = matches!(&ty, ParamType::Enum)
            || matches!(&ty, ParamType::List(t) | ParamType::Map(t) if **t == ParamType::Enum);
        if wants_values && values.is_empty() {
            return Err(err(
                &at_type(),
                format!("enum parameter `{name}` has no `values`"),
                Some("add `values: [\"a\", \"b\"]`".into()),
            ));
        }
        let (mut min, mut max) = (int(&m, "min", &here)?, int(&m, "max", &here)?);
        if let Some(r) = m.get("range") {
            let mut p = here.clone();
            p.push("range");
            let bounds: Option<Vec<INT>> = r
                .clone()
                .into_array()
                .ok()
                .and_then(|a| a.iter().map(|x| x.as_int().ok()).collect());
            match bounds.as_deref() {
                Some([lo, hi]) if lo <= hi => {
                    min = Some(*lo);
                    max = Some(*hi);
                }
                _ => return Err(err(&p, "`range` is [low, high], two ints", None)),
            }
        }
        let mut spec = ParamSpec {
            name: name.to_string(),
            type_name,
            ty,
            default: None,
            optional: flag(&m, "optional", &here)?,
            min,
            max,
            min_len: int(&m, "min_len", &here)?,
            max_len: int(&m, "max_len", &here)?,
            unique: flag(&m, "unique", &here)?,
            values,
            doc: text(&m, "doc", &here)?,
            deprecated: text(&m, "deprecated", &here)?,
        };
        if let Some(d) = m.get("default") {
            let mut p = here.clone();
            p.push("default");
            let checked = spec.check(d).map_err(|bad| SchemaError {
                path: p.iter().map(|s| s.to_string()).collect(),
                bad: Bad::new(
                    format!(
                        "the default of `{name}` fails its own type: {}",
                        bad.message
                    ),
                    bad.help,
                ),
            })?;
            spec.default = Some(checked);
        }
        Ok(spec)
    }

    /// `ip`, `list<server>, at least 1` — the type and its constraints, for hints.
    pub fn describe(&self) -> String {
        let mut s = self.type_name.clone();
        let sized = self.ty.is_sized();
        match (self.min, self.max) {
            (Some(lo), Some(hi)) if sized => s.push_str(&format!(", {lo} to {hi} items")),
            (Some(lo), None) if sized => s.push_str(&format!(", at least {lo}")),
            (None, Some(hi)) if sized => s.push_str(&format!(", at most {hi}")),
            (Some(lo), Some(hi)) => s.push_str(&format!(" in {lo}..{hi}")),
            (Some(lo), None) => s.push_str(&format!(", at least {lo}")),
            (None, Some(hi)) => s.push_str(&format!(", at most {hi}")),
            _ => {}
        }
        if self.unique {
            s.push_str(", unique");
        }
        if !self.values.is_empty() {
            let v: Vec<String> = self.values.iter().map(|v| v.to_string()).collect();
            s.push_str(&format!(" of {}", v.join(", ")));
        }
        if let Some(d) = &self.default {
            s.push_str(&format!(", default {}", literal(d)));
        } else if self.optional {
            s.push_str(", optional");
        }
        if let Some(doc) = &self.doc {
            s.push_str(&format!(" — {doc}"));
        }
        s
    }

    /// `v` checked against the type and every constraint, normalised.
    pub fn check(&self, v: &Dynamic) -> Result<Dynamic, Bad> {
        let out = self.ty.check(v, &self.values)?;
        let count = |d: &Dynamic| -> Option<INT> {
            if let Some(a) = d.read_lock::<Array>() {
                Some(a.len() as INT)
            } else {
                d.read_lock::<Map>().map(|m| m.len() as INT)
            }
        };
        if let Some(n) = count(&out) {
            let items = |n: INT| if n == 1 { "item" } else { "items" };
            if let Some(lo) = self.min.filter(|lo| n < *lo) {
                return Err(Bad::new(
                    format!("needs at least {lo} {}, got {n}", items(lo)),
                    None,
                ));
            }
            if let Some(hi) = self.max.filter(|hi| n > *hi) {
                return Err(Bad::new(
                    format!("takes at most {hi} {}, got {n}", items(hi)),
                    None,
                ));
            }
            if let Some(a) = out.read_lock::<Array>().filter(|_| self.unique) {
                for (i, x) in a.iter().enumerate() {
                    if let Some(j) = a[..i].iter().position(|y| same(x, y)) {
                        return Err(Bad::new(
                            format!(
                                "items {} and {} are the same ({})",
                                j + 1,
                                i + 1,
                                literal(
                                    v.read_lock::<Array>()
                                        .and_then(|o| o.get(i).cloned())
                                        .as_ref()
                                        .unwrap_or(x)
                                )
                            ),
                            None,
                        ));
                    }
                }
            }
        } else if let Ok(n) = out.as_int() {
            let (lo, hi) = (self.min.unwrap_or(INT::MIN), self.max.unwrap_or(INT::MAX));
            if n < lo || n > hi {
                return Err(Bad::new(
                    format!("{n} is out of range {}", range_text(self.min, self.max)),
                    None,
                ));
            }
        }
        if out.is_string() {
            let len = out.to_string().len() as INT;
            if let Some(lo) = self.min_len.filter(|lo| len < *lo) {
                return Err(Bad::new(
                    format!("is {len} bytes long, at least {lo} wanted"),
                    None,
                ));
            }
            if let Some(hi) = self.max_len.filter(|hi| len > *hi) {
                return Err(Bad::new(
                    format!("is {len} bytes long, at most {hi} allowed"),
                    None,
                ));
            }
        }
        Ok(out)
    }
}

fn range_text(lo: Option<INT>, hi: Option<INT>) -> String {
    match (lo, hi) {
        (Some(lo), Some(hi)) => format!("{lo}..{hi}"),
        (Some(lo), None) => format!("{lo}.."),
        (None, Some(hi)) => format!("..{hi}"),
        (None, None) => String::new(),
    }
}

/// A value as a script would write it.
pub(crate) fn literal(v: &Dynamic) -> String {
    if v.is_string() {
        format!("\"{}\"", printable(&v.to_string()))
    } else if let Some(a) = v.read_lock::<Array>() {
        let items: Vec<String> = a.iter().map(literal).collect();
        format!("[{}]", items.join(", "))
    } else if let Some(m) = v.read_lock::<Map>() {
        let items: Vec<String> = m
            .iter()
            .filter(|(_, v)| !v.is_unit())
            .map(|(k, v)| format!("{k}: {}", literal(v)))
            .collect();
        format!("#{{ {} }}", items.join(", "))
    } else {
        printable(&v.to_string())
    }
}

/// What `fill` found wrong: the parameter it is about (for the place), and why.
#[derive(Debug, Clone)]
pub(crate) struct ArgError {
    /// The key of the given map the error is about, if it was given.
    pub key: Option<String>,
    /// The declared parameter it is about (none for an unknown key).
    pub param: Option<String>,
    pub bad: Bad,
}

/// Arguments accepted: the filled map and the deprecated parameters that were given.
#[derive(Debug)]
pub(crate) struct Filled {
    pub map: Map,
    pub deprecated: Vec<(String, String)>,
}

impl Params {
    pub fn parse(v: &Dynamic, path: &[&str]) -> Result<Params, SchemaError> {
        let m = as_map(v, path, "`params`")?;
        let mut out = Vec::with_capacity(m.len());
        for (name, spec) in m.iter() {
            out.push(ParamSpec::parse(name, spec, path)?);
        }
        Ok(Params(out))
    }

    pub fn get(&self, name: &str) -> Option<&ParamSpec> {
        self.0.iter().find(|p| p.name == name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|p| p.name.as_str())
    }

    /// The names as a message lists them: `` `port`, `vip` ``.
    pub fn listed(&self) -> String {
        self.names()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `given` checked against every declaration, defaults filled in. `what` names
    /// the callee in messages (`dr_pool::pool`).
    pub fn fill(&self, given: &Map, what: &str) -> Result<Filled, ArgError> {
        for k in given.keys() {
            if self.get(k).is_none() {
                return Err(ArgError {
                    key: Some(k.to_string()),
                    param: None,
                    bad: Bad::new(
                        format!(
                            "{what}: no parameter `{}`{}",
                            printable(k),
                            did_you_mean(k, self.names())
                        ),
                        Some(format!(
                            "parameters: {}",
                            self.names().collect::<Vec<_>>().join(", ")
                        )),
                    ),
                });
            }
        }
        let mut map = Map::new();
        let mut deprecated = Vec::new();
        for p in &self.0 {
            // Only on an error: formatting it for every parameter of every call
            // cost more than the checks.
            let help = || Some(format!("{}: {}", p.name, p.describe()));
            let value = match given.get(p.name.as_str()) {
                Some(v) if !v.is_unit() => {
                    if let Some(why) = &p.deprecated {
                        deprecated.push((p.name.clone(), why.clone()));
                    }
                    p.check(v).map_err(|bad| ArgError {
                        key: Some(p.name.clone()),
                        param: Some(p.name.clone()),
                        bad: Bad::new(
                            format!("{what}: `{}`{}", p.name, sentence(&bad.message)),
                            bad.help.or_else(help),
                        ),
                    })?
                }
                _ => match (&p.default, p.optional) {
                    (Some(d), _) => d.clone(),
                    (None, true) => Dynamic::UNIT,
                    (None, false) => {
                        return Err(ArgError {
                            key: None,
                            param: Some(p.name.clone()),
                            bad: Bad::new(
                                format!("{what}: missing parameter `{}`", p.name),
                                help(),
                            ),
                        });
                    }
                },
            };
            map.insert(p.name.as_str().into(), value);
        }
        Ok(Filled { map, deprecated })
    }
}

/// A check's message after the parameter's name: `needs at least..` stays, a
/// validator's own sentence (`weight 70000 is out of range`) follows a colon.
pub(crate) fn sentence(message: &str) -> String {
    let joins = ["needs ", "takes ", "items ", "is "];
    if joins.iter().any(|j| message.starts_with(j)) {
        format!(" {message}")
    } else if message.starts_with("expected ") || message.starts_with("item ") {
        format!(": {message}")
    } else {
        format!(" is wrong: {message}")
    }
}

impl RecipeSchema {
    /// The `RECIPE` literal: entry point name → `#{ doc, returns, params, checks }`.
    pub fn parse(v: &Dynamic) -> Result<RecipeSchema, SchemaError> {
        let m = as_map(v, &[], "RECIPE")?;
        let mut entries = BTreeMap::new();
        for (name, e) in m.iter() {
            let path = [name.as_str()];
            let em = as_map(e, &path, &format!("entry `{name}`"))?;
            unknown_keys(&em, ENTRY_KEYS, &path, &format!("entry `{name}`"))?;
            let params = match em.get("params") {
                Some(p) => Params::parse(p, &[name.as_str(), "params"])?,
                None => Params::default(),
            };
            let checks = match em.get("checks") {
                None => Vec::new(),
                Some(c) => c
                    .clone()
                    .into_array()
                    .ok()
                    .and_then(|a| {
                        a.iter()
                            .map(|x| x.clone().into_string().ok())
                            .collect::<Option<Vec<String>>>()
                    })
                    .ok_or_else(|| {
                        err(
                            &[name.as_str(), "checks"],
                            "`checks` is a list of function names",
                            Some("checks: [\"no_port_on_dr\"]".into()),
                        )
                    })?,
            };
            entries.insert(
                name.to_string(),
                EntrySpec {
                    doc: text(&em, "doc", &path)?,
                    returns: text(&em, "returns", &path)?,
                    params,
                    checks,
                },
            );
        }
        Ok(RecipeSchema { entries })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(src: &str) -> Result<Params, SchemaError> {
        let engine = rhai::Engine::new_raw();
        let v: Dynamic = engine.eval_expression(src).unwrap();
        Params::parse(&v, &[])
    }

    fn map(src: &str) -> Map {
        rhai::Engine::new_raw().eval_expression(src).unwrap()
    }

    #[test]
    fn broken_schemas_name_the_key() {
        let e = params(r#"#{ port: #{ type: "prot" } }"#).unwrap_err();
        assert_eq!(e.path, ["port", "type"]);
        assert!(e.bad.message.contains("did you mean `port`"), "{:?}", e.bad);
        let e = params(r#"#{ port: #{ type: "port", "default": 70000 } }"#).unwrap_err();
        assert_eq!(e.path, ["port", "default"]);
        let e = params(r#"#{ port: #{ type: "port", defualt: 1 } }"#).unwrap_err();
        assert!(e.bad.message.contains("`default`"), "{:?}", e.bad);
        assert!(params(r#"#{ f: #{ type: "enum" } }"#).is_err());
    }

    #[test]
    fn fill_checks_and_defaults() {
        let p = params(
            r#"#{ vip: #{ type: "ip" }, port: #{ type: "port", "default": 80 },
                 servers: #{ type: "list<server>", min: 1, unique: true },
                 c: #{ type: "string", optional: true } }"#,
        )
        .unwrap();
        let f = p
            .fill(&map(r#"#{ vip: "10.0.0.1", servers: ["10.0.0.2"] }"#), "t")
            .unwrap();
        assert_eq!(f.map["port"].as_int().unwrap(), 80);
        assert!(f.map["c"].is_unit());
        let e = p.fill(&map(r#"#{ vip: "10.0.0.1", servers: [], prot: 1 }"#), "t");
        assert!(e.unwrap_err().bad.message.contains("did you mean `port`"));
        let e = p
            .fill(&map(r#"#{ vip: "10.0.0.1", servers: [] }"#), "t")
            .unwrap_err();
        assert_eq!(e.bad.message, "t: `servers` needs at least 1 item, got 0");
        let e = p
            .fill(
                &map(r#"#{ vip: "10.0.0.1", servers: ["10.0.0.2", "10.0.0.2"] }"#),
                "t",
            )
            .unwrap_err();
        assert!(e.bad.message.contains("are the same"), "{:?}", e.bad);
        let e = p
            .fill(&map(r#"#{ servers: ["10.0.0.2"] }"#), "t")
            .unwrap_err();
        assert_eq!(e.bad.message, "t: missing parameter `vip`");
    }
}
