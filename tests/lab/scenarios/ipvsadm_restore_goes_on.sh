# `ipvsadm -R` prints the kernel's refusal of one line, goes on with the next,
# and exits 0: the table ends up half-applied and the caller cannot tell.
. /lab/lib/lab.sh

out=$(printf '%s\n' "-A -t $VIP:80 -s rr" "-A -t $VIP:81 -s twos" "-A -t $VIP:82 -s rr" | ipvsadm -R 2>&1)
status=$?
echo "$out"
expect_eq "ipvsadm -R exit status" "$status" 0
expect_line "ipvsadm -R output" "$out" "Scheduler or persistence engine not found"
saved=$(ipvsadm -S -n)
echo "$saved"
expect_line "the line before the refused one" "$saved" "-A -t $VIP:80 -s rr"
expect_no_line "the refused line" "$saved" ":81 "
expect_line "the line after the refused one" "$saved" "-A -t $VIP:82 -s rr"
