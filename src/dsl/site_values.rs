//! Values files of a site: `lvsh plan sites/ams1.toml` runs the script the file
//! names (`[lvsh] script`) with the values it holds. Layers merge in order: the
//! files of `[lvsh] extends` (each after its own), the site file, each `--values`
//! file, then `--set`. Tables merge key by key; arrays and other values replace;
//! nothing deletes. Every setting keeps its file and span, so a bad value is
//! reported on its TOML line, and `lvsh values explain` can say who set what.
//! The values are checked against the script's `const PARAMS` in `site_params`.

use super::error::ScriptError;
use super::recipe_schema::{Params, literal};
use crate::suggest::did_you_mean;
use rhai::{Array, Dynamic, FLOAT, INT, Map};
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use toml::de::{DeTable, DeValue};

/// A values file is data: a megabyte is far more than any site needs.
const MAX_BYTES: u64 = 1 << 20;
/// More layers than this is a loop the cycle check missed, or a mistake.
const MAX_LAYERS: usize = 64;
/// The keys of the `[lvsh]` table.
const LVSH_KEYS: &[&str] = &["script", "extends", "pinned", "shared"];

/// One values file, in the order the layers apply.
#[derive(Debug, Clone)]
pub struct Layer {
    pub name: String,
    pub text: Arc<str>,
    /// `shared = true`: keys the script does not declare are allowed (and unused).
    pub shared: bool,
}

/// One value set by a layer (or by `--set` when `layer` is `None`).
#[derive(Debug, Clone)]
pub(crate) struct Setting {
    /// Dotted path: `port`, `web.scheduler`.
    pub path: String,
    pub value: Dynamic,
    pub layer: Option<usize>,
    /// The key, the value, and the top-level key it is under (the parameter).
    pub key: Range<usize>,
    pub span: Range<usize>,
    pub root: Range<usize>,
}

/// A path and everything that set it, in order: the last setting is in effect
/// while `live`; a later setting of a parent or child path replaces it.
#[derive(Debug, Clone)]
struct Entry {
    path: String,
    history: Vec<Setting>,
    live: bool,
}

/// `pinned = ["web.scheduler"]` of a layer: later layers may not change it.
#[derive(Debug, Clone)]
struct Pin {
    path: String,
    layer: usize,
    span: Range<usize>,
}

/// The merged values of a site, with where each came from.
#[derive(Debug, Clone, Default)]
pub struct SiteValues {
    /// The script the site file names (relative to the current directory).
    pub script: Option<PathBuf>,
    pub layers: Vec<Layer>,
    entries: Vec<Entry>,
    pins: Vec<Pin>,
}

/// What a file is in the chain.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Site,
    Extends,
    Values,
}

/// A parsed file: its keys and values with their spans.
enum Node {
    Leaf(Dynamic),
    Table(Vec<Item>),
}

struct Item {
    key: String,
    key_span: Range<usize>,
    span: Range<usize>,
    node: Node,
}

/// A place in a file that led to another file (an `extends` entry).
struct Via<'a> {
    name: &'a str,
    text: &'a Arc<str>,
    span: Range<usize>,
}

/// Whether a path names a values file rather than a script.
pub fn is_values_file(path: &Path) -> bool {
    path.extension()
        .is_some_and(|x| x.eq_ignore_ascii_case("toml") || x.eq_ignore_ascii_case("json"))
}

