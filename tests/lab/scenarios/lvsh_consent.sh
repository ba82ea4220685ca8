# Consent and stale plans: without a terminal `lvsh apply` needs --yes; a plan
# that deletes more than half of the services also needs --allow-mass-delete
# (an empty script piped by mistake must not empty a director); a plan saved
# with `plan -o` applies exactly, and is refused once the kernel changed.
# `lvsh history` lists what happened.
. /lab/lib/lab.sh

run ip link add d0 type dummy
run ip link set d0 up
run ip addr add 10.20.0.254/16 dev d0

step "a director with three services"
lvsh_apply "$(rhai site <<'RHAI'
for i in 1..=3 { service(`10.10.0.${i}`, 80).rs(rs("10.20.0.1", 8080).nat()); }
RHAI
)"
before=$(kernel_state)

step "piped, without --yes: refused, nothing changes"
cat >"$LAB_TMP/edit.rhai" <<'RHAI'
for i in 1..=3 { service(`10.10.0.${i}`, 80).rs(rs("10.20.0.1", 8080).nat().weight(4)); }
RHAI
fails_with "standard input is not a terminal, so nobody can confirm this plan" \
    sh -c "echo y | lvsh apply '$LAB_TMP/edit.rhai'"
expect_same_state "after the refusal" "$before"

step "an empty script, with --yes: refused without --allow-mass-delete"
: >"$LAB_TMP/empty.rhai"
fails_with "this plan deletes 3 of the kernel's 3 services; nothing was applied" \
    lvsh apply --yes "$LAB_TMP/empty.rhai"
expect_same_state "after the refusal" "$before"
echo 'service("10.10.0.1", 80).rs(rs("10.20.0.1", 8080).nat());' >"$LAB_TMP/one.rhai"
fails_with "this plan deletes 2 of the kernel's 3 services" lvsh apply --yes "$LAB_TMP/one.rhai"
expect_same_state "after the refusal" "$before"

step "a saved plan applies exactly"
run lvsh plan "$LAB_TMP/edit.rhai" -o "$LAB_TMP/edit.plan"
out=$(lvsh apply --yes "$LAB_TMP/edit.plan")
echo "$out"
expect_line "the summary" "$out" "Applied: 0 added, 3 changed, 0 deleted."
expect_eq "weights" "$(ipvsadm -S -n | grep -c ' -w 4$')" 3

step "a stale saved plan is refused"
run lvsh plan "$LAB_TMP/site.rhai" -o "$LAB_TMP/back.plan"
run ipvsadm -e -t 10.10.0.2:80 -r 10.20.0.1:8080 -m -w 9
changed=$(kernel_state)
fails_with "the kernel changed since" lvsh apply --yes "$LAB_TMP/back.plan"
expect_same_state "after the refusal" "$changed"

step "with consent, the mass delete goes through"
run lvsh apply --yes --allow-mass-delete "$LAB_TMP/empty.rhai"
expect_eq "ipvsadm -S -n" "$(ipvsadm -S -n)" ""

step "history: every apply that wrote, with its outcome"
out=$(lvsh history)
echo "$out"
expect_eq "applies recorded" "$(echo "$out" | grep -c ' applied$')" 3
expect_line "the saved plan's apply" "$(echo "$out" | sed -n 3p | grep -o 'edit.plan (plan of [^ ]*)')" \
    "edit.plan (plan of $LAB_TMP/edit.rhai)"

step "rollback of the mass delete brings the three services back"
run lvsh rollback --yes
expect_eq "services" "$(ipvsadm -S -n | grep -c '^-A')" 3
