//! What `lvsh recipes doc` and `recipes diff` read of a module: its `//!` lines and
//! its `RECIPE` (or a site script's `PARAMS`), parsed and checked as lvsh checks
//! them when the module is imported, but without running anything.

use super::recipe_module::{read_params, read_recipe};
use super::recipe_schema::{ParamSpec, Params, literal};
use super::{ScriptError, diagnose, engine, state::Ctx, state::Mode};
use std::path::Path;

/// The documented interface of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipeDoc {
    /// The file's leading `//!` lines, without the marker.
    pub about: Vec<String>,
    /// `RECIPE` entry points, sorted by name; a site script's `PARAMS` is one entry
    /// named `PARAMS`.
    pub entries: Vec<EntryDoc>,
    /// Read from `const PARAMS` (a site script), not `const RECIPE`.
    pub site: bool,
}

/// One entry point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryDoc {
    pub name: String,
    pub doc: Option<String>,
    pub returns: Option<String>,
    pub params: Vec<ParamDoc>,
    pub checks: Vec<String>,
}

/// One parameter, every field as text (as the schema spells it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamDoc {
    pub name: String,
    /// `list<server>`.
    pub type_name: String,
    /// The default as a Rhai literal (`[80, 443]`, `"wlc"`).
    pub default: Option<String>,
    pub optional: bool,
    /// Constraints beyond the type: `at least 1`, `in 1..10`, `unique`, `of "a", "b"`.
    pub constraints: Vec<String>,
    pub doc: Option<String>,
    pub deprecated: Option<String>,
}

impl ParamDoc {
    fn of(p: &ParamSpec) -> ParamDoc {
        let mut constraints = Vec::new();
        let items = |n: rhai::INT| {
            if n == 1 {
                "1 item".to_string()
            } else {
                format!("{n} items")
            }
        };
        match (p.min, p.max, p.ty.is_sized()) {
            (Some(lo), Some(hi), true) => constraints.push(format!("{lo} to {}", items(hi))),
            (Some(lo), None, true) => constraints.push(format!("at least {}", items(lo))),
            (None, Some(hi), true) => constraints.push(format!("at most {}", items(hi))),
            (Some(lo), Some(hi), false) => constraints.push(format!("in {lo}..{hi}")),
            (Some(lo), None, false) => constraints.push(format!("at least {lo}")),
            (None, Some(hi), false) => constraints.push(format!("at most {hi}")),
            _ => {}
        }
        if let Some(n) = p.min_len {
            constraints.push(format!("min_len {n}"));
        }
        if let Some(n) = p.max_len {
            constraints.push(format!("max_len {n}"));
        }
        if p.unique {
            constraints.push("unique".into());
        }
        if !p.values.is_empty() {
            let v: Vec<String> = p.values.iter().map(literal).collect();
            constraints.push(format!("one of {}", v.join(", ")));
        }
        ParamDoc {
            name: p.name.clone(),
            type_name: p.type_name.clone(),
            default: p.default.as_ref().map(literal),
            optional: p.optional,
            constraints,
            doc: p.doc.clone(),
            deprecated: p.deprecated.clone(),
        }
    }

    /// Neither a default nor optional: every call must give it.
    pub fn required(&self) -> bool {
        self.default.is_none() && !self.optional
    }
}

fn params_doc(p: &Params) -> Vec<ParamDoc> {
    let mut v: Vec<ParamDoc> = p.0.iter().map(ParamDoc::of).collect();
    v.sort_by(|a, b| a.name.cmp(&b.name));
    v
}

/// The interface of the script or module at `path` (shown as `name` in errors):
/// `Ok(None)` when it declares neither `RECIPE` nor `PARAMS`.
pub fn read_doc(path: &Path, name: &str) -> Result<Option<RecipeDoc>, ScriptError> {
    let text = super::load_file(path)?;
    doc_of_text(&text, name)
}

/// [`read_doc`] of a text.
pub fn doc_of_text(text: &str, name: &str) -> Result<Option<RecipeDoc>, ScriptError> {
    let ctx = Ctx::new(Mode::Script, Vec::new());
    let engine = engine::build(&ctx, engine::resolver(&ctx, &[], None, None));
    ctx.sources().insert(name, text);
    ctx.set_main(name);
    let ast = engine
        .compile(text)
        .map_err(|e| diagnose::from_parse(&e, name, &ctx.sources()))?;
    let about: Vec<String> = text
        .lines()
        .map_while(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l).to_string())
        .collect();
    let author = |(at, message, help): super::recipe_module::AuthorError| {
        let e = ScriptError::new(format!("{name}: {message}")).with_help(help);
        match at {
            Some((line, column)) => e.label(&ctx.sources(), name, line, column, "here"),
            None => e,
        }
    };
    if let Some(schema) = read_recipe(&ast, text).map_err(author)? {
        let entries = schema
            .entries
            .iter()
            .map(|(n, e)| EntryDoc {
                name: n.clone(),
                doc: e.doc.clone(),
                returns: e.returns.clone(),
                params: params_doc(&e.params),
                checks: e.checks.clone(),
            })
            .collect();
        return Ok(Some(RecipeDoc {
            about,
            entries,
            site: false,
        }));
    }
    Ok(read_params(&ast, text).map_err(author)?.map(|p| RecipeDoc {
        about,
        entries: vec![EntryDoc {
            name: "PARAMS".into(),
            doc: None,
            returns: None,
            params: params_doc(&p),
            checks: Vec::new(),
        }],
        site: true,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recipe_reads_without_running() {
        let src = r#"//! web: one VIP.
//! Second line.
const RECIPE = #{
    web: #{
        doc: "HTTP of a VIP",
        params: #{
            vip: #{ type: "ip", doc: "the address" },
            servers: #{ type: "list<server>", min: 1, unique: true },
            persist: #{ type: "seconds", "default": 1200 },
            weight: #{ type: "weight", "default": 1, deprecated: "per server" },
            comment: #{ type: "string", optional: true },
        },
    },
};
fn web(p) { let p = args(p); throw "never run"; }
"#;
        let d = doc_of_text(src, "web.rhai").unwrap().unwrap();
        assert_eq!(d.about, ["web: one VIP.", "Second line."]);
        assert!(!d.site);
        let e = &d.entries[0];
        assert_eq!(e.name, "web");
        let names: Vec<&str> = e.params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["comment", "persist", "servers", "vip", "weight"]);
        assert_eq!(e.params[1].default.as_deref(), Some("1200"));
        assert_eq!(e.params[2].constraints, ["at least 1 item", "unique"]);
        assert!(e.params[3].required() && !e.params[0].required());
        assert_eq!(e.params[4].deprecated.as_deref(), Some("per server"));
    }

    #[test]
    fn site_params_and_plain_scripts() {
        let d = doc_of_text("const PARAMS = #{ vip: #{ type: \"ip\" } };", "s.rhai")
            .unwrap()
            .unwrap();
        assert!(d.site);
        assert_eq!(d.entries[0].params[0].type_name, "ip");
        assert!(doc_of_text("let x = 1;", "p.rhai").unwrap().is_none());
    }

    #[test]
    fn a_broken_schema_is_an_error_at_its_place() {
        let e = doc_of_text(
            "const RECIPE = #{ web: #{ params: #{ p: #{ type: \"prot\" } } } };\nfn web(p) { let p = args(p); }",
            "r.rhai",
        )
        .unwrap_err();
        assert!(e.message().contains("r.rhai"), "{}", e.message());
        assert!(e.location().is_some());
    }
}
