//! What one tab, and the server as a whole, may ask for. Each limit is refused with a 4xx
//! and a JSON error, never by failing later.

use std::time::Duration;

/// The shortest time between two frames of one stream (30 a second at most).
pub const FRAME_INTERVAL: Duration = Duration::from_millis(33);

/// The server's limits.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Live networks (tabs) at once.
    pub max_sessions: usize,
    /// Hidden layers of a network.
    pub max_layers: usize,
    /// Neurons of a hidden layer.
    pub max_neurons: usize,
    /// Points of a data set (and rows of an uploaded CSV).
    pub max_points: usize,
    /// Bytes of a request body (an uploaded CSV).
    pub max_upload: usize,
    /// Mini-batches a second, per tab.
    pub max_speed: usize,
    /// A tab with no request and no open stream for this long is freed.
    pub idle: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_sessions: 32,
            max_layers: 6,
            max_neurons: 16,
            max_points: 5000,
            max_upload: 1 << 20,
            max_speed: 5000,
            idle: Duration::from_secs(60),
        }
    }
}
