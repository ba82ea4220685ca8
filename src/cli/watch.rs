//! `lvsh watch FILE`: the run-time daemon in the foreground (systemd `Type=notify`).

use super::{CliError, Context, input, live::Live};
use crate::{
    apply::{self, ApplyLock, LOCK_DIR, format_time, journal_now},
    model::ProbeResult,
    state,
    watch::{self, ProbeKey, Prober, Request, Store, probe},
};
use std::{
    hash::{Hash, Hasher},
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
    time::SystemTime,
};

pub fn run(
    ctx: &Context,
    file: &Path,
    metrics: Option<SocketAddr>,
    allow_mass_delete: bool,
) -> Result<i32, CliError> {
    // A broken script is the first thing to say, before any kernel or lock.
    input::evaluate(ctx, file)?;
    let netns = ctx.netns.as_deref();
    // One watch per namespace, for the daemon's whole life.
    let _watching = ApplyLock::watch(netns)?;
    if let Some(name) = netns {
        // Probes leave from the director's namespace, like its clients' packets.
        crate::backend::ipvs::netlink::enter_netns(name).map_err(CliError::Ipvs)?;
    }
    let roots = probe::prepare_tls();
    if roots == 0 {
        ctx.note("warning: no root certificates found: https checks that verify certificates will fail\n");
    }
    let mut live = Live::open(ctx)?;
    live.warn_interrupted(false);
    let journal = live.journal();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    apply::route_signals(move |sig| {
        let _ = tx.send(if sig == libc::SIGHUP {
            Request::Reload
        } else {
            Request::Stop
        });
    })
    .map_err(|source| CliError::WatchStart {
        what: "signal handlers",
        source,
    })?;
    let under_systemd = std::env::var_os("JOURNAL_STREAM").is_some();
    let script = file.display().to_string();
    let inputs = input_roots(ctx, file);
    let io = watch::Io {
        kernel: live.kernel(),
        journal,
        store: Store::for_netns(netns),
        lock_dir: PathBuf::from(LOCK_DIR),
        netns: ctx.netns.clone(),
        script,
        evaluate: Box::new(|| {
            input::evaluate(ctx, file)
                .map(|mut desired| {
                    state::canonical(&mut desired);
                    desired
                })
                .map_err(|e| format!("{:?}", miette::Report::new(e)))
        }),
        inputs: Box::new(move || fingerprint(&inputs)),
        prober: prober(),
        log: Box::new(move |line| {
            if under_systemd {
                eprintln!("{line}");
            } else {
                eprintln!("{} {line}", format_time(journal_now()));
            }
        }),
        notify: Box::new(|states| {
            let _ = sd_notify::notify(states);
        }),
        allow_mass_delete,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| CliError::WatchStart {
            what: "the async runtime",
            source,
        })?;
    let metrics = match metrics {
        Some(addr) => Some(
            runtime
                .block_on(watch::Metrics::bind(addr))
                .map_err(|source| CliError::Metrics { addr, source })?,
        ),
        None => None,
    };
    runtime.block_on(watch::run(io, rx, metrics))?;
    Ok(0)
}

/// The real probes: each check run from this host, its answer as a result
/// (public for the daemon's benchmark).
pub fn prober() -> Prober {
    Arc::new(|key: Arc<ProbeKey>| {
        Box::pin(async move {
            let target = match &key.via {
                Some(via) => probe::Target {
                    connect: key.connect,
                    mark: Some(via.mark),
                    server: SocketAddr::new(via.server.address, via.server.port),
                },
                None => probe::Target::direct(key.connect),
            };
            let outcome = probe::probe(&key.check, &target).await;
            ProbeResult {
                ok: outcome.ok,
                at: journal_now(),
                latency_ms: u32::try_from(outcome.latency.as_millis()).unwrap_or(u32::MAX),
                reason: outcome.reason,
            }
        })
    })
}

