//! What a training run needs, in one serde type: [`TrainSpec`].
//!
//! Every front end fills a spec and hands it to the library: the CLI from its flags and a
//! TOML file (whose keys are the spec's fields), the Python package from scikit-learn's
//! parameters, a Rust program by hand. The library owns every default and every rule that
//! ties settings together:
//!
//! - [`TrainSpec::overlaid`]: one level of settings over another (flags over a file over a
//!   [`Preset`]); `layers` and `hidden` are one setting.
//! - [`TrainSpec::check`]: each setting's own range, before any data is read.
//! - [`resolve`]: the spec against the data's shape: the task's default output and cost,
//!   the default η (times `1 − μ` with momentum), the settings that do not apply to the
//!   optimizer or schedule chosen, and the [`TrainConfig`] and [`Architecture`] to train.
//! - [`prepare`](crate::spec::prepare) and [`Prepared::train`]: read the files, build or
//!   continue the model, train, and return a [`Summary`] (the one schema the CLI prints,
//!   `--json` emits and the model's training record stores).
//!
//! Errors name [`Setting`]s, never a front end's spelling of them.

mod resolve;
mod run;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::activation::Activation;
use crate::cost::Cost;
use crate::data::encoding::{Impute, UnknownCategory};
pub use crate::data::frame::DEFAULT_NA_VALUES;
use crate::error::{Error, Result};
use crate::init::Init;
use crate::model_file::Task;
use crate::optimizer::OptimizerKind;
use crate::schedule::Schedule;
use crate::setting::Setting;

pub use resolve::{default_output, resolve, DataShape, Resolved};
pub use run::{
    precision_of, prepare, prepare_with_progress, table_settings, Note, Prepared, Summary,
};

#[cfg(doc)]
use crate::{network::Architecture, train::TrainConfig};

