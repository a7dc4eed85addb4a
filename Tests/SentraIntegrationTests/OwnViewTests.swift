import Foundation
import SentraWire
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Orders, pay and personal links against a real sentrad and mosquitto, the pages rendered by
/// headless Chromium (docs/access.md, docs/dashboard.md).
@Suite(.serialized) struct OwnViewTests {
    static let adminToken = "admin-token-\(UUID().uuidString)"
    static let others = [
        "c-siti", "Bu Siti", "c-budi", "Pak Budi", "c-wati", "Bu Wati", "c-joko", "Pak Joko", "c-sri", "Bu Sri",
        "c-agus", "Pak Agus", "c-ratna", "Bu Ratna",
    ]

    /// The example sentra, fed: Pak Anwar's loom-01 made 2 pieces and Bu Siti's loom-07 4
    /// (counted by hand from the readings below). `adminToken`: with `http.token_file`.
    static func fedDaemon(adminToken: String? = nil) async throws -> (Broker, Daemon) {
        let dir = Paths.tempDir("own-view")
        var path = Paths.exampleConfig
        if let adminToken {
            try adminToken.write(to: dir.appendingPathComponent("http-token"), atomically: true, encoding: .utf8)
            let example = try String(contentsOfFile: Paths.exampleConfig, encoding: .utf8)
            let config = example.replacingOccurrences(of: "  port: 8470\n", with: "  port: 8470\n  token_file: http-token\n")
            #expect(config != example)
            path = dir.appendingPathComponent("sentra.yaml").path
            try config.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let broker = try await Broker()
        let daemon = Daemon(broker: broker, config: path, dir: dir)
        try await daemon.start()
        let t = nowMillis() - 200_000
        // pieces 10, 10, 11, 11, 12: 2 pieces; 20, 20, 21, 21, 22, 22, 23, 23, 24: 4 pieces.
        try broker.publish(
            "sentra/ws-bandar-01/loom/loom-01",
            (0...4).map { #"{"ts":\#(t + Int64($0) * 10_000),"picks":\#(1000 + $0 * 25),"pieces":\#(10 + $0 / 2),"state":"run"}"# })
        try broker.publish(
            "sentra/ws-bandar-01/loom/loom-07",
            (0...8).map { #"{"ts":\#(t + Int64($0) * 10_000),"picks":\#(2000 + $0 * 25),"pieces":\#(20 + $0 / 2),"state":"run"}"# })
        try await eventually("the readings to be committed") { try daemon.accepted() == 14 }
        return (broker, daemon)
    }

    static func send(
        _ method: String, _ url: String, headers: [String: String] = [:], body: String? = nil
    ) async throws -> (Int, String) {
        var r = URLRequest(url: URL(string: url)!, timeoutInterval: 10)
        r.httpMethod = method
        for (k, v) in headers { r.setValue(v, forHTTPHeaderField: k) }
        if let body {
            r.httpBody = Data(body.utf8)
            r.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: r)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    /// Headless Chromium on `url` with `extra` flags; its status and output.
    static func chromium(_ daemon: Daemon, _ extra: [String], _ url: String, profile: String) throws -> (Int32, String) {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium") else {
            throw TestFailure("/usr/bin/chromium is not installed: scripts/install-deps installs chromium")
        }
        let common = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--user-data-dir=\(daemon.dir.appendingPathComponent(profile).path)", "--enable-logging=stderr", "--v=0",
            "--virtual-time-budget=15000", "--window-size=1280,2000",
        ]
        return try run("/usr/bin/chromium", common + extra + [url], timeout: 90)
    }

    static func screenshotPath(_ name: String) throws -> String {
        let dir = Paths.root.appendingPathComponent(".build/screenshots")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let shot = dir.appendingPathComponent(name)
        try? FileManager.default.removeItem(at: shot)
        return shot.path
    }

    static func body(_ dom: String) -> String { dom.range(of: "<body[^>]*>", options: .regularExpression).map { String(dom[$0]) } ?? "" }

    /// The sentra's today and the day `days` later, as local dates.
    static func today(_ daemon: Daemon, plus days: Int) async throws -> (String, String) {
        let sentra = try WireJSON.decode(SentraAnswer.self, from: try await send("GET", daemon.httpURL + "/api/v1/sentra", headers: auth).1)
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd"
        f.timeZone = TimeZone(identifier: "UTC")
        let later = f.date(from: sentra.today)!.addingTimeInterval(Double(days) * 86400)
        return (sentra.today, f.string(from: later))
    }

    static var auth: [String: String] { ["Authorization": "Bearer \(adminToken)"] }

    /// On an open (loopback) daemon: the printable pay page, the dashboard in both languages
    /// with an open order, and a craftsman's personal link, all in a real browser.
    @Test func pagesInHeadlessChromium() async throws {
        let (_, daemon) = try await Self.fedDaemon()
        let (today, due) = try await Self.today(daemon, plus: 7)
        try await payPage(daemon, today: today)

        // An order for Pak Anwar and Bu Siti, taken with sentractl.
        let (addStatus, addOut) = try daemon.ctl([
            "order", "add", "--product", "selendang-ikat", "--wanted", "12", "--due", due, "--craftsmen", "c-anwar,c-siti",
            "--title", "Motif Pucuk Rebung",
        ])
        #expect(addStatus == 0, "\(addOut)")
        try dashboard(daemon)
        try await personalLink(daemon)
        try await daemon.terminate()
    }

    func payPage(_ daemon: Daemon, today: String) async throws {
        let (status, json) = try await Self.send("GET", daemon.httpURL + "/api/v1/pay?from=\(today)&to=\(today)")
        #expect(status == 200, "\(json)")
        let pay = try WireJSON.decode(PayDocument.self, from: json)
        // No order yet: every piece at the default product's rate, Rp 55.000 (the example's sarung-ikat).
        let anwar = try #require(pay.craftsmen.first { $0.craftsman == "c-anwar" })
        let siti = try #require(pay.craftsmen.first { $0.craftsman == "c-siti" })
        #expect(anwar.pieces == 2 && anwar.amount == 110_000)
        #expect(siti.pieces == 4 && siti.amount == 220_000)

        // The page in Indonesian: each craftsman's amount as the JSON gives it, formatted here by hand.
        let url = daemon.httpURL + "/pay?from=\(today)&to=\(today)&lang=id"
        let (domStatus, dom) = try Self.chromium(daemon, ["--dump-dom"], url, profile: "admin")
        #expect(domStatus == 0, "\(dom)")
        for c in pay.craftsmen {
            #expect(dom.contains("data-craftsman=\"\(c.craftsman)\""), "\(c.craftsman)'s sheet")
            #expect(dom.contains(Self.rupiahID(c.amount)), "\(c.name): \(Self.rupiahID(c.amount))")
        }
        #expect(dom.contains("Slip upah borongan"))
        #expect(dom.contains("Rp 110.000") && dom.contains("Rp 220.000"))

        let pdf = daemon.dir.appendingPathComponent("pay.pdf").path
        let (pdfStatus, pdfOut) = try Self.chromium(daemon, ["--no-pdf-header-footer", "--print-to-pdf=\(pdf)"], url, profile: "admin")
        #expect(pdfStatus == 0, "\(pdfOut)")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: pdf))
        #expect(bytes.starts(with: Array("%PDF".utf8)), "not a PDF")
        let text = String(decoding: bytes, as: UTF8.self)
        let pages = try NSRegularExpression(pattern: #"/Type\s*/Page(?![s\w])"#)
            .numberOfMatches(in: text, range: NSRange(text.startIndex..., in: text))
        #expect(pages == pay.craftsmen.count, "one page per craftsman: \(pages) pages for \(pay.craftsmen.count)")

        let (shotStatus, shotOut) = try Self.chromium(
            daemon, ["--screenshot=\(try Self.screenshotPath("pay-page.png"))"], url, profile: "admin")
        #expect(shotStatus == 0, "\(shotOut)")
    }

    /// `--accept-lang=id` renders the dashboard in Indonesian, `en` in English, the open order's
    /// panel included.
    func dashboard(_ daemon: Daemon) throws {
        let words: [(String, [String], [String])] = [
            (
                "id",
                ["Produksi hari ini", "Pesanan berjalan", "Alat tenun", "Listrik dan air", "Motif Pucuk Rebung", "tenggat", "Penenun"],
                ["Production today", "Open orders"]
            ),
            (
                "en", ["Production today", "Open orders", "Looms", "Power and water", "Motif Pucuk Rebung", "due ", "Craftsman"],
                ["Produksi hari ini", "Pesanan berjalan"]
            ),
        ]
        for (lang, present, absent) in words {
            let (status, dom) = try Self.chromium(
                daemon, ["--accept-lang=\(lang)", "--dump-dom"], daemon.httpURL + "/", profile: "dash-\(lang)")
            #expect(status == 0, "\(dom)")
            let body = Self.body(dom)
            #expect(body.contains(#"data-state="ready""#), "\(lang): the page never became ready: \(body)")
            #expect(body.contains(#"data-errors="0""#), "\(lang): \(body)")
            #expect(dom.contains("<html lang=\"\(lang)\""), "\(lang)")
            for w in present { #expect(dom.contains(w), "\(lang): '\(w)' is not on the page") }
            for w in absent { #expect(!dom.contains(w), "\(lang): '\(w)' is on the page") }
            #expect(dom.contains(#"data-order="o-1""#))
            let console = dom.split(separator: "\n").filter { $0.contains(":CONSOLE") }
            #expect(console.isEmpty, "console messages: \(console.joined(separator: "\n"))")
        }
        let (shotStatus, shotOut) = try Self.chromium(
            daemon, ["--accept-lang=id", "--screenshot=\(try Self.screenshotPath("dashboard-id-order.png"))"], daemon.httpURL + "/",
            profile: "dash-id")
        #expect(shotStatus == 0, "\(shotOut)")
    }

    /// Pak Anwar's personal link: his page shows his name and numbers and nothing of anyone
    /// else; his token reaches only his own view; revoked, it reaches nothing.
    func personalLink(_ daemon: Daemon) async throws {
        let (unknownStatus, unknownOut) = try daemon.ctl(["access", "add", "--craftsman", "c-nobody"])
        #expect(unknownStatus == 1 && unknownOut.contains("c-nobody"), "\(unknownOut)")
        let (addStatus, addOut) = try daemon.ctl(["access", "add", "--craftsman", "c-anwar", "--label", "hp", "--base-url", daemon.httpURL])
        #expect(addStatus == 0, "\(addOut)")
        let field = { (name: String) in
            addOut.split(separator: "\n").first { $0.hasPrefix(name + ":") }.map {
                $0.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)
            } ?? ""
        }
        let (id, token, link) = (field("id"), field("token"), field("link"))
        #expect(token.count == 43 && link == daemon.httpURL + "/k/" + token, "\(addOut)")
        let (listStatus, list) = try daemon.ctl(["access", "list"])
        #expect(listStatus == 0 && list.contains(id) && list.contains("c-anwar") && !list.contains(token), "\(list)")

        let bearer = ["Authorization": "Bearer \(token)"]
        let (meStatus, meJSON) = try await Self.send("GET", daemon.httpURL + "/api/v1/me", headers: bearer)
        #expect(meStatus == 200, "\(meJSON)")
        let me = try WireJSON.decode(MeAnswer.self, from: meJSON)
        #expect(me.craftsman == "c-anwar" && me.name == "Pak Anwar" && me.today.pieces == 2)
        #expect(me.orders.map(\.title) == ["Motif Pucuk Rebung"])
        for other in Self.others { #expect(!meJSON.contains(other), "\(other) in /api/v1/me") }
        for path in ["/api/v1/production", "/api/v1/orders", "/metrics", "/api/v1/sentra", "/pay", "/api/v1/pay"] {
            #expect(try await Self.send("GET", daemon.httpURL + path, headers: bearer).0 == 403, "\(path)")
        }

        // His printable sheet: his pay only.
        let (sheetStatus, sheet) = try await Self.send("GET", daemon.httpURL + "/me/pay?lang=id", headers: bearer)
        #expect(sheetStatus == 200 && sheet.contains("Pak Anwar") && sheet.contains("Slip upah borongan"), "\(sheet)")
        #expect(sheet.components(separatedBy: #"<section class="sheet""#).count == 2)
        for other in Self.others { #expect(!sheet.contains(other), "\(other) in /me/pay") }

        let (status, dom) = try Self.chromium(daemon, ["--accept-lang=id", "--dump-dom"], link, profile: "anwar")
        #expect(status == 0, "\(dom)")
        #expect(Self.body(dom).contains(#"data-view="own""#) && Self.body(dom).contains(#"data-state="ready""#), "\(Self.body(dom))")
        #expect(dom.contains("Halo, Pak Anwar"), "\(dom.suffix(3000))")
        #expect(dom.contains("2 lembar hari ini") && dom.contains("Motif Pucuk Rebung") && dom.contains("loom-01"))
        for other in Self.others { #expect(!dom.contains(other), "\(other) is in his page") }
        let (shotStatus, shotOut) = try Self.chromium(
            daemon, ["--accept-lang=id", "--screenshot=\(try Self.screenshotPath("own-view.png"))"], link, profile: "anwar")
        #expect(shotStatus == 0, "\(shotOut)")

        let (revokeStatus, revokeOut) = try daemon.ctl(["access", "revoke", id])
        #expect(revokeStatus == 0, "\(revokeOut)")
        try await eventually("the revoked token to be refused") {
            [401, 403].contains(try await Self.send("GET", daemon.httpURL + "/api/v1/me", headers: bearer).0)
        }
        #expect(try daemon.ctl(["access", "revoke", "t-none"]).0 == 1)
    }

    /// With http.token_file: an order is taken, changed and closed over HTTP with the admin
    /// token, and a write without it is refused although the request comes from loopback.
    @Test func orderWritesOverHTTPNeedTheAdminToken() async throws {
        let (_, daemon) = try await Self.fedDaemon(adminToken: Self.adminToken)
        let (_, due) = try await Self.today(daemon, plus: 5)
        let order = #"{"product":"sarung-ikat","title":"Pucuk Rebung","wanted":10,"due":"\#(due)","craftsmen":["c-anwar"]}"#
        let (refused, _) = try await Self.send("POST", daemon.httpURL + "/api/v1/orders", body: order)
        #expect(refused == 401 || refused == 403)
        let (created, createdOut) = try await Self.send("POST", daemon.httpURL + "/api/v1/orders", headers: Self.auth, body: order)
        #expect(created == 201, "\(createdOut)")
        let doc = try WireJSON.decode(OrderDocument.self, from: createdOut)
        #expect(doc.wanted == 10 && doc.status == "open" && doc.looms.allSatisfy { $0.craftsman == "c-anwar" })
        let (changed, changedOut) = try await Self.send(
            "PATCH", daemon.httpURL + "/api/v1/orders/\(doc.id)", headers: Self.auth, body: #"{"wanted":25}"#)
        #expect(changed == 200, "\(changedOut)")
        var list = try WireJSON.decode(
            OrdersAnswer.self, from: try await Self.send("GET", daemon.httpURL + "/api/v1/orders", headers: Self.auth).1)
        #expect(list.orders.map(\.id) == [doc.id] && list.orders.first?.wanted == 25)
        #expect(try await Self.send("POST", daemon.httpURL + "/api/v1/orders/nope/close", headers: Self.auth).0 == 404)
        #expect(
            try await Self.send("PATCH", daemon.httpURL + "/api/v1/orders/\(doc.id)", headers: Self.auth, body: #"{"wanted":0}"#).0 == 400)
        let (closed, closedOut) = try await Self.send("POST", daemon.httpURL + "/api/v1/orders/\(doc.id)/close", headers: Self.auth)
        #expect(closed == 200, "\(closedOut)")
        list = try WireJSON.decode(
            OrdersAnswer.self, from: try await Self.send("GET", daemon.httpURL + "/api/v1/orders", headers: Self.auth).1)
        #expect(list.orders.isEmpty)
        let all = try WireJSON.decode(
            OrdersAnswer.self, from: try await Self.send("GET", daemon.httpURL + "/api/v1/orders?status=all", headers: Self.auth).1)
        #expect(all.orders.map(\.status) == ["closed"])
        try await daemon.terminate()
    }

    static func rupiahID(_ n: Int64) -> String {
        var digits = Array(String(n))
        var out = ""
        while digits.count > 3 {
            out = "." + String(digits.suffix(3)) + out
            digits.removeLast(3)
        }
        return "Rp " + String(digits) + out
    }
}
