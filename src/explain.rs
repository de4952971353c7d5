//! One example walked through the network, equation by equation: the data behind
//! `nabla explain`. Every quantity of the tutorial (`a^[0] = x`, `z^[l]`, `a^[l]`, `c_x`,
//! `e^[l]`, `∂c/∂b^[l]`, `∂c/∂W^[l]`) becomes a [`Step`] that names the equation (FF, BP1–BP4)
//! that produced it, and a few gradient entries are checked against central differences.
//!
//! The library never prints: [`render_text`] and [`render_markdown`] return strings, and
//! [`Explanation`] serialises to JSON with every value.
//!
//! ```
//! let (net, x, y) = nabla::explain::running_example();
//! let explanation = nabla::explain::explain(&net, &x, &y)?;
//! // BP4: ∂c/∂w_11^[2] = a_1^[1] e_1^[2] = 0.593270 · 0.138499 = 0.082167
//! let dw2 = explanation.step("dc/dW", 2).unwrap();
//! assert!((dw2.value.at(0, 0) - 0.082_167_04).abs() < 1e-8);
//! assert!(explanation.checks.iter().all(|c| c.agrees));
//! # Ok::<(), nabla::Error>(())
//! ```

use std::fmt::Write as _;

use serde::Serialize;

use crate::activation::Activation;
use crate::cost::Cost;
use crate::error::{Error, Result};
use crate::grad_check::{central_difference, relative_error, DEFAULT_STEP};
use crate::matrix::Matrix;
use crate::network::{Architecture, Gradients, Network, Pass};
use crate::setting::Setting;

/// The equations of the tutorial, so that code, docs and output cite them the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Equation {
    /// Not computed but given: the target y, the parameters `W^[l]` and `b^[l]`.
    Given,
    /// Forward: `z^[l] = W^[l] a^[l-1] + b^[l]`, `a^[l] = g(z^[l])`, `a^[0] = x`, and the
    /// cost `c_x` of the output.
    Ff,
    /// `e^[L] = ∂c/∂a^[L] ⊙ g'(z^[L])`
    Bp1,
    /// `e^[l] = ((W^[l+1])ᵀ e^[l+1]) ⊙ g'(z^[l])`
    Bp2,
    /// `∂c/∂b_j^[l] = e_j^[l]`
    Bp3,
    /// `∂c/∂w_jk^[l] = a_k^[l-1] e_j^[l]`
    Bp4,
}

impl Equation {
    /// The label as printed: `FF`, `BP1`, …; empty for [`Equation::Given`].
    pub fn label(self) -> &'static str {
        match self {
            Equation::Given => "",
            Equation::Ff => "FF",
            Equation::Bp1 => "BP1",
            Equation::Bp2 => "BP2",
            Equation::Bp3 => "BP3",
            Equation::Bp4 => "BP4",
        }
    }
}

/// A number, a vector (`z^[l]`, one entry per neuron) or a matrix (`W^[l]`, row j, column k).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    /// One number, e.g. `c_x`.
    Scalar(f64),
    /// One entry per neuron j.
    Vector(Vec<f64>),
    /// Row j, column k, e.g. `∂c/∂w_jk^[l]`.
    Matrix(Vec<Vec<f64>>),
}

impl Value {
    /// Every entry, row by row.
    pub fn entries(&self) -> Vec<f64> {
        match self {
            Value::Scalar(v) => vec![*v],
            Value::Vector(v) => v.clone(),
            Value::Matrix(m) => m.iter().flatten().copied().collect(),
        }
    }

    /// Entry (j, k): a vector's entry j (k ignored), a scalar's value.
    ///
    /// # Panics
    /// When the indices are out of range.
    #[track_caller]
    pub fn at(&self, j: usize, k: usize) -> f64 {
        match self {
            Value::Scalar(v) => *v,
            Value::Vector(v) => v[j],
            Value::Matrix(m) => m[j][k],
        }
    }

