//! One browser tab's network: its data, its training thread and the latest snapshot of its
//! parameters. Training is the library's `train_with`, on a thread of its own; an
//! [`Optimizer`] wrapped around the chosen one sees the network after every mini-batch, so
//! it publishes snapshots, applies the page's weight edits, and keeps to the tab's speed.

use std::ops::ControlFlow;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nabla::explain::Explanation;
use nabla::model_file::{Model, Task};
use nabla::{Gradients, Matrix, Network, Optimizer, Pass, TrainConfig, TrainEvent};
use serde::Serialize;

use super::data::{self, PlayData, Upload, GRID, NEURON_GRID};
use super::settings::Settings;
use super::ApiError;

/// How often, at most, the training thread copies its network for the pictures.
const SNAPSHOT_EVERY: Duration = Duration::from_millis(15);

/// One point of the cost curves.
#[derive(Clone, Debug, Serialize)]
pub struct CostPoint {
    pub epoch: usize,
    pub train: Option<f64>,
    pub test: Option<f64>,
}

/// What the training thread and the web handlers share.
pub struct Live {
    /// The latest parameters (what the pictures, the explanation and the export show).
    pub net: Network<f64>,
    /// The gradients of the last mini-batch (dC/dw for the hovered weight).
    pub grads: Option<Gradients<f64>>,
    /// Bumped whenever `net` changes.
    pub version: u64,
    pub playing: bool,
    /// Mini-batches to run while paused (the "step" button).
    pub steps_wanted: usize,
    pub stop: bool,
    pub epoch: usize,
    /// Mini-batches done in all.
    pub batches: u64,
    pub examples: u64,
    pub history: Vec<CostPoint>,
    /// Weight edits waiting for the training thread: (l, j, k, value).
    pub edits: Vec<(usize, usize, usize, f64)>,
    pub error: Option<String>,
    pub finished: bool,
    /// (time, examples) at the start of the speed window.
    pub speed_mark: (Instant, u64),
    pub examples_per_second: f64,
}

pub struct Shared {
    pub live: Mutex<Live>,
    pub wake: Condvar,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A tab's session.
pub struct Session {
    pub settings: Settings,
    pub upload: Option<Upload>,
    pub data: Arc<PlayData>,
    pub shared: Arc<Shared>,
    pub thread: Option<JoinHandle<()>>,
    pub last_seen: Instant,
    /// Server-sent event streams open on it.
    pub streams: usize,
}

impl Session {
    /// Builds the data and the network the settings describe (paused unless `play`).
    pub fn new(
        settings: Settings,
        upload: Option<Upload>,
        play: bool,
    ) -> Result<Session, ApiError> {
        let data = Arc::new(data::build(&settings, upload.as_ref())?);
        let resolved = settings.resolve(&data)?;
        let net: Network<f64> = Network::new(
            resolved.architecture.clone(),
            resolved.init,
            resolved.config.seed,
        )
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let shared = Arc::new(Shared {
            live: Mutex::new(Live {
                net: net.clone(),
                grads: None,
                version: 1,
                playing: play,
                steps_wanted: 0,
                stop: false,
                epoch: 0,
                batches: 0,
                examples: 0,
                history: Vec::new(),
                edits: Vec::new(),
                error: None,
                finished: false,
                speed_mark: (Instant::now(), 0),
                examples_per_second: 0.0,
            }),
            wake: Condvar::new(),
        });
        let thread = {
            let shared = shared.clone();
            let data = data.clone();
            let config = resolved.config.clone();
            let speed = settings.speed;
            std::thread::Builder::new()
                .name("nabla-serve-train".into())
                .spawn(move || {
                    nabla::parallel::with_threads(1, || {
                        train_thread(net, &data, config, speed, &shared)
                    })
                })
                .map_err(|e| ApiError::unavailable(format!("cannot start training: {e}")))?
        };
        Ok(Session {
            settings,
            upload,
            data,
            shared,
            thread: Some(thread),
            last_seen: Instant::now(),
            streams: 0,
        })
    }

    /// Stops the training thread (it ends at its next mini-batch).
    pub fn stop(&mut self) {
        {
            let mut live = self.shared.lock();
            live.stop = true;
        }
        self.shared.wake.notify_all();
        // Not joined here: a handler never waits for a mini-batch; the thread ends itself.
        self.thread.take();
    }

