# dpkg installs the package that packaging/build-deb.sh made: /usr/sbin/lvsh,
# lvsh.service and lvsh-watch.service, the man pages, the bash, zsh and fish
# completions where each shell looks, and /etc/lvsh/lvsh.rhai as a conffile;
# lvsh.service is enabled and started (Debian practice) and, with the shipped
# script of comments, changes nothing.
# lab-timeout: 90
. /lab/lib/lab.sh

[ -e /lab/no-deb ] && fail "there is no .deb to install: $(cat /lab/no-deb)"
step "dpkg -i lvsh.deb"
run dpkg -i /lab/lvsh.deb
expect_eq "dpkg's status" "$(dpkg-query -W -f '${Status}' lvsh)" "install ok installed"
run lvsh --version
expect_eq "lvsh in PATH" "$(command -v lvsh)" /usr/sbin/lvsh

step "the files land where Debian and each shell look"
for file in /usr/sbin/lvsh \
    /lib/systemd/system/lvsh.service /lib/systemd/system/lvsh-watch.service \
    /usr/share/man/man8/lvsh.8.gz /usr/share/man/man8/lvsh-apply.8.gz /usr/share/man/man8/lvsh-watch.8.gz \
    /usr/share/bash-completion/completions/lvsh \
    /usr/share/zsh/vendor-completions/_lvsh \
    /usr/share/fish/vendor_completions.d/lvsh.fish \
    /etc/lvsh/lvsh.rhai; do
    [ -s "$file" ] || fail "$file is not installed (or empty)"
    ok "$file"
done
expect_line "the conffiles" "$(dpkg-query -W -f '${Conffiles}\n' lvsh | awk '{ print $1 }')" /etc/lvsh/lvsh.rhai

step "man finds and renders the pages"
expect_eq "man -w lvsh" "$(man -w lvsh)" /usr/share/man/man8/lvsh.8.gz
for page in lvsh lvsh-apply lvsh-watch; do
    lines=$(MANWIDTH=80 man -P cat "$page" 2>&1 | grep -c .)
    [ "$lines" -ge 10 ] || fail "man $page renders $lines lines"
    ok "man $page renders $lines lines"
done

step "systemd knows both units; lvsh.service is enabled and ran (Debian practice), watch is not"
for unit in lvsh.service lvsh-watch.service; do
    expect_eq "LoadState of $unit" "$(systemctl show -P LoadState "$unit")" loaded
done
expect_eq "systemctl is-enabled lvsh.service" "$(systemctl is-enabled lvsh.service)" enabled
expect_eq "systemctl is-enabled lvsh-watch.service" "$(systemctl is-enabled lvsh-watch.service)" disabled
expect_eq "systemctl is-active lvsh.service" "$(systemctl is-active lvsh.service)" active
systemctl status lvsh.service lvsh-watch.service
step "the shipped /etc/lvsh/lvsh.rhai declares nothing: the start changed nothing"
journalctl -u lvsh.service --no-pager -o cat
expect_eq "ipvsadm -S -n" "$(ipvsadm -S -n)" ""
expect_no_line "nft list tables" "$(nft list tables)" "table inet lvsh"
