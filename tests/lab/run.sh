#!/usr/bin/env bash
# Runs some lab scenarios in one boot, showing the VM's report as it arrives:
#   tests/lab/run.sh ppc pfmc
# Without a name it lists them. `cargo test` runs them all (tests/lab.rs).
set -euo pipefail
cd "$(dirname "$0")/../.."

known=$(cd tests/lab/scenarios && ls -- *.sh | sed 's/\.sh$//')
if [ $# -eq 0 ]; then
    echo "usage: tests/lab/run.sh SCENARIO..." >&2
    echo "scenarios:" $known >&2
    exit 2
fi
filters=()
for name in "$@"; do
    grep -qx -- "$name" <<<"$known" || { echo "no scenario \`$name\`; there are:" $known >&2; exit 2; }
    filters+=("scenario::$name")
done
LAB_SCENARIO=$(IFS=,; echo "$*") LAB_VERBOSE=1 \
    exec cargo test --test lab -- --exact --nocapture "${filters[@]}"
