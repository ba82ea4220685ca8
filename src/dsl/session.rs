//! The REPL's evaluator: one scope and the function definitions live across
//! entries, each entry is a transaction, and the pending model can be undone.

use super::Options;
use super::build;
use super::check::CheckDraft;
use super::daemon::DaemonDraft;
use super::diagnose;
use super::docs::{self, FnDoc};
use super::engine;
use super::error::ScriptError;
use super::resolver::Shared;
use super::resolver::SharedModule;
use super::service::ServiceDraft;
use super::state::{
    Ctx, DaemonHandle, Handle, Mode, RealServerHandle, ServiceHandle, Snapshot, lock,
};
use super::timeouts::TimeoutsDraft;
use crate::model::{Balancer, Family, Service, ServiceKey};
use rhai::{AST, Array, Dynamic, Engine, ParseErrorType, Position, Scope};
use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};

/// How many entries `:undo` can take back: each kept state holds a pointer per
/// object, so an unbounded history would grow with entries times objects.
pub const UNDO_DEPTH: usize = 100;

/// Everything an entry can change, as it was before the entry.
#[derive(Clone)]
struct Saved {
    registry: Snapshot,
    scope: Scope<'static>,
    functions: AST,
    modules: Vec<(String, SharedModule)>,
}

/// A REPL session over a pending desired model.
///
/// The start model's services, marks, daemons and timeouts are pre-registered:
/// `service(addr, port)` or `mark(n)` re-opens an existing one (and attaching a real
/// server with the address and port of an attached one replaces it), so entries
/// edit the model step by step. Validation runs in [`Session::balancer`], not per
/// entry, so a model may be incomplete between entries.
pub struct Session {
    ctx: Arc<Ctx>,
    resolver: Shared,
    engine: Engine,
    scope: Scope<'static>,
    functions: AST,
    modules: Vec<(String, SharedModule)>,
    start: Saved,
    /// The states before the last entries, newest last, at most [`UNDO_DEPTH`].
    history: VecDeque<Saved>,
    /// A site's values files: checked against `PARAMS` when an entry declares it.
    values: Option<Arc<super::SiteValues>>,
}

impl Session {
    pub fn new(opts: Options, start: Balancer) -> Self {
        let ctx = Ctx::new(Mode::Repl, opts.params.clone());
        let resolver = engine::resolver(
            &ctx,
            &opts.lib_dirs,
            Some(".".into()),
            opts.libraries.clone(),
        );
        let mut engine = engine::build(&ctx, resolver.clone());
        engine::track_calls(&mut engine);
        preload(&ctx, &start);
        let mut s = Session {
            ctx,
            resolver,
            engine,
            scope: Scope::new(),
            functions: AST::empty(),
            modules: Vec::new(),
            start: Saved {
                registry: Snapshot::empty(),
                scope: Scope::new(),
                functions: AST::empty(),
                modules: Vec::new(),
            },
            history: VecDeque::new(),
            values: opts.values.clone(),
        };
        s.start = s.save();
        s
    }

    fn save(&self) -> Saved {
        Saved {
            registry: self.ctx.registry().snapshot(),
            scope: self.scope.clone(),
            functions: self.functions.clone(),
            modules: self.modules.clone(),
        }
    }

    fn restore(&mut self, s: Saved) {
        self.ctx.registry().restore(&s.registry);
        self.scope = s.scope;
        self.functions = s.functions;
        let same = self.modules.len() == s.modules.len()
            && self
                .modules
                .iter()
                .zip(&s.modules)
                .all(|(a, b)| a.0 == b.0 && Arc::ptr_eq(&a.1, &b.1));
        if !same {
            self.modules = s.modules;
            self.engine = engine::build(&self.ctx, self.resolver.clone());
            engine::track_calls(&mut self.engine);
            for (name, m) in &self.modules {
                self.engine.register_static_module(name.as_str(), m.clone());
            }
        }
    }

    /// Runs one entry. On any error, the pending model, the scope and the functions
    /// are as before. `Ok(Some(text))` is the entry's value, for display.
    pub fn eval(&mut self, name: &str, source: &str) -> Result<Option<String>, ScriptError> {
        self.run(name, source, source)
    }

    /// Runs the entry that ends `document` from its line `first_line` (1-based), so
    /// that errors, now and at `:plan`, cite lines of the whole input (`<stdin>:7:3`)
    /// and show it.
    pub fn eval_in(
        &mut self,
        name: &str,
        document: &str,
        first_line: usize,
    ) -> Result<Option<String>, ScriptError> {
        let skip = first_line.saturating_sub(1);
        let start = match skip {
            0 => 0,
            n => document
                .match_indices('\n')
                .nth(n - 1)
                .map_or(document.len(), |(i, _)| i + 1),
        };
        // Blank lines in front keep rhai's positions those of the document.
        let source = format!("{}{}", "\n".repeat(skip), &document[start..]);
        self.run(name, document, &source)
    }

