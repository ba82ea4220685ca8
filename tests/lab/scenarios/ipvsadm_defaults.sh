# What ipvsadm fills in when an option is left out, as the kernel keeps it:
# scheduler wlc, forwarding -g (DR), weight 1, -p alone = 360 s, and
# destination port 0 for fwmark services and port-0 services.
. /lab/lib/lab.sh

run ipvsadm -A -t "$VIP:80"
run ipvsadm -a -t "$VIP:80" -r "$RS1"
run ipvsadm -A -t "$VIP:81" -s rr -p
run ipvsadm -A -t "$VIP:0" -s rr -p 60
run ipvsadm -a -t "$VIP:0" -r "$RS1:80"
run ipvsadm -A -f 10 -s rr
run ipvsadm -a -f 10 -r "$RS2"
saved=$(ipvsadm -S -n)
echo "$saved"
expect_line "no -s: wlc" "$saved" "-A -t $VIP:80 -s wlc"
expect_line "no -g/-m/-i: DR, no -w: 1" "$saved" "-a -t $VIP:80 -r $RS1:80 -g -w 1"
expect_line "-p alone: 360 s" "$saved" "-A -t $VIP:81 -s rr -p 360"
expect_line "a port-0 service's destination port is 0, whatever was asked" "$saved" "-a -t $VIP:0 -r $RS1:0 -g -w 1"
expect_line "a fwmark service's destination port is 0" "$saved" "-a -f 10 -r $RS2:0 -g -w 1"
