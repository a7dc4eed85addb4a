/// One order with its progress, ETA and shares: `sentractl order show --format json`,
/// `GET /api/v1/orders/{id}` (docs/orders.md says what each number means). Times are RFC 3339
/// in the sentra's offset; `due` is a local date.
public struct OrderDocument: Codable, Sendable, Equatable {
    public var id: String
    public var product: String
    public var productName: String
    @Nullable public var title: String?
    public var wanted: Int
    public var due: String
    /// The effective rate, rupiah per piece: the order's own, else its product's.
    public var rate: Int64
    /// `open` or `closed`.
    public var status: String
    public var created: String
    @Nullable public var closed: String?
    public var made: Double
    /// wanted − made, never below 0.
    public var left: Double
    @Nullable public var eta: String?
    @Nullable public var ratePerShiftHour: Double?
    public var behind: Bool
    public var looms: [LoomDocument]
    public var shares: [ShareDocument]

    public init(
        id: String, product: String, productName: String, title: String?, wanted: Int, due: String, rate: Int64, status: String,
        created: String, closed: String?, made: Double, left: Double, eta: String?, ratePerShiftHour: Double?, behind: Bool,
        looms: [LoomDocument], shares: [ShareDocument]
    ) {
        self.id = id
        self.product = product
        self.productName = productName
        self.title = title
        self.wanted = wanted
        self.due = due
        self.rate = rate
        self.status = status
        self.created = created
        self.closed = closed
        self.made = made
        self.left = left
        self.eta = eta
        self.ratePerShiftHour = ratePerShiftHour
        self.behind = behind
        self.looms = looms
        self.shares = shares
    }

    enum CodingKeys: String, CodingKey {
        case id, product, title, wanted, due, rate, status, created, closed, made, left, eta, behind, looms, shares
        case productName = "product_name"
        case ratePerShiftHour = "rate_per_shift_hour"
    }

    /// A loom's time on the order (a loom that left and came back has two).
    public struct LoomDocument: Codable, Sendable, Equatable {
        public var loom: String
        public var workshop: String
        /// Its craftsman now.
        public var craftsman: String
        public var joined: String
        @Nullable public var left: String?

        public init(loom: String, workshop: String, craftsman: String, joined: String, left: String?) {
            self.loom = loom
            self.workshop = workshop
            self.craftsman = craftsman
            self.joined = joined
            self.left = left
        }
    }
}

/// A craftsman's share of an order: suggested by capacity, assigned (the coordinator's override,
/// else the suggestion), and what he made for it.
public struct ShareDocument: Codable, Sendable, Equatable {
    public var craftsman: String
    public var name: String
    public var suggested: Int
    public var assigned: Int
    public var made: Double
    /// The median of his pieces per working day (last 14) ÷ his workshop's shift hours per day.
    @Nullable public var usualPerShiftHour: Double?
    /// Shift hours of his workshop from now to the end of the due date.
    public var shiftHoursLeft: Double
    /// usual per shift hour × shift hours left; null without history.
    @Nullable public var capacity: Double?
    /// Why this share, in the asked language.
    public var reason: String

    public init(
        craftsman: String, name: String, suggested: Int, assigned: Int, made: Double, usualPerShiftHour: Double?, shiftHoursLeft: Double,
        capacity: Double?, reason: String
    ) {
        self.craftsman = craftsman
        self.name = name
        self.suggested = suggested
        self.assigned = assigned
        self.made = made
        self.usualPerShiftHour = usualPerShiftHour
        self.shiftHoursLeft = shiftHoursLeft
        self.capacity = capacity
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case craftsman, name, suggested, assigned, made, capacity, reason
        case usualPerShiftHour = "usual_per_shift_hour"
        case shiftHoursLeft = "shift_hours_left"
    }
}

/// `GET /api/v1/orders`, `sentractl order list --format json`.
public struct OrdersAnswer: Codable, Sendable, Equatable {
    public var orders: [OrderDocument]
    public init(orders: [OrderDocument]) { self.orders = orders }
}

/// A new order (`POST /api/v1/orders`): looms given as looms, or as craftsmen (all their looms).
public struct OrderRequest: Codable, Sendable, Equatable {
    public var id: String?
    public var product: String
    public var title: String?
    public var wanted: Int
    public var due: String
    public var looms: [String]?
    public var craftsmen: [String]?
    public var rate: Int64?

