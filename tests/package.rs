//! The Debian package, as built by `packaging/build-deb.sh --dev` from the binary
//! `cargo test` built: its files and conffiles, lintian, `systemd-analyze verify`
//! of both units, every man page rendered without a groff warning, and each shell
//! completing a subcommand and a value from the completion file the package ships.
//!
//! Needs cargo-deb, lintian, man-db, groff-base, systemd, zsh and fish (tests/run-all.sh
//! installs them); without them these tests fail and say what is missing.

use rexpect::reader::Options;
use rexpect::session::spawn_with_options;
use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::OnceLock,
};

const LVSH: &str = env!("CARGO_BIN_EXE_lvsh");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?} (is it installed?): {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The package (built once for every test here) and where it is unpacked.
struct Package {
    deb: PathBuf,
    tree: PathBuf,
}

fn package() -> &'static Package {
    static PACKAGE: OnceLock<Package> = OnceLock::new();
    PACKAGE.get_or_init(|| {
        let out = run(Command::new("bash")
            .arg(root().join("packaging/build-deb.sh"))
            .arg("--dev")
            // The binary this test runs with: no cargo build inside `cargo test`.
            .env("LVSH_DEV_BIN", LVSH)
            .current_dir(root()));
        assert!(
            out.status.success(),
            "packaging/build-deb.sh --dev failed:\n{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        let version = env!("CARGO_PKG_VERSION");
        let arch = text(&run(Command::new("dpkg").arg("--print-architecture")).stdout);
        let deb = root().join(format!(
            "target/debian/lvsh_{version}-1_{}.deb",
            arch.trim()
        ));
        assert!(deb.is_file(), "no {}", deb.display());
        let tree = root().join("target/package-test/root");
        let _ = std::fs::remove_dir_all(&tree);
        std::fs::create_dir_all(&tree).unwrap();
        let out = run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&tree));
        assert!(out.status.success(), "{}", text(&out.stderr));
        Package { deb, tree }
    })
}

#[test]
fn the_package_holds_the_binary_units_pages_completions_and_the_conffile() {
    let p = package();
    let out = run(Command::new("dpkg-deb").arg("--contents").arg(&p.deb));
    let mut files: Vec<String> = text(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with('d'))
        .filter_map(|l| l.split_whitespace().last())
        .map(|f| f.trim_start_matches('.').to_string())
        .collect();
    files.sort();
    let mut expected: Vec<String> = [
        "/etc/lvsh/lvsh.rhai",
        "/usr/lib/systemd/system/lvsh-watch.service",
        "/usr/lib/systemd/system/lvsh.service",
        "/usr/sbin/lvsh",
        "/usr/share/bash-completion/completions/lvsh",
        "/usr/share/doc/lvsh/DIRECTOR.md",
        "/usr/share/doc/lvsh/DSL.md",
        "/usr/share/doc/lvsh/README.md",
        "/usr/share/doc/lvsh/RECIPES.md",
        "/usr/share/doc/lvsh/VALUES.md",
        "/usr/share/doc/lvsh/WATCH.md",
        "/usr/share/doc/lvsh/changelog.Debian.gz",
        "/usr/share/doc/lvsh/copyright",
        "/usr/share/fish/vendor_completions.d/lvsh.fish",
        "/usr/share/lintian/overrides/lvsh",
        "/usr/share/man/man8/lvsh.8.gz",
        "/usr/share/zsh/vendor-completions/_lvsh",
    ]
    .map(String::from)
    .to_vec();
    for command in [
        "apply",
        "check",
        "completions",
        "drain",
        "emit",
        "history",
        "import",
        "man",
        "plan",
        "recipes",
        "repl",
        "rollback",
        "save",
        "show",
        "status",
        "undrain",
        "values",
        "watch",
    ] {
        expected.push(format!("/usr/share/man/man8/lvsh-{command}.8.gz"));
    }
    expected.sort();
    assert_eq!(files, expected);

    let out = run(Command::new("dpkg-deb")
        .arg("--info")
        .arg(&p.deb)
        .arg("conffiles"));
    assert_eq!(text(&out.stdout), "/etc/lvsh/lvsh.rhai\n");
    // The shipped script declares nothing, so the boot apply changes nothing.
    let out = run(Command::new(LVSH)
        .args(["apply", "--yes", "--skip-empty"])
        .arg(p.tree.join("etc/lvsh/lvsh.rhai")));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("nothing was changed"));
    // lvsh.service is enabled and started on install, lvsh-watch.service is not.
    let out = run(Command::new("dpkg-deb")
        .arg("--info")
        .arg(&p.deb)
        .arg("postinst"));
    let postinst = text(&out.stdout);
    assert!(postinst.contains("deb-systemd-helper enable lvsh.service"));
    assert!(postinst.contains("deb-systemd-invoke start lvsh.service"));
    assert!(!postinst.contains("deb-systemd-invoke start lvsh-watch.service"));
}

#[test]
fn lintian_is_clean() {
    let p = package();
    let out = run(Command::new("lintian").arg(&p.deb));
    let said: Vec<String> = text(&out.stdout)
        .lines()
        .chain(text(&out.stderr).lines())
        .filter(|l| !l.contains("running with root privileges"))
        .map(String::from)
        .collect();
    assert!(
        out.status.success() && said.is_empty(),
        "lintian: {}",
        said.join("\n")
    );
}

