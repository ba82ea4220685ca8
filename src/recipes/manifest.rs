//! `lvsh.toml` (which libraries a site uses, from where, which versions) and
//! `lvsh-lib.toml` (a library's name, the lvsh it needs, its package files).

use super::{
    RecipesError,
    error::Origin,
    hash::{Include, LIB_MANIFEST},
    toml_doc,
};
use std::{
    ops::Range,
    path::{Component, Path, PathBuf},
};

/// The file that makes a directory a site root.
pub const SITE_MANIFEST: &str = "lvsh.toml";

/// Where a library comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Source {
    /// A git repository (locked: tag, commit and hash in `lvsh.lock`).
    Git { url: String, subdir: Option<String> },
    /// A directory, as written in `lvsh.toml` (relative to the site root): never
    /// locked, for developing a library next to a site.
    Path(PathBuf),
}

impl Source {
    /// The `source` of the library in `lvsh.lock`: `git+URL`.
    pub fn lock_string(&self) -> String {
        match self {
            Source::Git { url, .. } => format!("git+{url}"),
            Source::Path(p) => format!("path+{}", p.display()),
        }
    }
}

/// One entry of `[libraries]`.
#[derive(Debug, Clone)]
pub struct Requirement {
    pub name: String,
    pub source: Source,
    /// For git sources; `None` means any version (the newest tag).
    pub version: Option<semver::VersionReq>,
    /// The entry (key and value) in `lvsh.toml`.
    pub span: Range<usize>,
}

impl Requirement {
    /// What the lock records as `requested`: the version requirement as written
    /// (`*` when there is none).
    pub fn requested(&self) -> String {
        self.version
            .as_ref()
            .map_or_else(|| "*".to_string(), |v| v.to_string())
    }
}

/// A site's `lvsh.toml`.
#[derive(Debug, Clone)]
pub struct SiteManifest {
    /// The directory holding `lvsh.toml`.
    pub root: PathBuf,
    pub libraries: Vec<Requirement>,
    /// The file, for errors about its entries.
    pub origin: Origin,
}

/// A library name: what `@NAME/` imports use, a directory name in `vendor/lvsh/`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'))
        && name != "self"
        && name != "std"
}

impl SiteManifest {
    /// The nearest `lvsh.toml` in `start_dir` or above (`None`: not a site with
    /// libraries). A relative `start_dir` keeps relative paths in messages.
    pub fn discover(start_dir: &Path) -> Result<Option<SiteManifest>, RecipesError> {
        let start = if start_dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            start_dir
        };
        let lexical = start.is_relative()
            && start
                .components()
                .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
        // A plain relative path is walked up as written (`sites` then `.`), so
        // messages keep short paths; then on from the current directory's parent.
        let mut dirs: Vec<PathBuf> = Vec::new();
        let abs_from = if lexical {
            dirs.extend(
                start
                    .ancestors()
                    .filter(|d| !d.as_os_str().is_empty() && *d != Path::new("."))
                    .map(Path::to_path_buf),
            );
            dirs.push(PathBuf::from("."));
            std::fs::canonicalize(".")
                .ok()
                .and_then(|d| d.parent().map(Path::to_path_buf))
        } else {
            std::fs::canonicalize(start).ok()
        };
        for d in dirs.into_iter().chain(
            abs_from
                .iter()
                .flat_map(|a| a.ancestors().map(Path::to_path_buf)),
        ) {
            if d.join(SITE_MANIFEST).is_file() {
                return SiteManifest::load(&d).map(Some);
            }
        }
        Ok(None)
    }

    /// Reads `root/lvsh.toml`.
    pub fn load(root: &Path) -> Result<SiteManifest, RecipesError> {
        let path = tidy_join(root, SITE_MANIFEST);
        let origin = toml_doc::read(&path)?.ok_or_else(|| {
            RecipesError::read(
                &path,
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            )
        })?;
        let doc = toml_doc::parse(&origin)?;
        toml_doc::known_keys(&origin, &doc, &["libraries"], "lvsh.toml")?;
        let mut libraries = Vec::new();
        if let Some(libs) = toml_doc::get(&doc, "libraries") {
            let libs = toml_doc::table(&origin, libs, "`libraries`")?;
            for (k, v) in libs.iter() {
                libraries.push(requirement(&origin, k.get_ref(), k.span(), v)?);
            }
        }
        libraries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(SiteManifest {
            root: root.to_path_buf(),
            libraries,
            origin,
        })
    }

    pub fn get(&self, name: &str) -> Option<&Requirement> {
        self.libraries.iter().find(|r| r.name == name)
    }
}

/// `root/name`, without a leading `./` when `root` is `.`.
pub(crate) fn tidy_join(root: &Path, name: &str) -> PathBuf {
    if root == Path::new(".") {
        PathBuf::from(name)
    } else {
        root.join(name)
    }
}

