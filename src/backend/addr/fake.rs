//! Interface addresses in memory, for tests of plan, apply and rollback without root.

use super::{Addrs, Error, refusal};
use crate::{
    backend::KernelError,
    model::{Addresses, HostAddress, Origin},
};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct FakeAddrs {
    /// Every address, and whether it carries lvsh's mark.
    addresses: BTreeMap<HostAddress, bool>,
    interfaces: Vec<String>,
    /// The n-th change (1-based) fails with this errno and changes nothing.
    failures: BTreeMap<usize, i32>,
    /// Every change, in order: `+` or `-` and the address.
    pub log: Vec<String>,
}

impl Default for FakeAddrs {
    /// A namespace with `lo` and `eth0` and no address lvsh cares about.
    fn default() -> Self {
        FakeAddrs {
            addresses: BTreeMap::new(),
            interfaces: vec!["eth0".into(), "lo".into()],
            failures: BTreeMap::new(),
            log: Vec::new(),
        }
    }
}

impl FakeAddrs {
    /// An address someone else put there (keepalived, the operator).
    pub fn add_unmarked(&mut self, a: HostAddress) {
        self.addresses.insert(a, false);
    }

    /// The `n`-th change (1-based, over the fake's life) fails with `errno`.
    pub fn fail_change(&mut self, n: usize, errno: i32) {
        self.failures.insert(n, errno);
    }

    /// Every address, `true` for lvsh's.
    pub fn all(&self) -> &BTreeMap<HostAddress, bool> {
        &self.addresses
    }
}

impl Addrs for FakeAddrs {
    fn read(&mut self) -> Result<Addresses, Error> {
        let mut out = Addresses::default();
        out.interfaces = Some(self.interfaces.iter().cloned().collect());
        for (a, ours) in &self.addresses {
            if *ours {
                out.insert(a.clone(), Origin::NONE);
            } else {
                out.others.insert(a.clone());
            }
        }
        Ok(out)
    }

    fn add(&mut self, a: &HostAddress) -> Result<(), KernelError> {
        self.log.push(format!("+ {a}"));
        if let Some(errno) = self.failures.get(&self.log.len()) {
            return Err(refusal(*errno));
        }
        if !self.interfaces.contains(&a.interface) {
            return Err(refusal(libc::ENODEV));
        }
        if self.addresses.contains_key(a) {
            return Err(refusal(libc::EEXIST));
        }
        self.addresses.insert(a.clone(), true);
        Ok(())
    }

    fn delete(&mut self, a: &HostAddress) -> Result<(), KernelError> {
        self.log.push(format!("- {a}"));
        if let Some(errno) = self.failures.get(&self.log.len()) {
            return Err(refusal(*errno));
        }
        match self.addresses.remove(a) {
            Some(_) => Ok(()),
            None => Err(refusal(libc::EADDRNOTAVAIL)),
        }
    }
}
