//! `nabla explain` and the pictures (`nabla diagram`, `nabla::plot::training_curves`): the
//! demo's numbers against the hand-worked example, explain's JSON against `nabla grad` and the
//! library's forward pass, and the SVG/PNG files read back by independent parsers.

use std::path::Path;

use nabla::data::source::read_for_model;
use nabla::{EpochReport, Gradients, Model, Pass, Task};

use crate::util::*;

/// The hand-worked values of `tests/it/hand_worked.rs` (Mazur's example), each derived there.
mod hand {
    pub const Z1: [f64; 2] = [0.3775, 0.3925];
    pub const A1: [f64; 2] = [0.593_269_992_107_187_2, 0.596_884_378_259_767];
    pub const Z2: [f64; 2] = [1.105_905_967_059_77, 1.224_921_404_096_465_3];
    pub const A2: [f64; 2] = [0.751_365_069_552_315_7, 0.772_928_465_321_462_5];
    pub const COST: f64 = 0.298_371_108_760_002_7;
    pub const E2: [f64; 2] = [0.138_498_561_628_556_95, -0.038_098_236_516_556_236];
    pub const E1: [f64; 2] = [0.008_771_354_689_486_93, 0.009_954_254_705_217_196];
    pub const X: [f64; 2] = [0.05, 0.10];
}

fn explain_demo(format: &str) -> String {
    stdout_of(
        &nabla()
            .args(["explain", "--demo", "--format", format])
            .assert()
            .success(),
    )
}

/// The step of the explain JSON with this symbol and layer.
fn step<'a>(v: &'a serde_json::Value, symbol: &str, layer: u64) -> &'a serde_json::Value {
    v["steps"]
        .as_array()
        .expect("a steps array")
        .iter()
        .find(|s| s["symbol"] == symbol && s["layer"] == layer)
        .unwrap_or_else(|| panic!("no step {symbol} of layer {layer}"))
}

/// Every number of a JSON value, row by row. serde_json is built with `float_roundtrip`
/// (see Cargo.toml), so these parse exactly.
fn numbers(v: &serde_json::Value) -> Vec<f64> {
    match v {
        serde_json::Value::Number(n) => vec![n.as_f64().expect("a number")],
        serde_json::Value::Array(items) => items.iter().flat_map(numbers).collect(),
        other => panic!("not a number or an array: {other}"),
    }
}

fn assert_close(got: &[f64], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: {got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-12, "{what}: got {got:?}, want {want:?}");
    }
}

/// A vector as the text output writes it: nine decimals.
fn shown(v: &[f64]) -> String {
    let parts: Vec<String> = v.iter().map(|x| format!("{x:.9}")).collect();
    format!("({})", parts.join(", "))
}

