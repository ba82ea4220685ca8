//! The offline store: where a site's locked libraries are read from (the vendored
//! copy, else the content-addressed cache; never git, never the network), and the
//! checks run before every evaluation: the lock matches `lvsh.toml`, the files
//! match the lock's hash, each library accepts this lvsh.

use super::{
    RecipesError,
    hash::{self, Include, TreeHash},
    lock::{Lock, Locked},
    manifest::{LibManifest, SiteManifest, Source, lvsh_version},
};
use std::path::{Path, PathBuf};

/// Where a site keeps its vendored libraries (`vendor/lvsh/NAME/`).
pub const VENDOR_DIR: &str = "vendor/lvsh";

/// One library a site's scripts may import as `@NAME/…`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Library {
    pub name: String,
    /// The directory holding `lvsh-lib.toml` (its `recipes/` is the import root).
    pub root: PathBuf,
    /// `None` for an unlocked `path =` library.
    pub version: Option<semver::Version>,
    /// `sha256tree:…` of its files as read (for a locked library, the lock's).
    pub hash: String,
    /// Read from `vendor/lvsh/`.
    pub vendored: bool,
}

impl Library {
    /// `acme 1.0.0`, or `acme unlocked`: how diagnostics name it.
    pub fn label(&self) -> String {
        match &self.version {
            Some(v) => format!("{} {v}", self.name),
            None => format!("{} unlocked", self.name),
        }
    }
}

/// The libraries of one site, verified.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Libraries {
    pub site_root: PathBuf,
    /// Sorted by name.
    pub libs: Vec<Library>,
}

/// The content-addressed cache of library trees: `$LVSH_CACHE_DIR/recipes`, else
/// the evaluation cache's directory + `/recipes`.
pub fn recipes_cache_dir() -> Option<PathBuf> {
    crate::cache::CacheDir::default_path().map(|d| d.join("recipes"))
}

/// The cached tree of a hash, when it is there.
pub fn cached_dir(hash: &str) -> Option<PathBuf> {
    let dir = recipes_cache_dir()?.join(hash::hash_hex(hash)?);
    dir.is_dir().then_some(dir)
}

/// The summary (`sha256sum` lines) kept beside a vendored or cached tree
/// (`vendor/lvsh/acme.sums`, `recipes/<hex>.sums`): whoever writes a tree writes
/// it too, so a tampered tree can be told file by file. It is trusted only when it
/// hashes to the lock's hash.
pub fn sums_path(tree: &Path) -> PathBuf {
    let mut name = tree.file_name().unwrap_or_default().to_os_string();
    name.push(".sums");
    tree.with_file_name(name)
}

/// Compares a tree with its locked hash; on a mismatch, the error lists the files
/// that differ (when the `.sums` beside it is the locked one).
pub fn verify_tree(dir: &Path, expected: &str) -> Result<TreeHash, RecipesError> {
    let found = hash::hash_dir(dir, &Include::all())?;
    if found.hash == expected {
        return Ok(found);
    }
    let sums = std::fs::read_to_string(sums_path(dir))
        .ok()
        .and_then(|t| TreeHash::parse_summary(&t))
        .filter(|t| t.hash == expected);
    let detail = match sums {
        Some(want) => want.differences(&found).lines().join("\n"),
        None => format!(
            "expected {expected}\nfound    {}\n(no `{}` to name the files that differ)",
            found.hash,
            sums_path(dir).display()
        ),
    };
    Err(RecipesError::Plain {
        message: format!("`{}` does not match the hash in lvsh.lock", dir.display()),
        help: Some(detail),
    })
}

