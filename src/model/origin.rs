use std::sync::Arc;

/// A place in a script: file name, 1-based line and character column.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pos {
    pub source: Arc<str>,
    pub line: usize,
    pub column: usize,
}

/// Where an object was declared, so errors can point at the script.
///
/// It is not kernel state: the model's objects leave it out of their equality, which
/// is what lets desired and observed models be compared with `==`. Origins
/// themselves compare by place. Never serialized.
///
/// One pointer wide: every object and every setting of a script object carries one,
/// and the objects a loop creates share the positions of its few calls (the script
/// side hands out one shared `Origin` per position).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin(Option<Arc<Pos>>);

impl Origin {
    /// No place (a default, or an object read from the kernel).
    pub const NONE: Origin = Origin(None);

    pub fn at(source: Arc<str>, line: usize, column: usize) -> Self {
        Origin(Some(Arc::new(Pos {
            source,
            line,
            column,
        })))
    }

    pub fn pos(&self) -> Option<&Pos> {
        self.0.as_deref()
    }

    pub fn is_none(&self) -> bool {
        self.0.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_compare_by_place() {
        let at = |line| Origin::at(Arc::from("site.rhai"), line, 1);
        assert_eq!(at(3), at(3));
        assert_ne!(at(3), at(4));
        assert_ne!(at(3), Origin::at(Arc::from("other.rhai"), 3, 1));
        assert_ne!(at(3), Origin::NONE);
        assert_eq!(Origin::NONE, Origin::default());
    }
}
