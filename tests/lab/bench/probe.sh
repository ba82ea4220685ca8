# Where lvsh's fixed cost goes in the VM: process start (`--version`), the
# script engine's start (`check` of 0 and 1 services), evaluation (500, 2,000
# services) and `nft` (which every read starts), twice each. Not part of the
# benchmark: `LAB_SCENARIO=probe tests/lab/bench.sh`.
. /lab/lib/lab.sh
T=$LAB_TMP
sed -n '/^let n = param/,/^}$/p' /lab/bench/bench.sh >"$T/services.rhai"

probe() {
    rm -f "$T/time"
    timeit "$T/time" "$@" >/dev/null 2>"$T/err" || { cat "$T/err"; fail "$*"; }
    read -r secs rss _ <"$T/time"
    echo "$secs s, $rss KiB: $*"
}

for round in 1 2; do
    step "round $round"
    probe lvsh --version
    for n in 0 1 500 2000; do
        probe lvsh check --set "n=$n" "$T/services.rhai"
    done
    probe nft -j list ruleset
done
