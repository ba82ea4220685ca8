use super::*;
use crate::dsl::{self, Options};
use crate::model::Scope;
use std::path::{Path, PathBuf};

fn build() -> Build {
    Build {
        version: "1.2.3".into(),
        executable: "/usr/sbin/lvsh 1 2 3.4".into(),
    }
}

/// A cache in a directory of its own, and a script directory beside it.
struct Fixture {
    _tmp: tempfile::TempDir,
    cache: Cache,
    cache_dir: PathBuf,
    scripts: PathBuf,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let cache_dir = tmp.path().join("cache");
    let scripts = tmp.path().join("scripts");
    std::fs::create_dir(&scripts).unwrap();
    Fixture {
        cache: Cache::at(CacheDir::open(&cache_dir).unwrap()),
        cache_dir,
        scripts,
        _tmp: tmp,
    }
}

impl Fixture {
    /// Evaluates the script `main.rhai` unless the cache holds it; `true` for a hit.
    fn run(&self, opts: &Options) -> (bool, dsl::Evaluated) {
        let path = self.scripts.join("main.rhai");
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.display().to_string();
        let key = Key::new(&build(), &name, &text, &self.scripts, opts);
        if let Some(hit) = self.cache.lookup(&key) {
            return (true, hit);
        }
        let e = dsl::evaluate_source(&name, &text, Some(&self.scripts), opts).unwrap();
        self.cache.store(&key, &e);
        (false, e)
    }

    fn write(&self, file: &str, text: &str) {
        let p = self.scripts.join(file);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn entries(&self) -> Vec<PathBuf> {
        std::fs::read_dir(&self.cache_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    }
}

const SCRIPT: &str = r#"
import "pool" as pool;
let vip = param("vip", "192.0.2.1");
pool::web(vip);
print(`vip ${vip}`);
address("192.0.2.1/32", "lo");
service("192.0.2.9", 0).scheduler("rr").persist(60).rs(rs("10.0.0.9").dr());
"#;

const POOL: &str = r#"fn web(vip) { service(vip, 80).rs(rs("10.0.0.1").dr()); }"#;

#[test]
fn a_hit_returns_what_the_evaluation_returned() {
    let f = fixture();
    f.write("main.rhai", SCRIPT);
    f.write("pool.rhai", POOL);
    let opts = Options::default();
    let (hit, fresh) = f.run(&opts);
    assert!(!hit);
    let (hit, cached) = f.run(&opts);
    assert!(hit);
    assert_eq!(cached.output, fresh.output);
    assert_eq!(cached.output[0], "vip 192.0.2.1");
    assert_eq!(cached.balancer, fresh.balancer);
    assert_eq!(
        serde_json::to_string(&cached.balancer).unwrap(),
        serde_json::to_string(&fresh.balancer).unwrap()
    );
    assert_eq!(cached.inputs, fresh.inputs);
    // The address keeps where the script declares it (plan points at it).
    let a = fresh.balancer.addresses.iter().next().unwrap();
    let at = |e: &dsl::Evaluated| {
        let pos = e
            .balancer
            .addresses
            .origin(a)
            .unwrap()
            .pos()
            .unwrap()
            .clone();
        (pos.source.to_string(), pos.line, pos.column)
    };
    assert_eq!(at(&cached), at(&fresh));
}

/// The site values of a `--values` file in `dir` holding `text`.
fn values(dir: &std::path::Path, text: &str) -> std::sync::Arc<crate::dsl::SiteValues> {
    let path = dir.join("more.toml");
    std::fs::write(&path, text).unwrap();
    std::sync::Arc::new(crate::dsl::SiteValues::load(None, &[path]).unwrap())
}

#[test]
fn the_key_knows_the_scripts_own_digest() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::new(&build(), "s.rhai", "x", dir.path(), &Options::default());
    assert_eq!(key.script_sha256(), crate::state::sha256(b"x"));
    assert_eq!(
        key.script_sha256(),
        "sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
    );
}

#[test]
fn every_input_known_before_evaluation_takes_part_in_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    std::fs::create_dir(&lib).unwrap();
    let base = Key::new(&build(), "s.rhai", "x", dir.path(), &Options::default());
    let with = |f: &dyn Fn(&mut Options)| {
        let mut o = Options::default();
        f(&mut o);
        Key::new(&build(), "s.rhai", "x", dir.path(), &o)
    };
    let mut keys = vec![
        ("same", base.clone()),
        (
            "script",
            Key::new(&build(), "s.rhai", "y", dir.path(), &Options::default()),
        ),
        (
            "name",
            Key::new(&build(), "t.rhai", "x", dir.path(), &Options::default()),
        ),
        (
            "dir",
            Key::new(&build(), "s.rhai", "x", &lib, &Options::default()),
        ),
        (
            "--set",
            with(&|o| o.params = vec![("a".into(), "1".into())]),
        ),
        (
            "--set value",
            with(&|o| o.params = vec![("a".into(), "2".into())]),
        ),
        ("-I", with(&|o| o.lib_dirs = vec![lib.clone()])),
        (
            "--scope",
            with(&|o| {
                let mut scope = Scope::default();
                scope.marks.insert("1".parse().unwrap());
                o.scope = Some(scope);
            }),
        ),
        (
            "values file",
            with(&|o| o.values = Some(values(dir.path(), "port = 80\n"))),
        ),
        (
            "values file content",
            with(&|o| o.values = Some(values(dir.path(), "port = 81\n"))),
        ),
        ("version", {
            let mut b = build();
            b.version = "1.2.4".into();
            Key::new(&b, "s.rhai", "x", dir.path(), &Options::default())
        }),
        ("executable", {
            let mut b = build();
            b.executable.push('5');
            Key::new(&b, "s.rhai", "x", dir.path(), &Options::default())
        }),
    ];
    assert_eq!(keys[0].1, base, "a key is a function of its inputs");
    keys.remove(0);
    for (i, (what, k)) in keys.iter().enumerate() {
        assert_ne!(*k, base, "{what}");
        for (other, k2) in &keys[i + 1..] {
            assert_ne!(k, k2, "{what} and {other}");
        }
    }
}

