import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import SentraCore
import SentraLocale
import SentraReadModel
import SentraStore
import SentraWire

/// The daemon's HTTP face: `/metrics`, `/api/v1/...`, the dashboard at `/`, the pay pages and
/// personal links; its only writes are the orders', with the admin token.
public enum HTTPServer {
    /// Routes and access control, without a listener (tests drive it in memory). Answers
    /// that read the state database or the alert log run on `pool`'s threads.
    public static func router(
        view: DaemonView, policy: AccessPolicy, logger: Logger, pool: ReadPool = .shared
    ) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: SecurityHeaders())
        router.add(middleware: AccessMiddleware(policy: policy, language: { view.language }))
        addDashboard(to: router)
        addLocalisedDashboard(to: router, view: view, policy: policy)
        addOwnView(to: router, view: view, policy: policy, pool: pool)
        addOrders(to: router, view: view, policy: policy, pool: pool)
        addPay(to: router, view: view, policy: policy, pool: pool)
        addMetrics(to: router, view: view, pool: pool)
        addAPI(to: router, view: view, pool: pool)
        addLogin(to: router, view: view, policy: policy, logger: logger)
        return router
    }

    static func addDashboard(to router: Router<BasicRequestContext>) {
        router.get("/app.js") { _, _ in asset(PackageResources.app_js, "text/javascript; charset=utf-8") }
        router.get("/style.css") { _, _ in asset(PackageResources.style_css, "text/css; charset=utf-8") }
    }

    static func addMetrics(to router: Router<BasicRequestContext>, view: DaemonView, pool: ReadPool) {
        router.get("/metrics") { _, _ in
            // Everything is read first, on the pool (a failure is a 500), then written a family at a time.
            let scrape: MetricsScrape
            do {
                scrape = try await pool.run { try view.scrape() }
            } catch let busy as ReadPool.Busy {
                return Response(
                    status: .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8", .retryAfter: "1"],
                    body: .init(byteBuffer: ByteBuffer(string: "503 \(busy)\n")))
            }
            return Response(
                status: .ok,
                // The text format every Prometheus version scrapes (0.0.4).
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody { writer in
                    try await view.writeMetrics(scrape) { try await writer.write(ByteBuffer(string: $0)) }
                    try await writer.finish(nil)
                })
        }
    }

    /// `/api/v1/...`: each handler parses its query (`APIQuery`, a 400 naming the parameter),
    /// then returns its answer, a `SentraWire` value that `APIAnswer` encodes. Answers that read
    /// the database or the alert log are computed and encoded on `pool`.
    static func addAPI(to router: Router<BasicRequestContext>, view: DaemonView, pool: ReadPool) {
        // Megabytes for a large sentra: built and encoded on the pool too.
        router.get("/api/v1/sentra") { request, _ in
            await APIAnswer.onJSON(pool, { () throws(APIQueryError) in try APIQuery.sentra(items(request)) }) { q in
                try view.sentraAnswer(q).map { try WireJSON.data($0) } ?? WireJSON.data(NotReadyAnswer(name: view.name))
            }
        }
        router.get("/api/v1/status") { _, _ in APIAnswer(view.statusAnswer()) }
        router.get("/api/v1/alerts") { request, _ in
            await APIAnswer.on(pool, { () throws(APIQueryError) in try APIQuery.alerts(items(request)) }) {
                view.alertsAnswer(recent: $0.recent)
            }
        }
        router.get("/api/v1/production") { request, _ in
            await APIAnswer.on(pool, { () throws(APIQueryError) in try APIQuery.production(items(request)) }) {
                try view.productionAnswer($0)
            }
        }
        router.get("/api/v1/production/usual") { request, _ in
            await APIAnswer.onJSON(pool, { () throws(APIQueryError) in try APIQuery.usual(items(request)) }) { q in
                let full = try view.usualAnswer(q)
                return q.view == .summary ? try WireJSON.data(UsualSummaryAnswer(full)) : try WireJSON.data(full)
            }
        }
    }

    /// The request's query items, values decoded, in their order.
    static func items(_ request: Request) -> [(name: String, value: String)] {
        request.uri.queryParameters.map { (name: String($0.key), value: String($0.value)) }
    }

    static func addLogin(to router: Router<BasicRequestContext>, view: DaemonView, policy: AccessPolicy, logger: Logger) {
        router.get("/login") { request, _ in
            policy.token == nil
                ? redirect("./")
                : LoginPage.response(status: .ok, message: nil, language: PageLanguage.of(request, fallback: view.language))
        }
        router.post("/login") { request, _ in
            let body = try await request.body.collect(upTo: 4096)
            guard let token = policy.token else { return redirect("./") }
            guard let given = AccessPolicy.formToken(String(buffer: body)), AccessPolicy.constantTimeEquals(given, token) else {
                logger.warning("HTTP login refused", metadata: ["http.path": "/login"])
                // Slows guessing down; the connection waits, the daemon does not.
                try await Task.sleep(for: .seconds(1))
                let lang = PageLanguage.of(request, fallback: view.language)
                return LoginPage.response(status: .unauthorized, message: Catalogue.of(lang)["ui.login.wrong_token"], language: lang)
            }
            var response = redirect("./")
            let value = token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? token
            response.headers[.setCookie] =
                "\(AccessPolicy.cookieName)=\(value); Path=/; HttpOnly; SameSite=Strict; Max-Age=2592000"
            return response
        }
        router.get("/logout") { _, _ in
            var response = redirect("login")
            response.headers[values: .setCookie] = [
                "\(AccessPolicy.cookieName)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
                "\(AccessPolicy.craftsmanCookieName)=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0",
            ]
            return response
        }
    }

    /// The application, listening on `host:port`; a `Service` for the daemon's service group.
    /// `onServerRunning` runs once the listener accepts connections (the daemon's READY=1).
    public static func application(
        view: DaemonView, host: String, port: Int, policy: AccessPolicy, logger: Logger, limits: HTTPLimits = .init(),
        pool: ReadPool = .shared, onServerRunning: @escaping @Sendable () async -> Void = {}
    ) -> some ApplicationProtocol {
        Application(
            router: router(view: view, policy: policy, logger: logger, pool: pool),
            server: .http1(configuration: limits.channelConfiguration()),
            configuration: .init(
                address: .hostname(host, port: port), serverName: "sentrad",
                availableConnectionsDelegate: MaximumAvailableConnections(limits.maxConnections, logger: logger)),
            onServerRunning: { _ in await onServerRunning() }, logger: logger)
    }

    static func asset(_ bytes: [UInt8], _ type: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: type, .cacheControl: "no-cache"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }
}

