fn main() -> std::process::ExitCode {
    bakery_tenant::cli::main()
}
