# The speed benchmark: lvsh against ipvsadm and against the kernel's floor
# (nlbatch), on N services x 4 NAT destinations, all in this one boot. lvsh runs
# two scripts of the same objects (the Rhai loop below, and the literal
# statements `lvsh import` and `save` write) with the evaluation cache cold (a
# new empty LVSH_CACHE_DIR before each run) and warm (the entry stored by an
# untimed `lvsh check` of the same script and values).
# Run by tests/lab_bench.rs (tests/lab/bench.sh), which turns the `result`
# lines into the table of BENCHMARKS.md. Every timed run is followed by a
# check that the kernel holds exactly what the script says.
# lab-timeout: 1100
. /lab/lib/lab.sh

RUNS=3
SIZES="500 2000 10000"
MID=2000
# lvsh's receive length on the sockets that dump destinations (a page, at most
# 8 KiB: backend/ipvs/netlink.rs); the lab's x86-64 kernel has 4 KiB pages.
PAGE=4096
T=$LAB_TMP

# nlbatch's layout: service i is 10.1.(i/250).(i%250+1):80 tcp wrr, its
# destination j = 1..4 is 10.2.j.(i%250+1):8080 NAT weight j. With
# change=true: services 0..9 go, n..n+9 come, services 10..29 change the
# weights of their 80 destinations (1% of the objects at n = 2,000).
script=$(rhai services <<'RHAI'
let n = param("n", 2000);
let change = param("change", false);
let first = if change { 10 } else { 0 };
let last = if change { n + 10 } else { n };
for i in first..last {
    let s = service(`10.1.${i / 250}.${i % 250 + 1}`, 80).scheduler("wrr");
    let heavier = change && i >= 10 && i < 30;
    for j in 1..=4 {
        let w = if heavier { j + 10 } else { j };
        s.rs(rs(`10.2.${j}.${i % 250 + 1}`, 8080).nat().weight(w));
    }
}
RHAI
)

# The reconciler an ipvsadm user would write: read with `ipvsadm -S -n`, send
# only the lines that differ (edits as -E/-e, removals as -D/-d) to `ipvsadm -R`.
cat >"$T/reconcile.awk" <<'AWK'
FNR == NR {
    want[$0] = 1; order[++n] = $0
    if ($1 == "-A") wsvc[$2 " " $3] = 1; else wdest[$2 " " $3 " " $5] = 1
    next
}
{ have[$0] = 1; if ($1 == "-A") hsvc[$2 " " $3] = 1; else hdest[$2 " " $3 " " $5] = 1 }
END {
    for (k in hsvc) if (!(k in wsvc)) print "-D " k
    for (k in hdest) {
        split(k, f, " ")
        if (!(k in wdest) && ((f[1] " " f[2]) in wsvc)) print "-d " f[1] " " f[2] " -r " f[3]
    }
    for (i = 1; i <= n; i++) {
        l = order[i]
        if (l in have) continue
        split(l, f, " ")
        if (f[1] == "-A") { if ((f[2] " " f[3]) in hsvc) sub(/^-A/, "-E", l) }
        else if ((f[2] " " f[3] " " f[5]) in hdest) sub(/^-a/, "-e", l)
        print l
    }
}
AWK
cat >"$T/reconcile.sh" <<SH
ipvsadm -S -n >"$T/current" &&
    awk -f "$T/reconcile.awk" "\$1" "$T/current" >"$T/changes" &&
    ipvsadm -R <"$T/changes"
SH

# Every lvsh below that is not timed runs without the cache; the timed ones
# get their LVSH_CACHE_DIR from `cached`.
lv() { lvsh --no-cache "$@"; }

# rules N CHANGE: the script as ipvsadm lines (`lvsh emit --to ipvsadm`), and sorted.
rules() {
    lv emit --to ipvsadm --set "n=$1" --set "change=$2" "$script" >"$T/rules-$1-$2" ||
        fail "lvsh emit failed"
    sort "$T/rules-$1-$2" >"$T/want-$1-$2"
}

# literal CHANGE: the loop's objects at n = $MID as literal statements, one per
# service: `lvsh import` of its ipvsadm lines, each statement joined onto one
# line (`lvsh save`'s shape), in $T/literal-CHANGE.rhai; its own emit must
# equal the loop's.
literal() {
    lvsh import "$T/rules-$MID-$1" >"$T/imported-$1.rhai" || fail "lvsh import failed"
    awk '/^    \./ { sub(/^ +/, ""); line = line $0; next }
         NF { if (line != "") print line; line = $0 }
         END { if (line != "") print line }' "$T/imported-$1.rhai" >"$T/literal-$1.rhai"
    lv emit --to ipvsadm "$T/literal-$1.rhai" | sort >"$T/lit-want"
    cmp -s "$T/lit-want" "$T/want-$MID-$1" || fail "the literal script's objects differ from the loop's"
}

# args SCRIPT N CHANGE: lvsh's arguments for that script (loop or literal).
args() {
    if [ "$1" = loop ]; then
        echo "--set n=$2 --set change=$3 $script"
    else
        echo "$T/literal-$3.rhai"
    fi
}

# cached MODE SCRIPT N CHANGE: sets LVSH_CACHE_DIR for a timed run: cold is a
# new empty folder, warm one that holds the entry of that script and values.
cached() {
    if [ "$1" = cold ]; then
        rm -rf "$T/cold"
        mkdir "$T/cold"
        export LVSH_CACHE_DIR="$T/cold"
    else
        export LVSH_CACHE_DIR="$T/warm"
        # shellcheck disable=SC2046
        lvsh -q check $(args "$2" "$3" "$4") || fail "warming the cache failed"
    fi
}

