import Foundation
import GRDB

/// What one retention run did.
public struct RetentionReport: Sendable, Hashable {
    /// Entries deleted.
    public var deleted: Int
    /// Write transactions used (each at most one batch).
    public var batches: Int
    /// The run stopped at an entry retention must keep for the outbox: the
    /// link has not delivered a message written with or before it.
    public var heldByOutbox: Bool
    /// The oldest entry left, if any.
    public var oldestKept: Date?
    /// The file and its WAL, in bytes, before and after (including compaction).
    public var bytesBefore: Int64
    public var bytesAfter: Int64
}

extension LaneJournal {
    /// The default retention: 90 days.
    public static let defaultRetentionDays = 90

    /// Deletes entries older than `days` days, oldest first, in write
    /// transactions of at most `batchSize` entries, so that the lane's own
    /// appends get the writer between batches. Then gives the freed pages
    /// back to the file system (see ``compact()``).
    ///
    /// Retention deletes a prefix of the journal and stops at the first entry
    /// that must stay:
    /// - an entry written at or after `now - days` (a clock that was once
    ///   far ahead holds retention at that entry until its time has come);
    /// - an entry written in or after the transaction that enqueued the
    ///   oldest unacknowledged outbox message: what central has not yet
    ///   received stays in the journal, with everything after it.
    ///
    /// Before deleting, each batch is folded into the recovery checkpoint in
    /// the same transaction, so ``recover()`` gives the same answer after
    /// retention as before it.
    @discardableResult
    public func applyRetention(
        keepingDays days: Int = LaneJournal.defaultRetentionDays, now: Date? = nil, batchSize: Int = 500
    ) async throws -> RetentionReport {
        guard days >= 1 else { throw JournalError.invalidRetention("keep at least 1 day, not \(days)") }
        guard batchSize >= 1 else {
            throw JournalError.invalidRetention("a batch is at least 1 entry, not \(batchSize)")
        }
        let cutoff = JournalTime.micros((now ?? clock.now()).addingTimeInterval(-Double(days) * 86_400))
        let before = fileBytes()
        var report = RetentionReport(
            deleted: 0, batches: 0, heldByOutbox: false, oldestKept: nil, bytesBefore: before,
            bytesAfter: before)
        while true {
            let step = try await writer.write { db in try pruneBatch(db, cutoff: cutoff, limit: batchSize) }
            report.deleted += step.deleted
            if step.deleted > 0 { report.batches += 1 }
            report.heldByOutbox = step.heldByOutbox
            if !step.more { break }
        }
        if report.deleted > 0 { try await compact() }
        report.oldestKept = try await writer.read { db in
            try Int64.fetchOne(db, sql: "SELECT at FROM journal ORDER BY seq LIMIT 1").map(
                JournalTime.date(micros:))
        }
        report.bytesAfter = fileBytes()
        return report
    }

    /// Gives free pages back to the file system (`PRAGMA incremental_vacuum`)
    /// and truncates the WAL (`PRAGMA wal_checkpoint(TRUNCATE)`). The
    /// checkpoint is skipped, not waited for, while a reader holds the WAL.
    public func compact() async throws {
        try await writer.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA incremental_vacuum")
            _ = try? db.checkpoint(.truncate)
        }
    }

    /// The journal file and its WAL, in bytes.
    public func fileBytes() -> Int64 {
        [path, path + "-wal"].reduce(Int64(0)) { sum, file in
            let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?
                .int64Value
            return sum + (size ?? 0)
        }
    }

    private struct BatchResult {
        var deleted: Int
        var more: Bool
        var heldByOutbox: Bool
    }

    private func pruneBatch(_ db: Database, cutoff: Int64, limit: Int) throws -> BatchResult {
        let keepFrom = try outboxHold(db)
        let rows = try Row.fetchAll(
            db, sql: "SELECT \(JournalRecord.columns) FROM journal ORDER BY seq LIMIT ?", arguments: [limit])
        var (state, through) = try JournalRecovery.checkpoint(db)
        var taken = 0
        var held = false
        for row in rows {
            let seq: Int64 = row["seq"]
            if let keepFrom, seq >= keepFrom {
                held = true
                break
            }
            guard (row["at"] as Int64) < cutoff else { break }
            state.apply(try JournalRecord(row: row))
            through = seq
            taken += 1
        }
        guard taken > 0 else { return BatchResult(deleted: 0, more: false, heldByOutbox: held) }
        try db.execute(
            sql: """
                INSERT INTO journal_checkpoint (id, through_seq, state, rows_pruned, pruned_at)
                VALUES (1, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET through_seq = excluded.through_seq, state = excluded.state,
                    rows_pruned = rows_pruned + excluded.rows_pruned, pruned_at = excluded.pruned_at
                """,
            arguments: [through, try JournalSchema.encode(state), taken, JournalTime.micros(clock.now())])
        try db.execute(sql: "DELETE FROM journal WHERE seq <= ?", arguments: [through])
        return BatchResult(deleted: taken, more: taken == limit && !held, heldByOutbox: held)
    }

    /// The first sequence number retention must keep for the outbox, or nil
    /// when nothing is waiting for an acknowledgement.
    ///
    /// Each entry stores the outbox's last id when it was written. The
    /// oldest unacknowledged message P was enqueued in a transaction whose
    /// entries store the highest mark below P (an entry written after P in
    /// that transaction, or later, stores P or more); keeping every entry
    /// from the first with that mark keeps P's transaction whole, whichever
    /// order the shell wrote entries and messages in.
    private func outboxHold(_ db: Database) throws -> Int64? {
        guard try db.tableExists(outboxTable) else { return nil }
        guard
            let oldest = try Int64.fetchOne(
                db, sql: "SELECT min(id) FROM \"\(outboxTable)\" WHERE acked_at IS NULL")
        else { return nil }
        let mark =
            try Int64.fetchOne(
                db, sql: "SELECT max(outbox_mark) FROM journal WHERE outbox_mark < ?", arguments: [oldest])
            ?? .min
        // Marks never decrease along the journal: the first entry in mark order is the first in seq order.
        return try Int64.fetchOne(
            db, sql: "SELECT seq FROM journal WHERE outbox_mark >= ? ORDER BY outbox_mark, seq LIMIT 1",
            arguments: [mark]) ?? .max
    }
}
