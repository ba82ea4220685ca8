# dpkg installs the package that packaging/build-deb.sh made: /usr/sbin/lvsh,
# lvsh.service and lvsh-watch.service, the man pages, the bash, zsh and fish
# completions where each shell looks, and /etc/lvsh/lvsh.rhai as a conffile.
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
    /usr/share/man/man1/lvsh.1.gz /usr/share/man/man1/lvsh-apply.1.gz \
    /usr/share/bash-completion/completions/lvsh \
    /usr/share/zsh/vendor-completions/_lvsh \
    /usr/share/fish/vendor_completions.d/lvsh.fish \
    /etc/lvsh/lvsh.rhai; do
    [ -s "$file" ] || fail "$file is not installed (or empty)"
    ok "$file"
done
expect_line "the conffiles" "$(dpkg-query -W -f '${Conffiles}\n' lvsh | awk '{ print $1 }')" /etc/lvsh/lvsh.rhai

step "systemd knows both units"
for unit in lvsh.service lvsh-watch.service; do
    state=$(systemctl show -P LoadState "$unit")
    expect_eq "LoadState of $unit" "$state" loaded
done
systemctl status lvsh.service lvsh-watch.service
