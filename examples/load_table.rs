//! Times loading a CSV table (BENCHMARKS.md, "Loading a big table"):
//!
//!     cargo run --release --example load_table -- big.csv
//!
//! prints the seconds to read the table into a [`nabla::data::frame::Frame`], and to read it
//! as training data (inputs and labels, in f32's range), each on a fresh read.

use std::path::PathBuf;
use std::time::Instant;

use nabla::data::frame::{read, ReadOptions};
use nabla::data::source::read_training_table;

fn main() -> nabla::Result<()> {
    let path = PathBuf::from(std::env::args().nth(1).expect("a CSV file"));
    let t = Instant::now();
    let frame = read(&path, &ReadOptions::default(), None)?;
    println!(
        "frame:    {} rows x {} columns in {:.3} s",
        frame.rows(),
        frame.cols(),
        t.elapsed().as_secs_f64()
    );
    drop(frame);
    let t = Instant::now();
    let data = read_training_table::<f32>(&path, None, &[], None, &Default::default(), None)?;
    println!(
        "training: {} examples x {} features in {:.3} s",
        data.data.len(),
        data.data.features(),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}