#[test]
fn explain_demo_prints_the_hand_worked_numbers_of_the_running_example() {
    let text = explain_demo("text");
    let lines = [
        format!("a^[0] = {}", shown(&hand::X)),
        format!("z^[1] = {}", shown(&hand::Z1)),
        format!("a^[1] = {}", shown(&hand::A1)),
        format!("z^[2] = {}", shown(&hand::Z2)),
        format!("a^[2] = {}", shown(&hand::A2)),
        format!("c_x = {:.9}", hand::COST),
        format!("e^[2] = {}", shown(&hand::E2)),
        format!("e^[1] = {}", shown(&hand::E1)),
        // BP3: ∂c/∂b^[l] = e^[l]
        format!("dc/db^[2] = {}", shown(&hand::E2)),
        format!("dc/db^[1] = {}", shown(&hand::E1)),
        // BP4, row 1 of ∂c/∂W^[2]: a_k^[1] e_1^[2] (0.082167 is Mazur's ∂E/∂w5)
        format!(
            "dc/dW^[2] = [{:.9}, {:.9}]",
            hand::A1[0] * hand::E2[0],
            hand::A1[1] * hand::E2[0]
        ),
        // BP4, row 1 of ∂c/∂W^[1]: x_k e_1^[1] (0.000438568 is Mazur's ∂E/∂w1)
        format!(
            "dc/dW^[1] = [{:.9}, {:.9}]",
            hand::X[0] * hand::E1[0],
            hand::X[1] * hand::E1[0]
        ),
    ];
    for line in &lines {
        assert!(text.contains(line.as_str()), "missing '{line}' in:\n{text}");
    }
    assert!(text.contains("dc/dW^[2] = [0.082167041, "), "{text}");
    // Every block is labelled with its equation.
    for label in [
        "FF    z^[1] = W^[1] a^[0] + b^[1]",
        "FF    a^[2] = sigmoid(z^[2])",
        "FF    c_x = 1/2 ||y - a^[2]||^2",
        "BP1   e^[2] = dc/da^[2] (.) g'(z^[2])",
        "BP2   e^[1] = (W^[2])^T e^[2] (.) g'(z^[1])",
        "BP3   dc/db_j^[1] = e_j^[1]",
        "BP4   dc/dw_jk^[2] = a_k^[1] e_j^[2]",
    ] {
        assert!(text.contains(label), "missing '{label}' in:\n{text}");
    }
    // The finite-difference check agrees on every entry it tries.
    let checks: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("dc/d") && l.contains("backprop"))
        .collect();
    assert_eq!(checks.len(), 4, "{text}");
    assert!(checks.iter().all(|l| l.ends_with("agrees")), "{text}");
}

