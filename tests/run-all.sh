#!/usr/bin/env bash
# The project's one test command, for people and for CI (which runs it as
# root in a fresh clone):
#   bash tests/run-all.sh
# It installs what the tests need when it is missing (Debian packages,
# as root, cargo-fuzz and cargo-deb), then runs every check: rustfmt, clippy, `cargo test`
# (unit, integration and lab tests), and every fuzz target for 20 s from its
# committed corpus (fuzz/README.md). On a machine where the lab cannot run, the lab
# tests fail and say why: nothing is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

LAB_PACKAGES=(qemu-system-x86 linux-image-cloud-amd64 busybox-static ipvsadm nftables cpio
    # tests/package.rs: the .deb's lintian, units, man pages and completions
    lintian groff-base man-db zsh fish systemd
    # tests/lab_boot.rs: builds its Debian root file system
    mmdebstrap e2fsprogs)

started=$SECONDS
section() {
    printf '\n==> %s  (at %d s)\n' "$*" $((SECONDS - started))
}

missing=()
for package in "${LAB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}\n' "$package" 2>/dev/null | grep -q ' installed$' || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        section "installing what the tests need: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q </dev/null
        # INITRD=No: the kernel package would build an initramfs for booting
        # this machine; the lab builds its own.
        INITRD=No apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
    else
        echo "The tests need these Debian packages: ${missing[*]}." >&2
        echo "Run this script as root on Debian to install them; until then the lab and package tests fail." >&2
    fi
fi

for component in rustfmt clippy; do
    if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1 && command -v rustup >/dev/null; then
        section "installing the $component toolchain component"
        rustup component add "$component"
    fi
done

if ! cargo fuzz --version >/dev/null 2>&1; then
    section "installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

# tests/package.rs builds the .deb with it (packaging/build-deb.sh).
if ! cargo deb --version >/dev/null 2>&1; then
    section "installing cargo-deb"
    cargo install cargo-deb --locked --version 3.8.0
fi

section "cargo fmt --check"
cargo fmt --check

section "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings

section "cargo test"
cargo test

section "fuzz targets, 20 s each"
bash fuzz/run.sh 20

section "all checks passed"