/// Everything a training run needs. Every field is optional: `None` means "the library's
/// default for this data", which [`resolve`] fills in (and records in the [`Summary`]).
///
/// Serialised with snake_case keys (the TOML file also takes them with dashes); optimizer
/// and schedule by name (`"adam"`, `"cosine"`), their settings as fields of their own.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainSpec {
    /// Training data: a CSV file or an IDX images file; `None` for the embedded MNIST subset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<PathBuf>,
    /// Test data, evaluated after each epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<PathBuf>,
    /// Target column(s) of a CSV file (default: the last column).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<Vec<String>>,
    /// CSV columns left out of the features.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignore: Option<Vec<String>>,
    /// Classification or regression (default: inferred from the target column).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<Task>,
    /// Standardise CSV features on the training set (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaling: Option<bool>,
    /// Standardise regression targets on the training set, train on them and undo it in
    /// every prediction (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_scaling: Option<bool>,
    /// Continue training this model file (its architecture wins).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<PathBuf>,
    /// All layer sizes `n_0, …, n_L` (must match the data).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layers: Option<Vec<usize>>,
    /// Hidden layer sizes (default `[30]`); input and output sizes come from the data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hidden: Option<Vec<usize>>,
    /// g of the hidden layers (default sigmoid).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activation: Option<Activation>,
    /// g of the output layer (default: [`default_output`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Activation>,
    /// The cost `c_x` (default: cross-entropy for CSV classification, else quadratic).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<Cost>,
    /// Weight initialisation (default: nielsen).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init: Option<Init>,
    /// The update rule (default sgd; momentum when only `momentum` is given).
    #[serde(skip_serializing_if = "Option::is_none", with = "by_name", default)]
    pub optimizer: Option<OptimizerKind>,
    /// Momentum μ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub momentum: Option<f64>,
    /// Nesterov's form of momentum.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nesterov: Option<bool>,
    /// RMSprop's α.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f64>,
    /// ε of RMSprop and Adam.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eps: Option<f64>,
    /// Adam's β₁.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beta1: Option<f64>,
    /// Adam's β₂.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beta2: Option<f64>,
    /// AdamW's decoupled weight decay.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight_decay: Option<f64>,
    /// L-BFGS's history.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<usize>,
    /// The learning rate η (default: see [`resolve`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lr: Option<f64>,
    /// Mini-batch size m (default 10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<usize>,
    /// Passes over the training data (default 30).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epochs: Option<usize>,
    /// Seed of every random draw (default 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Shuffle the examples each epoch (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shuffle: Option<bool>,
    /// Learning-rate schedule (default constant).
    #[serde(skip_serializing_if = "Option::is_none", with = "by_name", default)]
    pub schedule: Option<Schedule>,
    /// γ of the step and exponential schedules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gamma: Option<f64>,
    /// Epochs between the step schedule's decays.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step_size: Option<usize>,
    /// The cosine schedule's warm-up epochs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warmup: Option<usize>,
    /// The cosine schedule's final η.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eta_min: Option<f64>,
    /// The invscaling schedule's power.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub power_t: Option<f64>,
    /// The plateau schedule's factor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub factor: Option<f64>,
    /// The plateau schedule's patience.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plateau_patience: Option<usize>,
    /// L2 λ: adds `(λ/2n) Σ w²` to C.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub l2: Option<f64>,
    /// L1 λ₁: adds `(λ₁/n) Σ |w|` to C.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub l1: Option<f64>,
    /// Dropout probability of the hidden neurons.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropout: Option<f64>,
    /// Max-norm gradient clipping.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clip_norm: Option<f64>,
    /// Fraction of the training data held out for validation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation: Option<f64>,
    /// Early stopping after this many epochs without a better validation cost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patience: Option<usize>,
    /// Save the model being trained every this many epochs (to the file the front end
    /// writes the model to; with early stopping, the best weights so far).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint_every: Option<usize>,
    /// Shift images by up to this many pixels (IDX and MNIST data).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub augment_shift: Option<usize>,
    /// f32 or f64 (default f32, or the `from` model's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub precision: Option<Precision>,
    /// Threads for the large products (default: the machine's available cores; results
    /// are the same bits at any count).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
    /// A named configuration underneath the other settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preset: Option<Preset>,
    /// CSV cells that mean "missing" (default: [`DEFAULT_NA_VALUES`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub na_values: Option<Vec<String>>,
    /// How missing feature values are filled in (default: none, and they are an error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impute: Option<Impute>,
    /// CSV columns one-hot encoded whatever they hold (numeric codes too).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub categorical: Option<Vec<String>>,
    /// What a category unseen in training becomes when the model is used (default: an
    /// error); stored in the model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown_category: Option<UnknownCategory>,
    /// The character between CSV fields (default: a comma, or `;` or a tab when the
    /// header has no comma but one of them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<char>,
}

/// Optimizers and schedules by name in a spec: `"adam"`, `"cosine"`.
mod by_name {
    use serde::{de::Error as _, Deserialize, Deserializer, Serializer};
    use std::fmt::Display;
    use std::str::FromStr;

    pub fn serialize<S: Serializer, T: Display>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_some(&v.to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: FromStr<Err = crate::Error>,
    {
        let name: Option<String> = Option::deserialize(d)?;
        name.map(|n| {
            n.parse().map_err(|e: crate::Error| match e {
                crate::Error::InvalidConfig { message, .. } => D::Error::custom(message),
                other => D::Error::custom(other),
            })
        })
        .transpose()
    }
}

macro_rules! overlay_fields {
    ($out:ident, $under:ident, $over:ident; $($field:ident),*) => {
        $( $out.$field = $over.$field.clone().or($under.$field.clone()); )*
    };
}

impl TrainSpec {
    /// `self` with every setting that `over` gives replaced by `over`'s: flags over a TOML
    /// file over a preset. `layers` and `hidden` are one setting (both give the sizes).
    pub fn overlaid(&self, over: &TrainSpec) -> TrainSpec {
        let mut out = TrainSpec::default();
        let under = self;
        overlay_fields!(out, under, over;
            data, test, target, ignore, task, scaling, target_scaling, from, activation, output, cost, init,
            optimizer, momentum, nesterov, alpha, eps, beta1, beta2, weight_decay, history,
            lr, batch_size, epochs, seed, shuffle, schedule, gamma, step_size, warmup,
            eta_min, power_t, factor, plateau_patience, l2, l1, dropout, clip_norm,
            validation, patience, checkpoint_every, augment_shift, precision, threads, preset,
            na_values, impute, categorical, unknown_category, delimiter);
        let sizes = if over.layers.is_some() || over.hidden.is_some() {
            over
        } else {
            under
        };
        out.layers = sizes.layers.clone();
        out.hidden = sizes.hidden.clone();
        out
    }

