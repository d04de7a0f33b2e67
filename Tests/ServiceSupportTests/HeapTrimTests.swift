import Foundation
import ServiceSupport
import Testing

/// glibc keeps freed heap; HeapTrim hands it back.
@Suite(.serialized) struct HeapTrimTests {
    /// Resident memory now, from /proc/self/statm (pages).
    static func residentBytes() throws -> Int {
        let statm = try String(contentsOfFile: "/proc/self/statm", encoding: .utf8)
        let pages = try #require(Int(statm.split(separator: " ")[1]))
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    @Test func freedHeapHeldBetweenLiveBlocksGoesBackToTheSystem() throws {
        #expect(HeapTrim.isAvailable, "glibc has malloc_trim")
        // 200 MiB in 4 KiB blocks (below glibc's mmap threshold, so on the
        // heap), one in a hundred kept: free() alone cannot shrink a heap
        // whose top is still in use, so this is what glibc keeps.
        let count = 51_200
        var blocks: [UnsafeMutableRawPointer?] = (0..<count).map { _ in
            let block = malloc(4096)
            if let block { memset(block, 0x5A, 4096) }  // touched, so resident
            return block
        }
        for i in blocks.indices where i % 100 != 0 {
            free(blocks[i])
            blocks[i] = nil
        }
        let before = try Self.residentBytes()
        HeapTrim.now()
        let after = try Self.residentBytes()
        for block in blocks { free(block) }
        #expect(
            before - after > 100 << 20,
            "resident \(before >> 20) MiB before the trim, \(after >> 20) MiB after")
    }
}
