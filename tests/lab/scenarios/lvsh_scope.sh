# A scoped script manages only what it owns: another team's services, made with
# ipvsadm for another VIP and another fwmark, and a sync daemon stay
# byte-identical in `ipvsadm -S -n` and `--daemon` while lvsh applies, changes
# and empties its own, which follow the script; a second scoped script with a
# disjoint scope keeps the first one's nft marks (the table is rewritten whole).
# lab-timeout: 90
. /lab/lib/lab.sh

# theirs / ours: the lines of `ipvsadm -S -n` outside and inside web's scope.
THEIRS='^-[Aa] (-t 192\.168\.20\.1:80|-f 50) '
theirs() { ipvsadm -S -n | grep -E -- "$THEIRS"; }
ours() { ipvsadm -S -n | grep -vE -- "$THEIRS"; }
# marks: the lvsh mark rules of table inet lvsh, by number (lvsh drops the table
# when no mark is left).
marks() { nft list table inet lvsh 2>/dev/null | sed -n 's/.*comment "lvsh mark \([0-9]*\)".*/\1/p' | sort -n | tr '\n' ' '; }

step "another team's services and a sync daemon, made with ipvsadm"
run ip link add eth1 type dummy
run ip link set eth1 up
run ipvsadm -A -t 192.168.20.1:80 -s wlc
run ipvsadm -a -t 192.168.20.1:80 -r 192.168.20.11 -g -w 5
run ipvsadm -A -f 50 -s sh -p 300
run ipvsadm -a -f 50 -r 192.168.20.12 -g
run ipvsadm --start-daemon master --mcast-interface eth1 --syncid 3
others=$(ipvsadm -S -n)
their_lines=$(theirs)
daemon=$(ipvsadm -l --daemon)
expect_eq "their lines" "$(echo "$their_lines" | wc -l)" 4

web=$(rhai web <<'RHAI'
owns("192.168.10.0/24");
owns_marks(10..20);
service("192.168.10.120", 80).scheduler("rr")
    .rs(rs("192.168.10.11").dr()).rs(rs("192.168.10.12").dr());
mark(10).vip("192.168.10.121").ports([443]).scheduler("rr").persist(600)
    .rs(rs("192.168.10.11").dr());
RHAI
)

step "web.rhai (192.168.10.0/24, marks 10-19): the plan lists only its own objects"
out=$(lvsh plan "$web")
echo "$out"
expect_line "the notice" "$out" \
    "~ left alone outside the scope (192.168.10.0/24 and marks 10-19): 2 services"
expect_no_line "nothing of theirs" "$out" "192.168.20\|fwmark 50\|daemon"
expect_line "the summary" "$out" "Plan: 6 to add, 0 to change, 0 to delete."

step "apply it: ours follow the script, theirs are untouched"
lvsh_apply "$web"
expect_eq "theirs" "$(theirs)" "$their_lines"
expect_eq "the sync daemon" "$(ipvsadm -l --daemon)" "$daemon"
expect_eq "ours" "$(ours | sort)" "-A -f 10 -s rr -p 600
-A -t 192.168.10.120:80 -s rr
-a -f 10 -r 192.168.10.11:0 -g -w 1
-a -t 192.168.10.120:80 -r 192.168.10.11:80 -g -w 1
-a -t 192.168.10.120:80 -r 192.168.10.12:80 -g -w 1"
expect_eq "marks in inet lvsh" "$(marks)" "10 "
run lvsh plan "$web" --detailed-exitcode

step "change it: a weight, a new service, mark 10 becomes mark 11"
web2=$(rhai web2 <<'RHAI'
owns("192.168.10.0/24");
owns_marks(10..20);
service("192.168.10.120", 80).scheduler("rr")
    .rs(rs("192.168.10.11").dr()).rs(rs("192.168.10.12").dr().weight(3));
service("192.168.10.120", 8080).scheduler("wlc").rs(rs("192.168.10.12").dr());
mark(11).vip("192.168.10.121").ports([443]).scheduler("rr").persist(600)
    .rs(rs("192.168.10.11").dr());
RHAI
)
out=$(lvsh apply --yes "$web2")
echo "$out"
expect_line "the summary" "$out" "Applied: 5 added, 1 changed, 3 deleted."
expect_eq "theirs" "$(theirs)" "$their_lines"
expect_eq "the sync daemon" "$(ipvsadm -l --daemon)" "$daemon"
expect_eq "ours" "$(ours | sort)" "-A -f 11 -s rr -p 600
-A -t 192.168.10.120:80 -s rr
-A -t 192.168.10.120:8080 -s wlc
-a -f 11 -r 192.168.10.11:0 -g -w 1
-a -t 192.168.10.120:80 -r 192.168.10.11:80 -g -w 1
-a -t 192.168.10.120:80 -r 192.168.10.12:80 -g -w 3
-a -t 192.168.10.120:8080 -r 192.168.10.12:8080 -g -w 1"
expect_eq "marks in inet lvsh" "$(marks)" "11 "
run lvsh plan "$web2" --detailed-exitcode

step "the same script without owns(), scoped by --scope, is in sync too"
grep -v '^owns' "$web2" >"$LAB_TMP/web2-bare.rhai"
run lvsh --scope 192.168.10.0/24 --scope mark:10-19 plan "$LAB_TMP/web2-bare.rhai" --detailed-exitcode
out=$(lvsh plan "$LAB_TMP/web2-bare.rhai")
expect_line "unscoped, it would delete theirs" "$out" "- service tcp 192.168.20.1:80  wlc (and its real server)"
expect_line "and the sync daemon" "$out" "- sync daemon master           on eth1 syncid 3 maxlen 1472 group 224.0.0.81 port 8848 ttl 1"

step "empty it: everything of ours goes, the kernel is as the other team left it"
empty=$(rhai empty <<'RHAI'
owns("192.168.10.0/24");
owns_marks(10..20);
RHAI
)
lvsh_apply "$empty" --allow-mass-delete
expect_eq "ipvsadm -S -n" "$(ipvsadm -S -n)" "$others"
expect_eq "the sync daemon" "$(ipvsadm -l --daemon)" "$daemon"
expect_eq "marks in inet lvsh" "$(marks)" ""

step "a second script with a disjoint scope keeps the first one's marks"
lvsh_apply "$web"
mail=$(rhai mail <<'RHAI'
owns("192.168.30.0/24");
owns_marks([20, 21]);
mark(20).vip("192.168.30.25").ports([25, 587]).scheduler("rr").persist(60)
    .rs(rs("192.168.30.11").dr());
RHAI
)
lvsh_apply "$mail"
expect_eq "marks in inet lvsh" "$(marks)" "10 20 "
expect_eq "theirs" "$(theirs)" "$their_lines"
run lvsh plan "$web" --detailed-exitcode
run lvsh plan "$mail" --detailed-exitcode
mail_empty=$(rhai mail_empty <<'RHAI'
owns("192.168.30.0/24");
owns_marks([20, 21]);
RHAI
)
lvsh_apply "$mail_empty" --allow-mass-delete
expect_eq "marks in inet lvsh" "$(marks)" "10 "
run lvsh plan "$web" --detailed-exitcode
expect_eq "theirs" "$(theirs)" "$their_lines"
expect_eq "the sync daemon" "$(ipvsadm -l --daemon)" "$daemon"
