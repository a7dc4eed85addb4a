import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SentraReadModel
import SentraStore
import SentraWire
import Testing

@testable import SentraHTTP

/// The API's query parameters, parsed without a server: every bad input is refused with the
/// parameter to blame; the limits (the years 2000 to 2199, 366 days) hold exactly at their edges.
@Suite struct APIQueryTests {
    func items(_ query: String) -> [(name: String, value: String)] {
        query.split(separator: "&").map { pair in
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (name: String(kv[0]), value: kv.count > 1 ? String(kv[1]) : "")
        }
    }

    func productionError(_ query: String) -> APIQueryError? {
        do {
            _ = try APIQuery.production(items(query))
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: [
        ("date=2026-02-30", "date"), ("date=0000-01-01", "date"), ("date=9999-12-31", "date"), ("date=1999-12-31", "date"),
        ("date=2200-01-01", "date"), ("date=", "date"), ("date=2026-1-5", "date"), ("date=+026-01-05", "date"),
        ("date=2026-01-05T00:00", "date"), ("date=２０２６-01-05", "date"), ("date=2026-01-05&date=2026-01-06", "date"),
        ("date=2026-01-05&from=2026-01-01", "date"), ("from=0001-01-01&to=9998-12-31", "from"),
        ("from=2026-01-01&to=9998-12-31", "to"), ("from=2026-03-01&to=2026-02-01", "to"), ("from=2025-01-01&to=2026-01-02", "to"),
        ("from=2026-13-01", "from"), ("to=2026-00-10", "to"), ("by=person", "by"), ("by=", "by"), ("by=Loom", "by"),
        ("by=loom&by=loom", "by"),
    ])
    func aBadProductionQueryNamesItsParameter(query: String, parameter: String) {
        let e = productionError(query)
        #expect(e?.parameter == parameter, "\(query): \(String(describing: e))")
        #expect(e?.message.isEmpty == false)
    }

    @Test func theMessagesSayWhatIsWrong() {
        #expect(productionError("date=0001-01-01")?.message == "date 0001-01-01 lies outside the years 2000 to 2199")
        #expect(productionError("date=2026-02-30")?.message == "date '2026-02-30' is not a date: expected YYYY-MM-DD, a day that exists")
        #expect(productionError("from=2026-03-01&to=2026-02-01")?.message == "from 2026-03-01 is after to 2026-02-01")
        #expect(
            productionError("from=2025-01-01&to=2026-01-02")?.message
                == "from 2025-01-01 and to 2026-01-02 span 367 days; at most 366 are allowed")
        #expect(productionError("by=person")?.message == "by 'person' is not one of: craftsman, loom, workshop")
    }

    @Test func theEdgesAreAccepted() throws {
        let first = try APIQuery.production(items("date=2000-01-01"))
        #expect(first.days?.from == "2000-01-01" && first.days?.to == "2000-01-01")
        let last = try APIQuery.production(items("date=2199-12-31&by=workshop"))
        #expect(last.days?.to == "2199-12-31" && last.by == .workshop)
        // 2024 is a leap year: 2024-01-01 through 2024-12-31 is 366 days, the most.
        let year = try APIQuery.production(items("from=2024-01-01&to=2024-12-31&by=loom"))
        #expect(year.days?.days == 366 && year.by == .loom)
        #expect(productionError("from=2024-01-01&to=2025-01-01")?.parameter == "to")
        let leapDay = try APIQuery.production(items("date=2024-02-29"))
        #expect(leapDay.days?.firstDay == 19782)
    }

    @Test func defaultsAndOneEndAlone() throws {
        let none = try APIQuery.production([])
        #expect(none.days == nil && none.by == .craftsman)
        // Parameters the endpoint does not know are left alone (a cache buster, say).
        #expect(try APIQuery.production(items("_=1700000000&x=y")).days == nil)
        let fromOnly = try APIQuery.production(items("from=2026-11-24"))
        #expect(fromOnly.days?.from == "2026-11-24" && fromOnly.days?.to == "2026-11-24")
        let toOnly = try APIQuery.production(items("to=2026-11-25"))
        #expect(toOnly.days?.from == "2026-11-25" && toOnly.days?.days == 1)
        #expect(productionError("to=1999-01-01")?.parameter == "to")
    }

    @Test func usualTakesOneRealDay() throws {
        #expect(try APIQuery.usual([]).day == nil)
        #expect(try APIQuery.usual(items("date=2199-12-31")).day?.from == "2199-12-31")
        for bad in ["date=0000-01-01", "date=9999-12-31", "date=2026-02-29", "date=x", "date=2026-01-01&date=2026-01-01"] {
            #expect(throws: APIQueryError.self, "\(bad)") { try APIQuery.usual(items(bad)) }
            do {
                _ = try APIQuery.usual(items(bad))
            } catch {
                #expect(error.parameter == "date", "\(bad)")
            }
        }
    }

