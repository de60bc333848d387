fn main() -> std::process::ExitCode {
    bakery_inventory::cli::main()
}
