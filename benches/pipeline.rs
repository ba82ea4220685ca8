//! What `lvsh plan` costs besides reading the kernel: evaluate a generated script
//! (N services × 4 NAT real servers, written the way an operator would, with a loop
//! over data), validate it and diff it against an empty and an identical state.
//! 2,000 and 8,000 services show how the cost grows.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use lvsh::{
    dsl::{self, Options},
    plan::{Mode, diff},
};
use std::{hint::black_box, time::Duration};

/// A script in the object layout of the lab benchmark: service i is
/// `10.1.(i/250).(i%250+1):80` wrr, its real server j `10.2.j.(i%250+1):8080` NAT weight j.
fn script(services: usize) -> String {
    format!(
        r#"
for i in 0..{services} {{
    let host = `${{i / 250 % 256}}.${{i % 250 + 1}}`;
    let svc = service(`10.1.${{host}}`, 80).scheduler("wrr");
    for j in 1..=4 {{
        svc.rs(rs(`10.2.${{j}}.${{i % 250 + 1}}`, 8080).nat().weight(j));
    }}
}}
"#
    )
}

fn pipeline(c: &mut Criterion) {
    let mut group = c.benchmark_group("evaluate+validate+plan");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_millis(500));
    let opts = Options::default();
    for n in [2_000usize, 8_000] {
        let src = script(n);
        let model = dsl::evaluate_source("bench.rhai", &src, None, &opts)
            .unwrap()
            .balancer;
        assert_eq!(model.services.len(), n);
        group.bench_with_input(BenchmarkId::new("against empty", n), &src, |b, src| {
            b.iter(|| {
                let desired = dsl::evaluate_source("bench.rhai", src, None, &opts)
                    .unwrap()
                    .balancer;
                black_box(diff(&desired, &Default::default(), Mode::Replace))
            })
        });
        group.bench_with_input(BenchmarkId::new("in sync", n), &src, |b, src| {
            b.iter(|| {
                let desired = dsl::evaluate_source("bench.rhai", src, None, &opts)
                    .unwrap()
                    .balancer;
                black_box(diff(&desired, &model, Mode::Replace))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
