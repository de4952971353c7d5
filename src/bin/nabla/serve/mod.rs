//! `nabla serve`: the playground in the browser. A page (one HTML, one JS, one CSS file,
//! embedded in the binary) sets up a data set and a network; the server trains it with the
//! library (`nabla::train_with`, one thread per tab) and streams pictures to the page as
//! server-sent events. Every decision about training is the library's: the page's settings
//! become a `TrainSpec` that `nabla::spec::resolve` resolves, as `nabla train` does.
//!
//! API (JSON in and out; every error is a 4xx or 5xx with `{"error": "..."}`):
//!
//! | route | what |
//! |---|---|
//! | `GET /api/meta` | the library's names for the dropdowns, the data sets, the limits |
//! | `POST /api/sessions` | `{"settings": {...}, "play": bool}`: a new tab's network |
//! | `POST /api/s/{id}/settings` | new settings (data and network rebuilt) |
//! | `POST /api/s/{id}/control` | `{"action": "play" | "pause" | "step" | "reset"}` |
//! | `GET /api/s/{id}/events` | server-sent events, one `frame` per picture |
//! | `GET /api/s/{id}/frame` | one frame |
//! | `GET /api/s/{id}/explain?set=train&index=i` | FF and BP1–BP4 for one point |
//! | `POST /api/s/{id}/weight` | `{"l", "j", "k", "value"}`: set `w_jk^[l]` |
//! | `POST /api/s/{id}/upload` | a CSV file as the body |
//! | `GET /api/s/{id}/model.safetensors`, `/data.csv?set=train|test` | exports |
//! | `POST /api/s/{id}/close` | frees the tab's network |

mod data;
mod limits;
mod session;
mod settings;

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path as UrlPath, Query, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use nabla::data::csv::Table;
use nabla::Pass;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::cli::ServeArgs;
pub use limits::Limits;
use session::{pictures, Session};
use settings::Settings;

const INDEX_HTML: &str = include_str!("page/index.html");
const APP_JS: &str = include_str!("page/app.js");
const STYLE_CSS: &str = include_str!("page/style.css");

/// An error as the page sees it: a status and `{"error": message}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }
    pub fn too_large(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            message: message.into(),
        }
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: message.into(),
        }
    }
    fn not_found() -> Self {
        ApiError {
            status: StatusCode::NOT_FOUND,
            message: "no such session (it may have been closed or freed after being idle): reload the page".into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        ApiError {
            status: if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::BAD_REQUEST
            },
            message: r.body_text(),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::bad_request(r.body_text())
    }
}

impl From<BytesRejection> for ApiError {
    fn from(r: BytesRejection) -> Self {
        ApiError {
            status: if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::BAD_REQUEST
            },
            message: format!(
                "the upload is over the limit or unreadable: {}",
                r.body_text()
            ),
        }
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// The server's state: the live sessions and the limits.
#[derive(Clone)]
pub struct AppState {
    sessions: Arc<Mutex<HashMap<String, Session>>>,
    limits: Arc<Limits>,
    ids: Arc<Mutex<rand_chacha::ChaCha8Rng>>,
    /// Answer only requests addressed to the loopback interface by name (Host: localhost,
    /// 127.0.0.1 or [::1]): a web page elsewhere cannot reach the server through a DNS name
    /// that it points at 127.0.0.1 (DNS rebinding).
    loopback_only: bool,
}

impl AppState {
    pub fn new(limits: Limits) -> Self {
        use rand::SeedableRng;
        use std::hash::{BuildHasher, Hasher};
        // A seed that differs from run to run (std's per-process random hasher keys).
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        AppState {
            sessions: Arc::default(),
            limits: Arc::new(limits),
            ids: Arc::new(Mutex::new(rand_chacha::ChaCha8Rng::seed_from_u64(
                h.finish(),
            ))),
            loopback_only: false,
        }
    }