    /// The spec with its preset's settings underneath its own (itself when it names none).
    pub fn expanded(&self) -> TrainSpec {
        match self.preset {
            Some(preset) => preset.spec().overlaid(self),
            None => self.clone(),
        }
    }

    /// Whether the layer sizes come from the preset rather than from the spec itself.
    pub(crate) fn sizes_from_preset(&self) -> bool {
        self.preset.is_some() && self.layers.is_none() && self.hidden.is_none()
    }

    /// Checks each setting's own range (settings that depend on each other or on the data
    /// are checked by [`resolve`]).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first setting out of range.
    pub fn check(&self) -> Result<()> {
        use Setting as S;
        let positive = |s: Setting, v: Option<f64>| match v {
            Some(v) if !(v.is_finite() && v > 0.0) => Err(Error::config(
                s,
                format!("must be a positive number, got {v}"),
            )),
            _ => Ok(()),
        };
        let non_negative = |s: Setting, v: Option<f64>| match v {
            Some(v) if !(v.is_finite() && v >= 0.0) => {
                Err(Error::config(s, format!("must be a number >= 0, got {v}")))
            }
            _ => Ok(()),
        };
        let fraction = |s: Setting, v: Option<f64>| match v {
            Some(v) if !(0.0..1.0).contains(&v) => {
                Err(Error::config(s, format!("must be in [0, 1), got {v}")))
            }
            _ => Ok(()),
        };
        let open_unit = |s: Setting, v: Option<f64>| match v {
            Some(v) if !(v > 0.0 && v < 1.0) => Err(Error::config(
                s,
                format!("must be strictly between 0 and 1, got {v}"),
            )),
            _ => Ok(()),
        };
        let at_least_one = |s: Setting, v: Option<usize>| match v {
            Some(0) => Err(Error::config(s, "must be at least 1")),
            _ => Ok(()),
        };
        positive(S::LearningRate, self.lr)?;
        positive(S::Eps, self.eps)?;
        positive(S::ClipNorm, self.clip_norm)?;
        positive(S::Gamma, self.gamma)?;
        fraction(S::Momentum, self.momentum)?;
        fraction(S::Dropout, self.dropout)?;
        fraction(S::Validation, self.validation)?;
        open_unit(S::Beta1, self.beta1)?;
        open_unit(S::Beta2, self.beta2)?;
        open_unit(S::Alpha, self.alpha)?;
        open_unit(S::Factor, self.factor)?;
        non_negative(S::WeightDecay, self.weight_decay)?;
        non_negative(S::EtaMin, self.eta_min)?;
        non_negative(S::PowerT, self.power_t)?;
        non_negative(S::L2, self.l2)?;
        non_negative(S::L1, self.l1)?;
        at_least_one(S::Epochs, self.epochs)?;
        at_least_one(S::BatchSize, self.batch_size)?;
        at_least_one(S::History, self.history)?;
        at_least_one(S::StepSize, self.step_size)?;
        at_least_one(S::PlateauPatience, self.plateau_patience)?;
        at_least_one(S::Patience, self.patience)?;
        at_least_one(S::CheckpointEvery, self.checkpoint_every)?;
        at_least_one(S::AugmentShift, self.augment_shift)?;
        if let Some(n) = self.threads {
            if !(1..=MAX_THREADS).contains(&n) {
                return Err(Error::config(
                    S::Threads,
                    format!("must be a whole number from 1 to {MAX_THREADS}, got {n}"),
                ));
            }
        }
        if let Some(d) = self.delimiter {
            check_delimiter(d)?;
        }
        for (setting, sizes) in [(S::Layers, &self.layers), (S::Hidden, &self.hidden)] {
            if sizes.as_ref().is_some_and(|s| s.contains(&0)) {
                return Err(Error::config(
                    setting,
                    "every layer needs at least one neuron",
                ));
            }
        }
        if self.layers.is_some() && self.hidden.is_some() {
            return Err(Error::config(
                S::Layers,
                format!(
                    "give {} or {}, not both",
                    S::Layers.mention(),
                    S::Hidden.mention()
                ),
            ));
        }
        Ok(())
    }
}

/// Checks a CSV delimiter: one ASCII character that is not a quote, a line break or a
/// character of numbers.
///
/// # Errors
/// [`Error::InvalidConfig`] naming [`Setting::Delimiter`].
pub fn check_delimiter(d: char) -> Result<u8> {
    if !d.is_ascii()
        || matches!(
            d,
            '"' | '\n' | '\r' | '.' | '-' | '+' | '0'..='9' | 'e' | 'E'
        )
    {
        return Err(Error::config(
            Setting::Delimiter,
            format!(
                "{d:?} cannot separate fields (give one ASCII character such as ',', ';' or a tab)"
            ),
        ));
    }
    Ok(d as u8)
}

/// The most threads a spec may ask for.
pub use crate::parallel::MAX_THREADS;

/// The precision of a run's computation and of the model it saves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Precision {
    /// 32-bit floats (fast; the default).
    #[default]
    F32,
    /// 64-bit floats (for exact checks).
    F64,
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Precision::F32 => "f32",
            Precision::F64 => "f64",
        })
    }
}

