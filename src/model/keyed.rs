//! Maps of objects serialize as plain lists: JSON object keys must be strings, and
//! the key is already inside each object.

use serde::{
    Deserialize, Deserializer, Serialize, Serializer,
    de::{SeqAccess, Visitor},
};
use std::{collections::BTreeMap, fmt, marker::PhantomData};

/// An object that carries its own identity.
pub trait Keyed {
    type Key: Ord + Clone + fmt::Display;
    /// What the object is called in errors: "service".
    const WHAT: &'static str;
    fn key(&self) -> Self::Key;
}

pub fn serialize<K, V: Serialize, S: Serializer>(
    map: &BTreeMap<K, V>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(map.values())
}

/// Straight into the map, without a vector of every object first.
pub fn deserialize<'de, V, D>(d: D) -> Result<BTreeMap<V::Key, V>, D::Error>
where
    V: Keyed + Deserialize<'de>,
    D: Deserializer<'de>,
{
    struct List<V>(PhantomData<V>);

    impl<'de, V: Keyed + Deserialize<'de>> Visitor<'de> for List<V> {
        type Value = BTreeMap<V::Key, V>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a sequence")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut map = BTreeMap::new();
            while let Some(v) = seq.next_element::<V>()? {
                let key = v.key();
                if map.insert(key.clone(), v).is_some() {
                    return Err(serde::de::Error::custom(format!(
                        "{} `{key}` is listed twice",
                        V::WHAT
                    )));
                }
            }
            Ok(map)
        }
    }

    d.deserialize_seq(List(PhantomData))
}
