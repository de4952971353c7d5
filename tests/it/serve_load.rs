//! `nabla serve` under load, on loopback: 20 tabs training at once, each reading its stream
//! of pictures, while malformed and oversized requests arrive. Bounded in count (20 tabs,
//! a fixed number of probes) and time (about 8 seconds). Checks that every probe is
//! answered (within `MAX_LATENCY`, a bound for a stuck server, not a speed target: the
//! latencies are measured and printed), that every bad request gets a 4xx with a JSON error, that
//! the limit on live networks holds, and that the server's memory stays under `MAX_RSS_MB`
//! and is given back when the tabs close. The numbers go to BENCHMARKS.md ("Playground").
//!
//! Runs the binary of this build, or NABLA_BIN when set (to time the release binary).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The slowest answer to a probe allowed while 20 tabs train.
const MAX_LATENCY: Duration = Duration::from_secs(10);
/// The server's resident memory allowed at its peak.
const MAX_RSS_MB: f64 = 400.0;
const TABS: usize = 20;
const LOAD_SECONDS: f64 = 8.0;

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The binary: NABLA_BIN (relative to the repository) when set, else this build's.
fn bin() -> std::path::PathBuf {
    let bin = std::env::var("NABLA_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_nabla").into());
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(bin)
}

fn start() -> Server {
    let mut child = Command::new(bin())
        .args(["serve", "--port", "0", "--max-sessions", "24"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("nabla serve starts");
    let mut out = child.stdout.take().expect("stdout");
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while out.read(&mut byte).expect("reads stdout") == 1 && byte[0] != b'\n' {
        line.push(byte[0]);
    }
    let line = String::from_utf8(line).unwrap();
    let url = line
        .split("http://")
        .nth(1)
        .expect("a URL")
        .split('/')
        .next()
        .unwrap();
    Server {
        addr: url.parse().expect("host:port"),
        child,
    }
}

/// One HTTP/1.1 request on a fresh connection: (status, body, seconds).
fn request(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> (u16, String, f64) {
    raw(addr, &[
        format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
        body,
    ]
    .concat())
}

fn raw(addr: SocketAddr, bytes: &[u8]) -> (u16, String, f64) {
    let t0 = Instant::now();
    let mut s = TcpStream::connect(addr).expect("connects");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // The server may answer (413) and close before reading an oversized body.
    let _ = s.write_all(bytes);
    let mut response = Vec::new();
    let _ = s.read_to_end(&mut response);
    let seconds = t0.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&response).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body, seconds)
}

fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[test]
fn twenty_tabs_train_while_bad_requests_are_refused() {
    if !cfg!(target_os = "linux") {
        return;
    }
    let server = start();
    let addr = server.addr;
    let pid = server.child.id();
    let rss_start = rss_mb(pid);

    // 20 tabs: a session each, training a [2, 8, 8, 2] network, and its picture stream.
    let mut ids = Vec::new();
    for i in 0..TABS {
        let body = format!(
            r#"{{"settings": {{"dataset": "spiral", "hidden": "8,8", "seed": {i}}}, "play": true}}"#
        );
        let (status, body, _) = request(addr, "POST", "/api/sessions", body.as_bytes());
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    let stop = Arc::new(AtomicBool::new(false));
    let frames = Arc::new(AtomicUsize::new(0));
    let readers: Vec<_> = ids
        .iter()
        .map(|id| {
            let (id, stop, frames) = (id.clone(), stop.clone(), frames.clone());
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(addr).unwrap();
                s.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
                write!(s, "GET /api/s/{id}/events HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n").unwrap();
                let mut buf = vec![0u8; 1 << 16];
                let mut tail = String::new();
                while !stop.load(Ordering::Relaxed) {
                    match s.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            tail.push_str(&String::from_utf8_lossy(&buf[..n]));
                            let count = tail.matches("event: frame").count();
                            frames.fetch_add(count, Ordering::Relaxed);
                            // Keep the end, in case a marker is split between reads.
                            let keep = tail.len().saturating_sub(16);
                            let cut = (keep..=tail.len()).find(|&i| tail.is_char_boundary(i)).unwrap();
                            tail = tail[cut..].to_string();
                            if count > 0 {
                                tail.clear();
                            }
                        }
                        Err(_) => continue,
                    }
                }
            })
        })
        .collect();

    // Probes while they train: good requests, malformed and oversized ones, over the limit.
    let big = vec![b'a'; 2 << 20];
    let bad: Vec<(&str, String, Vec<u8>, u16)> = vec![
        ("POST", "/api/sessions".into(), b"{not json".to_vec(), 400),
        (
            "POST",
            "/api/sessions".into(),
            br#"{"settings": {"hidden": "500,500"}}"#.to_vec(),
            413,
        ),
        (
            "POST",
            "/api/sessions".into(),
            br#"{"settings": {"points": 99999999}}"#.to_vec(),
            413,
        ),
        (
            "POST",
            "/api/sessions".into(),
            br#"{"settings": {"speed": 99999999}}"#.to_vec(),
            413,
        ),
        (
            "POST",
            format!("/api/s/{}/upload", ids[0]),
            big.clone(),
            413,
        ),
        (
            "POST",
            format!("/api/s/{}/control", ids[1]),
            br#"{"action": "explode"}"#.to_vec(),
            400,
        ),
        (
            "GET",
            format!("/api/s/{}/explain?index=99999", ids[2]),
            Vec::new(),
            400,
        ),
        (
            "GET",
            format!("/api/s/{}/explain?index=-1", ids[2]),
            Vec::new(),
            400,
        ),
        ("GET", "/api/s/0000/frame".into(), Vec::new(), 404),
        (
            "POST",
            format!("/api/s/{}/weight", ids[3]),
            br#"{"l": 1, "j": 0, "k": 0, "value": 1e308}"#.to_vec(),
            400,
        ),
    ];
    let mut latencies = Vec::new();
    let mut refused = 0;
    let t0 = Instant::now();
    let mut round = 0;
    while t0.elapsed().as_secs_f64() < LOAD_SECONDS {
        let (status, body, s) = request(addr, "GET", "/api/meta", b"");
        assert_eq!(status, 200, "{body}");
        latencies.push(s);
        let (status, _, s) = request(
            addr,
            "GET",
            &format!("/api/s/{}/frame", ids[round % TABS]),
            b"",
        );
        assert_eq!(status, 200);
        latencies.push(s);
        for (method, path, body, expected) in &bad {
            let (status, text, s) = request(addr, method, path, body);
            latencies.push(s);
            if *expected == 413 && path.ends_with("upload") && status == 0 {
                // The connection was closed before the whole body was sent: refused too.
                refused += 1;
                continue;
            }
            assert_eq!(status, *expected, "{method} {path}: {text}");
            let v: serde_json::Value =
                serde_json::from_str(&text).unwrap_or_else(|_| panic!("{path}: not JSON: {text}"));
            assert!(v["error"].is_string(), "{text}");
            refused += 1;
        }
        // Not HTTP at all.
        let (status, _, s) = raw(addr, b"\x00\x01garbage\r\n\r\n");
        assert!(status == 0 || (400..500).contains(&status), "{status}");
        latencies.push(s);
        round += 1;
        std::thread::sleep(Duration::from_millis(50));
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let rss_peak = rss_mb(pid);
    // The limit on live networks: 24 here, 20 are open.
    let mut over = 0;
    for _ in 0..6 {
        let (status, body, _) = request(addr, "POST", "/api/sessions", br#"{"settings": {}}"#);
        if status == 429 {
            assert!(body.contains("error"));
            over += 1;
        }
    }
    assert_eq!(
        over, 2,
        "4 more fit under the limit of 24, the other 2 are refused"
    );
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        r.join().unwrap();
    }
    let frames = frames.load(Ordering::Relaxed);
    // Close every tab: their networks are freed.
    for id in &ids {
        let (status, _, _) = request(addr, "POST", &format!("/api/s/{id}/close"), b"");
        assert_eq!(status, 200);
    }
    std::thread::sleep(Duration::from_millis(500));
    let rss_end = rss_mb(pid);
    latencies.sort_by(f64::total_cmp);
    let (p50, p99, max) = (
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        *latencies.last().unwrap(),
    );
    eprintln!(
        "serve load: {TABS} tabs training for {elapsed:.1} s; {} probes ({refused} refused with 4xx) \
         latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; pictures {:.1}/s per tab; \
         RSS {rss_start:.1} MB at start, {rss_peak:.1} MB under load, {rss_end:.1} MB after closing",
        latencies.len(),
        p50 * 1e3,
        p99 * 1e3,
        max * 1e3,
        frames as f64 / elapsed / TABS as f64,
    );
    assert!(max < MAX_LATENCY.as_secs_f64(), "slowest answer {max:.3} s");
    assert!(rss_peak < MAX_RSS_MB, "RSS {rss_peak:.1} MB");
    assert!(frames > TABS, "every tab got pictures");
}

