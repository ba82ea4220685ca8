# `systemctl restart nftables` runs Debian's /etc/nftables.conf, whose
# `flush ruleset` deletes table inet lvsh while fwmark service 10 stays;
# lvsh.service re-applies with it and puts the table back (a new table: its
# handle changes), and a client still sticks to one server across 80 and 443.
. /lab/lib/lab.sh
. /lab/lib/boot.sh
nft_cycle restart
