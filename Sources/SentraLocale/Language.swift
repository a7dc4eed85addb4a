/// The languages Sentra speaks. The configuration's `sentra.language` picks the sentra's own
/// (alert summaries, `sentractl`'s tables, pay sheets); a browser's `Accept-Language` may pick
/// another for the page it asks for.
public enum Language: String, Sendable, CaseIterable, Codable {
    case en
    case id

    /// The first language of an `Accept-Language` header Sentra speaks, by quality (`q`) and
    /// then order; `fallback` when the header names none (or is absent or malformed).
    /// `id-ID`, `in` (the old code) and `ms` are not confused: only `id…`/`in…` mean Indonesian.
    /// A header over 1 KB is not read (no browser sends one): `fallback`.
    public static func negotiate(acceptLanguage header: String?, fallback: Language) -> Language {
        guard let header, header.utf8.count <= 1024 else { return fallback }
        var best: (q: Double, order: Int, lang: Language)? = nil
        for (order, part) in header.split(separator: ",", maxSplits: 32).enumerated() {
            let fields = part.split(separator: ";")
            guard let tag = fields.first?.trimmed.lowercased(), !tag.isEmpty else { continue }
            var q = 1.0
            for f in fields.dropFirst() {
                let kv = f.trimmed
                if kv.hasPrefix("q="), let v = Double(kv.dropFirst(2)), v >= 0, v <= 1 { q = v }
            }
            guard q > 0 else { continue }
            let primary = tag.split(separator: "-").first.map(String.init) ?? tag
            let lang: Language? =
                switch primary {
                case "id", "in": .id
                case "en": .en
                default: nil
                }
            guard let lang else { continue }
            if q > (best?.q ?? 0) { best = (q, order, lang) }
        }
        return best?.lang ?? fallback
    }
}
