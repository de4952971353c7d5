//! Pictures: the training curves (cost and accuracy per epoch) and the network drawn like the
//! tutorial's Fig. 1 (neurons in columns, one line per weight `w_jk^[l]`, coloured by its
//! sign, as wide as its magnitude). SVG or PNG, chosen by the file's extension.
//!
//! Drawn with [plotters](https://docs.rs/plotters). PNGs are rasterised by its bitmap backend
//! and encoded by the `png` crate; text is drawn with DejaVu Sans (a Latin-1 subset), embedded in the
//! library (`assets/fonts/`, Bitstream Vera licence), so no system font is needed.
//!
//! ```
//! let (net, _, _) = nabla::explain::running_example();
//! let svg = nabla::plot::network_diagram_svg(&net);
//! assert_eq!(svg.matches("<circle").count(), 6); // 2 + 2 + 2 neurons
//! assert_eq!(svg.matches("<line").count(), 8); // 2·2 + 2·2 weights
//! ```

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::{Error, Result};
use crate::matrix::Scalar;
use crate::metrics::Evaluation;
use crate::model_file::Task;
use crate::network::Network;
use crate::setting::Setting;
use crate::train::EpochReport;

/// Width and height in pixels of [`training_curves`].
pub const CURVES_SIZE: (u32, u32) = (960, 400);

/// Width and height in pixels of [`network_diagram`].
pub const DIAGRAM_SIZE: (u32, u32) = (800, 500);

/// Layers with more neurons than this are drawn as their first `MAX_NEURONS_DRAWN / 2` and
/// last `MAX_NEURONS_DRAWN / 2 − 1` neurons with a gap between them (the layer's title
/// gives n_l).
pub const MAX_NEURONS_DRAWN: usize = 12;

/// Networks with at most this many weights get every weight and bias written beside it.
pub const MAX_LABELLED_WEIGHTS: usize = 24;

static FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans-subset.ttf");

/// Registers the embedded font under the family names plotters asks for.
fn fonts() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        for family in ["sans-serif", "serif", "monospace"] {
            // The font is embedded and known to parse; a failure would only lose the text.
            let _ = plotters::style::register_font(family, FontStyle::Normal, FONT);
        }
    });
}

/// The two picture formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageFormat {
    /// Scalable vector graphics (text).
    Svg,
    /// A PNG image.
    Png,
}

impl ImageFormat {
    /// The format of a path by its extension (`.svg` or `.png`, any case).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for `setting` when the extension is neither.
    pub fn of_path(path: &Path, setting: Setting) -> Result<ImageFormat> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("svg") => Ok(ImageFormat::Svg),
            Some("png") => Ok(ImageFormat::Png),
            _ => Err(Error::config(
                setting,
                format!(
                    "{}: the picture's name must end in .svg or .png",
                    path.display()
                ),
            )),
        }
    }
}

/// Any plotters error as text (the backends' error types differ).
fn text(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn plot_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Plot {
        what: what.into(),
        message: e.to_string(),
    }
}

/// Renders `draw` into an SVG string of `size`.
fn svg_of<F>(size: (u32, u32), what: &str, draw: F) -> Result<String>
where
    F: FnOnce(SVGBackend<'_>) -> std::result::Result<(), String>,
{
    fonts();
    let mut svg = String::new();
    draw(SVGBackend::with_string(&mut svg, size)).map_err(|e| plot_error(what, e))?;
    Ok(svg)
}

/// Renders `draw` into a PNG of `size`.
fn png_of<F>(size: (u32, u32), what: &str, draw: F) -> Result<Vec<u8>>
where
    F: FnOnce(BitMapBackend<'_>) -> std::result::Result<(), String>,
{
    fonts();
    let (w, h) = size;
    let mut rgb = vec![255u8; w as usize * h as usize * 3];
    draw(BitMapBackend::with_buffer(&mut rgb, size)).map_err(|e| plot_error(what, e))?;
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, w, h);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Best);
        encoder.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
        let mut writer = encoder.write_header().map_err(|e| plot_error(what, e))?;
        writer
            .write_image_data(&rgb)
            .map_err(|e| plot_error(what, e))?;
        writer.finish().map_err(|e| plot_error(what, e))?;
    }
    Ok(bytes)
}