/// `a/b/../c` as `a/c`: file names in messages as a person would write them.
fn tidy(path: &Path) -> PathBuf {
    let mut out: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir if !out.is_empty() => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

fn relative_to(file: &Path, target: &str) -> PathBuf {
    let dir = file.parent().unwrap_or(Path::new(""));
    tidy(&dir.join(target))
}

fn at(e: ScriptError, from: Option<&Via>, label: &str) -> ScriptError {
    match from {
        Some(f) => e.label_span(f.name, f.text, f.span.clone(), label, "here"),
        None => e,
    }
}

impl SiteValues {
    /// Reads the site file `site` (a values file given as the command's FILE, if
    /// any) and the `--values` files, with every layer they extend.
    pub fn load(site: Option<&Path>, values: &[PathBuf]) -> Result<SiteValues, ScriptError> {
        let mut v = SiteValues::default();
        let mut stack = Vec::new();
        if let Some(site) = site {
            v.load_file(site, Role::Site, None, &mut stack)?;
        }
        for f in values {
            v.load_file(f, Role::Values, None, &mut stack)?;
        }
        Ok(v)
    }

    fn load_file(
        &mut self,
        path: &Path,
        role: Role,
        from: Option<&Via>,
        stack: &mut Vec<(PathBuf, String)>,
    ) -> Result<(), ScriptError> {
        let name = path.display().to_string();
        let cannot = |e: std::io::Error| {
            at(
                ScriptError::new(format!("cannot read the values file `{name}`: {e}")),
                from,
                "extended here",
            )
        };
        let real = std::fs::canonicalize(path).map_err(cannot)?;
        if stack.iter().any(|(p, _)| *p == real) {
            return Err(at(
                ScriptError::new(format!("`{name}` extends itself")).with_help(Some(format!(
                    "the chain: {} -> {name}",
                    stack
                        .iter()
                        .map(|(_, n)| n.as_str())
                        .collect::<Vec<_>>()
                        .join(" -> ")
                ))),
                from,
                "extended again here",
            ));
        }
        if self.layers.len() >= MAX_LAYERS {
            return Err(at(
                ScriptError::new(format!("more than {MAX_LAYERS} values files")),
                from,
                "one too many",
            ));
        }
        let meta = std::fs::metadata(&real).map_err(cannot)?;
        if meta.len() > MAX_BYTES {
            return Err(at(
                ScriptError::new(format!(
                    "the values file `{name}` is {} bytes, more than the {MAX_BYTES} lvsh reads",
                    meta.len()
                )),
                from,
                "extended here",
            ));
        }
        let bytes = std::fs::read(&real).map_err(cannot)?;
        let text: Arc<str> = match String::from_utf8(bytes) {
            Ok(t) => Arc::from(t),
            Err(_) => {
                return Err(at(
                    ScriptError::new(format!("the values file `{name}` is not UTF-8 text")),
                    from,
                    "extended here",
                ));
            }
        };
        let json = path
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("json"));
        let mut items = if json {
            parse_json(&name, &text)?
        } else {
            parse_toml(&name, &text)?
        };
        let err = |message: String, span: Range<usize>, label: &str| {
            ScriptError::new(message).label_span(&name, &text, span, label, "here")
        };
        // The `[lvsh]` table: what the file is, not values.
        let mut script = None;
        let mut extends = Vec::new();
        let mut pins = Vec::new();
        let mut shared = false;
        if let Some(i) = items.iter().position(|i| i.key == "lvsh") {
            let lvsh = items.remove(i);
            let Node::Table(keys) = lvsh.node else {
                return Err(err(
                    "`lvsh` is a table: `[lvsh]` with script, extends, pinned, shared".into(),
                    lvsh.key_span,
                    "not a table",
                ));
            };
            for k in keys {
                let value = match &k.node {
                    Node::Leaf(v) => v.clone(),
                    Node::Table(_) => Dynamic::UNIT,
                };
                match k.key.as_str() {
                    "script" if value.is_string() => script = Some((value.to_string(), k.span)),
                    "shared" if value.is_bool() => shared = value.as_bool().unwrap_or(false),
                    "extends" | "pinned" => {
                        let list = value.into_array().ok().and_then(|a| {
                            a.into_iter()
                                .map(|s| s.into_string().ok())
                                .collect::<Option<Vec<String>>>()
                        });
                        let Some(list) = list else {
                            return Err(err(
                                format!("`lvsh.{}` is a list of strings", k.key),
                                k.span,
                                "not a list of strings",
                            ));
                        };
                        let spans = string_spans(&text, k.span.clone(), list.len());
                        let out = if k.key == "extends" {
                            &mut extends
                        } else {
                            &mut pins
                        };
                        out.extend(list.into_iter().zip(spans));
                    }
                    "script" | "shared" => {
                        let want = if k.key == "script" {
                            "a path (a string)"
                        } else {
                            "true or false"
                        };
                        return Err(err(
                            format!("`lvsh.{}` is {want}", k.key),
                            k.span,
                            "this value",
                        ));
                    }
                    other => {
                        return Err(err(
                            format!(
                                "`[lvsh]` has no key `{other}`{}",
                                did_you_mean(other, LVSH_KEYS.iter().copied())
                            ),
                            k.key_span,
                            "unknown key",
                        )
                        .with_help(Some(
                            "[lvsh] takes script, extends, pinned and shared; in TOML every \
                             key after a [table] header belongs to it, so put the values \
                             first and [lvsh] at the end"
                                .into(),
                        )));
                    }
                }
            }
        }
        stack.push((real, name.clone()));
        for (target, span) in &extends {
            let next = relative_to(path, target);
            let from = Via {
                name: &name,
                text: &text,
                span: span.clone(),
            };
            self.load_file(&next, Role::Extends, Some(&from), stack)?;
        }
        stack.pop();
        match (role, script) {
            (Role::Site, Some((target, span))) => {
                let script = relative_to(path, &target);
                if let Err(e) = std::fs::metadata(&script) {
                    return Err(err(
                        format!("cannot read the script `{}`: {e}", script.display()),
                        span,
                        "the site's script",
                    )
                    .with_help(Some(format!(
                        "`script` is relative to the directory of `{name}`"
                    ))));
                }
                self.script = Some(script);
            }
            (Role::Site, None) => {
                return Err(
                    ScriptError::new(format!("the site file `{name}` names no script"))
                        .with_help(Some(
                        "add `[lvsh]` with `script = \"../site.rhai\"` (relative to the file) at \
                     its end, or run the script with `--values FILE`"
                            .into(),
                    )),
                );
            }
            (_, Some((_, span))) => {
                return Err(err(
                    format!("only the site file names the script, not `{name}`"),
                    span,
                    "here",
                )
                .with_help(Some(
                    "a layer (extends, --values) holds values; the file given to the command \
                     names the script"
                        .into(),
                )));
            }
            (_, None) => {}
        }
        let layer = self.layers.len();
        self.layers.push(Layer {
            name: name.clone(),
            text: text.clone(),
            shared,
        });
        self.merge(layer, "", None, items)?;
        for (path, span) in pins {
            self.pins.push(Pin { path, layer, span });
        }
        Ok(())
    }

    fn merge(
        &mut self,
        layer: usize,
        prefix: &str,
        root: Option<&Range<usize>>,
        items: Vec<Item>,
    ) -> Result<(), ScriptError> {
        for item in items {
            let path = if prefix.is_empty() {
                item.key.clone()
            } else {
                format!("{prefix}.{}", item.key)
            };
            let root = root.cloned().unwrap_or_else(|| item.key_span.clone());
            match item.node {
                Node::Table(children) => self.merge(layer, &path, Some(&root), children)?,
                Node::Leaf(value) => self.set(Setting {
                    path,
                    value,
                    layer: Some(layer),
                    key: item.key_span,
                    span: item.span,
                    root,
                })?,
            }
        }
        Ok(())
    }

    /// The setting in effect at exactly `path`.
    fn effective(&self, path: &str) -> Option<&Setting> {
        self.entries
            .iter()
            .find(|e| e.live && e.path == path)
            .and_then(|e| e.history.last())
    }

    /// Records a setting; an error when it changes what an earlier layer pinned.
    pub(crate) fn set(&mut self, s: Setting) -> Result<(), ScriptError> {
        let touches = |a: &str, b: &str| {
            a == b
                || a.strip_prefix(b).is_some_and(|r| r.starts_with('.'))
                || b.strip_prefix(a).is_some_and(|r| r.starts_with('.'))
        };
        let later = |pin: &Pin| s.layer.is_none_or(|l| l > pin.layer);
        if let Some(pin) = self
            .pins
            .iter()
            .find(|p| later(p) && touches(&p.path, &s.path))
        {
            let same = self
                .effective(&s.path)
                .is_some_and(|old| literal(&old.value) == literal(&s.value));
            if !same {
                return Err(self.pinned_error(pin, &s));
            }
        }
        let mut replaced = Vec::new();
        for e in self.entries.iter_mut() {
            if e.live && e.path != s.path && touches(&e.path, &s.path) {
                e.live = false;
                replaced.extend(e.history.last().cloned());
            }
        }
        match self.entries.iter_mut().find(|e| e.path == s.path) {
            Some(e) => {
                if !e.live {
                    e.history.clear();
                }
                e.history.extend(replaced);
                e.history.push(s);
                e.live = true;
            }
            None => {
                replaced.push(s.clone());
                self.entries.push(Entry {
                    path: s.path,
                    history: replaced,
                    live: true,
                });
            }
        }
        Ok(())
    }

    fn pinned_error(&self, pin: &Pin, s: &Setting) -> ScriptError {
        let pinner = &self.layers[pin.layer];
        let help = Some(format!(
            "`{}` is policy of {}; change it there, or remove it from its `pinned` list",
            pin.path, pinner.name
        ));
        let value = if s.value.is_string() {
            s.value.to_string()
        } else {
            literal(&s.value)
        };
        match s.layer {
            Some(l) => {
                let layer = &self.layers[l];
                ScriptError::new(format!(
                    "{}: `{}` is pinned by {}, so {} cannot change it",
                    layer.name, pin.path, pinner.name, layer.name
                ))
                .with_help(help)
                .label_span(&layer.name, &layer.text, s.key.clone(), "changed here", "")
                .label_span(
                    &pinner.name,
                    &pinner.text,
                    pin.span.clone(),
                    "pinned here",
                    &format!("`{}` is pinned in {}", pin.path, pinner.name),
                )
            }
            None => ScriptError::new(format!(
                "`--set {}={value}`: `{}` is pinned by {}",
                s.path, pin.path, pinner.name
            ))
            .with_help(help)
            .label_span(
                &pinner.name,
                &pinner.text,
                pin.span.clone(),
                "pinned here",
                "",
            ),
        }
    }

    /// The top-level names that have a value, in the order first set.
    pub(crate) fn names(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for e in self.entries.iter().filter(|e| e.live) {
            let top = e.path.split('.').next().unwrap_or_default().to_string();
            if !out.contains(&top) {
                out.push(top);
            }
        }
        out
    }

    fn live_under<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries.iter().filter(move |e| {
            e.live
                && (e.path == name
                    || e.path
                        .strip_prefix(name)
                        .is_some_and(|r| r.starts_with('.')))
        })
    }

    /// The setting that decides where an error about parameter `name` points: the
    /// latest one under it, preferring files that are not `shared`.
    pub(crate) fn blame<'a>(&'a self, name: &'a str, skip_shared: bool) -> Option<&'a Setting> {
        self.live_under(name)
            .filter_map(|e| e.history.last())
            .filter(|s| !skip_shared || s.layer.is_none_or(|l| !self.layers[l].shared))
            .max_by_key(|s| s.layer.map_or(usize::MAX, |l| l + 1))
    }

    /// The merged value of parameter `name`: the value set at `name`, or the map
    /// the settings under it build.
    pub(crate) fn value(&self, name: &str) -> Option<Dynamic> {
        if let Some(s) = self.effective(name) {
            return Some(s.value.clone());
        }
        let mut map = Map::new();
        let mut any = false;
        for e in self.live_under(name) {
            let Some(s) = e.history.last() else { continue };
            let rest = &e.path[name.len() + 1..];
            insert_path(&mut map, rest, s.value.clone());
            any = true;
        }
        any.then(|| Dynamic::from_map(map))
    }

    /// Every live path under `name` (or `name` itself) with its history, sorted.
    pub(crate) fn explain<'a>(&'a self, name: &'a str) -> Vec<(&'a str, &'a [Setting])> {
        let mut out: Vec<(&str, &[Setting])> = self
            .live_under(name)
            .map(|e| (e.path.as_str(), e.history.as_slice()))
            .collect();
        out.sort_by(|a, b| a.0.cmp(b.0));
        out
    }

    /// `file:line` of a setting, or `--set`.
    pub(crate) fn place(&self, s: &Setting) -> String {
        match s.layer {
            Some(l) => {
                let layer = &self.layers[l];
                let (line, _) = super::key_place::line_col(&layer.text, s.key.start);
                format!("{}:{line}", layer.name)
            }
            None => "--set".to_string(),
        }
    }

    /// The pins on `path` (or a parent), as `file:line`.
    pub(crate) fn pinned_by(&self, path: &str) -> Option<String> {
        self.pins
            .iter()
            .find(|p| {
                p.path == path
                    || path
                        .strip_prefix(p.path.as_str())
                        .is_some_and(|r| r.starts_with('.'))
            })
            .map(|p| {
                let layer = &self.layers[p.layer];
                let (line, _) = super::key_place::line_col(&layer.text, p.span.start);
                format!("{}:{line}", layer.name)
            })
    }

    /// Whether the pins name parameters of the script: a pin on a misspelt key
    /// would protect nothing.
    pub(crate) fn check_pins(&self, known: &[&str]) -> Result<(), ScriptError> {
        for p in &self.pins {
            let top = p.path.split('.').next().unwrap_or_default();
            if !known.contains(&top) {
                let layer = &self.layers[p.layer];
                return Err(ScriptError::new(format!(
                    "{}: pinned `{}` is not a parameter of the script{}",
                    layer.name,
                    p.path,
                    did_you_mean(top, known.iter().copied())
                ))
                .label_span(
                    &layer.name,
                    &layer.text,
                    p.span.clone(),
                    "pinned here",
                    "",
                ));
            }
        }
        Ok(())
    }
}

