use nabla::*;
use std::time::Instant;
fn t(name: &str, reps: usize, mut f: impl FnMut()) {
    f();
    let s = Instant::now();
    for _ in 0..reps {
        f();
    }
    println!(
        "{name}: {:.2} us",
        s.elapsed().as_secs_f64() * 1e6 / reps as f64
    );
}
fn main() {
    let a = Matrix::<f32>::from_vec(10, 784, (0..7840).map(|i| (i % 7) as f32 * 0.1).collect())
        .unwrap();
    let w = Matrix::<f32>::from_vec(
        30,
        784,
        (0..30 * 784).map(|i| (i % 5) as f32 * 0.01).collect(),
    )
    .unwrap();
    let e =
        Matrix::<f32>::from_vec(10, 30, (0..300).map(|i| (i % 3) as f32 * 0.01).collect()).unwrap();
    let mut z = Matrix::<f32>::zeros(10, 30);
    let mut dw = Matrix::<f32>::zeros(30, 784);
    t("fwd Z=A W^T 10x784x30", 2000, || {
        gemm(&mut z, Accumulate::Add, &a, w.t(), 1.0)
    });
    t("bwd dW=E^T A 30x10x784", 2000, || {
        gemm(&mut dw, Accumulate::Replace, e.t(), &a, 0.1)
    });
    let arch = Architecture::new(
        &[784, 30, 10],
        Activation::Sigmoid,
        Activation::Sigmoid,
        Cost::Quadratic,
    )
    .unwrap();
    let net: Network = Network::new(arch, Init::Nielsen, 1).unwrap();
    let y = Matrix::<f32>::zeros(10, 10);
    let mut pass = Pass::new(net.sizes(), 10);
    let mut g = Gradients::zeros(net.sizes());
    t("backprop step", 2000, || {
        net.backprop(&a, &y, &mut pass, &mut g).unwrap();
    });
    let a1 =
        Matrix::<f32>::from_vec(10, 30, (0..300).map(|i| (i % 7) as f32 * 0.1).collect()).unwrap();
    let w2 =
        Matrix::<f32>::from_vec(10, 30, (0..300).map(|i| (i % 5) as f32 * 0.01).collect()).unwrap();
    let mut z2 = Matrix::<f32>::zeros(10, 10);
    t("fwd2 10x30x10", 2000, || {
        gemm(&mut z2, Accumulate::Add, &a1, w2.t(), 1.0)
    });
    let mut a2 = Matrix::<f32>::zeros(10, 30);
    t("sigmoid 10x30", 2000, || {
        Activation::Sigmoid.apply(&a1, &mut a2)
    });
    t("finite check", 2000, || {
        std::hint::black_box(a.find_non_finite());
    });
    t("forward", 2000, || {
        net.forward(&a, &mut pass).unwrap();
    });
}
#[allow(dead_code)]
fn more() {}
