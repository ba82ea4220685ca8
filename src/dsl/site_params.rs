//! `const PARAMS = #{ vip: #{ type: "ip" }, .. }` of a site script: the `--set`
//! values are checked against it before the script runs, and `param("vip")` then
//! returns the typed value. Scripts without `PARAMS` keep `param(name, default)`.

use super::error::ScriptError;
use super::key_place;
use super::param_type::ParamType;
use super::recipe_module;
use super::recipe_schema::Params;
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

/// Reads `PARAMS` of the script `name` and checks the `--set` values against it.
pub(crate) fn apply(ctx: &Ctx, ast: &AST, name: &str, text: &str) -> Result<(), ScriptError> {
    let at_decl = |path: &[String]| key_place::declaration(text, "PARAMS", path);
    let error = |message: String, help: Option<String>, at: Option<(usize, usize)>, label: &str| {
        let e = ScriptError::new(message).with_help(help);
        match at {
            Some((l, c)) => e.label(&ctx.sources(), name, l, c, label.to_string()),
            None => e,
        }
    };
    let params: Params = match recipe_module::read_params(ast, text) {
        Ok(Some(p)) => p,
        Ok(None) => return Ok(()),
        Err((at, message, help)) => {
            return Err(error(format!("PARAMS: {message}"), help, at, "here"));
        }
    };
    let mut given = Map::new();
    for (k, v) in &ctx.params {
        match params.get(k) {
            Some(p) => {
                given.insert(k.as_str().into(), value(&p.ty, v));
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
    let filled = params.fill(&given, "--set").map_err(|e| {
        let param = e.param.clone().unwrap_or_default();
        // `--set: `vip` is wrong: ..` names the option as it was given.
        let given = ctx.params.iter().rev().find(|(k, _)| *k == param);
        let message = match given {
            Some((k, v)) => e
                .bad
                .message
                .replacen(&format!("--set: `{k}`"), &format!("`--set {k}={v}`:"), 1)
                .replacen(":: ", ": ", 1)
                .replacen(": is wrong: ", ": ", 1),
            None => e.bad.message,
        };
        error(message, e.bad.help, at_decl(&[param]), "declared here")
    })?;
    *lock(&ctx.typed_params) = Some(filled.map);
    Ok(())
}