/// The text of `lvsh values explain`: per parameter (in the order of `PARAMS`),
/// each value in effect, who set it, its pin, and what it overrode, newest first.
pub(crate) fn render_explain(
    v: &SiteValues,
    params: &Params,
    script: &str,
    script_text: &str,
    key: Option<&str>,
) -> Result<String, ScriptError> {
    let wanted = |path: &str| {
        key.is_none_or(|k| {
            path == k
                || path.strip_prefix(k).is_some_and(|r| r.starts_with('.'))
                || k.strip_prefix(path).is_some_and(|r| r.starts_with('.'))
        })
    };
    let mut out = String::new();
    for p in &params.0 {
        let entries = v.explain(&p.name);
        if entries.is_empty() {
            if !wanted(&p.name) {
                continue;
            }
            let line =
                super::key_place::declaration(script_text, "PARAMS", std::slice::from_ref(&p.name))
                    .map_or(String::new(), |(l, _)| format!(":{l}"));
            match &p.default {
                Some(d) => out.push_str(&format!(
                    "{} = {}\n    default in {script}{line}\n",
                    p.name,
                    literal(d)
                )),
                None => out.push_str(&format!(
                    "{} is not set (optional, {script}{line})\n",
                    p.name
                )),
            }
            continue;
        }
        for (path, history) in entries {
            if !wanted(path) {
                continue;
            }
            let Some((last, before)) = history.split_last() else {
                continue;
            };
            out.push_str(&format!("{path} = {}\n", literal(&last.value)));
            out.push_str(&format!("    set by    {}\n", v.place(last)));
            if let Some(pin) = v.pinned_by(path) {
                out.push_str(&format!("    pinned by {pin}\n"));
            }
            for s in before.iter().rev() {
                let what = if s.path == path {
                    String::new()
                } else {
                    format!("{} = ", s.path)
                };
                out.push_str(&format!(
                    "    overrode  {}: {what}{}\n",
                    v.place(s),
                    literal(&s.value)
                ));
            }
        }
    }
    if out.is_empty()
        && let Some(k) = key
    {
        let top = k.split('.').next().unwrap_or_default();
        return Err(ScriptError::new(format!(
            "no value `{k}`: the script declares no parameter `{top}`{}",
            did_you_mean(top, params.names())
        ))
        .with_help(Some(format!(
            "PARAMS of {script} declares {}",
            params.listed()
        ))));
    }
    Ok(out)
}

