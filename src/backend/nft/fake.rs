//! An in-memory table `inet lvsh` for plan/apply/rollback tests without root.

use super::{Error, Foreign, canonical, rules, table_text};
use crate::{backend::Nft, model::MarkRule};
use std::{
    collections::{BTreeMap, VecDeque},
    os::unix::process::ExitStatusExt,
    process::ExitStatus,
};

/// Behaves like [`NftCli`](super::NftCli) on a kernel: `replace` validates like the
/// real one, stores marks the way nft reads them back (merged port ranges), is
/// atomic, and clears hand-made objects; failures can be scripted per call.
#[derive(Debug, Default)]
pub struct FakeNft {
    /// The table content, as `read` returns it.
    pub marks: BTreeMap<u32, MarkRule>,
    /// Objects "added by hand": `read` reports them as [`Error::Foreign`].
    pub foreign: Vec<Foreign>,
    /// Every `replace` that succeeded, in order.
    pub replaced: Vec<BTreeMap<u32, MarkRule>>,
    reads: usize,
    replaces: usize,
    read_failures: VecDeque<(usize, String)>,
    replace_failures: VecDeque<(usize, String)>,
}

impl FakeNft {
    pub fn new() -> Self {
        Self::default()
    }

    /// A table that already holds `marks` (which must be valid).
    pub fn with_marks(marks: BTreeMap<u32, MarkRule>) -> Self {
        rules(&marks).expect("FakeNft::with_marks takes marks lvsh could write");
        FakeNft {
            marks: marks.values().map(|m| (m.mark, canonical(m))).collect(),
            ..Self::default()
        }
    }

    /// Call number `nth` (0-based, counting every call so far) of `replace` fails
    /// with nft's `stderr`, changing nothing.
    pub fn fail_replace(&mut self, nth: usize, stderr: &str) -> &mut Self {
        self.replace_failures.push_back((nth, stderr.to_string()));
        self
    }

    /// The next `replace` fails with nft's `stderr`, changing nothing.
    pub fn fail_next_replace(&mut self, stderr: &str) -> &mut Self {
        self.fail_replace(self.replaces, stderr)
    }

    /// Call number `nth` of `read` fails with nft's `stderr`.
    pub fn fail_read(&mut self, nth: usize, stderr: &str) -> &mut Self {
        self.read_failures.push_back((nth, stderr.to_string()));
        self
    }

    /// The table in nft text syntax, as `nft list table inet lvsh` would show it
    /// (marks in decimal); empty when there is no table. For golden tests.
    pub fn dump(&self) -> String {
        let specs = rules(&self.marks).expect("the fake holds only validated marks");
        let mut s = table_text(&specs);
        for f in &self.foreign {
            s.push_str(&format!("# foreign: {f}\n"));
        }
        s
    }

    fn scripted(
        failures: &mut VecDeque<(usize, String)>,
        call: usize,
        args: &str,
    ) -> Result<(), Error> {
        match failures.iter().position(|(n, _)| *n == call) {
            Some(i) => {
                let (_, stderr) = failures.remove(i).expect("index from position");
                Err(Error::Failed {
                    command: format!("nft {args}"),
                    status: ExitStatus::from_raw(1 << 8),
                    stderr,
                })
            }
            None => Ok(()),
        }
    }
}

impl Nft for FakeNft {
    fn read(&mut self) -> Result<BTreeMap<u32, MarkRule>, Error> {
        let call = self.reads;
        self.reads += 1;
        Self::scripted(&mut self.read_failures, call, "-j list table inet lvsh")?;
        if self.foreign.is_empty() {
            Ok(self.marks.clone())
        } else {
            Err(Error::Foreign {
                marks: self.marks.clone(),
                foreign: self.foreign.clone(),
            })
        }
    }

