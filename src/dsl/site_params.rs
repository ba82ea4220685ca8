//! `const PARAMS = #{ vip: #{ type: "ip" }, .. }` of a site script: the `--set`
//! values are checked against it before the script runs, and `param("vip")` then
//! returns the typed value. Scripts without `PARAMS` keep `param(name, default)`.

use super::error::ScriptError;
use super::key_place;
use super::param_type::ParamType;
use super::recipe_module;
use super::recipe_schema::{Params, sentence};
use super::site_values::{Setting, SiteValues};
use super::state::{Ctx, lock};
use crate::suggest::did_you_mean;
use rhai::{AST, Array, Dynamic, FLOAT, INT, Map};

/// The text of `--set name=text` as the value its declared type reads.
fn value(ty: &ParamType, text: &str) -> Dynamic {
    let t = text.trim();
    match ty {
        ParamType::List(inner) => {
            let json = t
                .starts_with('[')
                .then(|| serde_json::from_str::<serde_json::Value>(t).ok())
                .flatten()
                .and_then(|v| rhai::serde::to_dynamic(v).ok());
            if let Some(d) = json {
                return d;
            }
            let items: Array = t
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| value(inner, s))
                .collect();
            Dynamic::from_array(items)
        }
        ParamType::Map(_) => serde_json::from_str::<serde_json::Value>(t)
            .ok()
            .and_then(|v| rhai::serde::to_dynamic(v).ok())
            .unwrap_or_else(|| Dynamic::from(text.to_string())),
        ParamType::Bool => match t {
            "true" | "yes" | "1" => Dynamic::from(true),
            "false" | "no" | "0" => Dynamic::from(false),
            _ => Dynamic::from(text.to_string()),
        },
        ParamType::Float => t
            .parse::<FLOAT>()
            .map_or_else(|_| Dynamic::from(text.to_string()), Dynamic::from),
        ParamType::Int
        | ParamType::Port
        | ParamType::PortRange
        | ParamType::Fwmark
        | ParamType::Seconds
        | ParamType::Weight
        | ParamType::Threshold
        | ParamType::Enum
        | ParamType::Any => t
            .parse::<INT>()
            .map_or_else(|_| Dynamic::from(text.to_string()), Dynamic::from),
        _ => Dynamic::from(text.to_string()),
    }
}

/// Reads `PARAMS` of the script `name` and checks the values files and the `--set`
/// values against it.
pub(crate) fn apply(
    ctx: &Ctx,
    ast: &AST,
    name: &str,
    text: &str,
    values: Option<&SiteValues>,
) -> Result<(), ScriptError> {
    if let Some(c) = checked(ctx, ast, name, text, values)? {
        *lock(&ctx.typed_params) = Some(c.map);
    }
    Ok(())
}

/// What `checked` found: the typed values, the declarations, and the merged
/// values files with `--set` on top (for `values explain`).
pub(crate) struct Checked {
    pub map: Map,
    pub params: Params,
    pub values: Option<SiteValues>,
}