// ---------------------------------------------------------------------------------------
// Training curves

const TRAIN_COLOUR: RGBColor = RGBColor(31, 119, 180);
const TEST_COLOUR: RGBColor = RGBColor(255, 127, 14);
const VALIDATION_COLOUR: RGBColor = RGBColor(44, 160, 44);

/// `"test cost"`, `"validation accuracy"`, …: legend names are `&'static str` in plotters'
/// series, and there are only these few.
fn series_name(set: &str, metric: &str) -> &'static str {
    match (set, metric) {
        ("validation", "cost") => "validation cost",
        ("validation", "accuracy") => "validation accuracy",
        ("validation", _) => "validation RMSE",
        (_, "cost") => "test cost",
        (_, "accuracy") => "test accuracy",
        _ => "test RMSE",
    }
}

/// Plots the training history: train, validation and test cost C per epoch on the left;
/// validation and test accuracy (classification) or RMSE (regression) on the right. SVG or PNG by `path`'s
/// extension ([`CURVES_SIZE`] pixels), written atomically.
///
/// # Errors
/// [`Error::Empty`] for an empty history, [`Error::InvalidConfig`] (`--plot`) for an
/// extension other than `.svg` or `.png`, [`Error::Io`] when the file cannot be written.
pub fn training_curves(history: &[EpochReport], task: Task, path: &Path) -> Result<()> {
    let bytes = match ImageFormat::of_path(path, Setting::Plot)? {
        ImageFormat::Svg => training_curves_svg(history, task)?.into_bytes(),
        ImageFormat::Png => training_curves_png(history, task)?,
    };
    crate::atomic::write(path, &bytes)
}

/// [`training_curves`] as SVG text.
///
/// # Errors
/// [`Error::Empty`] for an empty history.
pub fn training_curves_svg(history: &[EpochReport], task: Task) -> Result<String> {
    let curves = Curves::of(history, task)?;
    svg_of(CURVES_SIZE, "the training curves", |b| curves.draw(b))
}

/// [`training_curves`] as PNG bytes.
///
/// # Errors
/// [`Error::Empty`] for an empty history.
pub fn training_curves_png(history: &[EpochReport], task: Task) -> Result<Vec<u8>> {
    let curves = Curves::of(history, task)?;
    png_of(CURVES_SIZE, "the training curves", |b| curves.draw(b))
}

