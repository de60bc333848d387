//! What every binary's `main` shares: one runtime, errors printed once, an exit code.

use std::future::Future;
use std::process::ExitCode;

/// Runs `work` on a multi-threaded runtime; an error is logged, printed and turned into a
/// non-zero exit code.
pub fn block_on<F>(binary: &str, work: F) -> ExitCode
where
    F: Future<Output = anyhow::Result<()>>,
{
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{binary}: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(work) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "{binary} failed");
            eprintln!("{binary}: {e:#}");
            ExitCode::FAILURE
        }
    }
}
