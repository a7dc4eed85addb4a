import Foundation
import SentraProcess
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Many sentras and a region, on real engines on loopback: mosquitto bridges, Prometheus
/// agents and a regional Prometheus (docs/region.md).
@Suite(.serialized) struct RegionTests {
    /// Three sentras replay a day each while the region (its mosquitto and Prometheus) is cut
    /// off for a while; once it is back, the regional totals equal each sentra's report and the
    /// simulator's truth, and `sentractl region tail` showed every alert line once.
    @Test func threeSentrasAndARegionAgreeAfterTheRegionWasCutOff() throws {
        let work = Paths.tempDir("region-demo")
        defer { try? FileManager.default.removeItem(at: work) }
        let bin = (Paths.binary("sentrad") as NSString).deletingLastPathComponent
        let demo = Paths.root.appendingPathComponent("scripts/region-demo").path
        let (code, output) = try run("/usr/bin/python3", [demo, "--bin", bin, "--workdir", work.path, "--cut", "20"], timeout: 1200)
        #expect(code == 0, "\(output)")

        // The engines' own answers, read here: the regional Prometheus's, each report, each truth.
        let regional = try Self.json(work.appendingPathComponent("regional.json")) as? [[String: Any]] ?? []
        var fromRegion: [String: [String: Double]] = [:]
        for r in regional {
            let m = r["metric"] as? [String: String] ?? [:]
            let v = Double((r["value"] as? [Any])?.last as? String ?? "") ?? -1
            fromRegion[m["sentra"] ?? "?", default: [:]][m["craftsman"] ?? ""] = v
        }
        let sentras = ["bandar-kidul", "tanjung-sari", "kali-putih"]
        #expect(Set(fromRegion.keys) == Set(sentras))
        var totalPieces = 0.0
        for s in sentras {
            let report = try Self.json(work.appendingPathComponent("report-\(s).json")) as? [String: Any]
            let truth = try Self.json(work.appendingPathComponent("\(s)/truth.json")) as? [String: Any]
            let reported = Self.pieces(report?["craftsmen"])
            let truthful = Self.pieces((truth?["total"] as? [String: Any])?["craftsmen"])
            #expect(reported.count == 8)
            for (craftsman, pieces) in truthful {
                #expect(reported[craftsman] == pieces, "\(s) \(craftsman): report vs truth")
                if pieces > 0 { #expect(fromRegion[s]?[craftsman] == pieces, "\(s) \(craftsman): region vs truth") }
                totalPieces += pieces
            }
        }
        #expect(totalPieces > 0)

        // Every line of every sentra's alert log, shown once by the regional tail, unchanged
        // but for the sentra it names.
        let tail = try String(contentsOf: work.appendingPathComponent("tail.jsonl"), encoding: .utf8).split(separator: "\n")
        var shown: [String: NSDictionary] = [:]
        for line in tail {
            guard var e = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let s = e["sentra"] as? String
            else {
                Issue.record("not an event with a sentra: \(line)")
                continue
            }
            e["sentra"] = nil
            let key = "\(s)/\(e["seq"] ?? "")"
            #expect(shown[key] == nil, "\(key) shown twice")
            shown[key] = e as NSDictionary
        }
        for s in sentras {
            let log = try String(contentsOf: work.appendingPathComponent("\(s)/log/alerts.jsonl"), encoding: .utf8).split(separator: "\n")
            #expect(!log.isEmpty)
            for line in log {
                let e = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? NSDictionary
                #expect(shown["\(s)/\(e?["seq"] ?? "")"] == e, "\(s): \(line)")
            }
        }
        // The tail was following when the region went away and came back.
        let tailLog = try String(contentsOf: work.appendingPathComponent("tail.log"), encoding: .utf8)
        #expect(tailLog.contains("lost the regional broker"))
    }

    /// A sentra cut off for hours sends its samples late. The regional Prometheus as shipped
    /// takes them (its out-of-order window); without the window it refuses them, and the agent
    /// does not retry a refusal.
    @Test func theRegionTakesSamplesThatArriveHoursLate() async throws {
        let shipped = try String(
            contentsOf: Paths.root.appendingPathComponent("deploy/region/region/prometheus.yml"), encoding: .utf8)
        #expect(shipped.contains("out_of_order_time_window: 30h"))
        let now = nowMillis()
        for (config, late) in [(shipped, 204), (shipped.replacingOccurrences(of: "out_of_order_time_window: 30h", with: ""), 400)] {
            let dir = Paths.tempDir("region-prometheus")
            defer { try? FileManager.default.removeItem(at: dir) }
            let (p, port) = try await Self.regionalPrometheus(config, dir: dir)
            defer { p.stop() }
            let url = URL(string: "http://127.0.0.1:\(port)/api/v1/write")!
            // One sentra's sample now, then another's from three hours ago.
            #expect(try await RemoteWrite.send(url, labels: ["__name__": "sentra_pieces_total", "sentra": "a"], value: 5, at: now) == 204)
            let old = now - 3 * 3_600_000
            #expect(try await RemoteWrite.send(url, labels: ["__name__": "sentra_pieces_total", "sentra": "b"], value: 7, at: old) == late)
        }
    }

    /// A regional Prometheus on a free loopback port, with `config` (the shipped file, or a
    /// changed copy) and the shipped rules, its data in `dir`.
    static func regionalPrometheus(_ config: String? = nil, dir: URL) async throws -> (Child, Int) {
        let shipped = Paths.root.appendingPathComponent("deploy/region/region")
        let text = try config ?? String(contentsOf: shipped.appendingPathComponent("prometheus.yml"), encoding: .utf8)
        let file = dir.appendingPathComponent("prometheus.yml")
        try text.replacingOccurrences(of: "/etc/prometheus/sentra-region-rules.yml", with: shipped.appendingPathComponent("rules.yml").path)
            .write(to: file, atomically: true, encoding: .utf8)
        let port = freePort()
        let p = try await startLoopbackServer(
            "/usr/bin/prometheus", package: "prometheus",
            [
                "--config.file=\(file.path)", "--storage.tsdb.path=\(dir.path)/tsdb", "--web.enable-remote-write-receiver",
                "--web.listen-address=127.0.0.1:\(port)",
            ], port: port, dir: dir)
        // The port accepts before the TSDB is open; until then remote write is refused.
        let ready = URL(string: "http://127.0.0.1:\(port)/-/ready")!
        try await eventually("the regional Prometheus ready") {
            let answer = try? await URLSession.shared.data(for: URLRequest(url: ready, timeoutInterval: 5))
            return (answer?.1 as? HTTPURLResponse)?.statusCode == 200
        }
        return (p, port)
    }

    static func json(_ url: URL) throws -> Any { try JSONSerialization.jsonObject(with: Data(contentsOf: url)) }

    static func pieces(_ craftsmen: Any?) -> [String: Double] {
        var out: [String: Double] = [:]
        for c in craftsmen as? [[String: Any]] ?? [] {
            if let id = c["craftsman"] as? String { out[id] = (c["pieces"] as? NSNumber)?.doubleValue }
        }
        return out
    }
}

/// Prometheus remote write 1.0 by hand: a WriteRequest in protobuf, snappy-framed as literals.
enum RemoteWrite {
    static func send(_ url: URL, labels: [String: String], value: Double, at ms: Int64) async throws -> Int {
        var series: [UInt8] = []
        for (k, v) in labels.sorted(by: { $0.key < $1.key }) {
            field(1, message: field(1, bytes: Array(k.utf8)) + field(2, bytes: Array(v.utf8)), into: &series)
        }
        var sample: [UInt8] = [0x09]
        withUnsafeBytes(of: value.bitPattern.littleEndian) { sample += $0 }
        sample += [0x10] + varint(UInt64(bitPattern: ms))
        field(2, message: sample, into: &series)
        var request: [UInt8] = []
        field(1, message: series, into: &request)
        var r = URLRequest(url: url, timeoutInterval: 10)
        r.httpMethod = "POST"
        r.setValue("snappy", forHTTPHeaderField: "Content-Encoding")
        r.setValue("application/x-protobuf", forHTTPHeaderField: "Content-Type")
        r.setValue("0.1.0", forHTTPHeaderField: "X-Prometheus-Remote-Write-Version")
        r.httpBody = Data(snappy(request))
        let (_, response) = try await URLSession.shared.data(for: r)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }

    static func varint(_ v: UInt64) -> [UInt8] {
        var v = v
        var out: [UInt8] = []
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        return out + [UInt8(v)]
    }

    static func field(_ n: UInt64, bytes: [UInt8]) -> [UInt8] { varint(n << 3 | 2) + varint(UInt64(bytes.count)) + bytes }

    static func field(_ n: UInt64, message: [UInt8], into out: inout [UInt8]) { out += field(n, bytes: message) }

    /// Snappy's block format with every byte a literal (valid, uncompressed): fine for a test.
    static func snappy(_ data: [UInt8]) -> [UInt8] {
        precondition(data.count <= 65_536)
        var out = varint(UInt64(data.count))
        let n = data.count - 1
        if n < 60 {
            out.append(UInt8(n << 2))
        } else if n < 256 {
            out += [60 << 2, UInt8(n)]
        } else {
            out += [61 << 2, UInt8(n & 0xFF), UInt8(n >> 8)]
        }
        return out + data
    }
}
