//! What an apply needs besides the plan: a person's yes, and for plans that delete
//! most of the balancer, a second, explicit one.

use crate::{
    model::Balancer,
    plan::{Action, Object, Plan},
};

/// The services a plan deletes and the services the kernel holds, when the plan
/// deletes more than half of them (all of one, two of three, ...) and leaves the
/// kernel with fewer than half: such an apply needs `--allow-mass-delete`. An empty
/// or truncated script piped by mistake must not empty a director; a script that
/// replaces its services with others (a new port, a new VIP) is not that.
pub fn mass_delete(plan: &Plan, observed: &Balancer) -> Option<(usize, usize)> {
    let count = |action| {
        plan.changes
            .iter()
            .filter(|c| c.action == action && matches!(c.object, Object::Service(_)))
            .count()
    };
    let (deleted, added) = (count(Action::Delete), count(Action::Add));
    let total = observed.services.len();
    let left = total - deleted + added;
    (deleted * 2 > total && left * 2 < total).then_some((deleted, total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        model::{Protocol, Service, ServiceKey},
        plan::{Mode, diff},
    };

    fn kernel(n: u8) -> Balancer {
        let mut b = Balancer::default();
        for i in 0..n {
            let key = ServiceKey::inet(Protocol::Tcp, [10, 0, 0, i].into(), 80);
            b.services.insert(key, Service::new(key));
        }
        b
    }

    #[test]
    fn deleting_more_than_half_of_the_services_needs_consent() {
        let observed = kernel(4);
        let keep = |n| {
            let mut d = observed.clone();
            let keys: Vec<_> = d.services.keys().copied().collect();
            for k in &keys[n..] {
                d.services.remove(k);
            }
            d
        };
        let check = |d: &Balancer| mass_delete(&diff(d, &observed, Mode::Replace), &observed);
        assert_eq!(check(&keep(4)), None);
        assert_eq!(check(&keep(2)), None, "half is not more than half");
        assert_eq!(check(&keep(1)), Some((3, 4)));
        assert_eq!(check(&Balancer::default()), Some((4, 4)));
        let one = kernel(1);
        assert_eq!(
            mass_delete(&diff(&Balancer::default(), &one, Mode::Replace), &one),
            Some((1, 1))
        );
        assert_eq!(
            mass_delete(
                &diff(&one, &Balancer::default(), Mode::Replace),
                &Balancer::default()
            ),
            None
        );
    }
}
