//! Compiles proto/onnx.proto with protox (a protobuf compiler in Rust) and writes the
//! prost types to src/export/onnx_proto.rs. Run from the repository root.

use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let descriptors = protox::compile([root.join("proto/onnx.proto")], [root.join("proto")])?;
    let out = tempfile_dir()?;
    prost_build::Config::new()
        .out_dir(&out)
        .compile_fds(descriptors)?;
    let generated = std::fs::read_to_string(out.join("onnx.rs"))?;
    let header = "// @generated from proto/onnx.proto by proto/regenerate (protox + prost-build).\n\
                  // Do not edit: change the .proto and run\n\
                  // `cargo run --manifest-path proto/regenerate/Cargo.toml`.\n\n";
    std::fs::write(
        root.join("src/export/onnx_proto.rs"),
        format!("{header}{generated}"),
    )?;
    Ok(())
}

fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("nabla-onnx-proto-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
