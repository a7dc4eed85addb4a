import Testing

@testable import SentraCore

@Suite struct PayloadParserTests {
    func one(_ s: String, _ kind: DeviceKind = .loom) -> Result<Reading, RejectReason> {
        let r = PayloadParser.parse(Array(s.utf8), kind: kind)
        #expect(r.count == 1)
        return r[0]
    }
    func reason(_ s: String, _ kind: DeviceKind = .loom) -> RejectReason? {
        if case .failure(let r) = one(s, kind) { return r }
        return nil
    }

    @Test func parsesALoomReading() throws {
        let r = try one(#"{"ts":1764000000123,"seq":7,"picks":1200,"pieces":3,"run_s":3600,"state":"run","note":{"a":[1,2,{"b":null}]}}"#)
            .get()
        #expect(r.ts == 1_764_000_000_123)
        #expect(r.seq == 7)
        #expect(r[.picks] == 1200)
        #expect(r[.pieces] == 3)
        #expect(r[.runS] == 3600)
        #expect(r.state == .run)
        #expect(r[.v] == nil)
    }

    @Test func decimalValuesAreExact() throws {
        let r = try one(#"{ "v" : 219.7, "kwh": 12345.678, "w": -0.5e1 }"#, .power).get()
        #expect(r[.v] == 219.7)
        #expect(r[.kwh] == 12345.678)
        #expect(r[.w] == -5)
    }

    @Test func fieldsOfAnotherKindAreIgnored() {
        #expect(reason(#"{"v":220}"#, .loom) == .noMeasurement)
        #expect((try? one(#"{"v":220,"picks":5}"#, .loom).get())?[.v] == nil)
    }

    @Test func batchesRejectBadObjectsAlone() {
        let r = PayloadParser.parse(Array(#"[{"picks":1},{"picks":"x"},{"picks":-1},{"picks":3}]"#.utf8), kind: .loom)
        #expect(r.count == 4)
        #expect((try? r[0].get())?[.picks] == 1)
        #expect(r[1].failureReason == .badType)
        #expect(r[2].failureReason == .negativeCounter)
        #expect((try? r[3].get())?[.picks] == 3)
    }

    @Test func eachMalformedPayloadIsRejectedWithItsReason() {
        #expect(reason("not json") == .badJSON)
        #expect(reason(#"{"picks":1"#) == .badJSON)
        #expect(reason(#"{"picks":01}"#) == .badJSON)
        #expect(reason(#"{"picks":1} trailing"#) == .badJSON)
        #expect(reason("{}") == .noMeasurement)
        #expect(reason(#"{"ts":1}"#) == .noMeasurement)
        #expect(reason(#"{"picks":true}"#) == .badType)
        #expect(reason(#"{"ts":1.5,"picks":1}"#) == .badType)
        #expect(reason(#"{"state":"dancing"}"#) == .badType)
        #expect(reason(#"{"picks":1e999}"#) == .notFinite)
        #expect(reason(#"{"picks":NaN}"#) == .notFinite)
        #expect(reason(#"{"picks":-3}"#) == .negativeCounter)
        #expect(reason("{\"x\":\"\u{FF}\",\"picks\":1}".replacingOccurrences(of: "\u{FF}", with: "ÿ")) == nil)
        var bad = Array(#"{"x":"#.utf8)
        bad += [0x22, 0xC3, 0x28, 0x22, 0x2C]
        bad += Array(#""picks":1}"#.utf8)
        #expect(PayloadParser.parse(bad, kind: .loom).first?.failureReason == .badUTF8)
    }

    @Test func anOversizedObjectOrBatchIsTooLarge() {
        let pad = String(repeating: "a", count: 5000)
        #expect(reason(#"{"picks":1,"pad":"\#(pad)"}"#) == .tooLarge)
        let batch =
            "[" + Array(repeating: #"{"picks":1,"pad":"\#(String(repeating: "b", count: 3000))"}"#, count: 30).joined(separator: ",") + "]"
        #expect(PayloadParser.parse(Array(batch.utf8), kind: .loom).first?.failureReason == .tooLarge)
    }

    @Test func topicsParseUnderTheConfiguredPrefix() throws {
        #expect(
            try DeviceTopic.parse("sentra/ws-1/loom/loom-01").get()
                == DeviceTopic(key: DeviceKey(workshop: "ws-1", kind: .loom, id: "loom-01")))
        #expect(try DeviceTopic.parse("sentra/ws-1/power/pm-1/status").get().isStatus)
        #expect(DeviceTopic.parse("sentra/ws-1/gas/x").failureReason == .unknownKind)
        #expect(DeviceTopic.parse("sentra/WS/loom/x").failureReason == .badTopic)
        #expect(DeviceTopic.parse("sentra/-ws/loom/x").failureReason == .badTopic)
        #expect(DeviceTopic.parse("other/ws/loom/x").failureReason == .badTopic)
        #expect(DeviceTopic.parse("sentra/ws/loom/x/extra").failureReason == .badTopic)
        #expect(DeviceTopic.parse("sentra/ws/loom/" + String(repeating: "a", count: 64)).failureReason == .badTopic)
        // A configured prefix, of one or more levels, replaces `sentra`.
        #expect(try DeviceTopic.parse("coop/bandar/ws-1/loom/loom-01", prefix: "coop/bandar").get().key.id == "loom-01")
        #expect(DeviceTopic.parse("sentra/ws-1/loom/loom-01", prefix: "coop/bandar").failureReason == .badTopic)
        #expect(DeviceTopic.parse("coop/bandarx/ws-1/loom/loom-01", prefix: "coop/bandar").failureReason == .badTopic)
    }
}

extension Result {
    var failureReason: Failure? {
        if case .failure(let f) = self { return f }
        return nil
    }
}
