//! The VM's initramfs: busybox, the programs under test and the oracles with
//! their shared libraries, the kernel modules the scenarios need, and the lab
//! itself (`/init`, `/lab/lib`, the scenarios, the project's `scripts/`).
//! Cached under `target/lab/` by a hash of everything that goes in.

use super::Config;
use super::cpio;
use super::host::Host;
use super::plan::{self, Scenario};
use std::collections::BTreeMap;
use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::{Hash, Hasher};
use std::io::BufWriter;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Modules the scenarios use besides IPVS, with their dependencies. IPVS's
/// folder goes in whole: every scheduler the kernel has (Debian's cloud kernel
/// has no `twos`, which keeps a real "scheduler not found" case).
const MODULES: [&str; 8] = [
    "nf_tables",
    "nft_ct",
    "veth",
    "bridge",
    "dummy",
    "ipip",
    "ip_gre",
    "fou",
];

/// Bump when the image layout changes in a way the inputs do not show.
const FORMAT: u32 = 1;

/// A built (or reused) image.
pub struct Built {
    pub path: PathBuf,
    pub bytes: u64,
    /// Seconds spent composing, hashing and (unless cached) writing it.
    pub seconds: f64,
    pub cached: bool,
}

/// Builds the image for these inputs, or reuses the one built for the same inputs.
pub fn build(host: &Host, config: &Config, scenarios: &[Scenario]) -> Result<Built, String> {
    let (repo, work) = (&config.repo, &config.work);
    let started = Instant::now();
    let mut image = Image::compose(host, repo, &config.lvsh, scenarios)?;
    for (program, guest) in &config.extra {
        image.add_program(host, program, guest, false)?;
    }
    // A fixed name: the lock names its library's repository by path, and the
    // image is cached by content.
    let recipes = work.join("recipes");
    let made = prepare_recipes(repo, &config.lvsh, &recipes)?;
    if made {
        image.add_tree("lab/recipes", &recipes)?;
    }
    let built = finish(image, host, repo, work, started);
    if made {
        let _ = fs::remove_dir_all(&recipes);
    }
    built
}

/// The site repositories of the recipes scenario, made on the host (where git
/// is) by `tests/lab/recipes/prepare.sh` with the lvsh under test: the
/// directors in the VM read vendored libraries only.
fn prepare_recipes(repo: &Path, lvsh: &Path, out: &Path) -> Result<bool, String> {
    let script = repo.join("tests/lab/recipes/prepare.sh");
    if !script.is_file() {
        return Ok(false);
    }
    let done = Command::new("sh")
        .arg(&script)
        .arg(lvsh)
        .arg(out)
        .output()
        .map_err(|e| format!("cannot run `{}`: {e}", script.display()))?;
    if !done.status.success() {
        return Err(format!(
            "`{}` failed ({}):\n{}{}",
            script.display(),
            done.status,
            String::from_utf8_lossy(&done.stdout),
            String::from_utf8_lossy(&done.stderr)
        ));
    }
    Ok(true)
}

