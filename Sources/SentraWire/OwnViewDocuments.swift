import SentraCore

/// `GET /api/v1/me` (docs/http.md): what a craftsman's personal link shows him, his numbers
/// only; nothing in it names another craftsman.
public struct MeAnswer: Codable, Sendable, Equatable {
    public var craftsman: String
    public var name: String
    public var workshop: String
    public var today: Today
    public var looms: [Loom]
    public var orders: [Order]
    public var payMonth: PayMonth

    public init(
        craftsman: String, name: String, workshop: String, today: Today, looms: [Loom], orders: [Order], payMonth: PayMonth
    ) {
        self.craftsman = craftsman
        self.name = name
        self.workshop = workshop
        self.today = today
        self.looms = looms
        self.orders = orders
        self.payMonth = payMonth
    }

    enum CodingKeys: String, CodingKey {
        case craftsman, name, workshop, today, looms, orders
        case payMonth = "pay_month"
    }

    /// His pieces today against his usual (the median of his last working days), as the
    /// dashboard's production panel shows them.
    public struct Today: Codable, Sendable, Equatable {
        public var date: String
        public var pieces: Double
        @Nullable public var usualSoFar: Double?
        @Nullable public var usualDay: Double?

        public init(date: String, pieces: Double, usualSoFar: Double?, usualDay: Double?) {
            self.date = date
            self.pieces = pieces
            self.usualSoFar = usualSoFar
            self.usualDay = usualDay
        }

        enum CodingKeys: String, CodingKey {
            case date, pieces
            case usualSoFar = "usual_so_far"
            case usualDay = "usual_day"
        }
    }

    /// One of his looms: its state now (nil when no device reports it) and its pieces today.
    public struct Loom: Codable, Sendable, Equatable {
        public var loom: String
        @Nullable public var state: String?
        public var piecesToday: Double

        public init(loom: String, state: String?, piecesToday: Double) {
            self.loom = loom
            self.state = state
            self.piecesToday = piecesToday
        }

        enum CodingKeys: String, CodingKey {
            case loom, state
            case piecesToday = "pieces_today"
        }
    }

    /// An open order he has a share of: his assigned pieces and what he made of them.
    public struct Order: Codable, Sendable, Equatable {
        public var id: String
        public var productName: String
        @Nullable public var title: String?
        public var due: String
        public var assigned: Int
        public var made: Double
        @Nullable public var eta: String?

        public init(id: String, productName: String, title: String?, due: String, assigned: Int, made: Double, eta: String?) {
            self.id = id
            self.productName = productName
            self.title = title
            self.due = due
            self.assigned = assigned
            self.made = made
            self.eta = eta
        }

        enum CodingKeys: String, CodingKey {
            case id, title, due, assigned, made, eta
            case productName = "product_name"
        }
    }

    /// His piece-rate pay for this month so far (local dates, inclusive), whole rupiah.
    public struct PayMonth: Codable, Sendable, Equatable {
        public var from: String
        public var to: String
        public var pieces: Double
        public var amount: Int64

        public init(from: String, to: String, pieces: Double, amount: Int64) {
            self.from = from
            self.to = to
            self.pieces = pieces
            self.amount = amount
        }
    }
}

/// `GET /strings.json`: the dashboard's words in the page's language (the catalogue's `ui.` keys).
public struct StringsAnswer: Codable, Sendable, Equatable {
    public var language: String
    public var strings: [String: String]

    public init(language: String, strings: [String: String]) {
        self.language = language
        self.strings = strings
    }
}
