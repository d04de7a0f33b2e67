import Foundation
import NIOCore
import TestKit
import Testing

@testable import Central

/// The HTTP door's pieces without a socket: the head guard's scan fed in
/// every split, and the hashing pool's queue limit.
@Suite struct HTTPDoorTests {
    static let limits = HTTPLimits(requestLine: 64, headers: 256)

    enum Outcome: Equatable {
        case passed  // the head ended within the limits
        case refused(HTTPHeadGuard.Refusal)
        case incomplete
    }

    /// Feeds `bytes` to a fresh guard in pieces of the given sizes (the last
    /// piece takes the rest).
    static func feed(_ bytes: [UInt8], splits: [Int]) -> Outcome {
        let guardHandler = HTTPHeadGuard(limits: limits)
        var rest = bytes[...]
        var sizes = splits[...]
        while !rest.isEmpty {
            let size = min(rest.count, max(1, sizes.popFirst() ?? rest.count))
            let piece = ByteBuffer(bytes: rest.prefix(size))
            rest = rest.dropFirst(size)
            if let refusal = guardHandler.scan(piece) { return .refused(refusal) }
            if guardHandler.phase == .body { return .passed }
        }
        return .incomplete
    }

    /// One byte at a time, in halves, and in 200 random splits: the same outcome.
    static func everySplit(_ text: String, line: Int = #line) -> Outcome {
        let bytes = Array(text.utf8)
        let whole = feed(bytes, splits: [])
        #expect(
            feed(bytes, splits: Array(repeating: 1, count: bytes.count)) == whole,
            "byte by byte, line \(line)")
        #expect(feed(bytes, splits: [bytes.count / 2]) == whole, "halves, line \(line)")
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let splits = (0..<bytes.count).map { _ in Int.random(in: 1...40, using: &rng) }
            #expect(feed(bytes, splits: splits) == whole, "random splits \(splits.prefix(8)), line \(line)")
        }
        return whole
    }

    @Test func headsWithinTheLimitsPassInAnySplit() {
        #expect(Self.everySplit("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n") == .passed)
        // LF-only line ends, a blank line before the request line, no headers.
        #expect(Self.everySplit("GET / HTTP/1.1\nHost: x\n\n") == .passed)
        #expect(Self.everySplit("\r\nGET / HTTP/1.1\r\n\r\n") == .passed)
        // Exactly at the limits.
        let target = String(repeating: "a", count: 64 - "GET / HTTP/1.1".utf8.count)
        #expect(Self.everySplit("GET /\(target) HTTP/1.1\r\n\r\n") == .passed)
        let header = "X: " + String(repeating: "b", count: 256 - 7) + "\r\n"  // 256 bytes with the blank line
        #expect(Self.everySplit("GET / HTTP/1.1\r\n\(header)\r\n") == .passed)
    }

    @Test func aLongRequestLineIsRefusedWithoutWaitingForItsEnd() {
        let target = String(repeating: "a", count: 65 - "GET / HTTP/1.1".utf8.count)
        #expect(Self.everySplit("GET /\(target) HTTP/1.1\r\n\r\n") == .refused(.requestLineTooLong))
        // 100 KB with no line end yet: refused as soon as the limit is passed.
        #expect(
            Self.feed(Array(("GET /" + String(repeating: "a", count: 100_000)).utf8), splits: [70])
                == .refused(.requestLineTooLong))
    }

    @Test func largeHeadersAreRefusedAndTheCountIsOverAllFields() {
        let header = "X: " + String(repeating: "b", count: 256 - 6) + "\r\n"
        #expect(Self.everySplit("GET / HTTP/1.1\r\n\(header)\r\n") == .refused(.headersTooLarge))
        let many = (0..<40).map { "H\($0): v\r\n" }.joined()
        #expect(Self.everySplit("GET / HTTP/1.1\r\n\(many)\r\n") == .refused(.headersTooLarge))
        // Carriage returns alone never end a head.
        #expect(Self.everySplit("GET / HTTP/1.1\r\nA: b\r\r\r\r") == .incomplete)
    }

    @Test func connectionCapsCountPerPeerAndInAllAndFreeOnClose() {
        let counter = ConnectionCounter(limits: HTTPLimits(connectionsPerPeer: 2, connections: 3))
        #expect(counter.open("10.0.0.1") && counter.open("10.0.0.1"))
        #expect(!counter.open("10.0.0.1"))  // the peer's cap
        #expect(counter.open("10.0.0.2"))
        #expect(!counter.open("10.0.0.3"))  // the cap in all, though this peer has none open
        counter.close("10.0.0.1")
        #expect(counter.open("10.0.0.3"))
        #expect(!counter.open("10.0.0.1"))
        for peer in ["10.0.0.1", "10.0.0.2", "10.0.0.3"] { counter.close(peer) }
        #expect(counter.open == 0)
    }

    @Test func aFullHashingQueueRefusesAtOnceAndRecovers() async throws {
        let pool = PasswordCheckPool(threads: 1, capacity: 2)
        let gate = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        // Two checks fill the queue: one runs (held), one waits behind it.
        let first = Task {
            try await pool.run {
                started.signal(); gate.wait(); return 1
            }
        }
        // The semaphore is waited on off the cooperative threads.
        await withCheckedContinuation { c in
            DispatchQueue.global().async {
                started.wait(); c.resume()
            }
        }
        let second = Task { try await pool.run { 2 } }
        _ = await eventually(within: .seconds(5), every: .milliseconds(5)) { pool.load >= 2 }
        #expect(pool.load == 2)
        await #expect(throws: PasswordCheckPool.Busy.self) { try await pool.run { 3 } }
        gate.signal()
        #expect(try await first.value == 1)
        #expect(try await second.value == 2)
        #expect(try await pool.run { 4 } == 4)
        #expect(pool.load == 0)
    }
}
