//! Netlink framing: messages and attributes written into one growing buffer and read
//! back as borrowed slices, so encoding and decoding allocate nothing per attribute.
//!
//! Wire traps handled here: every attribute and message is padded to 4 bytes; integers
//! are host order unless the kernel reads them with `nla_get_be*` (ports, the v4
//! netmask), which the object encoders spell out with [`Encoder::be16`] or raw bytes;
//! strings the kernel parses as `NLA_NUL_STRING` must carry their NUL; an attribute's
//! length is a u16 and a message's a u32, so what does not fit is refused, not wrapped.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub const NLMSG_HDRLEN: usize = 16;
pub const GENL_HDRLEN: usize = 4;
pub const NLA_HDRLEN: usize = 4;
pub const NLA_F_NESTED: u16 = 1 << 15;
pub const NLA_F_NET_BYTEORDER: u16 = 1 << 14;
pub const NLA_TYPE_MASK: u16 = !(NLA_F_NESTED | NLA_F_NET_BYTEORDER);

pub const AF_INET: u16 = libc::AF_INET as u16;
pub const AF_INET6: u16 = libc::AF_INET6 as u16;

const fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// A message or a nest being written; closed with [`Encoder::end`].
#[derive(Debug, Clone, Copy)]
#[must_use = "close it with Encoder::end"]
pub struct Open {
    start: usize,
    is_message: bool,
}

/// Writes netlink messages back to back into one buffer (one `sendmsg` batch).
///
/// Writing never fails; an attribute, nest or message too long for its length field
/// marks the encoder instead, and [`Encoder::finish`] then refuses to hand out the
/// bytes, so they can never be sent with a wrapped length.
#[derive(Debug, Default, Clone)]
pub struct Encoder {
    buf: Vec<u8>,
    /// The first thing that did not fit, and where it starts in `buf`.
    too_long: Option<(usize, TooLong)>,
}

/// An attribute or message longer than its length field can say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("netlink {what} {ty} is {len} bytes, more than its length field holds ({max})")]
pub struct TooLong {
    /// `attribute` (nested or not) or `message`.
    pub what: &'static str,
    /// The attribute type, or the message type.
    pub ty: u16,
    pub len: usize,
    pub max: usize,
}

impl Encoder {
    pub fn new() -> Self {
        Encoder::default()
    }

    pub fn with_capacity(n: usize) -> Self {
        Encoder {
            buf: Vec::with_capacity(n),
            too_long: None,
        }
    }

    /// The bytes to send, unless something did not fit its length field.
    pub fn finish(&self) -> Result<&[u8], TooLong> {
        match self.too_long {
            Some((_, e)) => Err(e),
            None => Ok(&self.buf),
        }
    }

    /// The bytes written so far, whole or not.
    #[cfg(test)]
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn clear(&mut self) {
        self.truncate(0);
    }

    /// When something written from byte `start` on did not fit, drops all of that,
    /// so the encoder again holds only what it held at `start`, and says what it was.
    pub fn check_since(&mut self, start: usize) -> Result<(), TooLong> {
        match self.too_long {
            Some((at, e)) if at >= start => {
                self.truncate(start);
                Err(e)
            }
            _ => Ok(()),
        }
    }

    /// Drops everything from byte `len` on, and with it what did not fit there
    /// (whole messages only: a batch cut back to the start of a unit).
    pub fn truncate(&mut self, len: usize) {
        self.buf.truncate(len);
        if self.too_long.is_some_and(|(at, _)| at >= len) {
            self.too_long = None;
        }
    }

    /// Starts a generic-netlink message: `nlmsghdr` then `genlmsghdr` (no family header).
    pub fn message(&mut self, family: u16, flags: u16, seq: u32, cmd: u8, version: u8) -> Open {
        let start = self.buf.len();
        self.buf.extend_from_slice(&0u32.to_ne_bytes()); // length, patched by end()
        self.buf.extend_from_slice(&family.to_ne_bytes());
        self.buf.extend_from_slice(&flags.to_ne_bytes());
        self.buf.extend_from_slice(&seq.to_ne_bytes());
        self.buf.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel
        self.buf.extend_from_slice(&[cmd, version, 0, 0]);
        Open {
            start,
            is_message: true,
        }
    }