#[test]
fn explain_demo_json_carries_every_quantity_with_its_layer_and_name() {
    let text = explain_demo("json");
    let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(v["source"]["demo"], true);
    assert_eq!(v["architecture"]["sizes"], serde_json::json!([2, 2, 2]));
    assert_close(&numbers(&step(&v, "a", 0)["value"]), &hand::X, "a^[0]");
    assert_close(&numbers(&step(&v, "z", 1)["value"]), &hand::Z1, "z^[1]");
    assert_close(&numbers(&step(&v, "a", 1)["value"]), &hand::A1, "a^[1]");
    assert_close(&numbers(&step(&v, "z", 2)["value"]), &hand::Z2, "z^[2]");
    assert_close(&numbers(&step(&v, "a", 2)["value"]), &hand::A2, "a^[2]");
    assert_close(&numbers(&step(&v, "c_x", 2)["value"]), &[hand::COST], "c_x");
    assert_close(&[exact(&text, "cost")], &[hand::COST], "cost");
    assert_close(&numbers(&step(&v, "e", 2)["value"]), &hand::E2, "e^[2]");
    assert_close(&numbers(&step(&v, "e", 1)["value"]), &hand::E1, "e^[1]");
    assert_close(
        &numbers(&step(&v, "dc/db", 1)["value"]),
        &hand::E1,
        "dc/db^[1]",
    );
    let dw2: Vec<f64> = (0..4).map(|i| hand::A1[i % 2] * hand::E2[i / 2]).collect();
    assert_close(&numbers(&step(&v, "dc/dW", 2)["value"]), &dw2, "dc/dW^[2]");
    let dw1: Vec<f64> = (0..4).map(|i| hand::X[i % 2] * hand::E1[i / 2]).collect();
    assert_close(&numbers(&step(&v, "dc/dW", 1)["value"]), &dw1, "dc/dW^[1]");

    // Names, equations and labels travel with the values.
    let e1 = step(&v, "e", 1);
    assert_eq!(e1["name"], "e^[1]");
    assert_eq!(e1["equation"], "BP2");
    assert_eq!(e1["text"], "e^[1] = (W^[2])^T e^[2] (.) g'(z^[1])");
    assert_eq!(step(&v, "e", 2)["equation"], "BP1");
    assert_eq!(step(&v, "dc/db", 2)["equation"], "BP3");
    assert_eq!(step(&v, "dc/dW", 2)["equation"], "BP4");
    assert_eq!(step(&v, "z", 1)["equation"], "FF");
    assert_eq!(
        step(&v, "W", 2)["value"],
        serde_json::json!([[0.40, 0.45], [0.50, 0.55]])
    );
    let checks = v["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 4);
    for c in checks {
        assert_eq!(c["agrees"], true, "{c}");
        assert!(c["relative_error"].as_f64().unwrap() < 1e-9, "{c}");
    }
}

#[test]
fn the_demo_network_is_the_running_example_and_its_explanation_is_backprop() {
    let (net, x, y) = nabla::explain::running_example();
    let ex = nabla::explain::explain(&net, &x, &y).unwrap();
    let (xm, ym) = (
        nabla::Matrix::from_vec(1, 2, x.clone()).unwrap(),
        nabla::Matrix::from_vec(1, 2, y.clone()).unwrap(),
    );
    let mut pass = Pass::new(net.sizes(), 1);
    let mut grads = Gradients::zeros(net.sizes());
    let cost = net.backprop(&xm, &ym, &mut pass, &mut grads).unwrap();
    assert_eq!(ex.cost, cost);
    for l in 1..=2 {
        assert_eq!(ex.step("z", l).unwrap().value.entries(), pass.z[l].row(0));
        assert_eq!(ex.step("a", l).unwrap().value.entries(), pass.a[l].row(0));
        assert_eq!(ex.step("e", l).unwrap().value.entries(), pass.e[l].row(0));
        assert_eq!(
            ex.step("dc/db", l).unwrap().value.entries(),
            grads.nabla_b[l]
        );
        assert_eq!(
            ex.step("dc/dW", l).unwrap().value.entries(),
            grads.nabla_w[l].as_slice()
        );
    }
}

#[test]
fn the_readme_shows_the_demo_output_as_it_is() {
    let text = explain_demo("text");
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme
        .split("## See backpropagation happen")
        .nth(1)
        .expect("a README section 'See backpropagation happen'");
    assert!(
        section.contains(text.trim_end()),
        "the README's demo output is stale; paste the output of `nabla explain --demo`:\n{text}"
    );
}

#[test]
fn explain_markdown_has_a_heading_per_stage_and_values_in_code_blocks() {
    let md = explain_demo("markdown");
    for heading in [
        "# Backpropagation of one example",
        "## Forward pass (FF)",
        "## Backward pass (BP1, BP2)",
        "## Gradients (BP3, BP4)",
        "## Check: backprop against central differences",
    ] {
        assert!(md.contains(heading), "missing '{heading}' in:\n{md}");
    }
    assert_eq!(md.matches("```text").count(), 4, "{md}");
    assert_eq!(md.matches("```").count(), 8, "{md}");
}

/// A classification CSV, a model trained on it, and the CSV of its row `row` alone.
fn model_and_rows(
    dir: &tempfile::TempDir,
    row: usize,
) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let data = classification_csv(dir, "data.csv", 12, 5);
    let model = train_model(dir, "m.safetensors", &data, &[]);
    let text = std::fs::read_to_string(&data).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let one = write_file(dir, "one.csv", format!("{}\n{}\n", lines[0], lines[row]));
    (data, model, one)
}

