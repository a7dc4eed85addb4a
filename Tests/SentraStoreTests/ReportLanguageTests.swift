import Testing

@testable import SentraStore

/// `sentractl report --format table` in each language; CSV and JSON the same in all.
@Suite struct ReportLanguageTests {
    static func report(from: String = "2026-11-23", to: String = "2026-11-23") -> ProductionReport {
        ProductionReport(
            from: from, to: to,
            craftsmen: [
                .init(
                    craftsman: "c-a", name: "Pak A", workshop: "ws-a", pieces: 1234, picks: 1_234_567, runMillis: 7_500_000,
                    kwh: 12.3456, waterL: 1500.25, utilisation: 0.5)
            ],
            unattributed: [.init(workshop: "ws-a", kwh: 2.5, waterL: 0)],
            looms: [
                .init(
                    loom: "loom-1", workshop: "ws-a", craftsman: "c-a", pieces: 1234, picks: 1_234_567, runMillis: 7_500_000,
                    stopMillis: 60_000, faultMillis: 0, stoppages: 3, utilisation: 0.5)
            ],
            workshops: [
                .init(
                    workshop: "ws-a", pieces: 1234, picks: 1_234_567, runMillis: 7_500_000, kwh: 14.8456, waterL: 1500.25,
                    voltageOutMillis: 0, noPowerMillis: 3_600_000)
            ])
    }

    func lines(_ text: String) -> [String] { text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }

    @Test func anIndonesianTableHasIndonesianWordsNumbersAndDates() {
        let t = lines(Self.report().render(.table, by: .craftsman, language: .id))
        #expect(t[0] == "Produksi pada Senin, 23 Nov 2026")
        #expect(t[2].split(separator: " ").prefix(3) == ["pengrajin", "nama", "rumah"])
        #expect(t[2].contains("lembar") && t[2].contains("L/lembar"))
        let row = t[4].split(separator: " ").map(String.init)
        #expect(row == ["c-a", "Pak", "A", "ws-a", "1.234", "1.234.567", "2:05", "50%", "12,346", "1.500,3", "0,01", "1,2"])
        #expect(t[5].split(separator: " ") == ["(tanpa", "pengrajin)", "ws-a", "2,5", "0"])
    }

    @Test func anEnglishTableIsAsBeforeWithThousandsGrouped() {
        let t = lines(Self.report(to: "2026-11-29").render(.table, by: .craftsman, language: .en))
        #expect(t[0] == "Production from Monday, 23 Nov 2026 to Sunday, 29 Nov 2026")
        #expect(t[2].split(separator: " ").prefix(3) == ["craftsman", "name", "workshop"])
        let row = t[4].split(separator: " ").map(String.init)
        #expect(row == ["c-a", "Pak", "A", "ws-a", "1,234", "1,234,567", "2:05", "50%", "12.346", "1,500.3", "0.01", "1.2"])
        #expect(t[5].split(separator: " ") == ["(unattributed)", "ws-a", "2.5", "0"])
    }

    @Test func loomAndWorkshopTablesAreLocalisedToo() {
        let looms = lines(Self.report().render(.table, by: .loom, language: .id))
        #expect(looms[2].hasPrefix("alat tenun") && looms[2].contains("kali berhenti"))
        let workshops = lines(Self.report().render(.table, by: .workshop, language: .id))
        #expect(workshops[2].contains("tegangan menyimpang") && workshops[2].hasSuffix("listrik padam"))
        #expect(workshops[4].contains("14,846"))
    }

    @Test func csvAndJSONAreTheSameInEveryLanguage() {
        let r = Self.report()
        let csv = r.render(.csv, by: .craftsman, language: .id)
        #expect(csv == r.render(.csv, by: .craftsman, language: .en))
        #expect(
            csv == """
                craftsman,name,workshop,pieces,picks,running,util,kWh,litres,kWh/piece,L/piece
                c-a,Pak A,ws-a,1234,1234567,2:05,50%,12.346,1500.3,0.01,1.2
                (unattributed),,ws-a,,,,,2.5,0,,

                """)
        #expect(r.render(.json, by: .loom, language: .id) == r.render(.json, by: .loom, language: .en))
        #expect(r.render(.csv, by: .workshop, language: .id).hasPrefix("workshop,pieces,picks,running,kWh,litres,V out of band,no power\n"))
    }
}
