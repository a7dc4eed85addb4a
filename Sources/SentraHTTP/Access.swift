import Foundation
import HTTPTypes
import Hummingbird
import SentraLocale
import SentraWire

/// Who may look: with a token configured, every request must carry it, as
/// `Authorization: Bearer TOKEN` (Prometheus, curl, `sentractl status`) or as the HttpOnly
/// cookie that the login form sets (a browser). Without it a request gets 401 and nothing
/// else; a browser asking for a page gets the login form with that 401.
///
/// A craftsman's personal link (`/k/TOKEN`, docs/access.md) sets another cookie,
/// `sentra_craftsman`; a request carrying a valid one (or that token as the bearer) reaches his
/// own view only (`CraftsmanScope`), whatever else is configured.
public struct AccessPolicy: Sendable {
    public static let cookieName = "sentra_token"
    public static let craftsmanCookieName = "sentra_craftsman"
    /// nil: open (the daemon listens on loopback and no token is configured).
    public let token: String?
    /// The personal links' tokens; nil: none are honoured.
    public let craftsmen: CraftsmanTokens?

    public init(token: String?, craftsmen: CraftsmanTokens? = nil) {
        self.token = token
        self.craftsmen = craftsmen
    }

    /// The request carries the configured admin token.
    public func isAdmin(_ headers: HTTPFields) -> Bool { token != nil && allows(headers) }

    /// The craftsman whose valid personal-link token the request carries (cookie or bearer).
    public func craftsman(_ headers: HTTPFields) -> String? {
        guard let craftsmen else { return nil }
        if let bearer = Self.bearer(headers), let c = craftsmen.craftsman(for: bearer) { return c }
        if let cookie = Self.cookie(Self.craftsmanCookieName, headers) { return craftsmen.craftsman(for: cookie) }
        return nil
    }

    /// The request carries a personal-link cookie (valid or not).
    func carriesCraftsmanCookie(_ headers: HTTPFields) -> Bool { Self.cookie(Self.craftsmanCookieName, headers) != nil }

    static func bearer(_ headers: HTTPFields) -> String? {
        guard let auth = headers[.authorization], auth.count > 7, auth.prefix(7).lowercased() == "bearer " else { return nil }
        return String(auth.dropFirst(7)).trimmingCharacters(in: .whitespaces)
    }

    /// The first value of cookie `name`.
    static func cookie(_ name: String, _ headers: HTTPFields) -> String? { cookies(name, headers).first }

    /// Every value of cookie `name`, percent-decoded, in the order sent.
    static func cookies(_ name: String, _ headers: HTTPFields) -> [String] {
        headers[values: .cookie].flatMap { $0.split(separator: ";") }.compactMap { part in
            let kv = part.trimmingCharacters(in: .whitespaces)
            return kv.hasPrefix(name + "=") ? String(kv.dropFirst(name.count + 1)).removingPercentEncoding : nil
        }
    }

    public func allows(_ headers: HTTPFields) -> Bool {
        guard let token else { return true }
        if let bearer = Self.bearer(headers) { return Self.constantTimeEquals(bearer, token) }
        return Self.cookies(Self.cookieName, headers).contains { Self.constantTimeEquals($0, token) }
    }

    /// Compares without an early exit, so the time taken does not tell how much matched.
    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        var diff = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) { diff |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0) }
        return diff == 0
    }

    /// The `token` field of an `application/x-www-form-urlencoded` body.
    static func formToken(_ body: String) -> String? {
        for pair in body.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard kv.count == 2, kv[0] == "token" else { continue }
            return String(kv[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
        }
        return nil
    }
}

/// Refuses requests the policy does not allow; `/login` and `/k/...` are the doors left open.
/// A personal link's request reaches only `CraftsmanScope`'s paths (else 403); a stale
/// personal-link cookie (revoked) is a 401 that clears it.
struct AccessMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: AccessPolicy
    let language: @Sendable () -> Language

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if path == "/login" || path.hasPrefix("/k/") || policy.isAdmin(request.headers) {
            return try await next(request, context)
        }
        if policy.craftsman(request.headers) != nil {
            if CraftsmanScope.allows(path) { return try await next(request, context) }
            return Self.json(.forbidden, "a personal link reaches only its own view")
        }
        let lang = PageLanguage.of(request, fallback: language())
        if policy.carriesCraftsmanCookie(request.headers) {
            var r =
                wantsPage(request)
                ? LoginPage.response(status: .unauthorized, message: Catalogue.of(lang)["ui.login.link_revoked"], language: lang)
                : Self.json(.unauthorized, "this personal link is no longer valid")
            r.headers[.setCookie] = "\(AccessPolicy.craftsmanCookieName)=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
            return r
        }
        if policy.token == nil { return try await next(request, context) }
        if wantsPage(request) {
            return LoginPage.response(status: .unauthorized, message: nil, language: lang)
        }
        return Response(
            status: .unauthorized, headers: [.wwwAuthenticate: "Bearer realm=\"sentra\"", .contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: "401 unauthorized: send Authorization: Bearer TOKEN\n")))
    }

    func wantsPage(_ request: Request) -> Bool {
        request.method == .get && request.headers[.accept]?.contains("text/html") == true
    }

    static func json(_ status: HTTPResponse.Status, _ message: String) -> Response {
        let body = (try? WireJSON.data(ErrorAnswer(error: message))) ?? Data()
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: Array(body))))
    }
}

/// What a personal link may reach: the dashboard's files, its words, his own view and his
/// printable pay sheet, and the way out.
enum CraftsmanScope {
    static let paths: Set<String> = [
        "/", "/index.html", "/app.js", "/style.css", "/strings.json", "/api/v1/me", "/me/pay", "/logout",
    ]
    static func allows(_ path: String) -> Bool { paths.contains(path) }
}

/// The one page served without a token: a form that trades the token for an HttpOnly cookie.
enum LoginPage {
    static func response(status: HTTPResponse.Status, message: String?, language: Language) -> Response {
        let t = Catalogue.of(language)
        let e = { (key: String) in HTMLText.escape(t[key]) }
        let note = message.map { "<p class=\"err\">\(HTMLText.escape($0))</p>" } ?? ""
        let html = """
            <!doctype html>
            <html lang="\(language.rawValue)"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <link rel="icon" href="data:,"><title>\(e("ui.login.title"))</title>
            <style>body{font:16px system-ui,sans-serif;max-width:22rem;margin:15vh auto;padding:0 1rem;color:#1d2530}
            input,button{font:inherit;width:100%;box-sizing:border-box;padding:.6rem;margin:.4rem 0}
            button{background:#1d5d8c;color:#fff;border:0;border-radius:4px}.err{color:#a01818}</style></head>
            <body><h1>Sentra</h1><p>\(e("ui.login.needs_token"))</p>\(note)
            <form method="post" action="login"><label for="token">\(e("ui.login.token"))</label>
            <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
            <button type="submit">\(e("ui.login.sign_in"))</button></form></body></html>
            """
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer realm=\"sentra\"" }
        headers[HTTPField.Name("Content-Security-Policy")!] =
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