fn insert_path(map: &mut Map, path: &str, value: Dynamic) {
    match path.split_once('.') {
        None => {
            map.insert(path.into(), value);
        }
        Some((head, rest)) => {
            let entry = map
                .entry(head.into())
                .or_insert_with(|| Dynamic::from_map(Map::new()));
            if let Some(mut m) = entry.write_lock::<Map>() {
                insert_path(&mut m, rest, value);
            }
        }
    }
}

/// The spans of the `n` strings of an array literal at `span` (the whole array
/// when they cannot be told apart).
fn string_spans(text: &str, span: Range<usize>, n: usize) -> Vec<Range<usize>> {
    let inner = &text[span.clone()];
    let mut out = Vec::new();
    let mut chars = inner.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '"' || c == '\'' {
            let mut end = None;
            let mut escaped = false;
            for (j, d) in chars.by_ref() {
                if d == '\\' && c == '"' && !escaped {
                    escaped = true;
                    continue;
                }
                if d == c && !escaped {
                    end = Some(j + 1);
                    break;
                }
                escaped = false;
            }
            let Some(end) = end else { break };
            out.push(span.start + i..span.start + end);
        } else if c == '#' {
            // A comment runs to the end of the line.
            for (_, d) in chars.by_ref() {
                if d == '\n' {
                    break;
                }
            }
        }
    }
    if out.len() != n {
        return vec![span; n];
    }
    out
}

