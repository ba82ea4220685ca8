# Every scheduler the kernel has loads on demand, through /sbin/modprobe.
# Debian's cloud kernel has no `twos`: adding a service with it fails, and
# leaves nothing behind (the real "scheduler missing" case).
. /lab/lib/lab.sh

SCHEDULERS="rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh"

step "one service per scheduler"
port=1000
for s in $SCHEDULERS; do
    port=$((port + 1))
    quietly ipvsadm -A -t "$VIP:$port" -s "$s"
done
saved=$(ipvsadm -S -n)
echo "$saved"
port=1000
for s in $SCHEDULERS; do
    port=$((port + 1))
    expect_line "ipvsadm -S -n" "$saved" "-A -t $VIP:$port -s $s"
done
modules=$(cut -d ' ' -f 1 /proc/modules)
for s in $SCHEDULERS; do
    expect_line "/proc/modules" "$modules" "ip_vs_$s"
done

step "twos is not there"
[ ! -e "/lib/modules/$(uname -r)/kernel/net/netfilter/ipvs/ip_vs_twos.ko" ] || fail "this kernel has ip_vs_twos"
fails_with "Scheduler or persistence engine not found" ipvsadm -A -t "$VIP:2000" -s twos
expect_no_line "ipvsadm -S -n" "$(ipvsadm -S -n)" ":2000 "