/// An answer of `/api/v1/...` with its status: the one place the API's answers become JSON
/// (`WireJSON`'s layout).
struct APIAnswer: ResponseGenerator {
    var bytes: Result<[UInt8], any Error>
    var status: HTTPResponse.Status

    init(_ body: some Encodable & Sendable, status: HTTPResponse.Status = .ok) {
        self.bytes = Result { Array(try WireJSON.data(body)) }
        self.status = status
    }

    init(encoded: Data, status: HTTPResponse.Status = .ok) {
        self.bytes = .success(Array(encoded))
        self.status = status
    }

    /// The answer to `query()` (parsed here: a query the API cannot take is a 400 naming the
    /// parameter), computed and encoded on `pool`; a daemon still loading, or too busy, is a
    /// 503, something the query names that the sentra lacks a 404 naming the parameter, and a
    /// failure to read a 500; each with `{"error": ...}`.
    static func on<Query: Sendable>(
        _ pool: ReadPool, _ query: () throws(APIQueryError) -> Query,
        _ answer: @escaping @Sendable (Query) throws -> some Encodable & Sendable
    ) async -> APIAnswer {
        await onJSON(pool, query) { try WireJSON.data(answer($0)) }
    }

    /// As `on(_:_:_:)`, `answer` giving the JSON itself.
    static func onJSON<Query: Sendable>(
        _ pool: ReadPool, _ query: () throws(APIQueryError) -> Query, _ answer: @escaping @Sendable (Query) throws -> Data
    ) async -> APIAnswer {
        let q: Query
        do {
            q = try query()
        } catch {
            return APIAnswer(ErrorAnswer(error: error.message, parameter: error.parameter), status: .badRequest)
        }
        return await encoded(on: pool) { try answer(q) }
    }

    /// The JSON `answer()` makes on `pool`; a daemon still loading, or too busy, is a 503,
    /// something missing a 404 and a failure to read a 500.
    static func encoded(on pool: ReadPool, _ answer: @escaping @Sendable () throws -> Data) async -> APIAnswer {
        do {
            return APIAnswer(encoded: try await pool.run(answer))
        } catch {
            return failure(error)
        }
    }

    /// The answer for what stood in the way: a daemon still loading, or too busy, is a 503,
    /// something missing a 404, a value that is wrong a 400, and a failure to read a 500.
    static func failure(_ error: any Error) -> APIAnswer {
        do {
            throw error
        } catch let e as BadRequest {
            return APIAnswer(ErrorAnswer(error: e.message, parameter: e.parameter), status: .badRequest)
        } catch APIError.notFound(let e) {
            return APIAnswer(ErrorAnswer(error: e.message, parameter: e.parameter), status: .notFound)
        } catch APIError.notReady {
            return APIAnswer(ErrorAnswer(error: APIError.notReady.description), status: .serviceUnavailable)
        } catch let e as ReadPool.Busy {
            return APIAnswer(ErrorAnswer(error: e.description), status: .serviceUnavailable)
        } catch {
            return APIAnswer(ErrorAnswer(error: "reading the answer failed: \(error)"), status: .internalServerError)
        }
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"]
        if status == .serviceUnavailable { headers[.retryAfter] = "1" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try bytes.get())))
    }
}

/// Headers every answer carries: the page loads only its own files and is never framed.
struct SecurityHeaders<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var r = try await next(request, context)
        r.headers[.xContentTypeOptions] = "nosniff"
        r.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        if r.headers[HTTPField.Name("Content-Security-Policy")!] == nil {
            r.headers[HTTPField.Name("Content-Security-Policy")!] =
                "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
                + "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
        }
        return r
    }
}
