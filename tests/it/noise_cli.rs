//! `nabla noise` through the binary: values at points, PNG slices, data sets a network can
//! learn, and the usual one-line errors.

use nabla::noise::Simplex;

use crate::util::{assert_error, json_of, nabla, s, stdout_of, temp, write_file};

#[test]
fn noise_at_points_prints_the_library_s_values_in_a_value_column() {
    let dir = temp();
    let points = write_file(&dir, "p.csv", "a,b,c\n0.1,0.2,0.3\n1.5,-2.25,7\n");
    let out = nabla()
        .args([
            "noise",
            "--dims",
            "3",
            "--seed",
            "4",
            "--points",
            s(&points),
        ])
        .assert()
        .success();
    let text = stdout_of(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "a,b,c,value");
    let simplex = Simplex::new(3, 4).unwrap();
    for (line, p) in lines[1..].iter().zip([[0.1, 0.2, 0.3], [1.5, -2.25, 7.0]]) {
        let value: f64 = line.rsplit(',').next().unwrap().parse().unwrap();
        assert_eq!(value, simplex.sample(&p).unwrap());
    }
}

#[test]
fn a_noise_image_is_a_png_of_the_stated_size() {
    let dir = temp();
    let png_path = dir.path().join("n.png");
    nabla()
        .args([
            "noise",
            "--dims",
            "3",
            "--image",
            s(&png_path),
            "--size",
            "48",
            "--scale",
            "4",
            "--at",
            "0.5",
            "--octaves",
            "3",
        ])
        .assert()
        .success();
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png_path).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((info.width, info.height), (48, 48));
    let distinct: std::collections::BTreeSet<u8> = pixels[..48 * 48].iter().copied().collect();
    assert!(
        distinct.len() > 50,
        "a smooth field has many grey levels, got {}",
        distinct.len()
    );
}

#[test]
fn a_network_learns_a_two_dimensional_noise_field() {
    let dir = temp();
    let (train, test) = (dir.path().join("train.csv"), dir.path().join("test.csv"));
    nabla()
        .args([
            "noise",
            "--dims",
            "2",
            "--dataset",
            s(&train),
            "--samples",
            "4000",
            "--scale",
            "2",
        ])
        .assert()
        .success();
    nabla()
        .args([
            "noise",
            "--dims",
            "2",
            "--dataset",
            s(&test),
            "--samples",
            "1000",
            "--scale",
            "2",
            "--sample-seed",
            "2",
        ])
        .assert()
        .success();
    let header = std::fs::read_to_string(&train)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert_eq!(header, "x0,x1,value");
    let out = nabla()
        .args([
            "train",
            "--data",
            s(&train),
            "--test",
            s(&test),
            "--task",
            "regression",
            "--hidden",
            "32,32",
        ])
        .args([
            "--activation",
            "tanh",
            "--optimizer",
            "adam",
            "--lr",
            "0.003",
            "--batch-size",
            "32",
            "--epochs",
            "40",
            "--json",
        ])
        .assert()
        .success();
    let json = json_of(&out);
    let rmse = json["test_rmse"].as_f64().unwrap();
    // The field's values spread with a standard deviation of about 0.35 in 2-D.
    assert!(rmse < 0.12, "test RMSE {rmse}");
}

#[test]
fn bad_noise_input_gets_one_line_naming_the_problem() {
    let dir = temp();
    let png_path = dir.path().join("x.png");
    assert_error(
        nabla().args(["noise", "--dims", "0", "--image", s(&png_path)]),
        &["--dims"],
    );
    assert_error(
        nabla().args([
            "noise",
            "--dims",
            "2",
            "--image",
            s(&png_path),
            "--size",
            "0",
        ]),
        &["--size"],
    );
    assert!(!png_path.exists());
    let wrong = write_file(&dir, "w.csv", "a,b,c\n1,2,3\n");
    assert_error(
        nabla().args(["noise", "--dims", "2", "--points", s(&wrong)]),
        &["w.csv:1", "3 coordinate columns", "--dims is 2"],
    );
    let text = write_file(&dir, "t.csv", "a,b\n1,2\n1,x\n");
    assert_error(
        nabla().args(["noise", "--dims", "2", "--points", s(&text)]),
        &["t.csv:3", "column 'b'", "'x' is not a number"],
    );
    let missing = dir.path().join("missing.csv");
    assert_error(
        nabla().args(["noise", "--dims", "2", "--points", s(&missing)]),
        &["missing.csv"],
    );
}