    /// The parameter a query is refused for, nil when it is taken.
    func refused<T>(_ parse: ([(name: String, value: String)]) throws(APIQueryError) -> T, _ query: String) -> APIQueryError? {
        do {
            _ = try parse(items(query))
            return nil
        } catch {
            return error
        }
    }

    @Test func sentraTakesAViewAndOneWorkshop() throws {
        #expect(try APIQuery.sentra([]) == SentraQuery(view: .full, workshop: nil))
        #expect(try APIQuery.sentra(items("view=summary")) == SentraQuery(view: .summary))
        #expect(try APIQuery.sentra(items("view=full")) == SentraQuery(view: .full))
        #expect(try APIQuery.sentra(items("workshop=ws-1")) == SentraQuery(view: .full, workshop: "ws-1"))
        #expect(try APIQuery.sentra(items("workshop=ws 1&view=summary&_=17&date=x")) == SentraQuery(view: .summary, workshop: "ws 1"))
        for (bad, parameter) in [
            ("view=Summary", "view"), ("view=", "view"), ("view=all", "view"), ("view=summary&view=full", "view"),
            ("workshop=", "workshop"), ("workshop=a&workshop=a", "workshop"), ("view=summary&workshop=", "workshop"),
        ] {
            #expect(refused(APIQuery.sentra, bad)?.parameter == parameter, "\(bad)")
        }
        #expect(refused(APIQuery.sentra, "view=all")?.message == "view 'all' is not one of: full, summary")
        #expect(refused(APIQuery.sentra, "workshop=")?.message == "workshop is empty: give an id")
    }

    @Test func usualAndProductionTakeAViewAndOneCraftsman() throws {
        let none = try APIQuery.usual([])
        #expect(none.view == .full && none.craftsman == nil && none.day == nil)
        let one = try APIQuery.usual(items("craftsman=c-anwar&date=2026-01-05&view=summary"))
        #expect(one.craftsman == "c-anwar" && one.day?.from == "2026-01-05" && one.view == .summary)
        #expect(try APIQuery.usual(items("craftsman=c-anwar")).view == .full)
        for (bad, parameter) in [
            ("view=hours", "view"), ("view=", "view"), ("craftsman=", "craftsman"), ("craftsman=a&craftsman=b", "craftsman"),
            ("craftsman=a&date=2026-02-30", "date"),
        ] {
            #expect(refused(APIQuery.usual, bad)?.parameter == parameter, "\(bad)")
        }
        let p = try APIQuery.production(items("craftsman=c-siti&date=2026-01-05&by=loom"))
        #expect(p.craftsman == "c-siti" && p.days?.from == "2026-01-05" && p.by == .loom)
        #expect(try APIQuery.production(items("from=2026-01-01&to=2026-01-31")).craftsman == nil)
        // `view` is not production's: ignored, as any parameter an endpoint does not know.
        #expect(try APIQuery.production(items("view=whatever&craftsman=c-1")).craftsman == "c-1")
        for (bad, parameter) in [("craftsman=", "craftsman"), ("craftsman=a&craftsman=a", "craftsman"), ("craftsman=a&by=x", "by")] {
            #expect(refused(APIQuery.production, bad)?.parameter == parameter, "\(bad)")
        }
    }

    @Test func recentIsAWholeNumberOfZeroOrMore() throws {
        #expect(try APIQuery.alerts([]).recent == 50)
        #expect(try APIQuery.alerts(items("recent=0")).recent == 0)
        #expect(try APIQuery.alerts(items("recent=7")).recent == 7)
        #expect(try APIQuery.alerts(items("recent=1000")).recent == 1000)
        #expect(try APIQuery.alerts(items("recent=1001")).recent == 1000)
        #expect(try APIQuery.alerts(items("recent=99999999999999999999999")).recent == 1000)
        for bad in ["recent=-1", "recent=", "recent=1.5", "recent=abc", "recent=+3", "recent= 3", "recent=0x10", "recent=1&recent=2"] {
            do {
                _ = try APIQuery.alerts(items(bad))
                Issue.record("\(bad) was accepted")
            } catch {
                #expect(error.parameter == "recent", "\(bad)")
            }
        }
    }
}

