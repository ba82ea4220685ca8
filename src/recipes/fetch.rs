//! Puts locked libraries into the content-addressed cache
//! (`RECIPES_CACHE/<hex of hash>/` and its `.sums`), fetching with git only when
//! the entry is missing or damaged. A tree is extracted into a temporary directory
//! beside its place, hashed, compared with the lock and renamed: concurrent runs
//! each see a whole tree or none, and one bare repository is fetched into by one
//! process at a time (an flock in [`super::git`]).

use super::{
    RecipesError, git,
    hash::{self, TreeHash},
    lock::{Lock, Locked},
    manifest::{Requirement, Source},
    resolve::Release,
    store::{self, recipes_cache_dir, sums_path},
};
use std::{
    fs::{self, DirBuilder},
    os::unix::fs::DirBuilderExt,
    path::{Path, PathBuf},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

/// The cache directory, made (0700) if missing.
pub fn cache_dir() -> Result<PathBuf, RecipesError> {
    let dir = recipes_cache_dir().ok_or_else(|| {
        RecipesError::plain("there is no cache directory for fetched libraries")
            .with_help("set LVSH_CACHE_DIR to a directory lvsh may write")
    })?;
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(|e| RecipesError::read(&dir, e))?;
    remove_stale_temps(&dir);
    Ok(dir)
}

/// A temporary tree this old was left by a run that died (a fetch takes seconds).
const STALE_TEMP: Duration = Duration::from_secs(3600);

/// Removes the temporary trees of runs that died.
fn remove_stale_temps(cache: &Path) {
    let Ok(list) = fs::read_dir(cache) else {
        return;
    };
    for e in list.flatten() {
        let stale = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_TEMP);
        if stale && e.file_name().to_string_lossy().starts_with(".tmp-") {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

/// The git URL and subdirectory of a lock entry (`source = "git+URL"`).
pub fn git_url(locked: &Locked) -> Result<&str, RecipesError> {
    locked.source.strip_prefix("git+").ok_or_else(|| {
        RecipesError::plain(format!(
            "{}: lvsh.lock's source `{}` is not a git source",
            locked.name, locked.source
        ))
        .with_help("run `lvsh recipes lock` to write the lock again")
    })
}

/// A new directory beside the cache entries (same file system, so it can be renamed).
fn temp_dir(cache: &Path, what: &str) -> Result<PathBuf, RecipesError> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = cache.join(format!(".tmp-{what}-{}-{nanos}", std::process::id()));
    DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .map_err(|e| RecipesError::read(&dir, e))?;
    Ok(dir)
}

/// Moves an extracted tree to its place in the cache, with its `.sums` written
/// first. When another run placed the same tree meanwhile, ours is dropped.
fn place(cache: &Path, tmp: &Path, tree: &TreeHash) -> Result<PathBuf, RecipesError> {
    let hex = hash::hash_hex(&tree.hash).expect("a computed hash");
    let target = cache.join(hex);
    let sums = sums_path(&target);
    let sums_tmp = tmp.with_extension("sums");
    fs::write(&sums_tmp, tree.summary()).map_err(|e| RecipesError::read(&sums_tmp, e))?;
    fs::rename(&sums_tmp, &sums).map_err(|e| RecipesError::read(&sums, e))?;
    if fs::rename(tmp, &target).is_err() {
        let _ = fs::remove_dir_all(tmp);
        if !target.is_dir() {
            return Err(RecipesError::plain(format!(
                "cannot put the library into `{}`",
                target.display()
            )));
        }
    }
    Ok(target)
}

/// Extracts `subdir` of `commit` (fetched as `tag`) from `repo` and hashes it; the temporary tree is
/// removed again on failure.
fn extract_temp(
    cache: &Path,
    repo: &Path,
    commit: &str,
    tag: &str,
    subdir: Option<&str>,
) -> Result<(PathBuf, TreeHash), RecipesError> {
    let tmp = temp_dir(cache, "extract")?;
    let lib = tmp.join("lib");
    match git::extract_as(repo, commit, tag, subdir, &lib) {
        Ok(tree) => Ok((tmp, tree)),
        Err(e) => {
            let _ = fs::remove_dir_all(&tmp);
            Err(e)
        }
    }
}

/// Fetches `release` of a library of `lvsh.toml` into the cache and returns what
/// the lock records for it.
pub fn lock_release(req: &Requirement, release: &Release) -> Result<Locked, RecipesError> {
    let Source::Git { url, subdir } = &req.source else {
        unreachable!("only git sources are locked")
    };
    let cache = cache_dir()?;
    let (repo, commit) = git::fetch_tag(&cache, url, &release.tag)?;
    let (tmp, tree) = extract_temp(&cache, &repo, &commit, &release.tag, subdir.as_deref())?;
    let check = super::manifest::LibManifest::load(&tmp.join("lib")).and_then(|lib| {
        if lib.name == req.name {
            Ok(())
        } else {
            Err(RecipesError::plain(format!(
                "{url} {} is library `{}`, not `{}`",
                release.tag, lib.name, req.name
            ))
            .with_help(format!(
                "sites import it under its own name: call the entry `{}` in lvsh.toml",
                lib.name
            )))
        }
    });
    if let Err(e) = check {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    place(&cache, &tmp.join("lib"), &tree)?;
    let _ = fs::remove_dir_all(&tmp);
    Ok(Locked {
        name: req.name.clone(),
        source: req.source.lock_string(),
        subdir: subdir.clone(),
        requested: req.requested(),
        version: release.version.clone(),
        tag: release.tag.clone(),
        commit,
        hash: tree.hash,
    })
}

/// What [`ensure`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetched {
    /// The cache held the tree, and it verified.
    Cached,
    /// Fetched with git (the cache had no tree, or a damaged one, now replaced).
    Fetched,
}

/// Makes sure the cache holds the locked tree: the tag must still point at the
/// locked commit and the files must hash to the locked hash. A tree already
/// cached is trusted by its hash; `recheck_tag` asks the repository anyway (the
/// explicit `recipes fetch`), so a force-moved tag shows even then. Errors point
/// at the library's entry in `lock` when it was read from a file.
pub fn ensure(
    locked: &Locked,
    recheck_tag: bool,
    lock: Option<&Lock>,
) -> Result<(PathBuf, Fetched), RecipesError> {
    let at_entry = |e| located(lock, &locked.name, false, e);
    let cached =
        store::cached_dir(&locked.hash).filter(|dir| store::verify_tree(dir, &locked.hash).is_ok());
    if let (Some(dir), false) = (&cached, recheck_tag) {
        return Ok((dir.clone(), Fetched::Cached));
    }
    let url = git_url(locked)?;
    let cache = cache_dir()?;
    let (repo, commit) = git::fetch_tag(&cache, url, &locked.tag).map_err(at_entry)?;
    check_commit(locked, &commit).map_err(at_entry)?;
    if let Some(dir) = cached {
        return Ok((dir, Fetched::Cached));
    }
    // No entry, or a damaged one: replaced. Another run may have placed it while
    // this one asked git: that entry is used, never removed under the other run.
    if let Some(dir) = store::cached_dir(&locked.hash) {
        if store::verify_tree(&dir, &locked.hash).is_ok() {
            return Ok((dir, Fetched::Cached));
        }
        let _ = fs::remove_dir_all(&dir);
    }
    let (tmp, tree) = extract_temp(
        &cache,
        &repo,
        &commit,
        &locked.tag,
        locked.subdir.as_deref(),
    )
    .map_err(at_entry)?;
    if tree.hash != locked.hash {
        let _ = fs::remove_dir_all(&tmp);
        let e = RecipesError::plain(format!(
            "{} {}: the content of commit {commit} differs from the lock",
            locked.name, locked.version
        ))
        .with_help(format!(
            "lvsh.lock has {}\nthe fetched files hash to {}\nwas lvsh.lock edited by hand? Remove this library's \
             [[library]] table and run `lvsh recipes lock`",
            locked.hash, tree.hash
        ));
        return Err(located(lock, &locked.name, true, e));
    }
    let dir = place(&cache, &tmp.join("lib"), &tree)?;
    let _ = fs::remove_dir_all(&tmp);
    Ok((dir, Fetched::Fetched))
}

/// A plain error about library `name`, pointed at its entry (or `hash` line) in
/// the lock file when there is one.
fn located(lock: Option<&Lock>, name: &str, at_hash: bool, e: RecipesError) -> RecipesError {
    match (lock, e) {
        (Some(lock), RecipesError::Plain { message, help }) if lock.file.is_some() => {
            let label = if at_hash {
                "locked hash"
            } else {
                "locked here"
            };
            let e = lock.error_at(name, at_hash, message, label);
            match help {
                Some(h) => e.with_help(h),
                None => e,
            }
        }
        (_, e) => e,
    }
}

/// The tag must still name the locked commit.
fn check_commit(locked: &Locked, commit: &str) -> Result<(), RecipesError> {
    if commit != locked.commit {
        return Err(RecipesError::plain(format!(
            "{}: tag {} now points at a different commit (force-pushed?)",
            locked.name, locked.tag
        ))
        .with_help(format!(
            "lvsh.lock has {}\nthe tag now has {commit}\nask the library's maintainers which to \
             trust; `lvsh recipes update {} --to VERSION` locks another release",
            locked.commit, locked.name
        )));
    }
    Ok(())
}
