import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SentraCore
import SentraReadModel
import SentraStore

/// The daemon's HTTP face: `/metrics`, `/api/v1/...` and the dashboard at `/`, read-only.
public enum HTTPServer {
    /// Routes and access control, without a listener (tests drive it in memory).
    public static func router(view: DaemonView, policy: AccessPolicy, logger: Logger) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: SecurityHeaders())
        router.add(middleware: AccessMiddleware(policy: policy))

        router.get("/") { _, _ in asset(PackageResources.index_html, "text/html; charset=utf-8") }
        router.get("/index.html") { _, _ in asset(PackageResources.index_html, "text/html; charset=utf-8") }
        router.get("/app.js") { _, _ in asset(PackageResources.app_js, "text/javascript; charset=utf-8") }
        router.get("/style.css") { _, _ in asset(PackageResources.style_css, "text/css; charset=utf-8") }

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
        router.get("/api/v1/sentra") { _, _ in json(view.sentraJSON()) }
        router.get("/api/v1/status") { _, _ in json(view.statusJSON()) }
        router.get("/api/v1/alerts") { request, _ in
            let limit = request.uri.queryParameters.get("recent", as: Int.self) ?? 50
            return json(view.alertsJSON(recent: min(max(limit, 0), 1000)))
        }
        router.get("/api/v1/production") { request, _ in
            let q = request.uri.queryParameters
            let date = q.get("date")
            let by = q.get("by").map { ReportGrouping(rawValue: $0) } ?? .craftsman
            guard let by else { return badRequest("by must be one of: craftsman, loom, workshop") }
            return try answer { try view.productionJSON(from: q.get("from") ?? date, to: q.get("to") ?? date, by: by) }
        }
        router.get("/api/v1/production/usual") { request, _ in
            try answer { try view.usualJSON(date: request.uri.queryParameters.get("date")) }
        }

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
        return router
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

    static func text(_ s: String, _ type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "no-store"], body: .init(byteBuffer: ByteBuffer(string: s)))
    }

    static func json(_ s: String) -> Response { text(s, "application/json; charset=utf-8") }

    static func badRequest(_ message: String) -> Response {
        Response(
            status: .badRequest, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: JSONText.object([("error", JSONText.string(message))]) + "\n")))
    }

    /// A report's user errors (a bad date) are 400s; a daemon still loading is a 503.
    static func answer(_ body: () throws -> String) throws -> Response {
        do {
            return json(try body())
        } catch let e as ReportError {
            return badRequest(e.description)
        } catch APIError.notReady {
            var r = badRequest(APIError.notReady.description)
            r.status = .serviceUnavailable
            return r
        }
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
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
