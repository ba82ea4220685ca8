# After `lvsh apply` of each example in scripts/, `lvsh emit --to ipvsadm`
# equals `ipvsadm -S -n` line for line; changes made by hand with ipvsadm
# show in `lvsh plan` as exactly that drift (exit 2), and `lvsh apply` repairs it.
# lab-timeout: 120
. /lab/lib/lab.sh

# generated.rhai's sync daemon needs an `eth1`.
run ip link add eth1 type dummy
run ip link set eth1 up

for name in ppc pcc pfmc nat-farm dual-stack generated; do
    step "scripts/$name.rhai"
    file=$SCRIPTS/$name.rhai
    # Each example replaces the previous one whole: a mass delete, deliberately.
    quietly lvsh apply --yes --allow-mass-delete "$file"
    emitted=$(lvsh emit "$file" --to ipvsadm 2>/dev/null)
    kernel=$(ipvsadm -S -n)
    if [ "$emitted" = "$kernel" ]; then
        ok "emit --to ipvsadm = ipvsadm -S -n ($(echo "$kernel" | wc -l) lines)"
    else
        diff -u "$(echo "$emitted" >"$LAB_TMP/e"; echo "$LAB_TMP/e")" \
            "$(echo "$kernel" >"$LAB_TMP/k"; echo "$LAB_TMP/k")"
        fail "emit --to ipvsadm and ipvsadm -S -n differ (above)"
    fi
    run lvsh plan "$file" --detailed-exitcode
done
expect_eq "generated.rhai's daemon" "$(ipvsadm -l --daemon)" \
    "master sync daemon (mcast=eth1, syncid=7, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)"

step "drift by hand: a weight, a new real server, a deleted service"
file=$SCRIPTS/nat-farm.rhai
quietly lvsh apply --yes --allow-mass-delete "$file"
saved=$(ipvsadm -S -n)
run ipvsadm -e -t 198.51.100.80:80 -r 10.10.0.3:8080 -m -w 7 -x 2000 -y 1500
run ipvsadm -a -t 198.51.100.80:80 -r 10.10.0.9:8080 -m
run ipvsadm -D -t 198.51.100.80:8443
plan=$(lvsh plan "$file" --detailed-exitcode)
status=$?
echo "$plan"
expect_eq "lvsh plan --detailed-exitcode" "$status" 2
expect_eq "the drift, and only it" "$plan" \
"  service tcp 198.51.100.80:80
~   rs 10.10.0.3:8080             weight 7 → 50
-   rs 10.10.0.9:8080             nat weight 1
+ service tcp 198.51.100.80:8443  sed persist 300
+   rs 10.10.0.1:9443             nat weight 100
+   rs 10.10.0.2:9443             nat weight 100
+   rs 10.10.0.3:9443             nat weight 50
+   rs 10.10.0.4:9443             nat weight 0
Plan: 5 to add, 1 to change, 1 to delete."
run lvsh apply --yes "$file"
run lvsh plan "$file" --detailed-exitcode
expect_eq "ipvsadm -S -n after the repair" "$(ipvsadm -S -n)" "$saved"

step "drift in the owned nft table: a hand-made rule and a changed mark"
file=$SCRIPTS/pfmc.rhai
quietly lvsh apply --yes --allow-mass-delete "$file"
saved_nft=$(nft list table inet lvsh)
run nft add rule inet lvsh prerouting ip saddr 10.9.9.9 drop
run nft add rule inet lvsh prerouting ip daddr 192.168.10.121 tcp dport 25 meta mark set 10
plan=$(lvsh plan "$file" --detailed-exitcode)
status=$?
echo "$plan"
expect_eq "lvsh plan --detailed-exitcode" "$status" 2
expect_eq "the plan: the hand-made rules, nothing else" "$plan" \
"~ table inet lvsh holds 2 objects lvsh did not write; apply removes them:
    rule in chain \`prerouting\` (handle 4): no \`lvsh mark N\` comment: \`ip saddr 10.9.9.9 drop\`
    rule in chain \`prerouting\` (handle 5): no \`lvsh mark N\` comment: \`ip daddr 192.168.10.121 tcp dport 25 meta mark set 0x0000000a\`"
run lvsh apply --yes "$file"
run lvsh plan "$file" --detailed-exitcode
expect_eq "nft list table inet lvsh after the repair" "$(nft list table inet lvsh)" "$saved_nft"

step "--merge adds and changes, deletes nothing; --dry-run changes nothing"
quietly lvsh apply --yes --allow-mass-delete "$SCRIPTS/ppc.rhai"
before=$(ipvsadm -S -n)
run lvsh apply --yes --dry-run "$SCRIPTS/pcc.rhai"
expect_eq "ipvsadm -S -n after --dry-run" "$(ipvsadm -S -n)" "$before"
run lvsh apply --yes --merge "$SCRIPTS/pcc.rhai"
expect_eq "ipvsadm -S -n after --merge" "$(ipvsadm -S -n | sort)" "$( (echo "$before"; lvsh emit "$SCRIPTS/pcc.rhai" --to ipvsadm 2>/dev/null) | sort)"
run lvsh plan --merge "$SCRIPTS/pcc.rhai" --detailed-exitcode
