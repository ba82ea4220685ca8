# nft's JSON input, as lvsh sends it: `nft -j -f` creates the mark table in
# one transaction, `nft -j list` reads it back, and a batch with an error
# anywhere changes nothing.
. /lab/lib/lab.sh

cat >"$LAB_TMP/mark.json" <<JSON
{"nftables": [
  {"add": {"table": {"family": "inet", "name": "lvsh"}}},
  {"add": {"chain": {"family": "inet", "table": "lvsh", "name": "prerouting",
    "type": "filter", "hook": "prerouting", "prio": -150, "policy": "accept"}}},
  {"add": {"rule": {"family": "inet", "table": "lvsh", "chain": "prerouting", "expr": [
    {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": "$VIP"}},
    {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": {"set": [80, 443]}}},
    {"mangle": {"key": {"meta": {"key": "mark"}}, "value": 10}}
  ]}}}
]}
JSON
run nft -j -f "$LAB_TMP/mark.json"
expect_line "nft list" "$(nft list table inet lvsh | sed 's/^[[:space:]]*//')" \
    "ip daddr $VIP tcp dport { 80, 443 } meta mark set 0x0000000a"
json=$(nft -j list table inet lvsh)
case $json in
    *'"mangle"'*'"value": 10'*) ok "nft -j list: the rule reads back as JSON" ;;
    *) echo "$json"; fail "nft -j list: no mangle of the mark to 10" ;;
esac

step "a batch that fails half-way changes nothing"
cat >"$LAB_TMP/broken.json" <<JSON
{"nftables": [
  {"add": {"table": {"family": "inet", "name": "other"}}},
  {"add": {"rule": {"family": "inet", "table": "lvsh", "chain": "no-such-chain", "expr": [{"accept": null}]}}}
]}
JSON
fails_with "No such file or directory" nft -j -f "$LAB_TMP/broken.json"
expect_no_line "tables after the failed batch" "$(nft list tables)" "other"
