//! `SITE/vendor/lvsh/`: a copy of every locked library (exactly its package files,
//! and `NAME.sums` beside it), committed with the site so an air-gapped director
//! needs neither git nor the network. Its presence makes every run read from it.

use super::{
    RecipesError, fetch,
    hash::{self, TreeHash},
    lock::Lock,
    manifest::valid_name,
    store::{VENDOR_DIR, sums_path, verify_tree},
};
use std::{
    fs,
    path::{Path, PathBuf},
};

/// `SITE/vendor/lvsh`.
pub fn vendor_dir(site_root: &Path) -> PathBuf {
    site_root.join(VENDOR_DIR)
}

/// Copies the locked libraries from the cache (fetching what it lacks) into
/// `vendor/lvsh/`, and removes vendored libraries the lock no longer has. Returns
/// one line per change (`acme 1.1.0 vendored`, `old removed`).
pub fn vendor(site_root: &Path, lock: &Lock) -> Result<Vec<String>, RecipesError> {
    let dir = vendor_dir(site_root);
    fs::create_dir_all(&dir).map_err(|e| RecipesError::read(&dir, e))?;
    let mut changes = Vec::new();
    for locked in &lock.libraries {
        let target = dir.join(&locked.name);
        if target.is_dir() && verify_tree(&target, &locked.hash).is_ok() {
            continue;
        }
        let (cached, _) = fetch::ensure(locked, false, Some(lock))?;
        let tmp = dir.join(format!(".tmp-{}-{}", locked.name, std::process::id()));
        let _ = fs::remove_dir_all(&tmp);
        let tree = hash::hash_dir(&cached, &hash::Include::all())?;
        copy_tree(&cached, &tmp, &tree)?;
        let sums = sums_path(&target);
        fs::write(&sums, tree.summary()).map_err(|e| RecipesError::read(&sums, e))?;
        if target.exists() {
            fs::remove_dir_all(&target).map_err(|e| RecipesError::read(&target, e))?;
        }
        fs::rename(&tmp, &target).map_err(|e| RecipesError::read(&target, e))?;
        changes.push(format!("{} {} vendored", locked.name, locked.version));
    }
    for name in unlocked_entries(&dir, lock)? {
        let path = dir.join(&name);
        let _ = fs::remove_dir_all(&path);
        let _ = fs::remove_file(sums_path(&path));
        changes.push(format!("{name} removed (no longer locked)"));
    }
    Ok(changes)
}

/// The differences between `vendor/lvsh/` and the lock, one line each (empty: they agree).
pub fn check(site_root: &Path, lock: &Lock) -> Result<Vec<String>, RecipesError> {
    let dir = vendor_dir(site_root);
    let mut diffs = Vec::new();
    if !dir.is_dir() {
        diffs.push(format!("{VENDOR_DIR}/ does not exist"));
        return Ok(diffs);
    }
    for locked in &lock.libraries {
        let target = dir.join(&locked.name);
        if !target.is_dir() {
            diffs.push(format!(
                "{}: locked ({}) but not vendored",
                locked.name, locked.version
            ));
            continue;
        }
        if let Err(e) = verify_tree(&target, &locked.hash) {
            diffs.push(format!(
                "{}: {VENDOR_DIR}/{} differs from lvsh.lock ({})",
                locked.name, locked.name, locked.version
            ));
            if let RecipesError::Plain { help: Some(h), .. } = e {
                diffs.extend(h.lines().map(|l| format!("  {l}")));
            }
        }
    }
    for name in unlocked_entries(&dir, lock)? {
        diffs.push(format!("{name}: vendored but not in lvsh.lock"));
    }
    Ok(diffs)
}

/// Directories (and lone `.sums`) in `vendor/lvsh/` that name no locked library.
fn unlocked_entries(dir: &Path, lock: &Lock) -> Result<Vec<String>, RecipesError> {
    let mut names = Vec::new();
    let list = fs::read_dir(dir).map_err(|e| RecipesError::read(dir, e))?;
    for entry in list.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let name = match file.strip_suffix(".sums") {
            Some(n) => n.to_string(),
            None if entry.path().is_dir() => file,
            None => continue,
        };
        if valid_name(&name) && lock.get(&name).is_none() && !names.contains(&name) {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// Copies the files of `tree` from `from` to `to` (a new directory).
fn copy_tree(from: &Path, to: &Path, tree: &TreeHash) -> Result<(), RecipesError> {
    for (rel, _) in &tree.files {
        let dest = to.join(rel);
        if let Some(p) = dest.parent() {
            fs::create_dir_all(p).map_err(|e| RecipesError::read(p, e))?;
        }
        fs::copy(from.join(rel), &dest).map_err(|e| RecipesError::read(&dest, e))?;
    }
    fs::create_dir_all(to).map_err(|e| RecipesError::read(to, e))?;
    Ok(())
}
