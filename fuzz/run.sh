#!/usr/bin/env bash
# Builds the fuzz targets and runs each for a while from its committed corpus;
# fails on the first crash, timeout or out-of-memory. What CI runs (through
# tests/run-all.sh), and what to run by hand before committing a change to a
# front end.
#   bash fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
# New inputs go to a scratch directory, never into the committed corpus; a crashing
# input is kept in fuzz/artifacts/TARGET/ and printed.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-20}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(script literal ipvsadm_import state_json ipvs_netlink nft_json)

# The nightly toolchain when there is one; without sanitizers cargo-fuzz needs no
# nightly feature, so the default toolchain works too.
toolchain=()
if command -v rustup >/dev/null && rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    toolchain=(+nightly)
fi
# No AddressSanitizer: lvsh's decoders are safe Rust, what is looked for is panics,
# timeouts and memory blow-ups; without it the build is a third shorter and runs
# twice as fast. 16 codegen units: cargo-fuzz's default of 1 makes the build of
# lvsh's dependencies several minutes longer.
build=(-s none --codegen-units 16)

started=$SECONDS
cargo "${toolchain[@]}" fuzz build "${build[@]}"
echo "fuzz: built in $((SECONDS - started)) s"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for target in "${targets[@]}"; do
    mkdir -p "$scratch/$target" "artifacts/$target"
    # cargo-fuzz keeps a crashing input in artifacts/TARGET/.
    flags=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1)
    [ -f "$target.dict" ] && flags+=(-dict="$target.dict")
    t=$SECONDS
    if ! cargo "${toolchain[@]}" fuzz run "${build[@]}" "$target" "$scratch/$target" "corpus/$target" \
        -- "${flags[@]}" >"$scratch/$target.log" 2>&1; then
        tail -n 60 "$scratch/$target.log"
        for a in "artifacts/$target"/*; do
            [ -f "$a" ] || continue
            echo "fuzz: $target: crashing input fuzz/$a (base64):"
            base64 "$a"
        done
        echo "fuzz: $target FAILED; reproduce with: cargo fuzz run $target fuzz/artifacts/$target/<file>" >&2
        exit 1
    fi
    runs=$(grep -o 'number_of_executed_units: [0-9]*' "$scratch/$target.log" | grep -o '[0-9]*$')
    cov=$(grep -o 'cov: [0-9]*' "$scratch/$target.log" | tail -n 1)
    echo "fuzz: $target ok: $runs runs in $((SECONDS - t)) s, $cov"
done
echo "fuzz: all targets ok in $((SECONDS - started)) s"
