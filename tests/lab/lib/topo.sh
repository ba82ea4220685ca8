# The LVS-DR topology of the classic persistence article, inside the VM:
#
#  client  10.0.0.2 ──┐                               ┌── director 192.168.10.1 + VIP 192.168.10.120
#                     ├── br1 ── router ── br0 ───────┼── rs1 192.168.10.11 (VIP on lo)
#  client2 10.0.0.3 ──┘   10.0.0.1   192.168.10.254   └── rs2 192.168.10.12 (VIP on lo)
#
# The director is the scenario's own namespace and holds both bridges (br0
# with its address and the VIP; br1 only switches). The others are named
# namespaces on veth pairs. Clients reach the VIP through the router, whose
# ARP for it only the director answers: the real servers hold the VIP on `lo`
# with arp_ignore=1 and arp_announce=2. They reply straight to the client
# through the router, so the director sees only the inbound half, as in a
# real LVS-DR site. (For NAT, make the director the real servers' gateway.)
# Each real server answers TCP 80 and 443 with its name (busybox httpd: a
# process per connection, so any number of requests in a row works).

VIP=192.168.10.120
DIP=192.168.10.1
RS1=192.168.10.11
RS2=192.168.10.12
ROUTER=192.168.10.254
GW=10.0.0.1
CLIENT=10.0.0.2
CLIENT2=10.0.0.3

# on NS CMD...: runs CMD in the named namespace (`ip netns exec` crashes in the VM).
on() { _ns=$1; shift; nsenter --net="/run/netns/$_ns" "$@"; }

# topo_up: builds the topology and waits until every real server answers.
topo_up() {
    # One `ip -batch` per namespace: under emulation every `ip` costs ~0.1 s.
    _batch="link add br0 type bridge
link set br0 up
addr add $DIP/24 dev br0
addr add $VIP/32 dev br0
link add br1 type bridge
link set br1 up
route add default via $ROUTER"
    for _ns in router rs1 rs2 client client2; do
        _batch="$_batch
netns add $_ns"
    done
    for _link in "router eth0 br1" "router eth1 br0" "rs1 eth0 br0" "rs2 eth0 br0" \
        "client eth0 br1" "client2 eth0 br1"; do
        set -- $_link
        _batch="$_batch
link add v-$1-$2 type veth peer name $2 netns $1
link set v-$1-$2 master $3 up"
    done
    _topo_ip "" "$_batch"
    _topo_ip router "link set lo up
addr add $GW/24 dev eth0
link set eth0 up
addr add $ROUTER/24 dev eth1
link set eth1 up"
    quietly on router sysctl -w net.ipv4.ip_forward=1
    for _host in "rs1 $RS1 $ROUTER" "rs2 $RS2 $ROUTER" "client $CLIENT $GW" "client2 $CLIENT2 $GW"; do
        set -- $_host
        _topo_ip "$1" "link set lo up
addr add $2/24 dev eth0
link set eth0 up
route add default via $3"
    done
    for _rs in rs1 rs2; do
        _topo_ip "$_rs" "addr add $VIP/32 dev lo"
        quietly on "$_rs" sysctl -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
        mkdir -p "$LAB_TMP/www/$_rs"
        echo "$_rs" >"$LAB_TMP/www/$_rs/index.html"
        for _port in 80 443; do
            on "$_rs" httpd -f -p "$_port" -h "$LAB_TMP/www/$_rs" &
        done
    done
    for _rs in "rs1 $RS1" "rs2 $RS2"; do
        for _port in 80 443; do
            _topo_await ${_rs% *} ${_rs#* } $_port
        done
    done
    ok "topology up: director $DIP + VIP $VIP, rs1 $RS1, rs2 $RS2, client $CLIENT, client2 $CLIENT2 (via router)"
}

# topo_reset: empties IPVS and nftables; the topology stays. The kernel keeps
# persistence templates until they expire, and they come back to life when the
# same destination is added again: a proof that needs none belongs in a
# scenario of its own (each starts in a fresh namespace).
topo_reset() {
    quietly ipvsadm -C
    quietly nft flush ruleset
    ok "reset: IPVS and nftables empty"
}

_topo_ip() { # NS COMMANDS: `ip -batch` in the namespace, or in the director for ""
    if [ -n "$1" ]; then
        _out=$(echo "$2" | on "$1" /usr/sbin/ip -batch - 2>&1)
    else
        _out=$(echo "$2" | ip -batch - 2>&1)
    fi || {
        echo "$2" | sed "s/^/+ ip ${1:+-n $1 }/"
        echo "$_out"
        fail "ip -batch failed in ${1:-the director}"
    }
}

_topo_await() { # NAME ADDR PORT: asked from the director, straight to the server
    _i=0
    until [ "$(_get "$2" "$3")" = "$1" ]; do
        _i=$((_i + 1))
        [ "$_i" -lt 100 ] || fail "$1 does not answer on $2:$3"
        sleep 0.1
    done
}

# _get ADDR PORT [NS]: one HTTP request on a new connection, from namespace NS
# or else the director; prints the answer's last line (the server's name).
_get() {
    _at=
    [ -n "${3:-}" ] && _at="on $3"
    printf 'GET / HTTP/1.0\r\n\r\n' | $_at timeout 5 nc -w 2 "$1" "$2" 2>/dev/null |
        tail -n 1 | tr -d '\r' | tr ' ' _
}

# ask NS PORT...: one request from namespace NS to the VIP per PORT; prints
# who answered, space separated ("-": no answer).
ask() {
    _ns=$1; shift
    _answers=
    for _port; do
        _a=$(_get "$VIP" "$_port" "$_ns")
        _answers="$_answers ${_a:--}"
    done
    echo "${_answers# }"
}

# repeat N WORD...: the words, N times over (`ask client $(repeat 3 80 443)`).
repeat() {
    _n=$1; shift
    _out=
    while [ "$_n" -gt 0 ]; do _out="$_out $*"; _n=$((_n - 1)); done
    echo "${_out# }"
}

# expect_alternating WHAT ANSWERS: never the same server twice in a row, and more than one.
expect_alternating() {
    _prev= _seen=
    for _a in $2; do
        [ "$_a" != - ] || fail "$1: a request got no answer ($2)"
        [ "$_a" != "$_prev" ] || fail "$1: $_a answered twice in a row ($2)"
        _prev=$_a
        case " $_seen " in *" $_a "*) ;; *) _seen="$_seen $_a" ;; esac
    done
    [ "$(echo $_seen | wc -w)" -ge 2 ] || fail "$1: only$_seen answered ($2)"
    ok "$1: alternates ($2)"
}