#[test]
fn explain_json_equals_grad_on_a_one_row_file_and_the_library_forward_pass() {
    let dir = temp();
    let row = 4;
    let (data, model, one) = model_and_rows(&dir, row);
    let explained = stdout_of(
        &nabla()
            .args(["explain", "--model", s(&model), "--data", s(&data)])
            .args(["--row", &row.to_string(), "--format", "json"])
            .assert()
            .success(),
    );
    let grad = stdout_of(
        &nabla()
            .args(["grad", "--model", s(&model), "--data", s(&one), "--json"])
            .assert()
            .success(),
    );
    // C over a one-row file is that row's c_x; the gradients are entry for entry the same.
    assert_eq!(exact(&explained, "cost"), exact(&grad, "cost"));
    for name in [
        "layers.0.weight",
        "layers.0.bias",
        "layers.1.weight",
        "layers.1.bias",
    ] {
        let e = exact_numbers(raw(raw(&explained, "gradients"), name));
        let g = exact_numbers(raw(raw(&grad, "gradients"), name));
        assert!(!e.is_empty());
        assert_eq!(e, g, "{name}");
    }

    // FF against the library, on the same row read the same way (scaled by the model).
    let m: Model<f64> = Model::load(&model).unwrap();
    let d = read_for_model(&data, &m, None, true).unwrap();
    let x = nabla::Matrix::from_rows(&[d.x.row(row - 1).to_vec()]).unwrap();
    let mut pass = Pass::new(m.network.sizes(), 1);
    m.network.forward(&x, &mut pass).unwrap();
    let v: serde_json::Value = serde_json::from_str(explained.trim()).unwrap();
    assert_eq!(numbers(&step(&v, "a", 0)["value"]), x.row(0));
    for l in 1..=2u64 {
        assert_eq!(
            numbers(&step(&v, "z", l)["value"]),
            pass.z[l as usize].row(0),
            "z^[{l}]"
        );
        assert_eq!(
            numbers(&step(&v, "a", l)["value"]),
            pass.a[l as usize].row(0),
            "a^[{l}]"
        );
    }
    assert_eq!(v["source"]["row"], row as u64);
    assert_eq!(v["source"]["class"], label_of_row(&data, row));
    assert!(
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["agrees"] == true),
        "{}",
        v["checks"]
    );
}

/// The label column of CSV data row `row` (1-based).
fn label_of_row(data: &Path, row: usize) -> String {
    let text = std::fs::read_to_string(data).unwrap();
    let line = text.lines().nth(row).unwrap();
    line.rsplit(',').next().unwrap().to_string()
}

#[test]
fn explain_text_names_the_row_and_its_class() {
    let dir = temp();
    let (data, model, _) = model_and_rows(&dir, 2);
    let text = stdout_of(
        &nabla()
            .args([
                "explain",
                "--model",
                s(&model),
                "--data",
                s(&data),
                "--row",
                "2",
            ])
            .assert()
            .success(),
    );
    let first = text.lines().next().unwrap();
    assert!(
        first.contains("row 2 of") && first.contains("data.csv"),
        "{first}"
    );
    assert!(
        first.contains(&format!("(class '{}')", label_of_row(&data, 2))),
        "{first}"
    );
    assert!(
        text.contains("softmax output, cross-entropy cost"),
        "{text}"
    );
    assert!(text.contains("e^[2] = a^[2] - y"), "{text}");
}

#[test]
fn large_layers_are_summarised_unless_full() {
    let dir = temp();
    let data = classification_csv(&dir, "data.csv", 12, 5);
    let model = dir.path().join("wide.safetensors");
    nabla()
        .args([
            "train",
            "--data",
            s(&data),
            "--hidden",
            "20",
            "--epochs",
            "1",
            "--quiet",
            "--json",
            "--out",
            s(&model),
        ])
        .assert()
        .success();
    let args = ["explain", "--model", s(&model), "--data", s(&data)];
    let short = stdout_of(&nabla().args(args).assert().success());
    assert!(short.contains("z^[1] = 20 entries, min "), "{short}");
    assert!(short.contains("W^[1] = 20 x 3, min "), "{short}");
    assert!(short.contains("largest |.|: z_"), "{short}");
    assert!(short.contains("(--full prints every entry)"), "{short}");
    let full = stdout_of(&nabla().args(args).arg("--full").assert().success());
    assert!(!full.contains("--full prints every entry"), "{full}");
    let z1 = full
        .lines()
        .find(|l| l.trim_start().starts_with("z^[1] = ("))
        .unwrap();
    assert_eq!(z1.matches(',').count(), 19, "{z1}");
}

