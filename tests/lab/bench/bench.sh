# The speed benchmark: lvsh against ipvsadm and against the kernel's floor
# (nlbatch), on N services x 4 NAT destinations, all in this one boot.
# Run by tests/lab_bench.rs (tests/lab/bench.sh), which turns the `result`
# lines into the table of BENCHMARKS.md. Every timed run is followed by a
# check that the kernel holds exactly what the script says.
# lab-timeout: 540
. /lab/lib/lab.sh

RUNS=3
SIZES="500 2000 10000"
MID=2000
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

# rules N CHANGE: the script as ipvsadm lines (`lvsh emit --to ipvsadm`), and sorted.
rules() {
    lvsh emit --to ipvsadm --set "n=$1" --set "change=$2" "$script" >"$T/rules-$1-$2" ||
        fail "lvsh emit failed"
    sort "$T/rules-$1-$2" >"$T/want-$1-$2"
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

# measure CASE TOOL N RUN CHANGE CMD...: times CMD (stdin from $IN), checks the
# kernel against the script (N, CHANGE), prints one `result` line.
measure() {
    m_case=$1 m_tool=$2 m_n=$3 m_run=$4 m_change=$5
    shift 5
    rm -f "$T/time"
    if ! timeit "$T/time" "$@" <"${IN:-/dev/null}" >"$T/out" 2>"$T/err"; then
        echo "FAILED: $*"
        cat "$T/err" "$T/out" | head -20
        exit 1
    fi
    converged "$m_n" "$m_change" "$m_case $m_tool run $m_run"
    if [ "$m_case $m_tool" = "noop lvsh" ] && ! grep -q '^No changes' "$T/out"; then
        echo "FAILED: the no-op apply changed something:"
        head -20 "$T/out"
        exit 1
    fi
    read -r secs rss _ <"$T/time"
    timings=$(grep '^timings:' "$T/err")
    echo "result case=$m_case tool=$m_tool n=$m_n run=$m_run seconds=$secs rss_kib=$rss ${timings:+| $timings}"
}

restore() { # N: back to the unchanged script, untimed
    lvsh -q apply --yes --set "n=$1" "$script" || fail "restoring n=$1 failed"
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

step "apply from an empty table"
for run in $(seq $RUNS); do
    for n in $SIZES; do
        fresh apply lvsh "$n" "$run" false lvsh -v apply --yes --set "n=$n" "$script"
    done
    IN=$T/rules-$MID-false fresh apply ipvsadm $MID "$run" false ipvsadm -R
    fresh apply nlbatch $MID "$run" false nlbatch $MID 4
done
nlbatch $MID 4 >/dev/null && converged $MID false "the no-op's start"

step "no-op re-apply of the same script, n = $MID"
for run in $(seq $RUNS); do
    measure noop lvsh $MID "$run" false lvsh -v apply --yes --set "n=$MID" "$script"
    measure noop ipvsadm $MID "$run" false ipvsadm -S -n
    measure noop nlbatch $MID "$run" false nlbatch r $MID
done

step "1% change, n = $MID"
for run in $(seq $RUNS); do
    measure change lvsh $MID "$run" true lvsh -v apply --yes --set "n=$MID" --set change=true "$script"
    restore $MID
    measure change ipvsadm $MID "$run" true sh "$T/reconcile.sh" "$T/rules-$MID-true"
    restore $MID
done
echo "bench: done"
