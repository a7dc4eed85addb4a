import SentraStore

/// A query parameter of `/api/v1/...` that cannot be answered: the API's 400, with the
/// parameter to blame and a sentence for a person.
public struct APIQueryError: Error, Equatable, Sendable, CustomStringConvertible {
    public var parameter: String
    public var message: String

    public init(parameter: String, message: String) {
        self.parameter = parameter
        self.message = message
    }

    init(_ e: ReportError) { self.init(parameter: e.field.rawValue, message: e.message { $0.rawValue }) }

    public var description: String { message }
}

/// What `GET /api/v1/production` was asked: the days (nil: today in the sentra's time zone),
/// the grouping, and one craftsman (nil: all).
public struct ProductionQuery: Sendable, Equatable {
    public var days: DayRange?
    public var by: ReportGrouping
    public var craftsman: String? = nil
}

/// What `GET /api/v1/production/usual` was asked: the day (nil: today), the view, and one
/// craftsman (nil: all).
public struct UsualQuery: Sendable, Equatable {
    public var day: DayRange?
    public var view: AnswerView = .full
    public var craftsman: String? = nil
}

/// What `GET /api/v1/sentra` was asked: the view, and one workshop (nil: all).
public struct SentraQuery: Sendable, Equatable {
    public var view: AnswerView = .full
    public var workshop: String? = nil

    public init(view: AnswerView = .full, workshop: String? = nil) {
        self.view = view
        self.workshop = workshop
    }
}

/// `view=`: the whole answer (the default), or only what the dashboard draws.
public enum AnswerView: String, Sendable, Equatable {
    case full, summary
}

/// What `GET /api/v1/alerts` was asked: how many past alert-log lines.
public struct AlertsQuery: Sendable, Equatable {
    public var recent: Int
}

/// The API's query parameters, parsed and checked without a server (pure functions: the same
/// items always give the same answer). Each takes the decoded query items in their order and
/// throws an `APIQueryError` naming the first parameter it cannot take. Parameters an
/// endpoint does not know are ignored; one it knows given twice is refused.
public enum APIQuery {
    /// `date=YYYY-MM-DD`, or `from=` and `to=` (one of them alone is that one day), and `by=`
    /// craftsman, loom or workshop. Days exist and lie in the years 2000 to 2199, `from` is
    /// not after `to`, and a range has at most `DayRange.maxDaysOverHTTP` days.
    /// `craftsman=` narrows the answer to one craftsman (an id the daemon does not know is a
    /// 404, when the answer is made).
    public static func production(_ items: [(name: String, value: String)]) throws(APIQueryError) -> ProductionQuery {
        let q = try Items(items, known: ["date", "from", "to", "by", "craftsman"])
        var query = try days(q)
        query.craftsman = try id(q, "craftsman")
        return query
    }

    /// The days and grouping of `production`.
    static func days(_ q: Items) throws(APIQueryError) -> ProductionQuery {
        var by = ReportGrouping.craftsman
        if let b = q["by"] {
            guard let g = ReportGrouping(rawValue: b) else {
                throw APIQueryError(parameter: "by", message: "by '\(b)' is not one of: craftsman, loom, workshop")
            }
            by = g
        }
        if let date = q["date"] {
            guard q["from"] == nil, q["to"] == nil else {
                throw APIQueryError(parameter: "date", message: "give date, or from and to, not both")
            }
            return ProductionQuery(days: try checked { () throws(ReportError) in try DayRange(day: date) }, by: by)
        }
        guard let from = q["from"] ?? q["to"], let to = q["to"] ?? q["from"] else { return ProductionQuery(days: nil, by: by) }
        // One of them alone is that day, and named as given.
        let fields: (from: DayField, to: DayField) = (q["from"] == nil ? .to : .from, q["to"] == nil ? .from : .to)
        let days = try checked { () throws(ReportError) in
            try DayRange(from: from, to: to, maxDays: DayRange.maxDaysOverHTTP, fields: fields)
        }
        return ProductionQuery(days: days, by: by)
    }

    /// `date=YYYY-MM-DD`: a day that exists in the years 2000 to 2199; `view=full|summary`;
    /// `craftsman=` one craftsman's row (an id the daemon does not know is a 404, when the
    /// answer is made).
    public static func usual(_ items: [(name: String, value: String)]) throws(APIQueryError) -> UsualQuery {
        let q = try Items(items, known: ["date", "view", "craftsman"])
        var query = UsualQuery(day: nil, view: try view(q), craftsman: try id(q, "craftsman"))
        if let date = q["date"] { query.day = try checked { () throws(ReportError) in try DayRange(day: date) } }
        return query
    }

    /// `view=full|summary` and `workshop=`, one workshop's part of the answer (an id the
    /// daemon does not know is a 404, when the answer is made).
    public static func sentra(_ items: [(name: String, value: String)]) throws(APIQueryError) -> SentraQuery {
        let q = try Items(items, known: ["view", "workshop"])
        return SentraQuery(view: try view(q), workshop: try id(q, "workshop"))
    }

    /// `view=`, `full` by default.
    static func view(_ q: Items) throws(APIQueryError) -> AnswerView {
        guard let v = q["view"] else { return .full }
        guard let view = AnswerView(rawValue: v) else {
            throw APIQueryError(parameter: "view", message: "view '\(v)' is not one of: full, summary")
        }
        return view
    }

    /// An id given as `name=`: not empty; whether it exists is the answer's to say.
    static func id(_ q: Items, _ name: String) throws(APIQueryError) -> String? {
        guard let v = q[name] else { return nil }
        guard !v.isEmpty else { throw APIQueryError(parameter: name, message: "\(name) is empty: give an id") }
        return v
    }

    /// `make()`'s value, its `ReportError` as the API's.
    static func checked<T>(_ make: () throws(ReportError) -> T) throws(APIQueryError) -> T {
        do {
            return try make()
        } catch {
            throw APIQueryError(error)
        }
    }

    /// The most `recent` lines an answer carries; more are cut to this.
    public static let maxRecent = 1000

    /// `recent=N`: a whole number, 0 or more (default 50; above `maxRecent` it is `maxRecent`).
    public static func alerts(_ items: [(name: String, value: String)]) throws(APIQueryError) -> AlertsQuery {
        let q = try Items(items, known: ["recent"])
        guard let r = q["recent"] else { return AlertsQuery(recent: 50) }
        // Digits only: no sign, no spaces; a number too long for Int is still "many".
        guard !r.isEmpty, r.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            throw APIQueryError(parameter: "recent", message: "recent '\(r)' is not a whole number of 0 or more")
        }
        return AlertsQuery(recent: Int(r).map { min($0, maxRecent) } ?? maxRecent)
    }

    /// The known parameters of one query, each at most once.
    struct Items {
        var values: [String: String] = [:]

        init(_ items: [(name: String, value: String)], known: Set<String>) throws(APIQueryError) {
            for (name, value) in items where known.contains(name) {
                guard values[name] == nil else {
                    throw APIQueryError(parameter: name, message: "\(name) is given more than once")
                }
                values[name] = value
            }
        }

        subscript(_ name: String) -> String? { values[name] }
    }
}
