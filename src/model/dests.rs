use super::{Dest, DestKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::ops::Index;

/// The destinations of a service, in key order.
///
/// A sorted vector rather than a `BTreeMap`: a service has a handful of real servers,
/// and a B-tree leaf has room for eleven, so 10,000 services of 4 destinations took
/// 19 MiB as a map and take the destinations' own size (under 4 MiB) as a vector.
/// Lookups are binary searches; the methods are those of the map it replaces.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dests(Vec<Dest>);

impl Dests {
    pub const fn new() -> Self {
        Dests(Vec::new())
    }

    fn find(&self, key: &DestKey) -> Result<usize, usize> {
        self.0.binary_search_by(|d| d.key.cmp(key))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn clear(&mut self) {
        self.0.clear()
    }

    pub fn get(&self, key: &DestKey) -> Option<&Dest> {
        self.find(key).ok().map(|i| &self.0[i])
    }

    pub fn get_mut(&mut self, key: &DestKey) -> Option<&mut Dest> {
        self.find(key).ok().map(|i| &mut self.0[i])
    }

    pub fn contains_key(&self, key: &DestKey) -> bool {
        self.find(key).is_ok()
    }

    /// Stores `dest` under `key` (which must be `dest.key`), returning the one it
    /// replaces. Appending in key order, as decoders and scripts mostly do, is cheap.
    pub fn insert(&mut self, key: DestKey, dest: Dest) -> Option<Dest> {
        debug_assert_eq!(key, dest.key, "a destination is stored under its own key");
        if self.0.last().is_none_or(|last| last.key < key) {
            self.0.push(dest);
            return None;
        }
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i], dest)),
            Err(i) => {
                self.0.insert(i, dest);
                None
            }
        }
    }

    /// The destination with `key`, inserted from `make` when there is none.
    pub fn get_or_insert_with(&mut self, key: DestKey, make: impl FnOnce() -> Dest) -> &mut Dest {
        let i = match self.find(&key) {
            Ok(i) => i,
            Err(i) => {
                let dest = make();
                debug_assert_eq!(key, dest.key, "a destination is stored under its own key");
                self.0.insert(i, dest);
                i
            }
        };
        &mut self.0[i]
    }

    pub fn remove(&mut self, key: &DestKey) -> Option<Dest> {
        self.find(key).ok().map(|i| self.0.remove(i))
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &DestKey> + ExactSizeIterator {
        self.0.iter().map(|d| &d.key)
    }

    pub fn values(&self) -> std::slice::Iter<'_, Dest> {
        self.0.iter()
    }

    pub fn values_mut(&mut self) -> std::slice::IterMut<'_, Dest> {
        self.0.iter_mut()
    }

    /// Key and destination, like a map's `iter`.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&DestKey, &Dest)> + ExactSizeIterator {
        self.0.iter().map(|d| (&d.key, d))
    }

    /// Builds the collection from destinations in any order; the first wins on a
    /// duplicate key, which is returned as the error.
    fn from_unsorted(mut v: Vec<Dest>) -> Result<Self, DestKey> {
        // Stable: equal keys keep their order, so the first of duplicates is found.
        v.sort_by_key(|d| d.key);
        if let Some(w) = v.windows(2).find(|w| w[0].key == w[1].key) {
            return Err(w[0].key);
        }
        Ok(Dests(v))
    }
}

impl Index<&DestKey> for Dests {
    type Output = Dest;
    fn index(&self, key: &DestKey) -> &Dest {
        self.get(key).expect("no destination with this key")
    }
}

impl FromIterator<(DestKey, Dest)> for Dests {
    /// Later destinations replace earlier ones with the same key, as in a map.
    fn from_iter<I: IntoIterator<Item = (DestKey, Dest)>>(iter: I) -> Self {
        let mut d = Dests::new();
        d.extend(iter);
        d
    }
}

impl Extend<(DestKey, Dest)> for Dests {
    fn extend<I: IntoIterator<Item = (DestKey, Dest)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<'a> IntoIterator for &'a Dests {
    type Item = (&'a DestKey, &'a Dest);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, Dest>, fn(&Dest) -> (&DestKey, &Dest)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|d| (&d.key, d))
    }
}

/// A plain list of destination objects, as the map serialized before (see `keyed`).
impl Serialize for Dests {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(&self.0)
    }
}

impl<'de> Deserialize<'de> for Dests {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Dests::from_unsorted(Vec::deserialize(d)?)
            .map_err(|key| serde::de::Error::custom(format!("real server `{key}` is listed twice")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dest(addr: &str, port: u16) -> Dest {
        Dest::new(DestKey {
            address: addr.parse().unwrap(),
            port,
        })
    }

    #[test]
    fn keeps_key_order_whatever_the_insert_order() {
        let mut d = Dests::new();
        for (a, p) in [
            ("10.0.0.2", 80),
            ("10.0.0.1", 81),
            ("10.0.0.3", 1),
            ("10.0.0.1", 80),
        ] {
            let x = dest(a, p);
            assert!(d.insert(x.key, x).is_none());
        }
        let keys: Vec<String> = d.keys().map(|k| k.to_string()).collect();
        assert_eq!(
            keys,
            ["10.0.0.1:80", "10.0.0.1:81", "10.0.0.2:80", "10.0.0.3:1"]
        );
        let mut w = dest("10.0.0.2", 80);
        w.weight = 7;
        assert_eq!(d.insert(w.key, w).map(|o| o.weight), Some(1));
        assert_eq!(d.len(), 4);
        assert_eq!(d[&dest("10.0.0.2", 80).key].weight, 7);
        assert!(d.remove(&dest("10.0.0.1", 81).key).is_some());
        assert!(!d.contains_key(&dest("10.0.0.1", 81).key));
        assert!(d.get(&dest("10.0.0.9", 80).key).is_none());
        let k = dest("10.0.0.0", 5).key;
        d.get_or_insert_with(k, || Dest::new(k)).weight = 3;
        assert_eq!(d.values().next().map(|x| (x.key, x.weight)), Some((k, 3)));
    }

    #[test]
    fn json_is_a_sorted_list_and_duplicates_are_refused() {
        let j = r#"[{"address":"10.0.0.2","port":80},{"address":"10.0.0.1","port":80}]"#;
        let d: Dests = serde_json::from_str(j).unwrap();
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#"[{"address":"10.0.0.1","port":80,"forward":{"method":"dr"},"weight":1},{"address":"10.0.0.2","port":80,"forward":{"method":"dr"},"weight":1}]"#
        );
        let dup = r#"[{"address":"10.0.0.1","port":80},{"address":"10.0.0.1","port":80}]"#;
        assert!(serde_json::from_str::<Dests>(dup).is_err());
    }
}
