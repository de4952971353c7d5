//! The tutorial's running example: a 2-layer network (2 inputs, 2 hidden sigmoid neurons,
//! 2 sigmoid outputs, quadratic cost) with small chosen weights and one example. The numbers
//! are the well-known worked example of Matt Mazur's "A Step by Step Backpropagation
//! Example" (2015), whose published values (e.g. out_o1 = 0.75136507, E = 0.298371109,
//! ∂E/∂w5 = 0.082167041) agree with the ones below; each one is derived in the comments.

use nabla::{Activation, Architecture, Cost, Gradients, Matrix, Network, Pass};

/// σ(z) = 1 / (1 + e^(−z)), written out so the test does not lean on the library.
fn sigma(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

fn assert_close(got: f64, want: f64, what: &str) {
    assert!((got - want).abs() < 1e-12, "{what}: got {got}, want {want}");
}

#[rustfmt::skip]
fn running_example() -> (Network<f64>, Matrix<f64>, Matrix<f64>) {
    let arch = Architecture::new(&[2, 2, 2], Activation::Sigmoid, Activation::Sigmoid, Cost::Quadratic).unwrap();
    let w1 = Matrix::from_rows(&[vec![0.15, 0.20],
                                 vec![0.25, 0.30]]).unwrap();
    let w2 = Matrix::from_rows(&[vec![0.40, 0.45],
                                 vec![0.50, 0.55]]).unwrap();
    let net = Network::from_parameters(arch, vec![w1, w2], vec![vec![0.35, 0.35], vec![0.60, 0.60]]).unwrap();
    let x = Matrix::from_rows(&[vec![0.05, 0.10]]).unwrap();
    let y = Matrix::from_rows(&[vec![0.01, 0.99]]).unwrap();
    (net, x, y)
}

#[test]
fn every_z_a_e_and_gradient_of_the_running_example_matches_the_hand_computation() {
    let (net, x, y) = running_example();
    let mut pass = Pass::new(net.sizes(), 1);
    let mut grads = Gradients::zeros(net.sizes());
    let cost = net.backprop(&x, &y, &mut pass, &mut grads).unwrap();

    // FF, layer 1: z^[1] = W^[1] x + b^[1]
    // z_1^[1] = 0.15·0.05 + 0.20·0.10 + 0.35 = 0.0075 + 0.0200 + 0.35 = 0.3775
    // z_2^[1] = 0.25·0.05 + 0.30·0.10 + 0.35 = 0.0125 + 0.0300 + 0.35 = 0.3925
    let z1 = [0.3775, 0.3925];
    assert_close(pass.z[1][(0, 0)], z1[0], "z_1^[1]");
    assert_close(pass.z[1][(0, 1)], z1[1], "z_2^[1]");
    // a^[1] = σ(z^[1]): σ(0.3775) = 1/(1 + e^−0.3775) = 1/(1 + 0.685602) = 0.593270
    //                   σ(0.3925) = 1/(1 + e^−0.3925) = 1/(1 + 0.675395) = 0.596884
    let a1 = [0.593_269_992_107_187_2, 0.596_884_378_259_767];
    assert_close(a1[0], sigma(z1[0]), "σ(0.3775) by the formula");
    assert_close(a1[1], sigma(z1[1]), "σ(0.3925) by the formula");
    assert_close(pass.a[1][(0, 0)], a1[0], "a_1^[1]");
    assert_close(pass.a[1][(0, 1)], a1[1], "a_2^[1]");

    // FF, layer 2: z^[2] = W^[2] a^[1] + b^[2]
    // z_1^[2] = 0.40·0.593270 + 0.45·0.596884 + 0.60 = 0.237308 + 0.268598 + 0.60 = 1.105906
    // z_2^[2] = 0.50·0.593270 + 0.55·0.596884 + 0.60 = 0.296635 + 0.328286 + 0.60 = 1.224921
    let z2 = [
        0.40 * a1[0] + 0.45 * a1[1] + 0.60,
        0.50 * a1[0] + 0.55 * a1[1] + 0.60,
    ];
    assert_close(z2[0], 1.105_905_967_059_77, "z_1^[2] by hand");
    assert_close(z2[1], 1.224_921_404_096_465_3, "z_2^[2] by hand");
    assert_close(pass.z[2][(0, 0)], z2[0], "z_1^[2]");
    assert_close(pass.z[2][(0, 1)], z2[1], "z_2^[2]");
    // a^[2] = σ(z^[2]) = (0.751365, 0.772928)
    let a2 = [0.751_365_069_552_315_7, 0.772_928_465_321_462_5];
    assert_close(pass.a[2][(0, 0)], a2[0], "a_1^[2]");
    assert_close(pass.a[2][(0, 1)], a2[1], "a_2^[2]");

    // c_x = ½[(0.01 − 0.751365)² + (0.99 − 0.772928)²] = ½[0.549622 + 0.047120] = 0.298371
    assert_close(cost, 0.298_371_108_760_002_7, "c_x");

    // BP1: e^[L] = (a^[2] − y) ⊙ σ'(z^[2]), σ' = a(1 − a)
    // e_1^[2] = (0.751365 − 0.01)·0.751365·(1 − 0.751365) = 0.741365·0.186816 = 0.138499
    // e_2^[2] = (0.772928 − 0.99)·0.772928·(1 − 0.772928) = −0.217072·0.175510 = −0.038098
    let e2 = [
        (a2[0] - 0.01) * a2[0] * (1.0 - a2[0]),
        (a2[1] - 0.99) * a2[1] * (1.0 - a2[1]),
    ];
    assert_close(e2[0], 0.138_498_561_628_556_95, "e_1^[2] by hand");
    assert_close(e2[1], -0.038_098_236_516_556_236, "e_2^[2] by hand");
    assert_close(pass.e[2][(0, 0)], e2[0], "e_1^[2]");
    assert_close(pass.e[2][(0, 1)], e2[1], "e_2^[2]");

    // BP2: e^[1] = ((W^[2])ᵀ e^[2]) ⊙ σ'(z^[1])
    // e_1^[1] = (0.40·0.138499 + 0.50·(−0.038098))·0.593270·0.406730 = 0.036350·0.241301 = 0.008771
    // e_2^[1] = (0.45·0.138499 + 0.55·(−0.038098))·0.596884·0.403116 = 0.041370·0.240613 = 0.009954
    let e1 = [
        (0.40 * e2[0] + 0.50 * e2[1]) * a1[0] * (1.0 - a1[0]),
        (0.45 * e2[0] + 0.55 * e2[1]) * a1[1] * (1.0 - a1[1]),
    ];
    assert_close(e1[0], 0.008_771_354_689_486_93, "e_1^[1] by hand");
    assert_close(e1[1], 0.009_954_254_705_217_196, "e_2^[1] by hand");
    assert_close(pass.e[1][(0, 0)], e1[0], "e_1^[1]");
    assert_close(pass.e[1][(0, 1)], e1[1], "e_2^[1]");

    // BP3: ∂c/∂b^[l] = e^[l]
    for j in 0..2 {
        assert_close(grads.nabla_b[2][j], e2[j], "∂c/∂b^[2]");
        assert_close(grads.nabla_b[1][j], e1[j], "∂c/∂b^[1]");
    }

    // BP4: ∂c/∂w_jk^[l] = a_k^[l-1] e_j^[l]
    // ∂c/∂w_11^[2] = a_1^[1] e_1^[2] = 0.593270·0.138499 = 0.082167  (Mazur's ∂E/∂w5)
    assert_close(
        grads.nabla_w[2][(0, 0)],
        0.082_167_040_564_230_77,
        "∂c/∂w_11^[2]",
    );
    // ∂c/∂w_11^[1] = x_1 e_1^[1] = 0.05·0.008771 = 0.000438568   (Mazur's ∂E/∂w1)
    assert_close(
        grads.nabla_w[1][(0, 0)],
        0.000_438_567_734_474_346_5,
        "∂c/∂w_11^[1]",
    );
    let x = [0.05, 0.10];
    for j in 0..2 {
        for k in 0..2 {
            assert_close(grads.nabla_w[2][(j, k)], a1[k] * e2[j], "∂c/∂w^[2]");
            assert_close(grads.nabla_w[1][(j, k)], x[k] * e1[j], "∂c/∂w^[1]");
        }
    }
}

#[test]
fn one_gradient_descent_step_of_the_running_example_lowers_the_cost() {
    use nabla::Optimizer;
    let (mut net, x, y) = running_example();
    let mut pass = Pass::new(net.sizes(), 1);
    let mut grads = Gradients::zeros(net.sizes());
    let before = net.backprop(&x, &y, &mut pass, &mut grads).unwrap();
    nabla::Sgd.step(&mut net, &grads, 0.5);
    // GD: w_11^[2] ← 0.40 − 0.5·0.082167 = 0.358916  (Mazur's w5+)
    assert_close(
        net.w(2)[(0, 0)],
        0.40 - 0.5 * 0.082_167_040_564_230_77,
        "w_11^[2] after one step",
    );
    let after = net.mean_cost(&x, &y).unwrap();
    assert!(after < before, "{after} < {before}");
}

#[test]
fn the_library_running_example_used_by_explain_demo_is_this_one() {
    let (net, x, y) = running_example();
    let (lib_net, lib_x, lib_y) = nabla::explain::running_example();
    assert_eq!(lib_net, net);
    assert_eq!(lib_x, x.row(0));
    assert_eq!(lib_y, y.row(0));
}
