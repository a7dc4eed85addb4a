import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import SentraCore
import SentraLocale
import SentraReadModel
import SentraStore
import SentraWire
import Testing

@testable import SentraHTTP

/// A clock a test moves by hand.
final class HandClock: @unchecked Sendable {
    private let lock = NSLock()
    private var ms: Int64 = 1_780_000_000_000
    var now: Int64 { lock.withLock { ms } }
    func advance(_ by: Int64) { lock.withLock { ms += by } }
}

@Suite struct CraftsmanAccessTests {
    let admin = "0123456789abcdef-admin-token"

    @Test func tokensAre32RandomBytesInBase64urlAndRevokedByID() throws {
        let store = try emptyView().store
        let a = try store.addAccessToken(craftsman: "c-anwar", label: "phone", now: 1000)
        let b = try store.addAccessToken(craftsman: "c-anwar", label: "", now: 2000)
        // 32 bytes are 43 base64 characters without padding, from the URL-safe alphabet.
        #expect(a.token.count == 43)
        #expect(a.token.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        #expect(a.token != b.token)
        #expect(a.id.hasPrefix("t-") && a.id != b.id)
        #expect(try store.revokeAccessToken(id: a.id, now: 3000))
        #expect(try !store.revokeAccessToken(id: "t-none", now: 3000))
        #expect(try store.activeAccessTokens().map(\.id) == [b.id])
        #expect(try store.accessTokens().first { $0.id == a.id }?.revoked == 3000)
    }

