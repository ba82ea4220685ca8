#!/bin/sh
# Run on the host by the lab harness before it builds the image: the "laptop"
# side of the recipes workflow, with the lvsh under test and the system git.
# OUT/before: a site repository with library labweb 1.0.0 added, locked and
# vendored; OUT/after: the same after `lvsh recipes update` to 1.1.0 (port 443
# added to the recipe's default ports). The directors in the VM have no git:
# they read the vendored copies. Fixed names and dates keep the output, and so
# the cached image, the same from run to run.
# usage: prepare.sh LVSH OUT
set -eu
lvsh=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$out.work
rm -rf "$out" "$work"
mkdir -p "$out" "$work"
export GIT_AUTHOR_NAME=lab GIT_AUTHOR_EMAIL=lab@lab.invalid
export GIT_COMMITTER_NAME=lab GIT_COMMITTER_EMAIL=lab@lab.invalid
export GIT_AUTHOR_DATE=2026-01-01T00:00:00Z GIT_COMMITTER_DATE=2026-01-01T00:00:00Z
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
export LVSH_CACHE_DIR="$work/cache"
git() { command git -c init.defaultBranch=main -c commit.gpgsign=false -c tag.gpgsign=false "$@"; }

cp -R "$here/lib" "$work/lib"
cd "$work/lib"
git init -q
git add -A
git commit -qm "labweb 1.0.0"
git tag v1.0.0
git clone -q --bare "$work/lib" "$work/labweb.git"

cp -R "$here/site" "$out/before"
cd "$out/before"
"$lvsh" -q recipes add labweb "file://$work/labweb.git" --version '^1.0'
"$lvsh" -q recipes vendor

cd "$work/lib"
sed -i 's/"default": \[80\]/"default": [80, 443]/' recipes/web.rhai
grep -q '"default": \[80, 443\]' recipes/web.rhai
printf '\n## 1.1.0\n\n- `web::web`: port 443 joins the default ports.\n' >>CHANGELOG.md
git commit -qam "labweb 1.1.0"
git tag v1.1.0
git push -q "$work/labweb.git" main v1.1.0

cp -R "$out/before" "$out/after"
cd "$out/after"
"$lvsh" -q recipes update labweb
rm -rf "$work"
