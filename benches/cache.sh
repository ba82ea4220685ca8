#!/bin/sh
# Cold (cache empty) and warm (cached) `lvsh check` and `lvsh plan --empty` of a
# 2,000 services × 4 script, as literal statements and as a loop, on this host (no
# lab, no root). Usage: benches/cache.sh [LVSH] [RUNS]; LVSH defaults to the
# release build. Prints min / median wall milliseconds of RUNS runs (default 15).
set -eu
lvsh=${1:-target/release/lvsh}
runs=${2:-15}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat >"$work/loop.rhai" <<'RHAI'
for i in 0..2000 {
    let host = `${i / 250 % 256}.${i % 250 + 1}`;
    let svc = service(`10.1.${host}`, 80).scheduler("wrr");
    for j in 1..=4 {
        svc.rs(rs(`10.2.${j}.${i % 250 + 1}`, 8080).nat().weight(j));
    }
}
RHAI
# The same objects as literal statements: `lvsh import`'s layout (one call per
# line), and one statement per line, as `lvsh save` writes a service.
LVSH_CACHE_DIR= "$lvsh" emit "$work/loop.rhai" --to ipvsadm >"$work/ipvsadm.txt"
"$lvsh" import "$work/ipvsadm.txt" >"$work/imported.rhai"
awk '/^    \./ { sub(/^ +/, ""); line = line $0; next }
     NF { if (line != "") print line; line = $0 }
     END { if (line != "") print line }' "$work/imported.rhai" >"$work/literal.rhai"

ms() { echo $(( $(date +%s%N) / 1000000 )); }

# time_runs NAME MODE ARGS...: MODE is cold (a new empty cache before every run:
# evaluate and store), warm (one cache, filled by a run before the timed ones) or
# off (`--no-cache`: evaluate, store nothing).
time_runs() {
    name=$1 mode=$2
    shift 2
    cache="$work/cache"
    rm -rf "$cache"
    [ "$mode" = warm ] && LVSH_CACHE_DIR=$cache "$lvsh" "$@" >/dev/null 2>&1
    flag=""
    [ "$mode" = off ] && flag=--no-cache
    times=""
    i=0
    while [ $i -lt "$runs" ]; do
        [ "$mode" = cold ] && rm -rf "$cache"
        t0=$(date +%s%N)
        # shellcheck disable=SC2086
        LVSH_CACHE_DIR=$cache "$lvsh" $flag "$@" >/dev/null 2>&1
        t1=$(date +%s%N)
        times="$times $(( (t1 - t0) / 100000 ))"
        i=$((i + 1))
    done
    echo "$times" | tr ' ' '\n' | grep . | sort -n | awk -v name="$name" -v mode="$mode" '
        { t[NR] = $1 }
        END { printf "%-28s %-5s min %5.1f ms  median %5.1f ms\n", name, mode, t[1] / 10, t[int((NR + 1) / 2)] / 10 }'
}

for script in literal imported loop; do
    for cmd in check "plan --empty"; do
        for mode in off cold warm; do
            # shellcheck disable=SC2086
            time_runs "$cmd $script" $mode $cmd "$work/$script.rhai"
        done
    done
done
for script in literal loop; do
    rm -rf "$work/cache"
    LVSH_CACHE_DIR=$work/cache "$lvsh" check "$work/$script.rhai" >/dev/null
    ls -l "$work/cache" | awk -v s="$script" 'NR > 1 { print "cache entry of " s ": " $5 " bytes" }'
done
