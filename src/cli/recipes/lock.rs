//! `lvsh recipes lock [--check]`: resolves every git library of lvsh.toml to
//! lvsh.lock. A locked version that still satisfies its requirement stays (like
//! Cargo, a lock only moves on `update`); new or changed entries take the highest
//! matching tag, are fetched into the cache and hashed.

use super::super::{CliError, Context};
use crate::recipes::{
    Lock, Locked, RecipesError, Requirement, SiteManifest, Source, fetch, git,
    resolve::{self, Release},
    vendor,
};
use std::path::Path;

/// Which libraries to move to a newer version (`recipes update`), and where.
#[derive(Debug, Default)]
pub(super) struct Moves {
    /// `None`: none (`lock`); `Some(empty)`: all; else these names.
    pub names: Option<Vec<String>>,
    /// `--to VERSION`.
    pub to: Option<semver::Version>,
}

impl Moves {
    fn moves(&self, name: &str) -> bool {
        match &self.names {
            None => false,
            Some(n) => n.is_empty() || n.iter().any(|x| x == name),
        }
    }
}

/// One library's entry before and after.
#[derive(Debug)]
pub(super) struct Change {
    pub name: String,
    pub old: Option<Locked>,
    /// `None`: dropped from the lock (no longer a git library of lvsh.toml).
    pub new: Option<Target>,
}

/// What a library will be locked to: kept as it was, or a release to fetch.
#[derive(Debug)]
pub(super) enum Target {
    Keep(Locked),
    Fetch(Release),
}

impl Change {
    /// `acme 1.0.0 → 1.1.0`, `acme 1.0.0 (new)`, `acme 1.0.0 removed`; `None` when unchanged.
    pub fn line(&self) -> Option<String> {
        let new = match &self.new {
            Some(Target::Fetch(r)) => Some(&r.version),
            Some(Target::Keep(l)) => Some(&l.version),
            None => None,
        };
        match (&self.old, new) {
            (Some(o), Some(n)) if &o.version != n => {
                Some(format!("{} {} → {n}", self.name, o.version))
            }
            (Some(_), Some(_)) => None,
            (None, Some(n)) => Some(format!("{} {n} (new)", self.name)),
            (Some(o), None) => Some(format!("{} {} removed", self.name, o.version)),
            (None, None) => None,
        }
    }
}