fn parse_toml(name: &str, text: &Arc<str>) -> Result<Vec<Item>, ScriptError> {
    let table = DeTable::parse(text).map_err(|e| {
        let message = e.message().trim_end().to_string();
        let span = e.span().unwrap_or(0..0);
        ScriptError::new(format!("`{name}` is not valid TOML: {message}"))
            .label_span(name, text, span, "here", "")
    })?;
    toml_items(table.get_ref()).map_err(|(message, span)| {
        ScriptError::new(format!("{name}: {message}")).label_span(name, text, span, "here", "")
    })
}

type Bad = (String, Range<usize>);

fn toml_items(t: &DeTable) -> Result<Vec<Item>, Bad> {
    t.iter()
        .map(|(k, v)| {
            let node = match v.get_ref() {
                DeValue::Table(t) => Node::Table(toml_items(t)?),
                other => Node::Leaf(toml_value(other, v.span())?),
            };
            Ok(Item {
                key: k.get_ref().to_string(),
                key_span: k.span(),
                span: v.span(),
                node,
            })
        })
        .collect()
}

/// A TOML value as the script sees it: an integer stays an int, a list a list.
fn toml_value(v: &DeValue, span: Range<usize>) -> Result<Dynamic, Bad> {
    Ok(match v {
        DeValue::String(s) => Dynamic::from(s.to_string()),
        DeValue::Integer(i) => INT::from_str_radix(i.as_str(), i.radix())
            .map(Dynamic::from)
            .map_err(|_| (format!("the integer {i} does not fit in 64 bits"), span))?,
        DeValue::Float(f) => f
            .as_str()
            .parse::<FLOAT>()
            .map(Dynamic::from)
            .map_err(|_| (format!("`{}` is not a number", f.as_str()), span))?,
        DeValue::Boolean(b) => Dynamic::from(*b),
        DeValue::Datetime(d) => Dynamic::from(d.to_string()),
        DeValue::Array(a) => {
            let items: Array = a
                .iter()
                .map(|x| toml_value(x.get_ref(), x.span()))
                .collect::<Result<_, _>>()?;
            Dynamic::from_array(items)
        }
        DeValue::Table(t) => {
            let mut m = Map::new();
            for (k, v) in t.iter() {
                m.insert(
                    k.get_ref().as_ref().into(),
                    toml_value(v.get_ref(), v.span())?,
                );
            }
            Dynamic::from_map(m)
        }
    })
}

