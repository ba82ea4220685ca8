//! `ipvsadm -R` input (typically `ipvsadm -S` output) → model.
//!
//! Each line is one ipvsadm command applied to the model in order, as `ipvsadm -R`
//! applies it to the kernel: `-A` adds, `-E` replaces a service's settings (unset
//! ones fall back to ipvsadm's defaults, scheduler `wlc`), `-e` replaces a real
//! server's settings, `-D`/`-d` delete, `-C` clears the services, `--set` and
//! `--start-daemon`/`--stop-daemon` change timeouts and sync daemons; `-L`, `-Z` and
//! `-S` change nothing. Where ipvsadm -R prints an error and goes on (a duplicate
//! `-A`, a `-d` of nothing), lvsh stops: every line it cannot apply is an error
//! with its line number and a span under the token at fault, never skipped.
//!
//! Beyond ipvsadm -R: `#` starts a comment (ipvsadm -R fails on comments; its
//! `ipvsadm-restore` wrapper strips lines starting with `#`); `ipvsadm -S` without
//! `-n` imports when its names are service names from lvsh's table (`http`), not
//! host names (lvsh never resolves names).

use super::command::Command;
use super::import_error::ImportError;
use super::parsed::parse;
use super::problem::{Fault, Problem};
use super::rule::{Rule, rule};
use super::tok::words;
use crate::model::{Balancer, Origin, ServiceKey};
use std::collections::HashMap;
use std::sync::Arc;

/// Reads `text` (named `name` in errors and origins) into a model.
pub fn from_ipvsadm(name: &str, text: &str) -> Result<Balancer, ImportError> {
    let source: Arc<str> = Arc::from(name);
    let mut b = Balancer::default();
    let mut added: HashMap<ServiceKey, usize> = HashMap::new();
    let mut offset = 0;
    for (index, raw) in text.split_inclusive('\n').enumerate() {
        let line = index + 1;
        let body = raw.strip_suffix('\n').unwrap_or(raw);
        let start = offset;
        offset += raw.len();
        let ws = words(body, start);
        if ws.is_empty() {
            continue;
        }
        let fail = |f: Fault| ImportError::new(name, text, line, f);
        let parsed = parse(&ws).map_err(fail)?;
        let r = rule(&parsed).map_err(fail)?;
        let column = body[..r.command_span.start - start].chars().count() + 1;
        let origin = Origin::at(source.clone(), line, column);
        apply(&mut b, r, origin, line, &mut added).map_err(fail)?;
    }
    Ok(b)
}