    /// `[rows, columns]`: `[1, 1]` for a scalar, `[n, 1]` for a (column) vector.
    pub fn shape(&self) -> [usize; 2] {
        match self {
            Value::Scalar(_) => [1, 1],
            Value::Vector(v) => [v.len(), 1],
            Value::Matrix(m) => [m.len(), m.first().map_or(0, Vec::len)],
        }
    }

    fn of_matrix(m: &Matrix<f64>) -> Value {
        Value::Matrix((0..m.rows()).map(|j| m.row(j).to_vec()).collect())
    }
}

/// One quantity of the trace: which equation made it, for which layer, and its value.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Step {
    /// The equation that produced `value`.
    pub equation: Equation,
    /// The tutorial's l (0 for the input `a^[0]`).
    pub layer: usize,
    /// The quantity's symbol without the layer: `"x"`, `"y"`, `"W"`, `"b"`, `"z"`, `"a"`,
    /// `"c_x"`, `"dc/da"`, `"g'(z)"`, `"W^T e"`, `"e"`, `"dc/db"` or `"dc/dW"`.
    pub symbol: &'static str,
    /// The quantity with its layer, as printed, e.g. `"z^[1]"`.
    pub name: String,
    /// The equation written out for this layer, e.g. `"e^[1] = (W^[2])^T e^[2] (.) g'(z^[1])"`.
    pub text: String,
    /// The values.
    pub value: Value,
}

/// One gradient entry computed both ways: by backpropagation and by central differences
/// of the cost (see [`crate::grad_check`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Check {
    /// The entry, in the tutorial's 1-based notation, e.g. `"dc/dw_12^[2]"` or `"dc/db_1^[1]"`.
    pub name: String,
    /// The layer l.
    pub layer: usize,
    /// 0-based row j (the neuron of layer l).
    pub j: usize,
    /// 0-based column k (the neuron of layer l-1); `None` for a bias.
    pub k: Option<usize>,
    /// By BP3/BP4.
    pub backprop: f64,
    /// By central differences.
    pub numerical: f64,
    /// `|backprop − numerical| / max(|backprop|, |numerical|, 1e-4)`.
    pub relative_error: f64,
    /// Whether the relative error is below [`AGREEMENT`].
    pub agrees: bool,
}

/// The relative error below which a [`Check`] counts as agreeing. The central differences
/// themselves are good to about 1e-10 here (see [`crate::grad_check`]).
pub const AGREEMENT: f64 = 1e-7;

/// The denominator floor of [`Check::relative_error`], as in the gradient tests.
pub const RELATIVE_FLOOR: f64 = 1e-4;

/// One example through the network: every step of FF and BP1–BP4, and the checks.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Explanation {
    /// `n_0, …, n_L`, activations and cost.
    pub architecture: Architecture,
    /// The input x (`a^[0]`), after any input scaling.
    pub x: Vec<f64>,
    /// The target y.
    pub y: Vec<f64>,
    /// The cost `c_x` of this example.
    pub cost: f64,
    /// Every quantity in the order it is computed.
    pub steps: Vec<Step>,
    /// A few gradient entries against central differences.
    pub checks: Vec<Check>,
}

impl Explanation {
    /// The step with this symbol (see [`Step::symbol`]) and layer, if any.
    pub fn step(&self, symbol: &str, layer: usize) -> Option<&Step> {
        self.steps
            .iter()
            .find(|s| s.symbol == symbol && s.layer == layer)
    }

    /// L, the output layer.
    pub fn last(&self) -> usize {
        self.architecture.last()
    }
}

