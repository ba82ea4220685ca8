# lab-timeout: 300
. /lab/lib/lab.sh
T=$LAB_TMP
sed -n '/^let n = param/,/^}$/p' /lab/bench/bench.sh > $T/s.rhai
t() { rm -f $T/t; timeit $T/t "$@" >/dev/null 2>$T/err; echo "$(cat $T/t) :: $* :: $(grep timings $T/err)"; }
for i in 1 2; do
t lvsh --version
t lvsh check --set n=0 $T/s.rhai
t lvsh check --set n=1 $T/s.rhai
t lvsh check --set n=500 $T/s.rhai
t lvsh check --set n=2000 $T/s.rhai
t nft -j list ruleset
t lvsh -v apply --yes --set n=0 $T/s.rhai
t lvsh -v apply --yes --set n=0 $T/s.rhai
done