    /// Adds `flags` to the message that starts at byte `at`.
    pub fn add_flags(&mut self, at: usize, flags: u16) {
        let old = u16::from_ne_bytes([self.buf[at + 6], self.buf[at + 7]]);
        self.buf[at + 6..at + 8].copy_from_slice(&(old | flags).to_ne_bytes());
    }

    /// Starts a nested attribute. NLA_F_NESTED is set; IPVS parses both spellings.
    pub fn nest(&mut self, ty: u16) -> Open {
        let start = self.buf.len();
        self.buf.extend_from_slice(&0u16.to_ne_bytes());
        self.buf
            .extend_from_slice(&(ty | NLA_F_NESTED).to_ne_bytes());
        Open {
            start,
            is_message: false,
        }
    }

    /// Closes a message or nest, writing its length.
    pub fn end(&mut self, open: Open) {
        let at = open.start;
        let len = self.buf.len() - at;
        if open.is_message {
            let ty = u16::from_ne_bytes([self.buf[at + 4], self.buf[at + 5]]);
            let len = self.len32(at, ty, len);
            self.buf[at..at + 4].copy_from_slice(&len.to_ne_bytes());
        } else {
            let ty = u16::from_ne_bytes([self.buf[at + 2], self.buf[at + 3]]) & NLA_TYPE_MASK;
            let len = self.len16(at, ty, len);
            self.buf[at..at + 2].copy_from_slice(&len.to_ne_bytes());
        }
    }

    /// One attribute with a raw payload, padded to 4 bytes.
    pub fn attr(&mut self, ty: u16, payload: &[u8]) {
        self.attr_parts(ty, &[payload]);
    }

    /// One attribute whose payload is `parts` one after the other.
    fn attr_parts(&mut self, ty: u16, parts: &[&[u8]]) {
        let at = self.buf.len();
        let len = NLA_HDRLEN + parts.iter().map(|p| p.len()).sum::<usize>();
        let len = self.len16(at, ty, len);
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        for p in parts {
            self.buf.extend_from_slice(p);
        }
        self.pad();
    }

    /// An attribute's (or nest's) length field; 0, and the encoder marked, when
    /// `len` does not fit.
    fn len16(&mut self, at: usize, ty: u16, len: usize) -> u16 {
        u16::try_from(len).unwrap_or_else(|_| {
            self.mark(at, "attribute", ty, len, u16::MAX.into());
            0
        })
    }

    /// A message's length field, likewise.
    fn len32(&mut self, at: usize, ty: u16, len: usize) -> u32 {
        u32::try_from(len).unwrap_or_else(|_| {
            self.mark(at, "message", ty, len, u32::MAX as usize);
            0
        })
    }

    /// Keeps the first thing that did not fit.
    fn mark(&mut self, at: usize, what: &'static str, ty: u16, len: usize, max: usize) {
        if self.too_long.is_none() {
            self.too_long = Some((at, TooLong { what, ty, len, max }));
        }
    }

    pub fn u8(&mut self, ty: u16, v: u8) {
        self.attr(ty, &[v]);
    }

    pub fn u16(&mut self, ty: u16, v: u16) {
        self.attr(ty, &v.to_ne_bytes());
    }

    /// A u16 the kernel reads with `nla_get_be16` (ports).
    pub fn be16(&mut self, ty: u16, v: u16) {
        self.attr(ty, &v.to_be_bytes());
    }

    pub fn u32(&mut self, ty: u16, v: u32) {
        self.attr(ty, &v.to_ne_bytes());
    }

    pub fn u64(&mut self, ty: u16, v: u64) {
        self.attr(ty, &v.to_ne_bytes());
    }

    /// A NUL-terminated string (`NLA_NUL_STRING`).
    pub fn string(&mut self, ty: u16, s: &str) {
        self.attr_parts(ty, &[s.as_bytes(), &[0]]);
    }

    /// An address as `union nf_inet_addr`: always 16 bytes, IPv4 in the first four
    /// (what the kernel sends; it also accepts 4 bytes and zero-fills).
    pub fn inet_addr(&mut self, ty: u16, a: &IpAddr) {
        let mut b = [0u8; 16];
        match a {
            IpAddr::V4(v4) => b[..4].copy_from_slice(&v4.octets()),
            IpAddr::V6(v6) => b = v6.octets(),
        }
        self.attr(ty, &b);
    }

    fn pad(&mut self) {
        let n = align4(self.buf.len()) - self.buf.len();
        self.buf.extend_from_slice(&[0u8; 3][..n]);
    }
}

