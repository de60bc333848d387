/// Every request allocates a little (headers, path, URI); mimalloc's per-thread free lists
/// serve that faster than glibc's malloc (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    bakery_gateway::cli::main()
}