impl Libraries {
    /// Everything in "Verification": the lock matches `lvsh.toml`, the files match
    /// the lock, `requires-lvsh` holds. `allow_unlocked` is false only for apply.
    pub fn open_verified(
        site: &SiteManifest,
        lock: Option<&Lock>,
        allow_unlocked: bool,
    ) -> Result<Libraries, RecipesError> {
        let lvsh = lvsh_version();
        let vendor = super::manifest::tidy_join(&site.root, VENDOR_DIR);
        let vendored = vendor.is_dir();
        let mut libs = Vec::new();
        for req in &site.libraries {
            let at =
                |message: String, label: &str| site.origin.error(req.span.clone(), message, label);
            let lib = match &req.source {
                Source::Path(p) => {
                    if !allow_unlocked {
                        return Err(at(
                            format!(
                                "library `{}` is unlocked (`path = \"{}\"`): apply runs only locked libraries",
                                req.name,
                                p.display()
                            ),
                            "unlocked",
                        )
                        .with_help(
                            "lock it (`git = …` and `lvsh recipes lock`), or apply with --allow-unlocked \
                             while developing it",
                        ));
                    }
                    let root = super::manifest::tidy_join(&site.root, &p.to_string_lossy());
                    if !root.is_dir() {
                        return Err(at(
                            format!(
                                "library `{}`: `{}` is not a directory",
                                req.name,
                                root.display()
                            ),
                            "this path",
                        ));
                    }
                    let m = open_lib(site, req, &root, &lvsh)?;
                    let tree = hash::hash_dir(&root, &m.include)?;
                    Library {
                        name: req.name.clone(),
                        root,
                        version: None,
                        hash: tree.hash,
                        vendored: false,
                    }
                }
                Source::Git { url: _, subdir } => {
                    let fix = "run `lvsh recipes lock`";
                    let Some(lock) = lock else {
                        return Err(at(
                            format!(
                                "library `{}` is not locked: there is no lvsh.lock",
                                req.name
                            ),
                            "not locked",
                        )
                        .with_help(format!(
                            "{fix} to resolve the libraries and write lvsh.lock; commit it"
                        )));
                    };
                    let Some(locked) = lock.get(&req.name) else {
                        return Err(at(
                            format!("library `{}` is not in lvsh.lock", req.name),
                            "not locked",
                        )
                        .with_help(format!("{fix}: lvsh.lock is older than this entry")));
                    };
                    let src = req.source.lock_string();
                    let stale = if locked.source != src {
                        Some(format!("source {} (lvsh.toml: {src})", locked.source))
                    } else if locked.subdir != *subdir {
                        Some(format!(
                            "subdir {} (lvsh.toml: {})",
                            locked.subdir.as_deref().unwrap_or("none"),
                            subdir.as_deref().unwrap_or("none")
                        ))
                    } else if locked.requested != req.requested() {
                        Some(format!(
                            "version {} (lvsh.toml asks for {})",
                            locked.requested,
                            req.requested()
                        ))
                    } else {
                        None
                    };
                    if let Some(what) = stale {
                        return Err(at(
                            format!(
                                "lvsh.lock is out of date: it locks `{}` for {what}",
                                req.name
                            ),
                            "changed since the lock",
                        )
                        .with_help(format!("{fix} to lock what lvsh.toml asks for")));
                    }
                    let root = locked_dir(locked, &vendor, vendored)
                        .map_err(|e| lock.error_at(&req.name, false, e, "locked here"))?;
                    verify_tree(&root, &locked.hash)
                        .map_err(|e| tampered(e, locked, lock, vendored))?;
                    open_lib(site, req, &root, &lvsh)?;
                    Library {
                        name: req.name.clone(),
                        root,
                        version: Some(locked.version.clone()),
                        hash: locked.hash.clone(),
                        vendored,
                    }
                }
            };
            libs.push(lib);
        }
        Ok(Libraries {
            site_root: site.root.clone(),
            libs,
        })
    }

    /// A library given directly (`recipes test DIR`): imported as `@self/…` and
    /// as `@NAME/…`, unlocked.
    pub fn single(lib_root: &Path) -> Result<Libraries, RecipesError> {
        let m = LibManifest::load(lib_root)?;
        m.check_lvsh(&lvsh_version())?;
        let tree = hash::hash_dir(lib_root, &m.include)?;
        Ok(Libraries {
            site_root: lib_root.to_path_buf(),
            libs: vec![Library {
                name: m.name,
                root: lib_root.to_path_buf(),
                version: None,
                hash: tree.hash,
                vendored: false,
            }],
        })
    }

