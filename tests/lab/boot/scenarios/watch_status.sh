# `lvsh status`, run by the operator, shows what lvsh-watch.service found: both
# servers up. The unit runs watch with CAP_NET_ADMIN only, and both must agree
# on the namespace's state folder under /var/lib/lvsh and /run/lvsh.
# lab-timeout: 60
. /lab/lib/lab.sh
. /lab/lib/boot.sh
topo_up
pfmc_with_check
run systemctl start lvsh-watch.service

step "lvsh status: both servers up"
i=0
until [ "$(lvsh status 2>/dev/null | grep -c ', up since')" -ge 2 ]; do
    i=$((i + 1))
    if [ "$i" -ge 20 ]; then
        lvsh status
        journalctl -b -u lvsh-watch.service --no-pager -o cat
        echo "+ ls /var/lib/lvsh /run/lvsh"
        ls /var/lib/lvsh /run/lvsh
        systemctl stop lvsh-watch.service
        fail "lvsh status does not show both servers up within 10 s (state folders above: a watch that cannot read /proc/1/ns/net names the namespace by inode, status names it default)"
    fi
    sleep 0.5
done
run lvsh status
run systemctl stop lvsh-watch.service