/// `systemd-analyze verify --root`: the units as installed, with the programs they
/// run (/usr/sbin/lvsh from the package; modprobe and kill, of its dependencies
/// kmod and procps, from this machine) and the system's own units they name.
#[test]
fn both_units_verify() {
    let p = package();
    let verify = root().join("target/package-test/verify");
    let _ = std::fs::remove_dir_all(&verify);
    for dir in ["usr/lib/systemd", "usr/sbin", "sbin", "bin"] {
        std::fs::create_dir_all(verify.join(dir)).unwrap();
    }
    // -a keeps the units' aliases as the symlinks systemd expects; -L copies what a
    // program's symlink (/bin/kill on merged /usr) leads to.
    let copy = |from: &Path, to: &Path| {
        let flag = if from.is_dir() { "-a" } else { "-L" };
        let out = run(Command::new("cp").arg(flag).arg(from).arg(to));
        assert!(out.status.success(), "{}", text(&out.stderr));
    };
    copy(
        Path::new("/usr/lib/systemd/system"),
        &verify.join("usr/lib/systemd"),
    );
    for unit in ["lvsh.service", "lvsh-watch.service"] {
        copy(
            &p.tree.join("usr/lib/systemd/system").join(unit),
            &verify.join("usr/lib/systemd/system"),
        );
    }
    copy(&p.tree.join("usr/sbin/lvsh"), &verify.join("usr/sbin"));
    copy(Path::new("/sbin/modprobe"), &verify.join("sbin"));
    copy(Path::new("/bin/kill"), &verify.join("bin"));
    let out = run(Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(format!("--root={}", verify.display()))
        .args(["lvsh.service", "lvsh-watch.service"]));
    // verify exits 0 on an unknown directive too: only its silence is success.
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(out.status.success() && said.is_empty(), "{said}");
}

#[test]
fn every_man_page_renders_without_a_warning() {
    let p = package();
    let dir = p.tree.join("usr/share/man/man8");
    let mut pages = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let page = entry.unwrap().path();
        let out = run(Command::new("man")
            .args(["--warnings", "-l"])
            .arg(&page)
            .env("LC_ALL", "C.UTF-8")
            .env("MANWIDTH", "80")
            .env("MANPAGER", "cat"));
        let rendered = text(&out.stdout);
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{}: {}",
            page.display(),
            text(&out.stderr)
        );
        assert!(rendered.contains("SYNOPSIS"), "{}", page.display());
        pages += 1;
    }
    assert_eq!(pages, 19);
}

/// bash: the completion function called as readline would, for `lvsh compl` and
/// `lvsh completions z`.
#[test]
fn bash_completes_a_command_and_a_value() {
    let p = package();
    let file = p.tree.join("usr/share/bash-completion/completions/lvsh");
    let complete = |words: &str| {
        let script = format!(
            "source '{}'; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             COMP_LINE='{words}'; COMP_POINT=${{#COMP_LINE}}; \
             _lvsh lvsh \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            file.display()
        );
        let out = run(Command::new("bash").arg("-c").arg(script));
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    assert_eq!(complete("lvsh compl"), "completions\n");
    assert_eq!(complete("lvsh completions z"), "zsh\n");
    assert_eq!(complete("lvsh man und"), "undrain\n");
}

/// fish: `complete -C` prints what fish would offer.
#[test]
fn fish_completes_a_command_and_a_value() {
    let p = package();
    let file = p.tree.join("usr/share/fish/vendor_completions.d/lvsh.fish");
    let complete = |line: &str| {
        let out = run(Command::new("fish")
            .arg("--no-config")
            .arg("-c")
            .arg(format!("source '{}'; complete -C '{line}'", file.display())));
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    assert!(complete("lvsh compl").starts_with("completions\t"));
    // fish's generator offers option values, not positional ones.
    assert_eq!(complete("lvsh emit x.rhai --to n"), "nft\n");
}

/// zsh: an interactive `zsh -f` on a pseudo-terminal with the package's `_lvsh` on
/// its fpath; Tab completes, and a stand-in `lvsh` function prints what was typed.
#[test]
fn zsh_completes_a_command_and_a_value() {
    let p = package();
    let fpath = p.tree.join("usr/share/zsh/vendor-completions");
    let mut c = Command::new("zsh");
    c.args(["-f", "-i"]).env("TERM", "xterm");
    let opts = Options::new()
        .timeout_ms(Some(15_000))
        .strip_ansi_escape_codes(true);
    let mut s = spawn_with_options(c, opts).expect("zsh starts on a pty");
    s.send_line(&format!(
        "fpath=('{}' $fpath); autoload -U compinit; compinit -u -D; \
         lvsh() {{ print -r -- \"RAN:$*\" }}; print READY$((40+2))",
        fpath.display()
    ))
    .unwrap();
    s.exp_string("READY42").expect("zsh is ready");
    for (typed, ran) in [
        (["lvsh compl\t", "z\t"], "RAN:completions zsh"),
        (["lvsh man und\t", ""], "RAN:man undrain"),
    ] {
        for keys in typed {
            s.send(keys).unwrap();
            s.flush().unwrap();
            std::thread::sleep(std::time::Duration::from_millis(300));
        }
        s.send("\r").unwrap();
        s.flush().unwrap();
        if let Err(e) = s.exp_string(ran) {
            panic!("zsh did not complete to {ran:?}: {e}");
        }
    }
    s.send_line("exit").unwrap();
}
