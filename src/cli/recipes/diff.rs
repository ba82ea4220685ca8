//! `lvsh recipes diff NAME --to VERSION [SITES…]`: what moving a library to another
//! version changes, before the lock moves: the API (the two `RECIPE`s compared
//! statically), the changelog between the versions, and each site's desired model
//! evaluated once with the locked libraries and once with VERSION (fetched into
//! the cache; nothing else goes to the network, no kernel is read).

use super::super::{CliError, Context};
use super::api_diff::api_changes;
use super::test_case::{plan_between, render};
use crate::{
    dsl::{self, Options, SiteValues},
    model::Balancer,
    plan::Against,
    recipes::{Libraries, Library, Locked, RecipesError, Source, fetch, git, hash, resolve},
    state,
};
use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

pub fn run(
    ctx: &Context,
    name: &str,
    to: &semver::Version,
    sites: &[PathBuf],
) -> Result<i32, CliError> {
    let (site, lock) = super::site(None)?;
    let lock = lock.ok_or_else(|| {
        RecipesError::plain("the site has no lvsh.lock: there is no locked version to compare with")
            .with_help("run `lvsh recipes lock` first")
    })?;
    let req = site.get(name).ok_or_else(|| {
        let names = site.libraries.iter().map(|r| r.name.as_str());
        RecipesError::plain(format!(
            "no library `{name}` in lvsh.toml{}",
            crate::suggest::did_you_mean(name, names.clone())
        ))
        .with_help(format!(
            "its libraries: {}",
            names.collect::<Vec<_>>().join(", ")
        ))
    })?;
    let Source::Git { url, .. } = &req.source else {
        return Err(RecipesError::plain(format!(
            "{name} is a `path` library: it has no versions to compare"
        ))
        .into());
    };
    let old_locked = lock.get(name).cloned().ok_or_else(|| {
        RecipesError::plain(format!("{name} is not in lvsh.lock"))
            .with_help("run `lvsh recipes lock`")
    })?;
    let old_libs = Libraries::open_verified(&site, Some(&lock), true)?;
    let new_locked = if &old_locked.version == to {
        old_locked.clone()
    } else {
        let tags = git::list_tags(url)?;
        let releases = resolve::releases(tags.iter().map(|(t, _)| t.as_str()));
        let release = resolve::exact(name, url, &releases, to)?;
        fetch::lock_release(req, release)?
    };
    let (new_dir, _) = fetch::ensure(&new_locked, false, None)?;
    let new_libs = replaced(&old_libs, &new_locked, &new_dir);
    let old_root = old_libs
        .get(name)
        .map(|l| l.root.clone())
        .expect("a locked library is opened");

    let mut out = format!(
        "{name} {} → {}   ({} → {}; {})\n",
        old_locked.version,
        new_locked.version,
        short(&old_locked.commit),
        short(&new_locked.commit),
        files_changed(&old_root, &new_dir)?
    );
    out.push_str("\nAPI\n");
    out.push_str(&api_changes(name, &old_root, &new_dir)?);
    out.push_str(&changelog(
        &new_dir,
        &old_locked.version,
        &new_locked.version,
    ));
    ctx.out(&out)?;

    let sites = if sites.is_empty() {
        site_files(&site.root)?
    } else {
        sites.to_vec()
    };
    ctx.out("\nSites (desired model, old lock → new lock; no kernel involved)\n")?;
    let (old_libs, new_libs) = (Arc::new(old_libs), Arc::new(new_libs));
    let mut changed = 0;
    let mut failed = 0;
    for s in &sites {
        let shown = s
            .strip_prefix(&site.root)
            .unwrap_or(s)
            .display()
            .to_string();
        let old = evaluate(ctx, s, &old_libs);
        let new = evaluate(ctx, s, &new_libs);
        let line = match (old, new) {
            (Ok(old), Ok(new)) => {
                let plan = plan_between(&new, &old);
                if plan.is_empty() {
                    format!("  {shown}   no change\n")
                } else {
                    changed += 1;
                    let against =
                        Against::Named(format!("the model with {name} {}", old_locked.version));
                    format!("  {shown}\n{}", indent(&render(&plan, &against), "    "))
                }
            }
            (old, new) => {
                failed += 1;
                let mut s = format!("  {shown}   error\n");
                let both = matches!((&old, &new), (Err(a), Err(b)) if a == b);
                for (version, r) in [(&old_locked.version, old), (&new_locked.version, new)] {
                    if let Err(e) = r {
                        if both {
                            s.push_str("    with both versions:\n");
                        } else {
                            s.push_str(&format!("    with {name} {version}:\n"));
                        }
                        s.push_str(&indent(&e, "      "));
                        if both {
                            break;
                        }
                    }
                }
                s
            }
        };
        ctx.out(&line)?;
    }
    let plural = if sites.len() == 1 {
        "site changes"
    } else {
        "sites change"
    };
    let fails = match failed {
        0 => String::new(),
        1 => "; 1 fails to evaluate".into(),
        n => format!("; {n} fail to evaluate"),
    };
    ctx.out(&format!("{changed} of {} {plural}{fails}.\n", sites.len()))?;
    Ok(if failed > 0 {
        1
    } else if changed > 0 {
        2
    } else {
        0
    })
}