/// The same rules through the router: a 400 with `{"error", "parameter"}` for each endpoint.
@Suite struct APIQueryAnswerTests {
    @Test func badQueriesAre400WithTheParameter() async throws {
        let app = Application(
            router: HTTPServer.router(view: try emptyView(), policy: AccessPolicy(token: nil), logger: Logger(label: "test")))
        try await app.test(.router) { client in
            let cases = [
                ("/api/v1/production?date=0000-01-01", "date"), ("/api/v1/production?from=0001-01-01&to=9998-12-31", "from"),
                ("/api/v1/production?from=2026-01-01&to=2027-01-02", "to"), ("/api/v1/production?by=nobody", "by"),
                ("/api/v1/production/usual?date=9999-12-31", "date"), ("/api/v1/alerts?recent=-1", "recent"),
                ("/api/v1/alerts?recent=many", "recent"), ("/api/v1/sentra?view=everything", "view"),
                ("/api/v1/sentra?workshop=", "workshop"), ("/api/v1/production/usual?view=brief", "view"),
                ("/api/v1/production/usual?craftsman=", "craftsman"), ("/api/v1/production?craftsman=", "craftsman"),
            ]
            for (uri, parameter) in cases {
                try await client.execute(uri: uri, method: .get) { r in
                    #expect(r.status == .badRequest, "\(uri)")
                    #expect(r.headers[.contentType] == "application/json; charset=utf-8")
                    let body = try WireJSON.decode(ErrorAnswer.self, from: String(buffer: r.body))
                    #expect(body.parameter == parameter, "\(uri)")
                    #expect(!body.error.isEmpty)
                }
            }
            // A good query of an empty daemon: still loading, so 503 without a parameter.
            try await client.execute(uri: "/api/v1/production?from=2024-01-01&to=2024-12-31", method: .get) { r in
                #expect(r.status == .serviceUnavailable)
                #expect(r.headers[.retryAfter] == "1")
                let body = try WireJSON.decode(ErrorAnswer.self, from: String(buffer: r.body))
                #expect(body.parameter == nil)
            }
            try await client.execute(uri: "/api/v1/alerts?recent=3", method: .get) { r in #expect(r.status == .ok) }
        }
    }
}

/// A full read pool turns heavy requests away at once: 503, `Retry-After`, a JSON error.
@Suite struct BusyTests {
    @Test func aFullPoolAnswers503WithoutWaiting() async throws {
        let pool = ReadPool(threads: 1, waiting: 0)
        let gate = ReadPoolTests.Gate()
        let holder = Task { try await pool.run { gate.semaphore.wait() } }
        let deadline = Date().addingTimeInterval(10)
        while pool.running == 0, Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        let router = HTTPServer.router(view: try emptyView(), policy: AccessPolicy(token: nil), logger: Logger(label: "test"), pool: pool)
        try await Application(router: router).test(.router) { client in
            for uri in ["/api/v1/alerts", "/api/v1/production", "/api/v1/production/usual", "/api/v1/sentra"] {
                try await client.execute(uri: uri, method: .get) { r in
                    #expect(r.status == .serviceUnavailable, "\(uri)")
                    #expect(r.headers[.retryAfter] == "1")
                    let body = try WireJSON.decode(ErrorAnswer.self, from: String(buffer: r.body))
                    #expect(body.error.contains("busy"), "\(uri)")
                }
            }
            try await client.execute(uri: "/metrics", method: .get) { r in #expect(r.status == .serviceUnavailable) }
            // A bad query is still a 400: it is checked before the pool is asked.
            try await client.execute(uri: "/api/v1/alerts?recent=-5", method: .get) { r in #expect(r.status == .badRequest) }
        }
        gate.semaphore.signal()
        try await holder.value
    }
}

/// The read pool: runs work off the caller's thread, at most `threads` at once, and refuses
/// past its queue.
@Suite struct ReadPoolTests {
    final class Gate: @unchecked Sendable {
        let semaphore = DispatchSemaphore(value: 0)
    }

    @Test func runsOnItsOwnThreadsAndRefusesPastTheQueue() async throws {
        let pool = ReadPool(threads: 2, waiting: 3)
        #expect(!ReadPool.onPoolThread)
        #expect(try await pool.run { ReadPool.onPoolThread })
        let gate = Gate()
        // 2 running and 3 waiting fill it; the sixth is refused at once.
        let held = (0..<5).map { i in
            Task {
                try await pool.run {
                    gate.semaphore.wait(); return i
                }
            }
        }
        try await eventuallyTrue { pool.queued == 3 }
        await #expect(throws: ReadPool.Busy.self) { try await pool.run { 0 } }
        for _ in 0..<5 { gate.semaphore.signal() }
        var sum = 0
        for t in held { sum += try await t.value }
        #expect(sum == 0 + 1 + 2 + 3 + 4)
        #expect(try await pool.run { 42 } == 42)
        struct Failure: Error {}
        await #expect(throws: Failure.self) { try await pool.run { throw Failure() } }
    }

    struct TimedOut: Error {}

    func eventuallyTrue(_ condition: () -> Bool) async throws {
        let deadline = Date().addingTimeInterval(10)
        while !condition() {
            guard Date() < deadline else { throw TimedOut() }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
