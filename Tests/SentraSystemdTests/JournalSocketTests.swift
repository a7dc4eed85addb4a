import Foundation
import SentraSystemd
import SentraTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct JournalSocketTests {
    @Test func fieldNamesAreUpperCaseASCIILettersDigitsAndUnderscores() {
        #expect(JournalEntry.fieldName("MESSAGE") == "MESSAGE")
        #expect(JournalEntry.fieldName("mqtt.topic") == "MQTT_TOPIC")
        #expect(JournalEntry.fieldName("SENTRA_" + "workshop") == "SENTRA_WORKSHOP")
        #expect(JournalEntry.fieldName("_hidden") == "HIDDEN")
        #expect(JournalEntry.fieldName("9lives") == "F9LIVES")
        #expect(JournalEntry.fieldName("") == "F" && JournalEntry.fieldName("__") == "F")
        // Letters and digits beyond ASCII are no part of a field name.
        #expect(JournalEntry.fieldName("größe") == "GR__E")
        #expect(JournalEntry.fieldName("x²") == "X_")
        #expect(JournalEntry.fieldName(String(repeating: "a", count: 100)) == String(repeating: "A", count: 64))
    }

    @Test func valuesWithANewlineUseTheBinarySafeForm() {
        var entry = JournalEntry()
        entry.append("MESSAGE", "one line")
        entry.append("SENTRA_SUMMARY", "two\r\nlines")
        let binary = "two\r\nlines"
        let length = withUnsafeBytes(of: UInt64(binary.utf8.count).littleEndian) { Array($0) }
        #expect(entry.bytes == Array("MESSAGE=one line\nSENTRA_SUMMARY\n".utf8) + length + Array("\(binary)\n".utf8))
    }

    @Test func anEntryIsOneDatagramOnTheSocket() throws {
        let path = temporaryDirectory() + "/journal.sock"
        let fd = try bound(path)
        defer { close(fd) }
        let socket = try JournalSocket.open(path: path, identifier: "sentra-test")
        var entry = JournalEntry()
        entry.append("MESSAGE", "hello\nworld")
        entry.append("SYSLOG_IDENTIFIER", socket.identifier)
        try socket.send(entry)
        var buf = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &buf, buf.count, Int32(MSG_DONTWAIT))
        #expect(n == entry.bytes.count && Array(buf[0..<max(n, 0)]) == entry.bytes)
    }

    @Test func aSendNobodyTakesThrowsAndAnImpossiblePathIsRefused() throws {
        let socket = try JournalSocket.open(path: temporaryDirectory() + "/nobody.sock", identifier: "sentra-test")
        var entry = JournalEntry()
        entry.append("MESSAGE", "lost")
        #expect(throws: JournalError.self) { try socket.send(entry) }
        let long = "/tmp/" + String(repeating: "x", count: 200)
        #expect(JournalSocket(path: long, identifier: "sentra-test") == nil)
        #expect { try JournalSocket.open(path: long, identifier: "sentra-test") } throws: { ($0 as? JournalError)?.errno == ENAMETOOLONG }
    }

    /// A datagram socket bound at `path`, as journald's.
    private func bound(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { p in for (i, b) in path.utf8.enumerated() { p[i] = b } }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(rc == 0)
        return fd
    }
}
