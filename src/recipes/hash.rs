//! `sha256tree`: the content hash of a library's package files. One line per file,
//! `<hex sha256>  <path>`, sorted bytewise by path (what `sha256sum` prints), and
//! the hash is the sha256 of those lines, so a director can check a vendored copy
//! with coreutils alone:
//! `find . -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum`.

use super::RecipesError;
use crate::hex::lower_hex as hex;
use sha2::{Digest, Sha256};
use std::{
    fmt::Write as _,
    fs,
    path::{Path, PathBuf},
};

/// The prefix of every hash in the lock: the scheme may change, the name says which.
pub const PREFIX: &str = "sha256tree:";
/// A package file larger than this is refused: recipes are text, kilobytes each.
pub const MAX_FILE_BYTES: u64 = 1 << 20;
/// A library with more files than this is refused.
pub const MAX_FILES: usize = 1000;
/// The library manifest, always a package file.
pub const LIB_MANIFEST: &str = "lvsh-lib.toml";

/// Which files of a library are package files: `lvsh-lib.toml` plus these globs.
/// `*` matches within one path segment, `**` any number of segments.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Include {
    pub patterns: Vec<String>,
}

impl Default for Include {
    fn default() -> Self {
        Include {
            patterns: ["recipes/**", "tests/**", "examples/**", "*.md"]
                .map(String::from)
                .to_vec(),
        }
    }
}

impl Include {
    /// Every file: a vendored or cached copy holds exactly the package files, so
    /// any other file there was added by hand.
    pub fn all() -> Self {
        Include {
            patterns: vec!["**".into()],
        }
    }

    pub fn matches(&self, path: &str) -> bool {
        path == LIB_MANIFEST
            || self.patterns.iter().any(|p| {
                glob(
                    &p.split('/').collect::<Vec<_>>(),
                    &path.split('/').collect::<Vec<_>>(),
                )
            })
    }

    /// Whether a file under directory `dir` may match (so the walk enters it).
    fn may_enter(&self, dir: &str) -> bool {
        let segs: Vec<&str> = dir.split('/').collect();
        self.patterns.iter().any(|p| {
            let pat: Vec<&str> = p.split('/').collect();
            prefix_may_match(&pat, &segs)
        })
    }
}

fn glob(pat: &[&str], path: &[&str]) -> bool {
    match (pat.first(), path.first()) {
        (None, None) => true,
        (Some(&"**"), _) => (0..=path.len()).any(|i| glob(&pat[1..], &path[i..])),
        (Some(p), Some(s)) => segment(p, s) && glob(&pat[1..], &path[1..]),
        _ => false,
    }
}

/// Whether some path starting with the directory segments `dir` can match `pat`.
fn prefix_may_match(pat: &[&str], dir: &[&str]) -> bool {
    match (pat.first(), dir.first()) {
        (_, None) => !pat.is_empty(),
        (Some(&"**"), _) => true,
        (Some(p), Some(s)) => segment(p, s) && prefix_may_match(&pat[1..], &dir[1..]),
        (None, Some(_)) => false,
    }
}

/// One segment against one pattern segment with `*` wildcards.
fn segment(pat: &str, s: &str) -> bool {
    match pat.split_once('*') {
        None => pat == s,
        Some((head, rest)) => {
            let Some(s) = s.strip_prefix(head) else {
                return false;
            };
            (0..=s.len())
                .filter(|&i| s.is_char_boundary(i))
                .any(|i| segment(rest, &s[i..]))
        }
    }
}

/// The files and hash of a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeHash {
    /// Sorted bytewise by path.
    pub files: Vec<(String, [u8; 32])>,
    /// `sha256tree:<64 hex>`.
    pub hash: String,
}

/// What changed between an expected package and the files found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub modified: Vec<String>,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.modified.is_empty()
    }

    /// One line per file: `modified: recipes/dr_web.rhai`.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (what, list) in [
            ("modified", &self.modified),
            ("added", &self.added),
            ("removed", &self.removed),
        ] {
            out.extend(list.iter().map(|p| format!("{what}: {p}")));
        }
        out
    }
}

fn unhex(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// Hex sha256 of some bytes (also names git mirrors in the cache by their URL).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The 64 hex digits of a `sha256tree:` hash, if it is one.
pub fn hash_hex(hash: &str) -> Option<&str> {
    let h = hash.strip_prefix(PREFIX)?;
    (h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))).then_some(h)
}

