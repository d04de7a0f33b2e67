import Foundation
import GRDB
import LaneCore
import RoadCargo
import Testing

@testable import LaneJournal

@Suite("Journal: writing and reading")
struct JournalTests {
    let directory: TemporaryDirectory
    let clock = SimulatedWallClock(morning)
    let journal: LaneJournal

    init() async throws {
        directory = try TemporaryDirectory()
        journal = try await LaneJournal.open(path: directory.path("lane.sqlite"), clock: clock)
    }

    @Test func theFileIsInWALModeWithIncrementalVacuumAndFullSync() async throws {
        let (mode, vacuum) = try journal.writer.readNow { db in
            (
                try String.fetchOne(db, sql: "PRAGMA journal_mode"),
                try Int.fetchOne(db, sql: "PRAGMA auto_vacuum")
            )
        }
        #expect(mode == "wal")
        #expect(vacuum == 2)
        // The writer's own connection, not a reader's: readers never commit,
        // and GRDB's pool once left its writer at NORMAL (1) while every
        // reader said FULL.
        #expect(try await journal.synchronousLevel() == 2)
    }

    @Test func everyFieldOfAnEntryReadsBackAsWritten() async throws {
        let decision = Decision(
            instruction: .inspect, reason: .targeted, notes: [.controlPointChanged, .offline],
            ubr: UBR(payload: 123_456_789), earliestCrossing: morning.addingTimeInterval(0.000_7),
            ccrns: [CCRN(payload: 1), CCRN(payload: 2)])
        let entry = JournalEntry(
            .instructionShown, vrn: vrn("FU123"), requestID: 1_795_651_200_000_017, decisionID: 9,
            instruction: .inspect, reason: .targeted, officer: "陳大文", detail: "why=\"a b\" x=1",
            decision: decision, callID: 44)
        let at = morning.addingTimeInterval(12.345_678)
        let seqs = try await journal.append([entry, JournalEntry(.linkUp)], at: at)
        #expect(seqs.count == 2 && seqs[1] == seqs[0] + 1)
        let records = try await journal.tail(limit: 10)
        #expect(records.map(\.entry) == [entry, JournalEntry(.linkUp)])
        #expect(JournalTime.micros(records[0].at) == JournalTime.micros(at))
    }

    @Test func appendWithoutATimeTakesTheLaneClock() async throws {
        clock.set(morning.addingTimeInterval(3600))
        try await journal.append([JournalEntry(.linkDown)])
        let stored = try journal.writer.readNow { db in try Int64.fetchOne(db, sql: "SELECT at FROM journal")
        }
        #expect(stored == 1_795_654_800_000_000)
    }

    @Test func tailGivesTheLastEntriesOldestFirstAndFollowsAfterASequenceNumber() async throws {
        for i in 0..<30 {
            try await journal.append(
                [JournalEntry(.inputIgnored, detail: "n=\(i)")], at: morning.addingTimeInterval(Double(i)))
        }
        let last5 = try await journal.tail(limit: 5)
        #expect(last5.map(\.entry?.detail) == (25..<30).map { "n=\($0)" })
        let after = try await journal.tail(limit: 3, after: last5[0].seq)
        #expect(after.map(\.seq) == Array(last5[1...3].map(\.seq)))
        #expect(try await journal.tail(limit: 3, after: last5[4].seq).isEmpty)
        #expect(try await journal.tail(limit: 0).isEmpty)
    }

    @Test func entriesBetweenTwoTimesIncludeTheStartAndExcludeTheEnd() async throws {
        for i in 0..<10 {
            try await journal.append(
                [JournalEntry(.inputIgnored, detail: "n=\(i)")], at: morning.addingTimeInterval(Double(i)))
        }
        let window = try await journal.entries(
            from: morning.addingTimeInterval(3), to: morning.addingTimeInterval(6))
        #expect(window.map(\.entry?.detail) == ["n=3", "n=4", "n=5"])
    }

