use nabla::grad_check::{numerical_gradients, worst_disagreement};
use nabla::*;
fn main() {
    for (hid, out) in [
        (Activation::Identity, Activation::Tanh),
        (Activation::Tanh, Activation::Sigmoid),
        (Activation::Sigmoid, Activation::Sigmoid),
    ] {
        for h in [1e-2, 3e-3, 1e-3, 3e-4, 1e-4] {
            let mut worst_all: f64 = 0.0;
            for seed in 0..200u64 {
                let arch = Architecture::new(&[3, 4, 4], hid, out, Cost::Quadratic).unwrap();
                let net: Network<f64> = Network::new(arch, Init::Nielsen, seed).unwrap();
                let x = Matrix::from_vec(
                    2,
                    3,
                    (0..6)
                        .map(|i| ((i as u64 * 7919 + seed * 31) % 400) as f64 / 100.0 - 2.0)
                        .collect(),
                )
                .unwrap();
                let y = Matrix::from_vec(
                    2,
                    4,
                    (0..8)
                        .map(|i| ((i as u64 * 104729 + seed * 17) % 300) as f64 / 100.0 - 1.5)
                        .collect(),
                )
                .unwrap();
                let mut p = Pass::new(net.sizes(), 2);
                let mut g = Gradients::zeros(net.sizes());
                net.backprop(&x, &y, &mut p, &mut g).unwrap();
                let n = numerical_gradients(&net, &x, &y, h).unwrap();
                // absolute worst
                let (w, ..) = worst_disagreement(&g, &n, 1e30);
                worst_all = worst_all.max(w * 1e30);
            }
            println!("{hid}/{out} h={h:e}: worst abs err {worst_all:e}");
        }
    }
}
