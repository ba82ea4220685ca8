//! Diff and render of large balancers: N services × 4 real servers against an empty
//! kernel, an identical one, and one where 1% of the services differ. 2,000 and 8,000
//! services show that the cost grows linearly.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use lvsh::model::{Balancer, Dest, DestKey, Forward, Protocol, Scheduler, Service, ServiceKey};
use lvsh::plan::{Mode, diff};
use std::{hint::black_box, net::Ipv4Addr, time::Duration};

const DESTS: u32 = 4;

fn balancer(services: u32) -> Balancer {
    let mut b = Balancer::default();
    for i in 0..services {
        let vip = Ipv4Addr::from(0x0a00_0000 + i);
        let key = ServiceKey::inet(Protocol::Tcp, vip.into(), 80);
        let mut s = Service::new(key);
        s.scheduler = Scheduler::Wlc;
        s.persistence = (i % 2 == 0).then_some(300);
        for j in 0..DESTS {
            let dk = DestKey {
                address: Ipv4Addr::from(0xac10_0000 + i * DESTS + j).into(),
                port: 8080,
            };
            let mut d = Dest::new(dk);
            d.forward = Forward::Masq;
            d.weight = 1 + j;
            s.dests.insert(dk, d);
        }
        b.services.insert(key, s);
    }
    b
}

/// The same balancer with every hundredth service touched: a new scheduler, a changed
/// weight, a real server swapped, or the service replaced by another.
fn one_percent_changed(b: &Balancer) -> Balancer {
    let mut c = b.clone();
    let keys: Vec<ServiceKey> = c.services.keys().copied().collect();
    for (n, key) in keys.iter().enumerate().filter(|(n, _)| n % 100 == 0) {
        match (n / 100) % 4 {
            0 => c.services.get_mut(key).unwrap().scheduler = Scheduler::Rr,
            1 => {
                let s = c.services.get_mut(key).unwrap();
                s.dests.values_mut().next().unwrap().weight = 0;
            }
            2 => {
                let s = c.services.get_mut(key).unwrap();
                let first = *s.dests.keys().next().unwrap();
                let d = s.dests.remove(&first).unwrap();
                let moved = DestKey {
                    port: 9090,
                    ..first
                };
                s.dests.insert(moved, Dest { key: moved, ..d });
            }
            _ => {
                let mut s = c.services.remove(key).unwrap();
                let ServiceKey::Inet { address, .. } = s.key else {
                    unreachable!()
                };
                s.key = ServiceKey::inet(Protocol::Tcp, address, 443);
                c.services.insert(s.key, s);
            }
        }
    }
    c
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("plan");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    for n in [2_000, 8_000] {
        let desired = balancer(n);
        let cases = [
            ("empty", Balancer::default()),
            ("identical", desired.clone()),
            ("1pct", one_percent_changed(&desired)),
        ];
        for (name, observed) in &cases {
            g.bench_with_input(
                BenchmarkId::new(format!("diff/{name}"), n),
                observed,
                |b, o| b.iter(|| diff(black_box(&desired), black_box(o), Mode::Replace)),
            );
            g.bench_with_input(
                BenchmarkId::new(format!("diff+render/{name}"), n),
                observed,
                |b, o| {
                    b.iter(|| diff(black_box(&desired), black_box(o), Mode::Replace).render(false))
                },
            );
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
