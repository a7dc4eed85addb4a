import Foundation
import HTTPTypes
import Hummingbird
import SentraCoop
import SentraLocale
import SentraReadModel
import SentraStore
import SentraWire

/// Orders and pay over HTTP (docs/http.md): reads for whoever may look, writes only with the
/// configured admin token, also on loopback.
extension HTTPServer {
    /// The largest order request or change body taken.
    static let maxOrderBody = 64 * 1024

    static func addOrders(to router: Router<BasicRequestContext>, view: DaemonView, policy: AccessPolicy, pool: ReadPool) {
        router.get("/api/v1/orders") { request, _ in
            await APIAnswer.on(pool, { () throws(APIQueryError) in try APIQuery.orders(items(request)) }) { all in
                try coop {
                    try view.coopBook(language: PageLanguage.of(request, fallback: view.language)).orders(
                        now: view.clock(), includeClosed: all)
                }
            }
        }
        router.get("/api/v1/orders/:id") { request, context in
            let id = context.parameters.get("id") ?? ""
            return await APIAnswer.encoded(on: pool) {
                try WireJSON.data(
                    coop { try view.coopBook(language: PageLanguage.of(request, fallback: view.language)).order(id, now: view.clock()) })
            }
        }
        router.post("/api/v1/orders") { request, _ in
            if let refused = refuseWrite(request, policy) { return refused }
            let body: OrderRequest
            do throws(BodyError) { body = try await decodeBody(request) } catch { return error.answer }
            return await APIAnswer.encoded(on: pool) { try WireJSON.data(coop { try view.coopBook().create(body, now: view.clock()) }) }
                .with(status: .created)
        }
        router.patch("/api/v1/orders/:id") { request, context in
            if let refused = refuseWrite(request, policy) { return refused }
            let id = context.parameters.get("id") ?? ""
            let body: OrderChange
            do throws(BodyError) { body = try await decodeBody(request) } catch { return error.answer }
            return await APIAnswer.encoded(on: pool) { try WireJSON.data(coop { try view.coopBook().change(id, body, now: view.clock()) }) }
        }
        router.post("/api/v1/orders/:id/close") { request, context in
            if let refused = refuseWrite(request, policy) { return refused }
            let id = context.parameters.get("id") ?? ""
            return await APIAnswer.encoded(on: pool) { try WireJSON.data(coop { try view.coopBook().close(id, now: view.clock()) }) }
        }
    }

    static func addPay(to router: Router<BasicRequestContext>, view: DaemonView, policy: AccessPolicy, pool: ReadPool) {
        router.get("/api/v1/pay") { request, _ in
            await APIAnswer.on(pool, { () throws(APIQueryError) in try APIQuery.pay(items(request)) }) { range in
                let r = view.payRange(range)
                return try coop { try view.coopBook().pay(from: r.from, to: r.to) }
            }
        }
        router.get("/pay") { request, _ in
            let range: DayRange?
            do throws(APIQueryError) { range = try APIQuery.pay(items(request)) } catch {
                return APIAnswer(ErrorAnswer(error: error.message, parameter: error.parameter), status: .badRequest).page
            }
            return await payPage(request, view: view, pool: pool, range: range, only: nil)
        }
        // His own sheet for this month so far.
        router.get("/me/pay") { request, _ in
            guard let id = policy.craftsman(request.headers) else {
                return APIAnswer(ErrorAnswer(error: "only a personal link has a pay sheet of its own"), status: .forbidden).page
            }
            return await payPage(request, view: view, pool: pool, range: nil, only: id)
        }
    }

    /// The printable pay page in the page's language; `only` keeps one craftsman's sheet.
    static func payPage(_ request: Request, view: DaemonView, pool: ReadPool, range: DayRange?, only: String?) async -> PayPageAnswer {
        let lang = PageLanguage.of(request, fallback: view.language)
        do {
            let html = try await pool.run { () throws -> String in
                let r = view.payRange(range)
                var doc = try coop { try view.coopBook(language: lang).pay(from: r.from, to: r.to) }
                if let only {
                    doc.craftsmen = doc.craftsmen.filter { $0.craftsman == only }
                    doc.totalPieces = doc.craftsmen.reduce(0) { $0 + $1.pieces }
                    doc.totalAmount = doc.craftsmen.reduce(0) { $0 + $1.amount }
                }
                let names = (view.live.snapshot?.registry.workshops ?? []).map { ($0.id, $0.name) }
                return PayPage.html(
                    doc, language: lang, showTotal: only == nil, workshops: Dictionary(names, uniquingKeysWith: { a, _ in a }))
            }
            return PayPageAnswer(html: html)
        } catch {
            return APIAnswer.failure(error).page
        }
    }

    /// A write is refused (403) without a configured admin token, or without it on the request.
    static func refuseWrite(_ request: Request, _ policy: AccessPolicy) -> APIAnswer? {
        guard policy.token != nil else { return APIAnswer(ErrorAnswer(error: "writes need http.token_file"), status: .forbidden) }
        guard policy.isAdmin(request.headers) else {
            return APIAnswer(ErrorAnswer(error: "writes need the admin token (http.token_file)"), status: .forbidden)
        }
        return nil
    }

    /// The JSON body as `T`: a 400 naming `body` when it is too large or not such a document.
    static func decodeBody<T: Decodable>(_ request: Request) async throws(BodyError) -> T {
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: maxOrderBody) } catch {
            throw BodyError(message: "the body is larger than \(maxOrderBody) bytes or could not be read")
        }
        do { return try WireJSON.decode(T.self, from: Data(buffer: buffer)) } catch {
            throw BodyError(message: "the body is not a valid \(T.self) JSON document: \(error)")
        }
    }

    /// `body()`, its `CoopError`s made the API's: not found is a 404, invalid a 400.
    static func coop<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as CoopError {
            switch e {
            case .notFound(let what, _): throw APIError.notFound(APIQueryError(parameter: what, message: e.description))
            case .invalid(let field, _): throw BadRequest(parameter: field, message: e.description)
            }
        }
    }
}

/// A request body the API cannot take.
struct BodyError: Error {
    var message: String
    var answer: APIAnswer { APIAnswer(ErrorAnswer(error: message, parameter: "body"), status: .badRequest) }
}

/// A value the API was given that parses but is wrong (a 400 naming it).
struct BadRequest: Error {
    var parameter: String
    var message: String
}

/// The pay page, or the error that stood in its way as JSON.
struct PayPageAnswer: ResponseGenerator {
    var html: String?
    var error: APIAnswer?

    init(html: String) { self.html = html }
    init(error: APIAnswer) { self.error = error }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        if let error { return try error.response(from: request, context: context) }
        return Response(
            status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: html ?? "")))
    }
}

extension APIAnswer {
    var page: PayPageAnswer { PayPageAnswer(error: self) }

    func with(status: HTTPResponse.Status) -> APIAnswer {
        var a = self
        if self.status == .ok { a.status = status }
        return a
    }
}
