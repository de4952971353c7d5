//! Backpropagation (BP1–BP4) against five-point central differences of C in f64, for every
//! hidden activation × output activation × cost, on random shapes, weights and data.

use nabla::grad_check::{numerical_gradients, worst_disagreement, DEFAULT_STEP};
use nabla::{Activation, Architecture, Cost, Gradients, Init, Matrix, Network, Pass};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Relative errors are taken against max(|backprop|, |numeric|, FLOOR): below 1e-4 a
/// gradient entry is compared in absolute terms (1e-11), because the rounding of C (up to
/// ~10 here) in f64, divided by the step 2e-3, is a few 1e-12.
const FLOOR: f64 = 1e-4;

const HIDDEN: [Activation; 5] = [
    Activation::Sigmoid,
    Activation::Tanh,
    Activation::Relu,
    Activation::LeakyRelu,
    Activation::Identity,
];

/// Every valid (hidden, output, cost) triple: cross-entropy needs sigmoid or softmax outputs.
fn combinations() -> Vec<(Activation, Activation, Cost)> {
    let mut all = Vec::new();
    for hidden in HIDDEN {
        for output in Activation::ALL {
            for cost in Cost::ALL {
                if cost.check_output(output).is_ok() {
                    all.push((hidden, output, cost));
                }
            }
        }
    }
    all
}

/// Targets that make sense for the cost: one-hot rows for softmax outputs, values in
/// [0, 1] for sigmoid cross-entropy, anything for the quadratic cost.
fn targets(
    rng: &mut ChaCha8Rng,
    m: usize,
    n: usize,
    output: Activation,
    cost: Cost,
) -> Matrix<f64> {
    let mut y = Matrix::zeros(m, n);
    for i in 0..m {
        match (cost, output) {
            (_, Activation::Softmax) => y[(i, rng.random_range(0..n))] = 1.0,
            (Cost::CrossEntropy, _) => (0..n).for_each(|j| y[(i, j)] = rng.random_range(0.0..1.0)),
            _ => (0..n).for_each(|j| y[(i, j)] = rng.random_range(-1.5..1.5)),
        }
    }
    y
}

