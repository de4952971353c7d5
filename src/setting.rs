//! The settings of a run, as errors name them.
//!
//! The library's errors carry a [`Setting`] rather than a command-line flag, so that each
//! front end shows its own name for it: the CLI `--lr`, the Python package
//! `learning_rate_init`, the [`crate::TrainSpec`] (and its TOML file) `lr`. A message that
//! refers to another setting holds a [`Setting::mention`], which [`render`] turns into the
//! front end's name.

use std::fmt;

macro_rules! settings {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)*) => {
        /// A setting of a run: a field of [`crate::TrainSpec`], or an argument of another
        /// library call (a file to write, a row to explain).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Setting {
            $($(#[$doc])* $variant,)*
        }

        impl Setting {
            /// Every setting.
            pub const ALL: &'static [Setting] = &[$(Setting::$variant,)*];

            /// Its name in [`crate::TrainSpec`] (snake_case; the TOML file also takes it
            /// with dashes).
            pub fn name(self) -> &'static str {
                match self {
                    $(Setting::$variant => $name,)*
                }
            }
        }
    };
}

settings! {
    /// The training data file.
    Data => "data",
    /// The test data file.
    Test => "test",
    /// The target column(s).
    Target => "target",
    /// Columns left out of the features.
    Ignore => "ignore",
    /// Classification or regression.
    Task => "task",
    /// Standardising the features.
    Scaling => "scaling",
    /// Standardising the regression targets.
    TargetScaling => "target_scaling",
    /// A model to continue training.
    From => "from",
    /// Every layer size, input and output included.
    Layers => "layers",
    /// The hidden layer sizes.
    Hidden => "hidden",
    /// The hidden layers' activation.
    Activation => "activation",
    /// The output layer's activation.
    Output => "output",
    /// The cost function.
    Cost => "cost",
    /// The weight initialisation.
    Init => "init",
    /// The update rule.
    Optimizer => "optimizer",
    /// Momentum μ.
    Momentum => "momentum",
    /// Nesterov's form of momentum.
    Nesterov => "nesterov",
    /// RMSprop's decay α.
    Alpha => "alpha",
    /// ε of RMSprop and Adam.
    Eps => "eps",
    /// Adam's β₁.
    Beta1 => "beta1",
    /// Adam's β₂.
    Beta2 => "beta2",
    /// AdamW's decoupled weight decay.
    WeightDecay => "weight_decay",
    /// L-BFGS's history length.
    History => "history",
    /// The learning rate η.
    LearningRate => "lr",
    /// The mini-batch size m.
    BatchSize => "batch_size",
    /// Passes over the training data.
    Epochs => "epochs",
    /// The seed of every random stream.
    Seed => "seed",
    /// Shuffling the examples each epoch.
    Shuffle => "shuffle",
    /// The learning-rate schedule.
    Schedule => "schedule",
    /// The decay γ of the step and exponential schedules.
    Gamma => "gamma",
    /// Epochs between the step schedule's decays.
    StepSize => "step_size",
    /// The cosine schedule's warm-up epochs.
    Warmup => "warmup",
    /// The cosine schedule's η_min.
    EtaMin => "eta_min",
    /// The invscaling schedule's power.
    PowerT => "power_t",
    /// The plateau schedule's factor.
    Factor => "factor",
    /// The plateau schedule's patience.
    PlateauPatience => "plateau_patience",
    /// L2 regularisation λ.
    L2 => "l2",
    /// L1 regularisation λ₁.
    L1 => "l1",
    /// Dropout probability.
    Dropout => "dropout",
    /// Gradient clipping norm.
    ClipNorm => "clip_norm",
    /// The fraction held out for validation.
    Validation => "validation",
    /// Early stopping's patience.
    Patience => "patience",
    /// Epochs between checkpoints of the model being trained.
    CheckpointEvery => "checkpoint_every",
    /// Image shifts for augmentation.
    AugmentShift => "augment_shift",
    /// f32 or f64.
    Precision => "precision",
    /// Threads for the large products.
    Threads => "threads",
    /// A named configuration.
    Preset => "preset",
    /// A file to write (a model, a diagram).
    Out => "out",
    /// A model file to read or write.
    Model => "model",
    /// The training-curves picture.
    Plot => "plot",
    /// The example to explain.
    Row => "row",
    /// The format a model is exported to.
    Format => "format",
    /// A PyTorch state dict to import.
    Torch => "torch",
    /// The input column names of an imported model.
    Features => "features",
    /// The class names of an imported model.
    Classes => "classes",
    /// The target column names of an imported model.
    Targets => "targets",
    /// The cells that mean "missing".
    NaValues => "na_values",
    /// How missing feature values are filled in.
    Impute => "impute",
    /// Columns one-hot encoded whatever they hold.
    Categorical => "categorical",
    /// What a category unseen in training becomes.
    UnknownCategory => "unknown_category",
    /// The byte between CSV fields.
    Delimiter => "delimiter",
    /// Columns copied into the predictions.
    Keep => "keep",
}

impl Setting {
    /// A reference to this setting inside an error message, rendered by [`render`] as the
    /// front end's name for it.
    pub fn mention(self) -> String {
        format!("{START}{}{END}", self.name())
    }

    /// The setting of this [`Setting::name`].
    pub fn from_name(name: &str) -> Option<Setting> {
        Setting::ALL.iter().copied().find(|s| s.name() == name)
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

const START: char = '\u{2}';
const END: char = '\u{3}';

/// `message` with each [`Setting::mention`] replaced by `name_of(setting)`.
pub fn render(message: &str, name_of: &dyn Fn(Setting) -> String) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find(START) {
        out.push_str(&rest[..start]);
        let after = &rest[start + START.len_utf8()..];
        let Some(end) = after.find(END) else {
            out.push_str(after);
            return out;
        };
        let name = &after[..end];
        match Setting::from_name(name) {
            Some(setting) => out.push_str(&name_of(setting)),
            None => out.push_str(name),
        }
        rest = &after[end + END.len_utf8()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_render_as_each_front_end_names_them() {
        let message = format!(
            "needs {} (add {}, e.g. 0.1)",
            Setting::Validation.mention(),
            Setting::LearningRate.mention()
        );
        assert_eq!(
            render(&message, &|s| s.name().to_string()),
            "needs validation (add lr, e.g. 0.1)"
        );
        assert_eq!(
            render(&message, &|s| format!("--{}", s.name())),
            "needs --validation (add --lr, e.g. 0.1)"
        );
    }

    #[test]
    fn names_are_unique_and_found_again() {
        for s in Setting::ALL {
            assert_eq!(Setting::from_name(s.name()), Some(*s));
        }
    }
}
