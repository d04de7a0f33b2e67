import Foundation
import GRDB
import LaneJournal
import LaneLink
import LinkCore
import RoadCargo
import Testing

/// What `docs/lane-journal.md` promises a power cut leaves: every store a
/// lane writes syncs each commit (`synchronous = FULL`, 2), read back from
/// the live writer connection each store commits through.
@Suite("Durability: synchronous = FULL on every writer connection")
struct DurabilityTests {
    @Test func theOutboxAndAppliedLogOpenedByPathSyncEveryCommit() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "durability-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outbox = try SQLiteOutbox(path: directory.appendingPathComponent("outbox.sqlite").path)
        let applied = try SQLiteAppliedLog(path: directory.appendingPathComponent("applied.sqlite").path)
        for writer in [outbox.writer, applied.writer] {
            let level = try await writer.writeWithoutTransaction { db in
                try Int.fetchOne(db, sql: "PRAGMA synchronous")
            }
            #expect(level == 2)
        }
    }

    @Test func theJournalsWriterSharedWithTheOutboxSyncsEveryCommit() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "durability-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let journal = try await LaneJournal.open(
            path: directory.appendingPathComponent("journal.sqlite").path,
            clock: SimulatedWallClock(Date(timeIntervalSince1970: 1_795_651_200)))
        let outbox = try SQLiteOutbox(writer: journal.writer, table: journal.outboxTable)
        _ = try await outbox.writer.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "SELECT 1") }
        #expect(try await journal.synchronousLevel() == 2)
    }
}
