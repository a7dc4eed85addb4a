import SentraCore

/// `products:` and `pay:` (docs/configuration.md, docs/pay.md).
extension Reader {
    /// The highest piece rate accepted, rupiah.
    static let maxRate = 1_000_000_000
    /// The highest tariff accepted, rupiah per kWh or per m³.
    static let maxTariff = 1_000_000.0

    /// `products:` each with an id (like a workshop's), a name and a whole positive rate.
    mutating func products(_ entry: Entry?) -> [Product] {
        var products: [Product] = []
        var lines: [String: Int] = [:]
        for (i, n) in sequence(entry, "products").enumerated() {
            let p = "products[\(i)]"
            guard let m = mapping(n, p, allowed: ["id", "name", "rate"]) else { continue }
            guard let id = self.id(m["id"], "\(p).id", in: n) else { continue }
            if let first = lines[id] {
                error(m["id"]?.value, "\(p).id", "duplicate product id '\(id)' (first at line \(first))")
                continue
            }
            lines[id] = m["id"]?.value.mark?.line ?? 0
            let name = string(m["name"], "\(p).name") ?? id
            guard m["rate"] != nil else {
                error(n, "\(p).rate", "missing (required): whole rupiah per piece")
                continue
            }
            guard let rate = wholeRupiah(m["rate"], "\(p).rate") else { continue }
            products.append(Product(id: id, name: name, rate: Int64(rate)))
        }
        return products
    }

    /// A rate: a whole number of rupiah, 1 or more.
    private mutating func wholeRupiah(_ e: Entry?, _ path: String) -> Int? {
        guard let e else { return nil }
        let text = e.value.scalar?.string ?? ""
        guard let s = e.value.scalar, s.style == .plain || s.style == .any, case .some(.some(let v)) = Reader.integer(text),
            (1...Self.maxRate).contains(v)
        else {
            error(e.value, path, "'\(text)' is not a whole positive number of rupiah (1 to \(Self.maxRate))")
            return nil
        }
        return v
    }

    /// `pay:` the default product (one of `products`) and the tariffs.
    mutating func pay(_ entry: Entry?, products: [Product]) -> PaySettings {
        var settings = PaySettings(products: products)
        guard let entry, let m = mapping(entry.value, "pay", allowed: ["default_product", "tariffs"]) else { return settings }
        if let id = string(m["default_product"], "pay.default_product") {
            if products.contains(where: { $0.id == id }) {
                settings.defaultProduct = id
            } else {
                let known = products.map(\.id)
                error(
                    m["default_product"]?.value, "pay.default_product",
                    "unknown product '\(id)'"
                        + (known.isEmpty ? " (products: lists none)" : " (products: \(known.joined(separator: ", ")))"))
            }
        }
        if let t = mapping(m["tariffs"]?.value, "pay.tariffs", allowed: ["kwh", "water_m3"]) {
            settings.kwhTariff = double(t["kwh"], "pay.tariffs.kwh", range: 0...Self.maxTariff)
            settings.waterTariffPerM3 = double(t["water_m3"], "pay.tariffs.water_m3", range: 0...Self.maxTariff)
        }
        return settings
    }
}
