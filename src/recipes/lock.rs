//! `lvsh.lock`: the exact version, commit and content hash of each library of a
//! site, written only by lvsh (sorted, one table per library, so diffs review well).

use super::{RecipesError, error::Origin, manifest::tidy_join, toml_doc};
use std::{
    io::Write as _,
    ops::Range,
    path::{Path, PathBuf},
};

pub const LOCK_FILE: &str = "lvsh.lock";
pub const LOCK_VERSION: i64 = 1;
const HEADER: &str = "# Written by `lvsh recipes lock`. Commit it. Do not edit.\n";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locked {
    pub name: String,
    /// `git+URL`, as [`super::manifest::Source::lock_string`] writes it.
    pub source: String,
    pub subdir: Option<String>,
    /// The requirement of `lvsh.toml` this was resolved from (`*` for none).
    pub requested: String,
    pub version: semver::Version,
    pub tag: String,
    pub commit: String,
    /// `sha256tree:<64 hex>` of the package files.
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    /// The lvsh that wrote it.
    pub lvsh: String,
    /// The hash of the stdlib embedded in that lvsh.
    pub stdlib: String,
    /// Sorted by name.
    pub libraries: Vec<Locked>,
    /// The file it was read from, for errors (`None` for a lock made in memory).
    pub file: Option<LockFile>,
}

/// Where a read lock came from: its text and the span of each `[[library]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockFile {
    pub origin: Origin,
    /// The spans of each library's `name` and `hash` values, in the order of `libraries`.
    pub spans: Vec<(Range<usize>, Range<usize>)>,
}

impl Lock {
    pub fn new(lvsh: String, stdlib: String, mut libraries: Vec<Locked>) -> Lock {
        libraries.sort_by(|a, b| a.name.cmp(&b.name));
        Lock {
            lvsh,
            stdlib,
            libraries,
            file: None,
        }
    }

    pub fn path(site_root: &Path) -> PathBuf {
        tidy_join(site_root, LOCK_FILE)
    }

    /// Reads `site_root/lvsh.lock` (`None` when there is none).
    pub fn load(site_root: &Path) -> Result<Option<Lock>, RecipesError> {
        let Some(origin) = toml_doc::read(&Lock::path(site_root))? else {
            return Ok(None);
        };
        parse(origin).map(Some)
    }

    pub fn get(&self, name: &str) -> Option<&Locked> {
        self.libraries.iter().find(|l| l.name == name)
    }

    /// An error at library `name`'s entry in the lock file (its `hash` line when
    /// `at_hash`; plain when the lock is in memory).
    pub fn error_at(
        &self,
        name: &str,
        at_hash: bool,
        message: String,
        label: &str,
    ) -> RecipesError {
        let i = self.libraries.iter().position(|l| l.name == name);
        match (&self.file, i) {
            (Some(f), Some(i)) => {
                let (n, h) = &f.spans[i];
                f.origin
                    .error(if at_hash { h.clone() } else { n.clone() }, message, label)
            }
            (Some(f), None) => f.origin.error(0..0, message, label),
            _ => RecipesError::plain(message),
        }
    }

    /// The text of the file: the header comment, then the libraries sorted by name.
    pub fn to_text(&self) -> String {
        let q = toml_doc::quote;
        let mut libs = self.libraries.clone();
        libs.sort_by(|a, b| a.name.cmp(&b.name));
        let mut s = format!(
            "{HEADER}lock-version = {LOCK_VERSION}\nlvsh = {}\nstdlib = {}\n",
            q(&self.lvsh),
            q(&self.stdlib)
        );
        for l in &libs {
            s.push_str(&format!(
                "\n[[library]]\nname = {}\nsource = {}\n",
                q(&l.name),
                q(&l.source)
            ));
            if let Some(sub) = &l.subdir {
                s.push_str(&format!("subdir = {}\n", q(sub)));
            }
            s.push_str(&format!(
                "requested = {}\nversion = {}\ntag = {}\ncommit = {}\nhash = {}\n",
                q(&l.requested),
                q(&l.version.to_string()),
                q(&l.tag),
                q(&l.commit),
                q(&l.hash)
            ));
        }
        s
    }

