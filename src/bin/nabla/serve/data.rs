//! The playground's data sets: points in the plane `[-6, 6]²` with a class or a value,
//! split into training and test points, and the input features computed from them.

use nabla::data::csv::{class_position, classes_of, Table};
use nabla::data::Scaling;
use nabla::model_file::Task;
use nabla::noise::{Fractal, Simplex};
use nabla::{Dataset, Matrix};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use super::settings::Settings;
use super::ApiError;

/// Half the side of the square drawn: points lie in `[-RANGE, RANGE]²`.
pub const RANGE: f64 = 6.0;
/// The heat map's side in pixels (the grid the network is evaluated on).
pub const GRID: usize = 100;
/// The side of the small heat map inside each neuron (every 4th pixel of the grid).
pub const NEURON_GRID: usize = 25;

/// The data sets, by name: what the page lists.
pub const DATASETS: [(&str, &str); 10] = [
    ("circle", "circle (2 classes)"),
    ("xor", "xor (2 classes)"),
    ("gauss", "two gaussians (2 classes)"),
    ("spiral", "spiral (2 classes)"),
    ("blobs3", "three blobs (3 classes)"),
    ("spiral5", "five-arm spiral (5 classes)"),
    ("plane", "plane (regression)"),
    ("gaussians", "gaussians (regression)"),
    ("noise", "simplex noise (regression)"),
    ("csv", "uploaded CSV"),
];

/// The input features, by id, with the CSV column name they get in exports.
pub const FEATURES: [(&str, &str); 7] = [
    ("x1", "x1"),
    ("x2", "x2"),
    ("x1sq", "x1^2"),
    ("x2sq", "x2^2"),
    ("x1x2", "x1*x2"),
    ("sinx1", "sin(x1)"),
    ("sinx2", "sin(x2)"),
];

/// An uploaded CSV file, as the library's reader parsed it.
#[derive(Clone, Debug)]
pub struct Upload {
    pub table: Table,
}

/// The points of a playground data set and everything derived from them.
#[derive(Clone, Debug)]
pub struct PlayData {
    pub task: Task,
    /// Class names (classification).
    pub classes: Vec<String>,
    /// The names of the two drawn coordinates.
    pub axes: [String; 2],
    /// The column names of the features, in order.
    pub feature_names: Vec<String>,
    /// The feature ids, in order.
    pub feature_ids: Vec<String>,
    /// Every point: (x1, x2) in the plane's coordinates, its class or value.
    pub points: Vec<[f64; 2]>,
    pub targets: Vec<f64>,
    /// Affine map from the data's coordinates to the plane's `[-RANGE, RANGE]`
    /// (identity for the built-in sets; uploaded columns are fitted into the square).
    pub to_plane: [(f64, f64); 2],
    /// Input standardisation fitted on the training features (stored with the model).
    pub scaling: Scaling,
    /// The training and test sets, features scaled.
    pub train: Dataset<f64>,
    pub test: Dataset<f64>,
    /// The indices into `points` of the training and test rows.
    pub train_rows: Vec<usize>,
    pub test_rows: Vec<usize>,
    /// The grid's features (scaled), `GRID²` rows, row y from top (x2 = +RANGE) to bottom.
    pub grid: Matrix<f64>,
    /// Range of the regression target, for colouring.
    pub target_range: (f64, f64),
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::bad_request(message)
}

