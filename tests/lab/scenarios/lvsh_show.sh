# `lvsh show`, `--json` and `--stats` after an apply and some traffic: the
# table as ipvsadm shows it, and the kernel's counters (64-bit) and rates.
. /lab/lib/lab.sh
topo_up

lvsh_apply "$(rhai show <<RHAI
service("$VIP", 80).scheduler("rr").rs(rs("$RS1").dr()).rs(rs("$RS2").dr().weight(2).u_threshold(50).l_threshold(20));
timeouts(900, 120, 300);
RHAI
)"
expect_alternating "client to VIP:80, six connections" "$(ask client $(repeat 6 80))"
conns() { ipvsadm -L -n --stats | awk -v at="$1" '$2 == at { print $3 }'; }
tries=0
until [ "$(conns "$VIP:80")" = 6 ] || [ "$tries" -ge 40 ]; do sleep 0.1; tries=$((tries + 1)); done
expect_eq "ipvsadm: connections to the service" "$(conns "$VIP:80")" 6

step "lvsh show"
show=$(lvsh show)
echo "$show"
expect_eq "lvsh show" "$show" "IPVS 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn PersistConn Thresholds
TCP  $VIP:80 rr
  -> $RS1:80             Route   1      0          3         0
  -> $RS2:80             Route   2      0          3         0           20/50

Timeouts (tcp tcpfin udp): 900 120 300"

step "lvsh show --stats: ipvsadm's counters (--stats) and rates (--rate)"
stats=$(lvsh show --stats)
echo "$stats"
# columns ADDR FIRST..LAST of each service and real server line, "ADDR v1 v2 ..."
cols() { awk -v from="$1" -v to="$2" '($1 == "TCP" || $1 == "->") && $2 != "RemoteAddress:Port" { s = $2; for (i = from; i <= to; i++) s = s " " $i; print s }'; }
ipvsadm_stats=$(ipvsadm -L -n --stats | cols 3 7)
echo "$ipvsadm_stats"
expect_eq "Conns InPkts OutPkts InBytes OutBytes" "$(echo "$stats" | cols 3 7)" "$ipvsadm_stats"
expect_eq "Conns: 6 to the service, 3 to each real server" "$(echo "$ipvsadm_stats" | awk '{ print $2 }' | tr '\n' ' ')" "6 3 3 "
# The rates move every 2 s: read both until one pair falls between two updates.
tries=0
while :; do
    ours=$(lvsh show --stats | cols 8 12)
    theirs=$(ipvsadm -L -n --rate | cols 3 7)
    [ "$ours" = "$theirs" ] || [ "$tries" -ge 20 ] && break
    tries=$((tries + 1))
    sleep 0.3
done
expect_eq "CPS InPPS OutPPS InBPS OutBPS" "$ours" "$theirs"
expect_ne "the service's InPPS" "$(echo "$ours" | awk 'NR == 1 { print $3 }')" 0

step "lvsh show --json --stats"
json=$(lvsh show --json --stats)
echo "$json"
# field NAME: the values of NAME in order (rs1, rs2, then the service).
field() { echo "$json" | sed -n "s/^ *\"$1\": \([0-9]*\),\{0,1\}$/\1/p" | tr '\n' ' '; }
# ipvsadm's column N, in the JSON's order (real servers, then the service).
column() { echo "$ipvsadm_stats" | awk -v n="$1" 'NR > 1 { printf "%s ", $n } END { }'; echo "$ipvsadm_stats" | awk -v n="$1" 'NR == 1 { printf "%s ", $n }'; }
expect_eq "conns" "$(field conns)" "$(column 2)"
expect_eq "inpkts" "$(field inpkts)" "$(column 3)"
expect_eq "inbytes" "$(field inbytes)" "$(column 5)"
expect_eq "inactive (InActConn)" "$(field inactive)" \
    "$(ipvsadm -L -n | awk '$1 == "->" && $2 != "RemoteAddress:Port" { printf "%s ", $6 }')"
expect_eq "weight, thresholds" "$(field weight)/$(field upper_threshold)/$(field lower_threshold)" "1 2 /50 /20 "
