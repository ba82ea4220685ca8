# A read of many services spreads the destination dumps over one socket per CPU
# (up to four): with the lab's two vCPUs `lvsh save` of 301 services reads over
# two sockets, pinned to one CPU over one, and both read exactly what
# `ipvsadm -S -n` shows, in the lab's namespace and through `--netns`. The
# services are listed on a socket of their own in 32 KiB datagrams; the
# destinations come in datagrams of a page, so the service of 400 destinations
# takes some forty.
# lab-timeout: 120
. /lab/lib/lab.sh

# same_file WHAT A B: files A and B are equal, else a diff and a failure.
same_file() {
    if cmp -s "$2" "$3"; then
        ok "$1 ($(wc -l <"$2") lines)"
    else
        diff -u "$2" "$3" | head -40
        fail "$1: they differ (above)"
    fi
}

step "300 services of 1 to 4 destinations and one of 400, made by ipvsadm -R"
awk 'BEGIN {
    for (i = 0; i < 300; i++) {
        vip = sprintf("10.2.%d.%d", int(i / 200), i % 200 + 1)
        proto = (i % 3 == 2) ? "-u" : "-t"
        printf "-A %s %s:%d -s wrr\n", proto, vip, 80 + i % 7
        for (j = 0; j <= i % 4; j++)
            printf "-a %s %s:%d -r 10.3.%d.%d:8080 -m -w %d -x %d\n", proto, vip, 80 + i % 7, j, i % 250 + 1, (i + j) % 9, i * 3 + j
    }
    print "-A -t 10.9.0.1:443 -s wlc"
    for (j = 0; j < 400; j++)
        printf "-a -t 10.9.0.1:443 -r 10.4.%d.%d:443 -m -w %d -x %d -y %d\n", int(j / 200), j % 200 + 1, j % 50, j + 1000, j
}' >"$LAB_TMP/rules"
run ipvsadm -R <"$LAB_TMP/rules"
expect_eq "services in the kernel" "$(ipvsadm -S -n | grep -c '^-A')" 301
expect_eq "destinations in the kernel" "$(ipvsadm -S -n | grep -c '^-a')" 1150

step "lvsh save over two sockets, and pinned to one CPU over one"
lvsh save >"$LAB_TMP/two.rhai" || fail "lvsh save exited with status $?"
taskset 1 lvsh save >"$LAB_TMP/one.rhai" || fail "taskset 1 lvsh save exited with status $?"
expect_eq "the vCPUs this shell may use (a mask: two, so the first save had two)" "$(taskset -p $$ | sed "s/.*: //")" 3
same_file "saved over two sockets = saved over one" "$LAB_TMP/two.rhai" "$LAB_TMP/one.rhai"
lvsh emit "$LAB_TMP/two.rhai" --to ipvsadm >"$LAB_TMP/emitted" 2>/dev/null
ipvsadm -S -n >"$LAB_TMP/kernel"
same_file "emit of the saved script = ipvsadm -S -n" "$LAB_TMP/emitted" "$LAB_TMP/kernel"
run lvsh plan "$LAB_TMP/two.rhai" --detailed-exitcode

step "the same through --netns: every socket opens in that namespace"
run ip netns add many
# No destination is accepted before the namespace has an address (lo up is enough).
run on many ip link set lo up
run on many ipvsadm -R <"$LAB_TMP/rules"
run ipvsadm -C
lvsh --netns many save >"$LAB_TMP/netns.rhai" || fail "lvsh --netns many save exited with status $?"
same_file "saved through --netns = saved here before" "$LAB_TMP/netns.rhai" "$LAB_TMP/two.rhai"
expect_eq "this namespace, flushed, saves no service" "$(lvsh save 2>/dev/null | grep -c 'service(')" 0
run ip netns delete many
