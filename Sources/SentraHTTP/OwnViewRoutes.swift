import Foundation
import HTTPTypes
import Hummingbird
import SentraLocale
import SentraReadModel
import SentraWire

/// The dashboard in the page's language, its words, personal links and the own view
/// (docs/http.md, docs/access.md).
extension HTTPServer {
    static func addLocalisedDashboard(to router: Router<BasicRequestContext>, view: DaemonView, policy: AccessPolicy) {
        let page = String(decoding: PackageResources.index_html, as: UTF8.self)
        let index = { @Sendable (request: Request, _: BasicRequestContext) -> Response in
            let lang = PageLanguage.of(request, fallback: view.language)
            var html = HTMLText.fill(page, Catalogue.of(lang))
            // A personal link's page: the script draws his own view only.
            if policy.craftsman(request.headers) != nil, !policy.isAdmin(request.headers) {
                html = html.replacingOccurrences(of: "data-view=\"sentra\"", with: "data-view=\"own\"")
            }
            var r = asset(Array(html.utf8), "text/html; charset=utf-8")
            r.headers[.vary] = "Accept-Language, Cookie"
            return r
        }
        router.get("/", use: index)
        router.get("/index.html", use: index)
        router.get("/strings.json") { request, _ in APIAnswer(uiStrings(PageLanguage.of(request, fallback: view.language))) }
    }

    /// The catalogue's `ui.` keys in `language`.
    static func uiStrings(_ language: Language) -> StringsAnswer {
        StringsAnswer(
            language: language.rawValue, strings: Catalogue.of(language).entries.filter { $0.key.hasPrefix("ui.") })
    }

    static func addOwnView(to router: Router<BasicRequestContext>, view: DaemonView, policy: AccessPolicy, pool: ReadPool) {
        // A personal link: its token becomes the cookie, and the browser goes to the dashboard.
        router.get("/k/:token") { request, context in
            let lang = PageLanguage.of(request, fallback: view.language)
            guard let token = context.parameters.get("token"), policy.craftsmen?.craftsman(for: token) != nil else {
                return LoginPage.response(
                    status: .unauthorized, message: Catalogue.of(lang)["ui.login.link_revoked"], language: lang)
            }
            var r = redirect("../")
            r.headers[.setCookie] =
                "\(AccessPolicy.craftsmanCookieName)=\(token); Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000"
            return r
        }
        router.get("/api/v1/me") { request, _ in
            guard let id = policy.craftsman(request.headers) else {
                return APIAnswer(ErrorAnswer(error: "only a personal link has an own view: open /k/TOKEN"), status: .forbidden)
            }
            return await APIAnswer.encoded(on: pool) { try WireJSON.data(view.meAnswer(craftsman: id)) }
        }
    }
}