# converged N CHANGE WHAT: the kernel holds exactly the script's objects.
converged() {
    ipvsadm -S -n | sort >"$T/now"
    if ! cmp -s "$T/now" "$T/want-$1-$2"; then
        echo "MISMATCH after $3: ipvsadm -S -n differs from lvsh emit --to ipvsadm"
        diff "$T/want-$1-$2" "$T/now" | head -20
        exit 1
    fi
}

# measure CASE TOOL SCRIPT CACHE N RUN CHANGE CMD...: times CMD (stdin from $IN),
# checks the kernel against the script (N, CHANGE), prints one `result` line.
# SCRIPT and CACHE are `-` for the peers.
measure() {
    m_case=$1 m_tool=$2 m_script=$3 m_cache=$4 m_n=$5 m_run=$6 m_change=$7
    shift 7
    rm -f "$T/time"
    if ! timeit "$T/time" "$@" <"${IN:-/dev/null}" >"$T/out" 2>"$T/err"; then
        echo "FAILED: $*"
        cat "$T/err" "$T/out" | head -20
        exit 1
    fi
    converged "$m_n" "$m_change" "$m_case $m_tool $m_script $m_cache run $m_run"
    if [ "$m_case $m_tool" = "noop lvsh" ] && ! grep -q '^No changes' "$T/out"; then
        echo "FAILED: the no-op apply changed something:"
        head -20 "$T/out"
        exit 1
    fi
    case "$m_tool $m_cache" in
    "lvsh cold") grep -q '^cache: .* evaluated, and stored' "$T/err" || fail "a cold run did not evaluate: $(cat "$T/err")" ;;
    "lvsh warm") grep -q '^cache: .* from the cache' "$T/err" || fail "a warm run missed the cache: $(cat "$T/err")" ;;
    esac
    read -r secs rss _ <"$T/time"
    timings=$(grep '^timings:' "$T/err")
    phases=$(sed -n 's/^cache: .* evaluated, .* (\(.*\))$/\1/p' "$T/err")
    echo "result case=$m_case tool=$m_tool script=$m_script cache=$m_cache n=$m_n run=$m_run seconds=$secs rss_kib=$rss ${timings:+| $timings}${phases:+; $phases}"
}

# lvsh_run CASE SCRIPT CACHE N RUN CHANGE [fresh]: one timed `lvsh -v apply`.
lvsh_run() {
    cached "$3" "$2" "$4" "$6"
    # shellcheck disable=SC2046
    ${7:-measure} "$1" lvsh "$2" "$3" "$4" "$5" "$6" lvsh -v apply --yes $(args "$2" "$4" "$6")
}

restore() { # N: back to the unchanged script, untimed
    LVSH_CACHE_DIR="$T/restore" lvsh -q apply --yes --set "n=$1" "$script" || fail "restoring n=$1 failed"
    converged "$1" false "restoring"
}

# fresh MEASURE-ARGS...: `measure` in a new network namespace. Applies "from an
# empty table" run there: a flushed table is not empty for the kernel, which
# keeps deleted destinations in a trash list for a minute and searches it on
# every destination added.
fresh() { IN="${IN:-}" /usr/bin/unshare --net /bin/sh "$0" fresh "$@" || exit 1; }
if [ "${1:-}" = fresh ]; then
    shift
    ip link set lo up
    measure "$@"
    exit 0
fi

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r), $(ipvsadm --version 2>&1 | head -1)"
for n in $SIZES; do rules "$n" false; done
rules $MID true
literal false
literal true
echo "literal script: $(wc -l <"$T/literal-false.rhai") lines, $(wc -c <"$T/literal-false.rhai") bytes"

step "apply from an empty table"
for run in $(seq $RUNS); do
    for n in $SIZES; do
        [ "$n" = $MID ] || lvsh_run apply loop cold "$n" "$run" false fresh
    done
    for s in loop literal; do
        for c in cold warm; do lvsh_run apply "$s" "$c" $MID "$run" false fresh; done
    done
    IN=$T/rules-$MID-false fresh apply ipvsadm - - $MID "$run" false ipvsadm -R
    fresh apply nlbatch - - $MID "$run" false nlbatch $MID 4
done
nlbatch $MID 4 >/dev/null && converged $MID false "the no-op's start"

step "no-op re-apply of the same script, n = $MID"
for run in $(seq $RUNS); do
    for s in loop literal; do
        for c in cold warm; do lvsh_run noop "$s" "$c" $MID "$run" false; done
    done
    measure noop ipvsadm - - $MID "$run" false ipvsadm -S -n
    measure noop nlbatch - - $MID "$run" false nlbatch r $MID
    measure noop dumpfloor - - $MID "$run" false dumpfloor 65536 "$PAGE" 2
done

# The changed script is another cache entry: cold, it is evaluated; warm, its
# entry was stored before (a change applied before, or checked first).
step "1% change, n = $MID"
for run in $(seq $RUNS); do
    for s in loop literal; do
        for c in cold warm; do
            lvsh_run change "$s" "$c" $MID "$run" true
            restore $MID
        done
    done
    measure change ipvsadm - - $MID "$run" true sh "$T/reconcile.sh" "$T/rules-$MID-true"
    restore $MID
done
echo "bench: done"
