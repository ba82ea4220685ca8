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
                    Some(format!("PARAMS declares {}", params.listed())),
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
                    params.listed()
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

#[cfg(test)]
mod tests {
    use crate::dsl::{Options, SiteValues, evaluate_file};
    use std::sync::Arc;

    const SCRIPT: &str = "const PARAMS = #{\n    vip: #{ type: \"ip\" },\n    port: #{ type: \"port\", \"default\": 80 },\n    servers: #{ type: \"list<ip>\", \"default\": [\"10.0.0.1\"] },\n};\nlet p = param(\"port\");\nif type_of(p) != \"i64\" { throw `port is ${type_of(p)}`; }\nlet svc = service(param(\"vip\"), p);\nfor s in param(\"servers\") { svc.rs(rs(s)); }\n";

    /// Runs `site.toml` of a directory holding `files` and the script above; the
    /// plan's services and real servers as `vip:port` lines, or the error.
    fn run(files: &[(&str, &str)], set: &[(&str, &str)]) -> Result<Vec<String>, String> {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("site.rhai"), SCRIPT).unwrap();
        for (name, text) in files {
            std::fs::write(d.path().join(name), text).unwrap();
        }
        let values = SiteValues::load(Some(&d.path().join("site.toml")), &[])
            .map_err(|e| e.message().to_string())?;
        let opts = Options {
            params: set
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            values: Some(Arc::new(values.clone())),
            ..Options::default()
        };
        let script = values.script.clone().unwrap();
        let out = evaluate_file(&script, &opts).map_err(|e| {
            let at = e.location().map(|l| {
                let file = l.file.rsplit('/').next().unwrap_or_default().to_string();
                format!(" @{file}:{}", l.line)
            });
            format!("{}{}", e.message(), at.unwrap_or_default())
        })?;
        Ok(out
            .balancer
            .services
            .iter()
            .flat_map(|(k, s)| {
                std::iter::once(k.to_string()).chain(s.dests.keys().map(|d| d.to_string()))
            })
            .collect())
    }

    const HEAD: &str = "[lvsh]\nscript = \"site.rhai\"\nextends = [\"eu.toml\"]\n";

    #[test]
    fn typed_values_keep_their_type_and_set_wins() {
        let site = format!(
            "vip = \"192.0.2.1\"\nport = 443\nservers = [\"10.0.0.7\", \"10.0.0.8\"]\n{HEAD}"
        );
        let files = [("site.toml", site.as_str()), ("eu.toml", "port = 8080\n")];
        let out = run(&files, &[]).unwrap();
        assert_eq!(out.len(), 3, "{out:?}");
        assert!(out[0].contains("192.0.2.1:443"), "{out:?}");
        assert!(out[2].contains("10.0.0.8"), "{out:?}");
        let out = run(&files, &[("port", "9000")]).unwrap();
        assert!(out[0].contains(":9000"), "{out:?}");
    }

    #[test]
    fn keys_of_a_shared_layer_need_not_be_parameters() {
        let site = format!("vip = \"192.0.2.1\"\n{HEAD}");
        let shared = "[lvsh]\nshared = true\n\n[other_site]\nx = 1\n";
        assert!(run(&[("site.toml", &site), ("eu.toml", shared)], &[]).is_ok());
        // The same key in a layer that is not shared is an error, with a guess.
        let e = run(&[("site.toml", &site), ("eu.toml", "prot = 1\n")], &[]).unwrap_err();
        assert!(
            e.contains("no parameter `prot`, did you mean `port`?"),
            "{e}"
        );
        assert!(e.ends_with("@eu.toml:1"), "{e}");
        // A site overriding a shared layer's unknown key is blamed, not the layer.
        let site = format!("vip = \"192.0.2.1\"\nother = 2\n{HEAD}");
        let shared = "other = 1\n[lvsh]\nshared = true\n";
        let e = run(&[("site.toml", &site), ("eu.toml", shared)], &[]).unwrap_err();
        assert!(e.ends_with("@site.toml:2"), "{e}");
    }

    #[test]
    fn values_need_a_script_with_params() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("plain.rhai"), "service(\"10.0.0.1\", 80);\n").unwrap();
        std::fs::write(
            d.path().join("site.toml"),
            "port = 1\n[lvsh]\nscript = \"plain.rhai\"\n",
        )
        .unwrap();
        let values = SiteValues::load(Some(&d.path().join("site.toml")), &[]).unwrap();
        let opts = Options {
            values: Some(Arc::new(values.clone())),
            ..Options::default()
        };
        let e = evaluate_file(values.script.as_ref().unwrap(), &opts).unwrap_err();
        assert!(e.message().contains("declares no `const PARAMS`"), "{e}");
    }

    #[test]
    fn bad_values_and_pins_point_at_their_file() {
        let site = format!("vip = \"192.0.2.x\"\n{HEAD}");
        let e = run(&[("site.toml", &site), ("eu.toml", "")], &[]).unwrap_err();
        assert!(e.contains("`vip`") && e.ends_with("@site.toml:1"), "{e}");
        let site = format!("vip = \"192.0.2.1\"\n{HEAD}");
        let e = run(
            &[
                ("site.toml", &site),
                ("eu.toml", "servers = [\"10.0.0.1\", 7]\n"),
            ],
            &[],
        )
        .unwrap_err();
        assert!(e.contains("item 2") && e.ends_with("@eu.toml:1"), "{e}");
        let e = run(
            &[
                ("site.toml", &site),
                ("eu.toml", "[lvsh]\npinned = [\"prot\"]\n"),
            ],
            &[],
        )
        .unwrap_err();
        assert!(e.contains("pinned `prot` is not a parameter"), "{e}");
        assert!(
            e.contains("did you mean `port`?") && e.ends_with("@eu.toml:2"),
            "{e}"
        );
        let e = run(
            &[
                ("site.toml", &site),
                ("eu.toml", "[lvsh]\npinned = [\"port\"]\n"),
            ],
            &[("port", "81")],
        )
        .unwrap_err();
        assert!(
            e.starts_with("`--set port=81`: `port` is pinned by "),
            "{e}"
        );
        assert!(e.ends_with("eu.toml @eu.toml:2"), "{e}");
    }
}