/// Decides the version of every git library (network: `ls-remote` for those that
/// move or are new; nothing is fetched yet).
pub(super) fn plan(
    site: &SiteManifest,
    old: Option<&Lock>,
    moves: &Moves,
) -> Result<Vec<Change>, CliError> {
    if let Some(names) = &moves.names {
        for n in names {
            match site.get(n) {
                Some(r) if matches!(r.source, Source::Git { .. }) => {}
                Some(_) => {
                    return Err(RecipesError::plain(format!(
                        "{n} is a `path` library: it has no versions to update"
                    ))
                    .into());
                }
                None => {
                    return Err(
                        RecipesError::plain(format!("no library `{n}` in lvsh.toml"))
                            .with_help(format!(
                                "its libraries: {}",
                                site.libraries
                                    .iter()
                                    .map(|r| r.name.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ))
                            .into(),
                    );
                }
            }
        }
    }
    let mut changes = Vec::new();
    for req in &site.libraries {
        let Source::Git { url, subdir } = &req.source else {
            continue;
        };
        let prev = old.and_then(|l| l.get(&req.name)).cloned();
        let same_source = prev
            .as_ref()
            .is_some_and(|p| p.source == req.source.lock_string() && &p.subdir == subdir);
        let keep = prev.as_ref().filter(|p| {
            same_source
                && !moves.moves(&req.name)
                && req.version.as_ref().is_none_or(|v| v.matches(&p.version))
        });
        let new = match keep {
            Some(p) => {
                let mut p = p.clone();
                p.requested = req.requested();
                Target::Keep(p)
            }
            None => {
                let at = |e| at_entry(site, req, e);
                let tags = git::list_tags(url).map_err(at)?;
                let releases = resolve::releases(tags.iter().map(|(t, _)| t.as_str()));
                let release = match &moves.to {
                    Some(v) if moves.moves(&req.name) => {
                        let r = resolve::exact(&req.name, url, &releases, v).map_err(at)?;
                        if let Some(want) = req.version.as_ref().filter(|w| !w.matches(v)) {
                            return Err(at(RecipesError::plain(format!(
                                "{} {v} does not satisfy `{want}` of lvsh.toml",
                                req.name
                            )))
                            .with_help("change the entry's `version` in lvsh.toml, then run `lvsh recipes lock`")
                            .into());
                        }
                        r
                    }
                    _ => resolve::pick(&req.name, url, &releases, req.version.as_ref())
                        .map_err(at)?,
                };
                match &prev {
                    // The same release as locked: keep commit and hash (a moved tag is
                    // caught when the tree is fetched again).
                    Some(p) if same_source && p.tag == release.tag => {
                        let mut p = p.clone();
                        p.requested = req.requested();
                        Target::Keep(p)
                    }
                    _ => Target::Fetch(release.clone()),
                }
            }
        };
        changes.push(Change {
            name: req.name.clone(),
            old: prev,
            new: Some(new),
        });
    }
    if let Some(old) = old {
        for l in &old.libraries {
            let still = site
                .get(&l.name)
                .is_some_and(|r| matches!(r.source, Source::Git { .. }));
            if !still {
                changes.push(Change {
                    name: l.name.clone(),
                    old: Some(l.clone()),
                    new: None,
                });
            }
        }
    }
    changes.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(changes)
}

/// Fetches what `changes` need, verifies kept entries against the cache (fetching
/// them if missing), and returns the new lock.
pub(super) fn apply(site: &SiteManifest, changes: &[Change]) -> Result<Lock, CliError> {
    let mut libs = Vec::new();
    for c in changes {
        match &c.new {
            Some(Target::Keep(l)) => {
                fetch::ensure(l, false, None)?;
                libs.push(l.clone());
            }
            Some(Target::Fetch(r)) => {
                let req = site.get(&c.name).expect("planned from the manifest");
                libs.push(fetch::lock_release(req, r).map_err(|e| at_entry(site, req, e))?);
            }
            None => {}
        }
    }
    Ok(Lock::new(
        env!("CARGO_PKG_VERSION").to_string(),
        crate::dsl::stdlib_hash(),
        libs,
    ))
}

/// A plain error about a library, pointed at its entry in lvsh.toml.
pub(super) fn at_entry(site: &SiteManifest, req: &Requirement, e: RecipesError) -> RecipesError {
    match e {
        RecipesError::Plain { message, help } => {
            let e = site.origin.error(req.span.clone(), message, "this library");
            match help {
                Some(h) => e.with_help(h),
                None => e,
            }
        }
        other => other,
    }
}

/// Writes the lock when it changed (true then), and refreshes `vendor/lvsh/` when
/// the site has one.
pub(super) fn write(
    ctx: &Context,
    site: &SiteManifest,
    old: Option<&Lock>,
    lock: &Lock,
) -> Result<bool, CliError> {
    let changed = old.is_none_or(|o| o.to_text() != lock.to_text());
    if changed {
        lock.write(&site.root)
            .map_err(|e| RecipesError::read(site.root.join(crate::recipes::lock::LOCK_FILE), e))?;
    }
    if vendor::vendor_dir(&site.root).is_dir() {
        for line in vendor::vendor(&site.root, lock)? {
            ctx.note(&format!("vendor: {line}\n"));
        }
    }
    Ok(changed)
}

/// The differences between lvsh.toml and lvsh.lock (no network, no files read).
pub(super) fn disagreements(site: &SiteManifest, lock: Option<&Lock>) -> Vec<String> {
    let mut out = Vec::new();
    for req in &site.libraries {
        let Source::Git { subdir, .. } = &req.source else {
            continue;
        };
        match lock.and_then(|l| l.get(&req.name)) {
            None => out.push(format!("{}: in lvsh.toml, not locked", req.name)),
            Some(l) if l.source != req.source.lock_string() || &l.subdir != subdir => out.push(
                format!("{}: lvsh.toml names another source than the lock", req.name),
            ),
            Some(l) if l.requested != req.requested() => out.push(format!(
                "{}: lvsh.toml requests `{}`, the lock was made for `{}`",
                req.name,
                req.requested(),
                l.requested
            )),
            Some(_) => {}
        }
    }
    for l in lock.map(|l| l.libraries.as_slice()).unwrap_or_default() {
        if !site
            .get(&l.name)
            .is_some_and(|r| matches!(r.source, Source::Git { .. }))
        {
            out.push(format!(
                "{}: locked, but not a git library of lvsh.toml",
                l.name
            ));
        }
    }
    out
}

pub fn run(ctx: &Context, dir: Option<&Path>, check: bool) -> Result<i32, CliError> {
    let (site, old) = super::site(dir)?;
    if check {
        let diffs = disagreements(&site, old.as_ref());
        if diffs.is_empty() {
            ctx.out("lvsh.lock agrees with lvsh.toml\n")?;
            return Ok(0);
        }
        let what = if old.is_none() {
            "there is no lvsh.lock"
        } else {
            "lvsh.lock is out of date"
        };
        return Err(RecipesError::plain(what)
            .with_help(format!("{}\nrun `lvsh recipes lock`", diffs.join("\n")))
            .into());
    }
    let changes = plan(&site, old.as_ref(), &Moves::default())?;
    let lock = apply(&site, &changes)?;
    let written = write(ctx, &site, old.as_ref(), &lock)?;
    let lines: Vec<String> = changes.iter().filter_map(Change::line).collect();
    if lines.is_empty() && written {
        // A requirement that still allows the locked version, or another lvsh.
        ctx.out("lvsh.lock written; no library changed version\n")?;
    } else if lines.is_empty() {
        ctx.out("lvsh.lock is up to date\n")?;
    } else {
        ctx.out(&format!("{}\n", lines.join("\n")))?;
    }
    Ok(0)
}
