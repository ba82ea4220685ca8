# An apply cut off anywhere never leaves the director worse than the old or the
# new state without saying so: SIGKILL after N batches (LVSH_FAULT) leaves no
# service with fewer real servers than both states give it and no fwmark service
# without its mark; the next command says the apply was cut off, and
# `lvsh rollback` restores the state before. SIGINT/SIGTERM during the write, and
# a failed netlink socket, roll back at once (exit 1, kernel as before).
# lab-timeout: 400
. /lab/lib/lab.sh

run ip link add d0 type dummy
run ip link set d0 up
run ip addr add 10.20.0.254/16 dev d0

cat >"$LAB_TMP/old.rhai" <<'RHAI'
for i in 1..=40 {
    service(`10.10.0.${i}`, 80).scheduler("rr")
        .rs(rs("10.20.0.1", 8080).nat()).rs(rs("10.20.0.2", 8080).nat());
}
mark(10).vip("10.30.0.1").ports([80]).rs(rs("10.20.0.1").dr());
RHAI
# Every old service changes both real servers; 20 services and mark 11 are new;
# mark 10 and its fwmark service go.
cat >"$LAB_TMP/new.rhai" <<'RHAI'
for i in 1..=40 {
    service(`10.10.0.${i}`, 80).scheduler("wlc")
        .rs(rs("10.20.0.3", 8080).nat()).rs(rs("10.20.0.4", 8080).nat().weight(5));
}
for i in 41..=60 {
    service(`10.10.0.${i}`, 80).rs(rs("10.20.0.3", 8080).nat()).rs(rs("10.20.0.4", 8080).nat());
}
mark(11).vip("10.30.0.2").ports([443]).rs(rs("10.20.0.3").dr());
RHAI

# The kernel lists a service's real servers newest first, and a rollback re-adds
# the ones it deleted: compare IPVS as a set of lines, nft byte for byte.
state() { ipvsadm -S -n | sort; echo "--"; nft list table inet lvsh; }

reset() {
    quietly ipvsadm -C
    nft delete table inet lvsh 2>/dev/null
    quietly lvsh apply --yes --allow-mass-delete "$LAB_TMP/old.rhai"
    before=$(state)
}

# cut_safe: every old service still has two real servers (both states give it
# two); each fwmark service has its mark.
cut_safe() {
    _short=$(ipvsadm -S -n | awk '
        $1 == "-A" && $2 == "-t" { n[$3] = 0 }
        $1 == "-a" && $2 == "-t" { n[$3]++ }
        END { for (s in n) { split(s, a, ":"); split(a[1], o, "."); if (o[4] <= 40 && n[s] < 2) print s, n[s] } }')
    expect_eq "$1: old services with fewer than 2 real servers" "$_short" ""
    _rules=$(nft list table inet lvsh 2>/dev/null)
    for m in $(ipvsadm -S -n | awk '$1 == "-A" && $2 == "-f" { print $3 }'); do
        case "$_rules" in
            *"lvsh mark $m"*) ok "$1: fwmark service $m has its mark" ;;
            *) fail "$1: fwmark service $m without its mark" ;;
        esac
    done
}

step "the plan: 20 services and one fwmark service added, 40 edited, 80 real servers replaced"
reset
run lvsh plan "$LAB_TMP/new.rhai"
batches=$(LVSH_FAULT=batch:16 lvsh -v apply --yes "$LAB_TMP/new.rhai" 2>&1 >/dev/null | sed -n 's/.*(\([0-9]*\) IPVS requests).*/\1/p')
echo "IPVS requests: $batches (16 per batch)"
expect_ne "requests" "$batches" ""

for k in 0 1 4 9 13; do
    step "SIGKILL after $k batches of 16 requests"
    reset
    LVSH_FAULT=batch:16,kill-after:$k lvsh apply --yes "$LAB_TMP/new.rhai" >"$LAB_TMP/out" 2>&1
    expect_eq "exit status of the killed apply" "$?" 137
    cut_safe "after $k batches"
    out=$(lvsh plan "$LAB_TMP/old.rhai" 2>&1)
    case "$out" in
        *"was cut off"*"lvsh rollback"*) ok "the next command says the apply was cut off and names lvsh rollback" ;;
        *) echo "$out"; fail "no word of the cut-off apply" ;;
    esac
    run lvsh history
    expect_line "history" "$(lvsh history | tail -1 | awk '{print $NF}')" "running)"
    run lvsh rollback --yes --allow-mass-delete
    expect_eq "the kernel after lvsh rollback" "$(state)" "$before"
    out=$(lvsh plan --detailed-exitcode "$LAB_TMP/old.rhai" 2>&1)
    expect_eq "lvsh plan of the old script after rollback" "$?" 0
    case "$out" in *"cut off"*) echo "$out"; fail "still warns after the rollback" ;; esac
    expect_line "history" "$(lvsh history | tail -2 | head -1 | awk '{print $NF}')" "interrupted"
done

step "SIGKILL after 6 batches, then the script applied again: it finishes, the warning goes"
reset
LVSH_FAULT=batch:16,kill-after:6 lvsh apply --yes "$LAB_TMP/new.rhai" >"$LAB_TMP/out" 2>&1
expect_eq "exit status of the killed apply" "$?" 137
cut_safe "after 6 batches"
run lvsh apply --yes --allow-mass-delete "$LAB_TMP/new.rhai"
out=$(lvsh plan --detailed-exitcode "$LAB_TMP/new.rhai" 2>&1)
expect_eq "lvsh plan of the new script" "$?" 0
case "$out" in *"cut off"*) echo "$out"; fail "still warns after the script was applied" ;; esac
expect_line "history" "$(lvsh history | tail -2 | head -1 | awk '{print $NF}')" "interrupted"

for sig in INT TERM; do
    step "SIG$sig (twice) during the write: the apply rolls back, says so, exits 1"
    reset
    LVSH_FAULT=batch:16,signal-after:5:$sig lvsh apply --yes "$LAB_TMP/new.rhai" >"$LAB_TMP/out" 2>&1
    status=$?
    cat "$LAB_TMP/out"
    expect_eq "exit status" "$status" 1
    expect_line "first signal" "$(grep -o "SIG$sig received: stopping after the current batch and rolling back" "$LAB_TMP/out")" \
        "SIG$sig received: stopping after the current batch and rolling back"
    expect_line "second signal" "$(grep -o "SIG$sig received: still [a-z ]*" "$LAB_TMP/out" | head -1)" \
        "SIG$sig received: still stopping the apply "
    expect_line "the error" "$(grep -o "interrupted by SIG$sig" "$LAB_TMP/out")" "interrupted by SIG$sig"
    expect_eq "the kernel" "$(state)" "$before"
    expect_eq "history" "$(lvsh history | tail -1 | awk '{print $(NF-1), $NF}')" "rolled back"
done

step "a netlink socket failure after 3 batches: rolled back from what the kernel holds"
reset
LVSH_FAULT=batch:16,socket-error-after:3 lvsh apply --yes "$LAB_TMP/new.rhai" >"$LAB_TMP/out" 2>&1
status=$?
cat "$LAB_TMP/out"
expect_eq "exit status" "$status" 1
expect_line "the error" "$(grep -o 'talking to IPVS failed' "$LAB_TMP/out")" "talking to IPVS failed"
expect_eq "the kernel" "$(state)" "$before"

step "and the apply itself, undisturbed, converges"
run lvsh apply --yes "$LAB_TMP/new.rhai"
run lvsh plan --detailed-exitcode "$LAB_TMP/new.rhai"
