//! Tests against the real `nft` and kernel, each in a network namespace of its own:
//! the test re-runs this test binary under `unshare --net`, filtered to itself. They
//! need root, util-linux `unshare` and nftables, and fail (never skip) without them.

use super::*;
use crate::{
    backend::Nft,
    convert::nft::to_nft,
    model::{Balancer, PortRange, Protocol},
};
use serde_json::Value;
use std::{
    collections::BTreeSet,
    env, fs,
    io::Write,
    net::IpAddr,
    process::{Command, Stdio},
};

const CHILD: &str = "LVSH_NFT_TEST_CHILD";
const PARENT_NETNS: &str = "LVSH_NFT_TEST_PARENT_NETNS";
const PARENT_MNTNS: &str = "LVSH_NFT_TEST_PARENT_MNTNS";

fn ns_id(pid: &str, kind: &str) -> String {
    fs::read_link(format!("/proc/{pid}/ns/{kind}"))
        .expect("reading /proc/*/ns/*")
        .display()
        .to_string()
}

fn netns_id(pid: &str) -> String {
    ns_id(pid, "net")
}

/// Runs `body` in a fresh network namespace: in the child run it runs it, in the
/// normal run it starts the child and checks that exactly this test passed there.
fn in_new_netns(path: &str, body: impl FnOnce()) {
    in_new_namespaces(path, false, body)
}

/// [`in_new_netns`], and with `mount` in a mount namespace of its own too, so the
/// test may hide files nft reads.
fn in_new_namespaces(path: &str, mount: bool, body: impl FnOnce()) {
    let test = path.split_once("::").expect("crate::path").1;
    if env::var(CHILD).as_deref() == Ok(test) {
        let parent = env::var(PARENT_NETNS).expect("parent netns passed down");
        assert_ne!(
            netns_id("self"),
            parent,
            "refusing to touch nft outside a namespace of its own"
        );
        if mount {
            let parent = env::var(PARENT_MNTNS).expect("parent mount namespace passed down");
            assert_ne!(
                ns_id("self", "mnt"),
                parent,
                "refusing to mount outside a namespace of its own"
            );
        }
        return body();
    }
    let exe = env::current_exe().expect("test binary path");
    let namespaces: &[&str] = if mount {
        &["--net", "--mount", "--"]
    } else {
        &["--net", "--"]
    };
    let out = Command::new("unshare")
        .args(namespaces)
        .arg(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, test)
        .env(PARENT_NETNS, netns_id("self"))
        .env(PARENT_MNTNS, ns_id("self", "mnt"))
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `unshare` ({e}): these tests need util-linux, root and nftables")
        });
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    print!("{stdout}");
    eprint!("{stderr}");
    assert!(
        out.status.success() && stdout.contains("test result: ok. 1 passed"),
        "`unshare --net` run of {test} failed ({}), output above; \
         these tests need root, util-linux and nftables",
        out.status
    );
}

