//! Sysctls in memory, for tests of plan, apply and rollback without root.

use super::{Error, Sysctl, refusal};
use crate::{
    backend::KernelError,
    model::{
        SysctlValue, Sysctls,
        sysctl::{DefaultValue, Kind, SPECS, spec_of},
    },
};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default)]
pub struct FakeSysctl {
    values: Sysctls,
    /// Writes of these names fail with this errno and change nothing.
    refuse: BTreeMap<String, i32>,
    /// The n-th write (1-based) fails with this errno and changes nothing.
    failures: BTreeMap<usize, i32>,
    /// Every write, in order.
    pub log: Vec<(String, SysctlValue)>,
}

impl FakeSysctl {
    /// A fresh namespace of a 6.1 kernel: every sysctl at its default.
    pub fn new() -> Self {
        let mut values = Sysctls::default();
        for s in SPECS {
            let v = match (s.name, s.default) {
                ("est_cpulist" | "est_nice" | "debug_level", _) => continue,
                (_, DefaultValue::Int(n)) => SysctlValue::Int(n),
                (_, DefaultValue::Pair(a, b)) => SysctlValue::Pair(a, b),
                (_, DefaultValue::Machine) => SysctlValue::Int(7248),
            };
            values.set(s.name, v);
        }
        // The host ones of a namespace with `lo` and `eth0`.
        values.set("net.ipv4.ip_forward", SysctlValue::Int(0));
        for dev in ["all", "default", "lo", "eth0"] {
            values.set(
                &format!("net.ipv6.conf.{dev}.forwarding"),
                SysctlValue::Int(0),
            );
            values.set(
                &format!("net.ipv4.conf.{dev}.arp_ignore"),
                SysctlValue::Int(0),
            );
            values.set(
                &format!("net.ipv4.conf.{dev}.arp_announce"),
                SysctlValue::Int(0),
            );
        }
        FakeSysctl {
            values,
            ..FakeSysctl::default()
        }
    }

    /// No `/proc/sys/net/ipv4/vs` at all.
    pub fn missing() -> Self {
        FakeSysctl::default()
    }

    /// Writes of `name` fail with `errno`.
    pub fn refuse(&mut self, name: &str, errno: i32) {
        self.refuse.insert(name.to_string(), errno);
    }

    /// The `n`-th write (1-based, over the fake's life) fails with `errno`.
    pub fn fail_write(&mut self, n: usize, errno: i32) {
        self.failures.insert(n, errno);
    }

    pub fn values(&self) -> &Sysctls {
        &self.values
    }

    pub fn set(&mut self, name: &str, value: SysctlValue) {
        self.values.set(name, value);
    }
}

impl Sysctl for FakeSysctl {
    fn read(&mut self) -> Result<Sysctls, Error> {
        Ok(self.values.clone())
    }

    fn write(&mut self, name: &str, value: &SysctlValue) -> Result<(), KernelError> {
        self.log.push((name.to_string(), value.clone()));
        if let Some(errno) = self.failures.get(&self.log.len()) {
            return Err(refusal(name, *errno));
        }
        if let Some(errno) = self.refuse.get(name) {
            return Err(refusal(name, *errno));
        }
        let Some(spec) = spec_of(name) else {
            return Err(refusal(name, libc::ENOENT));
        };
        if self.values.get(name).is_none() {
            return Err(refusal(name, libc::ENOENT));
        }
        // What the kernel checks itself; the rest it takes as it comes.
        if matches!(spec.check(value), Some(bad) if bad.kernel)
            || matches!(spec.kind, Kind::ReadOnly(_))
        {
            return Err(refusal(name, libc::EINVAL));
        }
        self.values.set(name, value.clone());
        Ok(())
    }
}
