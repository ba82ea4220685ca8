# lvsh-watch.service with a script that has a health check reaches READY
# (Type=notify: `systemctl start` returns once watch said so), its probes find
# both servers up, and `systemctl restart lvsh-watch` leaves the table alone:
# `ipvsadm -S -n` and the connection counters are the same after.
# lab-timeout: 90
. /lab/lib/lab.sh
. /lab/lib/boot.sh
topo_up

step "a health check in /etc/lvsh/lvsh.rhai, then start lvsh-watch.service"
pfmc_with_check
run lvsh check /etc/lvsh/lvsh.rhai
expect_pfmc "before watch"
run systemctl start lvsh-watch.service
expect_eq "systemctl is-active lvsh-watch.service" "$(systemctl is-active lvsh-watch.service)" active
expect_eq "its notify status" "$(systemctl show -P StatusText lvsh-watch.service | grep -c .)" 1
systemctl show -P StatusText lvsh-watch.service
i=0
until [ "$(journalctl -b -u lvsh-watch.service -o cat | grep -c 'unknown -> up')" -ge 2 ]; do
    i=$((i + 1))
    [ "$i" -lt 100 ] || { journalctl -b -u lvsh-watch.service -o cat; fail "watch did not find both servers up within 10 s"; }
    sleep 0.1
done
ok "watch found both servers up"

step "systemctl restart lvsh-watch leaves the table alone"
expect_same "client to VIP:80 and :443" "$(ask client $(repeat 3 80 443))"
conns() { ipvsadm -L -n --stats | awk '$1 == "FWM" && $2 == "10" { print $3 }'; }
sleep 2.5 # the kernel's counters lag up to 2 s
saved=$(ipvsadm -S -n)
counted=$(conns)
[ "$counted" -ge 6 ] || fail "fwmark service 10 counted $counted connections, expected at least 6"
pid=$(systemctl show -P MainPID lvsh-watch.service)
run systemctl restart lvsh-watch.service
expect_eq "systemctl is-active lvsh-watch.service" "$(systemctl is-active lvsh-watch.service)" active
expect_ne "its main pid" "$(systemctl show -P MainPID lvsh-watch.service)" "$pid"
sleep 2.5
expect_eq "ipvsadm -S -n after the restart" "$(ipvsadm -S -n)" "$saved"
expect_eq "connections of fwmark service 10 after the restart" "$(conns)" "$counted"
journalctl -b -u lvsh-watch.service --no-pager -o cat | tail -n 8
expect_pfmc "after the restart"
run systemctl stop lvsh-watch.service
