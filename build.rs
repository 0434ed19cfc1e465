fn main() {
    println!("cargo:rerun-if-changed=content");
    println!("cargo:rerun-if-changed=migrations");
}
