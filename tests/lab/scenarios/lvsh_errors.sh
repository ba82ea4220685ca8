# Clear messages and exit 1 when lvsh cannot work: another apply holds the
# namespace's lock, lvsh is not root, and ip_vs is not loaded (lvsh loads it,
# as ipvsadm does, or shows modprobe's reason when it cannot).
. /lab/lib/lab.sh

step "another apply holds the lock"
ino=$(stat -L -c %i /proc/self/ns/net)
lock=/run/lvsh/netns-$ino.lock
mkdir -p /run/lvsh
# The shell itself holds it on fd 9, as another lvsh would.
exec 9>"$lock"
run flock -n 9
fails_with "is still at work in this network namespace" \
    lvsh apply --yes "$SCRIPTS/ppc.rhai"
expect_eq "ipvsadm -S -n while locked" "$(ipvsadm -S -n)" ""
run lvsh plan "$SCRIPTS/ppc.rhai"
exec 9>&-
lvsh_apply "$SCRIPTS/ppc.rhai"

step "one lock per namespace, whether named or entered"
run ip netns add x
run on x ip link set lo up
exec 9>"/run/lvsh/netns-$(stat -L -c %i /run/netns/x).lock"
run flock -n 9
fails_with "is still at work in this network namespace" \
    lvsh --netns x apply --yes "$SCRIPTS/ppc.rhai"
fails_with "is still at work in this network namespace" \
    nsenter --net=/run/netns/x lvsh apply --yes "$SCRIPTS/ppc.rhai"
expect_eq "x: ipvsadm -S -n while locked" "$(on x ipvsadm -S -n)" ""
lvsh_apply "$SCRIPTS/pcc.rhai"
exec 9>&-
lvsh_apply --netns x "$SCRIPTS/ppc.rhai"
run lvsh plan "$SCRIPTS/pcc.rhai" --detailed-exitcode

step "not root"
# A user namespace of its own: uid 65534, no capability over this network namespace.
fails_with "lvsh needs root" unshare --user lvsh plan "$SCRIPTS/pcc.rhai"
fails_with "lvsh needs root" unshare --user lvsh apply --yes "$SCRIPTS/ppc.rhai"
fails_with "lvsh needs root" unshare --user lvsh show
fails_with "lvsh needs root" unshare --user lvsh save
expect_eq "ipvsadm -S -n (unchanged)" "$(ipvsadm -S -n)" "-A -t $VIP:0 -s rr -p 600
-a -t $VIP:0 -r $RS1:0 -g -w 1
-a -t $VIP:0 -r $RS2:0 -g -w 1"

step "ip_vs not loaded: lvsh loads it"
run ipvsadm -C
run on x ipvsadm -C
# The services of scenarios that ran before may take a moment to go with their namespaces.
unload() {
    for m in $(lsmod | awk '$1 ~ /^ip_vs_/ { print $1 }'); do rmmod "$m" 2>/dev/null; done
    rmmod ip_vs 2>/dev/null
}
tries=0
until unload; ! lsmod | grep -q '^ip_vs ' || [ "$tries" -ge 50 ]; do sleep 0.2; tries=$((tries + 1)); done
lsmod | grep -q '^ip_vs ' && fail "ip_vs stays loaded: $(lsmod | grep ip_vs)"
ok "ip_vs unloaded"
# A modprobe that cannot find it, as on a kernel without IPVS: lvsh says so in
# modprobe's own words, and what to do.
cat >"$LAB_TMP/modprobe" <<SH
#!/bin/sh
echo "modprobe: FATAL: Module \$2 not found in directory /lib/modules/$(uname -r)" >&2
exit 1
SH
chmod +x "$LAB_TMP/modprobe"
modprobe_was=$(cat /proc/sys/kernel/modprobe)
echo "$LAB_TMP/modprobe" >/proc/sys/kernel/modprobe
out=$(lvsh plan "$SCRIPTS/ppc.rhai" 2>&1)
status=$?
echo "$modprobe_was" >/proc/sys/kernel/modprobe
echo "$out"
expect_eq "lvsh plan when ip_vs cannot be loaded: exit status" "$status" 1
# Without spaces and miette's margins: it wraps long words (the path) too.
flat=$(printf '%s' "$out" | tr -d ' \n|')
want=$(printf '%s' "the kernel has no IPVS: module \`ip_vs\` is not loaded and cannot be: modprobe: FATAL: Module ip_vs not found in directory /lib/modules/$(uname -r) help: the running kernel has no \`ip_vs\` module" | tr -d ' ')
case $flat in
    *"$want"*) ok "says IPVS is missing, why in modprobe's words, and what to do" ;;
    *) fail "no clear message about the missing ip_vs" ;;
esac
out=$(lvsh apply --yes "$SCRIPTS/ppc.rhai" 2>&1)
status=$?
echo "$out"
loaded=$(lsmod | awk '$1 == "ip_vs" { print "ip_vs loaded" }')
# The scenarios after this one expect ip_vs loaded, as the VM's init leaves it.
[ -n "$loaded" ] || modprobe ip_vs
expect_eq "after lvsh apply" "$loaded" "ip_vs loaded"
expect_eq "lvsh apply without ip_vs: exit status" "$status" 0
expect_eq "ipvsadm -S -n" "$(ipvsadm -S -n)" "-A -t $VIP:80 -s rr -p 120
-a -t $VIP:80 -r $RS1:80 -g -w 1
-a -t $VIP:80 -r $RS2:80 -g -w 1"
