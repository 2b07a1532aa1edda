fn main() {
    eprintln!("tribe-messaging: not implemented yet");
    std::process::exit(2);
}
