#!/usr/bin/env bash
# Rebuilds the seed corpora of the fuzz targets from the project's own inputs (the
# example scripts, the stdlib, the test fixtures and goldens, the files beside this
# one), merges them into fuzz/corpus/TARGET with what fuzzing found, and minimizes
# each corpus with `cargo fuzz cmin`. Run from anywhere; the nft listings need root
# and nft (they are skipped, with a note, without them).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
here=fuzz/seeds
seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
mkdir -p "$seeds"/{script,literal,ipvsadm_import,state_json,ipvs_netlink,nft_json}

# script: every script of the project, and the rhai examples of the docs.
cp scripts/*.rhai stdlib/*.rhai tests/invalid/*.rhai tests/invalid/lib/*.rhai \
    tests/warnings/*.rhai "$here"/*.rhai "$seeds/script/"
python3 - "$seeds/script" <<'PY'
import pathlib, re, sys
for doc in ["docs/DSL.md", "README.md"]:
    blocks = re.findall(r"```rhai\n(.*?)```", pathlib.Path(doc).read_text(), re.S)
    for i, block in enumerate(blocks):
        pathlib.Path(sys.argv[1], f"{pathlib.Path(doc).stem}-{i}.rhai").write_text(block)
PY

# literal: the scripts, and the literal statements `lvsh import` writes of the
# ipvsadm fixtures (the shape `lvsh save` writes too).
cp "$seeds/script"/* "$seeds/literal/"
cargo build -q --bin lvsh
for f in tests/fixtures/ipvsadm/*.{rules,saved,named}; do
    target/debug/lvsh import "$f" >"$seeds/literal/$(basename "$f").rhai" 2>/dev/null ||
        rm "$seeds/literal/$(basename "$f").rhai"
done

# ipvsadm_import: saved and hand-written rules, and what `emit --to ipvsadm` writes.
cp tests/fixtures/ipvsadm/*.{rules,saved,named} "$seeds/ipvsadm_import/"
for f in tests/golden/scripts/*.ipvsadm; do cp "$f" "$seeds/ipvsadm_import/$(basename "$f").txt"; done
# (generated.* is the same few lines a hundred times over: too big for a seed.)
rm "$seeds/ipvsadm_import/generated.ipvsadm.txt"

# state_json: what `emit --to json` writes, and an observed model with counters.
cp tests/golden/scripts/*.json "$here"/*.json "$seeds/state_json/"
rm "$seeds/state_json/generated.json"

# ipvs_netlink: kernel-shaped datagrams.
python3 "$here/netlink.py" "$seeds/ipvs_netlink"

# nft_json: what nft lists after lvsh's batches, plus foreign objects.
if [ "$(id -u)" -eq 0 ] && command -v nft >/dev/null && command -v unshare >/dev/null; then
    unshare -n bash "$here/nft.sh" target/debug/lvsh "$seeds/nft_json" scripts/*.rhai "$here/marks.rhai"
else
    echo "note: no root or no nft: the nft_json corpus keeps only its committed listings" >&2
fi

toolchain=()
rustup toolchain list 2>/dev/null | grep -q '^nightly' && toolchain=(+nightly)
for target in script literal ipvsadm_import state_json ipvs_netlink nft_json; do
    mkdir -p "fuzz/corpus/$target"
    # Keeps the committed corpus small (a few hundred KB in all) and its replay in CI
    # quick: what fuzzing found only up to a size, the seeds whatever their size, then
    # the fewest files that cover every edge (counters ignored).
    case $target in script | literal | ipvsadm_import) max=3k ;; *) max=1k ;; esac
    find "fuzz/corpus/$target" -type f -size "+$max" -delete
    find "$seeds/$target" -type f -exec cp {} "fuzz/corpus/$target/" \;
    (cd fuzz && cargo "${toolchain[@]}" fuzz cmin -s none --codegen-units 16 "$target" -- \
        -set_cover_merge=1 -use_counters=0 -timeout=10 -rss_limit_mb=2048)
done