/// Why bytes from the kernel could not be turned into the model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("truncated netlink message or attribute")]
    Truncated,
    #[error("the kernel sent no `{0}` attribute")]
    Missing(&'static str),
    #[error("attribute `{name}` has {len} bytes, expected {want}")]
    Length {
        name: &'static str,
        len: usize,
        want: usize,
    },
    #[error("attribute `{0}` is not NUL-terminated UTF-8 text")]
    Text(&'static str),
    #[error("service {service} uses scheduler `{name}`, which lvsh does not know (known: {known})")]
    UnknownScheduler {
        service: String,
        name: String,
        known: String,
    },
    #[error(
        "service {service} uses persistence engine `{name}`, which lvsh does not know (known: sip)"
    )]
    UnknownPe { service: String, name: String },
    #[error("the kernel answered with error code {0}, which is no negated errno")]
    Errno(i32),
    #[error("unknown address family {0} (expected AF_INET 2 or AF_INET6 10)")]
    Family(u16),
    #[error("service uses protocol number {0}; lvsh knows tcp (6), udp (17) and sctp (132)")]
    Protocol(u16),
    #[error("destination {dest} has unknown forwarding method {method}")]
    Forward { dest: String, method: u32 },
    #[error("destination {dest} has unknown tunnel type {kind}")]
    TunnelType { dest: String, kind: u8 },
    #[error("destination {dest} has tunnel flags {flags:#x}, which lvsh cannot represent")]
    TunnelFlags { dest: String, flags: u16 },
    #[error("IPv6 service has persistence prefix {0}, outside 1..=128")]
    Netmask(u32),
    #[error("unknown sync daemon state {0}")]
    DaemonState(u32),
    #[error("sync daemon has sync id {0}, outside 0..=255")]
    SyncId(u32),
}

/// Attributes of one level indexed by type, like the kernel's `nla_parse`: types
/// above `N - 1` are ignored, the last duplicate wins, NLA_F_* bits are masked off.
#[derive(Debug)]
pub struct Table<'a, const N: usize> {
    slots: [Option<&'a [u8]>; N],
}

impl<'a, const N: usize> Table<'a, N> {
    pub fn parse(mut rest: &'a [u8]) -> Result<Self, DecodeError> {
        let mut slots = [None; N];
        while rest.len() >= NLA_HDRLEN {
            let len = u16::from_ne_bytes([rest[0], rest[1]]) as usize;
            let ty = u16::from_ne_bytes([rest[2], rest[3]]) & NLA_TYPE_MASK;
            if len < NLA_HDRLEN || len > rest.len() {
                return Err(DecodeError::Truncated);
            }
            if (ty as usize) < N {
                slots[ty as usize] = Some(&rest[NLA_HDRLEN..len]);
            }
            rest = &rest[align4(len).min(rest.len())..];
        }
        Ok(Table { slots })
    }