#[test]
fn a_changed_module_is_evaluated_again() {
    let f = fixture();
    f.write("main.rhai", SCRIPT);
    f.write("pool.rhai", POOL);
    let opts = Options::default();
    assert!(!f.run(&opts).0);
    assert!(f.run(&opts).0);
    f.write("pool.rhai", &POOL.replace("10.0.0.1", "10.0.0.2"));
    let (hit, e) = f.run(&opts);
    assert!(!hit, "the module changed");
    assert!(
        serde_json::to_string(&e.balancer)
            .unwrap()
            .contains("10.0.0.2")
    );
    assert!(f.run(&opts).0);
}

#[test]
fn a_module_that_would_now_be_found_first_is_evaluated_again() {
    let f = fixture();
    f.write("main.rhai", SCRIPT);
    f.write("pool.rhai", POOL);
    let lib = f.scripts.join("lib");
    std::fs::create_dir(&lib).unwrap();
    let opts = Options {
        lib_dirs: vec![lib.clone()],
        ..Options::default()
    };
    assert!(!f.run(&opts).0);
    assert!(f.run(&opts).0);
    // `-I` is searched before the script's directory.
    f.write("lib/pool.rhai", &POOL.replace("10.0.0.1", "10.0.0.3"));
    let (hit, e) = f.run(&opts);
    assert!(!hit, "a module shadows the one read");
    assert!(
        serde_json::to_string(&e.balancer)
            .unwrap()
            .contains("10.0.0.3")
    );
}

#[test]
fn a_changed_script_or_parameter_is_evaluated_again() {
    let f = fixture();
    f.write("main.rhai", SCRIPT);
    f.write("pool.rhai", POOL);
    let opts = Options::default();
    assert!(!f.run(&opts).0);
    let set = Options {
        params: vec![("vip".into(), "192.0.2.2".into())],
        ..Options::default()
    };
    let (hit, e) = f.run(&set);
    assert!(!hit);
    assert_eq!(e.output[0], "vip 192.0.2.2");
    assert!(f.run(&set).0);
    assert!(f.run(&opts).0, "each parameter set has its entry");
    f.write("main.rhai", &format!("{SCRIPT}\n// edited\n"));
    assert!(!f.run(&opts).0);
}

