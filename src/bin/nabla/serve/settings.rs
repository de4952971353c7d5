//! The page's settings: one flat serde type, the same keys in the URL's query string and in
//! the JSON the page posts. Training settings become a [`TrainSpec`]; the library resolves
//! it (defaults, rules between settings) as for `nabla train`.

use nabla::model_file::Task;
use nabla::spec::{resolve, DataShape, Precision, Resolved};
use nabla::TrainSpec;
use serde::{Deserialize, Serialize};

use super::data::{PlayData, FEATURES};
use super::limits::Limits;
use super::ApiError;

/// Everything the page can set. Empty strings and `None` mean "the library's default".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub dataset: String,
    /// Noise level, percent (0 to 50).
    pub noise: f64,
    /// Training share of the points, percent (10 to 90).
    pub ratio: f64,
    /// Number of points.
    pub points: usize,
    /// Seed of the data and of the network's initialisation and shuffling.
    pub seed: u64,
    /// Octaves of the simplex-noise set.
    pub octaves: u32,
    /// Comma-separated feature ids.
    pub features: String,
    /// Comma-separated hidden layer sizes ("" = no hidden layer).
    pub hidden: String,
    pub activation: String,
    pub output: String,
    pub cost: String,
    pub init: String,
    pub optimizer: String,
    pub schedule: String,
    pub lr: Option<f64>,
    pub batch: Option<usize>,
    pub epochs: usize,
    pub momentum: Option<f64>,
    pub l2: Option<f64>,
    pub l1: Option<f64>,
    pub dropout: Option<f64>,
    pub clip: Option<f64>,
    /// Mini-batches per second at most (the tab's training speed).
    pub speed: usize,
    /// Columns of an uploaded CSV: drawn as x1 and x2, and the target.
    pub csv_x: String,
    pub csv_y: String,
    pub csv_target: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            dataset: "circle".into(),
            noise: 0.0,
            ratio: 50.0,
            points: 400,
            seed: 1,
            octaves: 3,
            features: "x1,x2".into(),
            hidden: "4,2".into(),
            activation: "tanh".into(),
            output: String::new(),
            cost: String::new(),
            init: String::new(),
            optimizer: "sgd".into(),
            schedule: "constant".into(),
            lr: Some(0.03),
            batch: Some(10),
            epochs: 10_000,
            momentum: None,
            l2: None,
            l1: None,
            dropout: None,
            clip: None,
            speed: 1000,
            csv_x: String::new(),
            csv_y: String::new(),
            csv_target: String::new(),
        }
    }
}

/// The page's field for a library setting (errors name the field the user can change).
pub fn field(setting: nabla::Setting) -> String {
    use nabla::Setting as S;
    match setting {
        S::BatchSize => "batch".into(),
        S::ClipNorm => "clip".into(),
        S::Hidden | S::Layers => "hidden".into(),
        other => other.name().to_string(),
    }
}

fn parse_name<T: std::str::FromStr<Err = nabla::Error>>(
    field: &str,
    value: &str,
) -> Result<Option<T>, ApiError> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    value.parse().map(Some).map_err(|e: nabla::Error| {
        ApiError::bad_request(format!("{field}: {}", e.render(&self::field)))
    })
}

impl Settings {
    /// The feature ids, checked.
    pub fn feature_list(&self) -> Result<Vec<String>, ApiError> {
        let ids: Vec<String> = self
            .features
            .split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(String::from)
            .collect();
        if ids.is_empty() {
            return Err(ApiError::bad_request(
                "features: pick at least one input feature",
            ));
        }
        for id in &ids {
            if !FEATURES.iter().any(|f| f.0 == id) {
                return Err(ApiError::bad_request(format!(
                    "features: unknown feature '{id}' (expected {})",
                    FEATURES.map(|f| f.0).join(", ")
                )));
            }
        }
        let mut seen = ids.clone();
        seen.sort();
        seen.dedup();
        if seen.len() != ids.len() {
            return Err(ApiError::bad_request("features: a feature is listed twice"));
        }
        Ok(ids)
    }

    /// The hidden layer sizes.
    pub fn hidden_sizes(&self) -> Result<Vec<usize>, ApiError> {
        self.hidden
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(|h| {
                h.parse::<usize>().map_err(|_| {
                    ApiError::bad_request(format!("hidden: '{h}' is not a layer size"))
                })
            })
            .collect()
    }