/// The tutorial's running example: 2 inputs, 2 hidden sigmoid neurons, 2 sigmoid outputs,
/// the quadratic cost, and one example. Returns `(network, x, y)` with
///
/// ```text
/// W^[1] = [0.15 0.20]   b^[1] = (0.35, 0.35)    W^[2] = [0.40 0.45]   b^[2] = (0.60, 0.60)
///         [0.25 0.30]                                   [0.50 0.55]
/// x = (0.05, 0.10), y = (0.01, 0.99)
/// ```
///
/// (the numbers of Matt Mazur's "A Step by Step Backpropagation Example"), so every value
/// of `nabla explain --demo` can be followed with pencil and paper.
pub fn running_example() -> (Network<f64>, Vec<f64>, Vec<f64>) {
    let arch = Architecture::new(
        &[2, 2, 2],
        Activation::Sigmoid,
        Activation::Sigmoid,
        Cost::Quadratic,
    )
    .expect("the running example's architecture is valid");
    #[rustfmt::skip]
    let w1 = Matrix::from_rows(&[vec![0.15, 0.20],
                                 vec![0.25, 0.30]]).expect("2 × 2");
    #[rustfmt::skip]
    let w2 = Matrix::from_rows(&[vec![0.40, 0.45],
                                 vec![0.50, 0.55]]).expect("2 × 2");
    let net =
        Network::from_parameters(arch, vec![w1, w2], vec![vec![0.35, 0.35], vec![0.60, 0.60]])
            .expect("the running example's parameters fit");
    (net, vec![0.05, 0.10], vec![0.01, 0.99])
}

