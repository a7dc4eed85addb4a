import SentraCore

/// The sentra as the daemon understands its configuration: `sentractl registry --format json`.
public struct RegistryDocument: Codable, Sendable, Equatable {
    public var workshops: [WorkshopEntry]
    public var craftsmen: [CraftsmanEntry]
    public var looms: [LoomEntry]
    public var devices: [DeviceEntry]

    public init(workshops: [WorkshopEntry], craftsmen: [CraftsmanEntry], looms: [LoomEntry], devices: [DeviceEntry]) {
        self.workshops = workshops
        self.craftsmen = craftsmen
        self.looms = looms
        self.devices = devices
    }

    /// A registry's document; a loom's craftsman is its current one.
    public init(_ r: Registry) {
        workshops = r.workshops.map { WorkshopEntry(id: $0.id, name: $0.name) }
        craftsmen = r.craftsmen.map { CraftsmanEntry(id: $0.id, name: $0.name, workshop: $0.workshop) }
        looms = r.looms.map { LoomEntry(id: $0.id, craftsman: $0.currentCraftsman, workshop: $0.workshop) }
        devices = r.devices.map { DeviceEntry(id: $0.id, workshop: $0.workshop, kind: $0.kind, loom: $0.loom, craftsman: $0.craftsman) }
    }

    public struct WorkshopEntry: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        public init(id: String, name: String) {
            self.id = id
            self.name = name
        }
    }

    public struct CraftsmanEntry: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        public var workshop: String
        public init(id: String, name: String, workshop: String) {
            self.id = id
            self.name = name
            self.workshop = workshop
        }
    }

    public struct LoomEntry: Codable, Sendable, Equatable {
        public var id: String
        public var craftsman: String
        public var workshop: String
        public init(id: String, craftsman: String, workshop: String) {
            self.id = id
            self.craftsman = craftsman
            self.workshop = workshop
        }
    }

    public struct DeviceEntry: Codable, Sendable, Equatable {
        public var id: String
        public var workshop: String
        public var kind: DeviceKind
        /// The loom a loom board counts for.
        @Nullable public var loom: String?
        /// The craftsman a meter is bound to; null for a workshop's shared meter.
        @Nullable public var craftsman: String?
        public init(id: String, workshop: String, kind: DeviceKind, loom: String?, craftsman: String?) {
            self.id = id
            self.workshop = workshop
            self.kind = kind
            self.loom = loom
            self.craftsman = craftsman
        }
    }
}
