use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

/// Every scheduler the kernel ships (`ip_vs_<name>.ko`), and `none`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Scheduler {
    Rr,
    Wrr,
    Lc,
    /// ipvsadm's default, so ours too.
    #[default]
    Wlc,
    Lblc,
    Lblcr,
    Dh,
    Sh,
    Sed,
    Nq,
    Fo,
    Ovf,
    Mh,
    Twos,
    /// No scheduler bound: the kernel takes the name `none` (ip_vs_ctl.c binds no
    /// module for it) and lists a service without one under that name. New
    /// connections get no real server; those the kernel already holds (synced from
    /// a master, or under a persistence template) still go through.
    None,
}

impl Scheduler {
    pub const ALL: [Scheduler; 15] = [
        Scheduler::Rr,
        Scheduler::Wrr,
        Scheduler::Lc,
        Scheduler::Wlc,
        Scheduler::Lblc,
        Scheduler::Lblcr,
        Scheduler::Dh,
        Scheduler::Sh,
        Scheduler::Sed,
        Scheduler::Nq,
        Scheduler::Fo,
        Scheduler::Ovf,
        Scheduler::Mh,
        Scheduler::Twos,
        Scheduler::None,
    ];

    /// The name the kernel knows it by (`IPVS_SVC_ATTR_SCHED_NAME`).
    pub fn name(self) -> &'static str {
        match self {
            Scheduler::Rr => "rr",
            Scheduler::Wrr => "wrr",
            Scheduler::Lc => "lc",
            Scheduler::Wlc => "wlc",
            Scheduler::Lblc => "lblc",
            Scheduler::Lblcr => "lblcr",
            Scheduler::Dh => "dh",
            Scheduler::Sh => "sh",
            Scheduler::Sed => "sed",
            Scheduler::Nq => "nq",
            Scheduler::Fo => "fo",
            Scheduler::Ovf => "ovf",
            Scheduler::Mh => "mh",
            Scheduler::Twos => "twos",
            Scheduler::None => "none",
        }
    }

    pub fn names() -> impl Iterator<Item = &'static str> {
        Scheduler::ALL.into_iter().map(Scheduler::name)
    }

    /// Whether a kernel module implements it (all but `none`).
    pub fn is_module(self) -> bool {
        self != Scheduler::None
    }
}

impl FromStr for Scheduler {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Scheduler::ALL.into_iter().find(|x| x.name() == s).ok_or(())
    }
}

impl fmt::Display for Scheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One of the three scheduler-specific service flags (`IP_VS_SVC_F_SCHED1..3`).
/// `sh` and `mh` give the first two a meaning; other schedulers ignore them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SchedFlag {
    Flag1,
    Flag2,
    Flag3,
}

impl SchedFlag {
    pub const ALL: [SchedFlag; 3] = [SchedFlag::Flag1, SchedFlag::Flag2, SchedFlag::Flag3];

    /// The name ipvsadm uses for this flag under `sched` (`-b sh-port`), falling back to
    /// the generic `flag-N`.
    pub fn name_for(self, sched: Scheduler) -> &'static str {
        match (sched, self) {
            (Scheduler::Sh, SchedFlag::Flag1) => "sh-fallback",
            (Scheduler::Sh, SchedFlag::Flag2) => "sh-port",
            (Scheduler::Mh, SchedFlag::Flag1) => "mh-fallback",
            (Scheduler::Mh, SchedFlag::Flag2) => "mh-port",
            (_, SchedFlag::Flag1) => "flag-1",
            (_, SchedFlag::Flag2) => "flag-2",
            (_, SchedFlag::Flag3) => "flag-3",
        }
    }

    /// Parses any name ipvsadm accepts, with the scheduler it is tied to, if any.
    pub fn parse(name: &str) -> Option<(SchedFlag, Option<Scheduler>)> {
        Some(match name {
            "sh-fallback" => (SchedFlag::Flag1, Some(Scheduler::Sh)),
            "sh-port" => (SchedFlag::Flag2, Some(Scheduler::Sh)),
            "mh-fallback" => (SchedFlag::Flag1, Some(Scheduler::Mh)),
            "mh-port" => (SchedFlag::Flag2, Some(Scheduler::Mh)),
            "flag-1" => (SchedFlag::Flag1, None),
            "flag-2" => (SchedFlag::Flag2, None),
            "flag-3" => (SchedFlag::Flag3, None),
            _ => return None,
        })
    }

    pub fn all_names() -> &'static [&'static str] {
        &[
            "sh-fallback",
            "sh-port",
            "mh-fallback",
            "mh-port",
            "flag-1",
            "flag-2",
            "flag-3",
        ]
    }
}

