# Lists table `inet lvsh` as nft itself prints it (`nft -j list`), for the seeds of
# the nft_json target: the mark tables lvsh writes, then the same tables with what
# lvsh never writes. Needs root and nft; runs inside `unshare -n`.
# usage: unshare -n bash nft.sh LVSH OUT_DIR SCRIPT...
set -euo pipefail
lvsh=$1 out=$2
shift 2
for script in "$@"; do
    name=$(basename "$script" .rhai)
    "$lvsh" emit "$script" --to nft >"$out/$name.nft"
    grep -q "table inet lvsh {" "$out/$name.nft" || { rm "$out/$name.nft"; continue; }
    nft -f "$out/$name.nft"
    rm "$out/$name.nft"
    nft -j list table inet lvsh >"$out/$name.json"
    nft add set inet lvsh vips '{ type ipv4_addr; }'
    nft add rule inet lvsh prerouting ip saddr 10.9.9.9 counter drop
    nft add rule inet lvsh prerouting ip daddr 10.0.0.1 tcp dport 80 meta mark set 99 comment '"lvsh mark 98"'
    nft add chain inet lvsh output '{ type route hook output priority mangle; policy accept; }'
    nft add rule inet lvsh output meta l4proto udp th dport '{ 53, 5353-5355 }' meta mark set 7 comment '"lvsh mark 7"'
    nft -j list table inet lvsh >"$out/$name-foreign.json"
    nft delete table inet lvsh
done
nft add table inet lvsh '{ flags dormant; }'
nft add chain inet lvsh prerouting '{ type filter hook prerouting priority 0; policy drop; }'
nft add rule inet lvsh prerouting ip6 daddr '{ 2001:db8::1, 2001:db8::2 }' meta l4proto '{ tcp, sctp }' \
    th dport '{ 1-1024 }' meta mark set 0xffffffff comment '"lvsh mark 4294967295: all"'
nft -j list table inet lvsh >"$out/odd-table.json"