impl FromStr for Precision {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "f32" | "float32" => Ok(Precision::F32),
            "f64" | "float64" => Ok(Precision::F64),
            _ => Err(Error::config(
                Setting::Precision,
                format!("unknown precision '{s}' (expected f32 or f64)"),
            )),
        }
    }
}

/// A named configuration: a [`TrainSpec`] to start from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// Nielsen's chapter 1: `[784, 30, 10]` sigmoid, quadratic cost, η 3.0, m 10, 30 epochs.
    NielsenCh1,
    /// Nielsen's chapter 3: `[784, 100, 10]` sigmoid, cross-entropy, η 0.5, m 10, 30
    /// epochs, L2 with network2's decay (λ 5.0 for 50,000 images is 0.8 for our 8,000: what
    /// reaches the weights is `1 − ηλ/n` per step).
    NielsenCh3,
    /// The most accurate MNIST configuration we found that trains in under a minute on 2
    /// cores (README, "Training well"): `[784, 800, 10]` ReLU, softmax, momentum 0.9,
    /// η 0.1 cosine, m 64, dropout 0.5, L2 2, images shifted by up to 2 pixels, 60 epochs.
    MnistBest,
}

impl Preset {
    /// The names, as the CLI and the TOML file take them.
    pub const NAMES: [&'static str; 3] = ["nielsen-ch1", "nielsen-ch3", "mnist-best"];

    /// Its settings.
    pub fn spec(self) -> TrainSpec {
        let nielsen = TrainSpec {
            activation: Some(Activation::Sigmoid),
            output: Some(Activation::Sigmoid),
            init: Some(Init::Nielsen),
            optimizer: Some(OptimizerKind::Sgd),
            batch_size: Some(10),
            epochs: Some(30),
            ..TrainSpec::default()
        };
        match self {
            Preset::NielsenCh1 => TrainSpec {
                layers: Some(vec![784, 30, 10]),
                cost: Some(Cost::Quadratic),
                lr: Some(3.0),
                ..nielsen
            },
            Preset::NielsenCh3 => TrainSpec {
                layers: Some(vec![784, 100, 10]),
                cost: Some(Cost::CrossEntropy),
                lr: Some(0.5),
                l2: Some(0.8),
                ..nielsen
            },
            Preset::MnistBest => TrainSpec {
                layers: Some(vec![784, 800, 10]),
                activation: Some(Activation::Relu),
                output: Some(Activation::Softmax),
                cost: Some(Cost::CrossEntropy),
                init: Some(Init::He),
                optimizer: Some(OptimizerKind::Momentum {
                    mu: 0.9,
                    nesterov: false,
                }),
                momentum: Some(0.9),
                lr: Some(0.1),
                batch_size: Some(64),
                epochs: Some(60),
                schedule: Some(Schedule::Cosine {
                    warmup: 0,
                    eta_min: 0.0,
                }),
                dropout: Some(0.5),
                l2: Some(2.0),
                augment_shift: Some(2),
                ..TrainSpec::default()
            },
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Preset::NielsenCh1 => "nielsen-ch1",
            Preset::NielsenCh3 => "nielsen-ch3",
            Preset::MnistBest => "mnist-best",
        })
    }
}