    /// Checks the settings against the server's limits (4xx errors).
    pub fn check(&self, limits: &Limits) -> Result<(), ApiError> {
        let too = |what: String| Err(ApiError::too_large(what));
        if !(0.0..=50.0).contains(&self.noise) {
            return Err(ApiError::bad_request(
                "noise: must be from 0 to 50 (percent)",
            ));
        }
        if !(10.0..=90.0).contains(&self.ratio) {
            return Err(ApiError::bad_request(
                "ratio: must be from 10 to 90 (percent)",
            ));
        }
        if self.points < 10 {
            return Err(ApiError::bad_request("points: at least 10"));
        }
        if self.points > limits.max_points {
            return too(format!("points: at most {} per tab", limits.max_points));
        }
        let hidden = self.hidden_sizes()?;
        if hidden.len() > limits.max_layers {
            return too(format!(
                "hidden: at most {} hidden layers",
                limits.max_layers
            ));
        }
        if hidden.iter().any(|&n| n > limits.max_neurons) {
            return too(format!(
                "hidden: at most {} neurons a layer",
                limits.max_neurons
            ));
        }
        if self.speed == 0 || self.speed > limits.max_speed {
            return too(format!(
                "speed: from 1 to {} mini-batches a second per tab",
                limits.max_speed
            ));
        }
        if self.epochs == 0 || self.epochs > 1_000_000 {
            return Err(ApiError::bad_request("epochs: from 1 to 1000000"));
        }
        if self.octaves == 0 || self.octaves > 8 {
            return Err(ApiError::bad_request("octaves: from 1 to 8"));
        }
        self.feature_list()?;
        Ok(())
    }

    /// The training settings as the library's spec.
    pub fn spec(&self) -> Result<TrainSpec, ApiError> {
        let optimizer: Option<nabla::OptimizerKind> = parse_name("optimizer", &self.optimizer)?;
        Ok(TrainSpec {
            hidden: Some(self.hidden_sizes()?),
            activation: parse_name("activation", &self.activation)?,
            output: parse_name("output", &self.output)?,
            cost: parse_name("cost", &self.cost)?,
            init: parse_name("init", &self.init)?,
            optimizer,
            momentum: self.momentum,
            schedule: parse_name("schedule", &self.schedule)?,
            lr: self.lr,
            batch_size: self.batch,
            epochs: Some(self.epochs),
            seed: Some(self.seed),
            l2: self.l2.filter(|&v| v > 0.0),
            l1: self.l1.filter(|&v| v > 0.0),
            dropout: self.dropout.filter(|&v| v > 0.0),
            clip_norm: self.clip,
            precision: Some(Precision::F64),
            threads: Some(1),
            ..TrainSpec::default()
        })
    }

    /// The spec resolved by the library against the data.
    pub fn resolve(&self, data: &PlayData) -> Result<Resolved, ApiError> {
        let spec = self.spec()?;
        let shape = DataShape {
            features: data.train.features(),
            outputs: data.train.outputs(),
            task: data.task,
            images: None,
            embedded: false,
        };
        resolve(&spec, &shape, None).map_err(|e| ApiError::bad_request(e.render(&field)))
    }

    /// The `nabla train` command that reproduces the run on the exported files.
    pub fn train_command(&self, data: &PlayData) -> Result<String, ApiError> {
        let spec = self.spec()?;
        let mut words = vec![
            "nabla train --data train.csv --test test.csv".to_string(),
            format!("--target {}", data.target_name()),
        ];
        if data.task == Task::Classification {
            words.push("--task classification".into());
        }
        let value = serde_json::to_value(&spec).expect("a spec serialises");
        for (key, v) in value.as_object().expect("an object") {
            if key == "threads" {
                continue;
            }
            let flag = format!("--{}", key.replace('_', "-"));
            let text = match v {
                serde_json::Value::Array(items) => items
                    .iter()
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if key == "hidden" && text.is_empty() {
                words.push(format!(
                    "--layers {},{}",
                    data.train.features(),
                    data.train.outputs()
                ));
                continue;
            }
            let flag = if key == "lr" {
                "--lr".to_string()
            } else {
                flag
            };
            words.push(format!("{flag} {text}"));
        }
        words.push("--out model.safetensors".into());
        Ok(words.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_string_fills_the_settings_and_leaves_the_rest_default() {
        let s: Settings =
            serde_urlencoded_like("dataset=spiral&hidden=8,8&lr=0.1&features=x1,x2,sinx1");
        assert_eq!(s.dataset, "spiral");
        assert_eq!(s.hidden_sizes().unwrap(), [8, 8]);
        assert_eq!(s.lr, Some(0.1));
        assert_eq!(s.points, Settings::default().points);
        let spec = s.spec().unwrap();
        assert_eq!(spec.hidden, Some(vec![8, 8]));
        assert_eq!(spec.activation, Some(nabla::Activation::Tanh));
    }

    fn serde_urlencoded_like(q: &str) -> Settings {
        let uri: axum::http::Uri = format!("/?{q}").parse().unwrap();
        axum::extract::Query::<Settings>::try_from_uri(&uri)
            .unwrap()
            .0
    }

    #[test]
    fn an_unknown_optimizer_is_a_bad_request_naming_the_field() {
        let s = Settings {
            optimizer: "sdg".into(),
            ..Settings::default()
        };
        let e = s.spec().unwrap_err();
        assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST);
        assert!(e.message.starts_with("optimizer:"), "{}", e.message);
    }
}
