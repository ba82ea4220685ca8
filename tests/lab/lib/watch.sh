# Helpers for scenarios of `lvsh watch`: start and stop the daemon, wait for what
# it logs or writes, time it with /proc/uptime (busybox `date` has no %N).
#   . /lab/lib/watch.sh   (after lab.sh)

WATCH_LOG="$LAB_TMP/watch.log"

# now_ms: milliseconds since boot.
now_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }

# watch_start SCRIPT [ARGS...]: starts `lvsh watch` in the background, logging to
# $WATCH_LOG, and waits until it watches (it has loaded and applied the script).
watch_start() {
    _from=$(wc -l 2>/dev/null <"$WATCH_LOG" || echo 0)
    echo "+ lvsh watch $* &"
    lvsh watch "$@" >>"$WATCH_LOG" 2>&1 &
    WATCH_PID=$!
    await_log "watching " 30 "$_from"
}

# watch_stop [SIGNAL]: stops it (TERM unless told) and waits for it to end.
watch_stop() {
    kill -"${1:-TERM}" "$WATCH_PID" 2>/dev/null
    wait "$WATCH_PID"
    _st=$?
    ok "watch (pid $WATCH_PID) ended with status $_st after SIG${1:-TERM}"
}

# await_log TEXT SECONDS [FROM_LINE]: waits until a line of the log after FROM_LINE
# holds TEXT; fails after SECONDS.
await_log() {
    _deadline=$(( $(now_ms) + $2 * 1000 ))
    until tail -n "+$(( ${3:-0} + 1 ))" "$WATCH_LOG" 2>/dev/null | grep -qF -- "$1"; do
        if [ "$(now_ms)" -gt "$_deadline" ]; then
            cat "$WATCH_LOG"
            fail "watch did not log \"$1\" within $2 s"
        fi
        if ! kill -0 "$WATCH_PID" 2>/dev/null; then
            cat "$WATCH_LOG"
            fail "watch ended before it logged \"$1\""
        fi
        sleep 0.1
    done
    ok "watch logged \"$1\""
}

# log_lines: how many lines the log has now (a FROM_LINE for await_log).
log_lines() { wc -l <"$WATCH_LOG"; }

# weight_of SERVICE ADDR:PORT: the destination's weight in `ipvsadm -S -n`
# ("absent" when it is not there). SERVICE as ipvsadm -S prints it: "-t VIP:80".
weight_of() {
    ipvsadm -S -n | awk -v s="$1" -v r="$2" '
        index($0, "-a " s " -r " r " ") == 1 || $0 == "-a " s " -r " r {
            w = 1; for (i = 1; i <= NF; i++) if ($i == "-w") w = $(i + 1); print w; found = 1 }
        END { if (!found) print "absent" }'
}

# await_weight SERVICE ADDR:PORT WEIGHT SECONDS: waits until the destination has
# WEIGHT; prints how long it took; fails after SECONDS.
await_weight() {
    _start=$(now_ms)
    _deadline=$(( _start + $4 * 1000 ))
    until [ "$(weight_of "$1" "$2")" = "$3" ]; do
        if [ "$(now_ms)" -gt "$_deadline" ]; then
            ipvsadm -S -n
            tail -n 20 "$WATCH_LOG"
            fail "$2 of $1 is not at weight $3 within $4 s"
        fi
        sleep 0.1
    done
    WAITED_MS=$(( $(now_ms) - _start ))
    ok "$2 of $1 at weight $3 after ${WAITED_MS} ms"
}

# httpd_stop NS PORT / httpd_start NS PORT: the real server's web server (topo.sh's).
httpd_stop() {
    _pid=$(ps -o pid,args | awk -v p="-p $2 -h $LAB_TMP/www/$1" 'index($0, "httpd -f " p) { print $1 }')
    [ -n "$_pid" ] || fail "no httpd of $1 on port $2"
    kill $_pid
    ok "stopped httpd of $1 on port $2 (pid $_pid)"
}
httpd_start() {
    on "$1" httpd -f -p "$2" -h "$LAB_TMP/www/$1" &
    ok "started httpd of $1 on port $2"
}
