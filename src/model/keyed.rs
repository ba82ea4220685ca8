//! Maps of objects serialize as plain lists: JSON object keys must be strings, and
//! the key is already inside each object.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

/// An object that carries its own identity.
pub trait Keyed {
    type Key: Ord + Clone;
    fn key(&self) -> Self::Key;
}

pub fn serialize<K, V: Serialize, S: Serializer>(
    map: &BTreeMap<K, V>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(map.values())
}

pub fn deserialize<'de, V, D>(d: D) -> Result<BTreeMap<V::Key, V>, D::Error>
where
    V: Keyed + Deserialize<'de>,
    D: Deserializer<'de>,
{
    let items = Vec::<V>::deserialize(d)?;
    let mut map = BTreeMap::new();
    for v in items {
        if map.insert(v.key(), v).is_some() {
            return Err(serde::de::Error::custom("duplicate object in list"));
        }
    }
    Ok(map)
}
