//! `nabla export` and `nabla import`: the ONNX graph decoded back (ops, shapes, types,
//! metadata), the PyTorch state dict exported and imported back to the same predictions
//! bit for bit, and bad input (one error line, exit 2, nothing written).

use std::path::{Path, PathBuf};

use nabla::export::onnx::proto::{self, ModelProto};

use crate::util::*;

/// Decodes an exported ONNX file with the generated protobuf types.
fn decode(path: &Path) -> ModelProto {
    nabla::export::onnx::from_bytes(&std::fs::read(path).unwrap()).expect("an ONNX ModelProto")
}

fn export(model: &Path, format: &str, out: &Path) {
    nabla()
        .args([
            "export",
            "--model",
            s(model),
            "--format",
            format,
            "--out",
            s(out),
        ])
        .assert()
        .success();
}

/// `nabla train` of a small model on `data` into `dir/name` (one epoch).
fn train(dir: &tempfile::TempDir, name: &str, data: &Path, extra: &[&str]) -> PathBuf {
    let path = dir.path().join(name);
    nabla()
        .args([
            "train",
            "--data",
            s(data),
            "--epochs",
            "2",
            "--quiet",
            "--json",
        ])
        .args(extra)
        .arg("--out")
        .arg(&path)
        .assert()
        .success();
    path
}

fn ops(m: &ModelProto) -> Vec<String> {
    let graph = m.graph.as_ref().unwrap();
    graph
        .node
        .iter()
        .map(|n| n.op_type.clone().unwrap())
        .collect()
}

/// `[dims]` of a graph input or output: a name for a dynamic one, else its size.
fn shape(v: &proto::ValueInfoProto) -> (i32, Vec<String>) {
    use proto::tensor_shape_proto::dimension::Value;
    use proto::type_proto::Value as Type;
    let Some(Type::TensorType(t)) = v.r#type.as_ref().unwrap().value.as_ref() else {
        panic!("a tensor type")
    };
    let dims = t
        .shape
        .as_ref()
        .unwrap()
        .dim
        .iter()
        .map(|d| match d.value.as_ref().unwrap() {
            Value::DimParam(p) => p.clone(),
            Value::DimValue(n) => n.to_string(),
        });
    (t.elem_type.unwrap(), dims.collect())
}

fn initializer<'a>(m: &'a ModelProto, name: &str) -> &'a proto::TensorProto {
    m.graph
        .as_ref()
        .unwrap()
        .initializer
        .iter()
        .find(|t| t.name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no initializer {name}"))
}

