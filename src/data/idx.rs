//! The IDX format of MNIST (raw or gzip): big-endian u32 magic (0x00000803 for images,
//! 0x00000801 for labels), u32 counts and dimensions, then one byte per pixel or label.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::matrix::{Matrix, Scalar};

/// The embedded MNIST subset (8000 training and 2000 test digits, gzip IDX), so that
/// `nabla train` works with no files at hand (feature "mnist").
#[cfg(feature = "mnist")]
pub mod embedded {
    /// Training images (8000 × 28 × 28).
    pub const TRAIN_IMAGES: &[u8] =
        include_bytes!("../../data/mnist-10k/train-images-idx3-ubyte.gz");
    /// Training labels.
    pub const TRAIN_LABELS: &[u8] =
        include_bytes!("../../data/mnist-10k/train-labels-idx1-ubyte.gz");
    /// Test images (2000 × 28 × 28).
    pub const TEST_IMAGES: &[u8] = include_bytes!("../../data/mnist-10k/test-images-idx3-ubyte.gz");
    /// Test labels.
    pub const TEST_LABELS: &[u8] = include_bytes!("../../data/mnist-10k/test-labels-idx1-ubyte.gz");
}

/// Images from IDX bytes: `(count, rows, cols, pixels)`.
///
/// # Errors
/// [`Error::Idx`] naming `path` for a wrong magic number or truncated data.
pub fn parse_images(bytes: &[u8], path: &Path) -> Result<(usize, usize, usize, Vec<u8>)> {
    let bytes = maybe_gunzip(bytes, path)?;
    let header = read_header(&bytes, path, 0x0000_0803, 4)?;
    let (n, rows, cols) = (header[1], header[2], header[3]);
    if rows == 0 || cols == 0 {
        return Err(idx_error(
            path,
            format!("images of {rows}×{cols} pixels: an image dimension is 0"),
        ));
    }
    let body = &bytes[16..];
    let want = n
        .checked_mul(rows)
        .and_then(|v| v.checked_mul(cols))
        .ok_or_else(|| idx_error(path, "image dimensions overflow"))?;
    if body.len() < want {
        return Err(idx_error(path, format!("truncated: header promises {n} images of {rows}×{cols} = {want} bytes, file has {}", body.len())));
    }
    Ok((n, rows, cols, body[..want].to_vec()))
}

/// Labels from IDX bytes.
///
/// # Errors
/// [`Error::Idx`] naming `path` for a wrong magic number or truncated data.
pub fn parse_labels(bytes: &[u8], path: &Path) -> Result<Vec<u8>> {
    let bytes = maybe_gunzip(bytes, path)?;
    let header = read_header(&bytes, path, 0x0000_0801, 2)?;
    let n = header[1];
    let body = &bytes[8..];
    if body.len() < n {
        return Err(idx_error(
            path,
            format!(
                "truncated: header promises {n} labels, file has {}",
                body.len()
            ),
        ));
    }
    Ok(body[..n].to_vec())
}

/// A classification data set from an images file and its labels file; pixels scaled to
/// [0, 1] (divided by 255), ten classes when the labels are digits.
///
/// # Errors
/// [`Error::Idx`] for malformed files, or when the counts differ.
pub fn dataset_from_bytes<T: Scalar>(
    images: &[u8],
    images_path: &Path,
    labels: &[u8],
    labels_path: &Path,
) -> Result<Dataset<T>> {
    let (n, rows, cols, pixels) = parse_images(images, images_path)?;
    let labels = parse_labels(labels, labels_path)?;
    if labels.len() != n {
        return Err(idx_error(
            labels_path,
            format!(
                "{} labels for {n} images in {}",
                labels.len(),
                images_path.display()
            ),
        ));
    }
    let x = inputs_from_pixels(n, rows * cols, &pixels, images_path)?;
    let classes = usize::from(labels.iter().copied().max().unwrap_or(0)) + 1;
    let classes = classes.max(10);
    Dataset::classification(x, labels.iter().map(|&l| usize::from(l)).collect(), classes)
}

/// One row of inputs per image, pixels divided by 255.
fn inputs_from_pixels<T: Scalar>(
    n: usize,
    pixels_per_image: usize,
    pixels: &[u8],
    images_path: &Path,
) -> Result<Matrix<T>> {
    if n == 0 {
        return Err(Error::Empty {
            what: format!("IDX file {}", images_path.display()),
        });
    }
    let scale = T::c(1.0 / 255.0);
    Matrix::from_vec(
        n,
        pixels_per_image,
        pixels.iter().map(|&p| T::c(f64::from(p)) * scale).collect(),
    )
}

