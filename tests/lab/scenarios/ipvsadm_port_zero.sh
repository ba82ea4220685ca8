# Port 0 (every port of the address) needs persistence: ipvsadm refuses it
# without -p, and takes it with.
. /lab/lib/lab.sh

fails_with "Zero port specified for non-persistent service" ipvsadm -A -t "$VIP:0" -s rr
expect_eq "services after the refusal" "$(ipvsadm -S -n)" ""
run ipvsadm -A -t "$VIP:0" -s rr -p 600
expect_line "ipvsadm -S -n" "$(ipvsadm -S -n)" "-A -t $VIP:0 -s rr -p 600"
