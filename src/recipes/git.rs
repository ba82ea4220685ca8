//! The system `git`, run for the few commands that fetch libraries (never from the
//! DSL). It honours the user's ssh keys, credential helpers and `url.insteadOf`
//! mirrors; lvsh only makes it non-interactive, hook-free and bounded in time.
//! Files are read with `ls-tree` + `cat-file --batch`, which apply no filters
//! (`git archive` would apply `export-ignore`/`export-subst` and change content).

use super::{
    RecipesError,
    hash::{self, LIB_MANIFEST, TreeHash},
    manifest::LibManifest,
};
use std::{
    ffi::OsStr,
    fs,
    io::{Read, Write},
    os::unix::{io::AsRawFd, process::CommandExt},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    thread,
    time::{Duration, Instant},
};

/// How long one git command may take unless `LVSH_GIT_TIMEOUT` (seconds) says otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// The environment variable that makes every fetch an error.
pub const OFFLINE_ENV: &str = "LVSH_RECIPES_OFFLINE";

fn timeout() -> Duration {
    std::env::var("LVSH_GIT_TIMEOUT")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map_or(DEFAULT_TIMEOUT, Duration::from_secs)
}

/// Refuses network access when `LVSH_RECIPES_OFFLINE=1`.
fn check_online(what: &str) -> Result<(), RecipesError> {
    match std::env::var_os(OFFLINE_ENV) {
        Some(v) if !v.is_empty() && v != "0" => Err(RecipesError::plain(format!(
            "cannot {what}: {OFFLINE_ENV} is set"
        ))
        .with_help(
            "fetching is turned off; unset it, or vendor the libraries (`lvsh recipes vendor`) on a machine with access",
        )),
        _ => Ok(()),
    }
}

/// Runs `git ARGS` (in `dir` when given), feeding `input` to its stdin; returns stdout.
fn run<I, S>(dir: Option<&Path>, args: I, input: Option<Vec<u8>>) -> Result<Vec<u8>, RecipesError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let shown = args
        .iter()
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    let mut cmd = Command::new("git");
    if let Some(d) = dir {
        cmd.arg("-C").arg(d);
    }
    cmd.args([
        "-c",
        "core.hooksPath=/dev/null",
        "-c",
        "core.fsmonitor=false",
    ])
    .args(&args)
    .env("GIT_TERMINAL_PROMPT", "0")
    // No pager and no stdin: nothing may wait for a person.
    .env("GIT_PAGER", "cat")
    .stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    // Its own process group, so a timeout also stops what git started (ssh,
    // remote helpers).
    .process_group(0);
    let mut child = cmd.spawn().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            RecipesError::plain("git is needed to fetch; vendored libraries need no git").with_help(
                "install git, or run `lvsh recipes vendor` where git is and commit vendor/lvsh/",
            )
        } else {
            RecipesError::plain(format!("cannot run git: {e}"))
        }
    })?;
    let writer = match (input, child.stdin.take()) {
        (Some(bytes), Some(mut stdin)) => Some(thread::spawn(move || {
            // A git that exits early closes the pipe; its status says why.
            let _ = stdin.write_all(&bytes);
        })),
        _ => None,
    };
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let out_reader = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_reader = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let limit = timeout();
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if start.elapsed() >= limit => {
                // SAFETY: kill has no memory effects; the group is the child's own.
                unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
                let _ = child.kill();
                let _ = child.wait();
                return Err(RecipesError::plain(format!(
                    "`git {shown}` took longer than {}s and was stopped",
                    limit.as_secs()
                ))
                .with_help("LVSH_GIT_TIMEOUT=SECONDS allows longer"));
            }
            Ok(None) => thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(RecipesError::plain(format!("cannot wait for git: {e}"))),
        }
    };
    if let Some(w) = writer {
        let _ = w.join();
    }
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    if !status.success() {
        let stderr = String::from_utf8_lossy(&stderr);
        let stderr = stderr.trim();
        return Err(RecipesError::Plain {
            message: format!("`git {shown}` failed ({status})"),
            help: (!stderr.is_empty()).then(|| stderr.to_string()),
        });
    }
    Ok(stdout)
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The tags of a repository: `(tag name, object id)`, as `ls-remote` lists them
/// (the object of an annotated tag is the tag, not its commit).
pub fn list_tags(url: &str) -> Result<Vec<(String, String)>, RecipesError> {
    check_online(&format!("list the tags of {url}"))?;
    let out = text(run(
        None,
        ["ls-remote", "--tags", "--refs", "--", url],
        None,
    )?);
    Ok(out
        .lines()
        .filter_map(|l| {
            let (id, r) = l.split_once('\t')?;
            Some((r.strip_prefix("refs/tags/")?.to_string(), id.to_string()))
        })
        .collect())
}