/// The set of scheduler flags on a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SchedFlags {
    pub flag1: bool,
    pub flag2: bool,
    pub flag3: bool,
}

impl SchedFlags {
    pub fn is_empty(&self) -> bool {
        !(self.flag1 || self.flag2 || self.flag3)
    }

    pub fn contains(&self, f: SchedFlag) -> bool {
        match f {
            SchedFlag::Flag1 => self.flag1,
            SchedFlag::Flag2 => self.flag2,
            SchedFlag::Flag3 => self.flag3,
        }
    }

    pub fn insert(&mut self, f: SchedFlag) {
        match f {
            SchedFlag::Flag1 => self.flag1 = true,
            SchedFlag::Flag2 => self.flag2 = true,
            SchedFlag::Flag3 => self.flag3 = true,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = SchedFlag> + '_ {
        SchedFlag::ALL.into_iter().filter(|f| self.contains(*f))
    }

    /// Names as ipvsadm prints them for `sched`, e.g. `["sh-fallback", "sh-port"]`.
    pub fn names(&self, sched: Scheduler) -> Vec<&'static str> {
        self.iter().map(|f| f.name_for(sched)).collect()
    }
}

// Serialized as a list of generic names so JSON stays readable and scheduler-independent.
impl Serialize for SchedFlags {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(|f| f.name_for(Scheduler::Rr)))
    }
}

impl<'de> Deserialize<'de> for SchedFlags {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        let mut flags = SchedFlags::default();
        for n in names {
            let (f, _) = SchedFlag::parse(&n)
                .ok_or_else(|| serde::de::Error::custom(format!("unknown scheduler flag `{n}`")))?;
            flags.insert(f);
        }
        Ok(flags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Scheduler::ALL {
            assert_eq!(s.name().parse::<Scheduler>(), Ok(s));
        }
        assert!("rrr".parse::<Scheduler>().is_err());
        assert_eq!("none".parse::<Scheduler>(), Ok(Scheduler::None));
        assert_eq!(
            serde_json::to_string(&Scheduler::None).unwrap(),
            r#""none""#
        );
    }

    #[test]
    fn flag_names_follow_the_scheduler() {
        let mut f = SchedFlags::default();
        f.insert(SchedFlag::Flag1);
        f.insert(SchedFlag::Flag2);
        assert_eq!(f.names(Scheduler::Sh), ["sh-fallback", "sh-port"]);
        assert_eq!(f.names(Scheduler::Mh), ["mh-fallback", "mh-port"]);
        assert_eq!(f.names(Scheduler::Rr), ["flag-1", "flag-2"]);
        assert_eq!(
            SchedFlag::parse("mh-port"),
            Some((SchedFlag::Flag2, Some(Scheduler::Mh)))
        );
    }

    #[test]
    fn flags_serialize_as_names() {
        let mut f = SchedFlags::default();
        f.insert(SchedFlag::Flag3);
        let j = serde_json::to_string(&f).unwrap();
        assert_eq!(j, r#"["flag-3"]"#);
        assert_eq!(serde_json::from_str::<SchedFlags>(&j).unwrap(), f);
        assert!(serde_json::from_str::<SchedFlags>(r#"["nope"]"#).is_err());
    }
}