    /// Runs the last entry again with more text (`source` extends it): on success it
    /// replaces the last entry (one `:undo` drops both), on error the last entry
    /// stays in effect. Without a last entry it is [`Session::eval`].
    pub fn extend_last(&mut self, name: &str, source: &str) -> Result<Option<String>, ScriptError> {
        let Some(before_last) = self.history.pop_back() else {
            return self.eval(name, source);
        };
        let after_last = self.save();
        self.restore(before_last.clone());
        // On success `eval` pushes the state before the last entry: undo drops both.
        match self.eval(name, source) {
            Ok(v) => Ok(v),
            Err(e) => {
                self.restore(after_last);
                self.history.push_back(before_last);
                Err(e)
            }
        }
    }

    /// `source` runs; `shown` is the text errors show under `name` (the same, or
    /// the whole input `source` is the end of).
    fn run(
        &mut self,
        name: &str,
        shown: &str,
        source: &str,
    ) -> Result<Option<String>, ScriptError> {
        let before = self.save();
        self.ctx.sources().insert(name, shown);
        self.ctx.set_main(name);
        let mut ast = self
            .engine
            .compile_with_scope(&self.scope, source)
            .map_err(|e| diagnose::from_parse(&e, name, &self.ctx.sources()))?;
        ast.set_source(name);
        // An entry that declares `PARAMS` (the script the session started from)
        // checks `--set` and the values files against it, as `plan` does.
        if source.contains("const PARAMS") {
            super::site_params::apply(&self.ctx, &ast, name, source, self.values.as_deref())?;
        }
        let merged = self.functions.merge(&ast);
        self.ctx.start_clock();
        match self
            .engine
            .eval_ast_with_scope::<Dynamic>(&mut self.scope, &merged)
        {
            Ok(value) => {
                self.functions = merged.clone_functions_only();
                if let Err(e) = self.keep_imports(name, source) {
                    self.restore(before);
                    return Err(e);
                }
                if self.history.len() == UNDO_DEPTH {
                    self.history.pop_front();
                }
                self.history.push_back(before);
                Ok(display(&value))
            }
            Err(e) => {
                let err = diagnose::from_rhai(&e, name, &self.ctx.sources());
                self.restore(before);
                Err(err)
            }
        }
    }

    /// Top-level `import "path" as name;` statements stay visible to later entries.
    fn keep_imports(&mut self, name: &str, source: &str) -> Result<(), ScriptError> {
        use rhai::ModuleResolver;
        for (path, alias) in imports(source) {
            let m = self
                .resolver
                .resolve(&self.engine, Some(name), &path, Position::NONE)
                .map_err(|e| diagnose::from_rhai(&e, name, &self.ctx.sources()))?;
            self.modules.retain(|(n, _)| *n != alias);
            self.modules.push((alias.clone(), m.clone()));
            self.engine.register_static_module(alias.as_str(), m);
        }
        Ok(())
    }

    /// The pending model, validated.
    pub fn balancer(&self) -> Result<Balancer, ScriptError> {
        let built = build::build(&self.ctx.registry(), Mode::Repl);
        if let Some(e) = diagnose::from_problems(&built.problems, &self.ctx.sources()) {
            return Err(e);
        }
        Ok(built.balancer)
    }

    /// Warnings about the pending model (shadowed services and the like).
    pub fn warnings(&self) -> Vec<String> {
        diagnose::warnings(&build::build(&self.ctx.registry(), Mode::Repl).problems)
    }

    /// Drops the effect of the last successful entry; false if there is none.
    pub fn undo(&mut self) -> bool {
        match self.history.pop_back() {
            Some(s) => {
                self.restore(s);
                true
            }
            None => false,
        }
    }

    /// Back to the start model, with an empty scope.
    pub fn reset(&mut self) {
        self.history.clear();
        self.restore(self.start.clone());
    }

    /// Lines printed by entries since the last call.
    pub fn take_output(&mut self) -> Vec<String> {
        std::mem::take(&mut *lock(&self.ctx.output))
    }

    /// Every DSL function and method, for `:help` and completion.
    pub fn functions() -> Vec<FnDoc> {
        docs::all()
    }

    /// True when `source` ends inside an open bracket, string or method chain, so
    /// the REPL should keep reading lines.
    pub fn is_incomplete(source: &str) -> bool {
        let t = source.trim_end();
        if t.is_empty() {
            return false;
        }
        if t.ends_with('\\') || t.ends_with('.') || t.ends_with(',') {
            return true;
        }
        static PARSER: OnceLock<Engine> = OnceLock::new();
        let parser = PARSER.get_or_init(Engine::new_raw);
        let Err(e) = parser.compile(source) else {
            return false;
        };
        let end_line = source.lines().count().max(1);
        let at_end = e.position().line().is_none_or(|l| l >= end_line);
        match e.err_type() {
            ParseErrorType::UnexpectedEOF => true,
            ParseErrorType::BadInput(rhai::LexError::UnterminatedString) => true,
            ParseErrorType::MissingToken(t, _) if t != ";" => at_end,
            ParseErrorType::PropertyExpected | ParseErrorType::ExprExpected(_) => at_end,
            _ => false,
        }
    }
}