/// `PARAMS` of the script, and the values of the files and `--set` checked against
/// it; `None` for a script without `PARAMS` (and no values files).
pub(crate) fn checked(
    ctx: &Ctx,
    ast: &AST,
    name: &str,
    text: &str,
    values: Option<&SiteValues>,
) -> Result<Option<Checked>, ScriptError> {
    let at_decl = |path: &[String]| key_place::declaration(text, "PARAMS", path);
    let error = |message: String, help: Option<String>, at: Option<(usize, usize)>, label: &str| {
        let e = ScriptError::new(message).with_help(help);
        match at {
            Some((l, c)) => e.label(&ctx.sources(), name, l, c, label.to_string()),
            None => e,
        }
    };
    // A note at the declaration, on a report that points into a values file.
    let declared = |e: ScriptError, path: &[String], message: &str| match at_decl(path) {
        Some((l, c)) => e.note_label(&ctx.sources(), message, name, l, c, "declared here"),
        None => e,
    };
    let params: Params = match recipe_module::read_params(ast, text) {
        Ok(Some(p)) => p,
        Ok(None) => {
            if let Some(first) = values.and_then(|v| v.layers.first()) {
                return Err(ScriptError::new(format!(
                    "the script `{name}` declares no `const PARAMS`, so the values of `{}` \
                     cannot be checked",
                    first.name
                ))
                .with_help(Some(
                    "declare the parameters the values set: `const PARAMS = #{ vip: #{ type: \
                     \"ip\" } };` at the top of the script"
                        .to_string(),
                )));
            }
            return Ok(None);
        }
        Err((at, message, help)) => {
            return Err(error(format!("PARAMS: {message}"), help, at, "here"));
        }
    };
    let mut merged = values.cloned();
    let mut given = Map::new();
    for (k, v) in &ctx.params {
        match params.get(k) {
            Some(p) => {
                let typed = value(&p.ty, v);
                if let Some(m) = &mut merged {
                    m.set(Setting {
                        path: k.clone(),
                        value: typed.clone(),
                        layer: None,
                        key: 0..0,
                        span: 0..0,
                        root: 0..0,
                    })?;
                }
                given.insert(k.as_str().into(), typed);
            }
            None => {
                return Err(error(
                    format!(
                        "`--set {k}={v}`: the script declares no parameter `{k}`{}",
                        did_you_mean(k, params.names())
                    ),
                    Some(format!(
                        "PARAMS declares {}",
                        params
                            .names()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                    at_decl(&[]),
                    "the script's parameters",
                ));
            }
        }
        lock(&ctx.params_read).insert(k.clone());
    }
    if let Some(m) = &merged {
        m.check_pins(&params.names().collect::<Vec<_>>())?;
        for top in m.names() {
            let Some(p) = params.get(&top) else {
                // Keys only `shared` layers set are allowed: other sites may use them.
                let Some(s) = m.blame(&top, true) else {
                    continue;
                };
                let layer = &m.layers[s.layer.unwrap_or_default()];
                let e = ScriptError::new(format!(
                    "{}: the script declares no parameter `{top}`{}",
                    layer.name,
                    did_you_mean(&top, params.names())
                ))
                .with_help(Some(format!(
                    "PARAMS of {name} declares {}; a layer with `shared = true` in [lvsh] may \
                     hold keys some sites do not use",
                    params
                        .names()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
                .label_span(
                    &layer.name,
                    &layer.text,
                    s.root.clone(),
                    "unknown key",
                    "",
                );
                return Err(declared(e, &[], "the script's parameters"));
            };
            if given.contains_key(top.as_str()) {
                continue;
            }
            let Some(v) = m.value(&top) else { continue };
            if let Err(bad) = p.check(&v) {
                let s = m.blame(&top, false).cloned();
                let mut e = ScriptError::new(match &s {
                    Some(s) => format!(
                        "{}: `{top}`{}",
                        m.layers[s.layer.unwrap_or_default()].name,
                        sentence(&bad.message)
                    ),
                    None => format!("`{top}`{}", sentence(&bad.message)),
                })
                .with_help(
                    bad.help
                        .or_else(|| Some(format!("{top}: {}", p.describe()))),
                );
                if let Some(s) = s.filter(|s| s.layer.is_some()) {
                    let layer = &m.layers[s.layer.unwrap_or_default()];
                    let span = if s.path == top { s.span } else { s.root };
                    e = e.label_span(&layer.name, &layer.text, span, "this value", "");
                }
                return Err(declared(
                    e,
                    std::slice::from_ref(&top),
                    "declared in the script",
                ));
            }
            given.insert(top.as_str().into(), v);
        }
    }
    let site = merged
        .as_ref()
        .and_then(|m| m.layers.last().map(|l| l.name.clone()));
    let filled = params.fill(&given, "--set").map_err(|e| {
        let param = e.param.clone().unwrap_or_default();
        // `--set: `vip` is wrong: ..` names the option as it was given.
        let given = ctx.params.iter().rev().find(|(k, _)| *k == param);
        let message = match (given, &site) {
            (Some((k, v)), _) => e
                .bad
                .message
                .replacen(&format!("--set: `{k}`"), &format!("`--set {k}={v}`:"), 1)
                .replacen(":: ", ": ", 1)
                .replacen(": is wrong: ", ": ", 1),
            (None, Some(site)) => {
                e.bad.message.replacen("--set", site, 1)
                    + " (set it in a values file or with --set)"
            }
            (None, None) => e.bad.message,
        };
        error(message, e.bad.help, at_decl(&[param]), "declared here")
    })?;
    Ok(Some(Checked {
        map: filled.map,
        params,
        values: merged,
    }))
}
