import Foundation
import GRDB
import SentraCore

/// A craftsman's personal link: a secret token that lets a browser see his own numbers only
/// (docs/access.md). `sentractl access` writes these rows; the daemon reads them.
public struct AccessToken: Sendable, Equatable {
    /// The short public id (`t-3f9a`): what `sentractl access list` shows and `revoke` takes.
    public var id: String
    public var craftsman: String
    /// 32 random bytes, base64url without padding (43 characters).
    public var token: String
    public var label: String
    /// Milliseconds since the epoch.
    public var created: Int64
    public var revoked: Int64?

    public init(id: String, craftsman: String, token: String, label: String, created: Int64, revoked: Int64? = nil) {
        self.id = id
        self.craftsman = craftsman
        self.token = token
        self.label = label
        self.created = created
        self.revoked = revoked
    }

    /// A new secret: 32 bytes from the system's random number generator, base64url.
    public static func newSecret() -> String {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// A new public id, `t-` and four hex digits.
    static func newID() -> String {
        var rng = SystemRandomNumberGenerator()
        return "t-" + String(format: "%04x", UInt16.random(in: 0...UInt16.max, using: &rng))
    }
}

extension ProductionStore {
    static func migrateAccess(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE access_token (
                    id TEXT PRIMARY KEY, craftsman TEXT NOT NULL, token TEXT NOT NULL UNIQUE, label TEXT NOT NULL,
                    created INTEGER NOT NULL, revoked INTEGER
                );
                """)
    }

    /// Adds a token for `craftsman` with a fresh secret and a public id no other token has.
    public func addAccessToken(craftsman: String, label: String, now: Int64) throws -> AccessToken {
        try pool.write { db in
            var id = AccessToken.newID()
            // 65,536 ids: after a few collisions the id grows rather than loop for long.
            var attempts = 0
            while try Bool.fetchOne(db, sql: "SELECT 1 FROM access_token WHERE id = ?", arguments: [id]) == true {
                attempts += 1
                id = attempts < 8 ? AccessToken.newID() : AccessToken.newID() + String(format: "%02x", attempts)
            }
            let t = AccessToken(id: id, craftsman: craftsman, token: AccessToken.newSecret(), label: label, created: now)
            try db.execute(
                sql: "INSERT INTO access_token (id, craftsman, token, label, created, revoked) VALUES (?, ?, ?, ?, ?, NULL)",
                arguments: [t.id, t.craftsman, t.token, t.label, t.created])
            return t
        }
    }

    /// Every token, revoked ones included, oldest first.
    public func accessTokens() throws -> [AccessToken] {
        try pool.read { db in
            // A database no version with personal links has migrated yet has none.
            guard try db.tableExists("access_token") else { return [] }
            return try Row.fetchAll(db, sql: "SELECT * FROM access_token ORDER BY created, id").map { row in
                AccessToken(
                    id: row["id"], craftsman: row["craftsman"], token: row["token"], label: row["label"], created: row["created"],
                    revoked: row["revoked"])
            }
        }
    }

    /// The tokens not revoked.
    public func activeAccessTokens() throws -> [AccessToken] {
        try accessTokens().filter { $0.revoked == nil }
    }

    /// Revokes the token with public id `id`: true when it existed (revoking twice keeps the
    /// first moment), false when no token has that id.
    public func revokeAccessToken(id: String, now: Int64) throws -> Bool {
        try pool.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM access_token WHERE id = ?", arguments: [id]) == true else {
                return false
            }
            try db.execute(sql: "UPDATE access_token SET revoked = ? WHERE id = ? AND revoked IS NULL", arguments: [now, id])
            return true
        }
    }
}