    /// Strangers sending unknown tokens cannot make the daemon read the table more than once a
    /// second; a revoked token stops working at the first read after its revocation.
    @Test func theTokenTableIsReadAtMostOnceASecond() throws {
        let clock = HandClock()
        let rows = NSLockedBox([AccessToken(id: "t-1", craftsman: "c-anwar", token: "secret-one", label: "", created: 0)])
        let tokens = CraftsmanTokens(load: { rows.value }, clock: { clock.now })
        #expect(tokens.craftsman(for: "secret-one") == "c-anwar")
        for i in 0..<1000 { #expect(tokens.craftsman(for: "guess-\(i)") == nil) }
        #expect(tokens.reads == 1)
        rows.value = []  // revoked
        clock.advance(999)
        #expect(tokens.craftsman(for: "secret-one") == "c-anwar")
        #expect(tokens.reads == 1)
        clock.advance(1)
        #expect(tokens.craftsman(for: "secret-one") == nil)
        #expect(tokens.reads == 2)
    }

    func app(admin: String?) throws -> (some ApplicationProtocol, String) {
        let view = try emptyView()
        let t = try view.store.addAccessToken(craftsman: "c-anwar", label: "", now: 0)
        let policy = AccessPolicy(token: admin, craftsmen: CraftsmanTokens(store: view.store, clock: view.clock))
        return (Application(router: HTTPServer.router(view: view, policy: policy, logger: Logger(label: "test"))), t.token)
    }

    @Test func aPersonalLinkReachesOnlyItsOwnView() async throws {
        for adminToken in [admin, nil] {
            let (app, token) = try app(admin: adminToken)
            try await app.test(.router) { client in
                let bearer: HTTPFields = [.authorization: "Bearer \(token)"]
                for path in [
                    "/metrics", "/api/v1/production", "/api/v1/orders", "/api/v1/sentra", "/api/v1/status", "/api/v1/alerts", "/pay",
                    "/api/v1/pay", "/api/v1/orders/o-1", "/login/../metrics",
                ] {
                    try await client.execute(uri: path, method: .get, headers: bearer) { r in
                        #expect(r.status == .forbidden, "\(path)")
                        #expect(String(buffer: r.body).contains(#""error""#), "\(path)")
                    }
                }
                try await client.execute(uri: "/api/v1/orders", method: .post, headers: bearer, body: ByteBuffer(string: "{}")) { r in
                    #expect(r.status == .forbidden)
                }
                for path in ["/strings.json", "/app.js", "/style.css"] {
                    try await client.execute(uri: path, method: .get, headers: bearer) { r in #expect(r.status == .ok, "\(path)") }
                }
                // The page is marked as his own view.
                try await client.execute(uri: "/", method: .get, headers: bearer) { r in
                    #expect(r.status == .ok)
                    #expect(String(buffer: r.body).contains(#"data-view="own""#))
                }
                // The link sets the cookie and sends the browser to the dashboard.
                let cookie = try await client.execute(uri: "/k/\(token)", method: .get) { r in
                    #expect(r.status == .seeOther)
                    #expect(r.headers[.location] == "../")
                    return r.headers[.setCookie] ?? ""
                }
                #expect(cookie.hasPrefix("sentra_craftsman=\(token);") && cookie.contains("HttpOnly"))
                try await client.execute(uri: "/metrics", method: .get, headers: [.cookie: "sentra_craftsman=\(token)"]) { r in
                    #expect(r.status == .forbidden)
                }
                try await client.execute(uri: "/k/not-a-token", method: .get) { r in
                    #expect(r.status == .unauthorized)
                    #expect(r.headers[.setCookie] == nil)
                }
                // A stale cookie (revoked, or never valid) is refused and cleared.
                try await client.execute(uri: "/api/v1/me", method: .get, headers: [.cookie: "sentra_craftsman=revoked-one"]) { r in
                    #expect(r.status == .unauthorized)
                    #expect(r.headers[.setCookie]?.contains("Max-Age=0") == true)
                }
            }
        }
    }

    @Test func writesNeedAConfiguredAdminTokenAlsoOnLoopback() async throws {
        let (open, _) = try app(admin: nil)
        try await open.test(.router) { client in
            for (method, path) in [
                (HTTPRequest.Method.post, "/api/v1/orders"), (.patch, "/api/v1/orders/o-1"), (.post, "/api/v1/orders/o-1/close"),
            ] {
                try await client.execute(uri: path, method: method, body: ByteBuffer(string: "{}")) { r in
                    #expect(r.status == .forbidden, "\(path)")
                    #expect(String(buffer: r.body).contains(#""error": "writes need http.token_file""#))
                }
            }
        }
        let (guarded, _) = try app(admin: admin)
        try await guarded.test(.router) { client in
            try await client.execute(uri: "/api/v1/orders", method: .post, body: ByteBuffer(string: "{}")) { r in
                #expect(r.status == .unauthorized)
            }
            // With the token: a body that is no order request is a 400 naming the body.
            try await client.execute(
                uri: "/api/v1/orders", method: .post, headers: [.authorization: "Bearer \(admin)"], body: ByteBuffer(string: "{\"x\":1}")
            ) { r in
                #expect(r.status == .badRequest)
                #expect(String(buffer: r.body).contains(#""parameter": "body""#))
            }
        }
    }

    @Test func payRangesOverHTTPAreAtMost366Days() async throws {
        let (app, _) = try app(admin: nil)
        try await app.test(.router) { client in
            for path in ["/api/v1/pay?from=2026-01-01&to=2027-01-02", "/pay?from=2026-01-01&to=2027-01-02"] {
                try await client.execute(uri: path, method: .get) { r in
                    #expect(r.status == .badRequest, "\(path)")
                    #expect(String(buffer: r.body).contains(#""parameter""#), "\(path)")
                }
            }
            try await client.execute(uri: "/api/v1/pay?from=2026-02-30", method: .get) { r in
                #expect(r.status == .badRequest)
                #expect(String(buffer: r.body).contains(#""parameter": "from""#))
            }
            try await client.execute(uri: "/api/v1/orders?status=some", method: .get) { r in
                #expect(r.status == .badRequest)
                #expect(String(buffer: r.body).contains(#""parameter": "status""#))
            }
        }
    }

    @Test func thePageLanguageIsTheQueryThenTheBrowserThenTheSentras() async throws {
        let (app, _) = try app(admin: nil)
        try await app.test(.router) { client in
            let cases: [(String, HTTPFields, String)] = [
                ("/strings.json?lang=id", [.acceptLanguage: "en"], "id"),
                ("/strings.json", [.acceptLanguage: "id-ID,id;q=0.9,en;q=0.8"], "id"),
                ("/strings.json", [.acceptLanguage: "fr, en;q=0.5"], "en"),
                ("/strings.json", [:], "en"),
            ]
            for (path, headers, lang) in cases {
                try await client.execute(uri: path, method: .get, headers: headers) { r in
                    let answer = try WireJSON.decode(StringsAnswer.self, from: Data(buffer: r.body))
                    #expect(answer.language == lang, "\(path) \(headers)")
                    #expect(answer.strings["ui.production.title"] == (lang == "id" ? "Produksi hari ini" : "Production today"))
                    #expect(answer.strings.keys.allSatisfy { $0.hasPrefix("ui.") })
                }
            }
            try await client.execute(uri: "/", method: .get, headers: [.acceptLanguage: "id"]) { r in
                let page = String(buffer: r.body)
                #expect(page.contains(#"<html lang="id">"#))
                #expect(page.contains("Produksi hari ini"))
                #expect(!page.contains("{{"))
            }
            try await client.execute(uri: "/strings.json?lang=fr", method: .get) { r in
                // An unknown lang= falls back, it is no error for a page.
                #expect(r.status == .ok)
            }
        }
    }

    /// Every word the dashboard's script asks for is in both catalogues.
    @Test func everyWordTheScriptUsesIsInBothCatalogues() throws {
        let js = String(decoding: PackageResources.app_js, as: UTF8.self)
        let html = String(decoding: PackageResources.index_html, as: UTF8.self)
        var keys = Set<String>()
        for text in [js, html] {
            let regex = try NSRegularExpression(pattern: #"ui\.[a-z_]+(\.[a-z_]+)*"#)
            for m in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                keys.insert(String(text[Range(m.range, in: text)!]))
            }
        }
        // Keys built from a prefix: every state, severity, event and meter status.
        for k in keys where k.hasSuffix(".") { keys.remove(k) }
        for prefix in ["ui.state.", "ui.util.", "ui.severity.", "ui.event."] { keys.remove(String(prefix.dropLast())) }
        #expect(keys.count > 60)
        for lang in Language.allCases {
            let missing = keys.filter { Catalogue.of(lang).entries[$0] == nil }.sorted()
            #expect(missing.isEmpty, "\(lang): \(missing)")
        }
        for st in ["run", "stop", "fault", "unknown", "off"] { #expect(Catalogue.of(.id).entries["ui.state.\(st)"] != nil) }
    }

    @Test func thePayPageHasOneSheetPerCraftsmanInThePagesLanguage() {
        let line = { (pieces: Double, amount: Int64) in
            PayDocument.PayLine(
                product: "sarung-ikat", productName: "Sarung tenun ikat", order: nil, pieces: pieces, rate: 85000, amount: amount)
        }
        let doc = PayDocument(
            from: "2026-11-01", to: "2026-11-23", currency: "IDR", rounding: "half_away_from_zero",
            craftsmen: [
                .init(
                    craftsman: "c-anwar", name: "Pak <Anwar>", workshop: "ws-1", lines: [line(15, 1_275_000)], pieces: 15,
                    amount: 1_275_000, kwh: 12.5, energyCost: 18059, waterL: 1500, waterCost: 11250),
                .init(
                    craftsman: "c-siti", name: "Bu Siti", workshop: "ws-1", lines: [line(2, 170_000)], pieces: 2, amount: 170_000,
                    kwh: 0, energyCost: nil, waterL: 0, waterCost: nil),
            ], totalPieces: 17, totalAmount: 1_445_000)
        let id = PayPage.html(doc, language: .id, showTotal: true)
        #expect(id.components(separatedBy: #"<section class="sheet""#).count == 3)
        #expect(id.contains("Rp 1.275.000") && id.contains("Rp 170.000") && id.contains("Rp 1.445.000"))
        #expect(id.contains("Senin, 23 Nov 2026"))
        #expect(id.contains("Listrik: 12,5 kWh, Rp 18.059"))
        #expect(id.contains("Pak &lt;Anwar&gt;") && !id.contains("<Anwar>"))
        #expect(id.contains("break-after:page"))
        #expect(!id.contains("<script"))
        let en = PayPage.html(doc, language: .en, showTotal: false)
        #expect(en.contains("Rp 1,275,000") && en.contains("Monday, 23 Nov 2026") && !en.contains("grand-total"))
    }
}

/// A value behind a lock, for closures a test changes the answer of.
final class NSLockedBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var v: T
    init(_ v: T) { self.v = v }
    var value: T {
        get { lock.withLock { v } }
        set { lock.withLock { v = newValue } }
    }
}

/// The Access and Dashboard sections of both catalogues: the same keys in the same order.
@Suite struct WebCatalogueTests {
    func keys(_ language: Language, section name: String) -> [String] {
        var inside = false
        var out: [String] = []
        for line in Catalogue.shippedText(language).split(separator: "\n") {
            if line.hasPrefix("# --- ") {
                inside = line == "# --- \(name) ---"
                continue
            }
            if inside, !line.hasPrefix("#"), let eq = line.firstIndex(of: "=") {
                out.append(line[..<eq].trimmingCharacters(in: .whitespaces))
            }
        }
        return out
    }

    @Test(arguments: ["Access", "Dashboard"]) func bothLanguagesHaveTheSameKeysInOrder(_ section: String) {
        let en = keys(.en, section: section)
        #expect(en.count > 15)
        #expect(en == keys(.id, section: section))
        #expect(en.allSatisfy { $0.hasPrefix("ui.") })
        // Indonesian, not English left untranslated (the few words both languages share aside).
        let same = en.filter { Catalogue.of(.en)[$0] == Catalogue.of(.id)[$0] }
        #expect(Set(same).isSubset(of: ["ui.login.token", "ui.severity.info", "ui.pay.total"]), "\(same)")
    }
}
