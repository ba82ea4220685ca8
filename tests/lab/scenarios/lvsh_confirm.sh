# On a terminal, `lvsh apply` shows the plan and asks; anything but yes changes
# nothing, and a kernel that changed while the question was open is not applied to.
# `script` gives lvsh a terminal; its input is what the operator types.
. /lab/lib/lab.sh
topo_up

site=$(rhai site <<RHAI
service("$VIP", 80).scheduler("rr").rs(rs("$RS1")).rs(rs("$RS2"));
RHAI
)
# on_terminal INPUT-COMMAND: runs `lvsh apply $site` on a terminal fed by INPUT-COMMAND.
on_terminal() {
    sh -c "$1" | script -qefc "lvsh --color never apply $site" /dev/null 2>&1 | tr -d '\r'
}

step "answering no changes nothing"
out=$(on_terminal "sleep 3; echo no")
echo "$out"
expect_line "lvsh apply" "$out" "Plan: 3 to add, 0 to change, 0 to delete."
case $out in *"Apply these changes? [y/N]"*) ok "it asked" ;; *) fail "it did not ask" ;; esac
case $out in *"apply cancelled; nothing was changed"*) ok "cancelled" ;; *) fail "not cancelled" ;; esac
expect_eq "ipvsadm -S -n" "$(ipvsadm -S -n)" ""

step "a kernel changed while the question was open is not applied to"
out=$(on_terminal "sleep 3; ipvsadm -A -t 10.9.9.9:80 -s wlc; echo y")
echo "$out"
case $out in
    *"the kernel changed since the plan was made; nothing was applied"*) ok "refused: kernel changed" ;;
    *) fail "applied although the kernel changed" ;;
esac
expect_eq "ipvsadm -S -n (only the change made meanwhile)" "$(ipvsadm -S -n)" "-A -t 10.9.9.9:80 -s wlc"
run ipvsadm -C

step "answering y applies"
out=$(on_terminal "sleep 3; echo y")
echo "$out"
expect_line "lvsh apply" "$out" "Applied: 3 added, 0 changed, 0 deleted."
expect_line "ipvsadm -S -n" "$(ipvsadm -S -n)" "-A -t $VIP:80 -s rr"