fn finish(
    image: Image,
    host: &Host,
    repo: &Path,
    work: &Path,
    started: Instant,
) -> Result<Built, String> {
    let key = image.key(&repo.join("tests/lab"))?;
    let path = work.join(format!("initramfs-{key}.cpio"));
    let cached = path.is_file();
    if !cached {
        fs::create_dir_all(work).map_err(|e| format!("cannot create `{}`: {e}", work.display()))?;
        let partial = work.join(format!("initramfs-{key}.cpio.{}", std::process::id()));
        image.write(&partial, host, work)?;
        fs::rename(&partial, &path)
            .map_err(|e| format!("cannot move `{}` into place: {e}", partial.display()))?;
        fs::write(work.join(format!("initramfs-{key}.txt")), image.manifest())
            .map_err(|e| format!("cannot write the image manifest: {e}"))?;
        prune(work, &key);
    }
    let bytes = fs::metadata(&path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?
        .len();
    Ok(Built {
        path,
        bytes,
        seconds: started.elapsed().as_secs_f64(),
        cached,
    })
}

#[derive(Default)]
struct Image {
    /// By path inside the image, without the leading `/`: parents sort before children.
    entries: BTreeMap<String, Entry>,
}

enum Entry {
    Dir,
    File { from: From, mode: u32 },
    Symlink(String),
    CharDevice(u32, u32),
}

enum From {
    Host(PathBuf),
    /// A program copied without its debug info (when `strip` is there).
    Stripped(PathBuf),
    Text(String),
}

impl Image {
    fn compose(
        host: &Host,
        repo: &Path,
        lvsh: &Path,
        scenarios: &[Scenario],
    ) -> Result<Image, String> {
        let mut image = Image::default();
        for dir in [
            "proc",
            "sys",
            "dev",
            "tmp",
            "run",
            "root",
            "lab/bin",
            "lab/scripts",
        ] {
            image.add(dir, Entry::Dir);
        }
        // The kernel opens it for init's stdin/stdout before anything is mounted.
        image.add("dev/console", Entry::CharDevice(5, 1));
        let lab = repo.join("tests/lab");
        image.add_host_file("init", &lab.join("vm/init"), false)?;

        for (program, guest) in &host.guest_programs {
            image.add_program(host, program, guest, false)?;
        }
        image.add_program(host, lvsh, "/lab/bin/lvsh", true)?;
        for applet in busybox_applets(host)? {
            image.add(&format!("bin/{applet}"), Entry::Symlink("busybox".into()));
        }
        // The kernel loads scheduler modules by running /sbin/modprobe.
        image.add("sbin/modprobe", Entry::Symlink("/bin/busybox".into()));
        image.add_modules(host)?;

        image.add_tree("lab/lib", &lab.join("lib"))?;
        for scenario in scenarios {
            image.add_host_file(&format!("lab/{}", scenario.path), &scenario.file, false)?;
        }
        image.add_text("lab/plan", plan::plan_file(scenarios), 0o644);
        let scripts = repo.join("scripts");
        if scripts.is_dir() {
            image.add_tree("lab/scripts", &scripts)?;
        }

        image.add_text(
            "etc/passwd",
            "root:x:0:0:root:/root:/bin/sh\n".into(),
            0o644,
        );
        image.add_text("etc/group", "root:x:0:\n".into(), 0o644);
        for name in ["protocols", "services"] {
            let file = Path::new("/etc").join(name);
            if file.is_file() {
                image.add_host_file(&format!("etc/{name}"), &file, false)?;
            }
        }
        Ok(image)
    }

    fn add(&mut self, path: &str, entry: Entry) {
        let path = path.trim_start_matches('/');
        let mut parent = Path::new(path).parent();
        while let Some(dir) = parent.filter(|d| !d.as_os_str().is_empty()) {
            self.entries
                .entry(dir.to_string_lossy().into_owned())
                .or_insert(Entry::Dir);
            parent = dir.parent();
        }
        self.entries.insert(path.to_string(), entry);
    }

    fn add_text(&mut self, path: &str, text: String, mode: u32) {
        self.add(
            path,
            Entry::File {
                from: From::Text(text),
                mode,
            },
        );
    }

    fn add_host_file(&mut self, path: &str, file: &Path, strip: bool) -> Result<(), String> {
        let meta =
            fs::metadata(file).map_err(|e| format!("cannot read `{}`: {e}", file.display()))?;
        let from = if strip {
            From::Stripped(file.into())
        } else {
            From::Host(file.into())
        };
        self.add(
            path,
            Entry::File {
                from,
                mode: meta.permissions().mode() & 0o7777,
            },
        );
        Ok(())
    }

    /// A program, and the shared libraries it loads, at the paths `ldd` gives.
    fn add_program(
        &mut self,
        host: &Host,
        program: &Path,
        guest: &str,
        strip: bool,
    ) -> Result<(), String> {
        self.add_host_file(guest, program, strip)?;
        for library in libraries(host, program)? {
            self.add_host_file(&library.to_string_lossy(), &library, false)?;
        }
        Ok(())
    }

    fn add_modules(&mut self, host: &Host) -> Result<(), String> {
        let kernel = &host.kernel;
        let guest = format!("lib/modules/{}", kernel.release);
        let list = |dir: &Path| {
            fs::read_dir(dir).map_err(|e| format!("cannot list `{}`: {e}", dir.display()))
        };
        for entry in list(&kernel.modules)? {
            let file = entry.map_err(|e| e.to_string())?.path();
            if file
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("modules."))
                && file.is_file()
            {
                let name = file.file_name().unwrap().to_string_lossy().into_owned();
                self.add_host_file(&format!("{guest}/{name}"), &file, false)?;
            }
        }
        let mut names: Vec<String> = list(&kernel.modules.join("kernel/net/netfilter/ipvs"))?
            .filter_map(|entry| {
                Some(
                    entry
                        .ok()?
                        .file_name()
                        .to_string_lossy()
                        .strip_suffix(".ko")?
                        .to_string(),
                )
            })
            .collect();
        names.extend(MODULES.map(String::from));
        for name in names {
            let output = Command::new(&host.modprobe)
                .args(["-S", &kernel.release, "--show-depends", &name])
                .output()
                .map_err(|e| format!("cannot run `{}`: {e}", host.modprobe.display()))?;
            if !output.status.success() {
                return Err(format!(
                    "kernel {} has no module `{name}`: {}",
                    kernel.release,
                    String::from_utf8_lossy(&output.stderr).trim()
                ));
            }
            for line in String::from_utf8_lossy(&output.stdout).lines() {
                let Some(file) = line
                    .strip_prefix("insmod ")
                    .and_then(|rest| rest.split_whitespace().next())
                else {
                    continue;
                };
                let file = Path::new(file);
                let inside = file.strip_prefix(&kernel.modules).map_err(|_| {
                    format!(
                        "module `{}` is outside `{}`",
                        file.display(),
                        kernel.modules.display()
                    )
                })?;
                self.add_host_file(&format!("{guest}/{}", inside.display()), file, false)?;
            }
        }
        Ok(())
    }

    fn add_tree(&mut self, path: &str, dir: &Path) -> Result<(), String> {
        self.add(path, Entry::Dir);
        for (inside, file) in walk(dir)? {
            self.add_host_file(&format!("{path}/{inside}"), &file, false)?;
        }
        Ok(())
    }

    /// A hash of every entry and its content, and of the harness's own code.
    fn key(&self, lab: &Path) -> Result<String, String> {
        // DefaultHasher may change between Rust releases: that only costs a rebuild.
        let mut hasher = DefaultHasher::new();
        FORMAT.hash(&mut hasher);
        for (path, entry) in &self.entries {
            path.hash(&mut hasher);
            match entry {
                Entry::Dir => 0u8.hash(&mut hasher),
                Entry::File { from, mode } => {
                    (1u8, mode).hash(&mut hasher);
                    match from {
                        From::Host(file) | From::Stripped(file) => read(file)?.hash(&mut hasher),
                        From::Text(text) => text.hash(&mut hasher),
                    }
                }
                Entry::Symlink(target) => (2u8, target).hash(&mut hasher),
                Entry::CharDevice(major, minor) => (3u8, major, minor).hash(&mut hasher),
            }
        }
        for (inside, file) in walk(&lab.join("harness"))? {
            (inside, read(&file)?).hash(&mut hasher);
        }
        Ok(format!("{:016x}", hasher.finish()))
    }

    fn write(&self, to: &Path, host: &Host, work: &Path) -> Result<(), String> {
        let fail = |e: std::io::Error| format!("cannot write `{}`: {e}", to.display());
        let file = fs::File::create(to).map_err(fail)?;
        let mut cpio = cpio::Writer::new(BufWriter::new(file));
        for (path, entry) in &self.entries {
            match entry {
                Entry::Dir => cpio.dir(path, 0o755),
                Entry::File { from, mode } => {
                    let data = match from {
                        From::Host(file) => read(file)?,
                        From::Stripped(file) => stripped(host, file, work)?,
                        From::Text(text) => text.clone().into_bytes(),
                    };
                    cpio.file(path, *mode, &data)
                }
                Entry::Symlink(target) => cpio.symlink(path, target),
                Entry::CharDevice(major, minor) => cpio.char_device(path, 0o600, *major, *minor),
            }
            .map_err(fail)?;
        }
        cpio.finish().map_err(fail)?;
        Ok(())
    }

    /// What the image holds, for people wondering what the VM has.
    fn manifest(&self) -> String {
        let mut text = String::new();
        for (path, entry) in &self.entries {
            let line = match entry {
                Entry::Dir => format!("dir  /{path}\n"),
                Entry::File {
                    from: From::Host(file) | From::Stripped(file),
                    mode,
                } => {
                    format!("file /{path} {mode:o} (from {})\n", file.display())
                }
                Entry::File {
                    from: From::Text(_),
                    mode,
                } => format!("file /{path} {mode:o} (written by the harness)\n"),
                Entry::Symlink(target) => format!("link /{path} -> {target}\n"),
                Entry::CharDevice(major, minor) => format!("char /{path} {major},{minor}\n"),
            };
            text.push_str(&line);
        }
        text
    }
}

