//! Reading what a command works on: scripts (file or `-`), state files, rules files.

use super::{CliError, Context, state_file::StateFileError};
use crate::{
    cache::{Build, Cache, Key},
    dsl::{self, Evaluated},
    model::Balancer,
    not_text::NotText,
    recipes::{Libraries, Lock, SiteManifest},
};
use std::{
    io::{BufRead, BufReader, Read},
    path::{Path, PathBuf},
    sync::Arc,
};

/// Reads a text file, or standard input for `-`.
pub fn read_text(path: &Path) -> Result<String, CliError> {
    let stdin = path == Path::new("-");
    let read = if stdin {
        let mut bytes = vec![];
        std::io::stdin().read_to_end(&mut bytes).map(|_| bytes)
    } else {
        std::fs::read(path)
    };
    let bytes = read.map_err(|source| CliError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    NotText::decode(bytes).map_err(|at| CliError::NotText {
        what: if stdin {
            "standard input".to_string()
        } else {
            format!("`{}`", path.display())
        },
        at,
    })
}

/// Evaluates a script into a validated model; what it printed and its warnings go
/// to stderr (not with `-q`). A script file whose result the cache holds is not run
/// (see [`crate::cache`]); `-v` says which it was.
pub fn evaluate(ctx: &Context, path: &Path) -> Result<Balancer, CliError> {
    evaluate_site(ctx, path).map(|(b, _)| b)
}

/// [`evaluate`], and the site's verified recipe libraries (`lvsh check` names them).
pub fn evaluate_site(
    ctx: &Context,
    path: &Path,
) -> Result<(Balancer, Option<Arc<Libraries>>), CliError> {
    let (path, opts) = with_values(ctx, path)?;
    let libraries = opts.libraries.clone();
    let (path, opts) = (path.as_path(), &opts);
    let Evaluated {
        balancer, output, ..
    } = if path == Path::new("-") {
        let src = dsl::read_script(std::io::stdin().lock(), "-")?;
        dsl::evaluate_source("<stdin>", &src, None, opts)?
    } else {
        if let Err(source) = std::fs::metadata(path) {
            return Err(CliError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
        evaluate_cached(ctx, path, opts)?
    };
    for line in output {
        ctx.note(&format!("{line}\n"));
    }
    Ok((balancer, libraries))
}

/// The script a command runs and the options to run it with: a values file (`.toml`,
/// `.json`) names its script and brings its values; `--values` files add to them.
/// The site's recipe libraries (see [`site_libraries`]) are verified here, so
/// before anything is evaluated or looked up in the cache.
pub fn with_values(ctx: &Context, path: &Path) -> Result<(PathBuf, dsl::Options), CliError> {
    let site = dsl::is_values_file(path);
    let mut opts = ctx.dsl.clone();
    opts.libraries = site_libraries(ctx, path)?;
    if !site && ctx.values.is_empty() {
        return Ok((path.to_path_buf(), opts));
    }
    let values = dsl::SiteValues::load(site.then_some(path), &ctx.values)?;
    let script = match &values.script {
        Some(s) if site => s.clone(),
        _ => path.to_path_buf(),
    };
    opts.values = Some(Arc::new(values));
    Ok((script, opts))
}

/// A warning when the lock records another stdlib than this lvsh embeds: the
/// site's models may differ from those the lock was reviewed with.
pub fn stdlib_warning(lock: &Lock) -> Option<String> {
    (lock.stdlib != dsl::stdlib_hash()).then(|| {
        format!(
            "warning: the built-in recipes (stdlib) of this lvsh {} differ from those lvsh.lock \
             was written with (by lvsh {}): a site that imports them may build another balancer; \
             review each site's `lvsh plan`, then `lvsh recipes lock` records these\n",
            env!("CARGO_PKG_VERSION"),
            lock.lvsh
        )
    })
}

/// The recipe libraries of the site `entry` (a script, a values file, or `-` for
/// the current directory) belongs to: the nearest `lvsh.toml` at or above it, the
/// lock checked against it and every library's files against the lock. `None`
/// when there is no `lvsh.toml` (then `@` imports are errors).
pub fn site_libraries(ctx: &Context, entry: &Path) -> Result<Option<Arc<Libraries>>, CliError> {
    let start = if entry == Path::new("-") {
        Path::new(".")
    } else {
        dsl::script_dir(entry)
    };
    let Some(site) = SiteManifest::discover(start)? else {
        return Ok(None);
    };
    let lock = Lock::load(&site.root)?;
    let libs = Libraries::open_verified(&site, lock.as_ref(), ctx.allow_unlocked)?;
    for lib in libs.unlocked() {
        ctx.note(&format!(
            "warning: library `{}` is not locked (read from `{}`): apply refuses it without --allow-unlocked\n",
            lib.name,
            lib.root.display()
        ));
    }
    if let Some(w) = lock.as_ref().and_then(stdlib_warning) {
        ctx.note(&w);
    }
    if ctx.verbose {
        for lib in &libs.libs {
            ctx.note(&format!(
                "recipes: {} from `{}`\n",
                lib.label(),
                lib.root.display()
            ));
        }
    }
    Ok(Some(Arc::new(libs)))
}

fn evaluate_cached(ctx: &Context, path: &Path, opts: &dsl::Options) -> Result<Evaluated, CliError> {
    let text = dsl::load_file(path)?;
    let name = path.display().to_string();
    let dir = dsl::script_dir(path);
    let cache = Cache::open(ctx.no_cache);
    if !cache.is_enabled() {
        let evaluated = dsl::evaluate_source(&name, &text, Some(dir), opts)?;
        if ctx.verbose {
            let t = evaluated.timings;
            ctx.note(&format!(
                "cache: `{name}` evaluated, without a cache ({t})\n"
            ));
        }
        return Ok(evaluated);
    }
    let key = Key::new(&Build::current(), &name, &text, dir, opts);
    ctx.remember_script(path, key.script_sha256());
    if let Some(hit) = cache.lookup(&key) {
        if ctx.verbose {
            ctx.note(&format!("cache: `{name}` from the cache\n"));
        }
        return Ok(hit);
    }
    let evaluated = dsl::evaluate_source(&name, &text, Some(dir), opts)?;
    cache.store(&key, &evaluated);
    if ctx.verbose {
        let t = evaluated.timings;
        ctx.note(&format!("cache: `{name}` evaluated, and stored ({t})\n"));
    }
    Ok(evaluated)
}

/// Reads a state file written by `emit --to json`.
///
/// A file is parsed while it is read: the text of 40,000 destinations is 8 MB, more
/// than the model it becomes, and would otherwise sit beside both models. Only when
/// it does not parse is the text read again, to show where it is wrong.
pub fn read_state(path: &Path) -> Result<Balancer, CliError> {
    let read_error = |source| CliError::Read {
        path: path.to_path_buf(),
        source,
    };
    // serde reads a struct from an array too (`[]` would be an empty balancer), and
    // would name the type of other values by its Rust name.
    let wrong_top = |first: Option<u8>| -> Option<serde_json::Error> {
        let other = match first? {
            b'[' => "an array",
            b'"' => "a string",
            b'-' | b'0'..=b'9' => "a number",
            _ => return None,
        };
        Some(serde::de::Error::invalid_type(
            serde::de::Unexpected::Other(other),
            &"a JSON object",
        ))
    };
    if path == Path::new("-") {
        let text = read_text(path)?;
        let first = text.bytes().find(|b| !b.is_ascii_whitespace());
        if let Some(e) = wrong_top(first) {
            return Err(StateFileError::new("<stdin>", text, &e).into());
        }
        return serde_json::from_str(&text)
            .map_err(|e| StateFileError::new("<stdin>", text, &e).into());
    }
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(read_error)?;
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    if let Some(e) = wrong_top(first_byte(&mut reader).map_err(read_error)?) {
        let text = std::fs::read_to_string(path).map_err(read_error)?;
        return Err(StateFileError::new(&name, text, &e).into());
    }
    serde_json::from_reader(reader).map_err(|e| {
        if e.is_io() {
            // The reader's own error, as reading the whole file would have reported it.
            return read_error(std::io::Error::from(e));
        }
        match std::fs::read_to_string(path) {
            Ok(text) => StateFileError::new(&name, text, &e).into(),
            Err(source) => read_error(source),
        }
    })
}

/// The first byte that is not JSON white space, left unread.
fn first_byte(r: &mut impl BufRead) -> std::io::Result<Option<u8>> {
    loop {
        let buf = r.fill_buf()?;
        let Some(&b) = buf.first() else {
            return Ok(None);
        };
        if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            return Ok(Some(b));
        }
        r.consume(1);
    }
}
