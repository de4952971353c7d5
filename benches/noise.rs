//! ns per sample: our `Simplex` (checked `sample`, batched `sample_many`)
//! versus noise-rs 0.9 `Simplex` / `OpenSimplex` (2-4 D).
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use nabla::noise::Simplex;
use noise::NoiseFn;

const COUNT: usize = 4096;

fn points(n: usize) -> Vec<f64> {
    let mut s = 0x1234_5678_u64;
    (0..COUNT * n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 100.0 - 50.0
        })
        .collect()
}

fn theirs<const N: usize, F: NoiseFn<f64, N>>(f: &F, pts: &[f64]) -> f64 {
    let mut acc = 0.0;
    for p in pts.chunks_exact(N) {
        let a: [f64; N] = p.try_into().unwrap();
        acc += f.get(black_box(a));
    }
    acc
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("noise");
    group.throughput(Throughput::Elements(COUNT as u64));
    for n in [2usize, 3, 4, 8] {
        let pts = points(n);
        let ours = Simplex::new(n, 7).unwrap();
        group.bench_with_input(BenchmarkId::new("ours_sample", n), &pts, |b, pts| {
            b.iter(|| {
                let mut acc = 0.0;
                for p in pts.chunks_exact(n) {
                    acc += ours.sample(black_box(p)).unwrap();
                }
                acc
            })
        });
        let mut out = vec![0.0; COUNT];
        group.bench_with_input(BenchmarkId::new("ours_sample_many", n), &pts, |b, pts| {
            b.iter(|| {
                ours.sample_many(black_box(pts), &mut out).unwrap();
                out[COUNT - 1]
            })
        });
        let simplex = noise::Simplex::new(7);
        let open = noise::OpenSimplex::new(7);
        match n {
            2 => {
                group.bench_with_input(BenchmarkId::new("noise_rs_simplex", n), &pts, |b, p| {
                    b.iter(|| theirs::<2, _>(&simplex, p))
                });
                group.bench_with_input(
                    BenchmarkId::new("noise_rs_opensimplex", n),
                    &pts,
                    |b, p| b.iter(|| theirs::<2, _>(&open, p)),
                );
            }
            3 => {
                group.bench_with_input(BenchmarkId::new("noise_rs_simplex", n), &pts, |b, p| {
                    b.iter(|| theirs::<3, _>(&simplex, p))
                });
                group.bench_with_input(
                    BenchmarkId::new("noise_rs_opensimplex", n),
                    &pts,
                    |b, p| b.iter(|| theirs::<3, _>(&open, p)),
                );
            }
            4 => {
                group.bench_with_input(BenchmarkId::new("noise_rs_simplex", n), &pts, |b, p| {
                    b.iter(|| theirs::<4, _>(&simplex, p))
                });
                group.bench_with_input(
                    BenchmarkId::new("noise_rs_opensimplex", n),
                    &pts,
                    |b, p| b.iter(|| theirs::<4, _>(&open, p)),
                );
            }
            _ => {}
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
