//! `param(name)` / `param(name, default)`: values given with `--set NAME=VALUE`.

use super::error::{Fail, ScriptError, fail};
use super::state::{Ctx, lock};
use super::values::type_name;
use crate::report::clip_words;
use crate::suggest::did_you_mean;
use rhai::{Array, Dynamic, Engine, FLOAT, INT, NativeCallContext};
use std::sync::Arc;

impl Ctx {
    fn param(&self, name: &str) -> Option<String> {
        lock(&self.params_read).insert(name.to_string());
        self.params
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    /// Checks the `--set` names the script did not read. A name that appears in no
    /// script text is an error: a misspelt `--set prot=443` would otherwise leave
    /// `param("port", 80)` at its default, and automation would apply the wrong
    /// balancer. A name the script spells but did not reach (a branch not taken)
    /// is only a warning, returned as a line.
    pub fn check_unread_params(&self) -> Result<Vec<String>, ScriptError> {
        let read = lock(&self.params_read).clone();
        let sources = self.sources();
        let texts: Vec<&str> = sources.texts().collect();
        let mut known: Vec<String> = read.iter().cloned().collect();
        for text in &texts {
            known.extend(param_names(text));
        }
        known.sort();
        known.dedup();
        let mut warnings = Vec::new();
        let mut error: Option<ScriptError> = None;
        let mut seen = Vec::new();
        for (k, v) in &self.params {
            if read.contains(k) || seen.contains(&k) {
                continue;
            }
            seen.push(k);
            let guess = did_you_mean(k, known.iter().map(String::as_str));
            if texts.iter().any(|t| spells(t, k)) {
                let warning =
                    format!("warning: --set `{k}` was not read by the script in this run{guess}");
                warnings.push(clip_words(&warning, "…").into_owned());
                continue;
            }
            let e = ScriptError::new(format!(
                "`--set {k}={v}`: the script never reads a parameter `{k}`{guess}"
            ))
            .with_help(Some(match known.as_slice() {
                [] => "the script reads no parameters; remove the option".to_string(),
                names => format!(
                    "the script reads {} with param(); fix the name or remove the option",
                    names
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }));
            match &mut error {
                None => error = Some(e),
                Some(first) => first.push_related(e),
            }
        }
        match error {
            Some(e) => Err(e),
            None => Ok(warnings),
        }
    }
}

/// Whether `text` has `name` as a string literal (`"port"` or `` `port` ``), as a
/// `param()` call on a path the run did not take would.
fn spells(text: &str, name: &str) -> bool {
    text.contains(&format!("\"{name}\"")) || text.contains(&format!("`{name}`"))
}

/// The names of the `param("NAME"` calls in `text`, for "did you mean".
fn param_names(text: &str) -> impl Iterator<Item = String> + '_ {
    text.match_indices("param(").filter_map(|(i, m)| {
        let rest = text[i + m.len()..].trim_start();
        let rest = rest.strip_prefix('"')?;
        let name = &rest[..rest.find('"')?];
        let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        valid.then(|| name.to_string())
    })
}

/// Converts the text of `--set name=text` to the type of `default`.
pub(crate) fn convert(name: &str, text: &str, default: &Dynamic) -> Result<Dynamic, Fail> {
    let bad = |what: &str| {
        fail(
            format!("--set {name}={text}: `{text}` is not {what}"),
            Some(format!(
                "the default of param(\"{name}\", ..) is {}, so the value must be too",
                type_name(default)
            )),
        )
    };
    let t = text.trim();
    if default.is_int() {
        t.parse::<INT>()
            .map(Dynamic::from)
            .map_err(|_| bad("an int"))
    } else if default.is_float() {
        t.parse::<FLOAT>()
            .map(Dynamic::from)
            .map_err(|_| bad("a number"))
    } else if default.is_bool() {
        match t {
            "true" | "yes" | "1" => Ok(Dynamic::from(true)),
            "false" | "no" | "0" => Ok(Dynamic::from(false)),
            _ => Err(bad("true or false")),
        }
    } else if default.is_array() {
        if t.starts_with('[') {
            let v: serde_json::Value = serde_json::from_str(t).map_err(|_| bad("a JSON array"))?;
            return rhai::serde::to_dynamic(v).map_err(|_| bad("a JSON array"));
        }
        let elem = default
            .clone()
            .cast::<Array>()
            .into_iter()
            .next()
            .unwrap_or_else(|| Dynamic::from(""));
        let mut out = Array::new();
        for item in t.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            out.push(convert(name, item, &elem)?);
        }
        Ok(Dynamic::from(out))
    } else if default.is_map() {
        let v: serde_json::Value = serde_json::from_str(t).map_err(|_| bad("a JSON object"))?;
        if !v.is_object() {
            return Err(bad("a JSON object"));
        }
        rhai::serde::to_dynamic(v).map_err(|_| bad("a JSON object"))
    } else {
        Ok(Dynamic::from(text.to_string()))
    }
}

