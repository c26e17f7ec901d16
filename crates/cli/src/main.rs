//! The `servicemeter` binary: parses the command line and hands over to [`app`].

mod app;
mod cli;
mod import;
mod lifecycle;
mod server;
mod sync;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc: parsing allocates many small strings on several threads at once, where the
/// system allocator spends a large share of the time (see ARCHITECTURE.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match app::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that stopped early (`servicemeter facts | head`) is not an error.
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
