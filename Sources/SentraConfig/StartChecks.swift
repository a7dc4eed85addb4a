import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What `sentrad` checks before it starts, beyond the file itself: the files the
/// configuration names (secrets, TLS certificates) and the rules that only hold once the
/// command-line overrides are applied. `sentrad` (at start and at every reload) and
/// `sentractl check` both call `checkForStart()`, so a file `check` accepts is one the
/// daemon accepts.
extension Configuration {
    /// The largest secret or certificate file read (a token or password is far smaller; this
    /// only keeps `/dev/zero` or a log file named by mistake from filling memory).
    public static let maximumSecretBytes = 1 << 20

    /// Everything `sentrad` refuses at start once the file has loaded and the overrides are
    /// applied: an HTTP listener beyond loopback without a token; a token file that is
    /// missing, unreadable, empty or shorter than `HTTP.minimumTokenLength` (when the
    /// listener is on); a broker password file that cannot be read; a TLS file (`ca_file`,
    /// `cert_file`, `key_file`) that cannot be read. Throws every problem, each named by
    /// file, line and key.
    public func checkForStart() throws {
        var errors: [ConfigurationError] = []
        func collect(_ body: () throws -> Void) {
            do {
                try body()
            } catch let e as ConfigurationErrors {
                errors += e.errors
            } catch {
                errors.append(ConfigurationError(file: file, line: 0, key: "-", message: "\(error)"))
            }
        }
        collect { try validateHTTP() }
        if http.enabled { collect { _ = try httpToken() } }
        if let name = broker.passwordFile { collect { _ = try readSecret(name, key: "broker.password_file") } }
        for (key, path) in [("broker.ca_file", broker.caFile), ("broker.cert_file", broker.certFile), ("broker.key_file", broker.keyFile)] {
            guard let path else { continue }
            if case .failure(let why) = Self.readSmallFile(path) {
                errors.append(ConfigurationError(file: file, line: line(of: key), key: key, message: "\(path): \(why)"))
            }
        }
        if !errors.isEmpty { throw ConfigurationErrors(errors) }
    }

    /// The line of the first of `keys` the file has (`http.token_file`, `broker`), else 0.
    public func line(of keys: String...) -> Int {
        for k in keys { if let l = keyLines[k] { return l } }
        return 0
    }

    /// Reads a secret (a password, a token) named in the configuration under `key`: an absolute
    /// path, or a relative name looked up in systemd's `$CREDENTIALS_DIRECTORY` first, then
    /// beside the configuration file; the first that exists is read. Surrounding newlines are
    /// dropped (an editor's last one), other white space is part of the secret; an empty file
    /// gives nil (systemd's `SetCredential=` fallback is a lone newline).
    public func readSecret(_ name: String, key: String) throws -> String? {
        try Self.readSecret(name, key: key, file: file, line: line(of: key))
    }

    /// `readSecret(_:key:)` for a file other than a sentra's configuration (the region's):
    /// `file` and `line` name where the key is.
    public static func readSecret(_ name: String, key: String, file: String, line: Int) throws -> String? {
        var candidates: [String] = []
        if name.hasPrefix("/") {
            candidates = [name]
        } else {
            if let dir = ProcessInfo.processInfo.environment["CREDENTIALS_DIRECTORY"], !dir.isEmpty {
                candidates.append("\(dir)/\(name)")
            }
            candidates.append(((file as NSString).deletingLastPathComponent as NSString).appendingPathComponent(name))
        }
        let path = candidates.first { FileManager.default.fileExists(atPath: $0) }
        guard let path else {
            throw ConfigurationErrors([
                ConfigurationError(
                    file: file, line: line, key: key, message: "cannot read \(candidates.joined(separator: " or ")): no such file")
            ])
        }
        switch readSmallFile(path) {
        case .success(let text):
            let secret = text.trimmingCharacters(in: .newlines)
            return secret.isEmpty ? nil : secret
        case .failure(let why):
            throw ConfigurationErrors([ConfigurationError(file: file, line: line, key: key, message: "cannot read \(path): \(why)")])
        }
    }

    /// Why a file cannot be read.
    public struct FileProblem: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// A regular file of at most `maximumSecretBytes` of UTF-8 text. Never blocks on a FIFO
    /// nor reads a device without end.
    static func readSmallFile(_ path: String) -> Result<String, FileProblem> {
        var st = stat()
        guard stat(path, &st) == 0 else { return .failure(FileProblem(description: String(cString: strerror(errno)))) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { return .failure(FileProblem(description: "not a regular file")) }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            return .failure(FileProblem(description: access(path, R_OK) != 0 ? String(cString: strerror(errno)) : "cannot open"))
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: maximumSecretBytes + 1) ?? Data()
        } catch {
            return .failure(FileProblem(description: "\(error.localizedDescription)"))
        }
        guard data.count <= maximumSecretBytes else {
            return .failure(FileProblem(description: "larger than \(maximumSecretBytes) bytes"))
        }
        guard let text = String(data: data, encoding: .utf8) else { return .failure(FileProblem(description: "not UTF-8 text")) }
        return .success(text)
    }
}
