fn main() {
    eprintln!("tribe-content: not implemented yet");
    std::process::exit(2);
}
