# Two sites from one locked recipe library, each on its own director (network
# namespace), then an upgrade of the library applied to one of them. The site
# repositories were made on the host by tests/lab/recipes/prepare.sh with the
# real workflow (`lvsh recipes add`, `vendor`, then `update` to 1.1.0, which
# adds port 443 to the recipe's default ports); these directors have no git and
# read only the vendored copies.
# lab-timeout: 90
. /lab/lib/lab.sh
topo_up
BEFORE=/lab/recipes/before
AFTER=/lab/recipes/after

step "no git here: the vendored library verifies on its own"
expect_eq "git" "$(command -v git || echo none)" none
out=$(cd "$BEFORE" && lvsh recipes verify)
expect_line "recipes verify" "$out" "labweb 1.0.0 verified (vendor/lvsh/labweb)"

step "site lab1 (library 1.0.0) on this director: HTTP sticks to one server, 443 is not balanced"
run sh -c "cd $BEFORE && lvsh apply --yes sites/lab1.toml"
expect_eq "ipvsadm -S -n" "$(ipvsadm -S -n)" "-A -f 10 -s rr -p 1200
-a -f 10 -r $RS1:0 -g -w 1
-a -f 10 -r $RS2:0 -g -w 1"
one=$(ask client $(repeat 4 80))
expect_same "client to VIP:80" "$one"
two=$(ask client2 $(repeat 4 80))
expect_same "client2 to VIP:80" "$two"
expect_ne "client2's server" "${two%% *}" "${one%% *}"
expect_none "client to VIP:443 (not in 1.0.0's ports)" "$(ask client 443 443)"

step "site lab2 (same library, its own values) on a second director"
run ip netns add site2
run on site2 ip link set lo up
run sh -c "cd $BEFORE && lvsh --netns site2 apply --yes sites/lab2.toml"
site2=$(on site2 ipvsadm -S -n)
expect_eq "site2: ipvsadm -S -n" "$site2" "-A -f 10 -s rr -p 600
-a -f 10 -r 192.168.20.11:0 -g -w 1
-a -f 10 -r 192.168.20.12:0 -g -w 1
-a -f 10 -r 192.168.20.13:0 -g -w 1"
expect_line "site2: the mark rule" "$(on site2 nft list table inet lvsh | sed 's/^[[:space:]]*//')" \
    "ip daddr 192.168.20.120 tcp dport 80 meta mark set 0x0000000a comment \"lvsh mark 10\""

step "a tampered vendored recipe is refused before anything is evaluated"
cp -R "$AFTER" "$LAB_TMP/tampered"
sed -i 's/"default": 1200/"default": 30/' "$LAB_TMP/tampered/vendor/lvsh/labweb/recipes/web.rhai"
fails_with "modified: recipes/web.rhai" sh -c "cd $LAB_TMP/tampered && lvsh plan sites/lab1.toml"
fails_with "modified: recipes/web.rhai" sh -c "cd $LAB_TMP/tampered && lvsh apply --yes sites/lab1.toml"
expect_eq "ipvsadm -S -n, untouched" "$(ipvsadm -S -n)" "-A -f 10 -s rr -p 1200
-a -f 10 -r $RS1:0 -g -w 1
-a -f 10 -r $RS2:0 -g -w 1"

step "the upgrade to 1.1.0, applied to lab1 only: 443 joins the mark, and sticks with 80"
out=$(cd "$AFTER" && lvsh recipes verify)
expect_line "recipes verify" "$out" "labweb 1.1.0 verified (vendor/lvsh/labweb)"
out=$(cd "$AFTER" && lvsh plan sites/lab1.toml)
echo "$out"
expect_line "the plan" "$out" "Plan: 0 to add, 1 to change, 0 to delete."
run sh -c "cd $AFTER && lvsh apply --yes sites/lab1.toml"
expect_eq "ipvsadm -S -n (no IPVS change)" "$(ipvsadm -S -n)" "-A -f 10 -s rr -p 1200
-a -f 10 -r $RS1:0 -g -w 1
-a -f 10 -r $RS2:0 -g -w 1"
expect_line "the mark rule" "$(nft list table inet lvsh | sed 's/^[[:space:]]*//')" \
    "ip daddr $VIP tcp dport { 80, 443 } meta mark set 0x0000000a comment \"lvsh mark 10\""
both=$(ask client $(repeat 3 443 80))
expect_same "client to VIP:443 and :80 (its persistence template from before)" "$both"
expect_eq "client's server" "${both%% *}" "${one%% *}"
expect_same "client2 to VIP:80 and :443" "$(ask client2 $(repeat 3 80 443))"

step "lab2 stays on 1.0.0: its director is untouched and in sync"
expect_eq "site2: ipvsadm -S -n" "$(on site2 ipvsadm -S -n)" "$site2"
run sh -c "cd $BEFORE && lvsh --netns site2 plan --detailed-exitcode sites/lab2.toml"
out=$(cd "$AFTER" && lvsh --netns site2 plan sites/lab2.toml)
echo "$out"
expect_line "what 1.1.0 would do to lab2" "$out" "Plan: 0 to add, 1 to change, 0 to delete."
