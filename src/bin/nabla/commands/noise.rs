//! `nabla noise`: simplex noise at points, as a PNG slice, or as a regression data set.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{bail, Context};
use nabla::data::csv::Table;
use nabla::noise::{Fractal, Simplex};

use crate::cli::NoiseArgs;
use crate::commands::check_writable;
use crate::output;

pub fn run(args: &NoiseArgs) -> anyhow::Result<()> {
    // Checked first, as `diagram` does, so that a wrong name fails fast and writes nothing.
    if let Some(path) = &args.image {
        require_extension(path, "--image", "png", "the image is a PNG")?;
        check_writable("--image", path)?;
    }
    if let Some(path) = &args.dataset {
        require_extension(path, "--dataset", "csv", "the data set is a CSV file")?;
        check_writable("--dataset", path)?;
    }
    if let Some(path) = &args.out {
        check_writable("--out", path)?;
    }
    let noise = Noise {
        simplex: Simplex::new(args.dims, args.seed).context("invalid --dims")?,
        fractal: Fractal {
            octaves: args.octaves,
            lacunarity: args.lacunarity,
            gain: args.gain,
            frequency: 1.0,
        },
    };
    noise
        .fractal
        .validate()
        .context("invalid --octaves/--lacunarity/--gain")?;
    if let Some(path) = &args.points {
        return points(args, &noise, path);
    }
    if !(args.scale.is_finite() && args.scale > 0.0) {
        bail!(
            "invalid --scale: must be a positive number, got {}",
            args.scale
        );
    }
    if let Some(path) = &args.image {
        return image(args, &noise, path);
    }
    if let Some(path) = &args.dataset {
        return dataset(args, &noise, path);
    }
    Ok(())
}

/// Plain noise, or its fractal sum over several octaves.
struct Noise {
    simplex: Simplex,
    fractal: Fractal,
}

impl Noise {
    fn value(&self, p: &[f64]) -> anyhow::Result<f64> {
        Ok(if self.fractal.octaves == 1 {
            self.simplex.sample(p)?
        } else {
            self.simplex.fractal(p, &self.fractal)?
        })
    }
}

/// `--points`: the value at each point of a CSV file.
fn points(args: &NoiseArgs, noise: &Noise, path: &Path) -> anyhow::Result<()> {
    let table = Table::read(path)?;
    if table.headers.len() != args.dims {
        bail!(
            "{}:1: {} coordinate columns, but --dims is {}",
            path.display(),
            table.headers.len(),
            args.dims
        );
    }
    let x = table.numeric(&(0..args.dims).collect::<Vec<_>>())?;
    let mut csv = table.headers.join(",") + ",value\n";
    for i in 0..x.rows() {
        let row = x.row(i);
        let cells: Vec<String> = row.iter().map(|&v| number(v)).collect();
        writeln!(csv, "{},{}", cells.join(","), number(noise.value(row)?))
            .expect("writing to a String");
    }
    match &args.out {
        Some(out) => Ok(nabla::atomic::write(out, csv.as_bytes())?),
        None => {
            use std::io::Write;
            Ok(std::io::stdout().lock().write_all(csv.as_bytes())?)
        }
    }
}

/// `--image`: a grayscale PNG of a 2-D slice.
fn image(args: &NoiseArgs, noise: &Noise, path: &Path) -> anyhow::Result<()> {
    if args.size == 0 {
        bail!("invalid --size: must be at least 1");
    }
    if args.size > 16384 {
        bail!("invalid --size: at most 16384 pixels, got {}", args.size);
    }
    let fractal = (args.octaves > 1).then_some(&noise.fractal);
    let pixels = noise
        .simplex
        .image_slice(args.size, args.scale, &args.at, fractal)
        .context("invalid --at")?;
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, args.size as u32, args.size as u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().context("cannot encode the PNG")?;
        writer
            .write_image_data(&pixels)
            .context("cannot encode the PNG")?;
    }
    nabla::atomic::write(path, &bytes)?;
    output::note(format!(
        "wrote {} ({}x{} pixels, {}-D slice)",
        path.display(),
        args.size,
        args.size,
        args.dims
    ));
    Ok(())
}

/// `--dataset`: a regression data set of random points and their values.
fn dataset(args: &NoiseArgs, noise: &Noise, path: &Path) -> anyhow::Result<()> {
    if args.samples == 0 {
        bail!("invalid --samples: must be at least 1");
    }
    let seed = args.sample_seed.unwrap_or(args.seed);
    let (points, mut values) = noise.simplex.dataset(args.samples, args.scale, seed)?;
    if args.octaves > 1 {
        values = points
            .chunks(args.dims)
            .map(|p| noise.simplex.fractal(p, &noise.fractal))
            .collect::<Result<Vec<_>, _>>()?;
    }
    let header: Vec<String> = (0..args.dims).map(|k| format!("x{k}")).collect();
    let mut csv = header.join(",") + ",value\n";
    for (p, v) in points.chunks(args.dims).zip(&values) {
        let cells: Vec<String> = p.iter().map(f64::to_string).collect();
        writeln!(csv, "{},{v}", cells.join(",")).expect("writing to a String");
    }
    nabla::atomic::write(path, csv.as_bytes())?;
    output::note(format!(
        "wrote {} ({} rows of x0..x{}, value)",
        path.display(),
        args.samples,
        args.dims - 1
    ));
    Ok(())
}

/// `path` must end in `.extension` (any case).
fn require_extension(path: &Path, flag: &str, extension: &str, why: &str) -> anyhow::Result<()> {
    let matches = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case(extension));
    if !matches {
        bail!(
            "invalid {flag}: {}: the name must end in .{extension} ({why})",
            path.display()
        );
    }
    Ok(())
}

/// A number as short as it can be written and still read back exactly: plain decimals
/// (Rust's shortest round-trip digits), with an exponent for magnitudes of 1e21 and beyond or
/// below 1e-6, as JavaScript prints numbers (1e300, not 1 followed by 300 zeros).
fn number(v: f64) -> String {
    let magnitude = v.abs();
    if magnitude != 0.0 && !(1e-6..1e21).contains(&magnitude) {
        format!("{v:e}")
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::number;

    #[test]
    fn numbers_are_printed_short_and_read_back_exactly() {
        assert_eq!(number(1e300), "1e300");
        assert_eq!(number(-2.5e-300), "-2.5e-300");
        assert_eq!(number(0.1), "0.1");
        assert_eq!(number(7.0), "7");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(123456.75), "123456.75");
        for v in [1e300, 0.1, -2.25, 1e-7, 3.0e20, f64::MAX, f64::MIN_POSITIVE] {
            assert_eq!(number(v).parse::<f64>().unwrap(), v);
        }
    }
}
