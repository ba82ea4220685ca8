# Global timeouts: 900/120/300 by default; in `ipvsadm --set` a 0 means
# "leave this one as it is".
. /lab/lib/lab.sh

expect_eq "defaults" "$(ipvsadm -L --timeout)" "Timeout (tcp tcpfin udp): 900 120 300"
run ipvsadm --set 0 30 0
expect_eq "only tcpfin changed" "$(ipvsadm -L --timeout)" "Timeout (tcp tcpfin udp): 900 30 300"
run ipvsadm --set 100 20 30
expect_eq "all three changed" "$(ipvsadm -L --timeout)" "Timeout (tcp tcpfin udp): 100 20 30"