    pub fn get(&self, ty: u16) -> Option<&'a [u8]> {
        self.slots.get(ty as usize).copied().flatten()
    }

    pub fn require(&self, ty: u16, name: &'static str) -> Result<&'a [u8], DecodeError> {
        self.get(ty).ok_or(DecodeError::Missing(name))
    }

    pub fn u8(&self, ty: u16, name: &'static str) -> Result<Option<u8>, DecodeError> {
        self.fixed::<1>(ty, name).map(|o| o.map(|b| b[0]))
    }

    pub fn u16(&self, ty: u16, name: &'static str) -> Result<Option<u16>, DecodeError> {
        self.fixed::<2>(ty, name).map(|o| o.map(u16::from_ne_bytes))
    }

    pub fn be16(&self, ty: u16, name: &'static str) -> Result<Option<u16>, DecodeError> {
        self.fixed::<2>(ty, name).map(|o| o.map(u16::from_be_bytes))
    }

    pub fn u32(&self, ty: u16, name: &'static str) -> Result<Option<u32>, DecodeError> {
        self.fixed::<4>(ty, name).map(|o| o.map(u32::from_ne_bytes))
    }

    /// A counter the kernel sends as u32 in STATS and u64 in STATS64.
    pub fn uint(&self, ty: u16, name: &'static str) -> Result<Option<u64>, DecodeError> {
        match self.get(ty) {
            None => Ok(None),
            Some(b) if b.len() == 4 => Ok(Some(u32::from_ne_bytes(b.try_into().unwrap()) as u64)),
            Some(b) if b.len() == 8 => Ok(Some(u64::from_ne_bytes(b.try_into().unwrap()))),
            Some(b) => Err(DecodeError::Length {
                name,
                len: b.len(),
                want: 8,
            }),
        }
    }

    /// A NUL-terminated string; text after the first NUL is ignored.
    pub fn string(&self, ty: u16, name: &'static str) -> Result<Option<&'a str>, DecodeError> {
        let Some(b) = self.get(ty) else {
            return Ok(None);
        };
        let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
        std::str::from_utf8(&b[..end])
            .map(Some)
            .map_err(|_| DecodeError::Text(name))
    }

    /// Exactly `M` bytes.
    pub fn fixed<const M: usize>(
        &self,
        ty: u16,
        name: &'static str,
    ) -> Result<Option<[u8; M]>, DecodeError> {
        match self.get(ty) {
            None => Ok(None),
            Some(b) => b.try_into().map(Some).map_err(|_| DecodeError::Length {
                name,
                len: b.len(),
                want: M,
            }),
        }
    }
}

/// Reads a `union nf_inet_addr` (or a bare 4-byte IPv4 address) of family `af`.
pub fn inet_addr(af: u16, b: &[u8], name: &'static str) -> Result<IpAddr, DecodeError> {
    match af {
        AF_INET if b.len() >= 4 => Ok(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))),
        AF_INET6 if b.len() >= 16 => {
            let octets: [u8; 16] = b[..16].try_into().unwrap();
            Ok(IpAddr::V6(Ipv6Addr::from(octets)))
        }
        AF_INET | AF_INET6 => Err(DecodeError::Length {
            name,
            len: b.len(),
            want: 16,
        }),
        other => Err(DecodeError::Family(other)),
    }
}

/// One netlink message inside a receive buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    pub ty: u16,
    pub flags: u16,
    pub seq: u32,
    /// Everything after the 16-byte `nlmsghdr`.
    pub payload: &'a [u8],
}

