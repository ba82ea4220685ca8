# `lvsh emit --to ipvsadm` prints the lines in the order `ipvsadm -S -n` prints
# them, line for line, also where ipvsadm's comparison wraps (192.168.x sorts
# before 10.x, b000:: before 2001:db8::), whichever order the kernel holds them in.
. /lab/lib/lab.sh

cat >"$LAB_TMP/wrap.rules" <<'RULES'
-A -t 10.1.1.1:80 -s rr
-a -t 10.1.1.1:80 -r 192.168.1.2:80 -m -w 1
-a -t 10.1.1.1:80 -r 10.1.2.1:80 -m -w 1
-a -t 10.1.1.1:80 -r 172.16.0.9:8080 -m -w 1
-a -t 10.1.1.1:80 -r 10.1.2.1:79 -m -w 1
-A -t 192.168.10.120:80 -s wlc
-A -t 172.16.0.1:443 -s rr
-A -u 192.168.10.120:53 -s rr
-A -u 10.1.1.1:53 -s rr
-A -t [2001:db8::1]:80 -s rr
-A -t [b000::1]:80 -s rr
-A -t [fd00::1]:80 -s rr
-a -t [fd00::1]:80 -r [2001:db8::10]:80 -m -w 1
-a -t [fd00::1]:80 -r [fd00::10]:80 -m -w 1
-a -t [fd00::1]:80 -r [b000::10]:80 -m -w 1
-A -f 10 -s rr
-A -f 10 -6 -s rr
-A -f 7 -s rr
-A -f 2147483647 -s rr
RULES

step "restored by ipvsadm -R"
run ipvsadm -R <"$LAB_TMP/wrap.rules"
ipvsadm -S -n
lvsh import "$LAB_TMP/wrap.rules" >"$LAB_TMP/wrap.rhai" || fail "lvsh import failed"
expect_eq "emit --to ipvsadm = ipvsadm -S -n, line for line" \
    "$(lvsh emit "$LAB_TMP/wrap.rhai" --to ipvsadm)" "$(ipvsadm -S -n)"

step "applied by lvsh, in its own order"
run ipvsadm -C
lvsh_apply "$LAB_TMP/wrap.rhai"
expect_eq "emit --to ipvsadm = ipvsadm -S -n, line for line" \
    "$(lvsh emit "$LAB_TMP/wrap.rhai" --to ipvsadm)" "$(ipvsadm -S -n)"