/// The points and their labels for the settings (without features).
fn raw_points(s: &Settings, upload: Option<&Upload>) -> Result<Points, ApiError> {
    let mut rng = ChaCha8Rng::seed_from_u64(s.seed);
    let n = s.points;
    let noise = s.noise / 100.0;
    let unit = Normal::new(0.0, 1.0).expect("a unit normal");
    let mut pts = Vec::with_capacity(n);
    let mut ys = Vec::with_capacity(n);
    let uniform = |rng: &mut ChaCha8Rng, lo: f64, hi: f64| rng.random_range(lo..hi);
    let ident = [(1.0, 0.0), (1.0, 0.0)];
    let axes = ["x1".to_string(), "x2".to_string()];
    let classes = |k: usize| (0..k).map(|c| c.to_string()).collect::<Vec<_>>();
    match s.dataset.as_str() {
        "circle" => {
            let radius = 5.0;
            for i in 0..n {
                let r = if i < n / 2 {
                    uniform(&mut rng, 0.0, radius * 0.5)
                } else {
                    uniform(&mut rng, radius * 0.7, radius)
                };
                let angle = uniform(&mut rng, 0.0, 2.0 * std::f64::consts::PI);
                let (x, y) = (r * angle.sin(), r * angle.cos());
                let nx = uniform(&mut rng, -radius, radius) * noise;
                let ny = uniform(&mut rng, -radius, radius) * noise;
                pts.push([x + nx, y + ny]);
                // Class 1 inside, by the position before the noise.
                ys.push(if (x * x + y * y).sqrt() < radius * 0.5 {
                    1.0
                } else {
                    0.0
                });
            }
            Ok((pts, ys, Task::Classification, classes(2), axes, ident))
        }
        "xor" => {
            let padding = 0.3;
            for _ in 0..n {
                let mut x = uniform(&mut rng, -5.0, 5.0);
                x += if x > 0.0 { padding } else { -padding };
                let mut y = uniform(&mut rng, -5.0, 5.0);
                y += if y > 0.0 { padding } else { -padding };
                let nx = uniform(&mut rng, -5.0, 5.0) * noise;
                let ny = uniform(&mut rng, -5.0, 5.0) * noise;
                ys.push(if x * y >= 0.0 { 1.0 } else { 0.0 });
                pts.push([x + nx, y + ny]);
            }
            Ok((pts, ys, Task::Classification, classes(2), axes, ident))
        }
        "gauss" | "blobs3" => {
            let centres: &[[f64; 2]] = if s.dataset == "gauss" {
                &[[-2.0, -2.0], [2.0, 2.0]]
            } else {
                &[[-3.0, -2.0], [3.0, -2.0], [0.0, 3.0]]
            };
            let sd = 0.5 + 3.5 * noise;
            for i in 0..n {
                let c = i % centres.len();
                let [cx, cy] = centres[c];
                pts.push([
                    cx + sd * unit.sample(&mut rng),
                    cy + sd * unit.sample(&mut rng),
                ]);
                ys.push(c as f64);
            }
            let k = centres.len();
            Ok((pts, ys, Task::Classification, classes(k), axes, ident))
        }
        "spiral" | "spiral5" => {
            let arms = if s.dataset == "spiral" { 2 } else { 5 };
            for i in 0..n {
                let arm = i % arms;
                let t_frac = (i / arms) as f64 / (n / arms).max(1) as f64;
                let r = t_frac * 5.0;
                let t = 1.75 * t_frac * 2.0 * std::f64::consts::PI
                    + arm as f64 * 2.0 * std::f64::consts::PI / arms as f64;
                let nx = uniform(&mut rng, -1.0, 1.0) * noise * 2.0;
                let ny = uniform(&mut rng, -1.0, 1.0) * noise * 2.0;
                pts.push([r * t.sin() + nx, r * t.cos() + ny]);
                ys.push(arm as f64);
            }
            Ok((pts, ys, Task::Classification, classes(arms), axes, ident))
        }
        "plane" => {
            for _ in 0..n {
                let x = uniform(&mut rng, -RANGE, RANGE);
                let y = uniform(&mut rng, -RANGE, RANGE);
                let nx = uniform(&mut rng, -RANGE, RANGE) * noise;
                let ny = uniform(&mut rng, -RANGE, RANGE) * noise;
                pts.push([x, y]);
                ys.push((x + nx + y + ny) / (2.0 * RANGE));
            }
            Ok((pts, ys, Task::Regression, Vec::new(), axes, ident))
        }
        "gaussians" => {
            let bumps = [
                (-4.0, 2.5, 1.0),
                (0.0, 2.5, -1.0),
                (4.0, 2.5, 1.0),
                (-4.0, -2.5, -1.0),
                (0.0, -2.5, 1.0),
                (4.0, -2.5, -1.0),
            ];
            for _ in 0..n {
                let x = uniform(&mut rng, -RANGE, RANGE);
                let y = uniform(&mut rng, -RANGE, RANGE);
                let nx = uniform(&mut rng, -RANGE, RANGE) * noise;
                let ny = uniform(&mut rng, -RANGE, RANGE) * noise;
                let (px, py) = (x + nx, y + ny);
                let v: f64 = bumps
                    .iter()
                    .map(|(cx, cy, sign)| {
                        sign * (-((px - cx) * (px - cx) + (py - cy) * (py - cy)) / 2.0).exp()
                    })
                    .sum();
                pts.push([x, y]);
                ys.push(v);
            }
            Ok((pts, ys, Task::Regression, Vec::new(), axes, ident))
        }
        "noise" => {
            let field = Simplex::new(2, s.seed).map_err(|e| bad(e.to_string()))?;
            let fractal = Fractal {
                octaves: s.octaves,
                frequency: 0.25,
                ..Fractal::default()
            };
            fractal
                .validate()
                .map_err(|e| bad(format!("octaves: {e}")))?;
            for _ in 0..n {
                let x = uniform(&mut rng, -RANGE, RANGE);
                let y = uniform(&mut rng, -RANGE, RANGE);
                let v = field
                    .fractal(&[x, y], &fractal)
                    .map_err(|e| bad(e.to_string()))?;
                pts.push([x, y]);
                ys.push(v + noise * unit.sample(&mut rng) * 0.5);
            }
            Ok((pts, ys, Task::Regression, Vec::new(), axes, ident))
        }
        "csv" => {
            let Some(upload) = upload else {
                return Err(bad("no CSV uploaded: upload a file first"));
            };
            csv_points(s, &upload.table)
        }
        other => Err(bad(format!(
            "unknown dataset '{other}' (expected {})",
            DATASETS.map(|d| d.0).join(", ")
        ))),
    }
}

