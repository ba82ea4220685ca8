//! A writer tests read back: the REPL's stdout or stderr.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

/// Clones share one buffer: one goes into the REPL, the test keeps the other.
#[derive(Clone, Default)]
pub(crate) struct Buf(Rc<RefCell<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buf {
    pub fn text(&self) -> String {
        String::from_utf8(self.0.borrow().clone()).unwrap()
    }
}
