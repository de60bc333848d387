fn main() -> std::process::ExitCode {
    bakery_gateway::cli::main()
}