/// One line of a panel: its name, colour and (epoch, value) points.
type Series = (&'static str, RGBColor, Vec<(f64, f64)>);

/// The series of the two panels, taken from the history.
struct Curves {
    epochs: (f64, f64),
    cost: Vec<Series>,
    right: Option<(&'static str, Vec<Series>)>,
}

impl Curves {
    fn of(history: &[EpochReport], task: Task) -> Result<Curves> {
        if history.is_empty() {
            return Err(Error::Empty {
                what: "the training history".into(),
            });
        }
        let points = |f: &dyn Fn(&EpochReport) -> Option<f64>| -> Vec<(f64, f64)> {
            history
                .iter()
                .filter_map(|r| f(r).filter(|v| v.is_finite()).map(|v| (r.epoch as f64, v)))
                .collect()
        };
        let mut cost = Vec::new();
        let train = points(&|r| r.train_cost);
        if !train.is_empty() {
            cost.push(("train cost", TRAIN_COLOUR, train));
        }
        // Validation (held out of the training data) and test curves, where there are any.
        type Of = fn(&EpochReport) -> Option<&Evaluation>;
        let sets: [(&str, RGBColor, Of); 2] = [
            ("validation", VALIDATION_COLOUR, |r| r.validation.as_ref()),
            ("test", TEST_COLOUR, |r| r.test.as_ref()),
        ];
        let mut right_series = Vec::new();
        for (set, colour, of) in sets {
            let c = points(&|r| of(r).map(|t| t.cost));
            if !c.is_empty() {
                cost.push((series_name(set, "cost"), colour, c));
            }
            let (metric, values) = match task {
                Task::Classification => (
                    "accuracy",
                    points(&|r| of(r).and_then(|t| t.accuracy).map(|a| 100.0 * a)),
                ),
                Task::Regression => ("RMSE", points(&|r| of(r).and_then(|t| t.rmse))),
            };
            if !values.is_empty() {
                right_series.push((series_name(set, metric), colour, values));
            }
        }
        let right = (!right_series.is_empty()).then(|| {
            let label = match task {
                Task::Classification => "accuracy (%)",
                Task::Regression => "RMSE",
            };
            (label, right_series)
        });
        let first = history.iter().map(|r| r.epoch).min().unwrap_or(1) as f64;
        let last = history.iter().map(|r| r.epoch).max().unwrap_or(1) as f64;
        // One epoch still needs a width to draw.
        let epochs = if last > first {
            (first, last)
        } else {
            (first - 0.5, last + 0.5)
        };
        Ok(Curves {
            epochs,
            cost,
            right,
        })
    }

    fn draw<DB: DrawingBackend>(&self, backend: DB) -> std::result::Result<(), String> {
        let root = backend.into_drawing_area();
        root.fill(&WHITE).map_err(text)?;
        let panels: Vec<DrawingArea<_, Shift>> = if self.right.is_some() {
            root.split_evenly((1, 2))
        } else {
            vec![root.clone()]
        };
        let cost = &self.cost;
        let upper = SeriesLabelPosition::UpperRight;
        panel(
            &panels[0],
            "cost C per epoch",
            "cost C",
            self.epochs,
            cost,
            upper,
        )?;
        if let Some((label, series)) = &self.right {
            let title = format!("{label} per epoch");
            // Accuracy rises and RMSE falls: keep the legend out of the curve's way.
            let corner = if label.contains("accuracy") {
                SeriesLabelPosition::LowerRight
            } else {
                SeriesLabelPosition::UpperRight
            };
            panel(&panels[1], &title, label, self.epochs, series, corner)?;
        }
        root.present().map_err(text)
    }
}

/// One panel: the series against the epoch, with axes, a grid and a legend.
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    y_label: &str,
    epochs: (f64, f64),
    series: &[Series],
    legend: SeriesLabelPosition,
) -> std::result::Result<(), String> {
    // Values beyond ±1e300 (a diverging run) are clamped so that the axis range and its
    // padding stay finite: an infinite range would never finish drawing.
    const LIMIT: f64 = 1e300;
    let values = series
        .iter()
        .flat_map(|s| s.2.iter().map(|p| p.1))
        .filter(|v| !v.is_nan())
        .map(|v| v.clamp(-LIMIT, LIMIT));
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
    let pad = if hi > lo {
        0.05 * (hi - lo)
    } else {
        0.5 * lo.abs().max(1e-3)
    };
    let (lo, hi) = (lo - pad, hi + pad);
    let e = text;
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(epochs.0..epochs.1, lo..hi)
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(y_label)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| short(*y))
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .light_line_style(TRANSPARENT)
        .bold_line_style(RGBColor(225, 225, 225))
        .draw()
        .map_err(e)?;
    for (name, colour, points) in series {
        let colour = *colour;
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                colour.stroke_width(2),
            ))
            .map_err(e)?
            .label(*name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
        if points.len() == 1 {
            // A single epoch is a point, not a line.
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 3, colour.filled())))
                .map_err(e)?;
        }
    }
    chart
        .configure_series_labels()
        .position(legend)
        .label_font(("sans-serif", 13))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(180, 180, 180))
        .draw()
        .map_err(e)?;
    Ok(())
}

