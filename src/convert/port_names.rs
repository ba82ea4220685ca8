//! Service names for ports, as `ipvsadm -S` (without `-n`) prints them.
//!
//! lvsh embeds this table instead of reading `/etc/services`, so an import gives the
//! same result on every machine and `convert` does no I/O. It holds the names (and
//! aliases) of Debian's netbase `/etc/services` for the ports load balancers carry;
//! other names are an error asking for the port number.

use crate::model::Protocol;

const TCP: u8 = 1;
const UDP: u8 = 2;
const SCTP: u8 = 4;

/// (names, port, protocols): the first name is the one `getservbyport` returns.
const TABLE: &[(&[&str], u16, u8)] = &[
    (&["ftp-data"], 20, TCP),
    (&["ftp"], 21, TCP),
    (&["ssh"], 22, TCP),
    (&["telnet"], 23, TCP),
    (&["smtp", "mail"], 25, TCP),
    (&["whois", "nicname"], 43, TCP),
    (&["tacacs"], 49, TCP | UDP),
    (&["domain"], 53, TCP | UDP),
    (&["bootps"], 67, UDP),
    (&["bootpc"], 68, UDP),
    (&["tftp"], 69, UDP),
    (&["gopher"], 70, TCP),
    (&["finger"], 79, TCP),
    (&["http", "www"], 80, TCP),
    (&["kerberos", "kerberos5", "krb5"], 88, TCP | UDP),
    (&["pop3", "pop-3"], 110, TCP),
    (&["sunrpc", "portmapper"], 111, TCP | UDP),
    (&["auth", "authentication", "tap", "ident"], 113, TCP),
    (&["nntp", "readnews", "untp"], 119, TCP),
    (&["ntp"], 123, UDP),
    (&["imap2", "imap"], 143, TCP),
    (&["snmp"], 161, TCP | UDP),
    (&["snmp-trap", "snmptrap"], 162, TCP | UDP),
    (&["bgp"], 179, TCP),
    (&["ldap"], 389, TCP | UDP),
    (&["https"], 443, TCP | UDP),
    (&["microsoft-ds"], 445, TCP),
    (&["submissions", "ssmtp", "smtps"], 465, TCP),
    (&["isakmp"], 500, UDP),
    (&["syslog"], 514, UDP),
    (&["rtsp"], 554, TCP | UDP),
    (&["nntps", "snntp"], 563, TCP),
    (&["submission"], 587, TCP),
    (&["ipp"], 631, TCP),
    (&["ldaps"], 636, TCP | UDP),
    (&["domain-s"], 853, TCP | UDP),
    (&["rsync"], 873, TCP),
    (&["ftps-data"], 989, TCP),
    (&["ftps"], 990, TCP),
    (&["imaps"], 993, TCP),
    (&["pop3s"], 995, TCP),
    (&["socks"], 1080, TCP),
    (&["openvpn"], 1194, TCP | UDP),
    (&["ms-sql-s"], 1433, TCP),
    (&["ms-sql-m"], 1434, UDP),
    (&["radius"], 1812, TCP | UDP),
    (&["radius-acct", "radacct"], 1813, TCP | UDP),
    (&["nfs"], 2049, TCP | UDP),
    (&["iscsi-target"], 3260, TCP),
    (&["mysql"], 3306, TCP),
    (&["ms-wbt-server"], 3389, TCP),
    (&["svn", "subversion"], 3690, TCP),
    (&["sieve"], 4190, TCP),
    (&["ipsec-nat-t"], 4500, UDP),
    (&["sip"], 5060, TCP | UDP),
    (&["sip-tls"], 5061, TCP | UDP),
    (&["xmpp-client", "jabber-client"], 5222, TCP),
    (&["xmpp-server", "jabber-server"], 5269, TCP),
    (&["mdns"], 5353, UDP),
    (&["postgresql", "postgres"], 5432, TCP),
    (&["amqps"], 5671, TCP),
    (&["amqp"], 5672, TCP | SCTP),
    (&["nrpe"], 5666, TCP),
    (&["redis"], 6379, TCP),
    (&["ircd"], 6667, TCP),
    (&["ircs-u"], 6697, TCP),
    (&["http-alt", "webcache"], 8080, TCP),
    (&["tproxy"], 8081, TCP),
    (&["puppet"], 8140, TCP),
    (&["git"], 9418, TCP),
    (&["webmin"], 10000, TCP),
    (&["zabbix-agent"], 10050, TCP),
    (&["zabbix-trapper"], 10051, TCP),
];

fn bit(p: Protocol) -> u8 {
    match p {
        Protocol::Tcp => TCP,
        Protocol::Udp => UDP,
        Protocol::Sctp => SCTP,
    }
}

/// The port of service `name` for `protocol` (`http` → 80 for tcp).
pub(crate) fn port_of(name: &str, protocol: Protocol) -> Option<u16> {
    TABLE
        .iter()
        .find(|(names, _, protos)| protos & bit(protocol) != 0 && names.contains(&name))
        .map(|(_, port, _)| *port)
}

/// True when `name` names a port for some other protocol (for a better error).
pub(crate) fn known_for_other(name: &str, protocol: Protocol) -> Option<Protocol> {
    Protocol::ALL
        .into_iter()
        .filter(|p| *p != protocol)
        .find(|p| port_of(name, *p).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_per_protocol() {
        assert_eq!(port_of("http", Protocol::Tcp), Some(80));
        assert_eq!(port_of("www", Protocol::Tcp), Some(80));
        assert_eq!(port_of("http", Protocol::Udp), None);
        assert_eq!(known_for_other("http", Protocol::Udp), Some(Protocol::Tcp));
        assert_eq!(port_of("domain", Protocol::Udp), Some(53));
        assert_eq!(port_of("https", Protocol::Udp), Some(443));
        assert_eq!(port_of("http-alt", Protocol::Tcp), Some(8080));
        assert_eq!(port_of("amqp", Protocol::Sctp), Some(5672));
        assert_eq!(port_of("nosuch", Protocol::Tcp), None);
    }

    #[test]
    fn table_has_no_duplicate_name_per_protocol() {
        for p in Protocol::ALL {
            let mut seen = std::collections::BTreeSet::new();
            for (names, _, protos) in TABLE {
                if protos & bit(p) != 0 {
                    for n in *names {
                        assert!(seen.insert(*n), "{n} twice for {p}");
                    }
                }
            }
        }
    }
}
