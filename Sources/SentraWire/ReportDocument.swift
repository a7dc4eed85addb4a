/// Production over the local days `from` through `to`: what `sentractl report --format json`
/// prints and `GET /api/v1/production` answers (the same document). Numbers are as the report
/// rounds them (6 decimals; 4 for the ratios); durations are whole seconds.
public struct ReportDocument: Codable, Sendable, Equatable {
    public var from: String
    public var to: String
    /// Every configured craftsman, then any no longer configured who made something.
    public var craftsmen: [CraftsmanRow]
    /// Workshop meters' energy and water that no craftsman's running looms carried.
    public var unattributed: [UnattributedRow]
    /// With `--by loom` (`?by=loom`) only.
    public var looms: [LoomRow]?
    /// With `--by workshop` (`?by=workshop`) only.
    public var workshops: [WorkshopRow]?

    public init(
        from: String, to: String, craftsmen: [CraftsmanRow], unattributed: [UnattributedRow], looms: [LoomRow]? = nil,
        workshops: [WorkshopRow]? = nil
    ) {
        self.from = from
        self.to = to
        self.craftsmen = craftsmen
        self.unattributed = unattributed
        self.looms = looms
        self.workshops = workshops
    }

    public struct CraftsmanRow: Codable, Sendable, Equatable {
        public var craftsman: String
        public var name: String
        public var workshop: String
        public var pieces: Double
        public var picks: Double
        public var runSeconds: Int
        public var kwh: Double
        public var waterL: Double
        @Nullable public var kwhPerPiece: Double?
        @Nullable public var litresPerPiece: Double?
        /// Running time over the shift time of his looms; null without shift time.
        @Nullable public var utilisation: Double?

        public init(
            craftsman: String, name: String, workshop: String, pieces: Double, picks: Double, runSeconds: Int, kwh: Double,
            waterL: Double, kwhPerPiece: Double?, litresPerPiece: Double?, utilisation: Double?
        ) {
            self.craftsman = craftsman
            self.name = name
            self.workshop = workshop
            self.pieces = pieces
            self.picks = picks
            self.runSeconds = runSeconds
            self.kwh = kwh
            self.waterL = waterL
            self.kwhPerPiece = kwhPerPiece
            self.litresPerPiece = litresPerPiece
            self.utilisation = utilisation
        }

        enum CodingKeys: String, CodingKey {
            case craftsman, name, workshop, pieces, picks, kwh, utilisation
            case runSeconds = "run_seconds"
            case waterL = "water_l"
            case kwhPerPiece = "kwh_per_piece"
            case litresPerPiece = "litres_per_piece"
        }
    }

    public struct UnattributedRow: Codable, Sendable, Equatable {
        public var workshop: String
        public var kwh: Double
        public var waterL: Double

        public init(workshop: String, kwh: Double, waterL: Double) {
            self.workshop = workshop
            self.kwh = kwh
            self.waterL = waterL
        }

        enum CodingKeys: String, CodingKey {
            case workshop, kwh
            case waterL = "water_l"
        }
    }

    public struct LoomRow: Codable, Sendable, Equatable {
        public var loom: String
        public var workshop: String
        public var craftsman: String
        public var pieces: Double
        public var picks: Double
        public var runSeconds: Int
        public var stopSeconds: Int
        public var faultSeconds: Int
        public var stoppages: Double
        @Nullable public var utilisation: Double?

        public init(
            loom: String, workshop: String, craftsman: String, pieces: Double, picks: Double, runSeconds: Int, stopSeconds: Int,
            faultSeconds: Int, stoppages: Double, utilisation: Double?
        ) {
            self.loom = loom
            self.workshop = workshop
            self.craftsman = craftsman
            self.pieces = pieces
            self.picks = picks
            self.runSeconds = runSeconds
            self.stopSeconds = stopSeconds
            self.faultSeconds = faultSeconds
            self.stoppages = stoppages
            self.utilisation = utilisation
        }

        enum CodingKeys: String, CodingKey {
            case loom, workshop, craftsman, pieces, picks, stoppages, utilisation
            case runSeconds = "run_seconds"
            case stopSeconds = "stop_seconds"
            case faultSeconds = "fault_seconds"
        }
    }

    public struct WorkshopRow: Codable, Sendable, Equatable {
        public var workshop: String
        public var pieces: Double
        public var picks: Double
        public var runSeconds: Int
        /// Every meter of the workshop, whoever it is bound to.
        public var kwh: Double
        public var waterL: Double
        public var voltageOutOfBandSeconds: Int
        public var noPowerSeconds: Int

        public init(
            workshop: String, pieces: Double, picks: Double, runSeconds: Int, kwh: Double, waterL: Double, voltageOutOfBandSeconds: Int,
            noPowerSeconds: Int
        ) {
            self.workshop = workshop
            self.pieces = pieces
            self.picks = picks
            self.runSeconds = runSeconds
            self.kwh = kwh
            self.waterL = waterL
            self.voltageOutOfBandSeconds = voltageOutOfBandSeconds
            self.noPowerSeconds = noPowerSeconds
        }

        enum CodingKeys: String, CodingKey {
            case workshop, pieces, picks, kwh
            case runSeconds = "run_seconds"
            case waterL = "water_l"
            case voltageOutOfBandSeconds = "voltage_out_of_band_seconds"
            case noPowerSeconds = "no_power_seconds"
        }
    }
}
