//! The observed model: what the kernel holds, read through the backends.

mod fingerprint;

pub use fingerprint::sha256;

use crate::{
    backend::{
        Ipvs, Nft,
        addr::{self, Addrs},
        ipvs,
        nft::{self, Foreign},
        sysctl::{self, Sysctl},
    },
    model::{
        Balancer, ServiceKey,
        sysctl::{full_name, interface_of, is_host},
    },
};
use std::collections::BTreeSet;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum StateError {
    #[error("cannot read the IPVS table")]
    Ipvs(#[source] ipvs::Error),
    #[error("cannot read nft table `inet lvsh`")]
    Nft(
        #[source]
        #[diagnostic_source]
        nft::Error,
    ),
    #[error("cannot read the sysctls")]
    Sysctl(#[source] sysctl::Error),
    #[error("cannot read the interfaces' addresses")]
    Addr(#[source] addr::Error),
    #[error("{}", no_device(.0))]
    NoInterface(Vec<(crate::model::HostAddress, Option<crate::model::Pos>)>),
    #[error(
        "the script sets {}, which the kernel does not have (ip_vs is not loaded, or the \
         kernel is older: `est_cpulist` and `est_nice` came with Linux 6.2)",
        names(.0)
    )]
    NoSysctl(Vec<String>),
    #[error(
        "the script sets {}, which the kernel does not have: {}",
        names(.0),
        no_interface(.0)
    )]
    NoHostSysctl(Vec<String>),
}

/// `address 10.0.0.1/32 on eth9: there is no interface `eth9` in this network
/// namespace (site.rhai:3:1)`, one line per address.
fn no_device(list: &[(crate::model::HostAddress, Option<crate::model::Pos>)]) -> String {
    let lines: Vec<String> = list
        .iter()
        .map(|(a, at)| {
            let at = at
                .as_ref()
                .map(|p| format!(" ({}:{}:{})", p.source, p.line, p.column))
                .unwrap_or_default();
            format!(
                "address {a}: there is no interface `{}` in this network namespace{at}",
                a.interface
            )
        })
        .collect();
    lines.join("\n")
}