/// The shared libraries `ldd` says the program loads; none for a static one.
fn libraries(host: &Host, program: &Path) -> Result<Vec<PathBuf>, String> {
    let output = Command::new(&host.ldd)
        .arg(program)
        .output()
        .map_err(|e| format!("cannot run `{}`: {e}", host.ldd.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let text = format!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    if !output.status.success() {
        if text.contains("not a dynamic executable") {
            return Ok(Vec::new());
        }
        return Err(format!(
            "`ldd {}` failed: {}",
            program.display(),
            text.trim()
        ));
    }
    if let Some(missing) = stdout.lines().find(|line| line.contains("not found")) {
        return Err(format!(
            "`{}` needs a library this machine lacks: {}",
            program.display(),
            missing.trim()
        ));
    }
    Ok(stdout
        .split_whitespace()
        .filter(|word| word.starts_with('/'))
        .map(PathBuf::from)
        .collect())
}

fn busybox_applets(host: &Host) -> Result<Vec<String>, String> {
    let busybox = &host
        .guest_programs
        .iter()
        .find(|(_, guest)| *guest == "/bin/busybox")
        .expect("busybox is a guest program")
        .0;
    let output = Command::new(busybox)
        .arg("--list")
        .output()
        .map_err(|e| format!("cannot run `{} --list`: {e}", busybox.display()))?;
    if !output.status.success() {
        return Err(format!("`{} --list` failed", busybox.display()));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|applet| !applet.is_empty() && *applet != "busybox")
        .map(String::from)
        .collect())
}

fn stripped(host: &Host, program: &Path, work: &Path) -> Result<Vec<u8>, String> {
    let Some(strip) = &host.strip else {
        return read(program);
    };
    let out = work.join(format!("stripped.{}", std::process::id()));
    let status = Command::new(strip)
        .arg("--strip-debug")
        .arg("-o")
        .arg(&out)
        .arg(program)
        .status()
        .map_err(|e| format!("cannot run `{}`: {e}", strip.display()))?;
    if !status.success() {
        return Err(format!(
            "`strip --strip-debug {}` failed ({status})",
            program.display()
        ));
    }
    let data = read(&out);
    let _ = fs::remove_file(&out);
    data
}

fn read(file: &Path) -> Result<Vec<u8>, String> {
    fs::read(file).map_err(|e| format!("cannot read `{}`: {e}", file.display()))
}

/// Every file under `dir`, as (path inside `dir`, file), sorted.
fn walk(dir: &Path) -> Result<Vec<(String, PathBuf)>, String> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = fs::read_dir(&current)
            .map_err(|e| format!("cannot list `{}`: {e}", current.display()))?;
        for entry in entries {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let inside = path
                    .strip_prefix(dir)
                    .expect("under dir")
                    .to_string_lossy()
                    .into_owned();
                files.push((inside, path));
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Images built for other inputs are of no more use.
fn prune(work: &Path, keep: &str) {
    let Ok(entries) = fs::read_dir(work) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("initramfs-") && !name.starts_with(&format!("initramfs-{keep}.")) {
            let _ = fs::remove_file(entry.path());
        }
    }
}
