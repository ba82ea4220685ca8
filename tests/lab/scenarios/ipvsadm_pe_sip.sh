# The sip persistence engine loads on demand and is saved as `--pe sip`;
# ipvsadm and the kernel take it even without -p.
. /lab/lib/lab.sh

run ipvsadm -A -u "$VIP:5060" -s rr -p 60 --pe sip
run ipvsadm -A -u "$VIP:5061" -s rr --pe sip
saved=$(ipvsadm -S -n)
echo "$saved"
expect_line "with -p" "$saved" "-A -u $VIP:5060 -s rr -p 60 --pe sip"
expect_line "without -p" "$saved" "-A -u $VIP:5061 -s rr --pe sip"
expect_line "/proc/modules" "$(cut -d ' ' -f 1 /proc/modules)" ip_vs_pe_sip