#[test]
fn a_row_past_the_end_is_an_error_naming_row_and_the_file() {
    let dir = temp();
    let (data, model, _) = model_and_rows(&dir, 1);
    assert_error(
        nabla().args([
            "explain",
            "--model",
            s(&model),
            "--data",
            s(&data),
            "--row",
            "13",
        ]),
        &["--row", "data.csv", "12 data rows"],
    );
    assert_usage_error(
        nabla().args([
            "explain",
            "--model",
            s(&model),
            "--data",
            s(&data),
            "--row",
            "0",
        ]),
        "--row",
    );
}

#[test]
fn explain_needs_a_model_and_data_or_demo_but_not_both() {
    assert_usage_error(nabla().args(["explain"]), "--model");
    assert_usage_error(
        nabla().args(["explain", "--demo", "--model", "m.safetensors"]),
        "--model",
    );
}

#[test]
fn explain_with_a_missing_model_names_it() {
    let dir = temp();
    let data = classification_csv(&dir, "data.csv", 4, 1);
    assert_error(
        nabla().args(["explain", "--model", "nope.safetensors", "--data", s(&data)]),
        &["nope.safetensors"],
    );
}

// ---------------------------------------------------------------------------------------
// Pictures

#[test]
fn the_diagram_svg_parses_and_has_one_circle_per_neuron_and_one_line_per_weight() {
    let dir = temp();
    let model = init_model(&dir, "m.safetensors", &["--layers", "3,4,2"]);
    let out = dir.path().join("net.svg");
    nabla()
        .args(["diagram", "--model", s(&model), "--out", s(&out)])
        .assert()
        .success()
        .stdout(predicates::str::contains("wrote"));
    let svg = std::fs::read_to_string(&out).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("the diagram is well-formed XML");
    let count = |tag: &str| doc.descendants().filter(|n| n.has_tag_name(tag)).count();
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    assert_eq!(count("circle"), 3 + 4 + 2);
    assert_eq!(count("line"), 3 * 4 + 4 * 2);
    // Lines are coloured by sign: each is blue or red.
    let m = read_st(&model);
    let positive = ["layers.0.weight", "layers.1.weight"]
        .iter()
        .flat_map(|n| m.tensors[*n].values.clone())
        .filter(|&w| w >= 0.0)
        .count();
    let blue = doc
        .descendants()
        .filter(|n| n.has_tag_name("line") && n.attribute("stroke") == Some("#1F77B4"))
        .count();
    assert_eq!(blue, positive);
    // Small networks carry labels: the layers and each weight.
    let texts: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text().map(str::trim))
        .collect();
    assert!(
        texts.contains(&"layer 0") && texts.contains(&"layer 2"),
        "{texts:?}"
    );
    assert!(texts.len() >= 3 * 4 + 4 * 2, "{texts:?}");
}

#[test]
fn the_diagram_png_decodes_to_the_stated_size() {
    let dir = temp();
    let out = dir.path().join("net.png");
    nabla()
        .args(["diagram", "--demo", "--out", s(&out)])
        .assert()
        .success();
    let (w, h) = png_size(&out);
    assert_eq!((w, h), nabla::plot::DIAGRAM_SIZE);
}

