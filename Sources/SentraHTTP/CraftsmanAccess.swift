import Foundation
import HTTPTypes
import Hummingbird
import SentraLocale
import SentraStore

/// The personal links' tokens as the daemon knows them: read from the state database at most
/// once a second (so `sentractl access revoke` takes effect within a second, and a stranger
/// sending unknown tokens cannot make the daemon read SQLite more often than that).
public final class CraftsmanTokens: @unchecked Sendable {
    private let load: @Sendable () throws -> [AccessToken]
    private let clock: @Sendable () -> Int64
    private let lock = NSLock()
    private var tokens: [(token: String, craftsman: String)] = []
    private var readAt: Int64?
    /// How many times the table was read (tests).
    public private(set) var reads = 0

    public init(load: @escaping @Sendable () throws -> [AccessToken], clock: @escaping @Sendable () -> Int64) {
        self.load = load
        self.clock = clock
    }

    /// Reads `store`'s tokens that are not revoked.
    public convenience init(store: ProductionStore, clock: @escaping @Sendable () -> Int64) {
        self.init(load: { try store.activeAccessTokens() }, clock: clock)
    }

    /// The craftsman whose token `given` is, nil for none. Every known token is compared, each
    /// in constant time, so the time taken tells nothing of which one nearly matched.
    public func craftsman(for given: String) -> String? {
        guard !given.isEmpty else { return nil }
        let known = current()
        var found: String?
        for t in known where AccessPolicy.constantTimeEquals(given, t.token) { found = t.craftsman }
        return found
    }

    /// The tokens, re-read when the last read is a second old or more. A failed read keeps
    /// what was known (and tries again a second later).
    private func current() -> [(token: String, craftsman: String)] {
        lock.withLock {
            let now = clock()
            if let at = readAt, now - at < 1000, now >= at { return tokens }
            readAt = now
            reads += 1
            if let fresh = try? load() { tokens = fresh.map { ($0.token, $0.craftsman) } }
            return tokens
        }
    }
}

/// The language of a page: `?lang=en|id`, else the browser's `Accept-Language`, else the
/// sentra's own.
enum PageLanguage {
    static func of(_ request: Request, fallback: Language) -> Language {
        if let asked = request.uri.queryParameters["lang"].flatMap({ Language(rawValue: String($0)) }) { return asked }
        return Language.negotiate(acceptLanguage: request.headers[.acceptLanguage], fallback: fallback)
    }
}

/// Text put into HTML: the five characters that could open markup, escaped.
enum HTMLText {
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }

    /// `template` with each `{{key}}` replaced by the catalogue's text of `key`, escaped.
    static func fill(_ template: String, _ catalogue: Catalogue) -> String {
        var out = ""
        var rest = Substring(template)
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            out += rest[..<open.lowerBound]
            out += escape(catalogue[String(rest[open.upperBound..<close.lowerBound])])
            rest = rest[close.upperBound...]
        }
        return out + rest
    }
}
