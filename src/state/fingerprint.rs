//! A fingerprint of what the kernel holds, for plans saved to a file: applying one
//! is refused when the kernel no longer holds the state it was computed against.

use super::Observed;
use sha2::{Digest, Sha256};

impl Observed {
    /// `sha256:` and the hex digest of the configuration: every service, real server,
    /// mark, timeout and daemon setting, and what `inet lvsh` holds that lvsh did not
    /// write. Counters, rates and connection counts do not take part: they change
    /// with traffic, not with configuration.
    pub fn fingerprint(&self) -> String {
        let mut config = self.balancer.clone();
        for s in config.services.values_mut() {
            s.stats = Default::default();
            for d in s.dests.values_mut() {
                d.stats = Default::default();
                d.counters = Default::default();
            }
        }
        let mut hash = Sha256::new();
        hash.update(serde_json::to_vec(&config).expect("the model always serializes"));
        for f in &self.foreign {
            hash.update(b"\n");
            hash.update(f.to_string().as_bytes());
        }
        tagged(&hash.finalize())
    }
}

/// `sha256:HEX` of `bytes`: how lvsh names a content hash (fingerprints, scripts).
pub fn sha256(bytes: &[u8]) -> String {
    tagged(&Sha256::digest(bytes))
}

fn tagged(digest: &[u8]) -> String {
    format!("sha256:{}", crate::hex::lower_hex(digest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Balancer, Dest, DestKey, Protocol, Service, ServiceKey};

    fn observed(weight: u32, active: u32) -> Observed {
        let key = ServiceKey::inet(Protocol::Tcp, [10, 0, 0, 1].into(), 80);
        let mut s = Service::new(key);
        let mut d = Dest::new(DestKey {
            address: [10, 0, 1, 1].into(),
            port: 80,
        });
        d.weight = weight;
        d.counters.active = active;
        s.dests.insert(d.key, d);
        let mut b = Balancer::default();
        b.services.insert(key, s);
        Observed {
            balancer: b,
            foreign: vec![],
        }
    }

    #[test]
    fn configuration_changes_the_fingerprint_traffic_does_not() {
        let a = observed(1, 0).fingerprint();
        assert!(a.starts_with("sha256:") && a.len() == 7 + 64, "{a}");
        assert_eq!(a, observed(1, 25).fingerprint());
        assert_ne!(a, observed(2, 0).fingerprint());
        assert_eq!(
            sha256(b"abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
