use crate::model::Balancer;
pub fn to_ipvsadm(_b: &Balancer) -> String {
    String::new()
}
pub fn unexpressible(_b: &Balancer) -> Vec<String> {
    vec![]
}
