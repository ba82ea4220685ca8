# After the reboot, lvsh.service (after nftables.service) applied
# /etc/lvsh/lvsh.rhai: `ipvsadm -S -n` and `nft list table inet lvsh` hold the
# PFMC script, `lvsh plan` finds nothing to do, and with the real servers and
# clients in network namespaces, one client sticks to one real server across
# ports 80 and 443, as in the lab's lvsh_pfmc.
. /lab/lib/lab.sh

step "lvsh.service ran at boot, after nftables.service"
systemd-analyze time
systemd-analyze blame --no-pager | head -n 5
expect_eq "systemctl is-active lvsh.service" "$(systemctl is-active lvsh.service)" active
expect_eq "systemctl is-active nftables.service" "$(systemctl is-active nftables.service)" active
journalctl -b -u lvsh.service --no-pager -o cat
lvsh_at=$(systemctl show -P ExecMainStartTimestampMonotonic lvsh.service)
nft_at=$(systemctl show -P ExecMainStartTimestampMonotonic nftables.service)
[ "$nft_at" -gt 0 ] && [ "$lvsh_at" -gt "$nft_at" ] ||
    fail "lvsh.service started at $lvsh_at µs, nftables.service at $nft_at µs"
ok "nftables.service started at $nft_at µs, lvsh.service at $lvsh_at µs"

step "the kernel holds the script"
expect_eq "ipvsadm -S -n" "$(ipvsadm -S -n)" "-A -f 10 -s rr -p 1200
-a -f 10 -r $RS1:0 -g -w 1
-a -f 10 -r $RS2:0 -g -w 1"
rules=$(nft list table inet lvsh) || fail "no table inet lvsh"
echo "$rules"
expect_line "the mark rule" "$(echo "$rules" | sed 's/^[[:space:]]*//')" \
    "ip daddr $VIP tcp dport { 80, 443 } meta mark set 0x0000000a comment \"lvsh mark 10\""
run lvsh plan /etc/lvsh/lvsh.rhai --detailed-exitcode

step "client traffic sticks to one real server across 80 and 443"
topo_up
one=$(ask client $(repeat 3 80 443))
expect_same "client to VIP:80 and :443" "$one"
two=$(ask client2 $(repeat 3 443 80))
expect_same "client2 to VIP:443 and :80" "$two"
expect_ne "client2's server" "${two%% *}" "${one%% *}"
