//! Compiles every contract under `proto/` with protox (no protoc needed) and generates
//! prost messages plus tonic clients and servers. Also writes the encoded
//! `FileDescriptorSet` that services serve through gRPC reflection.

use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let proto_root = manifest_dir.join("../../proto").canonicalize()?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);

    let mut files = Vec::new();
    collect_protos(&proto_root, &mut files)?;
    files.sort();
    // New files appear as directory changes; edits as file changes.
    println!("cargo:rerun-if-changed={}", proto_root.display());
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }

    let descriptors = protox::compile(&files, [&proto_root])?;
    let encoded = prost::Message::encode_to_vec(&descriptors);
    std::fs::write(out_dir.join("trainertribe_descriptor.bin"), encoded)?;

    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .include_file("trainertribe.rs")
        .compile_fds(descriptors)?;
    Ok(())
}

fn collect_protos(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            collect_protos(&path, files)?;
        } else if path.extension().is_some_and(|ext| ext == "proto") {
            files.push(path);
        }
    }
    Ok(())
}