# expect_same WHAT ANSWERS: one server answered every request.
expect_same() {
    _first=${2%% *}
    for _a in $2; do
        [ "$_a" = "$_first" ] && [ "$_a" != - ] || fail "$1: not one server ($2)"
    done
    ok "$1: always $_first ($2)"
}

# expect_none WHAT ANSWERS: no request got an answer.
expect_none() {
    for _a in $2; do
        [ "$_a" = - ] || fail "$1: $_a answered ($2)"
    done
    ok "$1: no answer ($2)"
}

# Connections held open through the VIP, for proofs that a change keeps them.

# echo_servers: port 7 on rs1 and rs2 says the server's name, then echoes; a
# process per connection.
echo_servers() {
    for _r in rs1 rs2; do
        printf '#!/bin/sh\necho %s\nexec cat\n' "$_r" >"$LAB_TMP/hello-$_r"
        chmod +x "$LAB_TMP/hello-$_r"
        on "$_r" nc -ll -p 7 -e "$LAB_TMP/hello-$_r" &
    done
}

# connect N: a connection from client to VIP:7 held open by a fifo on fd N+4; what
# it receives goes to $LAB_TMP/out.N, nc's pid to $LAB_TMP/pid.N (to end it later).
connect() {
    mkfifo "$LAB_TMP/in.$1"
    on client sh -c 'echo $$ >"$1"; exec nc "$2" 7' sh "$LAB_TMP/pid.$1" "$VIP" \
        <"$LAB_TMP/in.$1" >"$LAB_TMP/out.$1" 2>&1 &
    eval "exec $(($1 + 4))>\"$LAB_TMP/in.$1\""
}

# say N WORD: sends WORD on connection N and waits for its echo.
say() {
    echo "$2" >&$(($1 + 4))
    _i=0
    until grep -qx "$2" "$LAB_TMP/out.$1"; do
        _i=$((_i + 1))
        [ "$_i" -lt 50 ] || { cat "$LAB_TMP/out.$1"; fail "connection $1: no echo of $2"; }
        sleep 0.1
    done
    ok "connection $1 ($(head -n 1 "$LAB_TMP/out.$1")) echoes $2"
}

# hello: the name of the server a new short connection to VIP:7 reaches.
hello() { on client timeout 3 sh -c "sleep 1 | nc $VIP 7" 2>/dev/null | head -n 1; }
