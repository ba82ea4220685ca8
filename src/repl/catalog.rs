//! What completion and hints know: the DSL's documented functions and methods,
//! and the session's variables, functions and importable modules.

use crate::dsl::{FnDoc, Session};
use std::path::Path;

/// One documented signature, split up: `Service.persist(secs: int) -> Service`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sig {
    /// `Service`, `RealServer`, `SyncDaemon`; `None` for a global function.
    pub receiver: Option<String>,
    pub name: String,
    pub params: String,
    pub returns: String,
    pub doc: String,
    /// As the DSL documents it.
    pub text: String,
}

impl Sig {
    fn parse(d: &FnDoc) -> Sig {
        let head = d.signature.split('(').next().unwrap_or_default();
        let receiver = head.split_once('.').map(|(r, _)| r.to_string());
        let params = d
            .signature
            .split_once('(')
            .and_then(|(_, rest)| rest.rsplit_once(')'))
            .map(|(p, _)| p.to_string())
            .unwrap_or_default();
        let returns = d
            .signature
            .rsplit_once("->")
            .map(|(_, r)| r.trim().to_string())
            .unwrap_or_default();
        Sig {
            receiver,
            name: d.name.clone(),
            params,
            returns,
            doc: d.doc.clone(),
            text: d.signature.clone(),
        }
    }
}

/// Everything a completion or a hint may name.
#[derive(Debug, Clone, Default)]
pub(crate) struct Catalog {
    pub sigs: Vec<Sig>,
    /// Variables in scope with their type names (`Service`, `string`; empty when
    /// unknown), the innermost first.
    pub variables: Vec<(String, String)>,
    /// Functions the session defined, with their parameter names.
    pub script_fns: Vec<(String, Vec<String>)>,
    /// What `import "…"` can name.
    pub modules: Vec<String>,
}

impl Catalog {
    /// The DSL's functions and the modules of the stdlib and of `dirs`.
    pub fn new(dirs: &[&Path]) -> Self {
        let mut modules: Vec<String> = Session::stdlib().into_iter().map(String::from).collect();
        for dir in dirs {
            modules.extend(rhai_files(dir));
        }
        modules.sort();
        modules.dedup();
        Catalog {
            sigs: Session::functions().iter().map(Sig::parse).collect(),
            variables: Vec::new(),
            script_fns: Vec::new(),
            modules,
        }
    }

    /// Takes the session's current variables and functions.
    pub fn update(&mut self, session: &Session) {
        self.variables = session.variables();
        self.script_fns = session.script_functions();
    }

    /// The type of a variable, if it is in scope and known.
    pub fn variable_type(&self, name: &str) -> Option<&str> {
        self.variables
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.as_str())
            .filter(|t| !t.is_empty())
    }

    /// Signatures of the method `name`; of any receiver when `receiver` is `None`.
    pub fn methods<'a>(&'a self, receiver: Option<&'a str>) -> impl Iterator<Item = &'a Sig> + 'a {
        self.sigs
            .iter()
            .filter(move |s| match (&s.receiver, receiver) {
                (Some(r), Some(want)) => r == want,
                (Some(_), None) => true,
                (None, _) => false,
            })
    }

    pub fn globals(&self) -> impl Iterator<Item = &Sig> {
        self.sigs.iter().filter(|s| s.receiver.is_none())
    }

    /// Is `ty` one of the DSL's handle types (which have methods)?
    pub fn is_dsl_type(&self, ty: &str) -> bool {
        self.sigs.iter().any(|s| s.receiver.as_deref() == Some(ty))
    }

    /// What calling `name` returns: a method of `receiver` (any receiver when
    /// unknown) or, with `method` false, a global function. `None` when that is
    /// not one type.
    pub fn returns(&self, method: bool, receiver: Option<&str>, name: &str) -> Option<String> {
        let mut types: Vec<&str> = if method {
            self.methods(receiver)
                .filter(|s| s.name == name)
                .map(|s| s.returns.as_str())
                .collect()
        } else {
            self.globals()
                .filter(|s| s.name == name)
                .map(|s| s.returns.as_str())
                .collect()
        };
        types.sort_unstable();
        types.dedup();
        match types.as_slice() {
            [one] => Some(one.to_string()),
            _ => None,
        }
    }
}

/// `name` for every `name.rhai` in `dir`.
fn rhai_files(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let stem = name.strip_suffix(".rhai")?;
            (!stem.is_empty() && e.path().is_file()).then(|| stem.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_split() {
        let c = Catalog::new(&[]);
        let persist = c
            .sigs
            .iter()
            .find(|s| s.name == "persist" && !s.params.is_empty())
            .unwrap();
        assert_eq!(persist.receiver.as_deref(), Some("Service"));
        assert_eq!(persist.params, "secs: int");
        assert_eq!(persist.returns, "Service");
        let service = c.globals().find(|s| s.name == "service").unwrap();
        assert_eq!(service.params, "addr: string, port: int");
    }

    #[test]
    fn return_types_follow_the_docs() {
        let c = Catalog::new(&[]);
        assert_eq!(c.returns(false, None, "rs").as_deref(), Some("RealServer"));
        assert_eq!(c.returns(false, None, "mark").as_deref(), Some("Service"));
        assert_eq!(
            c.returns(true, Some("Service"), "server").as_deref(),
            Some("RealServer")
        );
        // `port` is a method of services and of sync daemons.
        assert_eq!(c.returns(true, None, "port"), None);
        assert!(c.is_dsl_type("SyncDaemon"));
        assert!(!c.is_dsl_type("string"));
    }

    #[test]
    fn modules_come_from_the_stdlib_and_directories() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("site.rhai"), "").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "").unwrap();
        let c = Catalog::new(&[dir.path()]);
        assert!(c.modules.contains(&"dr_pool".to_string()));
        assert!(c.modules.contains(&"site".to_string()));
        assert!(!c.modules.iter().any(|m| m.starts_with("notes")));
    }
}