    public init(
        id: String? = nil, product: String, title: String? = nil, wanted: Int, due: String, looms: [String]? = nil,
        craftsmen: [String]? = nil, rate: Int64? = nil
    ) {
        self.id = id
        self.product = product
        self.title = title
        self.wanted = wanted
        self.due = due
        self.looms = looms
        self.craftsmen = craftsmen
        self.rate = rate
    }
}

/// A change to an order (`PATCH /api/v1/orders/{id}`): only what is given changes.
public struct OrderChange: Codable, Sendable, Equatable {
    public var title: String?
    public var wanted: Int?
    public var due: String?
    public var rate: Int64?
    public var addLooms: [String]?
    public var removeLooms: [String]?
    public var addCraftsmen: [String]?
    /// The coordinator's shares, pieces by craftsman.
    public var shares: [String: Int]?

    public init(
        title: String? = nil, wanted: Int? = nil, due: String? = nil, rate: Int64? = nil, addLooms: [String]? = nil,
        removeLooms: [String]? = nil, addCraftsmen: [String]? = nil, shares: [String: Int]? = nil
    ) {
        self.title = title
        self.wanted = wanted
        self.due = due
        self.rate = rate
        self.addLooms = addLooms
        self.removeLooms = removeLooms
        self.addCraftsmen = addCraftsmen
        self.shares = shares
    }

    enum CodingKeys: String, CodingKey {
        case title, wanted, due, rate, shares
        case addLooms = "add_looms"
        case removeLooms = "remove_looms"
        case addCraftsmen = "add_craftsmen"
    }
}

/// Piece-rate pay for local days `from` through `to` (docs/pay.md): `sentractl pay --format
/// json`, `GET /api/v1/pay`. Amounts are whole rupiah.
public struct PayDocument: Codable, Sendable, Equatable {
    public var from: String
    public var to: String
    /// Always `IDR`.
    public var currency: String
    /// How amounts are rounded: `half_away_from_zero` (each line's pieces × rate; energy and
    /// water per craftsman).
    public var rounding: String
    public var craftsmen: [PayCraftsman]
    public var totalPieces: Double
    public var totalAmount: Int64

    public init(
        from: String, to: String, currency: String, rounding: String, craftsmen: [PayCraftsman], totalPieces: Double, totalAmount: Int64
    ) {
        self.from = from
        self.to = to
        self.currency = currency
        self.rounding = rounding
        self.craftsmen = craftsmen
        self.totalPieces = totalPieces
        self.totalAmount = totalAmount
    }

    enum CodingKeys: String, CodingKey {
        case from, to, currency, rounding, craftsmen
        case totalPieces = "total_pieces"
        case totalAmount = "total_amount"
    }

    /// One craftsman's sheet. Energy and water are shown, not deducted.
    public struct PayCraftsman: Codable, Sendable, Equatable {
        public var craftsman: String
        public var name: String
        public var workshop: String
        public var lines: [PayLine]
        public var pieces: Double
        public var amount: Int64
        public var kwh: Double
        @Nullable public var energyCost: Int64?
        public var waterL: Double
        @Nullable public var waterCost: Int64?

        public init(
            craftsman: String, name: String, workshop: String, lines: [PayLine], pieces: Double, amount: Int64, kwh: Double,
            energyCost: Int64?, waterL: Double, waterCost: Int64?
        ) {
            self.craftsman = craftsman
            self.name = name
            self.workshop = workshop
            self.lines = lines
            self.pieces = pieces
            self.amount = amount
            self.kwh = kwh
            self.energyCost = energyCost
            self.waterL = waterL
            self.waterCost = waterCost
        }

        enum CodingKeys: String, CodingKey {
            case craftsman, name, workshop, lines, pieces, amount, kwh
            case energyCost = "energy_cost"
            case waterL = "water_l"
            case waterCost = "water_cost"
        }
    }

    /// Pieces of one product, made for one order (or none), at one rate.
    public struct PayLine: Codable, Sendable, Equatable {
        public var product: String
        public var productName: String
        @Nullable public var order: String?
        public var pieces: Double
        public var rate: Int64
        public var amount: Int64

        public init(product: String, productName: String, order: String?, pieces: Double, rate: Int64, amount: Int64) {
            self.product = product
            self.productName = productName
            self.order = order
            self.pieces = pieces
            self.rate = rate
            self.amount = amount
        }

        enum CodingKeys: String, CodingKey {
            case product, order, pieces, rate, amount
            case productName = "product_name"
        }
    }
}