/// The bare repository that caches fetches of `url`:
/// `RECIPES_CACHE/git/<hex sha256 of url>.git`.
pub fn repo_dir(cache: &Path, url: &str) -> PathBuf {
    let hex = hash::sha256_hex(url.as_bytes());
    cache.join("git").join(format!("{hex}.git"))
}

/// An exclusive `flock` held while it lives: one fetch per bare repository at a time.
struct FileLock(#[allow(dead_code)] fs::File);

impl FileLock {
    fn take(path: &Path) -> Result<FileLock, RecipesError> {
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| RecipesError::read(path, e))?;
        // SAFETY: flock on a file descriptor we own; no memory is shared.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
        if rc != 0 {
            return Err(RecipesError::read(path, std::io::Error::last_os_error()));
        }
        Ok(FileLock(file))
    }
}

/// Fetches tag `tag` of `url` (shallow) into its bare repository under `cache` and
/// returns the repository and the commit the tag points at now.
pub fn fetch_tag(cache: &Path, url: &str, tag: &str) -> Result<(PathBuf, String), RecipesError> {
    check_online(&format!("fetch {tag} of {url}"))?;
    let repo = repo_dir(cache, url);
    let parent = repo.parent().expect("repo_dir has a parent");
    fs::create_dir_all(parent).map_err(|e| RecipesError::read(parent, e))?;
    let mut lock_path = repo.clone().into_os_string();
    lock_path.push(".lock");
    let _lock = FileLock::take(Path::new(&lock_path))?;
    if !repo.join("HEAD").is_file() {
        run(
            None,
            [
                OsStr::new("init"),
                OsStr::new("--bare"),
                OsStr::new("-q"),
                repo.as_os_str(),
            ],
            None,
        )?;
    }
    let refspec = format!("+refs/tags/{tag}:refs/tags/{tag}");
    run(
        Some(&repo),
        ["fetch", "-q", "--depth=1", "--no-tags", "--", url, &refspec],
        None,
    )?;
    let commit = rev_commit(&repo, &format!("refs/tags/{tag}"))?;
    Ok((repo, commit))
}

/// The commit `rev` names in `repo` (a tag is dereferenced).
pub fn rev_commit(repo: &Path, rev: &str) -> Result<String, RecipesError> {
    let out = run(
        Some(repo),
        [
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &format!("{rev}^{{commit}}"),
        ],
        None,
    )
    .map_err(|_| RecipesError::plain(format!("`{rev}` names no commit in `{}`", repo.display())))?;
    Ok(text(out).trim().to_string())
}

/// One entry of `ls-tree -r`.
struct Entry {
    mode: String,
    kind: String,
    id: String,
    path: String,
}

fn ls_tree(repo: &Path, commit: &str, subdir: Option<&str>) -> Result<Vec<Entry>, RecipesError> {
    let mut args = vec![
        "ls-tree".to_string(),
        "-r".into(),
        "-z".into(),
        "--full-tree".into(),
        commit.into(),
    ];
    let prefix = subdir.map(|s| format!("{}/", s.trim_matches('/')));
    if let Some(p) = &prefix {
        args.push("--".into());
        args.push(p.clone());
    }
    let out = run(Some(repo), &args, None)?;
    let mut entries = Vec::new();
    for rec in out.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        let rec = String::from_utf8_lossy(rec);
        let Some((meta, path)) = rec.split_once('\t') else {
            continue;
        };
        let mut m = meta.split(' ');
        let (Some(mode), Some(kind), Some(id)) = (m.next(), m.next(), m.next()) else {
            continue;
        };
        let rel = match &prefix {
            Some(p) => match path.strip_prefix(p.as_str()) {
                Some(r) => r,
                None => continue,
            },
            None => path,
        };
        entries.push(Entry {
            mode: mode.into(),
            kind: kind.into(),
            id: id.into(),
            path: rel.into(),
        });
    }
    Ok(entries)
}