#[test]
fn a_corrupt_foreign_or_other_format_entry_is_a_miss() {
    let f = fixture();
    f.write("main.rhai", SCRIPT);
    f.write("pool.rhai", POOL);
    let opts = Options::default();
    assert!(!f.run(&opts).0);
    let entry = f.entries().pop().unwrap();
    let good = std::fs::read(&entry).unwrap();
    let spoil = |bytes: &[u8]| {
        std::fs::write(&entry, bytes).unwrap();
        let (hit, e) = f.run(&opts);
        assert!(!hit, "{:?}", &bytes[..bytes.len().min(60)]);
        assert_eq!(e.balancer.services.len(), 2);
    };
    // `needle` in `good` replaced by `with` (same length).
    let replaced = |needle: &[u8], with: &[u8]| {
        let at = good
            .windows(needle.len())
            .position(|w| w == needle)
            .expect("the entry has it");
        let mut bytes = good.clone();
        bytes[at..at + needle.len()].copy_from_slice(with);
        bytes
    };
    spoil(&good[..good.len() / 2]);
    spoil(b"");
    spoil(b"not an entry");
    // An entry of the first format (JSON).
    spoil(br#"{"format":1,"key":"","inputs":[],"output":[],"origins":[],"balancer":{}}"#);
    // MessagePack: "format" then a small positive integer.
    let format = u8::try_from(FORMAT).unwrap();
    assert!(format < 127);
    spoil(&replaced(
        &[b"\xa6format".as_slice(), &[format]].concat(),
        &[b"\xa6format".as_slice(), &[format + 1]].concat(),
    ));
    // "key" then a string of 64 bytes (0xd9 64): the key's hex.
    let at = good
        .windows(6)
        .position(|w| w == b"\xa3key\xd9\x40")
        .unwrap()
        + 6;
    let key = good[at..at + 64].to_vec();
    spoil(&replaced(&key, &[b'0'; 64]));
    assert!(f.run(&opts).0, "rewritten by the last miss");
}

#[test]
fn old_entries_are_evicted() {
    let f = fixture();
    let dir = CacheDir::open(&f.cache_dir).unwrap();
    for i in 0..dir::MAX_ENTRIES + 5 {
        let key = Key::new(
            &build(),
            "s",
            &i.to_string(),
            Path::new("."),
            &Default::default(),
        );
        dir.write(&key, |out| std::io::Write::write_all(out, b"{}"));
    }
    assert_eq!(f.entries().len(), dir::MAX_ENTRIES);
}

#[test]
fn a_directory_others_may_write_to_is_not_used() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("c");
    assert!(CacheDir::open(&d).is_some());
    let mode = std::fs::metadata(&d).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o777)).unwrap();
    assert!(CacheDir::open(&d).is_none());
}

#[test]
fn the_key_names_each_library_by_hash_version_and_root() {
    use crate::recipes::{Libraries, Library};
    use std::sync::Arc;
    let f = fixture();
    let lib = |hash: &str, version: Option<semver::Version>| Options {
        libraries: Some(Arc::new(Libraries {
            site_root: f.scripts.clone(),
            libs: vec![Library {
                name: "acme".into(),
                root: f.scripts.clone(),
                version,
                hash: hash.into(),
                vendored: true,
            }],
        })),
        ..Options::default()
    };
    let key = |o: &Options| Key::new(&Build::current(), "main.rhai", SCRIPT, &f.scripts, o);
    let v1 = Some(semver::Version::new(1, 0, 0));
    let a = key(&lib("sha256tree:a", v1.clone()));
    assert_eq!(a, key(&lib("sha256tree:a", v1.clone())));
    assert_ne!(a, key(&lib("sha256tree:b", v1)));
    assert_ne!(a, key(&lib("sha256tree:a", None)));
    assert_ne!(a, key(&Options::default()));
}