/// `param()` read from inside a module: an error in a recipe (a recipe is a
/// function of its arguments), a warning once per other module.
fn outside_site(c: &Ctx, nc: &NativeCallContext, name: &str) -> Result<(), Fail> {
    let Some(src) = nc.call_source() else {
        return Ok(());
    };
    let (recipe, module) = {
        let s = c.sources();
        (s.recipes.contains_key(src), s.modules.contains(src))
    };
    let help = "recipes take arguments; param() is for site scripts: pass the value in the call";
    if recipe {
        return Err(fail(
            format!("the recipe {src} reads param(\"{name}\")"),
            Some(help.to_string()),
        ));
    }
    if module && lock(&c.params_read).insert(format!("\0{src}")) {
        let pos = nc.call_position();
        c.print(format!(
            "warning: module {src} reads param(\"{name}\"): {help} ({src}:{}:{})",
            pos.line().unwrap_or(0),
            pos.position().unwrap_or(0)
        ));
    }
    Ok(())
}

/// `param(name)` of a script with `const PARAMS`: the checked value.
fn typed(c: &Ctx, name: &str) -> Option<Result<Dynamic, Fail>> {
    let typed = lock(&c.typed_params);
    let map = typed.as_ref()?;
    Some(map.get(name).cloned().ok_or_else(|| {
        fail(
            format!(
                "parameter `{name}` is not declared in PARAMS{}",
                did_you_mean(name, map.keys().map(|k| k.as_str()))
            ),
            Some("declare it in `const PARAMS = #{ .. }` at the top of the script".to_string()),
        )
    }))
}

pub(crate) fn register(engine: &mut Engine, ctx: &Arc<Ctx>) {
    let c = ctx.clone();
    engine.register_fn(
        "param",
        move |nc: NativeCallContext, name: &str| -> Result<Dynamic, Fail> {
            outside_site(&c, &nc, name)?;
            if let Some(v) = typed(&c, name) {
                return v;
            }
            c.param(name).map(Dynamic::from).ok_or_else(|| {
                fail(
                    format!("parameter `{name}` is not set"),
                    Some(format!(
                        "pass `--set {name}=VALUE`, or give a default: `param(\"{name}\", default)`"
                    )),
                )
            })
        },
    );
    let c = ctx.clone();
    engine.register_fn(
        "param",
        move |nc: NativeCallContext, name: &str, default: Dynamic| -> Result<Dynamic, Fail> {
            outside_site(&c, &nc, name)?;
            if let Some(v) = typed(&c, name) {
                return v.map(|v| if v.is_unit() { default } else { v });
            }
            match c.param(name) {
                Some(text) => convert(name, &text, &default),
                None => Ok(default),
            }
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsl::{Options, evaluate_source};

    fn run(src: &str, set: &[(&str, &str)]) -> Result<Vec<String>, String> {
        let opts = Options {
            params: set
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Options::default()
        };
        evaluate_source("t.rhai", src, None, &opts)
            .map(|e| e.output)
            .map_err(|e| format!("{e} / {}", e.help_text().unwrap_or_default()))
    }

    #[test]
    fn a_set_name_the_script_never_reads_is_an_error_with_a_guess() {
        let src = "service(param(\"vip\", \"10.0.0.1\"), param(\"port\", 80));";
        let e = run(src, &[("prot", "443")]).unwrap_err();
        assert_eq!(
            e,
            "`--set prot=443`: the script never reads a parameter `prot`, did you mean \
             `port`? / the script reads `port`, `vip` with param(); fix the name or remove \
             the option"
        );
        let e = run("service(\"10.0.0.1\", 80);", &[("port", "443")]).unwrap_err();
        assert!(e.contains("the script reads no parameters"), "{e}");
        assert_eq!(run(src, &[("port", "443")]).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn a_name_read_only_on_another_path_is_a_warning() {
        let src = "if param(\"tls\", false) { service(\"10.0.0.1\", param(\"tls_port\", 443)); }";
        assert_eq!(
            run(src, &[("tls_port", "8443")]).unwrap(),
            ["warning: --set `tls_port` was not read by the script in this run"]
        );
    }

    #[test]
    fn param_names_are_found_in_the_text() {
        let names: Vec<String> =
            param_names("param(\"a\") + param( \"b_2\", 1) + param(x) + param(\"no-name\")")
                .collect();
        assert_eq!(names, ["a", "b_2"]);
    }

    #[test]
    fn values_take_the_type_of_the_default() {
        assert_eq!(
            convert("p", "80", &Dynamic::from(1_i64))
                .unwrap()
                .as_int()
                .unwrap(),
            80
        );
        assert!(convert("p", "x", &Dynamic::from(1_i64)).is_err());
        assert!(
            convert("p", "yes", &Dynamic::from(false))
                .unwrap()
                .as_bool()
                .unwrap()
        );
        let list = convert("s", "10.0.0.1, 10.0.0.2", &Dynamic::from(Array::new())).unwrap();
        assert_eq!(list.cast::<Array>().len(), 2);
        let nums = convert("w", "[1, 2, 3]", &Dynamic::from(Array::new())).unwrap();
        assert_eq!(nums.cast::<Array>()[2].as_int().unwrap(), 3);
        let m = convert("m", r#"{"a": 1}"#, &Dynamic::from(rhai::Map::new())).unwrap();
        assert!(m.is_map());
        assert_eq!(
            convert("t", "x", &Dynamic::from("d"))
                .unwrap()
                .into_string()
                .unwrap(),
            "x"
        );
    }
}