/// Reads blobs by id with one `cat-file --batch`.
fn cat_blobs(repo: &Path, ids: &[&str]) -> Result<Vec<Vec<u8>>, RecipesError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let input: Vec<u8> = ids
        .iter()
        .flat_map(|id| format!("{id}\n").into_bytes())
        .collect();
    let out = run(Some(repo), ["cat-file", "--batch"], Some(input))?;
    let mut blobs = Vec::with_capacity(ids.len());
    let mut rest = &out[..];
    for id in ids {
        let bad = || RecipesError::plain(format!("git cat-file gave no blob for {id}"));
        let nl = rest.iter().position(|b| *b == b'\n').ok_or_else(bad)?;
        let header = String::from_utf8_lossy(&rest[..nl]).into_owned();
        let mut parts = header.split(' ');
        let (Some(_), Some("blob"), Some(size)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        let size: usize = size.parse().map_err(|_| bad())?;
        let body = rest.get(nl + 1..nl + 1 + size).ok_or_else(bad)?;
        blobs.push(body.to_vec());
        rest = rest.get(nl + 2 + size..).unwrap_or_default();
    }
    Ok(blobs)
}

/// The package files of the library at `subdir` of `commit` in `repo`: its
/// `lvsh-lib.toml` and what its `include` matches, written into `dest` (which must
/// not exist). Returns their hash. Symlinks, submodules and the limits of the hash
/// are refused when they are package files; other files of the repository are not read.
pub fn extract(
    repo: &Path,
    rev: &str,
    subdir: Option<&str>,
    dest: &Path,
) -> Result<TreeHash, RecipesError> {
    extract_as(repo, rev, rev, subdir, dest)
}

/// [`extract`], naming the tree `shown` in errors (a tag rather than its commit).
pub fn extract_as(
    repo: &Path,
    rev: &str,
    shown: &str,
    subdir: Option<&str>,
    dest: &Path,
) -> Result<TreeHash, RecipesError> {
    let commit = rev_commit(repo, rev)?;
    let entries = ls_tree(repo, &commit, subdir)?;
    let at = || match subdir {
        Some(s) => format!("{shown}:{}", s.trim_matches('/')),
        None => shown.to_string(),
    };
    let manifest = entries
        .iter()
        .find(|e| e.path == LIB_MANIFEST)
        .ok_or_else(|| {
            RecipesError::plain(format!("`{}` is not a library: it has no {LIB_MANIFEST}", at()))
                .with_help("a library's root holds lvsh-lib.toml; for a library in a directory of the repository, give `subdir`")
        })?;
    fs::create_dir_all(dest).map_err(|e| RecipesError::read(dest, e))?;
    let first = cat_blobs(repo, &[manifest.id.as_str()])?;
    write_file(dest, LIB_MANIFEST, &first[0])?;
    let lib = LibManifest::load(dest)?;
    let wanted: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.path != LIB_MANIFEST && lib.include.matches(&e.path))
        .collect();
    if wanted.len() + 1 > hash::MAX_FILES {
        return Err(RecipesError::plain(format!(
            "`{}` has more than {} package files",
            at(),
            hash::MAX_FILES
        )));
    }
    for e in &wanted {
        let refuse = |what: &str| {
            Err(RecipesError::plain(format!(
                "`{}/{}` is {what}; a library's package files must be regular files",
                at(),
                e.path
            )))
        };
        if e.kind == "commit" {
            return refuse("a submodule");
        }
        if e.mode == "120000" {
            return refuse("a symlink");
        }
        if e.kind != "blob" {
            return refuse("not a file");
        }
    }
    let ids: Vec<&str> = wanted.iter().map(|e| e.id.as_str()).collect();
    for (e, blob) in wanted.iter().zip(cat_blobs(repo, &ids)?) {
        write_file(dest, &e.path, &blob)?;
    }
    hash::hash_dir(dest, &hash::Include::all())
}

