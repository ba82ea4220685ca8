//! STUB for the cli branch only.
use crate::model::Balancer;
pub enum Mode {
    Replace,
    Merge,
}
pub struct Plan;
impl Plan {
    pub fn is_empty(&self) -> bool {
        true
    }
    pub fn counts(&self) -> (usize, usize, usize) {
        (0, 0, 0)
    }
    pub fn render(&self, _c: bool) -> String {
        String::new()
    }
    pub fn to_json(&self) -> String {
        String::new()
    }
}
pub fn diff(_d: &Balancer, _o: &Balancer, _m: Mode) -> Plan {
    Plan
}