    fn replace(&mut self, marks: &BTreeMap<u32, MarkRule>) -> Result<(), Error> {
        let call = self.replaces;
        self.replaces += 1;
        rules(marks)?;
        Self::scripted(&mut self.replace_failures, call, "-j -f -")?;
        self.marks = marks.values().map(|m| (m.mark, canonical(m))).collect();
        self.foreign.clear();
        self.replaced.push(marks.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        backend::nft::read_observed,
        model::{PortRange, Protocol},
    };

    fn marks() -> BTreeMap<u32, MarkRule> {
        let mut m = MarkRule::new(10);
        m.addresses.insert("192.168.10.120".parse().unwrap());
        m.ports = ["80".parse().unwrap(), "81-90".parse().unwrap()].into();
        BTreeMap::from([(10, m)])
    }

    #[test]
    fn stores_what_nft_would_read_back() {
        let mut nft = FakeNft::new();
        assert_eq!(nft.read().unwrap(), BTreeMap::new());
        assert_eq!(nft.dump(), "");
        nft.replace(&marks()).unwrap();
        let read = nft.read().unwrap();
        assert_eq!(
            read[&10].ports,
            ["80-90".parse::<PortRange>().unwrap()].into()
        );
        assert_eq!(read[&10].protocols, [Protocol::Tcp].into());
        assert_eq!(
            nft.dump(),
            "table inet lvsh {\n\tchain prerouting {\n\
             \t\ttype filter hook prerouting priority mangle; policy accept;\n\
             \t\tip daddr 192.168.10.120 tcp dport 80-90 meta mark set 10 comment \"lvsh mark 10\"\n\
             \t}\n}\n"
        );
        nft.replace(&BTreeMap::new()).unwrap();
        assert_eq!(nft.read().unwrap(), BTreeMap::new());
        assert_eq!(nft.replaced.len(), 2);
    }

    #[test]
    fn scripted_failures_change_nothing() {
        let mut nft = FakeNft::with_marks(marks());
        nft.fail_replace(
            1,
            "Error: Could not process rule: No buffer space available",
        )
        .fail_read(0, "Error: netlink: Error: Operation not permitted");
        assert!(matches!(nft.read(), Err(Error::Failed { .. })));
        assert_eq!(
            nft.read().unwrap(),
            marks().iter().map(|(k, m)| (*k, canonical(m))).collect()
        );
        nft.replace(&marks()).unwrap(); // call 0
        let e = nft.replace(&BTreeMap::new()).unwrap_err(); // call 1
        assert!(e.to_string().contains("No buffer space available"), "{e}");
        assert_eq!(
            nft.read().unwrap().len(),
            1,
            "failed replace left the table as it was"
        );
        nft.replace(&BTreeMap::new()).unwrap(); // call 2
        assert!(nft.read().unwrap().is_empty());
        nft.fail_next_replace("Error: boom");
        assert!(nft.replace(&marks()).is_err());
        assert!(nft.read().unwrap().is_empty());
        nft.replace(&marks()).unwrap();
        assert_eq!(nft.replaced.len(), 3, "only successful replaces are logged");
    }

    #[test]
    fn invalid_marks_fail_like_the_real_backend() {
        let mut nft = FakeNft::with_marks(marks());
        let mut bad = marks();
        bad.get_mut(&10).unwrap().mark = 11;
        assert!(matches!(nft.replace(&bad), Err(Error::Invalid { .. })));
        assert_eq!(nft.read().unwrap().len(), 1);
        assert!(nft.replaced.is_empty());
    }

    #[test]
    fn foreign_objects_are_reported_until_replaced() {
        let mut nft = FakeNft::with_marks(marks());
        nft.foreign.push(Foreign {
            kind: "rule".into(),
            name: "prerouting".into(),
            handle: Some(9),
            detail: "no `lvsh mark N` comment".into(),
            content: Some("ip saddr 10.9.9.9 drop".into()),
        });
        assert!(matches!(nft.read(), Err(Error::Foreign { .. })));
        let o = read_observed(&mut nft).unwrap();
        assert_eq!(o.marks.len(), 1);
        assert_eq!(o.foreign.len(), 1);
        assert!(nft.dump().ends_with(
            "# foreign: rule in chain `prerouting` (handle 9): no `lvsh mark N` comment: \
             `ip saddr 10.9.9.9 drop`\n"
        ));
        nft.replace(&marks()).unwrap();
        assert!(read_observed(&mut nft).unwrap().foreign.is_empty());
    }
}