/// Writes `rel` (a `/`-separated path checked against the hash's rules) under `dest`.
fn write_file(dest: &Path, rel: &str, bytes: &[u8]) -> Result<(), RecipesError> {
    let ok = !rel.is_empty()
        && rel
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
        && rel
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._/-".contains(&b));
    if !ok {
        return Err(RecipesError::plain(format!(
            "`{rel}`: a package file's path may hold only A-Z a-z 0-9 . _ / -"
        )));
    }
    if bytes.len() as u64 > hash::MAX_FILE_BYTES {
        return Err(RecipesError::plain(format!(
            "`{rel}` is larger than {} bytes",
            hash::MAX_FILE_BYTES
        )));
    }
    let path = dest.join(rel);
    if let Some(p) = path.parent() {
        fs::create_dir_all(p).map_err(|e| RecipesError::read(p, e))?;
    }
    fs::write(&path, bytes).map_err(|e| RecipesError::read(&path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) {
        let ok = Command::new("git")
            .args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.org")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.org")
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    }

    fn library(dir: &Path) {
        fs::create_dir_all(dir.join("lib/recipes/web")).unwrap();
        fs::write(
            dir.join("lib/lvsh-lib.toml"),
            "[library]\nname = \"acme\"\n",
        )
        .unwrap();
        fs::write(dir.join("lib/recipes/web/dr.rhai"), "// $Format:%H$\n").unwrap();
        fs::write(dir.join("lib/README.md"), "acme\n").unwrap();
        fs::write(dir.join("lib/build.sh"), "not a package file\n").unwrap();
        // Filters that would change content if applied: export-subst, export-ignore, eol.
        fs::write(
            dir.join("lib/.gitattributes"),
            "*.rhai export-subst eol=crlf\n*.md export-ignore\n",
        )
        .unwrap();
        git(dir, &["init", "-q"]);
        git(dir, &["add", "-A"]);
        git(dir, &["commit", "-q", "-m", "one"]);
        git(dir, &["tag", "v1.0.0"]);
    }

    #[test]
    fn extracts_the_package_files_of_a_work_tree_byte_exact() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("repo");
        fs::create_dir_all(&repo).unwrap();
        library(&repo);
        // Later work in the tree does not matter: the tag is read.
        fs::write(repo.join("lib/README.md"), "changed\n").unwrap();
        let dest = tmp.path().join("out");
        let tree = extract(&repo, "v1.0.0", Some("lib/"), &dest).unwrap();
        let paths: Vec<&str> = tree.files.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["README.md", "lvsh-lib.toml", "recipes/web/dr.rhai"]);
        assert_eq!(
            fs::read(dest.join("recipes/web/dr.rhai")).unwrap(),
            b"// $Format:%H$\n",
            "as committed: no export-subst, no CRLF of a checkout"
        );
        assert_eq!(
            fs::read_to_string(dest.join("README.md")).unwrap(),
            "acme\n"
        );
        assert!(!dest.join("build.sh").exists());
    }

    #[test]
    fn refuses_a_symlink_among_the_package_files_and_a_missing_manifest() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path();
        library(repo);
        std::os::unix::fs::symlink("/etc/passwd", repo.join("lib/recipes/x.rhai")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", repo.join("lib/other")).unwrap();
        git(repo, &["add", "-A"]);
        git(repo, &["commit", "-q", "-m", "links"]);
        let e = extract(repo, "HEAD", Some("lib"), &tmp.path().join("o1")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "`HEAD:lib/recipes/x.rhai` is a symlink; a library's package files must be regular files"
        );
        let e = extract(repo, "HEAD", None, &tmp.path().join("o2")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "`HEAD` is not a library: it has no lvsh-lib.toml"
        );
        let e = extract(repo, "v9", None, &tmp.path().join("o3")).unwrap_err();
        assert!(e.to_string().contains("`v9` names no commit"), "{e}");
    }
}