/// Walks one example x with target y through `net`: FF, the cost, BP1, BP2, BP3 and BP4,
/// then checks the largest `∂c/∂w` and `∂c/∂b` entry of each layer against central
/// differences. Values are those of [`Network::backprop`] on a batch of this one example.
///
/// # Errors
/// [`Error::Shape`] or [`Error::NonFinite`] when x or y do not fit the network.
pub fn explain(net: &Network<f64>, x: &[f64], y: &[f64]) -> Result<Explanation> {
    let last = net.last();
    let x_m = Matrix::from_vec(1, x.len(), x.to_vec())?;
    let y_m = Matrix::from_vec(1, y.len(), y.to_vec())?;
    let mut pass = Pass::new(net.sizes(), 1);
    let mut grads = Gradients::zeros(net.sizes());
    let cost = net.backprop(&x_m, &y_m, &mut pass, &mut grads)?;
    let row = |m: &Matrix<f64>| Value::Vector(m.row(0).to_vec());
    let mut steps = Vec::new();
    let mut push = |equation, layer, symbol, name: String, text: String, value| {
        steps.push(Step {
            equation,
            layer,
            symbol,
            name,
            text,
            value,
        })
    };

    // FF
    push(
        Equation::Ff,
        0,
        "a",
        "a^[0]".into(),
        "a^[0] = x".into(),
        row(&pass.a[0]),
    );
    for l in 1..=last {
        push(
            Equation::Given,
            l,
            "W",
            format!("W^[{l}]"),
            format!("W^[{l}]"),
            Value::of_matrix(net.w(l)),
        );
        push(
            Equation::Given,
            l,
            "b",
            format!("b^[{l}]"),
            format!("b^[{l}]"),
            Value::Vector(net.b(l).to_vec()),
        );
        push(
            Equation::Ff,
            l,
            "z",
            format!("z^[{l}]"),
            format!("z^[{l}] = W^[{l}] a^[{}] + b^[{l}]", l - 1),
            row(&pass.z[l]),
        );
        push(
            Equation::Ff,
            l,
            "a",
            format!("a^[{l}]"),
            format!("a^[{l}] = {}(z^[{l}])", net.g(l)),
            row(&pass.a[l]),
        );
    }
    push(
        Equation::Given,
        last,
        "y",
        "y".into(),
        "y".into(),
        Value::Vector(y.to_vec()),
    );
    push(
        Equation::Ff,
        last,
        "c_x",
        "c_x".into(),
        cost_text(net.cost(), net.g(last), last),
        Value::Scalar(cost),
    );

    // BP1, with its two factors where the cost and g have them element-wise.
    let (z_last, a_last) = (pass.z[last].row(0), pass.a[last].row(0));
    let g_out = net.g(last);
    let bp1 = match (net.cost(), g_out) {
        (Cost::Quadratic, g) => {
            let mut dc_da = vec![0.0; y.len()];
            net.cost().dc_da_into(a_last, y, &mut dc_da);
            push(
                Equation::Bp1,
                last,
                "dc/da",
                format!("dc/da^[{last}]"),
                format!("dc/da^[{last}] = a^[{last}] - y"),
                Value::Vector(dc_da),
            );
            if g == Activation::Softmax {
                format!(
                    "e^[{last}] = J^T dc/da^[{last}], J the softmax Jacobian: \
                     e_j = a_j (dc/da_j - sum_k a_k dc/da_k)"
                )
            } else {
                push(
                    Equation::Bp1,
                    last,
                    "g'(z)",
                    format!("g'(z^[{last}])"),
                    format!("g'(z^[{last}]) = {}", g_prime_text(g, last)),
                    Value::Vector(z_last.iter().map(|&z| g.g_prime(z)).collect()),
                );
                format!("e^[{last}] = dc/da^[{last}] (.) g'(z^[{last}])")
            }
        }
        (Cost::CrossEntropy, Activation::Softmax) => format!(
            "e^[{last}] = a^[{last}] - y  (cross-entropy with softmax: the Jacobian of g \
             cancels dc/da^[{last}])"
        ),
        (Cost::CrossEntropy, _) => format!(
            "e^[{last}] = a^[{last}] - y  (cross-entropy with sigmoid: g' = a (1 - a) \
             cancels the denominator of dc/da^[{last}])"
        ),
    };
    push(
        Equation::Bp1,
        last,
        "e",
        format!("e^[{last}]"),
        bp1,
        row(&pass.e[last]),
    );

    // BP2, with its two factors.
    for l in (1..last).rev() {
        let w_next = net.w(l + 1);
        let e_next = pass.e[l + 1].row(0);
        let wt_e: Vec<f64> = (0..w_next.cols())
            .map(|k| (0..w_next.rows()).map(|j| w_next[(j, k)] * e_next[j]).sum())
            .collect();
        push(
            Equation::Bp2,
            l,
            "W^T e",
            format!("(W^[{}])^T e^[{}]", l + 1, l + 1),
            format!("(W^[{}])^T e^[{}]", l + 1, l + 1),
            Value::Vector(wt_e),
        );
        let g = net.g(l);
        push(
            Equation::Bp2,
            l,
            "g'(z)",
            format!("g'(z^[{l}])"),
            format!("g'(z^[{l}]) = {}", g_prime_text(g, l)),
            Value::Vector(pass.z[l].row(0).iter().map(|&z| g.g_prime(z)).collect()),
        );
        push(
            Equation::Bp2,
            l,
            "e",
            format!("e^[{l}]"),
            format!("e^[{l}] = (W^[{}])^T e^[{}] (.) g'(z^[{l}])", l + 1, l + 1),
            row(&pass.e[l]),
        );
    }

    // BP3 and BP4
    for l in 1..=last {
        push(
            Equation::Bp3,
            l,
            "dc/db",
            format!("dc/db^[{l}]"),
            format!("dc/db_j^[{l}] = e_j^[{l}]"),
            Value::Vector(grads.nabla_b[l].clone()),
        );
        push(
            Equation::Bp4,
            l,
            "dc/dW",
            format!("dc/dW^[{l}]"),
            format!(
                "dc/dw_jk^[{l}] = a_k^[{}] e_j^[{l}], i.e. dc/dW^[{l}] = e^[{l}] (a^[{}])^T",
                l - 1,
                l - 1
            ),
            Value::of_matrix(&grads.nabla_w[l]),
        );
    }

    let checks = check_largest(net, &x_m, &y_m, &grads);
    Ok(Explanation {
        architecture: net.architecture().clone(),
        x: x.to_vec(),
        y: y.to_vec(),
        cost,
        steps,
        checks,
    })
}

/// `c_x` written out for a cost and output activation.
fn cost_text(cost: Cost, g: Activation, last: usize) -> String {
    match (cost, g) {
        (Cost::Quadratic, _) => format!("c_x = 1/2 ||y - a^[{last}]||^2"),
        (Cost::CrossEntropy, Activation::Softmax) => {
            format!("c_x = -sum_j y_j ln a_j^[{last}]")
        }
        (Cost::CrossEntropy, _) => {
            format!("c_x = -sum_j [y_j ln a_j^[{last}] + (1 - y_j) ln(1 - a_j^[{last}])]")
        }
    }
}

