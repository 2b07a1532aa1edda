fn main() {
    eprintln!("tribe-analytics: not implemented yet");
    std::process::exit(2);
}
