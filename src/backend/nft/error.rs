use crate::model::MarkRule;
use std::{collections::BTreeMap, fmt, io, process::ExitStatus};

/// Everything that can go wrong between lvsh and its nft table.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    #[error("`nft` is not installed")]
    #[diagnostic(
        code(lvsh::nft::missing),
        help(
            "install nftables (Debian: `apt install nftables`); lvsh runs `nft` for its mark rules"
        )
    )]
    NotInstalled,

    #[error("cannot run `{command}`: {source}")]
    #[diagnostic(code(lvsh::nft::spawn))]
    Spawn {
        command: String,
        #[source]
        source: io::Error,
    },

    #[error("cannot enter network namespace `{netns}`: {source}")]
    #[diagnostic(
        code(lvsh::nft::netns),
        help("a name means `/run/netns/NAME` (see `ip netns list`); a path is used as it is")
    )]
    Netns {
        netns: String,
        #[source]
        source: io::Error,
    },

    /// nft refused: nothing changed, one `nft -f` is one kernel transaction.
    #[error("`{command}` failed ({status}): {}", stderr.trim_end())]
    #[diagnostic(code(lvsh::nft::failed))]
    Failed {
        command: String,
        status: ExitStatus,
        stderr: String,
    },

    /// nft failed, and the kernel has no nf_tables: what nft says, then why.
    #[error("`{command}` failed: {}; the kernel has no nf_tables: {why}", stderr.trim_end())]
    #[diagnostic(code(lvsh::nft::no_nf_tables), help("{}", why.hint()))]
    NoNfTables {
        command: String,
        stderr: String,
        why: Box<crate::backend::modprobe::NotLoaded>,
    },

    #[error("cannot read the JSON printed by `{command}`: {source}")]
    #[diagnostic(code(lvsh::nft::json))]
    Json {
        command: String,
        #[source]
        source: serde_json::Error,
    },

    /// A mark rule lvsh will not write (the DSL should have refused it first).
    #[error("mark {mark}: {reason}")]
    #[diagnostic(code(lvsh::nft::invalid))]
    Invalid { mark: u32, reason: String },

    /// The table holds objects lvsh did not write. `marks` are the rules it did
    /// recognise, so a caller can still diff them; `apply` replaces the whole table.
    #[error(
        "table `inet lvsh` holds {} lvsh did not write:{}",
        plural(foreign.len(), "object"),
        foreign.iter().map(|f| format!("\n  {f}")).collect::<String>()
    )]
    #[diagnostic(
        code(lvsh::nft::foreign),
        help(
            "lvsh owns table `inet lvsh`: `lvsh apply` replaces it whole; put your own rules in another table"
        )
    )]
    Foreign {
        marks: BTreeMap<u32, MarkRule>,
        foreign: Vec<Foreign>,
    },
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// One object in table `inet lvsh` that lvsh did not write (or that was changed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Foreign {
    /// `rule`, `chain`, `set`, `table`, ...
    pub kind: String,
    /// Chain of a rule, name of anything else.
    pub name: String,
    pub handle: Option<u32>,
    /// What is wrong with it.
    pub detail: String,
    /// A rule's content: nft text when `nft` listed it, else its JSON, shortened.
    pub content: Option<String>,
}

impl fmt::Display for Foreign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind.as_str() {
            "rule" => write!(f, "rule in chain `{}`", self.name)?,
            kind => write!(f, "{kind} `{}`", self.name)?,
        }
        if let Some(h) = self.handle {
            write!(f, " (handle {h})")?;
        }
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        if let Some(c) = &self.content {
            write!(f, ": `{c}`")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_objects_are_listed_one_per_line() {
        let e = Error::Foreign {
            marks: BTreeMap::new(),
            foreign: vec![
                Foreign {
                    kind: "rule".into(),
                    name: "prerouting".into(),
                    handle: Some(7),
                    detail: "no lvsh comment".into(),
                    content: Some("ip saddr 10.9.9.9 drop".into()),
                },
                Foreign {
                    kind: "set".into(),
                    name: "vips".into(),
                    handle: None,
                    detail: String::new(),
                    content: None,
                },
            ],
        };
        assert_eq!(
            e.to_string(),
            "table `inet lvsh` holds 2 objects lvsh did not write:\n  \
             rule in chain `prerouting` (handle 7): no lvsh comment: `ip saddr 10.9.9.9 drop`\n  \
             set `vips`"
        );
    }

    #[test]
    fn failed_shows_nft_stderr() {
        use std::os::unix::process::ExitStatusExt;
        let e = Error::Failed {
            command: "nft -j -f -".into(),
            status: ExitStatus::from_raw(1 << 8),
            stderr: "Error: Could not process rule: No such file or directory\n".into(),
        };
        assert_eq!(
            e.to_string(),
            "`nft -j -f -` failed (exit status: 1): Error: Could not process rule: No such file or directory"
        );
    }
}
