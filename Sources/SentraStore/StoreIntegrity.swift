import Foundation
import GRDB

#if canImport(Glibc)
    import Glibc
#endif

/// Why the state database cannot be used, or what a failed write means.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable {
        /// Anything else (a missing file for a reader, a bad path).
        case other
        /// SQLite says the file is damaged or not a database (SQLITE_CORRUPT, SQLITE_NOTADB, a
        /// failed `quick_check`).
        case damaged
        /// The identity file says this state directory had a history that the database lacks.
        case historyLost
        /// A newer Sentra migrated the database: it holds schema steps this version does not
        /// know. Not damage: installing the newer version again is the cure.
        case newerSchema
    }
    public var kind: Kind
    public var message: String
    public var description: String { message }

    public init(message: String) {
        kind = .other
        self.message = message
    }

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// Damaged state: the commands exit 2 for it.
    public var isDamagedState: Bool { kind == .damaged || kind == .historyLost }
}

/// What a failed database write means, in words for the operator and the coordinator.
public enum StoreFailure: String, Sendable {
    case diskFull = "disk_full"
    case damaged
    case ioError = "io_error"
    case readOnly = "read_only"
    case other

    public init(_ error: any Error) {
        if let e = error as? StoreError {
            self = e.isDamagedState ? .damaged : .other
            return
        }
        if let e = error as? DatabaseError {
            switch e.resultCode {
            case .SQLITE_FULL: self = .diskFull
            case .SQLITE_CORRUPT, .SQLITE_NOTADB: self = .damaged
            case .SQLITE_IOERR: self = .ioError
            case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_AUTH: self = .readOnly
            default: self = .other
            }
            return
        }
        let text = "\(error)"
        if text.contains("No space left") {
            self = .diskFull
        } else if text.contains("Input/output error") {
            self = .ioError
        } else {
            self = .other
        }
    }

    /// One short phrase: "the state database's disk is full".
    public var phrase: String {
        switch self {
        case .diskFull: "the disk is full"
        case .damaged: "the state database is damaged"
        case .ioError: "the disk reports I/O errors"
        case .readOnly: "the state database cannot be written (read-only file system or permissions)"
        case .other: "the write fails"
        }
    }
}

extension ProductionStore {
    /// The file beside the database that records the database's identity once it has counted
    /// something: `sentra.sqlite.identity`. A later start that finds this file but a missing,
    /// empty or different database refuses to start with an empty history.
    public static func identityPath(_ databasePath: String) -> String { databasePath + ".identity" }

    public static let identityKey = "database_identity"

    /// Whether `error` (from opening or reading the database) says the file is damaged.
    public static func isDamage(_ error: any Error) -> Bool {
        if let e = error as? DatabaseError { return e.resultCode == .SQLITE_CORRUPT || e.resultCode == .SQLITE_NOTADB }
        return (error as? StoreError)?.kind == .damaged
    }

    static func damaged(_ path: String, _ detail: String) -> StoreError {
        StoreError(
            .damaged,
            """
            the state database \(path) is damaged (\(detail)). Nothing was changed. Keep a copy of it, \
            then restore the last backup of the state directory (docs/operations.md, "A damaged state database"); \
            readings not counted since then are kept in the receive journal only if it is that database's journal
            """)
    }

    /// `PRAGMA quick_check` (every page read once, no index cross-check: 0.09 s for a year of
    /// hourly rows, 66 MiB, from the page cache; about 1 s from a cold disk) and SQLite's
    /// corruption codes, as a `StoreError` of kind `.damaged`.
    static func checkIntegrity(_ pool: DatabasePool, path: String) throws {
        let result: [String]
        do {
            result = try pool.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check(5)") }
        } catch {
            if isDamage(error) { throw damaged(path, "\(error)") }
            throw error
        }
        guard result == ["ok"] else { throw damaged(path, "quick_check: " + result.joined(separator: "; ")) }
    }

    /// Refuses, before anything is opened, a database that is missing or empty where the
    /// identity file says one with a history was.
    static func refuseLostHistory(path: String) throws {
        guard let recorded = readIdentity(path) else { return }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? nil
        guard size == nil || size == 0 else { return }
        throw historyLost(path, recorded, what: size == nil ? "is missing" : "is empty (0 bytes)")
    }

    static func historyLost(_ path: String, _ recorded: String, what: String) -> StoreError {
        StoreError(
            .historyLost,
            """
            the state database \(path) \(what), but this state directory has counted before \
            (\(identityPath(path)) names database \(recorded)): starting would begin an empty history and \
            reset every total. Restore the database from a backup; or, to start with an empty history on \
            purpose, move \(identityPath(path)) aside as well (docs/operations.md, "A damaged state database")
            """)
    }

    static func readIdentity(_ path: String) -> String? {
        guard let text = try? String(contentsOfFile: identityPath(path), encoding: .utf8) else { return nil }
        let id = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return id.isEmpty ? nil : id
    }

    /// Gives the database an identity if it has none (a new database, or one from before
    /// identities), and checks it against the identity file.
    static func checkIdentity(_ pool: DatabasePool, path: String) throws -> (identity: String, recorded: Bool) {
        let recorded = readIdentity(path)
        let identity: String = try pool.write { db in
            if let id = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [identityKey]) {
                return id
            }
            let id = String(UInt64.random(in: 1...UInt64.max), radix: 16)
            try db.execute(sql: "INSERT INTO meta (key, value) VALUES (?, ?)", arguments: [identityKey, id])
            return id
        }
        if let recorded, recorded != identity {
            let counted = try pool.read { db in
                try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [journalMarkKey]) != nil
            }
            throw historyLost(
                path, recorded, what: counted ? "is another database (identity \(identity))" : "has never counted anything")
        }
        return (identity, recorded != nil)
    }

    /// Writes the identity file (once the database has counted something): a small file
    /// written to a temporary name, synced, renamed, and its directory synced.
    static func recordIdentity(_ identity: String, path: String) throws {
        let target = identityPath(path)
        let tmp = target + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw StoreError(message: "\(tmp): \(String(cString: strerror(errno)))") }
        let bytes = Array((identity + "\n").utf8)
        let ok = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == bytes.count && fsync(fd) == 0
        let e = errno
        close(fd)
        guard ok, rename(tmp, target) == 0 else {
            unlink(tmp)
            throw StoreError(message: "\(target): \(String(cString: strerror(ok ? errno : e)))")
        }
        let dir = open((target as NSString).deletingLastPathComponent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 {
            _ = fsync(dir)
            close(dir)
        }
    }
}