/// Where the script may import from: its directory and the `-I` directories.
fn input_roots(ctx: &Context, file: &Path) -> Vec<PathBuf> {
    let mut roots = vec![file.to_path_buf()];
    // A site's values file: every layer, and the script it names (and its directory).
    let mut file = file.to_path_buf();
    if let Ok((script, opts)) = input::with_values(ctx, &file) {
        if let Some(values) = &opts.values {
            roots.extend(values.layers.iter().map(|l| PathBuf::from(&l.name)));
        }
        // A site's recipe libraries, its lvsh.toml and lvsh.lock: each reload
        // verifies them again.
        if let Some(libs) = &opts.libraries {
            roots.extend(libs.libs.iter().map(|l| l.root.clone()));
            roots.push(libs.site_root.join("lvsh.toml"));
            roots.push(libs.site_root.join("lvsh.lock"));
        }
        if script != file {
            roots.push(script.clone());
            file = script;
        }
    }
    if let Some(dir) = file.parent() {
        roots.push(if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir.to_path_buf()
        });
    }
    roots.extend(ctx.dsl.lib_dirs.iter().cloned());
    roots
}

/// A fingerprint of the names, sizes and times of the script and every `.rhai`
/// file it could import (three directory levels deep): a change reloads.
fn fingerprint(roots: &[PathBuf]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for root in roots {
        visit(root, 0, &mut h);
    }
    h.finish()
}

fn visit(path: &Path, depth: u32, h: &mut impl Hasher) {
    let Ok(meta) = std::fs::metadata(path) else {
        path.hash(h);
        return;
    };
    if meta.is_dir() {
        if depth > 3 {
            return;
        }
        let Ok(entries) = std::fs::read_dir(path) else {
            return;
        };
        let mut names: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        names.sort();
        for p in names {
            if p.is_dir() || p.extension().is_some_and(|e| e == "rhai") {
                visit(&p, depth + 1, h);
            }
        }
        return;
    }
    path.hash(h);
    meta.len().hash(h);
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .hash(h);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_follows_the_script_and_its_neighbours() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("lb.rhai");
        std::fs::write(&script, "1").unwrap();
        let roots = vec![script.clone(), dir.path().to_path_buf()];
        let first = fingerprint(&roots);
        assert_eq!(fingerprint(&roots), first);
        std::fs::write(dir.path().join("lib.rhai"), "2").unwrap();
        let second = fingerprint(&roots);
        assert_ne!(second, first, "a new module");
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        assert_eq!(fingerprint(&roots), second, "not a script");
        std::fs::write(&script, "12").unwrap();
        assert_ne!(fingerprint(&roots), second, "the script changed");
    }

    #[test]
    fn a_site_file_is_watched_with_its_layers_and_script() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("shared")).unwrap();
        std::fs::write(d.join("site.rhai"), "").unwrap();
        std::fs::write(d.join("shared/eu.toml"), "x = 1\n").unwrap();
        std::fs::write(d.join("more.toml"), "y = 1\n").unwrap();
        let site = d.join("sites/ams1.toml");
        std::fs::create_dir_all(site.parent().unwrap()).unwrap();
        std::fs::write(
            &site,
            "[lvsh]\nscript = \"../site.rhai\"\nextends = [\"../shared/eu.toml\"]\n",
        )
        .unwrap();
        let ctx = Context {
            values: vec![d.join("more.toml")],
            ..Context::for_tests()
        };
        let roots = input_roots(&ctx, &site);
        for want in [
            "sites/ams1.toml",
            "shared/eu.toml",
            "more.toml",
            "site.rhai",
        ] {
            assert!(
                roots.iter().any(|r| r.ends_with(want)),
                "{want} in {roots:?}"
            );
        }
        let first = fingerprint(&roots);
        std::fs::write(d.join("shared/eu.toml"), "x = 22\n").unwrap();
        assert_ne!(fingerprint(&roots), first, "a shared layer changed");
    }
}