/// Whether some z sits so close to a ReLU kink that a finite difference would straddle it.
fn near_a_kink(net: &Network<f64>, pass: &Pass<f64>) -> bool {
    (1..=net.last()).any(|l| {
        matches!(net.g(l), Activation::Relu | Activation::LeakyRelu)
            && pass.z[l].as_slice().iter().any(|z| z.abs() < 0.05)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn backprop_agrees_with_central_differences_for_every_activation_output_and_cost(
        sizes in prop::collection::vec(1usize..6, 2..5),
        m in 1usize..5,
        seed in any::<u64>(),
    ) {
        for (hidden, output, cost) in combinations() {
            if output == Activation::Softmax && sizes[sizes.len() - 1] == 1 {
                continue; // a softmax over one output is rejected (it is always 1)
            }
            // A finite difference that straddles a ReLU kink measures nothing; redraw the
            // weights and data (up to 50 times) until every z is clear of the kinks.
            let mut tries = 0u64;
            let (net, x, y, backprop) = loop {
                let seed = seed.wrapping_add(tries);
                let arch = Architecture::new(&sizes, hidden, output, cost).unwrap();
                let net: Network<f64> = Network::new(arch, Init::Nielsen, seed).unwrap();
                let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
                let x = Matrix::from_vec(m, sizes[0], (0..m * sizes[0]).map(|_| rng.random_range(-2.0..2.0)).collect()).unwrap();
                let y = targets(&mut rng, m, *sizes.last().unwrap(), output, cost);
                let mut pass = Pass::new(net.sizes(), m);
                let mut backprop = Gradients::zeros(net.sizes());
                net.backprop(&x, &y, &mut pass, &mut backprop).unwrap();
                tries += 1;
                if !near_a_kink(&net, &pass) || tries == 50 {
                    break (net, x, y, backprop);
                }
            };
            prop_assert!(tries < 50, "no kink-free draw for {hidden}/{output}/{cost}");
            let numeric = numerical_gradients(&net, &x, &y, DEFAULT_STEP).unwrap();
            let (worst, l, j, k) = worst_disagreement(&backprop, &numeric, FLOOR);
            prop_assert!(
                worst < 1e-7,
                "{hidden}/{output}/{cost} sizes {sizes:?} m {m}: relative error {worst:e} at l={l} j={j} k={k:?}"
            );
        }
    }
}

#[test]
fn the_gradient_check_catches_a_wrong_gradient() {
    // A check that cannot fail proves nothing: perturb one backprop entry and see it flagged.
    let arch = Architecture::new(
        &[3, 4, 2],
        Activation::Tanh,
        Activation::Softmax,
        Cost::CrossEntropy,
    )
    .unwrap();
    let net: Network<f64> = Network::new(arch, Init::Xavier, 9).unwrap();
    let x = Matrix::from_rows(&[vec![0.3, -1.0, 0.8], vec![1.2, 0.1, -0.4]]).unwrap();
    let y = Matrix::from_rows(&[vec![1.0, 0.0], vec![0.0, 1.0]]).unwrap();
    let mut pass = Pass::new(net.sizes(), 2);
    let mut grads = Gradients::zeros(net.sizes());
    net.backprop(&x, &y, &mut pass, &mut grads).unwrap();
    let numeric = numerical_gradients(&net, &x, &y, DEFAULT_STEP).unwrap();
    assert!(worst_disagreement(&grads, &numeric, 1e-6).0 < 1e-7);
    grads.nabla_w[1][(2, 1)] *= 1.0001;
    let (worst, l, j, k) = worst_disagreement(&grads, &numeric, 1e-6);
    assert!(
        worst > 1e-5 && (l, j, k) == (1, 2, Some(1)),
        "{worst} at {l} {j} {k:?}"
    );
}

#[test]
fn f32_and_f64_follow_the_same_path() {
    let arch = Architecture::new(
        &[4, 5, 3],
        Activation::Sigmoid,
        Activation::Sigmoid,
        Cost::Quadratic,
    )
    .unwrap();
    let net64: Network<f64> = Network::new(arch.clone(), Init::Nielsen, 4).unwrap();
    let net32: Network<f32> = net64.cast();
    let x = Matrix::from_rows(&[vec![0.1, 0.2, 0.3, 0.4], vec![1.0, -1.0, 0.5, 0.0]]).unwrap();
    let y = Matrix::from_rows(&[vec![1.0, 0.0, 0.0], vec![0.0, 0.0, 1.0]]).unwrap();
    let (mut p64, mut g64) = (Pass::new(net64.sizes(), 2), Gradients::zeros(net64.sizes()));
    let (mut p32, mut g32) = (Pass::new(net32.sizes(), 2), Gradients::zeros(net32.sizes()));
    net64.backprop(&x, &y, &mut p64, &mut g64).unwrap();
    net32
        .backprop(&x.cast(), &y.cast(), &mut p32, &mut g32)
        .unwrap();
    for l in 1..=2 {
        for (a, b) in g64.nabla_w[l]
            .as_slice()
            .iter()
            .zip(g32.nabla_w[l].as_slice())
        {
            assert!((a - f64::from(*b)).abs() < 1e-5, "{a} vs {b}");
        }
    }
}

#[test]
fn bad_batches_are_typed_errors_not_panics() {
    let arch = Architecture::new(
        &[3, 2],
        Activation::Sigmoid,
        Activation::Sigmoid,
        Cost::Quadratic,
    )
    .unwrap();
    let net: Network<f64> = Network::new(arch, Init::Nielsen, 1).unwrap();
    let mut pass = Pass::new(net.sizes(), 1);
    let mut grads = Gradients::zeros(net.sizes());
    let wrong_width = Matrix::from_rows(&[vec![1.0, 2.0]]).unwrap();
    let y = Matrix::from_rows(&[vec![1.0, 0.0]]).unwrap();
    assert!(matches!(
        net.backprop(&wrong_width, &y, &mut pass, &mut grads),
        Err(nabla::Error::Shape { .. })
    ));
    let nan = Matrix::from_rows(&[vec![1.0, f64::NAN, 0.0]]).unwrap();
    assert!(matches!(
        net.forward(&nan, &mut pass),
        Err(nabla::Error::NonFinite { column: 1, .. })
    ));
    let empty = Matrix::<f64>::zeros(0, 3);
    assert!(matches!(
        net.forward(&empty, &mut pass),
        Err(nabla::Error::Empty { .. })
    ));
    let short_y = Matrix::from_rows(&[vec![1.0]]).unwrap();
    let x = Matrix::from_rows(&[vec![1.0, 2.0, 3.0]]).unwrap();
    assert!(matches!(
        net.backprop(&x, &short_y, &mut pass, &mut grads),
        Err(nabla::Error::Shape { .. })
    ));
    let mut bad = net.clone();
    assert!(bad.set_w(1, 0, 0, f64::INFINITY).is_err());
    assert!(bad.set_w(3, 0, 0, 1.0).is_err());
    assert!(Architecture::new(
        &[3, 0, 2],
        Activation::Sigmoid,
        Activation::Sigmoid,
        Cost::Quadratic
    )
    .is_err());
    assert!(Architecture::new(
        &[3, 2],
        Activation::Relu,
        Activation::Identity,
        Cost::CrossEntropy
    )
    .is_err());
}
