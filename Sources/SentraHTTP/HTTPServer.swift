import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SentraCore
import SentraReadModel
import SentraStore
import SentraWire

/// The daemon's HTTP face: `/metrics`, `/api/v1/...` and the dashboard at `/`, read-only.
public enum HTTPServer {
    /// Routes and access control, without a listener (tests drive it in memory).
    public static func router(view: DaemonView, policy: AccessPolicy, logger: Logger) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: SecurityHeaders())
        router.add(middleware: AccessMiddleware(policy: policy))
        addDashboard(to: router)
        addMetrics(to: router, view: view)
        addAPI(to: router, view: view)
        addLogin(to: router, policy: policy, logger: logger)
        return router
    }

    static func addDashboard(to router: Router<BasicRequestContext>) {
        router.get("/") { _, _ in asset(PackageResources.index_html, "text/html; charset=utf-8") }
        router.get("/index.html") { _, _ in asset(PackageResources.index_html, "text/html; charset=utf-8") }
        router.get("/app.js") { _, _ in asset(PackageResources.app_js, "text/javascript; charset=utf-8") }
        router.get("/style.css") { _, _ in asset(PackageResources.style_css, "text/css; charset=utf-8") }
    }

    static func addMetrics(to router: Router<BasicRequestContext>, view: DaemonView) {
        router.get("/metrics") { _, _ in
            // Everything is read first (a failure is a 500), then written a family at a time.
            let scrape = try view.scrape()
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

    /// `/api/v1/...`: each handler returns its answer, a `SentraWire` value; `APIAnswer`
    /// encodes it.
    static func addAPI(to router: Router<BasicRequestContext>, view: DaemonView) {
        router.get("/api/v1/sentra") { _, _ in
            view.sentraAnswer().map { APIAnswer($0) } ?? APIAnswer(NotReadyAnswer(name: view.name))
        }
        router.get("/api/v1/status") { _, _ in APIAnswer(view.statusAnswer()) }
        router.get("/api/v1/alerts") { request, _ in
            let limit = request.uri.queryParameters.get("recent", as: Int.self) ?? 50
            return APIAnswer(view.alertsAnswer(recent: min(max(limit, 0), 1000)))
        }
        router.get("/api/v1/production") { request, _ in
            let q = request.uri.queryParameters
            let date = q.get("date")
            let by = q.get("by").map { ReportGrouping(rawValue: $0) } ?? .craftsman
            guard let by else { return APIAnswer(ErrorAnswer(error: "by must be one of: craftsman, loom, workshop"), status: .badRequest) }
            return try APIAnswer { try view.productionAnswer(from: q.get("from") ?? date, to: q.get("to") ?? date, by: by) }
        }
        router.get("/api/v1/production/usual") { request, _ in
            try APIAnswer { try view.usualAnswer(date: request.uri.queryParameters.get("date")) }
        }
    }

    static func addLogin(to router: Router<BasicRequestContext>, policy: AccessPolicy, logger: Logger) {
        router.get("/login") { _, _ in
            policy.token == nil ? redirect("./") : LoginPage.response(status: .ok, message: nil)
        }
        router.post("/login") { request, _ in
            let body = try await request.body.collect(upTo: 4096)
            guard let token = policy.token else { return redirect("./") }
            guard let given = AccessPolicy.formToken(String(buffer: body)), AccessPolicy.constantTimeEquals(given, token) else {
                logger.warning("HTTP login refused", metadata: ["http.path": "/login"])
                // Slows guessing down; the connection waits, the daemon does not.
                try await Task.sleep(for: .seconds(1))
                return LoginPage.response(status: .unauthorized, message: "That token is not right.")
            }
            var response = redirect("./")
            let value = token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? token
            response.headers[.setCookie] =
                "\(AccessPolicy.cookieName)=\(value); Path=/; HttpOnly; SameSite=Strict; Max-Age=2592000"
            return response
        }
        router.get("/logout") { _, _ in
            var response = redirect("login")
            response.headers[.setCookie] = "\(AccessPolicy.cookieName)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
            return response
        }
    }

    /// The application, listening on `host:port`; a `Service` for the daemon's service group.
    public static func application(
        view: DaemonView, host: String, port: Int, policy: AccessPolicy, logger: Logger
    ) -> some ApplicationProtocol {
        Application(
            router: router(view: view, policy: policy, logger: logger),
            configuration: .init(address: .hostname(host, port: port), serverName: "sentrad"), logger: logger)
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
    var body: any Encodable & Sendable
    var status: HTTPResponse.Status

    init(_ body: some Encodable & Sendable, status: HTTPResponse.Status = .ok) {
        self.body = body
        self.status = status
    }

    /// `answer()`'s value; a report's user error (a bad date) is a 400 and a daemon still
    /// loading a 503, each with `{"error": ...}`.
    init(_ answer: () throws -> some Encodable & Sendable) throws {
        do {
            self.init(try answer())
        } catch let e as ReportError {
            self.init(ErrorAnswer(error: e.description), status: .badRequest)
        } catch APIError.notReady {
            self.init(ErrorAnswer(error: APIError.notReady.description), status: .serviceUnavailable)
        }
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: try WireJSON.data(body))))
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
