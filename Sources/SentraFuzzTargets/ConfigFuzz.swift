import SentraConfig

/// Configuration YAML text into `Configuration.parse(yaml:file:)`, what `sentrad`,
/// `sentractl check` and a reload (SIGHUP) read; an error must render as text naming the
/// problem.
enum ConfigFuzz {
    static func fuzzOne(_ data: UnsafeRawBufferPointer) {
        let text = String(decoding: data, as: UTF8.self)
        do {
            let config = try Configuration.parse(yaml: text, file: "fuzz.yaml")
            _ = config.usualDays
            for n in config.notices { _ = n.description }
        } catch let errors as ConfigurationErrors {
            require(!errors.description.isEmpty, "a configuration error without words")
        } catch {
            fatalError("Configuration.parse threw something else than ConfigurationErrors: \(error)")
        }
    }
}