    /// Refuses requests whose Host header names anything but the loopback interface.
    pub fn loopback_only(mut self, on: bool) -> Self {
        self.loopback_only = on;
        self
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn new_id(&self) -> String {
        use rand::Rng;
        let mut rng = self.ids.lock().unwrap_or_else(|e| e.into_inner());
        format!("{:016x}{:016x}", rng.random::<u64>(), rng.random::<u64>())
    }

    /// Runs `f` on the session `id`, marking it seen.
    fn with<R>(&self, id: &str, f: impl FnOnce(&mut Session) -> ApiResult<R>) -> ApiResult<R> {
        let mut sessions = self.sessions();
        let s = sessions.get_mut(id).ok_or_else(ApiError::not_found)?;
        s.last_seen = Instant::now();
        f(s)
    }

    /// Frees sessions idle for longer than the limit (no request and no open stream).
    pub fn sweep(&self) -> usize {
        let idle = self.limits.idle;
        let mut sessions = self.sessions();
        let before = sessions.len();
        sessions.retain(|_, s| s.streams > 0 || s.last_seen.elapsed() < idle);
        before - sessions.len()
    }

    pub fn live_sessions(&self) -> usize {
        self.sessions().len()
    }
}

/// The web app.
pub fn router(state: AppState) -> Router {
    let upload_limit = state.limits.max_upload;
    Router::new()
        .route(
            "/",
            get(|| async { page(INDEX_HTML, "text/html; charset=utf-8") }),
        )
        .route(
            "/app.js",
            get(|| async { page(APP_JS, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/style.css",
            get(|| async { page(STYLE_CSS, "text/css; charset=utf-8") }),
        )
        .route("/api/meta", get(meta))
        .route("/api/sessions", post(create))
        .route("/api/s/{id}/settings", post(update))
        .route("/api/s/{id}/control", post(control))
        .route("/api/s/{id}/events", get(events))
        .route("/api/s/{id}/frame", get(one_frame))
        .route("/api/s/{id}/explain", get(explain))
        .route("/api/s/{id}/weight", post(weight))
        .route("/api/s/{id}/upload", post(upload))
        .route("/api/s/{id}/model.safetensors", get(export_model))
        .route("/api/s/{id}/data.csv", get(export_data))
        .route("/api/s/{id}/close", post(close))
        .fallback(|| async {
            ApiError {
                status: StatusCode::NOT_FOUND,
                message: "no such page".into(),
            }
        })
        .layer(DefaultBodyLimit::max(upload_limit))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            local_only,
        ))
        .with_state(state)
}

/// With [`AppState::loopback_only`], a 403 for a Host other than localhost, 127.0.0.1 or
/// [::1] (any port).
async fn local_only(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if state.loopback_only {
        if let Some(host) = request.headers().get(header::HOST) {
            let host = host.to_str().unwrap_or("");
            let name = match host.rsplit_once(':') {
                Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
                _ => host,
            };
            if !["localhost", "127.0.0.1", "[::1]"].contains(&name) {
                return ApiError {
                    status: StatusCode::FORBIDDEN,
                    message: format!(
                        "this server answers only requests to localhost (Host: {host}); start it with --host to serve other names"
                    ),
                }
                .into_response();
            }
        }
    }
    next.run(request).await
}

fn page(body: &'static str, kind: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn meta(State(state): State<AppState>) -> Json<Value> {
    let l = &state.limits;
    Json(json!({
        "datasets": data::DATASETS.iter().map(|(id, name)| json!({"id": id, "name": name})).collect::<Vec<_>>(),
        "features": data::FEATURES.iter().map(|(id, name)| json!({"id": id, "name": name})).collect::<Vec<_>>(),
        "activations": hidden_activations(),
        "outputs": nabla::Activation::ALL.iter().map(|a| a.name()).collect::<Vec<_>>(),
        "costs": nabla::Cost::ALL.iter().map(|c| c.name()).collect::<Vec<_>>(),
        "inits": nabla::Init::ALL.iter().map(|i| i.name()).collect::<Vec<_>>(),
        "optimizers": nabla::OptimizerKind::NAMES,
        "schedules": nabla::Schedule::NAMES,
        "defaults": Settings::default(),
        "limits": {
            "sessions": l.max_sessions, "layers": l.max_layers, "neurons": l.max_neurons,
            "points": l.max_points, "upload_bytes": l.max_upload, "speed": l.max_speed,
            "idle_seconds": l.idle.as_secs(),
        },
        "grid": data::GRID, "neuron_grid": data::NEURON_GRID, "range": data::RANGE,
    }))
}

/// The activations the library takes for hidden layers (it says which: softmax is only for
/// the output layer).
fn hidden_activations() -> Vec<&'static str> {
    nabla::Activation::ALL
        .iter()
        .filter(|g| {
            nabla::Architecture::new(
                &[1, 1, 1],
                **g,
                nabla::Activation::Identity,
                nabla::Cost::Quadratic,
            )
            .is_ok()
        })
        .map(|g| g.name())
        .collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Create {
    #[serde(default)]
    settings: Settings,
    #[serde(default)]
    play: bool,
}

/// What the page needs to draw a session's data: the points, the classes, the names, the
/// command that reproduces the run.
fn describe(id: &str, s: &Session) -> Value {
    let d = &s.data;
    let mut train_index = vec![None; d.points.len()];
    for (r, &i) in d.train_rows.iter().enumerate() {
        train_index[i] = Some(r);
    }
    let mut test_index = vec![None; d.points.len()];
    for (r, &i) in d.test_rows.iter().enumerate() {
        test_index[i] = Some(r);
    }
    let points: Vec<Value> = (0..d.points.len())
        .map(|i| {
            let (set, row) = match (train_index[i], test_index[i]) {
                (Some(r), _) => ("train", r),
                (_, Some(r)) => ("test", r),
                _ => unreachable!("every point is in a set"),
            };
            json!([
                round4(d.points[i][0]),
                round4(d.points[i][1]),
                d.targets[i],
                set,
                row
            ])
        })
        .collect();
    let net = s.shared.lock().net.clone();
    json!({
        "id": id,
        "settings": s.settings,
        "task": d.task.to_string(),
        "classes": d.classes,
        "axes": d.axes,
        "features": d.feature_names,
        "sizes": net.sizes(),
        "activation": net.g(1).name(),
        "output": net.g(net.last()).name(),
        "cost": net.cost().name(),
        "points": points,
        "target_range": [d.target_range.0, d.target_range.1],
        "command": s.settings.train_command(d).unwrap_or_default(),
        "csv_columns": s.upload.as_ref().map(|u| u.table.headers.clone()),
        "train_size": d.train.len(),
        "test_size": d.test.len(),
    })
}

fn round4(v: f64) -> f64 {
    (v * 1e4).round() / 1e4
}

async fn create(
    State(state): State<AppState>,
    body: Result<Json<Create>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let Json(req) = body?;
    req.settings.check(&state.limits)?;
    state.sweep();
    if state.live_sessions() >= state.limits.max_sessions {
        return Err(ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            message: format!(
                "the server already trains {} networks (its limit): close a tab or try again later",
                state.limits.max_sessions
            ),
        });
    }
    let session = build(req.settings, None, req.play).await?;
    let id = state.new_id();
    let info = describe(&id, &session);
    let mut sessions = state.sessions();
    if sessions.len() >= state.limits.max_sessions {
        return Err(ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            message: format!(
                "the server already trains {} networks (its limit)",
                state.limits.max_sessions
            ),
        });
    }
    sessions.insert(id, session);
    Ok(Json(info))
}

/// Builds a session off the async threads (the data and the grid take a few milliseconds).
async fn build(settings: Settings, upload: Option<data::Upload>, play: bool) -> ApiResult<Session> {
    tokio::task::spawn_blocking(move || Session::new(settings, upload, play))
        .await
        .map_err(|e| ApiError::unavailable(format!("cannot build the session: {e}")))?
}

/// Replaces a session's network and data, keeping its id, upload and open streams.
async fn rebuild(
    state: &AppState,
    id: &str,
    settings: Settings,
    play: bool,
) -> ApiResult<Json<Value>> {
    settings.check(&state.limits)?;
    let upload = state.with(id, |s| Ok(s.upload.clone()))?;
    let mut fresh = build(settings, upload, play).await?;
    let mut sessions = state.sessions();
    let old = sessions.get_mut(id).ok_or_else(ApiError::not_found)?;
    fresh.streams = old.streams;
    *old = fresh;
    Ok(Json(describe(id, old)))
}

async fn update(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
    body: Result<Json<Create>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let Json(req) = body?;
    rebuild(&state, &id, req.settings, req.play).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Control {
    action: String,
}

async fn control(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
    body: Result<Json<Control>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let Json(req) = body?;
    if req.action == "reset" {
        let settings = state.with(&id, |s| Ok(s.settings.clone()))?;
        return rebuild(&state, &id, settings, false).await;
    }
    state.with(&id, |s| {
        {
            let mut live = s.shared.lock();
            match req.action.as_str() {
                "play" => live.playing = true,
                "pause" => live.playing = false,
                "step" => {
                    live.playing = false;
                    live.steps_wanted = (live.steps_wanted + 1).min(100);
                }
                other => {
                    return Err(ApiError::bad_request(format!(
                        "action: unknown action '{other}' (expected play, pause, step or reset)"
                    )))
                }
            }
        }
        s.shared.wake.notify_all();
        Ok(Json(json!({ "ok": true })))
    })
}

/// One frame: the counters, the new cost points, the pictures, the parameters and the last
/// mini-batch's gradients.
fn frame(
    data: &data::PlayData,
    shared: &session::Shared,
    pass: &mut Pass<f64>,
    history_from: usize,
) -> (Value, usize) {
    let (net, grads, counters, history) = {
        let live = shared.lock();
        let history: Vec<_> = live.history.iter().skip(history_from).cloned().collect();
        (
            live.net.clone(),
            live.grads.clone(),
            json!({
                "version": live.version, "epoch": live.epoch, "batches": live.batches,
                "examples": live.examples, "examples_per_second": live.examples_per_second,
                "playing": live.playing, "finished": live.finished, "error": live.error,
            }),
            history,
        )
    };
    let pics = pictures(&net, data, pass);
    let sent = history_from + history.len();
    let last = net.last();
    let weights: Vec<Vec<f64>> = (1..=last).map(|l| net.w(l).as_slice().to_vec()).collect();
    let biases: Vec<Vec<f64>> = (1..=last).map(|l| net.b(l).to_vec()).collect();
    let (gw, gb): (Vec<Vec<f64>>, Vec<Vec<f64>>) = match &grads {
        Some(g) => (
            (1..=last)
                .map(|l| g.nabla_w[l].as_slice().to_vec())
                .collect(),
            (1..=last).map(|l| g.nabla_b[l].clone()).collect(),
        ),
        None => (Vec::new(), Vec::new()),
    };
    let mut out = counters;
    out["history"] = serde_json::to_value(history).expect("serialisable");
    out["history_from"] = json!(history_from);
    out["output"] = json!(base64(&pics.output));
    out["outputs"] = json!(net.sizes()[last]);
    out["neurons"] = json!(base64(&pics.neurons));
    out["neuron_ranges"] = json!(pics.neuron_ranges);
    out["weights"] = json!(weights);
    out["biases"] = json!(biases);
    out["grad_w"] = json!(gw);
    out["grad_b"] = json!(gb);
    (out, sent)
}

async fn one_frame(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
) -> ApiResult<Json<Value>> {
    let (sizes, _) = state.with(&id, |s| Ok((s.shared.lock().net.sizes().to_vec(), ())))?;
    let mut pass = Pass::new(&sizes, session::CHUNK);
    state.with(&id, |s| Ok(Json(frame(&s.data, &s.shared, &mut pass, 0).0)))
}

/// Frames as server-sent events: one whenever the network changed, at most every
/// `FRAME_INTERVAL`; comments keep the connection alive meanwhile.
async fn events(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
) -> ApiResult<Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>>> {
    state.with(&id, |s| {
        s.streams += 1;
        Ok(())
    })?;
    struct Stream {
        state: AppState,
        id: String,
        seen: u64,
        generation: usize,
        history_from: usize,
        pass: Option<Pass<f64>>,
        ticker: tokio::time::Interval,
    }
    impl Drop for Stream {
        fn drop(&mut self) {
            // The page went away: the session may now be freed once idle.
            if let Some(s) = self.state.sessions().get_mut(&self.id) {
                s.streams = s.streams.saturating_sub(1);
                s.last_seen = Instant::now();
            }
        }
    }
    let mut ticker = tokio::time::interval(limits::FRAME_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let start = Stream {
        state,
        id,
        seen: 0,
        generation: 0,
        history_from: 0,
        pass: None,
        ticker,
    };
    let stream = futures_util::stream::unfold(start, |mut st| async move {
        loop {
            st.ticker.tick().await;
            let (version, sizes, generation) = {
                let sessions = st.state.sessions();
                let s = sessions.get(&st.id)?;
                let live = s.shared.lock();
                (
                    live.version,
                    live.net.sizes().to_vec(),
                    Arc::as_ptr(&s.shared) as usize,
                )
            };
            // A rebuilt session starts its curves afresh.
            if generation != st.generation {
                st.generation = generation;
                st.history_from = 0;
                st.seen = 0;
            }
            if version == st.seen {
                continue;
            }
            let mut pass = match st.pass.take() {
                Some(p)
                    if p.a.len() == sizes.len()
                        && p.a.iter().zip(&sizes).all(|(a, &n)| a.cols() == n) =>
                {
                    p
                }
                _ => Pass::new(&sizes, session::CHUNK),
            };
            let state = st.state.clone();
            let id = st.id.clone();
            let from = st.history_from;
            let made = tokio::task::spawn_blocking(move || {
                let sessions = state.sessions();
                let s = sessions.get(&id)?;
                // Compute on a copy, outside the sessions lock.
                let data = s.data.clone();
                let shared = s.shared.clone();
                drop(sessions);
                let version = shared.lock().version;
                let r = frame(&data, &shared, &mut pass, from);
                Some((r, pass, version))
            })
            .await
            .ok()??;
            let ((value, sent), pass, version) = made;
            st.pass = Some(pass);
            st.seen = version;
            st.history_from = sent;
            let event = Event::default().event("frame").data(value.to_string());
            return Some((Ok(event), st));
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(10))))
}

#[derive(Deserialize)]
struct ExplainQuery {
    #[serde(default)]
    set: Option<String>,
    index: usize,
}

async fn explain(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
    query: Result<Query<ExplainQuery>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(q) = query?;
    let set = q.set.unwrap_or_else(|| "train".into());
    if set != "train" && set != "test" {
        return Err(ApiError::bad_request("set: train or test"));
    }
    state.with(&id, |s| {
        let explanation = s.explain(&set, q.index)?;
        // As `nabla explain --format json` prints it: the explanation, the gradients under
        // the model file's tensor names, and where the example comes from.
        let mut object = serde_json::to_value(&explanation).expect("serialisable");
        let mut gradients = serde_json::Map::new();
        for l in 1..=explanation.last() {
            for (symbol, tensor) in [("dc/dW", "weight"), ("dc/db", "bias")] {
                let step = explanation
                    .step(symbol, l)
                    .expect("every layer has BP3 and BP4");
                gradients.insert(
                    format!("layers.{}.{tensor}", l - 1),
                    serde_json::to_value(&step.value).expect("serialisable"),
                );
            }
        }
        object["gradients"] = gradients.into();
        object["source"] = json!({ "data": format!("{set}.csv"), "row": q.index + 1 });
        Ok(Json(object))
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WeightEdit {
    l: usize,
    j: usize,
    k: usize,
    value: f64,
}

async fn weight(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
    body: Result<Json<WeightEdit>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let Json(e) = body?;
    if !e.value.is_finite() || e.value.abs() > 1e6 {
        return Err(ApiError::bad_request(
            "value: a finite number of magnitude at most 1e6",
        ));
    }
    state.with(&id, |s| {
        let mut live = s.shared.lock();
        live.net
            .set_w(e.l, e.j, e.k, e.value)
            .map_err(|err| ApiError::bad_request(err.to_string()))?;
        live.edits.push((e.l, e.j, e.k, e.value));
        live.version += 1;
        Ok(Json(json!({ "ok": true })))
    })
}

async fn upload(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let bytes = body?;
    if bytes.len() > state.limits.max_upload {
        return Err(ApiError::too_large(format!(
            "the upload is {} bytes; the limit is {}",
            bytes.len(),
            state.limits.max_upload
        )));
    }
    let table = Table::parse(&bytes, Path::new("upload.csv"))
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    if table.rows.len() > state.limits.max_points {
        return Err(ApiError::too_large(format!(
            "the upload has {} rows; the limit is {}",
            table.rows.len(),
            state.limits.max_points
        )));
    }
    let mut settings = state.with(&id, |s| Ok(s.settings.clone()))?;
    settings.dataset = "csv".into();
    settings.points = table.rows.len().max(10);
    settings.csv_x.clear();
    settings.csv_y.clear();
    settings.csv_target.clear();
    let up = data::Upload { table };
    // Check that the file makes a data set before replacing the session's.
    data::build(&settings, Some(&up))?;
    state.with(&id, |s| {
        s.upload = Some(up);
        Ok(())
    })?;
    rebuild(&state, &id, settings, false).await
}

async fn export_model(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
) -> ApiResult<Response> {
    let bytes = state.with(&id, |s| {
        s.model()
            .to_bytes()
            .map_err(|e| ApiError::unavailable(e.to_string()))
    })?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"model.safetensors\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize)]
struct DataQuery {
    #[serde(default)]
    set: Option<String>,
}

async fn export_data(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
    query: Result<Query<DataQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query?;
    let set = q.set.unwrap_or_else(|| "train".into());
    if !["train", "test", "all"].contains(&set.as_str()) {
        return Err(ApiError::bad_request("set: train, test or all"));
    }
    let text = state.with(&id, |s| Ok(s.data.csv(&set)))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{set}.csv\""),
            ),
        ],
        text,
    )
        .into_response())
}

async fn close(State(state): State<AppState>, UrlPath(id): UrlPath<String>) -> Json<Value> {
    let removed = state.sessions().remove(&id).is_some();
    Json(json!({ "closed": removed }))
}

/// `nabla serve`: binds, prints the URL, serves until interrupted.
pub fn run(args: &ServeArgs) -> anyhow::Result<()> {
    let limits = Limits {
        max_sessions: args.max_sessions,
        ..Limits::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let addr = SocketAddr::new(args.host, args.port);
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
        let bound = listener.local_addr()?;
        let shown = if bound.ip().is_unspecified() {
            SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), bound.port())
        } else {
            bound
        };
        crate::output::line(format!(
            "nabla serve: the playground is at http://{shown}/ (Ctrl-C to stop)"
        ))?;
        let state = AppState::new(limits).loopback_only(args.host.is_loopback());
        let sweeper = state.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(5));
            loop {
                every.tick().await;
                sweeper.sweep();
            }
        });
        axum::serve(listener, router(state))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        Ok(())
    })
}

/// Standard base64 (RFC 4648, with padding).
pub fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
