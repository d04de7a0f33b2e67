import Foundation
import GRDB
import LinkCore
import Synchronization
import Testing

@testable import LaneLink

/// A fresh directory per test, removed afterwards.
final class OutboxTemporaryDirectory: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("lanelink-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// A wall clock the test moves by hand.
final class OutboxTestClock: Sendable {
    private let current = Mutex(Date(timeIntervalSince1970: 1_700_000_000))
    var now: Date { current.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { current.withLock { $0 += seconds } }
}

@Suite("Outbox")
struct OutboxTests {
    @Test func pendingSurvivesClosingAndReopeningTheFile() throws {
        let directory = try OutboxTemporaryDirectory()
        let path = directory.path("lane.sqlite")
        var ids: [UInt64] = []
        do {
            let outbox = try SQLiteOutbox(path: path)
            for n in 0..<5 { ids.append(try outbox.enqueue(topic: "lane-event", payload: [UInt8(n)])) }
            try outbox.markAcknowledged([ids[1]])
        }
        let reopened = try SQLiteOutbox(path: path)
        let pending = try reopened.pending()
        #expect(pending.map(\.id) == [ids[0], ids[2], ids[3], ids[4]])
        #expect(pending.map(\.payload) == [[0], [2], [3], [4]])
        #expect(pending.allSatisfy { $0.topic == "lane-event" })
        #expect(try reopened.pendingCount() == 4)
        #expect(try reopened.pending(limit: 2).map(\.id) == [ids[0], ids[2]])
    }

    @Test func idsIncreaseAndAreNeverReusedAfterDeletes() throws {
        let outbox = try SQLiteOutbox(writer: DatabaseQueue(), firstID: 1)
        let first = try (0..<3).map { _ in try outbox.enqueue(topic: "t", payload: []) }
        #expect(first == [1, 2, 3])
        // Acknowledging deletes the rows, the highest included.
        try outbox.markAcknowledged(first)
        #expect(try outbox.pendingCount() == 0)
        #expect(try outbox.enqueue(topic: "t", payload: []) == 4)
    }

    @Test func aNewTableStartsItsIdsAtTheClock() throws {
        let clock = OutboxTestClock()
        let outbox = try SQLiteOutbox(writer: DatabaseQueue(), now: { clock.now })
        // A lane whose file was lost starts above every id it sent before.
        #expect(try outbox.enqueue(topic: "t", payload: []) == 1_700_000_000_000_000)
        // An explicit first id, and an existing table keeps its sequence.
        let queue = try DatabaseQueue()
        _ = try SQLiteOutbox(writer: queue, firstID: 500).enqueue(topic: "t", payload: [])
        #expect(try SQLiteOutbox(writer: queue, firstID: 9).enqueue(topic: "t", payload: []) == 501)
    }

    @Test func acknowledgedRowsAreKeptForTheRetentionPeriod() throws {
        let clock = OutboxTestClock()
        let outbox = try SQLiteOutbox(
            writer: DatabaseQueue(), retention: .keepAcknowledged(for: .seconds(3600)), firstID: 1,
            now: { clock.now })
        let a = try outbox.enqueue(topic: "t", payload: [])
        let b = try outbox.enqueue(topic: "t", payload: [])
        try outbox.markAcknowledged([a])
        #expect(try outbox.acknowledgedCount() == 1)
        try outbox.markAcknowledged([a, 99])  // repeats and unknown ids are harmless
        #expect(try outbox.pending().map(\.id) == [b])
        clock.advance(3601)
        try outbox.markAcknowledged([b])
        #expect(try outbox.acknowledgedCount() == 1)  // a is gone, b stays an hour
        #expect(try outbox.pendingCount() == 0)
    }

    @Test func enqueueJoinsTheCallersTransaction() throws {
        let queue = try DatabaseQueue()
        let outbox = try SQLiteOutbox(writer: queue, firstID: 1)
        struct Abandoned: Error {}
        #expect(throws: Abandoned.self) {
            try queue.write { db in
                try db.execute(sql: "CREATE TABLE journal (entry TEXT)")
                try db.execute(sql: "INSERT INTO journal VALUES ('arrival')")
                _ = try outbox.enqueue(in: db, topic: "decision-request", payload: [1])
                throw Abandoned()
            }
        }
        // Rolled back together: no outbox row without its journal entry.
        #expect(try outbox.pendingCount() == 0)
        #expect(try queue.read { db in try db.tableExists("journal") } == false)
    }

    @Test func anUnclosedWriterLeavesEverythingCommittedReadable() throws {
        let directory = try OutboxTemporaryDirectory()
        let path = directory.path("lane.sqlite")
        // The first pool is never closed, as after a crash: its WAL holds the
        // commits, not yet checkpointed into the main file.
        let first = try SQLiteOutbox(path: path)
        let id = try first.enqueue(topic: "t", payload: [7])
        let second = try SQLiteOutbox(path: path)
        #expect(try second.pending().map(\.id) == [id])
        #expect(FileManager.default.fileExists(atPath: path + "-wal"))
        withExtendedLifetime(first) {}
    }

    @Test func tableNamesMustBePlainIdentifiers() {
        #expect(throws: LinkStoreError.invalidTableName("x; DROP TABLE y")) {
            try SQLiteOutbox(writer: DatabaseQueue(), table: "x; DROP TABLE y")
        }
        #expect(throws: LinkStoreError.invalidTableName("1st")) {
            try SQLiteOutbox(writer: DatabaseQueue(), table: "1st")
        }
    }
}