/// The messages of one datagram, in order.
pub fn messages(mut buf: &[u8]) -> impl Iterator<Item = Result<Message<'_>, DecodeError>> {
    std::iter::from_fn(move || {
        if buf.len() < NLMSG_HDRLEN {
            return None;
        }
        let len = u32::from_ne_bytes(buf[0..4].try_into().unwrap()) as usize;
        if len < NLMSG_HDRLEN || len > buf.len() {
            buf = &[];
            return Some(Err(DecodeError::Truncated));
        }
        let m = Message {
            ty: u16::from_ne_bytes([buf[4], buf[5]]),
            flags: u16::from_ne_bytes([buf[6], buf[7]]),
            seq: u32::from_ne_bytes(buf[8..12].try_into().unwrap()),
            payload: &buf[NLMSG_HDRLEN..len],
        };
        buf = &buf[align4(len).min(buf.len())..];
        Some(Ok(m))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_padded_and_read_back() {
        let mut e = Encoder::new();
        e.u8(1, 7);
        e.string(2, "wrr");
        e.be16(3, 443);
        let n = e.nest(4);
        e.u64(1, u64::MAX - 1);
        e.end(n);
        assert_eq!(
            e.bytes(),
            [
                5, 0, 1, 0, 7, 0, 0, 0, // u8 + 3 pad
                8, 0, 2, 0, b'w', b'r', b'r', 0, // "wrr\0"
                6, 0, 3, 0, 0x01, 0xbb, 0, 0, // port 443 big-endian
                16, 0, 4, 0x80, // nest with NLA_F_NESTED
                12, 0, 1, 0, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            ]
        );
        let t = Table::<5>::parse(e.bytes()).unwrap();
        assert_eq!(t.u8(1, "a").unwrap(), Some(7));
        assert_eq!(t.string(2, "b").unwrap(), Some("wrr"));
        assert_eq!(t.be16(3, "c").unwrap(), Some(443));
        let inner = Table::<2>::parse(t.get(4).unwrap()).unwrap();
        assert_eq!(inner.uint(1, "d").unwrap(), Some(u64::MAX - 1));
        assert_eq!(t.get(0), None);
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        assert_eq!(
            Table::<4>::parse(&[9, 0, 1, 0, 1]).unwrap_err(),
            DecodeError::Truncated
        );
        assert_eq!(
            Table::<4>::parse(&[2, 0, 1, 0]).unwrap_err(),
            DecodeError::Truncated
        );
        let t = Table::<4>::parse(&[6, 0, 1, 0, 1, 2, 0, 0]).unwrap();
        assert!(matches!(
            t.u32(1, "x"),
            Err(DecodeError::Length {
                len: 2,
                want: 4,
                ..
            })
        ));
        // types beyond the table are ignored, like the kernel's nla_parse
        assert!(Table::<2>::parse(&[8, 0, 9, 0, 1, 2, 3, 4]).is_ok());
        let bad: Vec<_> = messages(&[40, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]).collect();
        assert_eq!(bad, [Err(DecodeError::Truncated)]);
    }

    #[test]
    fn lengths_that_do_not_fit_are_refused_not_wrapped() {
        // 4 + 65531 = 65535 is the longest attribute there is.
        let mut e = Encoder::new();
        e.attr(1, &[7; 65531]);
        assert_eq!(e.finish().unwrap()[..4], [0xff, 0xff, 1, 0]);
        let too_long = |what, ty, len| TooLong {
            what,
            ty,
            len,
            max: 65535,
        };
        let mut e = Encoder::new();
        e.attr(2, &[7; 65532]);
        assert_eq!(e.finish(), Err(too_long("attribute", 2, 65536)));
        let mut e = Encoder::new();
        e.string(3, &"x".repeat(70_000));
        assert_eq!(e.finish(), Err(too_long("attribute", 3, 70_005)));
        // Attributes that fit, in a nest that does not.
        let mut e = Encoder::new();
        let n = e.nest(4);
        e.attr(1, &[0; 40_000]);
        e.attr(2, &[0; 40_000]);
        e.end(n);
        assert_eq!(e.finish(), Err(too_long("attribute", 4, 80_012)));
        let m = e.message(0x24, 5, 1, 1, 1);
        e.end(m);
        assert!(e.finish().is_err(), "the first refusal stays");
    }

    #[test]
    fn what_did_not_fit_is_dropped_and_the_rest_kept() {
        let mut e = Encoder::new();
        e.u32(1, 1);
        let start = e.len();
        assert_eq!(e.check_since(start), Ok(()));
        e.u8(2, 2);
        e.attr(3, &[0; 70_000]);
        assert_eq!(e.check_since(start).unwrap_err().ty, 3);
        assert_eq!(e.finish().unwrap(), [8, 0, 1, 0, 1, 0, 0, 0]);
        // A refusal before `start` is not dropped by a later check.
        e.attr(4, &[0; 70_000]);
        let later = e.len();
        assert_eq!(e.check_since(later), Ok(()));
        assert!(e.finish().is_err());
        e.clear();
        assert!(e.finish().unwrap().is_empty());
    }

    #[test]
    fn messages_are_framed() {
        let mut e = Encoder::new();
        let m = e.message(0x24, 5, 7, 1, 1);
        e.u32(1, 1);
        e.end(m);
        let m = e.message(0x24, 5, 8, 2, 1);
        e.end(m);
        let all: Vec<_> = messages(e.bytes()).map(Result::unwrap).collect();
        assert_eq!(all.len(), 2);
        assert_eq!((all[0].ty, all[0].flags, all[0].seq), (0x24, 5, 7));
        assert_eq!(all[0].payload, [1, 1, 0, 0, 8, 0, 1, 0, 1, 0, 0, 0]);
        assert_eq!(all[1].seq, 8);
        assert_eq!(all[1].payload, [2, 1, 0, 0]);
    }

    #[test]
    fn addresses_are_sixteen_bytes() {
        let mut e = Encoder::new();
        e.inet_addr(3, &"10.0.0.1".parse().unwrap());
        assert_eq!(&e.bytes()[..8], [20, 0, 3, 0, 10, 0, 0, 1]);
        assert!(e.bytes()[8..].iter().all(|&b| b == 0));
        let t = Table::<4>::parse(e.bytes()).unwrap();
        let a = inet_addr(AF_INET, t.get(3).unwrap(), "addr").unwrap();
        assert_eq!(a, "10.0.0.1".parse::<IpAddr>().unwrap());
        assert!(matches!(
            inet_addr(AF_INET6, &[0; 4], "addr"),
            Err(DecodeError::Length { .. })
        ));
        assert_eq!(
            inet_addr(7, &[0; 16], "addr").unwrap_err(),
            DecodeError::Family(7)
        );
    }
}
