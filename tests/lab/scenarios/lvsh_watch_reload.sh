# `lvsh watch` reloads on SIGHUP and when the script changes: a new service
# appears while established connections elsewhere keep their entries and echo; a
# script with an error changes nothing and the running configuration stays. A
# server new to the kernel starts at weight 0 and gets its weight once it rises.
# lab-timeout: 150
. /lab/lib/lab.sh
. /lab/lib/watch.sh
topo_up

# Port 7 on each real server: says its name, then echoes (topo.sh).
echo_servers

write_script() { # EXTRA: more script text
    rhai lb <<RHAI >/dev/null
let check = tcp().every(1).timeout(0.5).rise(2).fall(2);
service("$VIP", 7).scheduler("rr").check(check)
    .rs(rs("$RS1").dr()).rs(rs("$RS2").dr());
$1
RHAI
}

step "watch applies the script to an empty kernel; new servers wait at 0 until they rise"
write_script ""
watch_start "$LAB_TMP/lb.rhai"
expect_line "right after the start" "$(ipvsadm -S -n)" "-a -t $VIP:7 -r $RS1:7 -g -w 0"
await_weight "-t $VIP:7" "$RS1:7" 1 10
await_weight "-t $VIP:7" "$RS2:7" 1 10

step "a connection through the VIP, held open"
connect 1
say 1 one
entries() { ipvsadm -L -n -c | awk '$3 == "ESTABLISHED" { print $4, $5, $6 }' | sed 's/:[0-9]* / /' | sort; }
established=$(entries)

step "SIGHUP after adding a service: it appears; the connection lives on"
write_script "service(\"$VIP\", 80).scheduler(\"rr\").check(http(\"/\").every(1).timeout(0.5)).rs(rs(\"$RS1\").dr()).rs(rs(\"$RS2\").dr());"
from=$(log_lines)
kill -HUP "$WATCH_PID"
await_log "reloading after SIGHUP" 10 "$from"
await_weight "-t $VIP:80" "$RS1:80" 1 10
await_weight "-t $VIP:80" "$RS2:80" 1 10
say 1 two
expect_eq "ESTABLISHED entries after the reload" "$(entries)" "$established"
expect_eq "port 7's servers keep weight 1" "$(weight_of "-t $VIP:7" "$RS1:7") $(weight_of "-t $VIP:7" "$RS2:7")" "1 1"

step "a script with an error: watch says where, the kernel stays as it is"
before=$(kernel_state)
from=$(log_lines)
write_script 'service("192.168.10.120", 443).scheduler("rrr");'
await_log "reloading after a changed script" 10 "$from"
await_log "reload failed; the running configuration stays:" 10 "$from"
await_log "lb.rhai:4:" 1 "$from"
sleep 2
expect_same_state "after the failed reload" "$before"
say 1 three
from=$(log_lines)
kill -HUP "$WATCH_PID"
await_log "reload failed; the running configuration stays:" 10 "$from"
expect_same_state "after SIGHUP with the same error" "$before"

step "the error fixed: the reload goes through"
write_script ""
await_log "reloading after a changed script" 10 "$from"
await_log "wrote: service tcp $VIP:80: removed" 10 "$from"
expect_eq "services" "$(ipvsadm -S -n | grep -c '^-A')" 1
say 1 four
watch_stop TERM