/// `g'(z^[l])` in terms of the activation, as a learner would write it.
fn g_prime_text(g: Activation, l: usize) -> String {
    match g {
        Activation::Sigmoid => format!("a^[{l}] (.) (1 - a^[{l}])"),
        Activation::Tanh => format!("1 - (a^[{l}])^2"),
        Activation::Relu => format!("1 where z^[{l}] > 0, else 0"),
        Activation::LeakyRelu => format!("1 where z^[{l}] > 0, else 0.01"),
        Activation::Identity => "1".into(),
        Activation::Softmax => "the softmax Jacobian".into(),
    }
}

/// The largest `∂c/∂w` and `∂c/∂b` entry of each layer, by backprop and by central
/// differences.
fn check_largest(
    net: &Network<f64>,
    x: &Matrix<f64>,
    y: &Matrix<f64>,
    grads: &Gradients<f64>,
) -> Vec<Check> {
    let mut probe = net.clone();
    let mut checks = Vec::new();
    for l in 1..=net.last() {
        let w = &grads.nabla_w[l];
        let (mut wj, mut wk) = (0, 0);
        for j in 0..w.rows() {
            for k in 0..w.cols() {
                if w[(j, k)].abs() > w[(wj, wk)].abs() {
                    (wj, wk) = (j, k);
                }
            }
        }
        let w0 = net.w(l)[(wj, wk)];
        let numerical = central_difference(DEFAULT_STEP, |d| {
            probe.w_mut(l)[(wj, wk)] = w0 + d;
            probe.mean_cost(x, y).expect("checked by backprop")
        });
        probe.w_mut(l)[(wj, wk)] = w0;
        checks.push(check(
            format!("dc/dw_{}^[{l}]", subscript(wj, wk, w.shape())),
            l,
            wj,
            Some(wk),
            w[(wj, wk)],
            numerical,
        ));

        let b = &grads.nabla_b[l];
        let bj = (0..b.len()).fold(
            0,
            |best, j| if b[j].abs() > b[best].abs() { j } else { best },
        );
        let b0 = net.b(l)[bj];
        let numerical = central_difference(DEFAULT_STEP, |d| {
            probe.b_mut(l)[bj] = b0 + d;
            probe.mean_cost(x, y).expect("checked by backprop")
        });
        probe.b_mut(l)[bj] = b0;
        checks.push(check(
            format!("dc/db_{}^[{l}]", bj + 1),
            l,
            bj,
            None,
            b[bj],
            numerical,
        ));
    }
    checks
}

fn check(
    name: String,
    layer: usize,
    j: usize,
    k: Option<usize>,
    backprop: f64,
    numerical: f64,
) -> Check {
    let relative_error = relative_error(backprop, numerical, RELATIVE_FLOOR);
    Check {
        name,
        layer,
        j,
        k,
        backprop,
        numerical,
        relative_error,
        agrees: relative_error < AGREEMENT,
    }
}

/// How to render an [`Explanation`] as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderOptions {
    /// Print every entry, however large the layer.
    pub full: bool,
    /// Quantities with more entries than this are summarised (shape, min/max/mean, the
    /// largest entries by magnitude) unless `full`.
    pub max_entries: usize,
    /// How many of the largest entries a summary lists.
    pub top: usize,
    /// A line saying where the example comes from, printed first (e.g. the file and row).
    pub source: Option<String>,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            full: false,
            max_entries: 16,
            top: 5,
            source: None,
        }
    }
}

/// The explanation as plain text, one block per equation, ready to print.
pub fn render_text(ex: &Explanation, options: &RenderOptions) -> String {
    render(ex, options, false)
}

/// The explanation as Markdown: headings per stage, values in code blocks.
pub fn render_markdown(ex: &Explanation, options: &RenderOptions) -> String {
    render(ex, options, true)
}