/// Every kind of object and every field of a service and a destination comes back
/// from an entry exactly (compared as the model's JSON, which has them all), and so
/// do the addresses' origins.
#[test]
fn an_entry_returns_every_kind_of_object_exactly() {
    use crate::model::{Balancer, HostAddress, Origin, Service};
    let mut b: Balancer =
        serde_json::from_str(include_str!("../../tests/golden/scripts/health.json")).unwrap();
    let extra: Vec<Service> = serde_json::from_str(
        r#"[
        {"family": "inet6", "fwmark": 7, "scheduler": "sh", "flags": ["sh-fallback", "sh-port"],
         "persistence": 300, "netmask": 64, "pe": "sip",
         "stats": {"conns": 5, "inpkts": 6, "outpkts": 7, "inbytes": 8, "outbytes": 9,
                   "cps": 1, "inpps": 2, "outpps": 3, "inbps": 4, "outbps": 10},
         "destinations": [
            {"address": "2001:db8::1", "port": 0, "forward": {"method": "tunnel",
             "kind": "gue", "port": 6080, "checksum": "remcsum"}, "weight": 0,
             "upper_threshold": 100, "lower_threshold": 50,
             "counters": {"active": 1, "inactive": 2, "persistent": 3},
             "stats": {"conns": 1, "inpkts": 2, "outpkts": 3, "inbytes": 4, "outbytes": 5,
                       "cps": 6, "inpps": 7, "outpps": 8, "inbps": 9, "outbps": 11}},
            {"address": "2001:db8::2", "port": 0, "forward": {"method": "tunnel"}, "weight": 3},
            {"address": "2001:db8::3", "port": 0, "forward": {"method": "local"}, "weight": 1}]},
        {"protocol": "udp", "address": "192.0.2.50", "port": 53, "scheduler": "rr",
         "netmask": "255.255.255.0", "one_packet": true,
         "destinations": [{"address": "10.0.0.53", "port": 53, "forward": {"method": "nat"},
                           "weight": 2}]},
        {"protocol": "sctp", "address": "2001:db8::80", "port": 0, "scheduler": "wlc"}
    ]"#,
    )
    .unwrap();
    for s in extra {
        b.services.insert(s.key, s);
    }
    b.timeouts.tcp = Some(900);
    let mut scope = Scope::default();
    scope.marks.insert("10-20".parse().unwrap());
    b.scope = Some(scope);
    let a = HostAddress::parse("192.0.2.50/32", "lo").unwrap();
    b.addresses
        .insert(a.clone(), Origin::at("main.rhai".into(), 3, 5));
    b.addresses.insert(
        HostAddress::parse("192.0.2.51/32", "eth0").unwrap(),
        Origin::default(),
    );
    let json = serde_json::to_string(&b).unwrap();
    for field in [
        "\"services\"",
        "\"marks\"",
        "\"timeouts\"",
        "\"sysctls\"",
        "\"addresses\"",
        "\"scope\"",
        "\"checks\"",
        "\"fwmark\"",
        "\"flags\"",
        "\"netmask\"",
        "\"pe\"",
        "\"one_packet\"",
        "\"stats\"",
        "\"counters\"",
        "\"upper_threshold\"",
        "\"lower_threshold\"",
        "\"tunnel\"",
        "\"checksum\"",
        "\"local\"",
        "\"nat\"",
        "\"dr\"",
    ] {
        assert!(json.contains(field), "the model has no {field}: {json}");
    }
    let key = Key::new(
        &build(),
        "main.rhai",
        "",
        Path::new("."),
        &Options::default(),
    );
    let evaluated = dsl::Evaluated {
        balancer: b,
        output: vec!["a line".into()],
        inputs: vec![],
        timings: Default::default(),
    };
    let mut bytes = vec![];
    super::entry::encode(&key, &evaluated, &mut bytes).unwrap();
    let back = super::entry::decode(&bytes, &key).expect("it decodes");
    assert_eq!(serde_json::to_string(&back.balancer).unwrap(), json);
    assert_eq!(back.balancer, evaluated.balancer);
    assert_eq!(back.output, evaluated.output);
    assert_eq!(
        back.balancer
            .addresses
            .origin(&a)
            .and_then(|o| o.pos())
            .map(|p| (p.line, p.column)),
        Some((3, 5))
    );
    let other = Key::new(
        &build(),
        "other.rhai",
        "",
        Path::new("."),
        &Options::default(),
    );
    assert!(super::entry::decode(&bytes, &other).is_none());
}
