import TestKit
import Testing

@testable import LinkCore

@Suite("CRC-32C")
struct CRCTests {
    @Test("the standard check value for \"123456789\"")
    func checkValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test("published vectors (RFC 3720 appendix B.4)")
    func iscsiVectors() {
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum([]) == 0)
    }

    @Test("fed in pieces equals fed at once")
    func incremental() {
        var rng = SeededGenerator(seed: 7)
        let bytes = (0..<1000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        var state = CRC32C.State()
        var i = 0
        while i < bytes.count {
            let n = min(Int.random(in: 0...50, using: &rng), bytes.count - i)
            state.update(bytes[i..<i + n])
            i += n
        }
        #expect(state.value == CRC32C.checksum(bytes))
        // A non-contiguous sequence takes the other path through update.
        #expect(CRC32C.checksum(bytes.lazy.map { $0 }) == CRC32C.checksum(bytes))
    }
}
