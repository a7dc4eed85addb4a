import SentraCore
import SentraStore

/// Checks what a coordinator asks for, naming the field that is wrong (`CoopError.invalid`).
struct Validation {
    let book: CoopBook
    let now: Int64
    var calendar: LocalCalendar

    init(book: CoopBook, now: Int64) {
        self.book = book
        self.now = now
        calendar = book.calendar
    }

    func product(_ id: String) throws -> String {
        guard book.pay.product(id) != nil else {
            let known = book.pay.products.map(\.id)
            throw CoopError.invalid(
                field: "product",
                message: "unknown product '\(id)'"
                    + (known.isEmpty ? ": the configuration lists no products" : " (products: \(known.joined(separator: ", ")))"))
        }
        return id
    }

    func wanted(_ n: Int) throws -> Int {
        guard (1...CoopBook.maxWanted).contains(n) else {
            throw CoopError.invalid(field: "wanted", message: "\(n) is not a number of pieces from 1 to \(CoopBook.maxWanted)")
        }
        return n
    }

    /// A local date that exists, not before today and at most `CoopBook.maxDueDays` after it
    /// (every reading of an order walks the shift calendar up to its due date).
    mutating func due(_ text: String) throws -> String {
        do {
            _ = try DayRange.day(text, field: .date)
        } catch {
            throw CoopError.invalid(field: "due", message: error.message { _ in "due" })
        }
        let today = calendar.date(atMillis: now)
        guard text >= today else { throw CoopError.invalid(field: "due", message: "\(text) is before today (\(today))") }
        if let d = LocalCalendar.daysSinceEpoch(text), let t = LocalCalendar.daysSinceEpoch(today), d - t > CoopBook.maxDueDays {
            throw CoopError.invalid(field: "due", message: "\(text) is more than \(CoopBook.maxDueDays) days after today (\(today))")
        }
        return text
    }

    func rate(_ r: Int64) throws -> Int64 {
        guard (1...CoopBook.maxRate).contains(r) else {
            throw CoopError.invalid(field: "rate", message: "\(r) is not a whole number of rupiah from 1 to \(CoopBook.maxRate)")
        }
        return r
    }

    func title(_ t: String) throws -> String {
        guard t.count <= CoopBook.maxTitle, !t.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw CoopError.invalid(field: "title", message: "at most \(CoopBook.maxTitle) characters, no control characters")
        }
        return t
    }

    func id(_ id: String) throws {
        guard DeviceTopic.isValidID(id) else {
            throw CoopError.invalid(
                field: "id", message: "'\(id)' is not a valid id (1 to 63 of a-z 0-9 _ -, starting with a letter or digit)")
        }
    }

    /// Configured looms, each once, in the order given.
    func knownLooms(_ looms: [String], field: String) throws -> [String] {
        var seen = Set<String>()
        for l in looms where book.registry.loom(l) == nil {
            throw CoopError.invalid(field: field, message: "unknown loom '\(l)'")
        }
        return looms.filter { seen.insert($0).inserted }
    }

    /// The looms given, or all looms of the craftsmen given at this moment: one of the two
    /// (`both`: either or both), not empty.
    func looms(_ looms: [String]?, craftsmen: [String]?, both: Bool = false, field: String = "looms") throws -> [String] {
        let l = looms ?? []
        let c = craftsmen ?? []
        if !both, !l.isEmpty, !c.isEmpty { throw CoopError.invalid(field: field, message: "give looms or craftsmen, not both") }
        var out = try knownLooms(l, field: field)
        for id in c {
            guard book.registry.craftsmen.contains(where: { $0.id == id }) else {
                throw CoopError.invalid(field: both ? "add_craftsmen" : "craftsmen", message: "unknown craftsman '\(id)'")
            }
            let theirs = book.registry.looms.filter { $0.craftsman(at: now) == id }.map(\.id)
            guard !theirs.isEmpty else {
                throw CoopError.invalid(field: both ? "add_craftsmen" : "craftsmen", message: "craftsman '\(id)' has no loom")
            }
            out += theirs.filter { !out.contains($0) }
        }
        if out.isEmpty && !both { throw CoopError.invalid(field: field, message: "give the order's looms or craftsmen") }
        return out
    }

    func share(_ craftsman: String, _ pieces: Int, wanted: Int) throws -> (craftsman: String, pieces: Int) {
        guard book.registry.craftsmen.contains(where: { $0.id == craftsman }) else {
            throw CoopError.invalid(field: "shares", message: "unknown craftsman '\(craftsman)'")
        }
        guard (0...wanted).contains(pieces) else {
            throw CoopError.invalid(field: "shares", message: "\(craftsman): \(pieces) is not a number of pieces from 0 to \(wanted)")
        }
        return (craftsman, pieces)
    }
}