/// Registers the start model as handles.
fn preload(ctx: &Ctx, start: &Balancer) {
    let mut reg = ctx.registry();
    for s in start.services.values() {
        let vips = start.mark_vips(s.key);
        let rule = match s.key {
            ServiceKey::Fwmark { fwmark, .. } if !vips.is_empty() => {
                start.marks.get(&fwmark).map(|r| (r, vips.as_slice()))
            }
            _ => None,
        };
        let (d, servers) = ServiceDraft::from_model(s, rule, start.checks.service(&s.key));
        reg.services.push(Handle::new(d));
        reg.servers.extend(servers);
    }
    // A rule without any fwmark service of its mark gets one of its first family.
    for r in start.marks.values() {
        let fam = r
            .addresses
            .iter()
            .next()
            .map(Family::of)
            .unwrap_or(Family::Inet);
        let has_service = [Family::Inet, Family::Inet6]
            .into_iter()
            .any(|f| start.services.contains_key(&ServiceKey::fwmark(f, r.mark)));
        if !has_service {
            let vips: Vec<_> = r.addresses.iter().copied().collect();
            let (d, _) = ServiceDraft::from_model(
                &Service::new(ServiceKey::fwmark(fam, r.mark)),
                Some((r, &vips)),
                None,
            );
            reg.services.push(Handle::new(d));
        }
    }
    for d in start.daemons.values() {
        reg.daemons.push(Handle::new(DaemonDraft::from_model(d)));
    }
    reg.timeouts = TimeoutsDraft::from_model(&start.timeouts);
}

/// `import "path" as alias;` statements that start a line.
fn imports(source: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in source.lines() {
        let Some(rest) = line.trim_start().strip_prefix("import") else {
            continue;
        };
        let rest = rest.trim_start();
        let Some(rest) = rest.strip_prefix('"') else {
            continue;
        };
        let Some((path, rest)) = rest.split_once('"') else {
            continue;
        };
        let Some(rest) = rest.trim_start().strip_prefix("as") else {
            continue;
        };
        let alias: String = rest
            .trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !alias.is_empty() {
            out.push((path.to_string(), alias));
        }
    }
    out
}

/// Display text of an entry's value; nothing for `()`.
fn display(v: &Dynamic) -> Option<String> {
    if v.is_unit() {
        return None;
    }
    Some(text(v))
}

fn text(v: &Dynamic) -> String {
    if let Some(h) = v.clone().try_cast::<ServiceHandle>() {
        h.lock().to_string()
    } else if let Some(h) = v.clone().try_cast::<RealServerHandle>() {
        h.lock().to_string()
    } else if let Some(h) = v.clone().try_cast::<DaemonHandle>() {
        h.lock().to_string()
    } else if let Some(c) = v.clone().try_cast::<CheckDraft>() {
        c.to_string()
    } else if v.is_array() {
        let items: Vec<String> = v.clone().cast::<Array>().iter().map(text).collect();
        format!("[{}]", items.join(", "))
    } else if v.is_string() {
        format!("{v:?}")
    } else {
        v.to_string()
    }
}

/// What the REPL's completion needs to know about a session.
impl Session {
    /// The scope's variables with the DSL name of their type (`Service`,
    /// `RealServer`, `string`, `i64`), in definition order.
    pub fn variables(&self) -> Vec<(String, String)> {
        self.scope
            .iter_raw()
            .map(|(name, _, v)| {
                let ty = self.engine.map_type_name(v.type_name());
                (name.to_string(), ty.to_string())
            })
            .collect()
    }

    /// Functions defined by entries (`fn pool(ips) { .. }`): name and parameters.
    pub fn script_functions(&self) -> Vec<(String, Vec<String>)> {
        self.functions
            .iter_functions()
            .map(|f| {
                let params = f.params.iter().map(|p| p.to_string()).collect();
                (f.name.to_string(), params)
            })
            .collect()
    }

    /// Names of the recipes compiled into lvsh, as `import "name"` takes them.
    pub fn stdlib() -> Vec<&'static str> {
        super::resolver::STDLIB.iter().map(|(n, _)| *n).collect()
    }
}

impl Snapshot {
    pub(crate) fn empty() -> Self {
        super::state::Registry::default().snapshot()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_are_found_at_line_starts() {
        assert_eq!(
            imports(
                "import \"dr_pool\" as dr;\n  import \"a/b\" as ab; let x = 1;\nlet y = \"import\";"
            ),
            vec![
                ("dr_pool".to_string(), "dr".to_string()),
                ("a/b".to_string(), "ab".to_string())
            ]
        );
    }

    #[test]
    fn incomplete_input_keeps_reading() {
        for t in [
            "service(\"10.0.0.1\",",
            "fn f() {",
            "[1, 2",
            "\"abc",
            "service(\"a\", 80).",
            "let x = (",
        ] {
            assert!(Session::is_incomplete(t), "{t}");
        }
        for t in [
            "service(\"10.0.0.1\", 80)",
            "let x = 1;",
            "",
            "let = ;",
            "1 +* 2",
        ] {
            assert!(!Session::is_incomplete(t), "{t}");
        }
    }
}
