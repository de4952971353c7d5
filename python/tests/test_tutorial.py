"""The tutorial from Python: Network, backprop against finite differences in numpy, explain, noise, MNIST."""

import pickle

import numpy as np
import pytest

import nabla
from nabla import Network


def numpy_cost(net, x, y):
    """C, the mean cost over the batch, computed from W(l), b(l) in numpy alone."""
    arch = net.architecture
    g = {
        "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
        "tanh": np.tanh,
        "relu": lambda z: np.maximum(z, 0),
        "identity": lambda z: z,
        "softmax": lambda z: np.exp(z - z.max(1, keepdims=True)) / np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True),
    }
    a = x
    for l in range(1, net.L + 1):
        z = a @ net.W(l).T + net.b(l)
        a = g[arch["output"] if l == net.L else arch["activation"]](z)
    if arch["cost"] == "quadratic":
        return 0.5 * ((a - y) ** 2).sum(1).mean()
    if arch["output"] == "softmax":
        return -(y * np.log(a)).sum(1).mean()
    return -(y * np.log(a) + (1 - y) * np.log(1 - a)).sum(1).mean()


def finite_differences(net, x, y, h=1e-6):
    """∂C/∂W^[l], ∂C/∂b^[l] by central differences, moving one parameter at a time."""
    grads_w, grads_b = [None], [None]
    for l in range(1, net.L + 1):
        W, b = net.W(l), net.b(l)
        gw, gb = np.zeros_like(W), np.zeros_like(b)
        for idx in np.ndindex(W.shape):
            for sign in (1, -1):
                W2 = W.copy()
                W2[idx] += sign * h
                net.set_layer(l, W2, b)
                gw[idx] += sign * numpy_cost(net, x, y) / (2 * h)
        for j in range(len(b)):
            for sign in (1, -1):
                b2 = b.copy()
                b2[j] += sign * h
                net.set_layer(l, W, b2)
                gb[j] += sign * numpy_cost(net, x, y) / (2 * h)
        net.set_layer(l, W, b)
        grads_w.append(gw)
        grads_b.append(gb)
    return grads_w, grads_b


@pytest.mark.parametrize(
    "activation, output, cost",
    [
        ("sigmoid", "sigmoid", "quadratic"),
        ("tanh", "softmax", "cross-entropy"),
        ("relu", "identity", "quadratic"),
        ("tanh", "sigmoid", "cross-entropy"),
    ],
)
def test_backprop_matches_numpy_finite_differences(activation, output, cost):
    rng = np.random.RandomState(0)
    net = Network([4, 5, 3, 3], activation=activation, output=output, cost=cost, seed=7)
    x = rng.randn(6, 4)
    y = rng.rand(6, 3)
    if output == "softmax":
        y = np.eye(3)[rng.randint(3, size=6)]
    result = net.backprop(x, y)
    assert result["cost"] == pytest.approx(numpy_cost(net, x, y), rel=1e-12)
    gw, gb = finite_differences(net, x, y)
    for l in range(1, net.L + 1):
        np.testing.assert_allclose(result["nabla_w"][l], gw[l], rtol=1e-5, atol=1e-8)
        np.testing.assert_allclose(result["nabla_b"][l], gb[l], rtol=1e-5, atol=1e-8)
    # The library's own gradient check agrees too.
    check = net.grad_check(x, y, h=1e-5)  # small h: no ReLU kink inside the stencil
    assert check["max_relative_error"] < 1e-6
    for l in range(1, net.L + 1):
        np.testing.assert_allclose(check["backprop"]["nabla_w"][l], result["nabla_w"][l])


def test_pass_shapes_and_equations():
    net = Network([3, 4, 2], activation="sigmoid", seed=1)
    x = np.random.RandomState(1).rand(5, 3)
    y = np.random.RandomState(2).rand(5, 2)
    p = net.backprop(x, y)
    assert p["z"][0] is None and p["nabla_w"][0] is None
    np.testing.assert_array_equal(p["a"][0], x)
    for l in (1, 2):
        assert net.W(l).shape == (net.sizes[l], net.sizes[l - 1])
        np.testing.assert_allclose(p["z"][l], p["a"][l - 1] @ net.W(l).T + net.b(l), rtol=1e-12)  # FF
        np.testing.assert_allclose(p["a"][l], 1 / (1 + np.exp(-p["z"][l])), rtol=1e-12)
        np.testing.assert_allclose(p["nabla_b"][l], p["e"][l].mean(0), rtol=1e-12)  # BP3
        np.testing.assert_allclose(p["nabla_w"][l], p["e"][l].T @ p["a"][l - 1] / 5, rtol=1e-12)  # BP4
    a2 = p["a"][2]
    np.testing.assert_allclose(p["e"][2], (a2 - y) * a2 * (1 - a2), rtol=1e-12)  # BP1
    a1 = p["a"][1]
    np.testing.assert_allclose(p["e"][1], (p["e"][2] @ net.W(2)) * a1 * (1 - a1), rtol=1e-12)  # BP2
    f = net.forward(x)
    np.testing.assert_array_equal(f["a"][2], p["a"][2])
    np.testing.assert_array_equal(net.predict(x), p["a"][2])
    one = net.forward(x[0])
    assert one["a"][2].shape == (2,)