    pub fn get(&self, name: &str) -> Option<&Library> {
        self.libs.iter().find(|l| l.name == name)
    }

    /// The unlocked libraries (check and plan warn about each).
    pub fn unlocked(&self) -> impl Iterator<Item = &Library> {
        self.libs.iter().filter(|l| l.version.is_none())
    }
}

/// Where a locked library's tree is for the site at `site_root` (the vendored
/// copy when the site vendors, else the cache), or why it is not there.
pub fn locate(site_root: &Path, locked: &Locked) -> Result<(PathBuf, bool), String> {
    let vendor = super::manifest::tidy_join(site_root, VENDOR_DIR);
    let vendored = vendor.is_dir();
    locked_dir(locked, &vendor, vendored).map(|d| (d, vendored))
}

/// Where a locked library's tree is: the vendored copy when the site vendors,
/// else the cache.
fn locked_dir(locked: &Locked, vendor: &Path, vendored: bool) -> Result<PathBuf, String> {
    if vendored {
        let dir = vendor.join(&locked.name);
        return if dir.is_dir() {
            Ok(dir)
        } else {
            Err(format!(
                "`{}` {} is not vendored: `{}` is missing; run `lvsh recipes vendor`",
                locked.name,
                locked.version,
                dir.display()
            ))
        };
    }
    cached_dir(&locked.hash).ok_or_else(|| {
        format!(
            "`{}` {} is not in the recipes cache{}; run `lvsh recipes fetch` (or vendor it)",
            locked.name,
            locked.version,
            recipes_cache_dir()
                .map(|d| format!(" (`{}`)", d.display()))
                .unwrap_or_default()
        )
    })
}

/// The library's manifest, which must name it as `lvsh.toml` does (else an error
/// at the entry there) and accept this lvsh.
fn open_lib(
    site: &SiteManifest,
    req: &super::Requirement,
    root: &Path,
    lvsh: &semver::Version,
) -> Result<LibManifest, RecipesError> {
    let m = LibManifest::load(root)?;
    if m.name != req.name {
        return Err(site
            .origin
            .error(
                req.span.clone(),
                format!(
                    "`{}` is library `{}`, not `{}`",
                    root.display(),
                    m.name,
                    req.name
                ),
                "this library",
            )
            .with_help(format!(
                "its {} says `name = \"{}\"`: sites import a library by the name it gives itself",
                hash::LIB_MANIFEST,
                m.name
            )));
    }
    m.check_lvsh(lvsh)?;
    Ok(m)
}

