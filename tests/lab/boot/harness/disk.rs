//! The lab disk: a small ext4 image made per run (mkfs.ext4 -d) that the VM
//! mounts read-only at `/lab`. It carries what changes between runs, so the
//! cached root file system does not: the runner and the plan, the scenarios,
//! the lab's shell library (`tests/lab/lib`), the project's `scripts/`, a
//! static busybox for the topology's servers and clients, and the `.deb`.

use super::host::Host;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

/// busybox applets the topology (`tests/lab/lib/topo.sh`) runs by name:
/// Debian's minbase has neither a web server nor netcat.
const APPLETS: [&str; 2] = ["httpd", "nc"];

pub struct Contents<'a> {
    pub repo: &'a Path,
    pub plan: &'a str,
    /// The `.deb` to install, or why there is none (the VM shows the reason).
    pub deb: &'a Result<PathBuf, String>,
}

/// Writes `lab.img` in `run_dir` and returns its path.
pub fn build(host: &Host, run_dir: &Path, contents: &Contents) -> Result<PathBuf, String> {
    let stage = run_dir.join("lab-disk");
    let repo = contents.repo;
    let boot = repo.join("tests/lab/boot");
    copy(&boot.join("runner"), &stage.join("runner"))?;
    write(&stage.join("plan"), contents.plan)?;
    copy_dir(&boot.join("scenarios"), &stage.join("scenarios"))?;
    copy_dir(&repo.join("tests/lab/lib"), &stage.join("lib"))?;
    copy(&boot.join("lib.sh"), &stage.join("lib/boot.sh"))?;
    copy_dir(&repo.join("scripts"), &stage.join("scripts"))?;
    let busybox = host
        .guest_programs
        .iter()
        .find(|(_, guest)| guest.ends_with("/busybox"))
        .map(|(file, _)| file.clone())
        .ok_or("no busybox on this machine (Debian package busybox-static)")?;
    copy(&busybox, &stage.join("bin/busybox"))?;
    for applet in APPLETS {
        let link = stage.join("bin").join(applet);
        symlink("busybox", &link)
            .map_err(|e| format!("cannot create `{}`: {e}", link.display()))?;
    }
    match contents.deb {
        Ok(deb) => copy(deb, &stage.join("lvsh.deb"))?,
        Err(why) => write(&stage.join("no-deb"), why)?,
    }

    let image = run_dir.join("lab.img");
    let kib = size(&stage) / 1024 * 5 / 4 + 16 * 1024;
    let output = Command::new("mkfs.ext4")
        .args(["-q", "-F", "-L", "lab", "-d"])
        .arg(&stage)
        .arg(&image)
        .arg(format!("{kib}k"))
        .output()
        .map_err(|e| format!("cannot run mkfs.ext4 (Debian package e2fsprogs): {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "mkfs.ext4 of the lab disk failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let _ = fs::remove_dir_all(&stage);
    Ok(image)
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))
        .and_then(|()| fs::write(path, text))
        .map_err(|e| format!("cannot write `{}`: {e}", path.display()))
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    fs::create_dir_all(to.parent().unwrap_or(Path::new(".")))
        .and_then(|()| fs::copy(from, to))
        .map(drop)
        .map_err(|e| {
            format!(
                "cannot copy `{}` to `{}`: {e}",
                from.display(),
                to.display()
            )
        })
}

/// Copies the regular files of `from` and of its folders.
fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    let entries =
        fs::read_dir(from).map_err(|e| format!("cannot list `{}`: {e}", from.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_dir(&path, &target)?;
        } else if path.is_file() {
            copy(&path, &target)?;
        }
    }
    Ok(())
}

fn size(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| match entry.metadata() {
                    Ok(m) if m.is_dir() => size(&entry.path()) + 4096,
                    Ok(m) => m.len() + 4096,
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}