fn render(ex: &Explanation, options: &RenderOptions, markdown: bool) -> String {
    let arch = &ex.architecture;
    let mut out = String::new();
    let sizes = arch
        .sizes
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let title = format!(
        "network [{sizes}]: {} hidden layers, {} output, {} cost",
        arch.hidden, arch.output, arch.cost
    );
    if markdown {
        let _ = writeln!(out, "# Backpropagation of one example\n");
        if let Some(source) = &options.source {
            let _ = writeln!(out, "{source}\n");
        }
        let _ = writeln!(out, "{title}\n");
    } else {
        if let Some(source) = &options.source {
            let _ = writeln!(out, "{source}");
        }
        let _ = writeln!(out, "{title}");
    }

    let stages: [(&str, &[Equation]); 3] = [
        (
            "Forward pass (FF): z^[l] = W^[l] a^[l-1] + b^[l], a^[l] = g(z^[l])",
            &[Equation::Ff, Equation::Given],
        ),
        (
            "Backward pass (BP1, BP2): the errors e^[l] = dc/dz^[l]",
            &[Equation::Bp1, Equation::Bp2],
        ),
        ("Gradients (BP3, BP4)", &[Equation::Bp3, Equation::Bp4]),
    ];
    let mut index = 0;
    for (heading, equations) in stages {
        if markdown {
            let _ = writeln!(out, "## {heading}\n\n```text");
        } else {
            let _ = writeln!(out, "\n{heading}\n");
        }
        while index < ex.steps.len() && equations.contains(&ex.steps[index].equation) {
            write_step(&mut out, &ex.steps[index], options);
            index += 1;
        }
        if markdown {
            let _ = writeln!(out, "```\n");
        }
    }

    let heading =
        format!("Check: backprop against central differences of c_x (h = {DEFAULT_STEP})");
    if markdown {
        let _ = writeln!(out, "## {heading}\n\n```text");
    } else {
        let _ = writeln!(out, "\n{heading}\n");
    }
    let width = ex.checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
    for c in &ex.checks {
        let _ = writeln!(
            out,
            "{:<width$}  backprop {}  numerical {}  relative error {:.1e}  {}",
            c.name,
            number(c.backprop),
            number(c.numerical),
            c.relative_error,
            if c.agrees { "agrees" } else { "DISAGREES" }
        );
    }
    if markdown {
        let _ = writeln!(out, "```");
    }
    out
}

/// One step: the label and equation on one line, the value under it.
fn write_step(out: &mut String, step: &Step, options: &RenderOptions) {
    const INDENT: &str = "      ";
    if step.equation == Equation::Given {
        // Given values read as part of the next equation: "with W^[1] = …".
    } else {
        let _ = writeln!(out, "{:<4}  {}", step.equation.label(), step.text);
    }
    let lead = if step.equation == Equation::Given {
        format!("{INDENT}given {} = ", step.name)
    } else {
        format!("{INDENT}{} = ", step.name)
    };
    let entries = step.value.entries();
    if !options.full && entries.len() > options.max_entries {
        let _ = writeln!(
            out,
            "{lead}{}",
            summary(&step.value, &step.name, options.top)
        );
        return;
    }
    match &step.value {
        Value::Scalar(v) => {
            let _ = writeln!(out, "{lead}{}", number(*v));
        }
        Value::Vector(v) => {
            let _ = writeln!(out, "{lead}({})", join(v));
        }
        Value::Matrix(m) => {
            let pad = " ".repeat(lead.chars().count());
            for (j, row) in m.iter().enumerate() {
                let first = if j == 0 { lead.as_str() } else { pad.as_str() };
                let _ = writeln!(out, "{first}[{}]", join(row));
            }
        }
    }
}