type Points = (
    Vec<[f64; 2]>,
    Vec<f64>,
    Task,
    Vec<String>,
    [String; 2],
    [(f64, f64); 2],
);

/// The chosen columns of an uploaded table: two drawn coordinates and the target; a target
/// with few distinct values (or any text) is a class label.
fn csv_points(s: &Settings, table: &Table) -> Result<Points, ApiError> {
    let h = &table.headers;
    if h.len() < 3 {
        return Err(bad(
            "the CSV needs at least 3 columns: two to draw and a target",
        ));
    }
    let pick = |name: &str, default: usize| -> Result<usize, ApiError> {
        if name.is_empty() {
            Ok(default)
        } else {
            table.column_index(name).map_err(|e| bad(e.to_string()))
        }
    };
    let (cx, cy, ct) = (
        pick(&s.csv_x, 0)?,
        pick(&s.csv_y, 1)?,
        pick(&s.csv_target, h.len() - 1)?,
    );
    if cx == cy || cx == ct || cy == ct {
        return Err(bad("pick three different columns: x1, x2 and the target"));
    }
    let xy = table.numeric(&[cx, cy]).map_err(|e| bad(e.to_string()))?;
    let labels = table.strings(ct);
    let numeric: Option<Vec<f64>> = labels.iter().map(|v| v.trim().parse().ok()).collect();
    let distinct = classes_of(&labels);
    let (task, classes, ys) = match numeric {
        Some(values) if distinct.len() > 10 => (Task::Regression, Vec::new(), values),
        _ => {
            if distinct.len() < 2 {
                return Err(bad("the target column has a single value"));
            }
            let ys = labels
                .iter()
                .map(|l| class_position(&distinct, l).expect("a label of the list") as f64)
                .collect();
            (Task::Classification, distinct, ys)
        }
    };
    // Fit each drawn column into [-RANGE, RANGE] for the picture.
    let mut to_plane = [(1.0, 0.0); 2];
    for (c, map) in to_plane.iter_mut().enumerate() {
        let col: Vec<f64> = (0..xy.rows()).map(|i| xy[(i, c)]).collect();
        let (lo, hi) = col
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        let span = (hi - lo).max(1e-12);
        let factor = 2.0 * RANGE * 0.9 / span;
        *map = (factor, -RANGE * 0.9 - lo * factor);
    }
    let pts = (0..xy.rows())
        .map(|i| {
            [
                xy[(i, 0)] * to_plane[0].0 + to_plane[0].1,
                xy[(i, 1)] * to_plane[1].0 + to_plane[1].1,
            ]
        })
        .collect();
    Ok((
        pts,
        ys,
        task,
        classes,
        [h[cx].clone(), h[cy].clone()],
        to_plane,
    ))
}

/// The features of one point given in the data's own coordinates.
fn features_of(ids: &[String], x1: f64, x2: f64) -> Vec<f64> {
    ids.iter()
        .map(|id| match id.as_str() {
            "x1" => x1,
            "x2" => x2,
            "x1sq" => x1 * x1,
            "x2sq" => x2 * x2,
            "x1x2" => x1 * x2,
            "sinx1" => x1.sin(),
            "sinx2" => x2.sin(),
            _ => unreachable!("feature ids are checked"),
        })
        .collect()
}

