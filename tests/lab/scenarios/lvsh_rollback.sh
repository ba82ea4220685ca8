# A failing apply changes nothing: a refused request in the middle of a big
# batch (scheduler `twos`, absent from this kernel) rolls back every change
# that took effect, IPVS and nft, and names the change and the kernel's reason.
# A script with an error changes nothing either; so does a refused nft write.
. /lab/lib/lab.sh

run ip link add d0 type dummy
run ip link set d0 up
run ip addr add 10.1.0.1/24 dev d0

step "a non-trivial state"
lvsh_apply "$(rhai before <<'RHAI'
for i in 1..=6 {
    service(`10.1.1.${i}`, 80).scheduler("wlc")
        .rs(rs("10.1.0.11").nat().weight(i).u_threshold(100 * i).l_threshold(10 * i))
        .rs(rs("10.1.0.12").nat());
}
mark(10).vip("10.1.2.1").ports([80, 443]).scheduler("rr").persist(600).rs(rs("10.1.0.11").dr());
mark(11).vip("10.1.2.2").udp().port(53).rs(rs("10.1.0.12").dr());
timeouts(800, 100, 250);
RHAI
)"
before=$(kernel_state)
echo "$before"
same_as_before() { expect_same_state "$1" "$before"; }

# unwrap TEXT: miette's wrapped message on one line, without its gutter.
unwrap() { printf '%s\n' "$1" | sed 's/^[[:space:]]*[|x]*[[:space:]]*//' | tr '\n' ' ' | tr -s ' '; }

step "many changes with a twos service in the middle: exit 1, all rolled back"
cat >"$LAB_TMP/many.rhai" <<'RHAI'
for i in 1..=6 {
    service(`10.1.1.${i}`, 80).scheduler("rr")
        .rs(rs("10.1.0.11").nat().weight(10 + i))
        .rs(rs("10.1.0.13").nat());
}
// 10.1.1.8 is new, with a scheduler this kernel lacks: refused mid-batch.
for i in 7..=9 {
    service(`10.1.1.${i}`, 80).scheduler(if i == 8 { "twos" } else { "wlc" }).rs(rs("10.1.0.14").nat());
}
mark(10).vip("10.1.2.1").ports([80, 443, 8080]).scheduler("rr").persist(900).rs(rs("10.1.0.12").dr());
mark(12).vip("10.1.2.3").port(25).rs(rs("10.1.0.12").dr());
timeouts(700, 90, 200);
RHAI
run lvsh plan "$LAB_TMP/many.rhai"
out=$(lvsh apply --yes "$LAB_TMP/many.rhai" 2>&1)
status=$?
echo "$out"
expect_eq "exit status" "$status" 1
flat=$(unwrap "$out")
case $flat in
    *"the kernel refused to add service tcp 10.1.1.8:80 twos: "*) ok "names the failing change" ;;
    *) fail "does not name \"add service tcp 10.1.1.8:80 twos\"" ;;
esac
case $flat in
    *"(errno 2)"*) ok "gives the kernel's reason (errno 2)" ;;
    *) fail "no kernel reason (errno 2)" ;;
esac
case $flat in
    *"nothing was changed"*) ok "says nothing was changed" ;;
    *) fail "does not say nothing was changed" ;;
esac
same_as_before "after the refused batch"

step "an edit to a scheduler this kernel lacks: refused, rolled back"
cat >"$LAB_TMP/edit.rhai" <<'RHAI'
for i in 1..=6 {
    service(`10.1.1.${i}`, 80).scheduler(if i == 2 { "twos" } else { "rr" })
        .rs(rs("10.1.0.11").nat().weight(10 + i))
        .rs(rs("10.1.0.13").nat());
}
mark(10).vip("10.1.2.1").ports([80, 443, 8080]).scheduler("rr").persist(900).rs(rs("10.1.0.12").dr());
RHAI
out=$(lvsh apply --yes "$LAB_TMP/edit.rhai" 2>&1)
status=$?
echo "$out"
expect_eq "exit status" "$status" 1
flat=$(unwrap "$out")
case $flat in
    *"the kernel refused to edit service tcp 10.1.1.2:80 twos: scheduler \`twos\` not available in this kernel"*"nothing was changed"*)
        ok "names the edit, the kernel's reason, and that nothing was changed" ;;
    *) fail "does not name \"edit service tcp 10.1.1.2:80 twos\" with its reason" ;;
esac
same_as_before "after the refused edit"

step "a script with a syntax error: exit 1, nothing changed"
printf 'service("10.1.1.1", 80).scheduler("rr"\n' >"$LAB_TMP/syntax.rhai"
fails_with "syntax.rhai" lvsh apply --yes "$LAB_TMP/syntax.rhai"
same_as_before "after the syntax error"

step "a script that does not validate: exit 1, nothing changed"
printf 'service("10.1.1.1", 80).rs(rs("10.1.0.11").weight(70000));\nservice("10.1.1.9", 80);\n' \
    >"$LAB_TMP/invalid.rhai"
fails_with "weight" lvsh apply --yes "$LAB_TMP/invalid.rhai"
same_as_before "after the invalid script"

step "nft refuses the final table, after the IPVS changes: IPVS and the first nft write rolled back"
# The real nft refuses nothing lvsh writes; a wrapper stands for a kernel that
# refuses the final table (say, without a module it needs). lvsh writes the
# table twice (first without the marks that go or change, then as the script
# wants it, after IPVS): the wrapper lets the first write and the restore
# through to the real nft and refuses the second.
mkdir -p "$LAB_TMP/bin"
cat >"$LAB_TMP/bin/nft" <<SH
#!/bin/sh
case " \$* " in
    *" -f "*)
        n=\$((\$(cat "$LAB_TMP/nft-writes" 2>/dev/null || echo 0) + 1))
        echo \$n >"$LAB_TMP/nft-writes"
        if [ \$n = 2 ]; then
            cat >/dev/null
            echo "Error: Could not process rule: Operation not supported" >&2
            exit 1
        fi ;;
esac
exec /usr/sbin/nft "\$@"
SH
chmod +x "$LAB_TMP/bin/nft"
sed 's/"twos"/"sh"/' "$LAB_TMP/many.rhai" >"$LAB_TMP/many_ok.rhai"
out=$(PATH="$LAB_TMP/bin:$PATH" lvsh apply --yes "$LAB_TMP/many_ok.rhai" 2>&1)
status=$?
echo "$out"
expect_eq "exit status" "$status" 1
flat=$(unwrap "$out")
case $flat in
    *"Operation not supported"*"nothing was changed"*) ok "nft's reason, and nothing was changed" ;;
    *) fail "no nft reason or no \"nothing was changed\"" ;;
esac
expect_eq "nft writes: the first, the refused one, the restore" "$(cat "$LAB_TMP/nft-writes")" 3
same_as_before "after the refused nft write"

step "and the same script with the real nft applies"
lvsh_apply "$LAB_TMP/many_ok.rhai"
run lvsh plan "$LAB_TMP/many_ok.rhai" --detailed-exitcode
