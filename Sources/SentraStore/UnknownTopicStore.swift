import Foundation
import GRDB
import SentraCore

/// Topics the broker delivered that no configured device claims (`sentractl devices unknown`):
/// at most `UnknownTopics.limit` rows, the ones heard most recently.
extension ProductionStore {
    static func migrateDevices(_ db: Database) throws {
        try db.execute(
            sql: """
                ALTER TABLE device_state ADD COLUMN skew_ms INTEGER;
                CREATE TABLE unknown_topic (
                    topic TEXT PRIMARY KEY, count INTEGER NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
                    sample BLOB NOT NULL, discovery INTEGER NOT NULL
                ) WITHOUT ROWID;
                """)
    }

    static func saveUnknownTopics(_ topics: [UnknownTopic], _ db: Database) throws {
        guard !topics.isEmpty else { return }
        let upsert = try db.cachedStatement(
            sql: """
                INSERT INTO unknown_topic (topic, count, first_seen, last_seen, sample, discovery) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (topic) DO UPDATE SET count = count + excluded.count, last_seen = MAX(last_seen, excluded.last_seen),
                    sample = excluded.sample, discovery = excluded.discovery
                """)
        for t in topics {
            try upsert.execute(arguments: [t.topic, Int64(clamping: t.count), t.firstSeen, t.lastSeen, Data(t.sample), t.discovery])
        }
        try db.execute(
            sql: """
                DELETE FROM unknown_topic WHERE topic NOT IN (SELECT topic FROM unknown_topic ORDER BY last_seen DESC LIMIT ?)
                """, arguments: [UnknownTopics.limit])
    }

    /// The topics no device claimed, heard most recently first.
    public func unknownTopics() throws -> [UnknownTopic] {
        try pool.read { db in
            // A database the daemon of an older version last wrote has no such table yet.
            guard try db.tableExists("unknown_topic") else { return [] }
            return try Row.fetchAll(db, sql: "SELECT * FROM unknown_topic ORDER BY last_seen DESC, topic").map { row in
                UnknownTopic(
                    topic: row["topic"], count: UInt64(max(0, row["count"] as Int64)), firstSeen: row["first_seen"],
                    lastSeen: row["last_seen"], sample: [UInt8](row["sample"] as Data), discovery: row["discovery"])
            }
        }
    }
}
