# A server whose check flaps on every probe never gets a weight above 0 (rise 2),
# and while no server is up the service's sorry server is in; it leaves when a
# server rises.
# lab-timeout: 150
. /lab/lib/lab.sh
. /lab/lib/watch.sh
topo_up

step "rs3, the sorry server, beside rs1 and rs2"
RS3=192.168.10.13
quietly ip netns add rs3
quietly ip link add v-rs3-eth0 type veth peer name eth0 netns rs3
quietly ip link set v-rs3-eth0 master br0 up
echo "link set lo up
addr add $RS3/24 dev eth0
link set eth0 up
route add default via $ROUTER
addr add $VIP/32 dev lo" | on rs3 /usr/sbin/ip -batch - || fail "rs3's addresses"
quietly on rs3 sysctl -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
mkdir -p "$LAB_TMP/www/rs3" && echo rs3 >"$LAB_TMP/www/rs3/index.html"
on rs3 httpd -f -p 80 -h "$LAB_TMP/www/rs3" &
sleep 0.5

# The flapping check: fails and passes in turn, one call each.
cat >"$LAB_TMP/flap" <<'SH'
#!/bin/sh
f=/tmp/flap.state
if [ -e "$f" ]; then rm "$f"; exit 1; else : >"$f"; exit 0; fi
SH
chmod +x "$LAB_TMP/flap"
rm -f /tmp/flap.state

S="-t $VIP:80"
rhai lb <<RHAI >/dev/null
service("$VIP", 80).scheduler("rr")
    .check(http("/").every(1).timeout(0.5).rise(2).fall(2))
    .rs(rs("$RS1").dr().check(exec("$LAB_TMP/flap", []).every(1).timeout(0.5)))
    .rs(rs("$RS2").dr())
    .sorry(rs("$RS3").dr());
RHAI

step "watch starts on an empty kernel: nothing is up yet, so the sorry server is in"
watch_start "$LAB_TMP/lb.rhai"
expect_eq "rs3 (sorry) right after the start" "$(weight_of "$S" "$RS3:80")" 1

step "rs2 rises: the sorry server leaves"
await_weight "$S" "$RS2:80" 1 10
await_weight "$S" "$RS3:80" absent 5
expect_same "client to VIP:80" "$(ask client $(repeat 4 80))"

step "rs1 flaps on every probe for 10 s: never above 0"
i=0
while [ $i -lt 20 ]; do
    w=$(weight_of "$S" "$RS1:80")
    [ "$w" = 0 ] || fail "rs1 reached weight $w while flapping"
    sleep 0.5
    i=$((i + 1))
done
ok "rs1 stayed at weight 0 through 10 s of flapping"
expect_no_line "the log" "$(cat "$WATCH_LOG")" "rs $RS1:80 of tcp $VIP:80: .* -> up"

step "rs2 goes down too: no server is up, the sorry server comes back"
httpd_stop rs2 80
await_weight "$S" "$RS2:80" 0 10
await_weight "$S" "$RS3:80" 1 5
expect_eq "client to VIP:80" "$(ask client 80)" rs3

step "rs2 rises again: the sorry server leaves"
httpd_start rs2 80
await_weight "$S" "$RS2:80" 1 10
await_weight "$S" "$RS3:80" absent 5
expect_eq "client to VIP:80" "$(ask client 80)" rs2
watch_stop TERM