/// Builds the data set the settings describe.
pub fn build(s: &Settings, upload: Option<&Upload>) -> Result<PlayData, ApiError> {
    let (points, targets, task, classes, axes, to_plane) = raw_points(s, upload)?;
    if points.len() < 4 {
        return Err(bad("need at least 4 points"));
    }
    let feature_ids = s.feature_list()?;
    let feature_names: Vec<String> = feature_ids
        .iter()
        .map(|id| {
            let name = FEATURES.iter().find(|f| f.0 == id).expect("checked").1;
            if s.dataset == "csv" {
                name.replace("x1", &axes[0]).replace("x2", &axes[1])
            } else {
                name.to_string()
            }
        })
        .collect();
    // From the plane back to the data's coordinates.
    let data_coords = |p: [f64; 2]| {
        [
            (p[0] - to_plane[0].1) / to_plane[0].0,
            (p[1] - to_plane[1].1) / to_plane[1].0,
        ]
    };
    // Shuffle, then the first `ratio` percent are for training.
    let mut order: Vec<usize> = (0..points.len()).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(s.seed);
    rng.set_stream(1);
    order.shuffle(&mut rng);
    let n_train =
        ((points.len() as f64 * s.ratio / 100.0).round() as usize).clamp(1, points.len() - 1);
    let train_rows: Vec<usize> = order[..n_train].to_vec();
    let mut test_rows: Vec<usize> = order[n_train..].to_vec();
    test_rows.sort_unstable();
    let mut train_rows = train_rows;
    train_rows.sort_unstable();
    let feats = |rows: &[usize]| -> Matrix<f64> {
        let flat: Vec<f64> = rows
            .iter()
            .flat_map(|&i| {
                let [a, b] = data_coords(points[i]);
                features_of(&feature_ids, a, b)
            })
            .collect();
        Matrix::from_vec(rows.len(), feature_ids.len(), flat).expect("rows × features")
    };
    let mut train_x = feats(&train_rows);
    let mut test_x = feats(&test_rows);
    let scaling = Scaling::standardize(&train_x);
    scaling
        .apply(&mut train_x)
        .map_err(|e| bad(e.to_string()))?;
    scaling.apply(&mut test_x).map_err(|e| bad(e.to_string()))?;
    let dataset = |x: Matrix<f64>, rows: &[usize]| -> Result<Dataset<f64>, ApiError> {
        match task {
            Task::Classification => Dataset::classification(
                x,
                rows.iter().map(|&i| targets[i] as usize).collect(),
                classes.len(),
            ),
            Task::Regression => Dataset::new(
                x,
                Matrix::from_vec(rows.len(), 1, rows.iter().map(|&i| targets[i]).collect())
                    .expect("one column"),
            ),
        }
        .map_err(|e| bad(e.to_string()))
    };
    let train = dataset(train_x, &train_rows)?;
    let test = dataset(test_x, &test_rows)?;
    let mut grid_flat = Vec::with_capacity(GRID * GRID * feature_ids.len());
    for row in 0..GRID {
        for col in 0..GRID {
            let p = grid_point(row, col);
            let [a, b] = data_coords(p);
            grid_flat.extend(features_of(&feature_ids, a, b));
        }
    }
    let mut grid = Matrix::from_vec(GRID * GRID, feature_ids.len(), grid_flat).expect("grid");
    scaling.apply(&mut grid).map_err(|e| bad(e.to_string()))?;
    let target_range = match task {
        Task::Classification => (0.0, 1.0),
        Task::Regression => targets
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            }),
    };
    Ok(PlayData {
        task,
        classes,
        axes,
        feature_names,
        feature_ids,
        points,
        targets,
        to_plane,
        scaling,
        train,
        test,
        train_rows,
        test_rows,
        grid,
        target_range,
    })
}

/// The plane's point at the centre of grid pixel (row, col); row 0 is the top (x2 = +RANGE).
pub fn grid_point(row: usize, col: usize) -> [f64; 2] {
    let step = 2.0 * RANGE / GRID as f64;
    [
        -RANGE + (col as f64 + 0.5) * step,
        RANGE - (row as f64 + 0.5) * step,
    ]
}

impl PlayData {
    /// Rows of a set as CSV: the features (unscaled, as computed from the data) and the
    /// target; `which` is "train", "test" or "all".
    pub fn csv(&self, which: &str) -> String {
        let rows: Vec<usize> = match which {
            "test" => self.test_rows.clone(),
            "all" => (0..self.points.len()).collect(),
            _ => self.train_rows.clone(),
        };
        let target = match self.task {
            Task::Classification => "label",
            Task::Regression => "y",
        };
        let mut out = self.feature_names.join(",") + "," + target + "\n";
        for i in rows {
            let p = self.points[i];
            let x = [
                (p[0] - self.to_plane[0].1) / self.to_plane[0].0,
                (p[1] - self.to_plane[1].1) / self.to_plane[1].0,
            ];
            let f = features_of(&self.feature_ids, x[0], x[1]);
            let cells: Vec<String> = f.iter().map(|v| format!("{v:?}")).collect();
            out += &cells.join(",");
            out += ",";
            out += &match self.task {
                Task::Classification => self.classes[self.targets[i] as usize].clone(),
                Task::Regression => format!("{:?}", self.targets[i]),
            };
            out += "\n";
        }
        out
    }

    /// The name of the target column in exports.
    pub fn target_name(&self) -> &'static str {
        match self.task {
            Task::Classification => "label",
            Task::Regression => "y",
        }
    }
}