#[test]
fn the_onnx_graph_is_one_gemm_per_layer_with_its_activation_and_the_scaling_first() {
    let dir = temp();
    let data = classification_csv(&dir, "c.csv", 60, 1);
    let model = train(
        &dir,
        "m.safetensors",
        &data,
        &["--hidden", "5,4", "--activation", "tanh"],
    );
    let out = dir.path().join("m.onnx");
    export(&model, "onnx", &out);
    let m = decode(&out);
    assert_eq!(m.opset_import[0].version, Some(13));
    assert_eq!(m.ir_version, Some(7));
    assert_eq!(
        ops(&m),
        ["Sub", "Mul", "Gemm", "Tanh", "Gemm", "Tanh", "Gemm", "Softmax"]
    );
    let graph = m.graph.as_ref().unwrap();
    for gemm in graph
        .node
        .iter()
        .filter(|n| n.op_type.as_deref() == Some("Gemm"))
    {
        let trans_b = gemm
            .attribute
            .iter()
            .find(|a| a.name.as_deref() == Some("transB"));
        assert_eq!(trans_b.and_then(|a| a.i), Some(1), "{gemm:?}");
    }
    let softmax = graph.node.last().unwrap();
    assert_eq!(softmax.attribute[0].name.as_deref(), Some("axis"));
    assert_eq!(softmax.attribute[0].i, Some(-1));
    assert_eq!(softmax.output, ["y"]);
    let float = proto::tensor_proto::DataType::Float as i32;
    assert_eq!(
        shape(&graph.input[0]),
        (float, vec!["batch".into(), "3".into()])
    );
    assert_eq!(
        shape(&graph.output[0]),
        (float, vec!["batch".into(), "3".into()])
    );
    // W^[l] as nabla stores it, n_l × n_(l-1) (Gemm's transB = 1), raw little-endian f32.
    let file = read_st(&model);
    for (i, dims) in [(0, vec![5, 3]), (1, vec![4, 5]), (2, vec![3, 4])] {
        let w = initializer(&m, &format!("layers.{i}.weight"));
        assert_eq!(w.dims, dims);
        assert_eq!(w.data_type, Some(float));
        let values: Vec<f64> = w
            .raw_data
            .as_ref()
            .unwrap()
            .chunks_exact(4)
            .map(|c| f64::from(f32::from_le_bytes(c.try_into().unwrap())))
            .collect();
        assert_eq!(values, file.tensors[&format!("layers.{i}.weight")].values);
        assert_eq!(initializer(&m, &format!("layers.{i}.bias")).dims, [dims[0]]);
    }
    assert_eq!(initializer(&m, "scaling.offset").dims, [3]);
    let meta = nabla::export::onnx::metadata(&m);
    assert_eq!(meta["features"], r#"["x0","x1","x2"]"#);
    assert_eq!(meta["classes"], r#"["a","b","c"]"#);
    assert_eq!(meta["targets"], r#"["label"]"#);
    assert_eq!(meta["task"], "classification");
}

#[test]
fn every_activation_has_its_onnx_nodes_and_f64_models_are_double() {
    let dir = temp();
    let cases = [
        (
            "sigmoid",
            "sigmoid",
            "f32",
            vec!["Gemm", "Clip", "Sigmoid", "Gemm", "Clip", "Sigmoid"],
        ),
        ("relu", "identity", "f32", vec!["Gemm", "Relu", "Gemm"]),
        (
            "leaky-relu",
            "softmax",
            "f32",
            vec!["Gemm", "LeakyRelu", "Gemm", "Softmax"],
        ),
        (
            "leaky-relu",
            "tanh",
            "f64",
            vec!["Gemm", "Mul", "Max", "Gemm", "Tanh"],
        ),
        ("identity", "relu", "f64", vec!["Gemm", "Gemm", "Relu"]),
    ];
    for (hidden, output, precision, expected) in cases {
        let model = init_model(
            &dir,
            &format!("{hidden}-{output}.safetensors"),
            &[
                "--layers",
                "4,6,2",
                "--activation",
                hidden,
                "--output",
                output,
                "--precision",
                precision,
            ],
        );
        let out = dir.path().join(format!("{hidden}-{output}.onnx"));
        export(&model, "onnx", &out);
        let m = decode(&out);
        assert_eq!(ops(&m), expected, "{hidden} {output}");
        let graph = m.graph.as_ref().unwrap();
        let want = if precision == "f64" {
            proto::tensor_proto::DataType::Double
        } else {
            proto::tensor_proto::DataType::Float
        } as i32;
        assert_eq!(shape(&graph.input[0]).0, want);
        assert!(graph.initializer.iter().all(|t| t.data_type == Some(want)));
        assert_eq!(graph.node.last().unwrap().output, ["y"]);
    }
}

/// `nabla predict`'s stdout.
fn predict(model: &Path, data: &Path) -> String {
    stdout_of(
        &nabla()
            .args(["predict", "--model", s(model), "--data", s(data)])
            .assert()
            .success(),
    )
}

#[test]
fn a_torch_export_imports_back_to_the_same_predictions_bit_for_bit() {
    let dir = temp();
    let data = classification_csv(&dir, "c.csv", 80, 3);
    for precision in ["f32", "f64"] {
        let model = train(
            &dir,
            &format!("{precision}.safetensors"),
            &data,
            &[
                "--hidden",
                "6,4",
                "--activation",
                "leaky-relu",
                "--precision",
                precision,
            ],
        );
        let state = dir.path().join(format!("{precision}-torch.safetensors"));
        export(&model, "torch", &state);
        // nn.Sequential keys: Linear, activation, Linear, activation, ...
        let file = read_st(&state);
        let mut keys: Vec<&String> = file.tensors.keys().collect();
        keys.sort();
        assert_eq!(
            keys,
            ["0.bias", "0.weight", "2.bias", "2.weight", "4.bias", "4.weight"]
        );
        assert_eq!(file.tensors["2.weight"].shape, [4, 6]);
        let script = std::fs::read_to_string(state.with_extension("py")).unwrap();
        assert!(
            script.contains("nn.Linear(3, 6), nn.LeakyReLU(0.01)"),
            "{script}"
        );
        assert!(script.contains("Scaling("), "{script}");

        // From the metadata the export wrote: no flags needed.
        let back = dir.path().join(format!("{precision}-back.safetensors"));
        nabla()
            .args(["import", "--torch", s(&state), "--out", s(&back)])
            .assert()
            .success();
        assert_eq!(predict(&back, &data), predict(&model, &data), "{precision}");
        // `explain`, `grad` and `eval` work on it.
        for command in ["explain", "grad", "eval"] {
            nabla()
                .args([command, "--model", s(&back), "--data", s(&data)])
                .assert()
                .success();
        }
    }
}

/// A plain state dict as PyTorch writes it: keys N.weight, N.bias only, no metadata.
fn plain_state(dir: &tempfile::TempDir, name: &str, layers: &[(usize, usize, usize)]) -> PathBuf {
    let mut rng = Lcg::new(5);
    let mut tensors = std::collections::HashMap::new();
    for &(index, out, inp) in layers {
        tensors.insert(
            format!("{index}.weight"),
            Tensor {
                dtype: safetensors::Dtype::F32,
                shape: vec![out, inp],
                values: (0..out * inp).map(|_| rng.next()).collect(),
            },
        );
        tensors.insert(
            format!("{index}.bias"),
            Tensor {
                dtype: safetensors::Dtype::F32,
                shape: vec![out],
                values: (0..out).map(|_| rng.next()).collect(),
            },
        );
    }
    let path = dir.path().join(name);
    write_st(
        &path,
        &StFile {
            tensors,
            metadata: Default::default(),
        },
    );
    path
}

#[test]
fn a_plain_pytorch_state_dict_imports_with_flags() {
    let dir = temp();
    // Indices 1 and 3, as nn.Sequential(nn.Dropout(), nn.Linear, nn.ReLU(), nn.Linear) has.
    let state = plain_state(&dir, "plain.safetensors", &[(1, 5, 3), (3, 3, 5)]);
    let out = dir.path().join("m.safetensors");
    nabla()
        .args([
            "import",
            "--torch",
            s(&state),
            "--activation",
            "relu",
            "--output",
            "softmax",
            "--cost",
            "cross-entropy",
            "--features",
            "x0,x1,x2",
            "--classes",
            "a,b,c",
            "--out",
            s(&out),
        ])
        .assert()
        .success();
    let file = read_st(&out);
    assert_eq!(file.metadata["layers"], "3,5,3");
    assert_eq!(file.metadata["classes"], r#"["a","b","c"]"#);
    assert_eq!(
        file.tensors["layers.1.weight"].values,
        read_st(&state).tensors["3.weight"].values
    );
    let data = classification_csv(&dir, "c.csv", 20, 2);
    let text = predict(&out, &data);
    assert!(text.starts_with("predicted,a,b,c\n"), "{text}");
}

#[test]
fn shapes_that_do_not_chain_are_one_line_naming_the_tensors() {
    let dir = temp();
    let state = plain_state(&dir, "bad.safetensors", &[(0, 5, 3), (2, 3, 4)]);
    let out = dir.path().join("m.safetensors");
    assert_error(
        nabla().args([
            "import",
            "--torch",
            s(&state),
            "--activation",
            "relu",
            "--output",
            "softmax",
            "--cost",
            "cross-entropy",
            "--out",
            s(&out),
        ]),
        &[
            "--torch",
            "bad.safetensors",
            "'0.weight' [5, 3]",
            "'2.weight' [3, 4]",
        ],
    );
    assert!(!out.exists());
}

#[test]
fn import_errors_name_the_flag_and_write_nothing() {
    let dir = temp();
    let state = plain_state(&dir, "plain.safetensors", &[(0, 5, 3), (2, 2, 5)]);
    let out = dir.path().join("m.safetensors");
    let base = ["import", "--torch", s(&state), "--out", s(&out)];
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (vec![], vec!["--activation", "plain.safetensors"]),
        (vec!["--activation", "relu"], vec!["--output"]),
        (
            vec!["--activation", "relu", "--output", "sigmoid"],
            vec!["--cost"],
        ),
        (
            vec![
                "--activation",
                "relu",
                "--output",
                "sigmoid",
                "--cost",
                "quadratic",
                "--features",
                "a,b",
            ],
            vec!["--features", "2 names", "3 inputs"],
        ),
        (
            vec![
                "--activation",
                "relu",
                "--output",
                "sigmoid",
                "--cost",
                "quadratic",
                "--classes",
                "a,b,c",
            ],
            vec!["--classes", "3 classes", "2 outputs"],
        ),
        (
            vec![
                "--activation",
                "relu",
                "--output",
                "identity",
                "--cost",
                "cross-entropy",
            ],
            vec!["--cost", "cross-entropy"],
        ),
    ];
    for (extra, needles) in cases {
        let line = assert_error(nabla().args(base).args(&extra), &needles);
        assert!(!line.contains("invalid activation"), "{line}");
        assert!(!out.exists(), "{line}");
    }
    // Not a state dict of Linear layers: a tensor that is no N.weight or N.bias.
    let mut file = read_st(&state);
    let extra = file.tensors["0.bias"].clone();
    file.tensors.insert("1.running_mean".into(), extra);
    let odd = dir.path().join("odd.safetensors");
    write_st(&odd, &file);
    assert_error(
        nabla().args([
            "import",
            "--torch",
            s(&odd),
            "--activation",
            "relu",
            "--output",
            "sigmoid",
            "--cost",
            "quadratic",
            "--out",
            s(&out),
        ]),
        &["--torch", "'1.running_mean'"],
    );
    let not_st = write_file(&dir, "text.safetensors", "hello");
    assert_error(
        nabla().args(["import", "--torch", s(&not_st), "--out", s(&out)]),
        &["--torch", "text.safetensors", "not a safetensors file"],
    );
    assert!(!out.exists());
}

#[test]
fn export_errors_are_one_line_and_write_nothing() {
    let dir = temp();
    let model = init_model(&dir, "m.safetensors", &["--layers", "3,4,2"]);
    let out = dir.path().join("m.onnx");
    assert_usage_error(
        nabla().args([
            "export",
            "--model",
            s(&model),
            "--format",
            "keras",
            "--out",
            s(&out),
        ]),
        "--format",
    );
    assert_error(
        nabla().args([
            "export",
            "--model",
            s(&model),
            "--format",
            "torch",
            "--out",
            s(&dir.path().join("m.py")),
        ]),
        &["--out", "m.py"],
    );
    assert_error(
        nabla().args([
            "export",
            "--model",
            s(&dir.path().join("none.safetensors")),
            "--format",
            "onnx",
            "--out",
            s(&out),
        ]),
        &["none.safetensors"],
    );
    assert_error(
        nabla().args([
            "export",
            "--model",
            s(&model),
            "--format",
            "onnx",
            "--out",
            s(&dir.path().join("no/such/m.onnx")),
        ]),
        &["--out", "does not exist"],
    );
    assert!(
        std::fs::read_dir(dir.path()).unwrap().count() == 1,
        "only the model"
    );
}
