# In a network namespace with no address yet (not even `lo` up) the kernel
# refuses every destination: it finds no local routing table to check the
# address against. ipvsadm says "address not unicast" among other guesses.
. /lab/lib/lab.sh

unshare --net /bin/sh -c '
    . /lab/lib/lab.sh
    run ipvsadm -A -t 10.9.9.9:80 -s rr
    fails_with "address not unicast" ipvsadm -a -t 10.9.9.9:80 -r 10.1.1.1 -g
    fails_with "address not unicast" ipvsadm -a -t 10.9.9.9:80 -r 10.1.1.1 -m
    run ip link set lo up
    run ipvsadm -a -t 10.9.9.9:80 -r 10.1.1.1 -g
    expect_line "ipvsadm -S -n" "$(ipvsadm -S -n)" "-a -t 10.9.9.9:80 -r 10.1.1.1:80 -g -w 1"
' || fail "the checks in the fresh namespace failed"