macro_rules! netns_tests {
    ($($(#[doc = $doc:literal])* fn $name:ident() $body:block)*) => {$(
        $(#[doc = $doc])*
        #[test]
        fn $name() {
            in_new_netns(concat!(module_path!(), "::", stringify!($name)), || $body)
        }
    )*};
}

/// Runs the real nft, which must succeed; its stdout.
fn nft(args: &[&str], stdin: Option<&str>) -> String {
    let mut child = Command::new("nft")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("`nft` must be installed");
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(pipe);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "nft {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `nft -j list table inet lvsh` without handles and metainfo, for comparing tables.
fn listing() -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(o) => {
                o.remove("handle");
                o.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v: Value = serde_json::from_str(&nft(&["-j", "list", "table", "inet", "lvsh"], None))
        .expect("nft prints JSON");
    let items = v["nftables"].as_array_mut().unwrap();
    items.retain(|i| i.get("metainfo").is_none());
    strip(&mut v);
    v
}

fn tables() -> String {
    nft(&["list", "tables"], None)
}

fn mark(
    n: u32,
    addrs: &[&str],
    protos: &[Protocol],
    ports: &[&str],
    comment: Option<&str>,
) -> MarkRule {
    let mut m = MarkRule::new(n);
    m.addresses = addrs.iter().map(|a| a.parse::<IpAddr>().unwrap()).collect();
    if !protos.is_empty() {
        m.protocols = protos.iter().copied().collect();
    }
    m.ports = ports
        .iter()
        .map(|p| p.parse::<PortRange>().unwrap())
        .collect();
    m.comment = comment.map(str::to_string);
    m
}

/// Every shape lvsh writes, already canonical (reads back unchanged).
fn sample() -> BTreeMap<u32, MarkRule> {
    use Protocol::*;
    let longest = "x".repeat(COMMENT_MAX - "lvsh mark 4294967295: ".len());
    [
        mark(10, &["192.168.10.120"], &[Tcp], &["80", "443"], None),
        mark(
            11,
            &["10.0.0.1", "10.0.0.2"],
            &[Tcp, Udp],
            &["53", "8000-8100"],
            Some("web"),
        ),
        mark(12, &["2001:db8::12"], &[], &[], None),
        mark(
            13,
            &["2001:db8::13", "2001:db8::1:13", "::ffff:10.1.1.13"],
            &[Udp],
            &["53"],
            None,
        ),
        mark(
            14,
            &["10.0.0.14", "2001:db8::14"],
            &[Sctp],
            &["9000-9100"],
            Some("café – sip"),
        ),
        mark(15, &["10.0.0.15"], &[Tcp, Udp, Sctp], &["0", "65535"], None),
        mark(16, &["10.0.0.16"], &[Tcp], &["0-65535"], Some("every port")),
        mark(17, &["10.0.0.17"], &[Udp], &["80", "81", "82"], None),
        mark(18, &["10.0.0.18"], &[Tcp, Udp], &["53"], None),
        mark(19, &["2001:db8::19"], &[Tcp, Sctp], &["1000-2000"], None),
        mark(u32::MAX, &["10.255.255.255"], &[], &[], Some(&longest)),
    ]
    .into_iter()
    .map(|m| (m.mark, m))
    .collect()
}

fn other() -> BTreeMap<u32, MarkRule> {
    [
        mark(20, &["10.0.0.20"], &[Protocol::Tcp], &["22"], Some("ssh")),
        mark(21, &["2001:db8::21"], &[], &[], None),
    ]
    .into_iter()
    .map(|m| (m.mark, m))
    .collect()
}

fn rule_count() -> usize {
    listing()["nftables"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i.get("rule").is_some())
        .count()
}

/// Tiny deterministic generator, so the merge test explores the same cases each run.
struct XorShift(u64);
impl XorShift {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

netns_tests! {
    /// The nfnetlink probe that spares starting `nft` when there is no table: it
    /// sees exactly table `inet lvsh`, not a table of that name in another family
    /// or another table of the family.
    fn the_probe_sees_exactly_table_inet_lvsh() {
        assert_eq!(probe::table_exists(None), Some(false), "a fresh namespace");
        nft(&["add", "table", "ip", "lvsh"], None);
        nft(&["add", "table", "inet", "other"], None);
        assert_eq!(probe::table_exists(None), Some(false), "other tables only");
        nft(&["add", "table", "inet", "lvsh"], None);
        assert_eq!(probe::table_exists(None), Some(true));
        nft(&["delete", "table", "inet", "lvsh"], None);
        assert_eq!(probe::table_exists(None), Some(false), "deleted again");
        assert_eq!(probe::table_exists(Some("/proc/self/ns/net")), None, "a path is left to nft");
    }

    /// Without a table nothing needs `nft`, so a director without nftables reads
    /// fine; with one, reading it does, and says to install it.
    fn reading_needs_nft_only_when_there_is_a_table() {
        let mut missing = NftCli::new(None).with_program("/nonexistent/nft");
        assert_eq!(missing.read().unwrap(), BTreeMap::new());
        nft(&["add", "table", "inet", "lvsh"], None);
        let e = missing.read().unwrap_err();
        assert!(matches!(e, Error::NotInstalled), "{e:?}");
    }

    /// Fresh namespace: no table, no marks; every shape reads back as written, and
    /// nft lists the table exactly as lvsh's own text rendering says.
    fn replace_into_empty_namespace_reads_back_every_shape() {
        let mut cli = NftCli::new(None);
        assert_eq!(cli.read().unwrap(), BTreeMap::new(), "missing table = no marks");
        assert!(!tables().contains("lvsh"));

        let marks = sample();
        for m in marks.values() {
            assert_eq!(&canonical(m), m, "the sample is canonical");
        }
        cli.replace(&marks).unwrap();
        assert_eq!(cli.read().unwrap(), marks);
        assert_eq!(rule_count(), rules(&marks).unwrap().len());

        // nft's own text listing = table_text with marks in nft's hex.
        let mut want = table_text(&rules(&marks).unwrap());
        for n in marks.keys() {
            want = want.replace(&format!("meta mark set {n} "), &format!("meta mark set {n:#010x} "));
        }
        assert_eq!(nft(&["list", "table", "inet", "lvsh"], None), want);

        // Idempotent.
        let before = listing();
        cli.replace(&marks).unwrap();
        assert_eq!(listing(), before);
        assert_eq!(cli.read().unwrap(), marks);
    }

    /// A second replace leaves only the new marks.
    fn replace_again_drops_the_old_rules() {
        let mut cli = NftCli::new(None);
        cli.replace(&sample()).unwrap();
        cli.replace(&other()).unwrap();
        assert_eq!(cli.read().unwrap(), other());
        assert_eq!(rule_count(), 2);
        let text = nft(&["list", "table", "inet", "lvsh"], None);
        assert!(!text.contains("192.168.10.120"), "{text}");
    }

    /// No marks, no table; deleting a table that is not there is fine.
    fn empty_marks_remove_the_table() {
        let mut cli = NftCli::new(None);
        cli.replace(&BTreeMap::new()).unwrap();
        assert!(!tables().contains("lvsh"));
        cli.replace(&sample()).unwrap();
        assert!(tables().contains("table inet lvsh"));
        cli.replace(&BTreeMap::new()).unwrap();
        assert!(!tables().contains("lvsh"), "{}", tables());
        assert_eq!(cli.read().unwrap(), BTreeMap::new());
        cli.replace(&BTreeMap::new()).unwrap();
    }

    /// Tables of others, `ip lvsh` included, survive every kind of replace.
    fn other_tables_are_untouched() {
        nft(&["-f", "-"], Some(
            "table ip filter {\n\
             \tchain input {\n\
             \t\ttype filter hook input priority 0; policy accept;\n\
             \t\ttcp dport 22 counter accept\n\
             \t}\n\
             }\n\
             table ip lvsh {\n\
             \tchain c {\n\
             \t\tip daddr 10.0.0.1 meta mark set 7\n\
             \t}\n\
             }\n\
             table inet other {\n\
             \tset vips {\n\
             \t\ttype ipv4_addr\n\
             \t\telements = { 10.0.0.10 }\n\
             \t}\n\
             }\n",
        ));
        let snapshot = || {
            ["ip filter", "ip lvsh", "inet other"]
                .map(|t| {
                    let (f, n) = t.split_once(' ').unwrap();
                    nft(&["list", "table", f, n], None)
                })
                .join("")
        };
        let before = snapshot();
        let mut cli = NftCli::new(None);
        cli.replace(&sample()).unwrap();
        cli.replace(&other()).unwrap();
        let mut failing = replace_batch(&sample()).unwrap().objects.into_owned();
        failing.push(nftables::schema::NfObject::CmdObject(nftables::schema::NfCmd::Flush(
            nftables::schema::FlushObject::Chain(nftables::schema::Chain {
                family: nftables::types::NfFamily::INet,
                table: "lvsh".into(),
                name: "no-such-chain".into(),
                ..Default::default()
            }),
        )));
        assert!(cli.apply(&nftables::schema::Nftables { objects: failing.into() }).is_err());
        cli.replace(&BTreeMap::new()).unwrap();
        assert_eq!(snapshot(), before);
        assert_eq!(cli.read().unwrap(), BTreeMap::new());
    }

    /// Hand-made objects are reported (with the marks still read), an edited lvsh
    /// rule is plain drift, and a replace clears it all.
    fn hand_made_objects_are_reported_then_replaced() {
        let mut cli = NftCli::new(None);
        cli.replace(&other()).unwrap();

        // Edited by hand, still lvsh's shape: drift in the marks, nothing foreign.
        let listed = listing_with_handles();
        let handle = rule_handle(&listed, "lvsh mark 20: ssh");
        nft(&["replace", "rule", "inet", "lvsh", "prerouting", "handle", &handle,
              "ip", "daddr", "10.0.0.20", "tcp", "dport", "2222", "meta", "mark", "set", "20",
              "comment", "\"lvsh mark 20: ssh\""], None);
        let read = cli.read().unwrap();
        assert_eq!(read[&20].ports, ["2222".parse().unwrap()].into());

        nft(&["-f", "-"], Some(
            "add rule inet lvsh prerouting ip saddr 10.9.9.9 drop\n\
             add rule inet lvsh prerouting ip daddr 1.1.1.1 meta mark set 99 comment \"lvsh mark 98\"\n\
             add chain inet lvsh extra\n\
             add set inet lvsh vips { type ipv4_addr; }\n\
             add chain inet lvsh prerouting { type filter hook prerouting priority mangle; policy drop; }\n",
        ));
        let err = cli.read().unwrap_err();
        println!("{err}");
        let Error::Foreign { marks, foreign } = &err else {
            panic!("expected foreign objects, got {err:?}");
        };
        assert_eq!(marks.keys().copied().collect::<Vec<_>>(), [20, 21]);
        let text = err.to_string();
        assert_eq!(foreign.len(), 5, "{text}");
        for needle in [
            "holds 5 objects lvsh did not write",
            "priority -150 policy drop, lvsh writes type filter hook prerouting priority -150 policy accept",
            "no `lvsh mark N` comment: `ip saddr 10.9.9.9 drop`",
            "sets mark 99 under comment for mark 98: \
             `ip daddr 1.1.1.1 meta mark set 0x00000063 comment \"lvsh mark 98\"`",
            "chain `extra`",
            "set `vips`",
        ] {
            assert!(text.contains(needle), "{needle}\n{text}");
        }
        let observed = read_observed(&mut cli).unwrap();
        assert_eq!(observed.foreign.len(), 5);

        cli.replace(&other()).unwrap();
        assert_eq!(cli.read().unwrap(), other());
    }

    /// `nft -f` of `emit --to nft` builds the very table `replace` builds, from
    /// nothing and over an existing table; the empty script removes it.
    fn emitted_script_equals_replace() {
        let mut cli = NftCli::new(None);
        let b = Balancer { marks: sample(), ..Balancer::default() };
        cli.replace(&b.marks).unwrap();
        let by_replace = listing();

        cli.replace(&BTreeMap::new()).unwrap();
        cli.apply_text(&to_nft(&b)).unwrap();
        assert_eq!(listing(), by_replace, "from an empty namespace");

        cli.replace(&other()).unwrap();
        nft(&["-f", "-"], Some(&to_nft(&b)));
        assert_eq!(listing(), by_replace, "over another table");
        assert_eq!(cli.read().unwrap(), b.marks);

        nft(&["-f", "-"], Some(&to_nft(&Balancer::default())));
        assert!(!tables().contains("lvsh"));
        // And once more, with no table there.
        nft(&["-f", "-"], Some(&to_nft(&Balancer::default())));
    }

    /// A batch with one bad command changes nothing, old table included.
    fn failed_batch_changes_nothing() {
        let mut cli = NftCli::new(None);
        cli.replace(&other()).unwrap();
        let before = listing();

        // The replace of the sample, plus a rule for a chain that does not exist.
        let mut objects = replace_batch(&sample()).unwrap().objects.into_owned();
        let mut stray = ruleset::rule(&rules(&other()).unwrap()[0]);
        stray.chain = "no-such-chain".into();
        objects.push(nftables::schema::NfObject::CmdObject(nftables::schema::NfCmd::Add(
            nftables::schema::NfListObject::Rule(stray),
        )));
        let err = cli
            .apply(&nftables::schema::Nftables { objects: objects.into() })
            .unwrap_err();
        println!("{err}");
        assert!(
            matches!(&err, Error::Failed { stderr, .. } if stderr.contains("No such file or directory")),
            "{err:?}"
        );
        assert_eq!(listing(), before);
        assert_eq!(cli.read().unwrap(), other());

        // The same from an empty namespace: the table is not left behind.
        cli.replace(&BTreeMap::new()).unwrap();
        let mut objects = replace_batch(&sample()).unwrap().objects.into_owned();
        let mut wrong_family = ruleset::rule(&rules(&sample()).unwrap()[0]);
        // An IPv6 address in an `ip daddr` match: nft refuses it.
        wrong_family.expr = serde_json::from_str(
            r#"[{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": "2001:db8::1"}}]"#,
        ).unwrap();
        objects.push(nftables::schema::NfObject::CmdObject(nftables::schema::NfCmd::Add(
            nftables::schema::NfListObject::Rule(wrong_family),
        )));
        let err = cli
            .apply(&nftables::schema::Nftables { objects: objects.into() })
            .unwrap_err();
        println!("{err}");
        assert!(!tables().contains("lvsh"), "{}", tables());
    }

    /// nft merges port ranges on its own; `canonical_ports` must predict it exactly,
    /// or `plan` would show a change after every apply.
    fn port_merging_matches_nft() {
        let mut cli = NftCli::new(None);
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        for round in 0..4 {
            let mut marks = BTreeMap::new();
            for n in 1..=60u32 {
                let mut ports = BTreeSet::new();
                for _ in 0..=rng.below(6) {
                    let first = 1000 + rng.below(24) as u16;
                    let len = if rng.below(2) == 0 { 0 } else { rng.below(5) as u16 };
                    ports.insert(PortRange { first, last: first + len });
                }
                let mut m = mark(n, &["10.0.0.1"], &[Protocol::Tcp], &[], None);
                m.ports = ports;
                marks.insert(n, m);
            }
            // Sent as they are, not canonical, so nft does the merging.
            let mut batch = nftables::batch::Batch::new();
            batch.add(nftables::schema::NfListObject::Table(ruleset::table()));
            batch.add(nftables::schema::NfListObject::Chain(ruleset::chain()));
            for m in marks.values() {
                let spec = RuleSpec {
                    mark: m.mark,
                    family: crate::model::Family::Inet,
                    addresses: m.addresses.iter().copied().collect(),
                    protocols: vec![Protocol::Tcp],
                    ports: m.ports.iter().copied().collect(),
                    comment: None,
                };
                batch.add(nftables::schema::NfListObject::Rule(ruleset::rule(&spec)));
            }
            cli.replace(&BTreeMap::new()).unwrap();
            cli.apply(&batch.to_nftables()).unwrap();
            let read = cli.read().unwrap();
            for (n, m) in &marks {
                assert_eq!(
                    read[n].ports,
                    canonical_ports(&m.ports),
                    "round {round}, mark {n}: nft kept {:?} of {:?}",
                    read[n].ports,
                    m.ports
                );
            }
        }
    }

    /// `--netns` with a path: nft runs in that namespace, not in ours.
    fn netns_by_path() {
        let mut sleeper = Command::new("unshare")
            .args(["--net", "--", "sleep", "600"])
            .spawn()
            .expect("unshare");
        let pid = sleeper.id().to_string();
        let ours = netns_id("self");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while netns_id(&pid) == ours {
            assert!(std::time::Instant::now() < deadline, "unshare never entered its namespace");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let path = format!("/proc/{pid}/ns/net");
        let mut there = NftCli::new(Some(&path));
        let result = there.replace(&other()).and_then(|()| there.read());
        let here = NftCli::new(None).read();
        sleeper.kill().unwrap();
        sleeper.wait().unwrap();
        assert_eq!(result.unwrap(), other());
        assert_eq!(here.unwrap(), BTreeMap::new());
        assert!(!tables().contains("lvsh"));
    }
}

/// Without `/etc/protocols` (hosts without netbase, and so lab images built on one)
/// nft lists a `meta l4proto` set as numbers: every shape must still read back as
/// written, or `plan` never settles and `save` loses the marks.
#[test]
fn every_shape_reads_back_without_etc_protocols() {
    let path = concat!(
        module_path!(),
        "::every_shape_reads_back_without_etc_protocols"
    );
    in_new_namespaces(path, true, || {
        let hide = Command::new("mount")
            .args(["--bind", "/dev/null", "/etc/protocols"])
            .status()
            .expect("running mount");
        assert!(
            hide.success(),
            "mount --bind /dev/null /etc/protocols: {hide}"
        );
        let mut cli = NftCli::new(None);
        let marks = sample();
        cli.replace(&marks).unwrap();
        let text = nft(&["list", "table", "inet", "lvsh"], None);
        assert!(text.contains("meta l4proto { 6, 17 }"), "{text}");
        assert_eq!(cli.read().unwrap(), marks);
        // The emitted text script too.
        cli.replace(&BTreeMap::new()).unwrap();
        let b = Balancer {
            marks: marks.clone(),
            ..Balancer::default()
        };
        cli.apply_text(&to_nft(&b)).unwrap();
        assert_eq!(cli.read().unwrap(), marks);
    });
}

fn listing_with_handles() -> Value {
    serde_json::from_str(&nft(&["-j", "list", "table", "inet", "lvsh"], None)).unwrap()
}

fn rule_handle(listed: &Value, comment: &str) -> String {
    listed["nftables"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i.get("rule"))
        .find(|r| r["comment"] == comment)
        .map(|r| r["handle"].to_string())
        .expect("rule listed")
}