#[test]
fn a_diagram_with_another_extension_is_an_error_and_writes_nothing() {
    let dir = temp();
    let out = dir.path().join("net.jpg");
    assert_error(
        nabla().args(["diagram", "--demo", "--out", s(&out)]),
        &["--out", "net.jpg", ".svg or .png"],
    );
    assert!(!out.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// Decodes a PNG with the `png` crate and returns its width and height.
fn png_size(path: &Path) -> (u32, u32) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().expect("a PNG header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader
        .next_frame(&mut buf)
        .expect("the PNG's pixels decode");
    (info.width, info.height)
}

/// A synthetic history of `n` epochs: cost falling, accuracy rising (or RMSE falling).
fn history(n: usize, task: Task) -> Vec<EpochReport> {
    history_with(n, task, false)
}

/// [`history`], with a validation evaluation per epoch when `validation`.
fn history_with(n: usize, task: Task, validation: bool) -> Vec<EpochReport> {
    let reports: Vec<serde_json::Value> = (1..=n)
        .map(|epoch| {
            let t = epoch as f64;
            let test = match task {
                Task::Classification => serde_json::json!({ "n": 50, "cost": 0.6 / t + 0.02, "accuracy": 1.0 - 0.5 / t }),
                Task::Regression => serde_json::json!({ "n": 50, "cost": 0.6 / t, "rmse": 1.0 / t, "mae": 0.8 / t, "r2": 1.0 - 1.0 / t }),
            };
            // Every field any version of EpochReport has; serde ignores the ones it lacks.
            serde_json::json!({
                "epoch": epoch, "learning_rate": 0.5, "train_cost": 0.5 / t, "regularization": 0.0,
                "validation": if validation { test.clone() } else { serde_json::Value::Null },
                "test": test, "seconds": 0.01,
            })
        })
        .collect();
    serde_json::from_value(serde_json::Value::Array(reports)).expect("EpochReports")
}

#[test]
fn training_curves_svg_has_a_line_per_series_and_parses() {
    let dir = temp();
    let out = dir.path().join("curves.svg");
    nabla::plot::training_curves(
        &history(12, Task::Classification),
        Task::Classification,
        &out,
    )
    .unwrap();
    let svg = std::fs::read_to_string(&out).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    let texts: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
    for label in [
        "train cost",
        "test cost",
        "test accuracy",
        "epoch",
        "cost C per epoch",
    ] {
        assert!(
            texts.iter().any(|t| t.contains(label)),
            "no '{label}' in {texts:?}"
        );
    }
    // One polyline per curve (train cost, test cost, test accuracy), each with every epoch,
    // plus the three legend samples.
    let lines: Vec<usize> = doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .map(|n| n.attribute("points").unwrap().split_whitespace().count())
        .collect();
    assert_eq!(lines.iter().filter(|&&p| p == 12).count(), 3, "{lines:?}");
    // Written atomically: nothing else is left in the folder.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn training_curves_png_decodes_to_the_stated_size_for_both_tasks() {
    let dir = temp();
    for (task, name) in [(Task::Classification, "c.png"), (Task::Regression, "r.png")] {
        let out = dir.path().join(name);
        nabla::plot::training_curves(&history(5, task), task, &out).unwrap();
        assert_eq!(png_size(&out), nabla::plot::CURVES_SIZE);
    }
    let svg =
        nabla::plot::training_curves_svg(&history(3, Task::Regression), Task::Regression).unwrap();
    assert!(svg.contains("test RMSE"));
    // One epoch still draws.
    nabla::plot::training_curves_svg(&history(1, Task::Classification), Task::Classification)
        .unwrap();
}

#[test]
fn training_curves_reject_other_extensions_and_empty_histories() {
    let dir = temp();
    let out = dir.path().join("curves.gif");
    let err = nabla::plot::training_curves(
        &history(3, Task::Classification),
        Task::Classification,
        &out,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("invalid plot") && err.contains("curves.gif") && !err.contains("--"),
        "{err}"
    );
    assert!(!out.exists());
    let err = nabla::plot::training_curves(&[], Task::Classification, &dir.path().join("c.svg"))
        .unwrap_err();
    assert!(err.to_string().contains("empty"), "{err}");
}

#[test]
fn training_curves_show_validation_curves_when_there_are_any() {
    let svg = nabla::plot::training_curves_svg(
        &history_with(8, Task::Classification, true),
        Task::Classification,
    )
    .unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    let full_curves = doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .filter(|n| n.attribute("points").unwrap().split_whitespace().count() == 8)
        .count();
    // train, validation and test cost; validation and test accuracy
    assert_eq!(full_curves, 5);
    assert!(svg.contains("validation cost") && svg.contains("validation accuracy"));
}