fn requirement(
    origin: &Origin,
    name: &str,
    key_span: Range<usize>,
    v: &toml_doc::Value<'_>,
) -> Result<Requirement, RecipesError> {
    let span = key_span.start..v.span().end;
    if !valid_name(name) {
        return Err(origin
            .error(
                key_span,
                format!("`{name}` is not a library name"),
                "this name",
            )
            .with_help(
                "a library name is lowercase letters, digits, `_` and `-` (not `self` or `std`); \
             it is what `import \"@NAME/…\"` uses",
            ));
    }
    let what = format!("library `{name}`");
    let t = toml_doc::table(origin, v, &what)?;
    toml_doc::known_keys(origin, t, &["git", "version", "subdir", "path"], &what)?;
    let get = |k| toml_doc::get(t, k);
    let source = match (get("git"), get("path")) {
        (Some(g), None) => {
            let url = toml_doc::string(origin, g, "`git`")?;
            let subdir = get("subdir")
                .map(|s| {
                    let sub = toml_doc::string(origin, s, "`subdir`")?;
                    if sub.is_empty() || sub.split('/').any(|c| c.is_empty() || c == "." || c == "..") {
                        return Err(origin.error(
                            s.span(),
                            format!("`subdir` of library `{name}` must be a relative path inside the repository"),
                            "this path",
                        ));
                    }
                    Ok(sub)
                })
                .transpose()?;
            Source::Git { url, subdir }
        }
        (None, Some(p)) => {
            for k in ["version", "subdir"] {
                if let Some(x) = get(k) {
                    return Err(origin
                        .error(
                            x.span(),
                            format!("library `{name}` comes from a directory, which has no `{k}`"),
                            "remove this",
                        )
                        .with_help("`version` and `subdir` are for `git` sources"));
                }
            }
            Source::Path(PathBuf::from(toml_doc::string(origin, p, "`path`")?))
        }
        (Some(_), Some(p)) => {
            return Err(origin.error(
                p.span(),
                format!("library `{name}` has both `git` and `path`"),
                "one of them",
            ));
        }
        (None, None) => {
            return Err(origin
                .error(span, format!("library `{name}` has no source"), "here")
                .with_help(format!(
                    "write `{name} = {{ git = \"URL\", version = \"^1.0\" }}`, or `{{ path = \"DIR\" }}` while developing it"
                )));
        }
    };
    let version = get("version")
        .map(|v| {
            let s = toml_doc::string(origin, v, "`version`")?;
            semver::VersionReq::parse(&s).map_err(|e| {
                origin
                    .error(
                        v.span(),
                        format!("`{s}` is not a version requirement: {e}"),
                        "this version",
                    )
                    .with_help("write a requirement as Cargo does: `^1.4`, `~1.4.2`, `=1.4.2`")
            })
        })
        .transpose()?;
    Ok(Requirement {
        name: name.to_string(),
        source,
        version,
        span,
    })
}

/// A library's `lvsh-lib.toml`.
#[derive(Debug, Clone)]
pub struct LibManifest {
    pub name: String,
    pub description: Option<String>,
    pub requires_lvsh: Option<semver::VersionReq>,
    pub include: Include,
    /// Where `requires-lvsh` is written, for the error when it does not hold.
    pub requires_span: Option<Range<usize>>,
    pub origin: Origin,
}

impl LibManifest {
    /// Reads `lib_root/lvsh-lib.toml`.
    pub fn load(lib_root: &Path) -> Result<LibManifest, RecipesError> {
        let path = lib_root.join(LIB_MANIFEST);
        let origin = toml_doc::read(&path)?.ok_or_else(|| {
            RecipesError::plain(format!(
                "`{}` is not a library: it has no {LIB_MANIFEST}",
                lib_root.display()
            ))
            .with_help(format!(
                "a library's root holds {LIB_MANIFEST} with `[library]` and `name = \"NAME\"`"
            ))
        })?;
        let doc = toml_doc::parse(&origin)?;
        toml_doc::known_keys(&origin, &doc, &["library"], LIB_MANIFEST)?;
        let Some(lib) = toml_doc::get(&doc, "library") else {
            return Err(origin.error(
                0..0,
                format!("{LIB_MANIFEST} has no `[library]` table"),
                "here",
            ));
        };
        let t = toml_doc::table(&origin, lib, "`library`")?;
        toml_doc::known_keys(
            &origin,
            t,
            &["name", "description", "requires-lvsh", "include"],
            "`[library]`",
        )?;
        let (name, name_span) = toml_doc::required(&origin, t, "name", lib.span(), "`[library]`")?;
        if !valid_name(&name) {
            return Err(origin
                .error(
                    name_span,
                    format!("`{name}` is not a library name"),
                    "this name",
                )
                .with_help("a library name is lowercase letters, digits, `_` and `-`"));
        }
        let description = toml_doc::get(t, "description")
            .map(|v| toml_doc::string(&origin, v, "`description`"))
            .transpose()?;
        let mut requires_span = None;
        let requires_lvsh = toml_doc::get(t, "requires-lvsh")
            .map(|v| {
                requires_span = Some(v.span());
                let s = toml_doc::string(&origin, v, "`requires-lvsh`")?;
                semver::VersionReq::parse(&s).map_err(|e| {
                    origin.error(
                        v.span(),
                        format!("`{s}` is not a version requirement: {e}"),
                        "this version",
                    )
                })
            })
            .transpose()?;
        let include = match toml_doc::get(t, "include") {
            None => Include::default(),
            Some(v) => {
                let patterns = toml_doc::strings(&origin, v, "`include`")?;
                if let Some(bad) = patterns
                    .iter()
                    .find(|p| p.is_empty() || p.starts_with('/') || p.split('/').any(|c| c == ".."))
                {
                    return Err(origin.error(
                        v.span(),
                        format!("`include` pattern `{bad}` must be relative to the library root"),
                        "this list",
                    ));
                }
                Include { patterns }
            }
        };
        Ok(LibManifest {
            name,
            description,
            requires_lvsh,
            include,
            requires_span,
            origin,
        })
    }