impl TreeHash {
    fn from_sorted(files: Vec<(String, [u8; 32])>) -> TreeHash {
        let mut t = TreeHash {
            files,
            hash: String::new(),
        };
        t.hash = format!("{PREFIX}{}", sha256_hex(t.summary().as_bytes()));
        t
    }

    /// The `sha256sum` lines the hash is taken of.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        for (path, h) in &self.files {
            let _ = writeln!(s, "{}  {path}", hex(h));
        }
        s
    }

    /// Reads a summary back (a `.sums` file kept beside a vendored or cached copy, so
    /// a tampered copy can be told file by file). `None` unless every line is one.
    pub fn parse_summary(text: &str) -> Option<TreeHash> {
        let mut files = Vec::new();
        for line in text.lines() {
            let (h, path) = line.split_once("  ")?;
            files.push((path.to_string(), unhex(h)?));
        }
        let t = TreeHash::from_sorted(files);
        (t.summary() == text).then_some(t)
    }

    /// What `found` has that `self` (the expected files) has not, and the reverse.
    pub fn differences(&self, found: &TreeHash) -> Diff {
        let mut d = Diff::default();
        let mut a = self.files.iter().peekable();
        let mut b = found.files.iter().peekable();
        loop {
            match (a.peek(), b.peek()) {
                (None, None) => break,
                (Some(x), Some(y)) if x.0 == y.0 => {
                    if x.1 != y.1 {
                        d.modified.push(x.0.clone());
                    }
                    a.next();
                    b.next();
                }
                (Some(x), Some(y)) if x.0.as_bytes() < y.0.as_bytes() => {
                    d.removed.push(x.0.clone());
                    a.next();
                }
                (Some(x), None) => {
                    d.removed.push(x.0.clone());
                    a.next();
                }
                (_, Some(y)) => {
                    d.added.push(y.0.clone());
                    b.next();
                }
            }
        }
        d
    }
}

/// Hashes files given in memory (the embedded stdlib, a tree extracted from git).
pub fn hash_files(files: &[(String, Vec<u8>)]) -> TreeHash {
    let mut v: Vec<(String, [u8; 32])> = files
        .iter()
        .map(|(p, c)| (p.clone(), Sha256::digest(c).into()))
        .collect();
    v.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    TreeHash::from_sorted(v)
}

/// A package path must be plain: no spaces, quotes or other characters a shell or
/// the summary format would trip on.
fn plain_path(p: &str) -> bool {
    !p.is_empty()
        && p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'/' | b'-'))
}

/// Hashes the package files of the library at `root`. Refuses symlinks, special
/// files, odd names and oversized packages among the files `include` selects.
pub fn hash_dir(root: &Path, include: &Include) -> Result<TreeHash, RecipesError> {
    let mut files = Vec::new();
    walk(root, root, "", include, &mut files)?;
    files.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    Ok(TreeHash::from_sorted(files))
}

