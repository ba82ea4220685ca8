//! `param(name)` / `param(name, default)`: values given with `--set NAME=VALUE`.

use super::error::{Fail, fail};
use super::state::{Ctx, lock};
use super::values::type_name;
use crate::report::clip_words;
use crate::suggest::did_you_mean;
use rhai::{Array, Dynamic, Engine, FLOAT, INT};
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

    /// `--set` names the script never read, with a guess at what was meant.
    pub fn unread_params(&self) -> Vec<String> {
        let read = lock(&self.params_read);
        let mut out = Vec::new();
        let mut warned = Vec::new();
        for (k, _) in &self.params {
            if !read.contains(k) && !warned.contains(&k) {
                warned.push(k);
                let warning = format!(
                    "warning: --set `{k}` is not read by the script{}",
                    did_you_mean(k, read.iter().map(String::as_str))
                );
                out.push(clip_words(&warning, "…").into_owned());
            }
        }
        out
    }
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

pub(crate) fn register(engine: &mut Engine, ctx: &Arc<Ctx>) {
    let c = ctx.clone();
    engine.register_fn("param", move |name: &str| -> Result<Dynamic, Fail> {
        c.param(name).map(Dynamic::from).ok_or_else(|| {
            fail(
                format!("parameter `{name}` is not set"),
                Some(format!(
                    "pass `--set {name}=VALUE`, or give a default: `param(\"{name}\", default)`"
                )),
            )
        })
    });
    let c = ctx.clone();
    engine.register_fn(
        "param",
        move |name: &str, default: Dynamic| -> Result<Dynamic, Fail> {
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
