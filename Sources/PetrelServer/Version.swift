/// Petrel's version, the one place it is written: `petrel --version` prints it. SwiftPM has no build-time hook for
/// `git describe`, so it is bumped by hand when a release is tagged.
public enum PetrelVersion {
    public static let current = "0.22.0"
}