    /// The control socket prints records as `docs/control-socket.md` shows.
    @Test func aRecordEncodesAsTheControlSocketDocumentsIt() async throws {
        try await journal.append(
            [
                JournalEntry(
                    .instructionShown, vrn: vrn("AB1234"), requestID: 1_790_000_000_000_017, decisionID: 9,
                    instruction: .cleared, reason: .bundleOK,
                    decision: Decision(instruction: .cleared, reason: .bundleOK))
            ], at: morning.addingTimeInterval(5_400.120_9))
        let record = try #require(try await journal.tail(limit: 1).first)
        let object = try #require(
            try JSONSerialization.jsonObject(with: JSONEncoder().encode(record)) as? [String: Any])
        #expect(object["at"] as? String == "2026-11-26T09:30:00.120+08:00")
        #expect(object["kind"] as? String == "instruction_shown")
        #expect(object["vrn"] as? String == "AB1234")
        #expect((object["request_id"] as? NSNumber)?.uint64Value == 1_790_000_000_000_017)
        #expect(object["instruction"] as? String == "CLEARED" && object["reason"] as? String == "BUNDLE_OK")
        #expect(object["officer"] is NSNull)
        #expect(object["detail"] as? String == "")
        #expect(
            Set(object.keys)
                == [
                    "seq", "at", "kind", "vrn", "request_id", "decision_id", "instruction", "reason",
                    "officer",
                    "call_id", "detail",
                ])
    }

    @Test func hongKongTimesHaveMillisecondsAndTheOffset() {
        #expect(JournalTime.hongKong(morning) == "2026-11-26T08:00:00.000+08:00")
        #expect(JournalTime.hongKong(morning.addingTimeInterval(-0.001)) == "2026-11-26T07:59:59.999+08:00")
        #expect(JournalTime.hongKong(Date(timeIntervalSince1970: -0.5)) == "1970-01-01T07:59:59.500+08:00")
    }

    @Test func theHongKongViewShowsLocalTimeForTechniciansWithSqlite3() async throws {
        try await journal.append([JournalEntry(.linkUp)], at: morning.addingTimeInterval(0.25))
        let shown = try journal.writer.readNow { db in
            try String.fetchOne(db, sql: "SELECT hk_time FROM journal_hk")
        }
        #expect(shown == "2026-11-26T08:00:00.250+08:00")
    }

    @Test func anEntryAndItsOutboxMessageCommitTogetherOrNotAtAll() async throws {
        let outbox = try MirrorOutbox(journal)
        struct Refused: Error {}
        #expect(throws: Refused.self) {
            try journal.writer.writeNow { db in
                try journal.append([JournalEntry(.laneOpened, officer: "chan")], at: morning, in: db)
                try outbox.enqueue(in: db, topic: "lane-event")
                throw Refused()
            }
        }
        #expect(try await journal.count() == 0)
        #expect(try outbox.pending().isEmpty)
        try journal.writer.writeNow { db in
            try journal.append([JournalEntry(.laneOpened, officer: "chan")], at: morning, in: db)
            try outbox.enqueue(in: db, topic: "lane-event")
        }
        #expect(try await journal.count() == 1)
        #expect(try outbox.pending().count == 1)
    }

    /// The outbox creates its table on its own, after or before the journal's
    /// migrations: reopening either way keeps both.
    @Test func theOutboxTableAndTheJournalMigrationsLiveInOneFile() async throws {
        let outbox = try MirrorOutbox(journal)
        _ = try journal.writer.writeNow { db in try outbox.enqueue(in: db, topic: "t") }
        let path = directory.path("lane.sqlite")
        let reopened = try await LaneJournal.open(path: path, clock: clock)
        let again = try MirrorOutbox(reopened)
        #expect(try again.pending().count == 1)
        #expect(try await reopened.count() == 0)

        // A file whose outbox came first (created before this journal existed).
        let other = directory.path("outbox-first.sqlite")
        let pool = try DatabasePool(path: other)
        try pool.writeNow { db in
            try db.execute(
                sql: """
                    CREATE TABLE link_outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL,
                        payload BLOB NOT NULL, enqueued_at INTEGER NOT NULL, acked_at INTEGER);
                    INSERT INTO link_outbox (topic, payload, enqueued_at) VALUES ('t', x'00', 0);
                    """)
        }
        try pool.close()
        let late = try await LaneJournal.open(path: other, clock: clock)
        try await late.append([JournalEntry(.linkUp)])
        #expect(try await late.count() == 1)
        #expect(
            try late.writer.readNow { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM link_outbox") }
                == 1)
        // The file was converted to incremental vacuum on the way.
        #expect(try late.writer.readNow { db in try Int.fetchOne(db, sql: "PRAGMA auto_vacuum") } == 2)
    }

    @Test func aTableNameThatIsNotAPlainIdentifierIsRefused() async {
        await #expect(throws: JournalError.invalidTableName("x; DROP TABLE journal")) {
            try await LaneJournal.open(
                path: directory.path("x.sqlite"), clock: clock, outboxTable: "x; DROP TABLE journal")
        }
    }

    @Test func detailTextSplitsBackIntoThePairsLaneCoreWrote() {
        let pairs = DetailText.pairs(#"why="a \"quoted\" = \\ thing" on=true empty="" last=x"#)
        #expect(pairs.map(\.key) == ["why", "on", "empty", "last"])
        #expect(pairs.map(\.value) == [#"a "quoted" = \ thing"#, "true", "", "x"])
        #expect(DetailText.value("on", in: "button=unladen on=false") == "false")
        #expect(DetailText.value("missing", in: "a=b") == nil)
        #expect(DetailText.pairs("not pairs").isEmpty)
    }
}