fn walk(
    root: &Path,
    dir: &Path,
    rel: &str,
    include: &Include,
    files: &mut Vec<(String, [u8; 32])>,
) -> Result<(), RecipesError> {
    let entries = fs::read_dir(dir).map_err(|e| RecipesError::read(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| RecipesError::read(dir, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let path: PathBuf = entry.path();
        let rel_path = if rel.is_empty() {
            name.to_string()
        } else {
            format!("{rel}/{name}")
        };
        let ft = entry
            .file_type()
            .map_err(|e| RecipesError::read(&path, e))?;
        if ft.is_dir() {
            if name != ".git" && include.may_enter(&rel_path) {
                walk(root, &path, &rel_path, include, files)?;
            }
            continue;
        }
        if !include.matches(&rel_path) {
            continue;
        }
        let refuse = |why: &str| {
            RecipesError::plain(format!(
                "`{}` in library `{}` {why}",
                rel_path,
                root.display()
            ))
        };
        if ft.is_symlink() {
            return Err(refuse(
                "is a symbolic link; a package holds plain files only",
            ));
        }
        if !ft.is_file() {
            return Err(refuse("is not a regular file"));
        }
        if !plain_path(&rel_path) {
            return Err(refuse(
                "has a name with characters outside A-Z a-z 0-9 . _ / -",
            ));
        }
        let len = entry
            .metadata()
            .map_err(|e| RecipesError::read(&path, e))?
            .len();
        if len > MAX_FILE_BYTES {
            return Err(refuse(&format!(
                "is {len} bytes; package files are at most 1 MiB"
            )));
        }
        if files.len() >= MAX_FILES {
            return Err(RecipesError::plain(format!(
                "library `{}` has more than {MAX_FILES} package files",
                root.display()
            )));
        }
        let content = fs::read(&path).map_err(|e| RecipesError::read(&path, e))?;
        files.push((rel_path, Sha256::digest(&content).into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for (p, c) in files {
            let path = d.path().join(p);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, c).unwrap();
        }
        d
    }

    #[test]
    fn globs_select_the_package_files() {
        let i = Include::default();
        for yes in [
            "lvsh-lib.toml",
            "recipes/a.rhai",
            "recipes/web/dr.rhai",
            "tests/x.plan",
            "README.md",
        ] {
            assert!(i.matches(yes), "{yes}");
        }
        for no in ["src/x.rs", "docs/a.md", "Cargo.toml", ".git/config"] {
            assert!(!i.matches(no), "{no}");
        }
        assert!(i.may_enter("recipes") && i.may_enter("recipes/web"));
        assert!(!i.may_enter("docs") && !i.may_enter(".github"));
        assert!(Include::all().matches("any/where/x"));
    }

    #[test]
    fn the_hash_is_what_coreutils_computes() {
        // printf 'x' | sha256sum; then the two lines piped through sha256sum.
        let t = hash_files(&[
            ("recipes/a.rhai".into(), b"x".to_vec()),
            ("lvsh-lib.toml".into(), b"".to_vec()),
        ]);
        assert_eq!(
            t.summary(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  lvsh-lib.toml\n\
             2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881  recipes/a.rhai\n"
        );
        assert_eq!(
            t.hash,
            format!("{PREFIX}{}", sha256_hex(t.summary().as_bytes()))
        );
        assert!(hash_hex(&t.hash).is_some());
        assert_eq!(TreeHash::parse_summary(&t.summary()), Some(t));
    }

    #[test]
    fn a_directory_hashes_like_its_files() {
        let d = tree(&[
            ("lvsh-lib.toml", "[library]\nname = \"a\"\n"),
            ("recipes/a.rhai", "fn f(p) {}"),
            ("notes.txt", "not a package file"),
            (".git/HEAD", "ref"),
        ]);
        let t = hash_dir(d.path(), &Include::default()).unwrap();
        let same = hash_files(&[
            (
                "lvsh-lib.toml".into(),
                b"[library]\nname = \"a\"\n".to_vec(),
            ),
            ("recipes/a.rhai".into(), b"fn f(p) {}".to_vec()),
        ]);
        assert_eq!(t, same);
        // Every file counts for a vendored copy.
        let all = hash_dir(d.path(), &Include::all()).unwrap();
        assert_eq!(all.files.len(), 3);
    }

    #[test]
    fn differences_name_each_file() {
        let a = hash_files(&[
            ("a".into(), b"1".to_vec()),
            ("b".into(), b"2".to_vec()),
            ("c".into(), b"3".to_vec()),
        ]);
        let b = hash_files(&[
            ("b".into(), b"X".to_vec()),
            ("c".into(), b"3".to_vec()),
            ("d".into(), b"4".to_vec()),
        ]);
        let d = a.differences(&b);
        assert_eq!(d.removed, ["a"]);
        assert_eq!(d.modified, ["b"]);
        assert_eq!(d.added, ["d"]);
        assert!(a.differences(&a).is_empty());
    }

    #[test]
    fn odd_files_are_refused() {
        let d = tree(&[("recipes/a b.rhai", "")]);
        let e = hash_dir(d.path(), &Include::default()).unwrap_err();
        assert!(e.to_string().contains("characters outside"), "{e}");
        let d = tree(&[("recipes/a.rhai", "")]);
        std::os::unix::fs::symlink("/etc/passwd", d.path().join("recipes/l.rhai")).unwrap();
        let e = hash_dir(d.path(), &Include::default()).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        let d = tree(&[("recipes/big.rhai", &"x".repeat(MAX_FILE_BYTES as usize + 1))]);
        let e = hash_dir(d.path(), &Include::default()).unwrap_err();
        assert!(e.to_string().contains("at most 1 MiB"), "{e}");
    }
}
