//! The boot lab's root file system: Debian with systemd, built from Debian's
//! packages by `tests/lab/boot/build-rootfs.sh` (mmdebstrap, mkfs.ext4 -d) and
//! cached under `target/lab/boot/` by a hash of its inputs, so only the first
//! run pays for it. qemu opens it with `snapshot=on`: no run changes the cache.

use super::host::Host;
use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Bumped when the image changes in a way its inputs do not show.
const FORMAT: u32 = 1;
const SCRIPT: &str = "tests/lab/boot/build-rootfs.sh";

pub struct Built {
    pub path: PathBuf,
    pub cached: bool,
    pub seconds: f64,
    pub mirror: String,
}

/// The cached image for these inputs, built first when there is none.
pub fn ensure(host: &Host, repo: &Path, work: &Path) -> Result<Built, String> {
    let started = Instant::now();
    let script = repo.join(SCRIPT);
    let text = fs::read(&script).map_err(|e| format!("cannot read `{}`: {e}", script.display()))?;
    let mirror = mirror()?;
    let mut hasher = DefaultHasher::new();
    (FORMAT, &text, &mirror, &host.kernel.release).hash(&mut hasher);
    let hash = format!("{:016x}", hasher.finish());
    let path = work.join(format!("rootfs-{hash}.img"));
    let built = |cached| Built {
        path: path.clone(),
        cached,
        seconds: started.elapsed().as_secs_f64(),
        mirror: mirror.clone(),
    };
    if path.is_file() {
        return Ok(built(true));
    }
    for (program, package) in [("mmdebstrap", "mmdebstrap"), ("mkfs.ext4", "e2fsprogs")] {
        if !Path::new("/usr/bin").join(program).exists()
            && !Path::new("/usr/sbin").join(program).exists()
        {
            return Err(format!(
                "the boot lab builds its Debian root file system with `{program}` (Debian package \
                 {package}), which this machine lacks; `bash tests/run-all.sh` as root installs it"
            ));
        }
    }
    fs::create_dir_all(work).map_err(|e| format!("cannot create `{}`: {e}", work.display()))?;
    // One image at a time: an old one is 1.5 GB of sparse file nobody will boot.
    if let Ok(entries) = fs::read_dir(work) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("rootfs-") && name.ends_with(".img") {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
    let machine_id = format!("{hash}{hash}");
    let output = Command::new("bash")
        .arg(&script)
        .arg(&path)
        .arg(&mirror)
        .arg(&host.kernel.release)
        .arg(&machine_id)
        .output()
        .map_err(|e| format!("cannot run `{}`: {e}", script.display()))?;
    if !output.status.success() {
        let mut said = String::from_utf8_lossy(&output.stderr).into_owned();
        said.push_str(&String::from_utf8_lossy(&output.stdout));
        let tail: Vec<&str> = said.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "building the boot lab's root file system failed ({}): `bash {SCRIPT} {} {mirror} {} {machine_id}`\n{}",
            output.status,
            path.display(),
            host.kernel.release,
            tail.join("\n")
        ));
    }
    Ok(built(false))
}

/// The Debian mirror this machine's apt uses for bookworm (`LAB_BOOT_MIRROR`
/// overrides it).
fn mirror() -> Result<String, String> {
    if let Some(mirror) = std::env::var("LAB_BOOT_MIRROR")
        .ok()
        .filter(|m| !m.is_empty())
    {
        return Ok(mirror);
    }
    let mut files = vec![PathBuf::from("/etc/apt/sources.list")];
    if let Ok(entries) = fs::read_dir("/etc/apt/sources.list.d") {
        let mut more: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        more.sort();
        files.extend(more);
    }
    for file in files {
        let Ok(text) = fs::read_to_string(&file) else {
            continue;
        };
        let found = match file.extension().and_then(|e| e.to_str()) {
            Some("sources") => from_deb822(&text),
            Some("list") => from_one_line(&text),
            _ => None,
        };
        if let Some(mirror) = found {
            return Ok(mirror);
        }
    }
    Err(
        "the boot lab found no Debian bookworm mirror in /etc/apt/sources.list{,.d/*}; \
         name one in LAB_BOOT_MIRROR (e.g. the URI your apt uses)"
            .into(),
    )
}

/// The first URI of a `deb` stanza whose suites hold `bookworm` itself.
fn from_deb822(text: &str) -> Option<String> {
    for stanza in text.split("\n\n") {
        let field = |name: &str| {
            stanza.lines().find_map(|line| {
                let (key, value) = line.split_once(':')?;
                key.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| value.trim().to_string())
            })
        };
        let types = field("Types").unwrap_or_default();
        let suites = field("Suites").unwrap_or_default();
        if types.split_whitespace().any(|t| t == "deb")
            && suites.split_whitespace().any(|s| s == "bookworm")
        {
            if let Some(uri) =
                field("URIs").and_then(|u| u.split_whitespace().next().map(String::from))
            {
                return Some(uri);
            }
        }
    }
    None
}

/// `deb [options] URI bookworm ...`
fn from_one_line(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let mut words = line.split_whitespace().peekable();
        if words.next()? != "deb" {
            return None;
        }
        if words.peek()?.starts_with('[') {
            while !words.next()?.ends_with(']') {}
        }
        let uri = words.next()?;
        (words.next()? == "bookworm").then(|| uri.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bookworm_mirror_is_found_in_both_source_formats() {
        let deb822 = "Types: deb\n# a comment\nURIs: http://mirror.example/debian\n\
                      Suites: bookworm bookworm-updates\nComponents: main\n\n\
                      Types: deb\nURIs: http://security.example/debian-security\n\
                      Suites: bookworm-security\n";
        assert_eq!(
            from_deb822(deb822).as_deref(),
            Some("http://mirror.example/debian")
        );
        assert_eq!(
            from_deb822("Types: deb\nURIs: http://x/\nSuites: bookworm-security\n"),
            None
        );
        let list = "# deb http://old/ bookworm main\n\
                    deb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian bookworm main\n";
        assert_eq!(
            from_one_line(list).as_deref(),
            Some("http://mirror.example/debian")
        );
    }
}
