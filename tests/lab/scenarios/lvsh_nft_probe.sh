# lvsh starts `nft` only when the namespace has table `inet lvsh` or the plan
# writes it: an nfnetlink request says whether the table is there, and most
# balancers have no marks. Watched through an `nft` on PATH that logs its
# arguments before running the real one.
. /lab/lib/lab.sh

mkdir -p "$LAB_TMP/spy"
cat >"$LAB_TMP/spy/nft" <<SH
#!/bin/sh
echo "\$*" >>"$LAB_TMP/nft.log"
exec /usr/sbin/nft "\$@"
SH
chmod +x "$LAB_TMP/spy/nft"
export PATH="$LAB_TMP/spy:$PATH"
: >"$LAB_TMP/nft.log"
calls() { cat "$LAB_TMP/nft.log"; : >"$LAB_TMP/nft.log"; }

step "no table: plan, apply and a no-op apply of a script without marks start no nft"
run lvsh plan "$SCRIPTS/ppc.rhai"
lvsh_apply "$SCRIPTS/ppc.rhai"
expect_eq "apply again" "$(lvsh apply --yes "$SCRIPTS/ppc.rhai")" \
    "No changes. The kernel matches the script."
expect_eq "nft runs" "$(calls)" ""

step "a script with marks: nft writes the table, and reads it from then on"
lvsh_apply "$SCRIPTS/pfmc.rhai"
expect_line "the table is written" "$(calls)" "-j -f /proc/self/fd/0"
run lvsh plan "$SCRIPTS/pfmc.rhai" --detailed-exitcode
expect_line "the table is read" "$(calls)" "-j list table inet lvsh"

step "back to the script without marks: the table is read and deleted, then no nft again"
run lvsh plan "$SCRIPTS/ppc.rhai"
expect_line "the plan reads the table" "$(calls)" "-j list table inet lvsh"
lvsh_apply "$SCRIPTS/ppc.rhai"
expect_eq "the table is gone" "$(/usr/sbin/nft list tables)" ""
: >"$LAB_TMP/nft.log"
run lvsh plan "$SCRIPTS/ppc.rhai" --detailed-exitcode
expect_eq "nft runs" "$(calls)" ""

step "another tool's table of the same name in another family is not lvsh's"
run /usr/sbin/nft add table ip lvsh
run lvsh plan "$SCRIPTS/ppc.rhai" --detailed-exitcode
expect_eq "nft runs" "$(calls)" ""