/// `there is no interface `eth9` in this network namespace`.
fn no_interface(names: &[String]) -> String {
    let mut devs: Vec<&str> = names.iter().filter_map(|n| interface_of(n)).collect();
    devs.dedup();
    match &devs[..] {
        [] => "this kernel has no such sysctl".to_string(),
        [one] => format!("there is no interface `{one}` in this network namespace"),
        many => format!(
            "there are no interfaces {} in this network namespace",
            many.iter()
                .map(|d| format!("`{d}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn names(names: &[String]) -> String {
    let full: Vec<String> = names
        .iter()
        .map(|n| format!("`{}`", full_name(n)))
        .collect();
    full.join(", ")
}

/// The kernel's state, and what table `inet lvsh` holds that lvsh did not write.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub balancer: Balancer,
    /// Drift in the owned table: any write replaces the table and removes these.
    pub foreign: Vec<Foreign>,
}

/// Reads IPVS (services, destinations, timeouts, daemons), its sysctls and the owned
/// nft table into one model. `nft` is a process of its own: it runs on another
/// thread while this one dumps IPVS, so its start-up costs no time.
pub fn read(
    ipvs: &mut dyn Ipvs,
    nft: &mut (dyn Nft + Send),
    sysctl: &mut dyn Sysctl,
    addr: &mut dyn Addrs,
) -> Result<Observed, StateError> {
    let (balancer, table) = std::thread::scope(|s| {
        let table = s.spawn(|| nft::read_observed(nft));
        let balancer = ipvs.read();
        let table = table
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (balancer, table)
    });
    let mut balancer = balancer.map_err(StateError::Ipvs)?;
    balancer.sysctls = sysctl.read().map_err(StateError::Sysctl)?;
    balancer.addresses = addr.read().map_err(StateError::Addr)?;
    Ok(Observed::new(balancer, table.map_err(StateError::Nft)?))
}

/// Reads the state again after (or just before) a write: the destinations of the
/// services in `changed` (and of services new since `before`), the rest as `before`
/// read them; the owned table only when `with_nft` (lvsh's lock keeps lvsh to one
/// writer at a time, so a table lvsh did not write is as `before` read it). The
/// sysctls are always read: a few small files.
pub fn reread(
    ipvs: &mut dyn Ipvs,
    nft: &mut (dyn Nft + Send),
    sysctl: &mut dyn Sysctl,
    addr: &mut dyn Addrs,
    before: &Observed,
    changed: &BTreeSet<ServiceKey>,
    with_nft: bool,
) -> Result<Observed, StateError> {
    let (balancer, table) = std::thread::scope(|s| {
        let table = with_nft.then(|| s.spawn(|| nft::read_observed(nft)));
        let balancer = ipvs.read_changed(&before.balancer, changed);
        let table = table.map(|t| {
            t.join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        (balancer, table)
    });
    let mut balancer = balancer.map_err(StateError::Ipvs)?;
    balancer.sysctls = sysctl.read().map_err(StateError::Sysctl)?;
    balancer.addresses = addr.read().map_err(StateError::Addr)?;
    let table = match table {
        Some(table) => table.map_err(StateError::Nft)?,
        None => nft::TableRead {
            marks: before.balancer.marks.clone(),
            foreign: before.foreign.clone(),
        },
    };
    Ok(Observed::new(balancer, table))
}

impl Observed {
    /// The IPVS state with the owned table's marks and drift.
    pub fn new(mut balancer: Balancer, table: nft::TableRead) -> Self {
        balancer.marks = table.marks;
        Observed {
            balancer,
            foreign: table.foreign,
        }
    }

    /// Refuses a desired model that sets sysctls this kernel does not have: the state
    /// was read from the kernel, which reports every one it has.
    pub fn has_sysctls_of(&self, desired: &Balancer) -> Result<(), StateError> {
        let (host, missing): (Vec<String>, Vec<String>) = desired
            .sysctls
            .iter()
            .filter(|(name, _)| self.balancer.sysctls.get(name).is_none())
            .map(|(name, _)| name.to_string())
            .partition(|name| is_host(name));
        if !missing.is_empty() {
            Err(StateError::NoSysctl(missing))
        } else if !host.is_empty() {
            Err(StateError::NoHostSysctl(host))
        } else {
            Ok(())
        }
    }

    /// Refuses a desired model with addresses on interfaces the namespace does not
    /// have, pointing at each `address()` call.
    pub fn has_interfaces_of(&self, desired: &Balancer) -> Result<(), StateError> {
        let missing: Vec<_> = desired
            .addresses
            .missing_interfaces(&self.balancer.addresses)
            .into_iter()
            .map(|a| {
                let at = desired.addresses.origin(a).and_then(|o| o.pos()).cloned();
                (a.clone(), at)
            })
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(StateError::NoInterface(missing))
        }
    }

    /// Whether two reads found the same configuration (counters and rates aside).
    pub fn same_config(&self, other: &Observed) -> bool {
        self.balancer == other.balancer && self.foreign == other.foreign
    }

    /// Lines telling what `inet lvsh` holds that lvsh did not write; empty when nothing.
    pub fn foreign_notice(&self) -> String {
        let n = self.foreign.len();
        if n == 0 {
            return String::new();
        }
        let (s, them) = if n == 1 { ("", "it") } else { ("s", "them") };
        let mut out = format!(
            "~ table inet lvsh holds {n} object{s} lvsh did not write; apply removes {them}:\n"
        );
        for f in &self.foreign {
            out.push_str(&format!("    {f}\n"));
        }
        out
    }
}

/// Brings a desired model into the form the kernel reports it in, so that a plan
/// made after an apply is empty (nft merges adjacent port ranges, for example).
pub fn canonical(desired: &mut Balancer) {
    for rule in desired.marks.values_mut() {
        *rule = nft::canonical(rule);
    }
}