/// Shape, min/max/mean and the largest entries by magnitude (1-based indices, as the
/// tutorial writes them).
fn summary(value: &Value, name: &str, top: usize) -> String {
    let entries = value.entries();
    let n = entries.len() as f64;
    let min = entries.iter().copied().fold(f64::INFINITY, f64::min);
    let max = entries.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mean = entries.iter().sum::<f64>() / n;
    let [rows, cols] = value.shape();
    let shape = match value {
        Value::Matrix(_) => format!("{rows} x {cols}"),
        _ => format!("{rows} entries"),
    };
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by(|&a, &b| {
        entries[b]
            .abs()
            .total_cmp(&entries[a].abs())
            .then(a.cmp(&b))
    });
    let largest: Vec<String> = order
        .iter()
        .take(top)
        .map(|&i| {
            let index = match value {
                Value::Matrix(_) => subscript(i / cols, i % cols, (entries.len() / cols, cols)),
                _ => format!("{}", i + 1),
            };
            format!("{} = {}", entry_name(name, &index), number(entries[i]))
        })
        .collect();
    format!(
        "{shape}, min {}, max {}, mean {}; largest |.|: {} (--full prints every entry)",
        number(min),
        number(max),
        number(mean),
        largest.join(", ")
    )
}

/// The 1-based subscript `jk` of entry (j, k) (0-based) of a `rows × cols` matrix, as the
/// tutorial writes `w_12`; with a comma (`w_3,12`) for every entry of a matrix with 10 or
/// more rows or columns, so that `w_1,15` and `w_15` never stand side by side.
fn subscript(j: usize, k: usize, (rows, cols): (usize, usize)) -> String {
    if rows <= 9 && cols <= 9 {
        format!("{}{}", j + 1, k + 1)
    } else {
        format!("{},{}", j + 1, k + 1)
    }
}

/// The name of one entry of a quantity: `z^[1]` → `z_5^[1]`, `W^[1]` → `w_2,3^[1]`,
/// `g'(z^[1])` → `g'(z_5^[1])`, anything else → `((W^[2])^T e^[2])_5`.
fn entry_name(name: &str, index: &str) -> String {
    let simple = |symbol: &str, layer: &str| {
        let symbol = match symbol {
            "W" => "w",
            "dc/dW" => "dc/dw",
            other => other,
        };
        format!("{symbol}_{index}{layer}")
    };
    if let Some(inner) = name.strip_prefix("g'(").and_then(|n| n.strip_suffix(')')) {
        return format!("g'({})", entry_name(inner, index));
    }
    match name.find("^[") {
        Some(i)
            if !name[..i].contains(['(', ' '])
                && name[i..].find(']') == Some(name.len() - i - 1) =>
        {
            simple(&name[..i], &name[i..])
        }
        None => simple(name, ""),
        _ => format!("({name})_{index}"),
    }
}