/// The `nabla train` command the page shows, run on the exported files, trains the same
/// network to the same bits: the same costs after every epoch.
#[test]
fn the_shown_train_command_reproduces_the_run_bit_for_bit() {
    let server = start();
    let addr = server.addr;
    let body = r#"{"settings": {"dataset": "blobs3", "hidden": "8", "epochs": 4, "features": "x1,x2,sinx1",
        "l2": 0.1, "dropout": 0.1, "optimizer": "adam", "schedule": "cosine", "noise": 20}, "play": true}"#;
    let (status, text, _) = request(addr, "POST", "/api/sessions", body.as_bytes());
    assert_eq!(status, 200, "{text}");
    let info: serde_json::Value = serde_json::from_str(&text).unwrap();
    let id = info["id"].as_str().unwrap();
    let command = info["command"].as_str().unwrap().to_string();
    let t0 = Instant::now();
    let frame = loop {
        let (_, text, _) = request(addr, "GET", &format!("/api/s/{id}/frame"), b"");
        let frame: serde_json::Value = serde_json::from_str(&text).unwrap();
        if frame["finished"] == true {
            break frame;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "training did not finish"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let dir = tempfile::tempdir().unwrap();
    for set in ["train", "test"] {
        let (status, csv, _) =
            request(addr, "GET", &format!("/api/s/{id}/data.csv?set={set}"), b"");
        assert_eq!(status, 200);
        std::fs::write(dir.path().join(format!("{set}.csv")), csv).unwrap();
    }
    let words: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(words[..2], ["nabla", "train"]);
    let out = Command::new(bin())
        .args(&words[1..])
        .arg("--json")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cli: Vec<(f64, f64)> = summary["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["train_cost"].as_f64().unwrap(),
                h["test"]["cost"].as_f64().unwrap(),
            )
        })
        .collect();
    let page: Vec<(f64, f64)> = frame["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["train"].as_f64().unwrap(), h["test"].as_f64().unwrap()))
        .collect();
    assert_eq!(cli.len(), 4);
    assert_eq!(page, cli, "{command}");
}
