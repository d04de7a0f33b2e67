import Foundation
import GRDB
import LaneCore
import RoadCargo
import Testing

@testable import LaneJournal

@Suite("Journal retention")
struct RetentionTests {
    let directory: TemporaryDirectory
    let clock = SimulatedWallClock(morning)
    let journal: LaneJournal

    init() async throws {
        directory = try TemporaryDirectory()
        journal = try await LaneJournal.open(path: directory.path("lane.sqlite"), clock: clock)
    }

    static let day: TimeInterval = 86_400

    /// One day of ordinary traffic from the real state machine, in one
    /// transaction per input, as the shell writes it.
    func trafficDay(_ script: inout LaneScript, inputs: Int) async throws {
        try journal.writer.writeNow { db in
            for _ in 0..<inputs {
                try journal.append(script.step(), at: script.now, in: db)
            }
        }
    }

    @Test func entriesOlderThanTheRetentionGoAndRecoveryStillKnowsTheLane() async throws {
        var m = LaneStateMachine(settings: settings, open: false)
        func handle(_ input: LaneInput, at: Date) async throws {
            let entries = m.handle(input, now: at).compactMap { a -> JournalEntry? in
                if case .journal(let e) = a { return e }
                return nil
            }
            try await journal.append(entries, at: at)
        }
        // Day 0: opened, offline mode on, a help call rings; nothing more of
        // those for 100 days, so only the checkpoint remembers them.
        try await handle(.open(officer: "chan"), at: morning)
        try await handle(.offlineMode(on: true, officer: "lee"), at: morning.addingTimeInterval(1))
        try await handle(.buttonPressed(.help, kernelNanoseconds: 1), at: morning.addingTimeInterval(2))
        for day in 1...100 {
            let t = morning.addingTimeInterval(Double(day) * Self.day)
            try await handle(.vehicleArrived(vrn("AB1234"), source: .central), at: t)
            try await handle(.vehicleLeft, at: t.addingTimeInterval(30))
        }
        try await handle(
            .vehicleArrived(vrn("CD5678"), source: .central), at: morning.addingTimeInterval(100.5 * Self.day)
        )
        let before = try await journal.recover()
        let count = try await journal.count()

        let now = morning.addingTimeInterval(101 * Self.day)
        let report = try await journal.applyRetention(keepingDays: 90, now: now, batchSize: 7)

        let left = try await journal.tail(limit: 10_000)
        #expect(left.allSatisfy { $0.at >= now.addingTimeInterval(-90 * Self.day) })
        // Days 0 to 10 went: 3 entries of day 0, then 2 requests' worth a day.
        #expect(report.deleted == count - left.count)
        #expect(report.deleted > 0 && left.count > 0)
        #expect(report.batches == (report.deleted + 6) / 7)
        #expect(!report.heldByOutbox)
        #expect(try await journal.recover() == before)
        #expect(
            before.open && before.offline && before.helpCallID != nil && before.vehicle?.vrn == vrn("CD5678"))
        // Sequence numbers go on from where they were.
        let next = try await journal.append([JournalEntry(.linkUp)], at: now)
        #expect(next[0] == (left.last?.seq ?? 0) + 1)
    }

    @Test func retentionNeverDeletesWhatAnUnacknowledgedMessageCameWith() async throws {
        let outbox = try MirrorOutbox(journal)
        var ids: [Int64] = []
        // Ten days, each with one entry and the message it caused.
        for day in 0..<10 {
            let t = morning.addingTimeInterval(Double(day) * Self.day)
            try journal.writer.writeNow { db in
                try journal.append([JournalEntry(.laneOpened, detail: "day=\(day)")], at: t, in: db)
                ids.append(try outbox.enqueue(in: db, topic: "day \(day)"))
            }
        }
        // Everything up to day 5 acknowledged; day 6's message is not.
        try outbox.acknowledge(Array(ids[0...5]))
        let now = morning.addingTimeInterval(100 * Self.day)
        let held = try await journal.applyRetention(keepingDays: 30, now: now)
        #expect(held.heldByOutbox)
        #expect(try await journal.tail(limit: 100).map(\.entry?.detail) == (6..<10).map { "day=\($0)" })

        // The entry comes after its message in the transaction here; it is
        // kept all the same, and so is the transaction before (the mark
        // cannot tell which side of the message the entry was written on).
        try journal.writer.writeNow { db in
            ids.append(try outbox.enqueue(in: db, topic: "day 10"))
            try journal.append([JournalEntry(.laneClosed, detail: "day=10")], at: now, in: db)
        }
        try outbox.acknowledge(Array(ids[6...9]))
        let later = try await journal.applyRetention(
            keepingDays: 30, now: now.addingTimeInterval(40 * Self.day))
        #expect(later.heldByOutbox)
        #expect(try await journal.tail(limit: 100).map(\.entry?.detail) == ["day=9", "day=10"])

        try outbox.acknowledge([ids[10]])
        let free = try await journal.applyRetention(
            keepingDays: 30, now: now.addingTimeInterval(40 * Self.day))
        #expect(!free.heldByOutbox)
        #expect(try await journal.count() == 0)
    }

    @Test func aMessageWrittenWithSeveralOthersKeepsItsWholeTransaction() async throws {
        let outbox = try MirrorOutbox(journal)
        let a = try journal.writer.writeNow { db in
            try journal.append([JournalEntry(.linkUp, detail: "before")], at: morning, in: db)
            return try outbox.enqueue(in: db, topic: "a")
        }
        let (b, _) = try journal.writer.writeNow { db in
            try journal.append(
                [JournalEntry(.arrival, vrn: vrn("XY9"))], at: morning.addingTimeInterval(1), in: db)
            return (try outbox.enqueue(in: db, topic: "b"), try outbox.enqueue(in: db, topic: "c"))
        }
        // Only the second message of the second transaction is still pending.
        try outbox.acknowledge([a, b])
        try await journal.applyRetention(keepingDays: 1, now: morning.addingTimeInterval(10 * Self.day))
        #expect(try await journal.tail(limit: 10).map(\.entry?.kind) == [.arrival])
    }

    @Test func retentionRefusesNonsenseSettings() async {
        await #expect(throws: JournalError.invalidRetention("keep at least 1 day, not 0")) {
            try await journal.applyRetention(keepingDays: 0)
        }
        await #expect(throws: JournalError.self) { try await journal.applyRetention(batchSize: 0) }
    }

    /// 150 days of traffic with 30 days' retention applied every night: the
    /// old entries go, and once a full retention period is in the file the
    /// file stops growing. Then a quiet month: the file gives the space back.
    @Test func theFileStopsGrowingUnderMonthsOfSimulatedTrafficAndShrinksWhenItStops() async throws {
        var script = LaneScript(seed: 42)
        var sizes: [Int64] = []
        func night() async throws -> RetentionReport {
            // A script day runs about 8 minutes of inputs; the night jump makes it a day.
            script.now = script.now.addingTimeInterval(Self.day - 480)
            clock.set(script.now)
            let report = try await journal.applyRetention(keepingDays: 30)
            if let oldest = report.oldestKept {
                #expect(script.now.timeIntervalSince(oldest) <= 30 * Self.day)
            }
            return report
        }
        for _ in 0..<150 {
            try await trafficDay(&script, inputs: 300)
            sizes.append(try await night().bytesAfter)
        }
        #expect(try await journal.count() < 31 * 300 * 2)
        // From day 40 on the file holds 30 days of entries; it must not grow by more
        // than the noise of page reuse (a tenth) over the next 110 days.
        let settled = sizes[40]
        let largest = sizes[40...].max()!
        #expect(
            Double(largest) <= Double(settled) * 1.1, "day 40: \(settled) bytes; largest after: \(largest)")
        // Without retention the file would be five times what it was at day 30.
        #expect(Double(sizes[149]) < Double(sizes[29]) * 1.5)

        // A quiet month: every entry ages out, and the pages go back to the file system.
        var quiet: RetentionReport?
        for _ in 0..<31 { quiet = try await night() }
        #expect(try await journal.count() == 0)
        let emptied = try #require(quiet?.bytesAfter)
        #expect(emptied < settled / 5, "after a quiet month: \(emptied) bytes; busy: \(settled)")
    }
}
