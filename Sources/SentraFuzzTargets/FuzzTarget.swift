/// The fuzz targets (docs/fuzzing.md): each feeds one input, as bytes, to a reader of outside
/// input the way the daemon or a command does, and traps when something goes wrong. A trap
/// is the finding: a reader must answer bad input with an error, never crash.
///
/// The same entries run under libFuzzer (`sentra-fuzz`, built with `--sanitize=fuzzer`) and
/// in the plain test suite, which replays every corpus and crasher file through them.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// A device message (topic and payload) into the ingest pipeline.
    case payload
    /// Configuration YAML text into the configuration loader.
    case config
    /// Alert-log text: its lines parsed, rendered, written back, and the file replayed.
    case alertlog
    /// What an external plugin writes on its stdout, line by line.
    case plugin
    /// An HTTP request target (path and query) as the API reads its parameters.
    case query
    /// Off-the-shelf devices' messages, one target per profile and one for a generic mapping.
    case tasmota, shelly2, shelly1, esphome, mapping

    /// Feeds one input to this target.
    public func run(_ data: UnsafeRawBufferPointer) {
        switch self {
        case .payload: PayloadFuzz.fuzzOne(data)
        case .config: ConfigFuzz.fuzzOne(data)
        case .alertlog: AlertLogFuzz.fuzzOne(data)
        case .plugin: PluginFuzz.fuzzOne(data)
        case .query: QueryFuzz.fuzzOne(data)
        case .tasmota:
            // Each input through a water meter's counter and a power meter's ENERGY.
            ProfileFuzz.fuzzOne(data, registry: ProfileFuzz.tasmota)
            ProfileFuzz.fuzzOne(data, registry: ProfileFuzz.tasmotaPower)
        case .shelly2: ProfileFuzz.fuzzOne(data, registry: ProfileFuzz.shellyGen2)
        case .shelly1: ProfileFuzz.fuzzOne(data, registry: ProfileFuzz.shellyGen1)
        case .esphome: ProfileFuzz.fuzzOne(data, registry: ProfileFuzz.esphome)
        case .mapping: ProfileFuzz.fuzzOne(data, registry: ProfileFuzz.mapping)
        }
    }

    public func run(_ bytes: [UInt8]) { bytes.withUnsafeBytes { run($0) } }
}

/// Traps with `message` unless `condition`: a property of the code under test that an input
/// broke (in every build configuration, unlike `assert`).
@inline(__always) func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("fuzz property broken: \(message())") }
}

/// The input's lines, split at `\n` as the readers of line protocols do.
func lines(of data: UnsafeRawBufferPointer) -> [String] {
    data.split(separator: 10, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
}