/// JSON (as a CMDB would generate it): the same tree; a key's place is found by
/// its quoted name after the key that holds it.
fn parse_json(name: &str, text: &Arc<str>) -> Result<Vec<Item>, ScriptError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        let off = super::key_place::byte_offset(text, e.line(), e.column()).unwrap_or(0);
        ScriptError::new(format!("`{name}` is not valid JSON: {e}")).label_span(
            name,
            text,
            off..off,
            "here",
            "",
        )
    })?;
    let serde_json::Value::Object(map) = value else {
        return Err(ScriptError::new(format!(
            "`{name}`: a values file is a JSON object of parameters"
        )));
    };
    json_items(&map, text, 0).map_err(|(message, span)| {
        ScriptError::new(format!("{name}: {message}")).label_span(name, text, span, "here", "")
    })
}

fn json_items(
    map: &serde_json::Map<String, serde_json::Value>,
    text: &str,
    from: usize,
) -> Result<Vec<Item>, Bad> {
    map.iter()
        .map(|(k, v)| {
            let quoted = serde_json::to_string(k).unwrap_or_default();
            let start = text[from..].find(&quoted).map_or(from, |i| from + i);
            let key_span = start..(start + quoted.len()).min(text.len());
            let node = match v {
                serde_json::Value::Object(m) => Node::Table(json_items(m, text, key_span.end)?),
                other => Node::Leaf(
                    rhai::serde::to_dynamic(other)
                        .map_err(|e| (format!("`{k}`: {e}"), key_span.clone()))?,
                ),
            };
            Ok(Item {
                key: k.clone(),
                span: key_span.clone(),
                key_span,
                node,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(files: &[(&str, &str)]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let p = d.path().join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        d
    }

    fn load(d: &tempfile::TempDir, site: &str, values: &[&str]) -> Result<SiteValues, String> {
        let values: Vec<PathBuf> = values.iter().map(|v| d.path().join(v)).collect();
        SiteValues::load(Some(&d.path().join(site)), &values).map_err(|e| {
            let loc = e
                .location()
                .map(|l| {
                    let file = Path::new(&l.file).file_name().unwrap().to_string_lossy();
                    format!(" @{file}:{}", l.line)
                })
                .unwrap_or_default();
            format!("{}{loc}", e.message())
        })
    }

    fn show(v: &SiteValues, name: &str) -> String {
        v.value(name).map(|d| literal(&d)).unwrap_or_default()
    }

    const SCRIPT: (&str, &str) = ("site.rhai", "");

    #[test]
    fn layers_merge_tables_and_replace_arrays_in_order() {
        let d = dir(&[
            SCRIPT,
            (
                "shared/eu.toml",
                "port = 80\nservers = [\"a\", \"b\"]\n[web]\nscheduler = \"mh\"\npersist = 1200\n",
            ),
            (
                "sites/ams1.toml",
                "servers = [\"c\"]\n[web]\npersist = 900\n[lvsh]\nscript = \"../site.rhai\"\n\
                 extends = [\"../shared/eu.toml\"]\n",
            ),
            ("more.toml", "port = 8080\n"),
        ]);
        let v = load(&d, "sites/ams1.toml", &["more.toml"]).unwrap();
        assert_eq!(show(&v, "port"), "8080");
        assert_eq!(show(&v, "servers"), "[\"c\"]");
        assert_eq!(show(&v, "web"), "#{ persist: 900, scheduler: \"mh\" }");
        assert!(v.value("web").unwrap().is_map());
        assert_eq!(v.value("port").unwrap().as_int().unwrap(), 8080);
        assert_eq!(
            v.layers
                .iter()
                .map(|l| l.name.rsplit('/').next().unwrap())
                .collect::<Vec<_>>(),
            ["eu.toml", "ams1.toml", "more.toml"]
        );
        assert!(v.script.as_ref().unwrap().ends_with("site.rhai"));
        assert!(
            !v.script
                .as_ref()
                .unwrap()
                .display()
                .to_string()
                .contains(".."),
            "the path is tidied"
        );
        // What each setting overrode, in order.
        let port = v.explain("port");
        assert_eq!(port[0].1.len(), 2);
        assert_eq!(
            v.place(&port[0].1[0]).rsplit('/').next().unwrap(),
            "eu.toml:1"
        );
    }

    #[test]
    fn a_table_replaces_a_value_and_a_value_replaces_a_table() {
        let d = dir(&[
            SCRIPT,
            ("a.toml", "web = 1\nlb = { x = 1, y = 2 }\n"),
            (
                "site.toml",
                "lb = 5\n[web]\nx = 2\n[lvsh]\nscript = \"site.rhai\"\nextends = [\"a.toml\"]\n",
            ),
        ]);
        let v = load(&d, "site.toml", &[]).unwrap();
        assert_eq!(show(&v, "web"), "#{ x: 2 }");
        assert_eq!(show(&v, "lb"), "5");
        assert_eq!(v.explain("lb")[0].1.len(), 3, "lb.x and lb.y were replaced");
    }

    #[test]
    fn a_later_layer_may_not_change_a_pinned_key() {
        let shared = "[lvsh]\npinned = [\"web.scheduler\", \"port\"]\n[web]\nscheduler = \"mh\"\n";
        let site = |body: &str| {
            format!("{body}\n[lvsh]\nscript = \"site.rhai\"\nextends = [\"eu.toml\"]\n")
        };
        let d = dir(&[
            SCRIPT,
            ("eu.toml", shared),
            ("bad.toml", &site("[web]\nscheduler = \"rr\"")),
            ("same.toml", &site("[web]\nscheduler = \"mh\"\npersist = 9")),
            ("whole.toml", &site("web = 3")),
            ("default.toml", &site("port = 81")),
        ]);
        assert_eq!(
            load(&d, "bad.toml", &[]).unwrap_err(),
            format!(
                "{0}: `web.scheduler` is pinned by {1}, so {0} cannot change it @bad.toml:2",
                d.path().join("bad.toml").display(),
                d.path().join("eu.toml").display()
            )
        );
        assert!(
            load(&d, "same.toml", &[]).is_ok(),
            "the same value is no change"
        );
        assert!(load(&d, "whole.toml", &[]).unwrap_err().contains("pinned"));
        assert!(
            load(&d, "default.toml", &[])
                .unwrap_err()
                .contains("`port` is pinned"),
            "a pin on a key no layer set keeps the script's default"
        );
        let mut v = load(&d, "same.toml", &[]).unwrap();
        let set = |value: &str| Setting {
            path: "web".into(),
            value: Dynamic::from(value.to_string()),
            layer: None,
            key: 0..0,
            span: 0..0,
            root: 0..0,
        };
        let e = v.set(set("x")).unwrap_err();
        assert_eq!(
            e.message(),
            format!(
                "`--set web=x`: `web.scheduler` is pinned by {}",
                d.path().join("eu.toml").display()
            )
        );
        assert_eq!(e.location().unwrap().line, 2, "at the pin");
    }

    #[test]
    fn errors_point_at_the_file_and_line() {
        let d = dir(&[
            SCRIPT,
            ("syntax.toml", "port = 80\nvip = \n"),
            ("noscript.toml", "port = 80\n"),
            ("missing.toml", "[lvsh]\nscript = \"nope.rhai\"\n"),
            (
                "ext.toml",
                "[lvsh]\nscript = \"site.rhai\"\nextends = [\"a.toml\", \"gone.toml\"]\n",
            ),
            ("a.toml", "x = 1\n"),
            (
                "loop.toml",
                "[lvsh]\nscript = \"site.rhai\"\nextends = [\"loop2.toml\"]\n",
            ),
            ("loop2.toml", "[lvsh]\nextends = [\"loop.toml\"]\n"),
            ("typo.toml", "[lvsh]\nscript = \"site.rhai\"\nextend = []\n"),
            (
                "layer_script.toml",
                "[lvsh]\nscript = \"site.rhai\"\nextends = [\"bad_layer.toml\"]\n",
            ),
            ("bad_layer.toml", "[lvsh]\nscript = \"site.rhai\"\n"),
        ]);
        let e = load(&d, "syntax.toml", &[]).unwrap_err();
        assert!(e.starts_with("`"), "{e}");
        assert!(
            e.contains("is not valid TOML") && e.ends_with("@syntax.toml:2"),
            "{e}"
        );
        assert!(
            load(&d, "noscript.toml", &[])
                .unwrap_err()
                .contains("names no script")
        );
        let e = load(&d, "missing.toml", &[]).unwrap_err();
        assert!(
            e.contains("cannot read the script") && e.ends_with("@missing.toml:2"),
            "{e}"
        );
        let e = load(&d, "ext.toml", &[]).unwrap_err();
        assert!(e.contains("gone.toml") && e.ends_with("@ext.toml:3"), "{e}");
        let e = load(&d, "loop.toml", &[]).unwrap_err();
        assert!(
            e.contains("extends itself") && e.ends_with("@loop2.toml:2"),
            "{e}"
        );
        let e = load(&d, "typo.toml", &[]).unwrap_err();
        assert!(
            e.contains("did you mean `extends`") && e.ends_with("@typo.toml:3"),
            "{e}"
        );
        let e = load(&d, "layer_script.toml", &[]).unwrap_err();
        assert!(
            e.contains("only the site file") && e.ends_with("@bad_layer.toml:2"),
            "{e}"
        );
    }

    #[test]
    fn json_values_keep_their_types() {
        let d = dir(&[
            SCRIPT,
            (
                "s.json",
                "{\"lvsh\": {\"script\": \"site.rhai\"}, \"port\": 443, \"servers\": [\"a\"],\n \"web\": {\"persist\": 9}}",
            ),
        ]);
        let v = load(&d, "s.json", &[]).unwrap();
        assert_eq!(v.value("port").unwrap().as_int().unwrap(), 443);
        assert_eq!(show(&v, "servers"), "[\"a\"]");
        assert_eq!(show(&v, "web"), "#{ persist: 9 }");
        let web = v.explain("web");
        assert_eq!(
            v.place(&web[0].1[0]).rsplit('/').next().unwrap(),
            "s.json:2"
        );
    }

    #[test]
    fn paths_are_tidied() {
        assert_eq!(tidy(Path::new("a/b/../c")), PathBuf::from("a/c"));
        assert_eq!(tidy(Path::new("../x/./y")), PathBuf::from("../x/y"));
        assert_eq!(tidy(Path::new("a/..")), PathBuf::from("."));
    }

    #[test]
    fn string_spans_skip_comments() {
        let t = "[\"a\", # \"no\"\n 'b']";
        assert_eq!(string_spans(t, 0..t.len(), 2), [1..4, 14..17]);
        assert_eq!(
            string_spans(t, 0..t.len(), 3),
            [0..t.len(), 0..t.len(), 0..t.len()]
        );
    }
}
