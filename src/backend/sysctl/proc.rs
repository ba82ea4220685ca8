//! The real sysctls, through `/proc/sys/net/ipv4/vs`. A thread sees the files of its
//! own network namespace, so with `--netns` every read and write happens with this
//! thread inside that namespace (as the IPVS socket is opened there).

use super::{Error, Sysctl, refusal};
use crate::{
    backend::{KernelError, ipvs::netlink::in_netns},
    model::{
        SysctlValue, Sysctls,
        sysctl::{SPECS, SYSCTL_DIR},
    },
};
use std::{fs, io, io::Write, path::Path};

pub struct ProcSysctl {
    netns: Option<String>,
    dir: &'static str,
}

impl ProcSysctl {
    /// The sysctls of the current network namespace, or of `/run/netns/NAME`.
    pub fn new(netns: Option<&str>) -> Self {
        ProcSysctl {
            netns: netns.map(str::to_string),
            dir: SYSCTL_DIR,
        }
    }

    /// Runs `f` inside the namespace.
    fn inside<T>(&self, f: impl FnOnce() -> T) -> Result<T, crate::backend::ipvs::Error> {
        match &self.netns {
            None => Ok(f()),
            Some(name) => in_netns(name, || Ok(f())),
        }
    }
}

impl Sysctl for ProcSysctl {
    fn read(&mut self) -> Result<Sysctls, Error> {
        let dir = Path::new(self.dir);
        self.inside(|| read_dir(dir))
            .map_err(|e| Error::Netns(Box::new(e)))?
    }

    fn write(&mut self, name: &str, value: &SysctlValue) -> Result<(), KernelError> {
        let path = Path::new(self.dir).join(name);
        let text = value.proc_text();
        let written = self.inside(|| {
            fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .and_then(|mut f| f.write_all(text.as_bytes()))
        });
        match written {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(refusal(e.raw_os_error().unwrap_or(libc::EIO))),
            Err(e) => Err(KernelError {
                errno: libc::EIO,
                message: e.to_string(),
            }),
        }
    }
}

fn read_dir(dir: &Path) -> Result<Sysctls, Error> {
    let mut out = Sysctls::default();
    if !dir.is_dir() {
        return Ok(out);
    }
    for spec in SPECS {
        let path = dir.join(spec.name);
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            // Not in this kernel (too old, or not built with it).
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(source) => return Err(Error::Read { path, source }),
        };
        let value = spec.parse(&text).ok_or_else(|| Error::Parse {
            path: path.clone(),
            text: text.trim_end().to_string(),
        })?;
        out.set(spec.name, value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(dir: &tempfile::TempDir) -> ProcSysctl {
        let dir: &'static str = Box::leak(dir.path().display().to_string().into_boxed_str());
        ProcSysctl { netns: None, dir }
    }

    #[test]
    fn reads_what_is_there_and_skips_what_is_not() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("conntrack"), "1\n").unwrap();
        fs::write(dir.path().join("sync_threshold"), "3\t50\n").unwrap();
        fs::write(dir.path().join("not_ours"), "7\n").unwrap();
        let got = at(&dir).read().unwrap();
        assert_eq!(got.get("conntrack"), Some(&SysctlValue::Int(1)));
        assert_eq!(got.get("sync_threshold"), Some(&SysctlValue::Pair(3, 50)));
        assert_eq!(got.len(), 2);
        fs::write(dir.path().join("secure_tcp"), "x\n").unwrap();
        let e = at(&dir).read().unwrap_err().to_string();
        assert!(
            e.ends_with("secure_tcp` holds `x`, which lvsh cannot read"),
            "{e}"
        );
    }

    #[test]
    fn no_directory_is_no_sysctls() {
        let mut p = ProcSysctl {
            netns: None,
            dir: "/nonexistent/lvsh/vs",
        };
        assert!(p.read().unwrap().is_empty());
        let e = p.write("conntrack", &SysctlValue::Int(1)).unwrap_err();
        assert_eq!(e.errno, libc::ENOENT);
        assert!(e.message.starts_with("no such sysctl"), "{e}");
    }

    #[test]
    fn writes_the_proc_text() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("sync_threshold"), "").unwrap();
        at(&dir)
            .write("sync_threshold", &SysctlValue::Pair(10, 100))
            .unwrap();
        assert_eq!(
            fs::read_to_string(dir.path().join("sync_threshold")).unwrap(),
            "10 100\n"
        );
    }
}