/// Applies one rule as the kernel would, refusing what the kernel refuses.
fn apply(
    b: &mut Balancer,
    r: Rule,
    origin: Origin,
    line: usize,
    added: &mut HashMap<ServiceKey, usize>,
) -> Result<(), Fault> {
    let svc_span = r.service_span.clone();
    let no_service = |key: &ServiceKey| {
        Fault::new(
            Problem::NoSuchService {
                service: key.to_string(),
            },
            svc_span.clone(),
        )
    };
    match r.command {
        Command::AddService => {
            let mut s = r.service.expect("checked");
            if b.services.contains_key(&s.key) {
                let f = Fault::new(
                    Problem::ServiceExists {
                        service: s.key.to_string(),
                    },
                    svc_span,
                );
                return Err(match added.get(&s.key) {
                    Some(l) => f.help(format!("it was added on line {l}; `-E` changes a service")),
                    None => f,
                });
            }
            added.insert(s.key, line);
            s.origin = origin;
            b.services.insert(s.key, s);
        }
        Command::EditService => {
            let new = r.service.expect("checked");
            let s = b
                .services
                .get_mut(&new.key)
                .ok_or_else(|| no_service(&new.key).help("add it with `-A` first"))?;
            s.scheduler = new.scheduler;
            s.flags = new.flags;
            s.persistence = new.persistence;
            s.netmask = new.netmask;
            s.pe = new.pe;
            s.one_packet = new.one_packet;
        }
        Command::DeleteService => {
            let key = r.service.expect("checked").key;
            b.services.remove(&key).ok_or_else(|| no_service(&key))?;
            added.remove(&key);
        }
        Command::Flush => {
            b.services.clear();
            added.clear();
        }
        Command::Zero => {
            if let Some(s) = r.service
                && !b.services.contains_key(&s.key)
            {
                return Err(no_service(&s.key));
            }
        }
        Command::List | Command::Save => {}
        Command::AddServer | Command::EditServer | Command::DeleteServer => {
            let key = r.service.expect("checked").key;
            let mut d = r.dest.expect("checked");
            let s = b.services.get_mut(&key).ok_or_else(|| {
                no_service(&key).help("add the service with `-A` before its real servers")
            })?;
            let dest_fault = |p: Problem| Fault::new(p, r.dest_span.clone());
            let names = || (d.key.to_string(), key.to_string());
            match r.command {
                Command::AddServer => {
                    if s.dests.contains_key(&d.key) {
                        let (dest, service) = names();
                        return Err(dest_fault(Problem::DestExists { dest, service })
                            .help("`-e` changes a real server"));
                    }
                    d.origin = origin;
                    s.dests.insert(d.key, d);
                }
                Command::EditServer => {
                    let Some(old) = s.dests.get_mut(&d.key) else {
                        let (dest, service) = names();
                        return Err(dest_fault(Problem::NoSuchDest { dest, service }).help(
                            "direct-routing and tunnel servers take the service port; add the server with `-a` first",
                        ));
                    };
                    old.forward = d.forward;
                    old.weight = d.weight;
                    old.upper_threshold = d.upper_threshold;
                    old.lower_threshold = d.lower_threshold;
                }
                _ => {
                    if s.dests.remove(&d.key).is_none() {
                        let (dest, service) = names();
                        return Err(dest_fault(Problem::NoSuchDest { dest, service }));
                    }
                }
            }
        }
        Command::SetTimeouts => {
            let t = r.timeouts;
            let to = &mut b.timeouts;
            to.tcp = t.tcp.or(to.tcp);
            to.tcp_fin = t.tcp_fin.or(to.tcp_fin);
            to.udp = t.udp.or(to.udp);
        }
        Command::StartDaemon(state) => {
            if b.daemons.contains_key(&state) {
                return Err(Fault::new(
                    Problem::DaemonRunning {
                        state: state.name(),
                    },
                    r.command_span,
                ));
            }
            let mut d = r.daemon.expect("start-daemon builds one");
            d.origin = origin;
            b.daemons.insert(state, d);
        }
        Command::StopDaemon(state) => {
            if b.daemons.remove(&state).is_none() {
                return Err(Fault::new(
                    Problem::NoDaemon {
                        state: state.name(),
                    },
                    r.command_span,
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DaemonState, DestKey, Forward, Protocol, Scheduler, Timeouts};

    fn load(text: &str) -> Balancer {
        from_ipvsadm("rules.txt", text).unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn fail(text: &str) -> ImportError {
        from_ipvsadm("rules.txt", text).unwrap_err()
    }

    fn tcp(addr: &str, port: u16) -> ServiceKey {
        ServiceKey::inet(Protocol::Tcp, addr.parse().unwrap(), port)
    }

    #[test]
    fn origins_carry_file_line_and_column() {
        let b = load("\n-A -t 10.0.0.1:80 -s rr\n  -a -t 10.0.0.1:80 -r 10.0.1.1 -m\n");
        let s = &b.services[&tcp("10.0.0.1", 80)];
        let pos = s.origin.pos().unwrap();
        assert_eq!((&*pos.source, pos.line, pos.column), ("rules.txt", 2, 1));
        let d = s.dests.values().next().unwrap();
        let pos = d.origin.pos().unwrap();
        assert_eq!((pos.line, pos.column), (3, 3));
    }

    #[test]
    fn edits_replace_settings_as_ipvsadm_does() {
        // Lab: `-E` without `-s` falls back to wlc and drops unset settings;
        // `-e` resets weight, thresholds and forwarding.
        let b = load(
            "-A -t 10.3.0.1:80 -s rr -p 100 -M 255.255.255.0 -b flag-1\n\
             -E -t 10.3.0.1:80 -p 200\n\
             -a -t 10.3.0.1:80 -r 10.3.1.1:8080 -m -w 5 -x 10 -y 5\n\
             -e -t 10.3.0.1:80 -r 10.3.1.1:8080 -m\n",
        );
        let s = &b.services[&tcp("10.3.0.1", 80)];
        assert_eq!(s.scheduler, Scheduler::Wlc);
        assert_eq!(s.persistence, Some(200));
        assert_eq!(s.netmask, None);
        assert!(s.flags.is_empty());
        let d = s.dests.values().next().unwrap();
        assert_eq!((d.weight, d.upper_threshold, d.lower_threshold), (1, 0, 0));
        assert_eq!(d.forward, Forward::Masq);
    }

    #[test]
    fn edit_to_direct_routing_changes_the_port_like_ipvsadm() {
        // Lab: "No such destination", since -e defaults to -g and -g takes port 80.
        let e = fail(
            "-A -t 10.3.0.1:80 -s rr\n\
             -a -t 10.3.0.1:80 -r 10.3.1.2:8080 -m -w 5\n\
             -e -t 10.3.0.1:80 -r 10.3.1.2:8080 -w 7\n",
        );
        assert_eq!(e.line(), 3);
        assert!(matches!(e.problem(), Problem::NoSuchDest { .. }), "{e}");
    }

    #[test]
    fn deletes_and_clear() {
        let b = load(
            "-A -t 10.3.0.1:80 -s rr\n\
             -a -t 10.3.0.1:80 -r 10.3.1.1 -g\n\
             -a -t 10.3.0.1:80 -r 10.3.1.2 -g\n\
             -d -t 10.3.0.1:80 -r 10.3.1.1\n\
             -A -t 10.3.0.2:80 -s rr\n\
             -D -t 10.3.0.2:80\n\
             -A -t 10.3.0.3:80 -s rr\n",
        );
        assert_eq!(b.services.len(), 2);
        let s = &b.services[&tcp("10.3.0.1", 80)];
        let keys: Vec<_> = s.dests.keys().copied().collect();
        assert_eq!(
            keys,
            [DestKey {
                address: "10.3.1.2".parse().unwrap(),
                port: 80
            }]
        );
        let b = load(
            "-A -t 10.3.0.1:80 -s rr\n-C\n-A -t 10.3.0.1:80 -s wlc\n--clear\n-A -t 10.3.0.3:80\n",
        );
        assert_eq!(
            b.services.keys().copied().collect::<Vec<_>>(),
            [tcp("10.3.0.3", 80)]
        );
    }

    #[test]
    fn duplicates_and_missing_objects_stop_the_import() {
        let e = fail("-A -t 10.3.0.1:80 -s rr\n\n-A -t 10.3.0.1:80 -s wlc\n");
        assert_eq!(e.line(), 3);
        assert!(matches!(e.problem(), Problem::ServiceExists { .. }));
        assert_eq!(
            e.help_text(),
            Some("it was added on line 1; `-E` changes a service")
        );
        let text = "-A -t 10.3.0.1:80\n-a -t 10.3.0.9:80 -r 10.3.1.1\n";
        let e = fail(text);
        assert_eq!(&text[e.span()], "-t 10.3.0.9:80");
        assert!(fail("-A -t 10.3.0.1:80\n-a -t 10.3.0.1:80 -r 10.3.1.1\n-a -t 10.3.0.1:80 -r 10.3.1.1 -w 5\n")
            .to_string()
            .contains("already exists"));
        assert!(matches!(
            fail("-A -t 10.3.0.1:80\n-d -t 10.3.0.1:80 -r 10.3.1.7\n").problem(),
            Problem::NoSuchDest { .. }
        ));
        assert!(matches!(
            fail("-E -t 10.3.0.1:80 -s rr\n").problem(),
            Problem::NoSuchService { .. }
        ));
        assert!(matches!(
            fail("-D -t 10.3.0.1:80\n").problem(),
            Problem::NoSuchService { .. }
        ));
        assert!(matches!(
            fail("--stop-daemon master\n").problem(),
            Problem::NoDaemon { .. }
        ));
        assert!(matches!(
            fail("--start-daemon master\n--start-daemon master --syncid 3\n").problem(),
            Problem::DaemonRunning { .. }
        ));
    }

    #[test]
    fn timeouts_merge_and_daemons_come_and_go() {
        let b = load(
            "--set 901 121 301\n--set 0 0 400\n\
             --start-daemon master --mcast-interface d0 --syncid 5\n\
             --start-daemon backup --mcast-interface lo\n--stop-daemon backup\n",
        );
        assert_eq!(
            b.timeouts,
            Timeouts {
                tcp: Some(901),
                tcp_fin: Some(121),
                udp: Some(400)
            }
        );
        assert_eq!(b.daemons.len(), 1);
        let d = &b.daemons[&DaemonState::Master];
        assert_eq!((d.interface.as_str(), d.syncid), ("d0", 5));
        assert!(d.origin.pos().is_some());
    }

    #[test]
    fn comments_blank_lines_crlf_and_program_names() {
        let b = load(
            "# saved by hand\r\n\r\n   \nipvsadm -A -t 10.0.0.1:80 -s rr # web\r\n/sbin/ipvsadm -a -t 10.0.0.1:80 -r 10.0.1.1:80 -m\r\n",
        );
        let s = &b.services[&tcp("10.0.0.1", 80)];
        assert_eq!(s.scheduler, Scheduler::Rr);
        assert_eq!(s.dests.len(), 1);
        assert_eq!(
            s.dests
                .values()
                .next()
                .unwrap()
                .origin
                .pos()
                .unwrap()
                .column,
            15
        );
    }

    #[test]
    fn host_names_are_refused_with_the_line() {
        let text = "-A -t 10.3.0.1:http -s rr\n-A -t myhost:https -s rr\n";
        let e = fail(text);
        assert_eq!(e.line(), 2);
        assert_eq!(e.problem(), &Problem::HostName("myhost".into()));
        assert_eq!(&text[e.span()], "myhost");
        assert!(e.help_text().unwrap().contains("-n"));
    }

    #[test]
    fn errors_render_with_source_and_label() {
        let text = "-A -t 10.0.0.1:80 -s rrr\n";
        let e = fail(text);
        let mut out = String::new();
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .render_report(&mut out, &e)
            .unwrap();
        assert!(out.contains("unknown scheduler `rrr`"), "{out}");
        assert!(out.contains("rules.txt:1:22"), "{out}");
        assert!(out.contains("did you mean `rr`?"), "{out}");
    }

    #[test]
    fn files_of_other_formats_are_named_in_the_help() {
        for (text, says) in [
            ("table inet lvsh {\n}\n", "nft ruleset"),
            ("flush ruleset\n", "nft ruleset"),
            ("{\"services\": []}\n", "looks like JSON"),
            (
                "IP Virtual Server version 1.2.1 (size=4096)\n",
                "`ipvsadm -L -n`",
            ),
            ("TCP  10.0.0.1:80 rr\n", "`ipvsadm -L -n`"),
        ] {
            let e = fail(text);
            assert_eq!(e.problem(), &Problem::NoCommand, "{text}");
            assert!(e.help_text().unwrap().contains(says), "{text}: {e:?}");
        }
        assert!(fail("web 10.0.0.1\n").help_text().unwrap().contains("`-A`"));
    }

    #[test]
    fn an_unbracketed_ipv6_service_hears_about_brackets() {
        let e = fail("-A -t 2001:db8::1:80 -s rr\n");
        assert_eq!(e.problem(), &Problem::ZeroPortNotPersistent);
        assert!(
            e.help_text().unwrap().contains("`[2001:db8::1]:80`"),
            "{e:?}"
        );
        let e = fail("-A -t 10.0.0.1:0 -s rr\n");
        assert!(!e.help_text().unwrap().contains("brackets"), "{e:?}");
    }

    /// Found by the `ipvsadm_import` fuzz target: a line of only `--` (the end of
    /// the options, then nothing) panicked looking for a word to point at.
    #[test]
    fn a_line_of_only_the_end_of_options_has_no_command() {
        for text in ["--", "-A -t 10.0.0.1:80\n  -- \n"] {
            let e = fail(text);
            assert_eq!(e.problem(), &Problem::NoCommand, "{text:?}");
            assert_eq!(&text[e.span()], "--");
        }
        let e = fail("-- -A -t 10.0.0.1:80");
        assert_eq!(e.problem(), &Problem::NoCommand);
        assert_eq!(e.span(), 3..5);
    }
}
