import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import SentraAlertLog
import SentraCore
import SentraReadModel
import SentraStore
import SentraWire
import Testing

@testable import SentraHTTP

/// A daemon's read side with nothing in it but a real (empty) state database and alert log.
func emptyView() throws -> DaemonView {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sentra-http-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let tz = TimeZone(identifier: "Asia/Jakarta")!
    return DaemonView(
        name: "Test <sentra>", version: "test", status: DaemonStatus(), live: LiveState(),
        store: try ProductionStore(path: dir.appendingPathComponent("sentra.sqlite").path),
        alertLog: try AlertLog(path: dir.appendingPathComponent("alerts.jsonl").path, timeZone: tz), plugins: nil)
}

@Suite struct AccessTests {
    let token = "0123456789abcdef-token"

    func app(token: String?) throws -> some ApplicationProtocol {
        Application(router: HTTPServer.router(view: try emptyView(), policy: AccessPolicy(token: token), logger: Logger(label: "test")))
    }

    @Test func withATokenEveryPathNeedsItAndGetsNothingElse() async throws {
        try await app(token: token).test(.router) { client in
            for path in ["/", "/metrics", "/api/v1/status", "/api/v1/sentra", "/api/v1/production", "/app.js", "/nope", "/api/v1/login"] {
                try await client.execute(uri: path, method: .get) { r in
                    #expect(r.status == .unauthorized, "\(path)")
                    #expect(r.headers[.wwwAuthenticate] == "Bearer realm=\"sentra\"")
                    #expect(!String(buffer: r.body).contains("sentra_"), "\(path) leaked data")
                }
                try await client.execute(uri: path, method: .get, headers: [.authorization: "Bearer wrong-token-0123456789"]) { r in
                    #expect(r.status == .unauthorized, "\(path) with a wrong token")
                }
            }
            try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer \(token)"]) { r in
                #expect(r.status == .ok)
                #expect(String(buffer: r.body).contains("sentra_readings_accepted_total 0"))
            }
            // A browser gets the login form, still with 401.
            try await client.execute(uri: "/", method: .get, headers: [.accept: "text/html"]) { r in
                #expect(r.status == .unauthorized)
                #expect(String(buffer: r.body).contains("<form method=\"post\" action=\"login\">"))
            }
        }
    }

    @Test func theLoginFormSetsAnHttpOnlyCookieThatOpensThePage() async throws {
        try await app(token: token).test(.router) { client in
            try await client.execute(
                uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "token=wrong")
            ) { r in
                #expect(r.status == .unauthorized)
                #expect(r.headers[.setCookie] == nil)
            }
            let cookie = try await client.execute(
                uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "token=\(token)")
            ) { r in
                #expect(r.status == .seeOther)
                #expect(r.headers[.location] == "./")
                return r.headers[.setCookie] ?? ""
            }
            #expect(cookie.contains("HttpOnly"))
            #expect(cookie.contains("SameSite=Strict"))
            let pair = String(cookie.split(separator: ";")[0])
            try await client.execute(uri: "/", method: .get, headers: [.cookie: "other=1; \(pair)"]) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.contentType] == "text/html; charset=utf-8")
                #expect(String(buffer: r.body).contains("app.js"))
            }
            try await client.execute(uri: "/api/v1/status", method: .get, headers: [.cookie: pair + "x"]) { r in
                #expect(r.status == .unauthorized)
            }
        }
    }

    @Test func withoutATokenOnLoopbackEverythingIsOpen() async throws {
        try await app(token: nil).test(.router) { client in
            try await client.execute(uri: "/api/v1/status", method: .get) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.contentType] == "application/json; charset=utf-8")
                let status = try WireJSON.decode(StatusAnswer.self, from: Data(buffer: r.body))
                #expect(status.name == "Test <sentra>")
            }
            try await client.execute(uri: "/style.css", method: .get) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.contentType] == "text/css; charset=utf-8")
            }
            try await client.execute(uri: "/api/v1/production?date=2026-13-45", method: .get) { r in
                #expect(r.status == .badRequest)
            }
        }
    }

    @Test func tokensCompareWholly() {
        #expect(AccessPolicy.constantTimeEquals("abc", "abc"))
        #expect(!AccessPolicy.constantTimeEquals("abc", "abd"))
        #expect(!AccessPolicy.constantTimeEquals("abc", "abcd"))
        #expect(!AccessPolicy.constantTimeEquals("", "a"))
        #expect(AccessPolicy.formToken("a=1&token=x%2By+z") == "x+y z")
        #expect(AccessPolicy.formToken("tokens=1") == nil)
    }
}

@Suite struct PrometheusTextTests {
    @Test func labelsAreEscapedAndEmptyOnesLeftOut() {
        var p = PrometheusText()
        p.family("x_total", .counter, "Help with \\ and\nnewline.")
        p.sample("x_total", ["a": "q\"uote\\back\nline", "b": ""], 1.5)
        p.sample("x_total", [:], 3)
        #expect(
            p.text == """
                # HELP x_total Help with \\\\ and\\nnewline.
                # TYPE x_total counter
                x_total{a="q\\"uote\\\\back\\nline"} 1.5
                x_total 3

                """)
    }

    @Test func theSentrasIdGoesFirstOnEverySample() {
        var p = PrometheusText(constantLabels: [("sentra", "bandar-\"kidul")])
        p.family("x_total", .counter, "X.")
        p.sample("x_total", ["a": "1", "b": ""], 2)
        p.sample("x_total", [:], 3)
        #expect(p.text.hasSuffix("x_total{sentra=\"bandar-\\\"kidul\",a=\"1\"} 2\nx_total{sentra=\"bandar-\\\"kidul\"} 3\n"), "\(p.text)")
        var none = PrometheusText(constantLabels: [("sentra", "")])
        none.family("y", .gauge, "Y.")
        none.sample("y", [:], 1)
        #expect(none.text.hasSuffix("\ny 1\n"))
    }

    @Test func numbersPrintAsPrometheusReadsThem() {
        #expect(PrometheusText.format(2) == "2")
        #expect(PrometheusText.format(0.25) == "0.25")
        #expect(PrometheusText.format(.infinity) == "+Inf")
        #expect(PrometheusText.format(.nan) == "NaN")
        #expect(PrometheusText.format(1e20) == "1e+20")
    }

    @Test func partialSumProRatesTheStartedHour() {
        let hours = [Double](repeating: 2, count: 24)
        #expect(CraftsmanUsual.partialSum(hours, upTo: 0) == 0)
        #expect(CraftsmanUsual.partialSum(hours, upTo: 1.5) == 3)
        #expect(CraftsmanUsual.partialSum(hours, upTo: 24) == 48)
    }
}