fn join(values: &[f64]) -> String {
    values
        .iter()
        .map(|&v| number(v))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Nine decimals for numbers a pencil can handle, scientific notation otherwise.
fn number(v: f64) -> String {
    if v == 0.0 || (1e-4..1e4).contains(&v.abs()) {
        format!("{v:.9}")
    } else {
        format!("{v:.6e}")
    }
}

/// The example at `row` (1-based) of a data set's inputs and targets, checked.
///
/// # Errors
/// [`Error::InvalidConfig`] for `--row` when `row` is 0 or past the last row; `what` names
/// the data (e.g. the file) in the message.
pub fn example_at(
    x: &Matrix<f64>,
    y: &Matrix<f64>,
    row: usize,
    what: &str,
) -> Result<(Vec<f64>, Vec<f64>)> {
    if row == 0 || row > x.rows() {
        return Err(Error::config(
            Setting::Row,
            format!(
                "row {row} does not exist: {what} has {} data row{} (rows count from 1)",
                x.rows(),
                if x.rows() == 1 { "" } else { "s" }
            ),
        ));
    }
    Ok((x.row(row - 1).to_vec(), y.row(row - 1).to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_running_example_has_the_tutorials_numbers() {
        let (net, x, y) = running_example();
        assert_eq!(net.sizes(), [2, 2, 2]);
        assert_eq!(net.w(1)[(0, 1)], 0.20);
        assert_eq!(net.w(2)[(1, 0)], 0.50);
        assert_eq!(net.b(1), [0.35, 0.35]);
        assert_eq!(net.b(2), [0.60, 0.60]);
        assert_eq!((x, y), (vec![0.05, 0.10], vec![0.01, 0.99]));
    }

    #[test]
    fn steps_come_in_the_order_of_the_equations() {
        let (net, x, y) = running_example();
        let ex = explain(&net, &x, &y).unwrap();
        let names: Vec<&str> = ex.steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "a^[0]",
                "W^[1]",
                "b^[1]",
                "z^[1]",
                "a^[1]",
                "W^[2]",
                "b^[2]",
                "z^[2]",
                "a^[2]",
                "y",
                "c_x",
                "dc/da^[2]",
                "g'(z^[2])",
                "e^[2]",
                "(W^[2])^T e^[2]",
                "g'(z^[1])",
                "e^[1]",
                "dc/db^[1]",
                "dc/dW^[1]",
                "dc/db^[2]",
                "dc/dW^[2]",
            ]
        );
        assert_eq!(
            ex.step("e", 1).unwrap().text,
            "e^[1] = (W^[2])^T e^[2] (.) g'(z^[1])"
        );
        assert_eq!(ex.checks.len(), 4);
        assert!(ex.checks.iter().all(|c| c.agrees), "{:?}", ex.checks);
    }

    #[test]
    fn the_factors_of_bp1_and_bp2_multiply_to_the_errors() {
        let (net, x, y) = running_example();
        let ex = explain(&net, &x, &y).unwrap();
        for (l, factor) in [(2, "dc/da"), (1, "W^T e")] {
            let f = ex.step(factor, l).unwrap().value.entries();
            let g = ex.step("g'(z)", l).unwrap().value.entries();
            let e = ex.step("e", l).unwrap().value.entries();
            for j in 0..2 {
                assert!((f[j] * g[j] - e[j]).abs() < 1e-15, "layer {l}, j {j}");
            }
        }
    }

    #[test]
    fn large_layers_are_summarised_unless_full() {
        let value = Value::Vector((0..20).map(|i| i as f64 - 10.0).collect());
        let s = summary(&value, "z^[1]", 3);
        assert!(
            s.starts_with("20 entries, min -10.000000000, max 9.000000000"),
            "{s}"
        );
        assert!(
            s.contains("z_1^[1] = -10.000000000, z_2^[1] = -9.000000000, z_20^[1] = 9.000000000"),
            "{s}"
        );
        let m = Value::Matrix(vec![vec![0.0; 5], vec![0.0, 0.0, 7.0, 0.0, 0.0]]);
        assert!(summary(&m, "dc/dW^[2]", 1).contains("2 x 5"));
        assert!(summary(&m, "dc/dW^[2]", 1).contains("dc/dw_23^[2] = 7.000000000"));
        assert_eq!(entry_name("(W^[2])^T e^[2]", "5"), "((W^[2])^T e^[2])_5");
        assert_eq!(entry_name("g'(z^[1])", "5"), "g'(z_5^[1])");
        assert_eq!(
            entry_name("W^[1]", &subscript(20, 443, (30, 784))),
            "w_21,444^[1]"
        );
        // One style per matrix: w_1,5 next to w_1,15, never w_15.
        assert_eq!(subscript(0, 4, (2, 16)), "1,5");
        assert_eq!(subscript(0, 4, (2, 9)), "15");
        assert_eq!(entry_name("c_x", "1"), "c_x_1");
    }

    #[test]
    fn a_row_past_the_end_names_the_flag_and_the_data() {
        let x = Matrix::from_rows(&[vec![1.0], vec![2.0]]).unwrap();
        let y = x.clone();
        let err = example_at(&x, &y, 3, "data.csv").unwrap_err().to_string();
        assert!(
            err.contains("row") && err.contains("data.csv") && err.contains("2 data rows"),
            "{err}"
        );
        assert!(example_at(&x, &y, 0, "data.csv").is_err());
        assert_eq!(example_at(&x, &y, 2, "d").unwrap(), (vec![2.0], vec![2.0]));
    }
}
