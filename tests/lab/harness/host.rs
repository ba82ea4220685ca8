//! What the lab takes from this machine: qemu, a Debian cloud kernel (it has
//! IPVS as modules), and the programs copied into the VM. When something is
//! missing the lab cannot run, and says what to install.

use std::cmp::Ordering;
use std::env;
use std::fs;
use std::path::{Path, PathBuf};

/// Programs copied into the VM: name, where the VM has it, Debian package.
/// The scenario library calls `ip`, `nsenter` and `unshare` by these paths.
pub const GUEST_PROGRAMS: [(&str, &str, &str); 9] = [
    ("busybox", "/bin/busybox", "busybox-static"),
    ("ipvsadm", "/usr/sbin/ipvsadm", "ipvsadm"),
    ("nft", "/usr/sbin/nft", "nftables"),
    ("ip", "/usr/sbin/ip", "iproute2"),
    ("nsenter", "/usr/bin/nsenter", "util-linux"),
    ("unshare", "/usr/bin/unshare", "util-linux"),
    // Holds lvsh's apply lock from outside (`lvsh_errors`); busybox has no flock.
    ("flock", "/usr/bin/flock", "util-linux"),
    // Gives lvsh a terminal, so `lvsh apply` asks before applying (`lvsh_confirm`).
    ("script", "/usr/bin/script", "bsdutils"),
    // Runs `lvsh watch` with only the capabilities lvsh-watch.service grants
    // (`lvsh_watch_capabilities`); busybox has no setpriv or capsh.
    ("setpriv", "/usr/bin/setpriv", "util-linux"),
];

/// Programs the host itself runs to build and boot the image.
const HOST_PROGRAMS: [(&str, &str); 3] = [
    ("qemu-system-x86_64", "qemu-system-x86"),
    ("modprobe", "kmod"),
    ("ldd", "libc-bin"),
];

const KERNEL_SUFFIX: &str = "-cloud-amd64";

pub struct Host {
    pub qemu: PathBuf,
    pub modprobe: PathBuf,
    pub ldd: PathBuf,
    /// Strips debug info off the lvsh binary; the image is copied whole without it.
    pub strip: Option<PathBuf>,
    pub kernel: Kernel,
    /// (program on this machine, where the VM has it)
    pub guest_programs: Vec<(PathBuf, &'static str)>,
}

pub struct Kernel {
    pub release: String,
    pub image: PathBuf,
    pub modules: PathBuf,
}

impl Host {
    /// Finds everything, or says everything that is missing at once.
    pub fn probe() -> Result<Host, String> {
        let mut missing = Vec::new();
        let mut find = |program: &str, package: &str| {
            let found = which(program);
            if found.is_none() {
                missing.push(format!("no `{program}` (Debian package {package})"));
            }
            found.unwrap_or_default()
        };
        let [qemu, modprobe, ldd] = HOST_PROGRAMS.map(|(program, package)| find(program, package));
        let guest_programs = GUEST_PROGRAMS
            .iter()
            .map(|&(program, guest, package)| (find(program, package), guest))
            .collect();
        let kernel = find_kernel(Path::new("/boot"), Path::new("/lib/modules"));
        if let Err(why) = &kernel {
            missing.push(why.clone());
        }
        match kernel {
            Ok(kernel) if missing.is_empty() => Ok(Host {
                qemu,
                modprobe,
                ldd,
                strip: which("strip"),
                kernel,
                guest_programs,
            }),
            _ => Err(format!(
                "the kernel lab cannot run on this machine:\n  - {}\n`bash tests/run-all.sh`, run as root on Debian, installs what the lab needs.",
                missing.join("\n  - ")
            )),
        }
    }
}

/// The newest Debian cloud kernel in `boot` whose modules include IPVS.
fn find_kernel(boot: &Path, modules: &Path) -> Result<Kernel, String> {
    let wanted = format!(
        "no Debian cloud kernel (`{}/vmlinuz-*{KERNEL_SUFFIX}`, package linux-image-cloud-amd64)",
        boot.display()
    );
    let names = fs::read_dir(boot)
        .map_err(|e| format!("{wanted}: cannot list `{}`: {e}", boot.display()))?;
    let mut releases: Vec<String> = names
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter_map(|name| Some(name.strip_prefix("vmlinuz-")?.to_string()))
        .filter(|release| release.ends_with(KERNEL_SUFFIX))
        .collect();
    releases.sort_by(|a, b| version_order(a, b));
    let release = releases.pop().ok_or(wanted)?;
    let image = boot.join(format!("vmlinuz-{release}"));
    fs::File::open(&image)
        .map_err(|e| format!("cannot read the kernel `{}`: {e}", image.display()))?;
    let modules = modules.join(&release);
    let ip_vs = modules.join("kernel/net/netfilter/ipvs/ip_vs.ko");
    if !ip_vs.is_file() {
        return Err(format!(
            "kernel {release} has no IPVS module (`{}`)",
            ip_vs.display()
        ));
    }
    Ok(Kernel {
        release,
        image,
        modules,
    })
}

/// The program's path from PATH, or from the sbin folders a non-root PATH lacks.
fn which(program: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH").unwrap_or_default();
    env::split_paths(&path)
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Compares releases like `6.1.0-9` < `6.1.0-56`: digit runs by value, the rest as text.
fn version_order(a: &str, b: &str) -> Ordering {
    fn chunks(text: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let bytes = text.as_bytes();
        for i in 1..=bytes.len() {
            if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[start].is_ascii_digit() {
                out.push((bytes[start].is_ascii_digit(), &text[start..i]));
                start = i;
            }
        }
        out
    }
    let key = |text| {
        chunks(text)
            .into_iter()
            .map(|(digits, chunk)| {
                if digits {
                    (chunk.parse::<u64>().unwrap_or(u64::MAX), "")
                } else {
                    (0, chunk)
                }
            })
            .collect::<Vec<_>>()
    };
    key(a).cmp(&key(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_compare_by_number_not_by_text() {
        assert_eq!(
            version_order("6.1.0-9-cloud-amd64", "6.1.0-56-cloud-amd64"),
            Ordering::Less
        );
        assert_eq!(
            version_order("6.10.0-1-cloud-amd64", "6.9.0-1-cloud-amd64"),
            Ordering::Greater
        );
        assert_eq!(
            version_order("6.1.0-56-cloud-amd64", "6.1.0-56-cloud-amd64"),
            Ordering::Equal
        );
    }

    #[test]
    fn a_boot_folder_without_a_cloud_kernel_says_which_package_is_missing() {
        let boot = tempfile::tempdir().unwrap();
        fs::write(boot.path().join("vmlinuz-6.1.0-56-amd64"), "").unwrap();
        let error = find_kernel(boot.path(), boot.path()).err().unwrap();
        assert!(error.contains("linux-image-cloud-amd64"), "{error}");
    }

    #[test]
    fn a_cloud_kernel_without_ipvs_is_refused() {
        let boot = tempfile::tempdir().unwrap();
        fs::write(boot.path().join("vmlinuz-6.1.0-56-cloud-amd64"), "").unwrap();
        let error = find_kernel(boot.path(), boot.path()).err().unwrap();
        assert!(error.contains("has no IPVS module"), "{error}");
    }
}