impl FromStr for Preset {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "nielsen-ch1" => Ok(Preset::NielsenCh1),
            "nielsen-ch3" => Ok(Preset::NielsenCh3),
            "mnist-best" => Ok(Preset::MnistBest),
            _ => Err(Error::config(
                Setting::Preset,
                format!(
                    "unknown preset '{s}' (expected {})",
                    Preset::NAMES.join(", ")
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_wins_and_sizes_are_one_setting() {
        let file = TrainSpec {
            hidden: Some(vec![64, 32]),
            lr: Some(0.1),
            epochs: Some(2),
            ..TrainSpec::default()
        };
        let flags = TrainSpec {
            layers: Some(vec![4, 8, 3]),
            lr: Some(0.5),
            ..TrainSpec::default()
        };
        let both = file.overlaid(&flags);
        assert_eq!(both.lr, Some(0.5));
        assert_eq!(both.epochs, Some(2));
        assert_eq!(both.layers, Some(vec![4, 8, 3]));
        assert_eq!(
            both.hidden, None,
            "the file's hidden sizes give way to the layers"
        );
    }

    #[test]
    fn a_preset_lies_underneath() {
        let spec = TrainSpec {
            preset: Some(Preset::NielsenCh1),
            hidden: Some(vec![40]),
            epochs: Some(2),
            ..TrainSpec::default()
        };
        let e = spec.expanded();
        assert_eq!(e.epochs, Some(2));
        assert_eq!(e.lr, Some(3.0));
        assert_eq!((e.layers, e.hidden), (None, Some(vec![40])));
    }

    #[test]
    fn checks_name_the_setting_out_of_range() {
        let bad = |spec: TrainSpec| spec.check().unwrap_err().setting().unwrap();
        let d = TrainSpec::default;
        assert_eq!(
            bad(TrainSpec {
                dropout: Some(1.5),
                ..d()
            }),
            Setting::Dropout
        );
        assert_eq!(
            bad(TrainSpec {
                lr: Some(-1.0),
                ..d()
            }),
            Setting::LearningRate
        );
        assert_eq!(
            bad(TrainSpec {
                threads: Some(0),
                ..d()
            }),
            Setting::Threads
        );
        assert_eq!(
            bad(TrainSpec {
                hidden: Some(vec![3, 0]),
                ..d()
            }),
            Setting::Hidden
        );
        assert!(d().check().is_ok());
    }

    #[test]
    fn a_spec_round_trips_through_json_with_names() {
        let spec = TrainSpec {
            optimizer: Some("adam".parse().unwrap()),
            schedule: Some("cosine".parse().unwrap()),
            hidden: Some(vec![8]),
            preset: Some(Preset::MnistBest),
            ..TrainSpec::default()
        };
        let text = serde_json::to_string(&spec).unwrap();
        assert!(text.contains("\"optimizer\":\"adam\""), "{text}");
        assert_eq!(serde_json::from_str::<TrainSpec>(&text).unwrap(), spec);
    }
}
