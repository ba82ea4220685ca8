//! The real sysctls, through `/proc/sys/net/ipv4/vs` and the host ones
//! ([`HOST_SPECS`]) through their `/proc/sys` files. A thread sees the files of its
//! own network namespace, so with `--netns` every read and write happens with this
//! thread inside that namespace (as the IPVS socket is opened there).

use super::{Error, Sysctl, refusal};
use crate::{
    backend::{KernelError, ipvs::netlink::in_netns},
    model::{
        SysctlValue, Sysctls,
        sysctl::{HOST_SPECS, SPECS, SYSCTL_ROOT, Spec, proc_path},
    },
};
use std::{fs, io, io::Write, path::Path};

pub struct ProcSysctl {
    netns: Option<String>,
    root: &'static str,
}

impl ProcSysctl {
    /// The sysctls of the current network namespace, or of `/run/netns/NAME`.
    pub fn new(netns: Option<&str>) -> Self {
        ProcSysctl {
            netns: netns.map(str::to_string),
            root: SYSCTL_ROOT,
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
        let root = Path::new(self.root);
        self.inside(|| read_all(root))
            .map_err(|e| Error::Netns(Box::new(e)))?
    }

    fn write(&mut self, name: &str, value: &SysctlValue) -> Result<(), KernelError> {
        let path = proc_path(Path::new(self.root), name);
        let text = value.proc_text();
        let written = self.inside(|| {
            fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .and_then(|mut f| f.write_all(text.as_bytes()))
        });
        match written {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(refusal(name, e.raw_os_error().unwrap_or(libc::EIO))),
            Err(e) => Err(KernelError {
                errno: libc::EIO,
                message: e.to_string(),
            }),
        }
    }
}

/// The IPVS sysctls (none without ip_vs) and every host one lvsh knows: the global
/// ones and those of each interface the namespace has.
fn read_all(root: &Path) -> Result<Sysctls, Error> {
    let mut out = Sysctls::default();
    let dir = root.join("net/ipv4/vs");
    if dir.is_dir() {
        for spec in SPECS {
            read_one(root, spec, spec.name, &mut out)?;
        }
    }
    for spec in HOST_SPECS {
        let Some((head, _)) = spec.name.split_once(".*.") else {
            read_one(root, spec, spec.name, &mut out)?;
            continue;
        };
        let conf = root.join(head.replace('.', "/"));
        let Ok(entries) = fs::read_dir(&conf) else {
            continue;
        };
        let mut devs: Vec<String> = entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        devs.sort();
        for dev in devs {
            // sysctl(8) writes a `.` in a device name as `/`.
            let name = spec.name.replace('*', &dev.replace('.', "/"));
            read_one(root, spec, &name, &mut out)?;
        }
    }
    Ok(out)
}

/// Reads `name` into `out`; one the kernel does not have is left out (too old, not
/// built with it, an interface gone meanwhile).
fn read_one(root: &Path, spec: &Spec, name: &str, out: &mut Sysctls) -> Result<(), Error> {
    let path = proc_path(root, name);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => return Err(Error::Read { path, source }),
    };
    let value = spec.parse(&text).ok_or_else(|| Error::Parse {
        path: path.clone(),
        text: text.trim_end().to_string(),
    })?;
    out.set(name, value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(dir: &tempfile::TempDir) -> ProcSysctl {
        let root: &'static str = Box::leak(dir.path().display().to_string().into_boxed_str());
        ProcSysctl { netns: None, root }
    }

    /// `net/ipv4/vs` below the root, made.
    fn vs(root: &tempfile::TempDir) -> std::path::PathBuf {
        let dir = root.path().join("net/ipv4/vs");
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn reads_what_is_there_and_skips_what_is_not() {
        let root = tempfile::tempdir().unwrap();
        let dir = vs(&root);
        fs::write(dir.join("conntrack"), "1\n").unwrap();
        fs::write(dir.join("sync_threshold"), "3\t50\n").unwrap();
        fs::write(dir.join("not_ours"), "7\n").unwrap();
        let got = at(&root).read().unwrap();
        assert_eq!(got.get("conntrack"), Some(&SysctlValue::Int(1)));
        assert_eq!(got.get("sync_threshold"), Some(&SysctlValue::Pair(3, 50)));
        assert_eq!(got.len(), 2);
        fs::write(dir.join("secure_tcp"), "x\n").unwrap();
        let e = at(&root).read().unwrap_err().to_string();
        assert!(
            e.ends_with("secure_tcp` holds `x`, which lvsh cannot read"),
            "{e}"
        );
    }

    #[test]
    fn no_directory_is_no_sysctls() {
        let mut p = ProcSysctl {
            netns: None,
            root: "/nonexistent/lvsh",
        };
        assert!(p.read().unwrap().is_empty());
        let e = p.write("conntrack", &SysctlValue::Int(1)).unwrap_err();
        assert_eq!(e.errno, libc::ENOENT);
        assert!(e.message.starts_with("no such sysctl"), "{e}");
    }

    #[test]
    fn writes_the_proc_text() {
        let root = tempfile::tempdir().unwrap();
        let dir = vs(&root);
        fs::write(dir.join("sync_threshold"), "").unwrap();
        at(&root)
            .write("sync_threshold", &SysctlValue::Pair(10, 100))
            .unwrap();
        assert_eq!(
            fs::read_to_string(dir.join("sync_threshold")).unwrap(),
            "10 100\n"
        );
    }

    #[test]
    fn host_sysctls_of_every_interface() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        for dev in ["all", "lo", "eth0.100"] {
            let d = r.join("net/ipv4/conf").join(dev);
            fs::create_dir_all(&d).unwrap();
            fs::write(d.join("arp_ignore"), "0\n").unwrap();
            fs::write(d.join("arp_announce"), "0\n").unwrap();
        }
        fs::create_dir_all(r.join("net/ipv6/conf/all")).unwrap();
        fs::write(r.join("net/ipv6/conf/all/forwarding"), "1\n").unwrap();
        fs::write(r.join("net/ipv4/ip_forward"), "0\n").unwrap();
        let mut p = at(&root);
        let got = p.read().unwrap();
        assert_eq!(got.int("net.ipv4.ip_forward"), Some(0));
        assert_eq!(got.int("net.ipv6.conf.all.forwarding"), Some(1));
        assert_eq!(got.int("net.ipv4.conf.eth0/100.arp_ignore"), Some(0));
        assert_eq!(got.len(), 8, "no IPVS ones without net/ipv4/vs: {got:?}");
        p.write("net.ipv4.conf.eth0/100.arp_ignore", &SysctlValue::Int(1))
            .unwrap();
        assert_eq!(
            fs::read_to_string(r.join("net/ipv4/conf/eth0.100/arp_ignore")).unwrap(),
            "1\n"
        );
        p.write("net.ipv4.ip_forward", &SysctlValue::Int(1))
            .unwrap();
        assert_eq!(p.read().unwrap().int("net.ipv4.ip_forward"), Some(1));
        let e = p
            .write("net.ipv4.conf.eth9.arp_ignore", &SysctlValue::Int(1))
            .unwrap_err();
        assert_eq!(e.errno, libc::ENOENT);
    }
}