    /// Writes `site_root/lvsh.lock` beside and renames it over: a reader sees the
    /// old lock or the new one, never half of one.
    pub fn write(&self, site_root: &Path) -> std::io::Result<()> {
        let path = Lock::path(site_root);
        let tmp = tidy_join(
            site_root,
            &format!(".{LOCK_FILE}.{}.tmp", std::process::id()),
        );
        let result = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(self.to_text().as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}

fn parse(origin: Origin) -> Result<Lock, RecipesError> {
    let doc = toml_doc::parse(&origin)?;
    let redo = "run `lvsh recipes lock` to write it again";
    toml_doc::known_keys(
        &origin,
        &doc,
        &["lock-version", "lvsh", "stdlib", "library"],
        LOCK_FILE,
    )?;
    match toml_doc::get(&doc, "lock-version").map(|v| (v.get_ref(), v.span())) {
        Some((toml::de::DeValue::Integer(i), _)) if i.as_str() == LOCK_VERSION.to_string() => {}
        Some((_, span)) => {
            return Err(origin
                .error(
                    span,
                    format!("{LOCK_FILE} has a lock-version this lvsh does not know"),
                    "this version",
                )
                .with_help(format!(
                    "it reads lock-version {LOCK_VERSION}; a newer lvsh wrote this file, or {redo}"
                )));
        }
        None => {
            return Err(origin
                .error(0..0, format!("{LOCK_FILE} has no `lock-version`"), "here")
                .with_help(redo));
        }
    }
    let top = |k: &str| -> Result<String, RecipesError> {
        Ok(toml_doc::required(&origin, &doc, k, 0..0, LOCK_FILE)?.0)
    };
    let lvsh = top("lvsh")?;
    let stdlib = top("stdlib")?;
    let mut libraries = Vec::new();
    let mut spans = Vec::new();
    if let Some(v) = toml_doc::get(&doc, "library") {
        let toml::de::DeValue::Array(items) = v.get_ref() else {
            return Err(origin.error(v.span(), "`library` must be `[[library]]` tables", "here"));
        };
        for item in items {
            let t = toml_doc::table(&origin, item, "`[[library]]`")?;
            toml_doc::known_keys(
                &origin,
                t,
                &[
                    "name",
                    "source",
                    "subdir",
                    "requested",
                    "version",
                    "tag",
                    "commit",
                    "hash",
                ],
                "`[[library]]`",
            )?;
            let at = item.span();
            let field = |k: &str| toml_doc::required(&origin, t, k, at.clone(), "a `[[library]]`");
            let (version_text, version_span) = field("version")?;
            let version = semver::Version::parse(&version_text).map_err(|e| {
                origin.error(
                    version_span,
                    format!("`{version_text}` is not a version: {e}"),
                    "here",
                )
            })?;
            let (hash, hash_span) = field("hash")?;
            if super::hash::hash_hex(&hash).is_none() {
                return Err(origin.error(
                    hash_span,
                    "`hash` must be `sha256tree:` and 64 hex digits",
                    "here",
                ));
            }
            let subdir = toml_doc::get(t, "subdir")
                .map(|v| toml_doc::string(&origin, v, "`subdir`"))
                .transpose()?;
            let (name, name_span) = field("name")?;
            libraries.push(Locked {
                name,
                source: field("source")?.0,
                subdir,
                requested: field("requested")?.0,
                version,
                tag: field("tag")?.0,
                commit: field("commit")?.0,
                hash,
            });
            spans.push((name_span, hash_span));
        }
    }
    Ok(Lock {
        lvsh,
        stdlib,
        libraries,
        file: Some(LockFile { origin, spans }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Lock {
        Lock::new(
            "0.1.0".into(),
            format!("sha256tree:{}", "0".repeat(64)),
            vec![
                Locked {
                    name: "zeta".into(),
                    source: "git+file:///z.git".into(),
                    subdir: Some("lib".into()),
                    requested: "*".into(),
                    version: semver::Version::new(2, 0, 0),
                    tag: "2.0.0".into(),
                    commit: "b".repeat(40),
                    hash: format!("sha256tree:{}", "b".repeat(64)),
                },
                Locked {
                    name: "acme".into(),
                    source: "git+file:///srv/git/lvs-recipes.git".into(),
                    subdir: None,
                    requested: "^1.0".into(),
                    version: semver::Version::new(1, 0, 0),
                    tag: "v1.0.0".into(),
                    commit: "a".repeat(40),
                    hash: format!("sha256tree:{}", "a".repeat(64)),
                },
            ],
        )
    }

    #[test]
    fn a_lock_reads_back_what_was_written() {
        let d = tempfile::tempdir().unwrap();
        let lock = sample();
        lock.write(d.path()).unwrap();
        let text = std::fs::read_to_string(d.path().join(LOCK_FILE)).unwrap();
        assert!(text.starts_with(HEADER));
        assert!(text.find("\"acme\"").unwrap() < text.find("\"zeta\"").unwrap());
        let back = Lock::load(d.path()).unwrap().unwrap();
        assert_eq!(back.libraries, lock.libraries);
        assert_eq!(back.stdlib, lock.stdlib);
        assert_eq!(back.to_text(), text);
        let (name, hash) = back.file.as_ref().unwrap().spans[0].clone();
        assert_eq!(&text[name], "\"acme\"");
        assert!(text[hash].contains("aaaa"));
        assert!(
            Lock::load(tempfile::tempdir().unwrap().path())
                .unwrap()
                .is_none()
        );
        // No temporary file left behind.
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_bad_lock_points_at_the_entry() {
        let d = tempfile::tempdir().unwrap();
        let text = sample()
            .to_text()
            .replace("version = \"1.0.0\"", "version = \"one\"");
        std::fs::write(d.path().join(LOCK_FILE), &text).unwrap();
        let e = Lock::load(d.path()).unwrap_err();
        assert!(e.to_string().contains("`one` is not a version"), "{e}");
        let text = sample()
            .to_text()
            .replace("lock-version = 1", "lock-version = 7");
        std::fs::write(d.path().join(LOCK_FILE), &text).unwrap();
        let e = Lock::load(d.path()).unwrap_err();
        assert!(e.to_string().contains("lock-version"), "{e}");
    }
}
