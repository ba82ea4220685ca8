# `systemctl reload nftables` runs Debian's /etc/nftables.conf again (its
# `flush ruleset` deletes table inet lvsh); lvsh.service re-applies with it,
# the table is back and a client still sticks to one server across 80 and 443.
. /lab/lib/lab.sh
. /lab/lib/boot.sh
nft_cycle reload
