//! Loading a kernel module as ipvsadm does (`modprobe -- ip_vs`), keeping the reason
//! when it fails: modprobe's own words ("Module ip_vs not found in directory
//! /lib/modules/6.1.0-57-cloud-amd64"), or lvsh's own check of the modules
//! directory, and whether not being root is the problem.

use std::{fmt, path::Path, process::Command};

/// Why a module could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotLoaded {
    pub module: String,
    pub cause: Cause,
    /// What modprobe said, or what lvsh found instead.
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The running kernel has no such module (or no modules at all).
    Missing,
    /// The module is there, but only root may load it.
    NotRoot,
    /// modprobe failed for another reason, or the module loaded without effect.
    Failed,
}

impl fmt::Display for NotLoaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = &self.module;
        match self.cause {
            Cause::Missing => write!(f, "module `{m}` is not loaded and cannot be: "),
            Cause::NotRoot => write!(f, "module `{m}` is not loaded, and only root may load it: "),
            Cause::Failed => write!(f, "module `{m}` is not loaded: "),
        }?;
        f.write_str(&self.detail)
    }
}

impl NotLoaded {
    /// What to do about it, for the error's help line.
    pub fn hint(&self) -> String {
        let m = &self.module;
        match self.cause {
            Cause::Missing => format!(
                "the running kernel has no `{m}` module: boot a kernel built with it, or \
                 install its modules package"
            ),
            Cause::NotRoot => format!("run lvsh as root, or have root run `modprobe {m}` first"),
            Cause::Failed => format!("see why `modprobe {m}` fails (`dmesg` may say more)"),
        }
    }
}

/// `modprobe -- MODULE`, with the modprobe the kernel itself would use.
pub fn load(module: &str) -> Result<(), NotLoaded> {
    let prog = std::fs::read_to_string("/proc/sys/kernel/modprobe")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|p| !p.is_empty() && Path::new(p).exists())
        .unwrap_or_else(|| "modprobe".to_string());
    let ran = Command::new(&prog)
        .args(["--", module])
        .env("LC_ALL", "C")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .output();
    let said = match ran {
        Ok(o) if o.status.success() => return Ok(()),
        Ok(o) => {
            let err = String::from_utf8_lossy(&o.stderr).trim().to_string();
            if err.is_empty() {
                format!("`{prog} -- {module}` failed ({})", o.status)
            } else {
                err
            }
        }
        Err(e) => format!("`{prog}` could not be run: {e}"),
    };
    Err(explain(module, &said, &Host::this()))
}

/// What `explain` needs to know about this machine.
struct Host {
    root: bool,
    /// `uname -r`.
    release: String,
    /// Whether /lib/modules/RELEASE exists.
    has_modules: bool,
}

impl Host {
    fn this() -> Host {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        Host {
            // SAFETY: geteuid has no preconditions and cannot fail.
            root: unsafe { libc::geteuid() } == 0,
            has_modules: release.is_empty() || Path::new("/lib/modules").join(&release).is_dir(),
            release,
        }
    }
}

fn explain(module: &str, said: &str, host: &Host) -> NotLoaded {
    let missing = said.contains("not found") || !host.has_modules;
    let denied = !host.root || said.contains("Operation not permitted");
    let (cause, detail) = if !host.has_modules && !said.contains("not found") {
        (
            Cause::Missing,
            format!(
                "there are no modules for the running kernel {} (/lib/modules/{} does not \
                 exist); {said}",
                host.release, host.release
            ),
        )
    } else if missing {
        (Cause::Missing, said.to_string())
    } else if denied {
        (Cause::NotRoot, said.to_string())
    } else {
        (Cause::Failed, said.to_string())
    };
    NotLoaded {
        module: module.to_string(),
        cause,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(root: bool, has_modules: bool) -> Host {
        Host {
            root,
            release: "6.18.44-fc".into(),
            has_modules,
        }
    }

    const NOT_FOUND: &str =
        "modprobe: FATAL: Module ip_vs not found in directory /lib/modules/6.18.44-fc";

    #[test]
    fn modprobe_s_own_words_are_the_reason() {
        let e = explain("ip_vs", NOT_FOUND, &host(true, false));
        assert_eq!(e.cause, Cause::Missing);
        assert_eq!(
            e.to_string(),
            format!("module `ip_vs` is not loaded and cannot be: {NOT_FOUND}")
        );
        assert!(e.hint().contains("boot a kernel built with it"));
        // Not being root does not matter when there is nothing to load.
        assert_eq!(
            explain("ip_vs", NOT_FOUND, &host(false, true)).cause,
            Cause::Missing
        );
    }

    /// busybox's modprobe (initramfs, small systems) words it differently.
    #[test]
    fn busybox_modprobe_s_words_are_understood_too() {
        let said = "modprobe: module ip_vs not found in modules.dep";
        let e = explain("ip_vs", said, &host(true, true));
        assert_eq!(e.cause, Cause::Missing);
        assert_eq!(
            e.to_string(),
            format!("module `ip_vs` is not loaded and cannot be: {said}")
        );
        let said = "modprobe: can't change directory to '6.18.44-fc': No such file or directory";
        let e = explain("ip_vs", said, &host(true, false));
        assert_eq!(e.cause, Cause::Missing);
        assert!(
            e.to_string()
                .contains("there are no modules for the running kernel 6.18.44-fc"),
            "{e}"
        );
    }

    #[test]
    fn without_modprobe_lvsh_checks_the_modules_directory() {
        let e = explain(
            "nf_tables",
            "`modprobe` could not be run: No such file or directory (os error 2)",
            &host(true, false),
        );
        assert_eq!(e.cause, Cause::Missing);
        assert!(
            e.to_string().contains(
                "there are no modules for the running kernel 6.18.44-fc (/lib/modules/6.18.44-fc \
                 does not exist)"
            ),
            "{e}"
        );
    }

    #[test]
    fn a_module_only_root_may_load_says_so() {
        let said = "modprobe: ERROR: could not insert 'ip_vs': Operation not permitted";
        let e = explain("ip_vs", said, &host(false, true));
        assert_eq!(e.cause, Cause::NotRoot);
        assert_eq!(
            e.to_string(),
            format!("module `ip_vs` is not loaded, and only root may load it: {said}")
        );
        assert_eq!(
            e.hint(),
            "run lvsh as root, or have root run `modprobe ip_vs` first"
        );
        let e = explain(
            "ip_vs",
            "`modprobe -- ip_vs` failed (exit status: 1)",
            &host(true, true),
        );
        assert_eq!(e.cause, Cause::Failed);
    }
}
