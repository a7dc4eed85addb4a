import GRDB

extension ProductionStore {
    /// The schema steps this version of Sentra knows, in the order they run ("v1", "v2-totals",
    /// …). A new version adds steps at the end and never changes one that shipped; the first
    /// start of a new version runs the ones the database lacks.
    public static var schemaSteps: [String] { migrator.migrations }

    /// Refuses a database that a newer Sentra has migrated: one holding schema steps this
    /// version does not know (a downgrade). Writing there could spoil what the newer version
    /// keeps, so nothing is opened for writing and nothing is changed.
    static func refuseNewerSchema(_ pool: DatabasePool, path: String) throws {
        let unknown = try pool.read { db in
            try migrator.appliedIdentifiers(db).subtracting(schemaSteps).sorted()
        }
        guard !unknown.isEmpty else { return }
        throw newerSchema(path, unknown)
    }

    static func newerSchema(_ path: String, _ unknown: [String]) -> StoreError {
        StoreError(
            .newerSchema,
            """
            the state database \(path) was migrated by a newer Sentra: it has the schema steps \
            \(unknown.joined(separator: ", ")), which this version (up to \(schemaSteps.last ?? "-")) does not know. \
            Nothing was changed. Install that newer version again, or restore the backup of the state taken \
            before the upgrade (docs/operations.md, "Upgrades and downgrades")
            """)
    }
}