/// A tick label: few digits, scientific for very small or large values.
fn short(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-3..1e4).contains(&a) {
        format!("{v:.1e}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

// ---------------------------------------------------------------------------------------
// Network diagram

const POSITIVE: RGBColor = RGBColor(31, 119, 180);
const NEGATIVE: RGBColor = RGBColor(214, 39, 40);
const INK: RGBColor = RGBColor(40, 40, 40);
const GREY: RGBColor = RGBColor(120, 120, 120);

/// The network as SVG text ([`DIAGRAM_SIZE`]): one `<circle>` per neuron drawn and one
/// `<line>` per weight between drawn neurons, blue for `w_jk^[l] > 0`, red for `< 0`,
/// wider for larger `|w_jk^[l]|`. Small networks get their weights and biases written out.
pub fn network_diagram_svg<T: Scalar>(net: &Network<T>) -> String {
    let diagram = Diagram::of(net);
    svg_of(DIAGRAM_SIZE, "the network diagram", |b| diagram.draw(b))
        .expect("drawing into a string with the embedded font cannot fail")
}

/// The network as PNG bytes ([`DIAGRAM_SIZE`]), drawn as [`network_diagram_svg`].
///
/// # Errors
/// [`Error::Plot`] if the image cannot be encoded.
pub fn network_diagram_png<T: Scalar>(net: &Network<T>) -> Result<Vec<u8>> {
    let diagram = Diagram::of(net);
    png_of(DIAGRAM_SIZE, "the network diagram", |b| diagram.draw(b))
}

/// Writes the network diagram to `path`, SVG or PNG by its extension, atomically.
///
/// # Errors
/// [`Error::InvalidConfig`] (`--out`) for an extension other than `.svg` or `.png`,
/// [`Error::Io`] when the file cannot be written.
pub fn network_diagram<T: Scalar>(net: &Network<T>, path: &Path) -> Result<()> {
    let bytes = match ImageFormat::of_path(path, Setting::Out)? {
        ImageFormat::Svg => network_diagram_svg(net).into_bytes(),
        ImageFormat::Png => network_diagram_png(net)?,
    };
    crate::atomic::write(path, &bytes)
}

/// What the diagram shows, in f64 and with the tutorial's indices.
struct Diagram {
    sizes: Vec<usize>,
    /// Per layer l, the neuron indices drawn (all, or the first and last few).
    shown: Vec<Vec<usize>>,
    /// `w[l]` is `W^[l]` as rows (index 0 empty).
    w: Vec<Vec<Vec<f64>>>,
    /// `b[l]` is `b^[l]` (index 0 empty).
    b: Vec<Vec<f64>>,
    g: Vec<String>,
    cost: String,
    max_abs_w: f64,
    labelled: bool,
}

impl Diagram {
    fn of<T: Scalar>(net: &Network<T>) -> Diagram {
        let sizes = net.sizes().to_vec();
        let f = |v: &T| v.to_f64().unwrap_or(0.0);
        let mut w = vec![Vec::new()];
        let mut b = vec![Vec::new()];
        let mut g = vec![String::new()];
        for l in 1..=net.last() {
            let m = net.w(l);
            w.push(
                (0..m.rows())
                    .map(|j| m.row(j).iter().map(f).collect())
                    .collect(),
            );
            b.push(net.b(l).iter().map(f).collect());
            g.push(net.g(l).to_string());
        }
        let shown = sizes
            .iter()
            .map(|&n| {
                if n <= MAX_NEURONS_DRAWN {
                    (0..n).collect()
                } else {
                    let head = MAX_NEURONS_DRAWN / 2;
                    let tail = MAX_NEURONS_DRAWN - head - 1;
                    (0..head).chain(n - tail..n).collect()
                }
            })
            .collect();
        let max_abs_w = w
            .iter()
            .flatten()
            .flatten()
            .fold(0.0f64, |m: f64, v: &f64| m.max(v.abs()));
        let weights: usize = sizes.windows(2).map(|p| p[0] * p[1]).sum();
        Diagram {
            sizes,
            shown,
            w,
            b,
            g,
            cost: net.cost().to_string(),
            max_abs_w,
            labelled: weights <= MAX_LABELLED_WEIGHTS,
        }
    }

    /// Centre of neuron `j` of layer `l` (by its place among the drawn neurons).
    fn centre(&self, l: usize, place: usize, size: (u32, u32)) -> (i32, i32) {
        let (w, h) = (size.0 as f64, size.1 as f64);
        let columns = self.sizes.len() as f64;
        let x = 90.0 + (w - 180.0) * l as f64 / (columns - 1.0).max(1.0);
        let slots = self.slots(l) as f64;
        let (top, bottom) = (95.0, h - 75.0);
        let y = top + (bottom - top) * (place as f64 + 0.5) / slots;
        (x.round() as i32, y.round() as i32)
    }

    /// Rows used in layer l's column: the neurons drawn plus one for a gap.
    fn slots(&self, l: usize) -> usize {
        self.shown[l].len() + usize::from(self.shown[l].len() < self.sizes[l])
    }

    /// The place of the i-th drawn neuron (after the gap, one further down).
    fn place(&self, l: usize, i: usize) -> usize {
        let gap = self.shown[l].len() < self.sizes[l] && i >= MAX_NEURONS_DRAWN / 2;
        i + usize::from(gap)
    }

    fn radius(&self, size: (u32, u32)) -> u32 {
        let most = (0..self.sizes.len())
            .map(|l| self.slots(l))
            .max()
            .unwrap_or(1) as f64;
        let spacing = (size.1 as f64 - 170.0) / most;
        (spacing / 2.8).clamp(4.0, 24.0) as u32
    }

    fn draw<DB: DrawingBackend>(&self, mut backend: DB) -> std::result::Result<(), String> {
        let e = text;
        let size = backend.get_size();
        let last = self.sizes.len() - 1;
        backend
            .draw_rect(
                (0, 0),
                (size.0 as i32, size.1 as i32),
                &WHITE.filled(),
                true,
            )
            .map_err(e)?;
        let r = self.radius(size) as i32;

        // One line per weight w_jk^[l], from neuron k of layer l-1 to neuron j of layer l.
        for l in 1..=last {
            for (ik, &k) in self.shown[l - 1].iter().enumerate() {
                for (ij, &j) in self.shown[l].iter().enumerate() {
                    let w = self.w[l][j][k];
                    let from = self.centre(l - 1, self.place(l - 1, ik), size);
                    let to = self.centre(l, self.place(l, ij), size);
                    let colour = if w >= 0.0 { POSITIVE } else { NEGATIVE };
                    let width =
                        1 + (5.0 * w.abs() / self.max_abs_w.max(f64::MIN_POSITIVE)).round() as u32;
                    let alpha = if self.labelled { 0.85 } else { 0.55 };
                    let (from, to) = shorten(from, to, r + 1);
                    backend
                        .draw_line(from, to, &colour.mix(alpha).stroke_width(width))
                        .map_err(e)?;
                }
            }
        }
        // Weight labels a quarter of the way along each line, so that crossing lines keep
        // their labels apart.
        if self.labelled {
            for l in 1..=last {
                for (ik, &k) in self.shown[l - 1].iter().enumerate() {
                    for (ij, &j) in self.shown[l].iter().enumerate() {
                        let w = self.w[l][j][k];
                        let (x0, y0) = self.centre(l - 1, self.place(l - 1, ik), size);
                        let (x1, y1) = self.centre(l, self.place(l, ij), size);
                        let t = 0.27;
                        let at = (
                            x0 + ((x1 - x0) as f64 * t) as i32,
                            y0 + ((y1 - y0) as f64 * t) as i32 - 9,
                        );
                        let colour = if w >= 0.0 { &POSITIVE } else { &NEGATIVE };
                        backend
                            .draw_text(&weight_text(w), &style(12, colour, HPos::Center), at)
                            .map_err(e)?;
                    }
                }
            }
        }

        // One circle per neuron drawn; "..." where neurons are left out.
        for l in 0..=last {
            for (i, &j) in self.shown[l].iter().enumerate() {
                let c = self.centre(l, self.place(l, i), size);
                backend
                    .draw_circle(c, r as u32, &INK.stroke_width(2), false)
                    .map_err(e)?;
                if r >= 12 {
                    let label = if l == 0 {
                        format!("x{}", j + 1)
                    } else {
                        format!("{}", j + 1)
                    };
                    backend
                        .draw_text(&label, &style(13, &INK, HPos::Center), c)
                        .map_err(e)?;
                }
                if self.labelled && l > 0 {
                    let at = (c.0, c.1 + r + 12);
                    backend
                        .draw_text(
                            &format!("b={}", weight_text(self.b[l][j])),
                            &style(12, &GREY, HPos::Center),
                            at,
                        )
                        .map_err(e)?;
                }
            }
            if self.shown[l].len() < self.sizes[l] {
                let (x, y) = self.centre(l, MAX_NEURONS_DRAWN / 2, size);
                for dy in [-8, 0, 8] {
                    backend
                        .draw_rect(
                            (x - 2, y + dy - 2),
                            (x + 2, y + dy + 2),
                            &INK.filled(),
                            true,
                        )
                        .map_err(e)?;
                }
            }
            // Column titles: the layer, n_l and g.
            let (x, _) = self.centre(l, 0, size);
            let role = if l == 0 {
                "input".to_string()
            } else if l == last {
                format!("output, {}", self.g[l])
            } else {
                self.g[l].clone()
            };
            backend
                .draw_text(
                    &format!("layer {l}"),
                    &style(15, &INK, HPos::Center),
                    (x, 30),
                )
                .map_err(e)?;
            backend
                .draw_text(
                    &format!("n_{l} = {} ({role})", self.sizes[l]),
                    &style(12, &GREY, HPos::Center),
                    (x, 52),
                )
                .map_err(e)?;
        }

        // The legend, in words only (so that every line and circle is a weight or neuron).
        let y = size.1 as i32 - 25;
        backend
            .draw_text("w_jk^[l] > 0", &style(13, &POSITIVE, HPos::Left), (20, y))
            .map_err(e)?;
        backend
            .draw_text("w_jk^[l] < 0", &style(13, &NEGATIVE, HPos::Left), (150, y))
            .map_err(e)?;
        backend
            .draw_text(
                &format!(
                    "line width ~ |w_jk^[l]| (largest {}); {} cost",
                    weight_text(self.max_abs_w),
                    self.cost
                ),
                &style(13, &GREY, HPos::Left),
                (280, y),
            )
            .map_err(e)?;
        backend.present().map_err(e)
    }
}

/// The segment from `a` to `b` without `by` pixels at each end (lines stop at the circles,
/// which are drawn as outlines: one SVG element per neuron).
fn shorten(a: (i32, i32), b: (i32, i32), by: i32) -> ((i32, i32), (i32, i32)) {
    let (dx, dy) = ((b.0 - a.0) as f64, (b.1 - a.1) as f64);
    let len = (dx * dx + dy * dy).sqrt();
    if len <= 2.0 * by as f64 {
        return (a, b);
    }
    let (ux, uy) = (dx / len * by as f64, dy / len * by as f64);
    (
        (a.0 + ux.round() as i32, a.1 + uy.round() as i32),
        (b.0 - ux.round() as i32, b.1 - uy.round() as i32),
    )
}

/// Text of `size` pixels in `colour`, anchored vertically at its centre.
fn style(size: u32, colour: &'static RGBColor, h: HPos) -> TextStyle<'static> {
    TextStyle::from(("sans-serif", size).into_font())
        .color(colour)
        .pos(Pos::new(h, VPos::Center))
}

/// A weight as written on the diagram: two decimals, or scientific when tiny.
fn weight_text(w: f64) -> String {
    if w == 0.0 || w.abs() >= 0.01 {
        format!("{w:.2}")
    } else {
        format!("{w:.1e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Activation, Architecture, Cost, Init};

    #[test]
    fn the_format_comes_from_the_extension() {
        assert_eq!(
            ImageFormat::of_path(Path::new("a/b.SVG"), Setting::Out).unwrap(),
            ImageFormat::Svg
        );
        assert_eq!(
            ImageFormat::of_path(Path::new("b.png"), Setting::Out).unwrap(),
            ImageFormat::Png
        );
        let err = ImageFormat::of_path(Path::new("b.jpg"), Setting::Plot)
            .unwrap_err()
            .to_string();
        assert!(err.contains("plot") && err.contains("b.jpg"), "{err}");
    }

    #[test]
    fn a_large_layer_is_drawn_with_its_first_and_last_neurons() {
        let arch = Architecture::new(
            &[30, 3],
            Activation::Sigmoid,
            Activation::Sigmoid,
            Cost::Quadratic,
        )
        .unwrap();
        let net: Network<f32> = Network::new(arch, Init::Nielsen, 1).unwrap();
        let svg = network_diagram_svg(&net);
        let drawn = MAX_NEURONS_DRAWN - 1;
        assert_eq!(svg.matches("<circle").count(), drawn + 3);
        assert_eq!(svg.matches("<line").count(), drawn * 3);
        assert!(svg.contains("n_0 = 30"));
    }

    #[test]
    fn an_empty_history_is_an_error() {
        assert!(matches!(
            training_curves_svg(&[], Task::Classification),
            Err(Error::Empty { .. })
        ));
    }
}
