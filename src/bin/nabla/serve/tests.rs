//! The API through the router in process (tower's `oneshot`): no socket, no browser.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use tower::ServiceExt;

use super::*;

fn app() -> (AppState, Router) {
    let state = AppState::new(Limits {
        max_sessions: 3,
        ..Limits::default()
    });
    (state.clone(), router(state))
}

async fn call(app: &Router, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, Vec<u8>) {
    let request = Request::builder().method(method).uri(uri);
    let request = match body {
        Some(b) => request
            .header("content-type", "application/json")
            .body(Body::from(b.to_string())),
        None => request.body(Body::empty()),
    }
    .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 26)
        .await
        .unwrap();
    (status, bytes.to_vec())
}

async fn call_json(
    app: &Router,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let (status, bytes) = call(app, method, uri, body).await;
    let value = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
        panic!(
            "{method} {uri}: not JSON: {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    (status, value)
}

async fn session(app: &Router, settings: Value) -> Value {
    let (status, info) = call_json(
        app,
        "POST",
        "/api/sessions",
        Some(json!({ "settings": settings })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{info}");
    info
}

#[tokio::test]
async fn the_page_and_its_files_are_served() {
    let (_, app) = app();
    for (path, needle) in [
        ("/", "<html"),
        ("/app.js", "EventSource"),
        ("/style.css", "body"),
    ] {
        let (status, body) = call(&app, "GET", path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(String::from_utf8_lossy(&body).contains(needle), "{path}");
    }
}

#[tokio::test]
async fn meta_lists_the_librarys_names() {
    let (_, app) = app();
    let (status, meta) = call_json(&app, "GET", "/api/meta", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(meta["optimizers"], json!(nabla::OptimizerKind::NAMES));
    assert_eq!(meta["schedules"], json!(nabla::Schedule::NAMES));
    assert!(meta["outputs"]
        .as_array()
        .unwrap()
        .contains(&json!("softmax")));
}

#[tokio::test]
async fn a_session_steps_one_mini_batch_and_explains_a_point_like_nabla_explain() {
    let (_, app) = app();
    let info = session(&app, json!({ "dataset": "spiral", "hidden": "8,8" })).await;
    let id = info["id"].as_str().unwrap();
    assert_eq!(info["sizes"], json!([2, 8, 8, 2]));
    let (status, _) = call_json(
        &app,
        "POST",
        &format!("/api/s/{id}/control"),
        Some(json!({"action": "step"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // The step runs on the session's thread.
    let mut batches = 0;
    for _ in 0..200 {
        let (_, frame) = call_json(&app, "GET", &format!("/api/s/{id}/frame"), None).await;
        batches = frame["batches"].as_u64().unwrap();
        if batches > 0 {
            assert_eq!(
                frame["output"].as_str().unwrap().len(),
                100 * 100 * 2 / 3 * 4 + 4
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(batches, 1, "one step is one mini-batch");
    let (status, ex) = call_json(
        &app,
        "GET",
        &format!("/api/s/{id}/explain?set=train&index=3"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{ex}");
    // The same numbers as the library's explanation of the exported model on the exported row.
    let (_, model_bytes) = call(&app, "GET", &format!("/api/s/{id}/model.safetensors"), None).await;
    let (_, csv) = call(
        &app,
        "GET",
        &format!("/api/s/{id}/data.csv?set=train"),
        None,
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (model_path, data_path) = (
        dir.path().join("m.safetensors"),
        dir.path().join("train.csv"),
    );
    std::fs::write(&model_path, &model_bytes).unwrap();
    std::fs::write(&data_path, &csv).unwrap();
    let model: nabla::Model<f64> = nabla::Model::load(&model_path).unwrap();
    let data = nabla::data::source::read_for_model(&data_path, &model, None, true).unwrap();
    let (x, y) = nabla::explain::example_at(&data.x, &data.y, 4, "train.csv").unwrap();
    let expected = nabla::explain::explain(&model.network, &x, &y).unwrap();
    let expected = serde_json::to_value(&expected).unwrap();
    assert_eq!(ex["steps"], expected["steps"]);
    assert_eq!(ex["cost"], expected["cost"]);
    assert!(ex["gradients"]["layers.0.weight"].is_array());
}

#[tokio::test]
async fn limits_and_malformed_requests_are_4xx_with_a_json_error() {
    let (state, app) = app();
    let cases = [
        (
            "POST",
            "/api/sessions".to_string(),
            Some(json!({ "settings": { "hidden": "64" } })),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "POST",
            "/api/sessions".to_string(),
            Some(json!({ "settings": { "hidden": "4,4,4,4,4,4,4,4" } })),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "POST",
            "/api/sessions".to_string(),
            Some(json!({ "settings": { "points": 1000000 } })),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "POST",
            "/api/sessions".to_string(),
            Some(json!({ "settings": { "speed": 1000000 } })),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "POST",
            "/api/sessions".to_string(),
            Some(json!({ "settings": { "optimizer": "sdg" } })),
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/api/sessions".to_string(),
            Some(json!({ "settings": { "dataset": "nope" } })),
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/api/sessions".to_string(),
            Some(json!({ "settings": { "bogus": 1 } })),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "POST",
            "/api/sessions".to_string(),
            Some(json!({ "settings": { "lr": -1 } })),
            StatusCode::BAD_REQUEST,
        ),
        (
            "GET",
            "/api/s/nope/frame".to_string(),
            None,
            StatusCode::NOT_FOUND,
        ),
        ("GET", "/nowhere".to_string(), None, StatusCode::NOT_FOUND),
    ];
    for (method, uri, body, expected) in cases {
        let (status, bytes) = call(&app, method, &uri, body.clone()).await;
        let text = String::from_utf8_lossy(&bytes);
        let expected = if expected == StatusCode::UNPROCESSABLE_ENTITY {
            status
        } else {
            expected
        };
        assert!(
            status.is_client_error(),
            "{method} {uri} {body:?}: {status} {text}"
        );
        assert_eq!(status, expected, "{method} {uri} {body:?}: {text}");
        let v: Value =
            serde_json::from_slice(&bytes).unwrap_or_else(|_| panic!("not JSON: {text}"));
        assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{text}");
    }
    // Not JSON at all.
    let request = Request::builder()
        .method("POST")
        .uri("/api/sessions")
        .header("content-type", "application/json")
        .body(Body::from("{not json"))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // An upload over the limit.
    let info = session(&app, json!({})).await;
    let id = info["id"].as_str().unwrap();
    let big = "a,b,c\n".repeat((2 << 20) / 6);
    let request = Request::builder()
        .method("POST")
        .uri(format!("/api/s/{id}/upload"))
        .body(Body::from(big))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    assert!(serde_json::from_slice::<Value>(&bytes).unwrap()["error"].is_string());
    // Sessions: at most 3 here; the fourth is refused, a closed one frees its place.
    session(&app, json!({})).await;
    session(&app, json!({})).await;
    let (status, v) = call_json(&app, "POST", "/api/sessions", Some(json!({}))).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{v}");
    let (_, v) = call_json(&app, "POST", &format!("/api/s/{id}/close"), None).await;
    assert_eq!(v["closed"], json!(true));
    assert_eq!(state.live_sessions(), 2);
    session(&app, json!({})).await;
}

#[tokio::test]
async fn an_uploaded_csv_trains_on_its_chosen_columns() {
    let (_, app) = app();
    let info = session(&app, json!({})).await;
    let id = info["id"].as_str().unwrap();
    let mut csv = String::from("height,weight,age,kind\n");
    for i in 0..60 {
        let (h, w) = (150.0 + i as f64, 50.0 + (i % 7) as f64 * 3.0);
        csv += &format!(
            "{h},{w},{},{}\n",
            20 + i % 30,
            if i % 2 == 0 { "cat" } else { "dog" }
        );
    }
    let request = Request::builder()
        .method("POST")
        .uri(format!("/api/s/{id}/upload"))
        .body(Body::from(csv))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .unwrap();
    let info: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(info["classes"], json!(["cat", "dog"]));
    assert_eq!(info["axes"], json!(["height", "weight"]));
    assert_eq!(
        info["csv_columns"],
        json!(["height", "weight", "age", "kind"])
    );
    // Draw (and train on) other columns.
    let mut settings: Value = info["settings"].clone();
    settings["csv_y"] = json!("age");
    let (status, info) = call_json(
        &app,
        "POST",
        &format!("/api/s/{id}/settings"),
        Some(json!({ "settings": settings })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(info["axes"], json!(["height", "age"]));
    assert!(info["command"]
        .as_str()
        .unwrap()
        .starts_with("nabla train --data train.csv"));
}

#[tokio::test]
async fn a_weight_edit_shows_at_once() {
    let (_, app) = app();
    let info = session(&app, json!({ "hidden": "3" })).await;
    let id = info["id"].as_str().unwrap();
    let (status, _) = call_json(
        &app,
        "POST",
        &format!("/api/s/{id}/weight"),
        Some(json!({"l": 1, "j": 2, "k": 1, "value": 1.5})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, frame) = call_json(&app, "GET", &format!("/api/s/{id}/frame"), None).await;
    assert_eq!(frame["weights"][0][2 * 2 + 1], json!(1.5));
    let (status, v) = call_json(
        &app,
        "POST",
        &format!("/api/s/{id}/weight"),
        Some(json!({"l": 9, "j": 0, "k": 0, "value": 1.0})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
}

#[test]
fn base64_matches_the_rfc_examples() {
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foo"), "Zm9v");
    assert_eq!(base64(b"foobar"), "Zm9vYmFy");
}

#[tokio::test]
async fn idle_sessions_are_freed_and_their_training_stops() {
    let state = AppState::new(Limits {
        idle: Duration::from_millis(50),
        ..Limits::default()
    });
    let app = router(state.clone());
    let info = session(&app, json!({})).await;
    let id = info["id"].as_str().unwrap().to_string();
    let shared = state.sessions().get(&id).unwrap().shared.clone();
    assert_eq!(state.sweep(), 0, "just used");
    tokio::time::sleep(Duration::from_millis(80)).await;
    assert_eq!(state.sweep(), 1);
    assert_eq!(state.live_sessions(), 0);
    assert!(shared.lock().stop, "its training thread is told to stop");
    let (status, v) = call_json(&app, "GET", &format!("/api/s/{id}/frame"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");
}

#[tokio::test]
async fn on_loopback_only_requests_to_localhost_are_answered() {
    let app = router(AppState::new(Limits::default()).loopback_only(true));
    for (host, expected) in [
        ("localhost:8080", StatusCode::OK),
        ("127.0.0.1:51234", StatusCode::OK),
        ("[::1]:8080", StatusCode::OK),
        ("localhost", StatusCode::OK),
        ("evil.example:8080", StatusCode::FORBIDDEN),
        ("127.0.0.1.evil.example", StatusCode::FORBIDDEN),
    ] {
        let request = Request::builder()
            .uri("/api/meta")
            .header("host", host)
            .body(Body::empty())
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), expected, "{host}");
    }
}
