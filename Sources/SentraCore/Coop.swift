/// Something the sentra makes, and what a craftsman is paid for one piece of it (`products:`).
public struct Product: Sendable, Equatable {
    /// An id like a workshop's (`sarung-ikat`).
    public var id: String
    public var name: String
    /// Whole rupiah per piece.
    public var rate: Int64
    public init(id: String, name: String, rate: Int64) {
        self.id = id
        self.name = name
        self.rate = rate
    }
}

/// The products and how pay is computed (`products:` and `pay:`, docs/pay.md).
public struct PaySettings: Sendable, Equatable {
    public var products: [Product]
    /// The product whose rate pays pieces made on a loom that is on no order; nil: the first product.
    public var defaultProduct: String?
    /// Rupiah per kWh; nil: energy is not priced.
    public var kwhTariff: Double?
    /// Rupiah per m³ of water (1,000 L); nil: water is not priced.
    public var waterTariffPerM3: Double?

    public init(products: [Product] = [], defaultProduct: String? = nil, kwhTariff: Double? = nil, waterTariffPerM3: Double? = nil) {
        self.products = products
        self.defaultProduct = defaultProduct
        self.kwhTariff = kwhTariff
        self.waterTariffPerM3 = waterTariffPerM3
    }

    /// The product with id `id`, if configured.
    public func product(_ id: String) -> Product? { products.first { $0.id == id } }

    /// The product pieces on no order are paid as: `defaultProduct`, else the first product.
    public var fallbackProduct: Product? { defaultProduct.flatMap { product($0) } ?? products.first }
}
