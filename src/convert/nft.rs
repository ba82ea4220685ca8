use crate::model::Balancer;
pub fn to_nft(_b: &Balancer) -> String {
    String::new()
}
