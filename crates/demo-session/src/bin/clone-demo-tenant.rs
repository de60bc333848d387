fn main() -> std::process::ExitCode {
    bakery_demo_session::cli::clone_main()
}
