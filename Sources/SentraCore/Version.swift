/// Sentra's version, as `--version`, `/metrics` (`sentra_build_info`) and the API report it.
public enum SentraVersion {
    public static let current = "0.7.0"
}