    /// The model as trained so far, with the data's names and input scaling.
    pub fn model(&self) -> Model<f64> {
        let net = self.shared.lock().net.clone();
        model_of(net, &self.data)
    }

    /// One example through the current network (FF, BP1–BP4, the checks).
    pub fn explain(&self, set: &str, index: usize) -> Result<Explanation, ApiError> {
        let d = match set {
            "test" => &self.data.test,
            _ => &self.data.train,
        };
        if index >= d.len() {
            return Err(ApiError::bad_request(format!(
                "index: the {set} set has {} points",
                d.len()
            )));
        }
        let net = self.shared.lock().net.clone();
        nabla::explain::explain(&net, d.x.row(index), d.y.row(index))
            .map_err(|e| ApiError::bad_request(e.to_string()))
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn model_of(net: Network<f64>, data: &PlayData) -> Model<f64> {
    let mut model = Model::new(net, data.task);
    if data.task == Task::Classification {
        model.classes = data.classes.clone();
    }
    model.features = Some(data.feature_names.clone());
    model.targets = Some(vec![data.target_name().to_string()]);
    model.scaling = Some(data.scaling.clone());
    model
}

/// The optimizer the page chose, wrapped: after each of its steps the network is shown to
/// the page (a snapshot at most every [`SNAPSHOT_EVERY`]) and the page's edits are applied.
struct Watched<'a> {
    inner: Box<dyn Optimizer<f64>>,
    shared: &'a Shared,
    last_snapshot: Instant,
}

impl Optimizer<f64> for Watched<'_> {
    fn step(&mut self, net: &mut Network<f64>, grads: &Gradients<f64>, eta: f64) {
        self.inner.step(net, grads, eta);
        let mut live = self.shared.lock();
        let edited = !live.edits.is_empty();
        for (l, j, k, v) in live.edits.drain(..) {
            // Checked by the handler; a failure leaves the weight as it was.
            let _ = net.set_w(l, j, k, v);
        }
        let stepping = !live.playing;
        if edited || stepping || self.last_snapshot.elapsed() >= SNAPSHOT_EVERY {
            live.net.clone_from(net);
            match &mut live.grads {
                Some(g) => g.clone_from(grads),
                None => live.grads = Some(grads.clone()),
            }
            live.version += 1;
            self.last_snapshot = Instant::now();
        }
    }
}

/// Waits until the tab plays or asks for a step; false when the session stops.
fn gate(shared: &Shared) -> bool {
    let mut live = shared.lock();
    loop {
        if live.stop {
            return false;
        }
        if live.playing {
            return true;
        }
        if live.steps_wanted > 0 {
            live.steps_wanted -= 1;
            return true;
        }
        live = shared
            .wake
            .wait_timeout(live, Duration::from_millis(500))
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
}

fn train_thread(
    mut net: Network<f64>,
    data: &PlayData,
    config: TrainConfig,
    speed: usize,
    shared: &Shared,
) {
    if !gate(shared) {
        return;
    }
    let mut optimizer = Watched {
        inner: config.optimizer.build::<f64>(),
        shared,
        last_snapshot: Instant::now(),
    };
    let m = if config.optimizer.full_batch() {
        data.train.len()
    } else {
        config.batch_size.min(data.train.len())
    } as u64;
    let budget = Duration::from_secs_f64(1.0 / speed as f64);
    let mut next_batch = Instant::now() + budget;
    let result = nabla::train_with(
        &mut net,
        &mut optimizer,
        &data.train,
        Some(&data.test),
        &config,
        |event| {
            match event {
                TrainEvent::Batch { epoch, .. } => {
                    {
                        let mut live = shared.lock();
                        live.batches += 1;
                        live.examples += m;
                        live.epoch = live.epoch.max(epoch - 1);
                        let (t0, e0) = live.speed_mark;
                        let dt = t0.elapsed().as_secs_f64();
                        if dt >= 0.5 {
                            live.examples_per_second = (live.examples - e0) as f64 / dt;
                            live.speed_mark = (Instant::now(), live.examples);
                        }
                    }
                    // The tab's speed limit.
                    let now = Instant::now();
                    if next_batch > now {
                        std::thread::sleep(next_batch - now);
                    }
                    next_batch = next_batch.max(now - budget * 4) + budget;
                }
                TrainEvent::Epoch(report) => {
                    let mut live = shared.lock();
                    live.epoch = report.epoch;
                    live.history.push(CostPoint {
                        epoch: report.epoch,
                        train: report.train_cost,
                        test: report.test.as_ref().map(|t| t.cost),
                    });
                }
            }
            if gate(shared) {
                ControlFlow::Continue(())
            } else {
                ControlFlow::Break(())
            }
        },
    );
    let mut live = shared.lock();
    live.net.clone_from(&net);
    live.version += 1;
    live.finished = true;
    live.playing = false;
    if let Err(e) = result {
        live.error = Some(e.render(&super::settings::field));
    }
}

/// The pictures of one moment: the output over the plane and each neuron's map.
pub struct Pictures {
    /// GRID² pixels, `outputs` bytes each (classification: p of each class in 0..=255;
    /// regression: the value mapped from the target range to 0..=255).
    pub output: Vec<u8>,
    /// For each layer l ≥ 1 and neuron j: NEURON_GRID² bytes, a_j^[l] from its min to its max.
    pub neurons: Vec<u8>,
    /// (min, max) of each neuron's map, in the order of `neurons`.
    pub neuron_ranges: Vec<(f64, f64)>,
}

/// Grid points per forward pass: the grid goes through the network in blocks of 10 rows,
/// so a stream's buffers stay small (3 × 1000 × Σ n_l numbers) whatever the network.
pub const CHUNK: usize = 10 * GRID;

/// Runs the grid through `net` (`Network::infer`, [`CHUNK`] points at a time) and
/// quantises the results.
pub fn pictures(net: &Network<f64>, data: &PlayData, pass: &mut Pass<f64>) -> Pictures {
    let last = net.last();
    let sizes = net.sizes();
    let n_out = sizes[last];
    let features = data.grid.cols();
    let step = GRID / NEURON_GRID;
    let neuron_count: usize = sizes[1..].iter().sum();
    let mut outputs = vec![0.0; GRID * GRID * n_out];
    let mut maps = vec![vec![0.0; NEURON_GRID * NEURON_GRID]; neuron_count];
    let mut ok = true;
    for start in (0..GRID * GRID).step_by(CHUNK) {
        let end = (start + CHUNK).min(GRID * GRID);
        let x = Matrix::from_vec(
            end - start,
            features,
            data.grid.as_slice()[start * features..end * features].to_vec(),
        )
        .expect("a block of the grid");
        if net.infer(&x, pass).is_err() {
            ok = false;
            break;
        }
        outputs[start * n_out..end * n_out].copy_from_slice(pass.a[last].as_slice());
        for i in start..end {
            let (row, col) = (i / GRID, i % GRID);
            if row % step != step / 2 || col % step != step / 2 {
                continue;
            }
            let sample = (row / step) * NEURON_GRID + col / step;
            let mut neuron = 0;
            for a in &pass.a[1..=last] {
                for &v in a.row(i - start) {
                    maps[neuron][sample] = v;
                    neuron += 1;
                }
            }
        }
    }
    let q = |v: f64| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    let mut output = vec![0u8; GRID * GRID * n_out];
    if ok {
        match data.task {
            Task::Classification
                if matches!(
                    net.g(last),
                    nabla::Activation::Softmax | nabla::Activation::Sigmoid
                ) =>
            {
                for (o, v) in output.iter_mut().zip(&outputs) {
                    *o = q(*v);
                }
            }
            // Outputs that are not probabilities (e.g. identity): show the argmax.
            Task::Classification => {
                for (o, row) in output.chunks_mut(n_out).zip(outputs.chunks(n_out)) {
                    let best = (0..n_out)
                        .max_by(|&x, &y| row[x].total_cmp(&row[y]))
                        .unwrap_or(0);
                    o[best] = 255;
                }
            }
            Task::Regression => {
                let (lo, hi) = data.target_range;
                let span = (hi - lo).max(1e-12);
                for (o, v) in output.iter_mut().zip(&outputs) {
                    *o = q((v - lo) / span);
                }
            }
        }
    }
    let mut neurons = Vec::with_capacity(neuron_count * NEURON_GRID * NEURON_GRID);
    let mut neuron_ranges = Vec::with_capacity(neuron_count);
    for values in &maps {
        let (lo, hi) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        let span = hi - lo;
        neurons.extend(values.iter().map(|&v| {
            if ok && span > 1e-12 {
                q((v - lo) / span)
            } else {
                128
            }
        }));
        neuron_ranges.push(if ok { (lo, hi) } else { (0.0, 0.0) });
    }
    Pictures {
        output,
        neurons,
        neuron_ranges,
    }
}