    /// `requires-lvsh` against this lvsh's version.
    pub fn check_lvsh(&self, lvsh: &semver::Version) -> Result<(), RecipesError> {
        match &self.requires_lvsh {
            Some(req) if !req.matches(lvsh) => Err(self
                .origin
                .error(
                    self.requires_span.clone().unwrap_or(0..0),
                    format!("library `{}` needs lvsh {req} (this is {lvsh})", self.name),
                    "required here",
                )
                .with_help("upgrade lvsh, or lock an older version of the library")),
            _ => Ok(()),
        }
    }
}

/// This lvsh's version, what `requires-lvsh` is checked against.
pub fn lvsh_version() -> semver::Version {
    semver::Version::parse(env!("CARGO_PKG_VERSION")).expect("Cargo versions are semver")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn site(text: &str) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join(SITE_MANIFEST), text).unwrap();
        d
    }

    #[test]
    fn a_site_manifest_names_git_and_path_libraries() {
        let d = site(
            "[libraries]\n\
             dev = { path = \"../lib\" }\n\
             acme = { git = \"file:///srv/r.git\", version = \"^1.0\", subdir = \"lib\" }\n",
        );
        let m = SiteManifest::load(d.path()).unwrap();
        assert_eq!(m.libraries.len(), 2);
        let acme = m.get("acme").unwrap();
        assert_eq!(
            acme.source,
            Source::Git {
                url: "file:///srv/r.git".into(),
                subdir: Some("lib".into())
            }
        );
        assert_eq!(acme.requested(), "^1.0");
        assert_eq!(acme.source.lock_string(), "git+file:///srv/r.git");
        assert_eq!(
            &m.origin.text[acme.span.clone()].split(' ').next(),
            &Some("acme")
        );
        assert_eq!(m.get("dev").unwrap().source, Source::Path("../lib".into()));
    }

    #[test]
    fn discovery_walks_up_to_the_site_root() {
        let d = site("[libraries]\n");
        fs::create_dir_all(d.path().join("sites/x")).unwrap();
        let m = SiteManifest::discover(&d.path().join("sites/x"))
            .unwrap()
            .unwrap();
        assert_eq!(m.root, d.path());
        let none = tempfile::tempdir().unwrap();
        // Nothing in the temp dir; a stray lvsh.toml above /tmp would be odd.
        assert!(
            SiteManifest::discover(none.path())
                .unwrap()
                .is_none_or(|m| !m.root.starts_with(none.path()))
        );
    }

    #[test]
    fn bad_entries_point_at_their_line() {
        for (text, needle) in [
            (
                "[libraries]\nacme = { git = \"u\", versoin = \"1\" }\n",
                "did you mean `version`",
            ),
            (
                "[libraries]\nacme = { git = \"u\", version = \"one\" }\n",
                "not a version requirement",
            ),
            (
                "[libraries]\nacme = { path = \"x\", version = \"1\" }\n",
                "has no `version`",
            ),
            (
                "[libraries]\nAcme = { path = \"x\" }\n",
                "not a library name",
            ),
            ("[libraries]\nacme = {}\n", "has no source"),
            ("[library]\n", "unknown key `library`"),
        ] {
            let d = site(text);
            let e = SiteManifest::load(d.path()).unwrap_err();
            assert!(e.to_string().contains(needle), "{text}: {e}");
            assert!(matches!(e, RecipesError::At(_)), "{text}");
        }
    }

    #[test]
    fn a_library_manifest_has_a_name_and_may_need_an_lvsh() {
        let d = tempfile::tempdir().unwrap();
        fs::write(
            d.path().join(LIB_MANIFEST),
            "[library]\nname = \"acme\"\nrequires-lvsh = \">=99.0\"\ninclude = [\"recipes/**\"]\n",
        )
        .unwrap();
        let m = LibManifest::load(d.path()).unwrap();
        assert_eq!(m.name, "acme");
        assert_eq!(m.include.patterns, ["recipes/**"]);
        let e = m.check_lvsh(&lvsh_version()).unwrap_err();
        assert!(e.to_string().contains("needs lvsh >=99.0"), "{e}");
        let none = tempfile::tempdir().unwrap();
        assert!(
            LibManifest::load(none.path())
                .unwrap_err()
                .to_string()
                .contains("is not a library")
        );
    }
}
