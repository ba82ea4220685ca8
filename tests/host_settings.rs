//! VIP addresses (`address()`) through the binary: check, plan against an empty
//! kernel and a state file, emit, save's round trip, and the errors. No kernel
//! needed (the lab scenario `lvsh_host_settings` applies them to a real one).

mod support;

use support::Test;

const SCRIPT: &str = r#"service("192.168.10.120", 80).rs(rs("192.168.10.11").dr());
address("192.168.10.120/32", "eth0");
address("2001:db8::120", "lo");
sysctl("net.ipv4.conf.lo.arp_ignore", 1);
"#;

#[test]
fn addresses_check_plan_and_emit() {
    Test::new()
        .args(["check", "-"])
        .stdin(SCRIPT)
        .stdout("-: ok, 1 service, 1 real server, 1 sysctl, 2 addresses\n")
        .run();
    Test::new()
        .args(["plan", "-", "--empty"])
        .stdin(SCRIPT)
        .stdout(
            "+ sysctl net.ipv4.conf.lo.arp_ignore  1\n\
             + address 192.168.10.120/32 on eth0\n\
             + address 2001:db8::120/128 on lo\n\
             + service tcp 192.168.10.120:80       wlc\n\
             +   rs 192.168.10.11:80               dr weight 1\n\
             Plan: 5 to add, 0 to change, 0 to delete.\n",
        )
        .run();
    // ipvsadm cannot carry them: stdout stays `ipvsadm -S -n`, stderr says what would.
    let out = Test::new()
        .args(["emit", "-", "--to", "ipvsadm"])
        .stdin(SCRIPT)
        .stderr_contains(&[
            "address 192.168.10.120/32 on eth0: ipvsadm does not put addresses on interfaces; \
             `ip address add 192.168.10.120/32 dev eth0 proto 76` does",
        ])
        .run();
    assert!(!out.stdout.contains("address"), "{}", out.stdout);
    let nft = Test::new()
        .args(["emit", "-", "--to", "nft"])
        .stdin(SCRIPT)
        .stderr_any()
        .run();
    assert!(!nft.stdout.contains("192.168.10.120/32"), "{}", nft.stdout);
}

/// A state file holding lvsh's addresses: the plan adds what is missing and deletes
/// what the script no longer declares; `--merge` deletes nothing.
#[test]
fn a_plan_against_a_state_adds_and_deletes_lvsh_s_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    std::fs::write(
        &state,
        r#"{"addresses": [{"interface": "eth0", "address": "192.168.10.120", "prefix": 32},
                          {"interface": "eth0", "address": "192.168.10.99", "prefix": 32}]}"#,
    )
    .unwrap();
    let state = state.to_str().unwrap();
    let script = r#"address("192.168.10.120/32", "eth0"); address("192.168.10.121", "eth0");"#;
    Test::new()
        .args(["plan", "-", "--state", state, "--detailed-exitcode"])
        .stdin(script)
        .status(2)
        .stdout(
            "+ address 192.168.10.121/32 on eth0\n\
             - address 192.168.10.99/32 on eth0\n\
             Plan: 1 to add, 0 to change, 1 to delete.\n",
        )
        .run();
    Test::new()
        .args(["plan", "-", "--state", state, "--merge"])
        .stdin(script)
        .stdout(
            "+ address 192.168.10.121/32 on eth0\n\
             Plan: 1 to add, 0 to change, 0 to delete.\n",
        )
        .run();
    let json = Test::new()
        .args(["plan", "-", "--state", state, "--json"])
        .stdin(script)
        .run()
        .stdout;
    assert!(json.contains(r#""type": "address""#), "{json}");
    // emit --to json is a state file that plans as a no-op.
    let own = dir.path().join("own.json");
    let emitted = Test::new()
        .args(["emit", "-", "--to", "json"])
        .stdin(script)
        .run()
        .stdout;
    std::fs::write(&own, emitted).unwrap();
    Test::new()
        .args([
            "plan",
            "-",
            "--state",
            own.to_str().unwrap(),
            "--detailed-exitcode",
        ])
        .stdin(script)
        .stdout_contains(&["No changes."])
        .run();
}

#[test]
fn bad_addresses_point_at_the_call() {
    for (script, want) in [
        (
            r#"address("192.168.10.120/33", "eth0");"#,
            "`192.168.10.120/33`: the prefix length is 0..32",
        ),
        (
            r#"address("192.168.10.120", "eth0:1");"#,
            "`eth0:1` is not an interface name",
        ),
        (
            "address(\"10.0.0.1\", \"lo\");\naddress(\"10.0.0.1/32\", \"lo\");",
            "address 10.0.0.1/32 on lo is declared twice",
        ),
    ] {
        Test::new()
            .args(["check", "-"])
            .stdin(script)
            .status_any()
            .stderr_contains(&[want, "<stdin>:"])
            .run();
    }
}
