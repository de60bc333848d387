//! `seed-demo-inventory`: see `bakery_demo_data::jobs`.

fn main() -> std::process::ExitCode {
    bakery_demo_data::jobs::main(bakery_demo_data::jobs::Job::Inventory)
}