def test_running_example_and_explain():
    net, x, y = Network.running_example()
    np.testing.assert_array_equal(net.W(1), [[0.15, 0.20], [0.25, 0.30]])
    ex = net.explain(x, y)
    assert set(ex) >= {"architecture", "x", "y", "cost", "steps", "checks", "gradients"}
    assert ex["cost"] == pytest.approx(0.298371108760003, rel=1e-12)  # Mazur's E_total
    assert all(c["agrees"] for c in ex["checks"])
    np.testing.assert_allclose(ex["gradients"]["layers.1.weight"][0][0], 0.082167040, rtol=1e-7)
    np.testing.assert_allclose(net.backprop(x, y)["nabla_w"][2], ex["gradients"]["layers.1.weight"])
    with pytest.raises(ValueError):
        net.explain([1.0, 2.0, 3.0], y)


def test_network_bad_input_and_repr():
    with pytest.raises(ValueError):
        Network([3])
    with pytest.raises(ValueError):
        Network([3, 2], activation="softmax", output="softmax", cost="quadratic", init="bogus")
    net = Network([3, 2], seed=0)
    with pytest.raises(ValueError, match="non-finite"):
        net.forward([np.nan, 0, 0])
    with pytest.raises(ValueError):
        net.forward(np.zeros((2, 4)))
    with pytest.raises(ValueError):
        net.W(0)
    with pytest.raises(ValueError):
        net.set_layer(1, np.zeros((3, 3)), np.zeros(2))
    assert "W^[1] 2x3" in repr(net)
    back = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(back.W(1), net.W(1))


def test_save_load_and_float32(tmp_path):
    net = Network([3, 4, 2], dtype="float32", seed=2)
    assert net.W(1).dtype == np.float32
    net.save(tmp_path / "n.safetensors")
    back = Network.load(tmp_path / "n.safetensors")
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back.W(2), net.W(2))


def test_estimator_network_is_the_fitted_one():
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    clf = nabla.MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0).fit(X, y)
    net = clf.network_
    np.testing.assert_array_equal(net.W(1).T, clf.coefs_[0])
    np.testing.assert_allclose(net.predict(X), clf.predict_proba(X))


def test_simplex_noise():
    rng = np.random.RandomState(0)
    pts = rng.rand(500, 3) * 10
    v = nabla.noise.simplex(pts, seed=3)
    assert v.shape == (500,) and np.all(np.abs(v) <= 1.0) and v.std() > 0.05
    np.testing.assert_array_equal(v, nabla.noise.simplex(pts, seed=3))
    assert not np.array_equal(v, nabla.noise.simplex(pts, seed=4))
    assert nabla.noise.simplex(pts[0], seed=3) == v[0]
    # Continuous: nearby points give nearby values.
    assert abs(nabla.noise.simplex(pts[0] + 1e-6, seed=3) - v[0]) < 1e-4
    f = nabla.noise.simplex(pts, seed=3, octaves=4)
    assert f.shape == (500,) and not np.array_equal(f, v)
    with pytest.raises(ValueError):
        nabla.noise.simplex(np.zeros((3, 0)))
    with pytest.raises(ValueError):
        nabla.noise.simplex([[np.inf, 0.0]])
    with pytest.raises(ValueError):
        nabla.noise.simplex(pts, octaves=0)


def test_mnist():
    (X, y), (Xt, yt) = nabla.datasets.mnist()
    assert X.shape[1] == 784 and X.dtype == np.float32
    assert len(X) == len(y) and len(Xt) == len(yt) and len(Xt) > 0
    assert X.min() >= 0 and X.max() <= 1 and set(np.unique(y)) == set(range(10))


def test_docstring_examples():
    import doctest
    import warnings

    import nabla.network
    import nabla.neural_network

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for module in (nabla.network, nabla.neural_network):
            assert doctest.testmod(module).failed == 0