/// `libs` with library `locked.name` read from `dir` (the fetched tree) instead:
/// the lock is not written, and a vendored site's vendor/ is not read for it.
fn replaced(libs: &Libraries, locked: &Locked, dir: &Path) -> Libraries {
    let mut libs = libs.clone();
    for l in &mut libs.libs {
        if l.name == locked.name {
            *l = Library {
                name: locked.name.clone(),
                root: dir.to_path_buf(),
                version: Some(locked.version.clone()),
                hash: locked.hash.clone(),
                vendored: false,
            };
        }
    }
    libs
}

/// `2 files changed: CHANGELOG.md, recipes/web.rhai` between two trees of package
/// files (the names only when there are a few).
fn files_changed(old: &Path, new: &Path) -> Result<String, CliError> {
    let all = hash::Include::all();
    let d = hash::hash_dir(old, &all)?.differences(&hash::hash_dir(new, &all)?);
    let mut names: Vec<String> = Vec::new();
    names.extend(d.added.iter().map(|p| format!("+{p}")));
    names.extend(d.removed.iter().map(|p| format!("-{p}")));
    names.extend(d.modified.iter().cloned());
    names.sort_by(|a, b| {
        a.trim_start_matches(['+', '-'])
            .cmp(b.trim_start_matches(['+', '-']))
    });
    Ok(match names.len() {
        0 => "no file changed".into(),
        1 => format!("1 file changed: {}", names[0]),
        n if n <= 4 => format!("{n} files changed: {}", names.join(", ")),
        n => format!("{n} files changed"),
    })
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(7)]
}

fn indent(text: &str, by: &str) -> String {
    text.lines().map(|l| format!("{by}{l}\n")).collect()
}

/// `sites/*.toml` (and `.json`) of the site, sorted.
fn site_files(root: &Path) -> Result<Vec<PathBuf>, CliError> {
    let dir = root.join("sites");
    let entries = std::fs::read_dir(&dir).map_err(|e| {
        RecipesError::plain(format!("cannot read `{}`: {e}", dir.display()))
            .with_help("name the sites: lvsh recipes diff NAME --to VERSION SITE…")
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| dsl::is_values_file(p))
        .collect();
    files.sort();
    Ok(files)
}

/// The canonical desired model of one site (a values file naming its script, or a
/// script) with `libraries`; an error as its rendered report.
fn evaluate(ctx: &Context, site: &Path, libraries: &Arc<Libraries>) -> Result<Balancer, String> {
    let mut opts: Options = ctx.dsl.clone();
    opts.libraries = Some(libraries.clone());
    let is_values = dsl::is_values_file(site);
    let script = if is_values || !ctx.values.is_empty() {
        let values = SiteValues::load(is_values.then_some(site), &ctx.values)
            .map_err(|e| e.render_plain())?;
        let script = match (&values.script, is_values) {
            (Some(s), true) => s.clone(),
            (None, true) => {
                return Err(format!(
                    "`{}` names no script ([lvsh] script = \"…\")\n",
                    site.display()
                ));
            }
            _ => site.to_path_buf(),
        };
        opts.values = Some(Arc::new(values));
        script
    } else {
        site.to_path_buf()
    };
    let mut b = dsl::evaluate_file(&script, &opts)
        .map_err(|e| e.render_plain())?
        .balancer;
    state::canonical(&mut b);
    Ok(b)
}

/// The `## VERSION` sections of the new tree's CHANGELOG.md after `old` up to `new`
/// (newest first, as the file has them); empty without a changelog.
fn changelog(dir: &Path, old: &semver::Version, new: &semver::Version) -> String {
    let Ok(text) = std::fs::read_to_string(dir.join("CHANGELOG.md")) else {
        return String::new();
    };
    let mut out = String::new();
    let mut keep = false;
    for line in text.lines() {
        if let Some(head) = line.strip_prefix("## ") {
            let v = head
                .split_whitespace()
                .next()
                .map(|v| v.trim_start_matches(['v', '[']).trim_end_matches(']'))
                .and_then(|v| semver::Version::parse(v).ok());
            keep = v.is_some_and(|v| &v > old && &v <= new);
            if keep {
                out.push_str(&format!("\nCHANGELOG {head}\n"));
            }
            continue;
        }
        if line.starts_with("# ") {
            keep = false;
        }
        if keep && !line.trim().is_empty() {
            out.push_str(&format!("  {line}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changelog_sections_between_two_versions() {
        let dir = std::env::temp_dir().join(format!("lvsh-changelog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("CHANGELOG.md"),
            "# acme\n\n## 1.2.0\n\n- c\n\n## v1.1.0 (2026-01-01)\n- b\n\n## 1.0.0\n- a\n",
        )
        .unwrap();
        let v = |s| semver::Version::parse(s).unwrap();
        assert_eq!(
            changelog(&dir, &v("1.0.0"), &v("1.2.0")),
            "\nCHANGELOG 1.2.0\n  - c\n\nCHANGELOG v1.1.0 (2026-01-01)\n  - b\n"
        );
        assert_eq!(changelog(&dir, &v("1.0.0"), &v("1.0.0")), "");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
