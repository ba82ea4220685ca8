//! "did you mean" for misspelt names: scheduler names in scripts, options in ipvsadm
//! rules, REPL commands. A name in the wrong case and another tool's word for a
//! name (ipvsadm's `masq` for `nat`) count as the closest there is.

/// Words of ipvsadm, keepalived and LVS texts for what lvsh names otherwise, and
/// lvsh's names for them (the first one among the candidates is suggested).
const SYNONYMS: &[(&str, &[&str])] = &[
    ("masq", &["nat"]),
    ("masquerade", &["nat"]),
    ("masquerading", &["nat"]),
    ("gate", &["dr"]),
    ("gatewaying", &["dr"]),
    ("route", &["dr"]),
    ("droute", &["dr"]),
    ("direct", &["dr"]),
    ("ipip", &["tun", "tunnel"]),
    ("tunnel", &["tun"]),
    ("tunneling", &["tun", "tunnel"]),
    ("persistent", &["persist"]),
    ("persistence", &["persist"]),
    ("fwmark", &["mark"]),
    ("sched_flags", &["flags"]),
    ("real_server", &["rs"]),
    ("realserver", &["rs"]),
    ("u_thresh", &["u_threshold"]),
    ("l_thresh", &["l_threshold"]),
    ("ipv4", &["inet"]),
    ("ipv6", &["inet6"]),
    ("upper_threshold", &["u_threshold"]),
    ("lower_threshold", &["l_threshold"]),
];

/// Edit distance in characters, a swap of two neighbours counting as one edit.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

/// The closest candidate, if it is close enough to be a plausible typo.
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    closest_within(word, candidates, (word.chars().count() / 3).max(1))
}

/// The closest candidate at most `limit` edits away (case aside), else the one a
/// synonym names.
pub(crate) fn closest_within<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    limit: usize,
) -> Option<&'a str> {
    let candidates: Vec<&str> = candidates.into_iter().filter(|c| *c != word).collect();
    let lower = word.to_lowercase();
    let synonym = SYNONYMS
        .iter()
        .find(|(w, _)| *w == lower)
        .and_then(|(_, names)| {
            names
                .iter()
                .find_map(|n| candidates.iter().find(|c| *c == n))
        });
    let words = lower.chars().count();
    let nearest = candidates
        .iter()
        // Cheap bound first: a word far longer than a name is no typo of it.
        .filter(|c| c.chars().count().abs_diff(words) <= limit)
        .map(|c| (distance(&lower, &c.to_lowercase()), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d);
    match nearest {
        Some((0, c)) => Some(c),
        _ => synonym.copied().or(nearest.map(|(_, c)| c)),
    }
}

/// `, did you mean `x`?` or nothing.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    closest(word, candidates)
        .map(|c| format!(", did you mean `{c}`?"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance("rr", "rrr"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("é", "e"), 1);
        assert_eq!(distance("prot", "port"), 1);
    }

    #[test]
    fn suggests_only_close_names() {
        let names = ["rr", "wrr", "lc", "wlc", "sh", "mh"];
        assert_eq!(closest("rrr", names), Some("rr"));
        assert_eq!(closest("wlcc", names), Some("wlc"));
        assert_eq!(closest("roundrobin", names), None);
        assert_eq!(
            did_you_mean("schedular", ["scheduler", "persist"]),
            ", did you mean `scheduler`?"
        );
        assert_eq!(did_you_mean("zzz", ["scheduler"]), "");
    }

    #[test]
    fn another_case_or_another_tools_word_is_suggested() {
        let schedulers = ["rr", "wrr", "lc", "wlc", "sh"];
        assert_eq!(closest("RR", schedulers), Some("rr"));
        assert_eq!(closest("Wlc", schedulers), Some("wlc"));
        let methods = ["dr", "nat", "tun", "weight"];
        assert_eq!(closest("masq", methods), Some("nat"));
        assert_eq!(closest("MASQ", methods), Some("nat"));
        assert_eq!(closest("gate", methods), Some("dr"));
        assert_eq!(closest("ipip", methods), Some("tun"));
        // The state file's name for tunnelling is `tunnel`.
        assert_eq!(closest("ipip", ["nat", "dr", "tunnel"]), Some("tunnel"));
        // The state file's names of the families.
        assert_eq!(closest("ipv6", ["inet", "inet6"]), Some("inet6"));
        // A synonym only counts when its name is a candidate.
        assert_eq!(closest("masq", schedulers), None);
    }

    #[test]
    fn a_huge_word_is_no_typo_and_costs_nothing() {
        let word = "x".repeat(1 << 20);
        let t = std::time::Instant::now();
        assert_eq!(closest(&word, ["rr", "wrr"]), None);
        assert!(t.elapsed().as_millis() < 1000, "{:?}", t.elapsed());
    }
}
