import Foundation
import TestKit
import Testing

@testable import LinkCore

@Suite("Wire reader and writer")
struct WireTests {
    @Test("integers are big-endian and read back")
    func integers() throws {
        var w = WireWriter()
        w.u8(0xAB)
        w.u16(0x0102)
        w.u32(0x0304_0506)
        w.u64(0x0708_090A_0B0C_0D0E)
        w.i64(-2)
        #expect(
            w.bytes == [
                0xAB, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                0xFE,
            ])
        var r = WireReader(w.bytes)
        #expect(try r.u8("a") == 0xAB)
        #expect(try r.u16("b") == 0x0102)
        #expect(try r.u32("c") == 0x0304_0506)
        #expect(try r.u64("d") == 0x0708_090A_0B0C_0D0E)
        #expect(try r.i64("e") == -2)
        try r.finish("test")
    }

    @Test("a short read throws naming the field and the offset")
    func truncated() {
        var r = WireReader([0x00, 0x01, 0x02])
        #expect(throws: WireError.truncated(field: "sequence", offset: 0, needed: 1)) {
            try r.u32("sequence")
        }
    }

    @Test("a count the remaining bytes cannot hold fails before allocating")
    func hugeCount() {
        var r = WireReader([0xFF, 0xFF, 0x00])
        #expect(throws: WireError.truncated(field: "ids", offset: 2, needed: 65535 * 8 - 1)) {
            try r.count("ids", minElementSize: 8)
        }
    }

    @Test("trailing bytes, bad booleans and bad UTF-8 are errors")
    func strictness() {
        #expect(throws: WireError.trailingBytes(count: 1, after: "x")) { try WireReader([1]).finish("x") }
        var b = WireReader([2])
        #expect(throws: WireError.self) { try b.bool("flag") }
        var s = WireReader([0x00, 0x02, 0xC3, 0x28])
        #expect(throws: WireError.invalidValue(field: "text", detail: "not valid UTF-8")) {
            try s.string("text")
        }
    }

    @Test("strings longer than their length field are refused on write")
    func longString() {
        var w = WireWriter()
        #expect(throws: WireError.tooLarge(field: "officer", count: 256, limit: 255)) {
            try w.string(String(repeating: "x", count: 256), field: "officer", short: true)
        }
    }

    @Test("every microsecond in the message range survives Date and back")
    func times() throws {
        var rng = SeededGenerator(seed: 3)
        var samples: [Int64] = [0, 1, 999_999, 1_000_000, 1_748_736_000_123_456, 4_102_444_799_999_999]
        for _ in 0..<100_000 { samples.append(Int64.random(in: WireTime.messageRange, using: &rng)) }
        for us in samples {
            #expect(WireTime.microseconds(WireTime.date(us)) == us, "\(us)")
        }
        #expect(WireTime.microseconds(Date(timeIntervalSince1970: 1.0000004)) == 1_000_000)
        #expect(WireTime.microseconds(Date(timeIntervalSince1970: -0.25)) == -250_000)
        #expect(WireTime.microseconds(.distantFuture) > 0)
    }

    @Test("times outside 1970 to 2099 are refused both ways")
    func timeRange() {
        var w = WireWriter()
        #expect(throws: WireError.self) { try w.time(Date(timeIntervalSince1970: -1)) }
        #expect(throws: WireError.self) { try w.time(Date(timeIntervalSince1970: 4_102_444_800)) }
        var r = WireReader([0x80, 0, 0, 0, 0, 0, 0, 0])
        #expect(throws: WireError.self) { try r.time("t") }
    }
}