/// A hash mismatch, said as whose files changed and how to get them back.
fn tampered(e: RecipesError, locked: &Locked, lock: &Lock, vendored: bool) -> RecipesError {
    let RecipesError::Plain { help, .. } = e else {
        return e;
    };
    let restore = if vendored {
        "restore the vendored copy from git, or run `lvsh recipes vendor` if lvsh.lock changed"
    } else {
        "remove that directory from the cache and run `lvsh recipes fetch`"
    };
    let place = if vendored {
        "vendored copy"
    } else {
        "cached copy"
    };
    lock.error_at(
        &locked.name,
        true,
        format!(
            "the {place} of `{}` {} was modified: its files do not hash to lvsh.lock; nothing was evaluated",
            locked.name, locked.version
        ),
        "locked hash",
    )
    .with_help(format!("{}\n{restore}", help.unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recipes::lock::Locked;
    use std::fs;

    fn write(root: &Path, files: &[(&str, &str)]) {
        for (p, c) in files {
            let path = root.join(p);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, c).unwrap();
        }
    }

    const LIB: &[(&str, &str)] = &[
        ("lvsh-lib.toml", "[library]\nname = \"acme\"\n"),
        ("recipes/dr_web.rhai", "fn web(p) { p }\n"),
    ];

    /// A site vendoring `acme` 1.0.0, locked.
    fn site() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            &[(
                "lvsh.toml",
                "[libraries]\nacme = { git = \"file:///r.git\", version = \"^1.0\" }\n",
            )],
        );
        let vend = d.path().join("vendor/lvsh/acme");
        write(&vend, LIB);
        let tree = hash::hash_dir(&vend, &Include::all()).unwrap();
        fs::write(sums_path(&vend), tree.summary()).unwrap();
        Lock::new(
            "0.1.0".into(),
            tree.hash.clone(),
            vec![Locked {
                name: "acme".into(),
                source: "git+file:///r.git".into(),
                subdir: None,
                requested: "^1.0".into(),
                version: semver::Version::new(1, 0, 0),
                tag: "v1.0.0".into(),
                commit: "a".repeat(40),
                hash: tree.hash,
            }],
        )
        .write(d.path())
        .unwrap();
        d
    }

    fn open(d: &Path, allow_unlocked: bool) -> Result<Libraries, RecipesError> {
        let m = SiteManifest::load(d).unwrap();
        let lock = Lock::load(d).unwrap();
        Libraries::open_verified(&m, lock.as_ref(), allow_unlocked)
    }

    fn help(e: &RecipesError) -> String {
        e.help_text().unwrap_or_default().to_string()
    }

    #[test]
    fn a_vendored_library_verifies() {
        let d = site();
        let libs = open(d.path(), false).unwrap();
        let acme = libs.get("acme").unwrap();
        assert!(acme.vendored);
        assert_eq!(acme.label(), "acme 1.0.0");
        assert!(acme.root.ends_with("vendor/lvsh/acme"));
    }

    #[test]
    fn a_tampered_copy_names_its_files() {
        let d = site();
        let vend = d.path().join("vendor/lvsh/acme");
        fs::write(vend.join("recipes/dr_web.rhai"), "fn web(p) { () }\n").unwrap();
        fs::write(vend.join("recipes/extra.rhai"), "").unwrap();
        let e = open(d.path(), false).unwrap_err();
        assert!(e.to_string().contains("was modified"), "{e}");
        let h = help(&e);
        assert!(h.contains("modified: recipes/dr_web.rhai"), "{h}");
        assert!(h.contains("added: recipes/extra.rhai"), "{h}");
        fs::remove_file(vend.join("lvsh-lib.toml")).unwrap();
        assert!(help(&open(d.path(), false).unwrap_err()).contains("removed: lvsh-lib.toml"));
    }

    #[test]
    fn a_stale_or_missing_lock_says_to_lock() {
        let d = site();
        fs::write(
            d.path().join("lvsh.toml"),
            "[libraries]\nacme = { git = \"file:///r.git\", version = \"^2.0\" }\n",
        )
        .unwrap();
        let e = open(d.path(), false).unwrap_err();
        assert!(e.to_string().contains("out of date"), "{e}");
        assert!(help(&e).contains("lvsh recipes lock"));
        fs::remove_file(d.path().join("lvsh.lock")).unwrap();
        let e = open(d.path(), false).unwrap_err();
        assert!(e.to_string().contains("no lvsh.lock"), "{e}");
    }

    #[test]
    fn unlocked_libraries_need_permission() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            &[("lvsh.toml", "[libraries]\nacme = { path = \"lib\" }\n")],
        );
        write(&d.path().join("lib"), LIB);
        let e = open(d.path(), false).unwrap_err();
        assert!(help(&e).contains("--allow-unlocked"), "{e}");
        let libs = open(d.path(), true).unwrap();
        assert_eq!(libs.unlocked().count(), 1);
        assert_eq!(libs.get("acme").unwrap().label(), "acme unlocked");
        let single = Libraries::single(&d.path().join("lib")).unwrap();
        assert_eq!(single.libs[0].hash, libs.libs[0].hash);
    }
}
