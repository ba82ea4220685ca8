use crate::model::Balancer;
pub fn to_script(_b: &Balancer, _h: &str) -> String {
    String::new()
}