/// The images of `…-images-idx3-ubyte[.gz]` alone, one row of inputs in [0, 1] per image:
/// no labels file is needed (this is what prediction reads).
///
/// # Errors
/// [`Error::Io`] when the file is missing, [`Error::Idx`] when it is malformed,
/// [`Error::Empty`] when it holds no images.
pub fn load_images<T: Scalar>(images_path: &Path) -> Result<Matrix<T>> {
    let images = std::fs::read(images_path).map_err(|e| Error::io(images_path, e))?;
    let (n, rows, cols, pixels) = parse_images(&images, images_path)?;
    inputs_from_pixels(n, rows * cols, &pixels, images_path)
}

/// Reads `…-images-idx3-ubyte[.gz]` and the matching `…-labels-idx1-ubyte[.gz]` beside it.
///
/// # Errors
/// [`Error::Io`] when a file is missing, [`Error::Idx`] when one is malformed.
pub fn load<T: Scalar>(images_path: &Path) -> Result<Dataset<T>> {
    let labels_path = labels_path_for(images_path)?;
    let images = std::fs::read(images_path).map_err(|e| Error::io(images_path, e))?;
    let labels = std::fs::read(&labels_path).map_err(|e| Error::io(&labels_path, e))?;
    dataset_from_bytes(&images, images_path, &labels, &labels_path)
}

/// `(rows, cols)` of the images in an IDX images file.
///
/// # Errors
/// As [`load`].
pub fn image_shape(images_path: &Path) -> Result<(usize, usize)> {
    let images = std::fs::read(images_path).map_err(|e| Error::io(images_path, e))?;
    let (_, rows, cols, _) = parse_images(&images, images_path)?;
    Ok((rows, cols))
}

/// The labels file that belongs to an images file: `images-idx3` → `labels-idx1` in the name.
///
/// # Errors
/// [`Error::Idx`] when the name does not contain `images-idx3`.
pub fn labels_path_for(images_path: &Path) -> Result<PathBuf> {
    let name = images_path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if !name.contains("images-idx3") {
        return Err(idx_error(images_path, "an IDX images file name must contain 'images-idx3' (its labels are read from the matching 'labels-idx1' file)"));
    }
    Ok(images_path.with_file_name(name.replace("images-idx3", "labels-idx1")))
}

/// Whether a path looks like an IDX images file.
pub fn is_idx_path(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.contains("-idx3-ubyte") || n.contains("-idx1-ubyte"))
}

/// The embedded MNIST subset: `(train, test)`.
#[cfg(feature = "mnist")]
pub fn embedded_mnist<T: Scalar>() -> Result<(Dataset<T>, Dataset<T>)> {
    let p = |s: &str| PathBuf::from(format!("<embedded>/data/mnist-10k/{s}"));
    let train = dataset_from_bytes(
        embedded::TRAIN_IMAGES,
        &p("train-images-idx3-ubyte.gz"),
        embedded::TRAIN_LABELS,
        &p("train-labels-idx1-ubyte.gz"),
    )?;
    let test = dataset_from_bytes(
        embedded::TEST_IMAGES,
        &p("test-images-idx3-ubyte.gz"),
        embedded::TEST_LABELS,
        &p("test-labels-idx1-ubyte.gz"),
    )?;
    Ok((train, test))
}

fn maybe_gunzip<'a>(bytes: &'a [u8], path: &Path) -> Result<std::borrow::Cow<'a, [u8]>> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut out)
            .map_err(|e| idx_error(path, format!("bad gzip data: {e}")))?;
        Ok(out.into())
    } else {
        Ok(bytes.into())
    }
}

fn read_header(bytes: &[u8], path: &Path, magic: u32, words: usize) -> Result<Vec<usize>> {
    if bytes.len() < 4 * words {
        return Err(idx_error(
            path,
            format!(
                "truncated header: {} bytes, need {}",
                bytes.len(),
                4 * words
            ),
        ));
    }
    let header: Vec<u32> = bytes[..4 * words]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    if header[0] != magic {
        return Err(idx_error(
            path,
            format!("magic number 0x{:08x}, expected 0x{magic:08x}", header[0]),
        ));
    }
    Ok(header.iter().map(|&v| v as usize).collect())
}

fn idx_error(path: &Path, message: impl Into<String>) -> Error {
    Error::Idx {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_subset_has_8000_and_2000_digits() {
        let (train, test) = embedded_mnist::<f32>().unwrap();
        assert_eq!(
            (train.len(), train.features(), train.outputs()),
            (8000, 784, 10)
        );
        assert_eq!(test.len(), 2000);
        assert!(train.x.as_slice().iter().all(|&p| (0.0..=1.0).contains(&p)));
    }

    #[test]
    fn a_wrong_magic_number_names_the_file() {
        let err = parse_labels(&[0, 0, 8, 3, 0, 0, 0, 0], Path::new("x-labels-idx1-ubyte"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("x-labels-idx1-ubyte") && err.contains("magic"),
            "{err}"
        );
    }

    #[test]
    fn truncated_images_are_an_error() {
        let mut bytes = vec![0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2];
        bytes.extend([1, 2, 3]);
        let err = parse_images(&bytes, Path::new("t-images-idx3-ubyte"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("truncated"), "{err}");
    }
}
