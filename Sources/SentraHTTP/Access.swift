import Foundation
import HTTPTypes
import Hummingbird

/// Who may look: with a token configured, every request must carry it, as
/// `Authorization: Bearer TOKEN` (Prometheus, curl, `sentractl status`) or as the HttpOnly
/// cookie that the login form sets (a browser). Without it a request gets 401 and nothing
/// else; a browser asking for a page gets the login form with that 401.
public struct AccessPolicy: Sendable {
    public static let cookieName = "sentra_token"
    /// nil: open (the daemon listens on loopback and no token is configured).
    public let token: String?

    public init(token: String?) { self.token = token }

    public func allows(_ headers: HTTPFields) -> Bool {
        guard let token else { return true }
        if let auth = headers[.authorization], auth.count > 7, auth.prefix(7).lowercased() == "bearer " {
            return Self.constantTimeEquals(String(auth.dropFirst(7)).trimmingCharacters(in: .whitespaces), token)
        }
        for cookie in headers[values: .cookie] {
            for part in cookie.split(separator: ";") {
                let kv = part.trimmingCharacters(in: .whitespaces)
                if kv.hasPrefix(Self.cookieName + "="),
                    let value = String(kv.dropFirst(Self.cookieName.count + 1)).removingPercentEncoding,
                    Self.constantTimeEquals(value, token)
                {
                    return true
                }
            }
        }
        return false
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

/// Refuses requests the policy does not allow; `/login` is the one door left open.
struct AccessMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: AccessPolicy

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if policy.token == nil || request.uri.path == "/login" || policy.allows(request.headers) {
            return try await next(request, context)
        }
        if request.method == .get, request.headers[.accept]?.contains("text/html") == true {
            return LoginPage.response(status: .unauthorized, message: nil)
        }
        return Response(
            status: .unauthorized, headers: [.wwwAuthenticate: "Bearer realm=\"sentra\"", .contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: "401 unauthorized: send Authorization: Bearer TOKEN\n")))
    }
}

/// The one page served without a token: a form that trades the token for an HttpOnly cookie.
enum LoginPage {
    static func response(status: HTTPResponse.Status, message: String?) -> Response {
        let note = message.map { "<p class=\"err\">\($0)</p>" } ?? ""
        let html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <link rel="icon" href="data:,"><title>Sentra: sign in</title>
            <style>body{font:16px system-ui,sans-serif;max-width:22rem;margin:15vh auto;padding:0 1rem;color:#1d2530}
            input,button{font:inherit;width:100%;box-sizing:border-box;padding:.6rem;margin:.4rem 0}
            button{background:#1d5d8c;color:#fff;border:0;border-radius:4px}.err{color:#a01818}</style></head>
            <body><h1>Sentra</h1><p>This dashboard needs the access token.</p>\(note)
            <form method="post" action="login"><label for="token">Token</label>
            <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
            <button type="submit">Sign in</button></form></body></html>
            """
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer realm=\"sentra\"" }
        headers[HTTPField.Name("Content-Security-Policy")!] =
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
