import Foundation
import GRDB
import LaneCore
import RoadCargo
import TestKit

@testable import LaneJournal

/// A directory removed when the value goes.
final class TemporaryDirectory: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "lane-journal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// 2026-11-26 08:00:00 Hong Kong time, a whole second.
let morning = Date(timeIntervalSince1970: 1_795_651_200)

func vrn(_ raw: String) -> VRN { try! VRN(raw) }

let settings = LaneSettings(lane: try! LaneID("LMC-IN-01"))

/// The link outbox's table, as `SQLiteOutbox` (LaneLink) creates it in the
/// journal's file: same name, columns, indexes and first id. LaneJournal's
/// tests do not link LaneLink; the lane runtime's tests run the real one.
struct MirrorOutbox {
    static let table = "link_outbox"
    let writer: DatabasePool

    init(_ journal: LaneJournal, firstID: Int64 = 1_795_651_200_000_000) throws {
        writer = journal.writer
        try writer.writeNow { db in
            guard try !db.tableExists(Self.table) else { return }
            try db.execute(
                sql: """
                    CREATE TABLE "link_outbox" (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        topic TEXT NOT NULL,
                        payload BLOB NOT NULL,
                        enqueued_at INTEGER NOT NULL,
                        acked_at INTEGER
                    );
                    CREATE INDEX "link_outbox_pending" ON "link_outbox"(id) WHERE acked_at IS NULL;
                    CREATE INDEX "link_outbox_acked" ON "link_outbox"(acked_at) WHERE acked_at IS NOT NULL;
                    """)
            try db.execute(
                sql: "INSERT INTO sqlite_sequence(name, seq) VALUES (?, ?)",
                arguments: [Self.table, firstID - 1])
        }
    }

    @discardableResult
    func enqueue(in db: Database, topic: String, payload: [UInt8] = [1, 2, 3]) throws -> Int64 {
        try db.execute(
            sql: "INSERT INTO link_outbox (topic, payload, enqueued_at) VALUES (?, ?, 0)",
            arguments: [topic, Data(payload)])
        return db.lastInsertedRowID
    }

    func acknowledge(_ ids: [Int64]) throws {
        try writer.writeNow { db in
            for id in ids {
                try db.execute(sql: "UPDATE link_outbox SET acked_at = 1 WHERE id = ?", arguments: [id])
            }
        }
    }

    func pending() throws -> [Int64] {
        try writer.readNow { db in
            try Int64.fetchAll(db, sql: "SELECT id FROM link_outbox WHERE acked_at IS NULL")
        }
    }
}

/// What the machine says about the lane after an input: what recovery
/// from the journal written so far must give back.
struct Snapshot: Equatable, CustomStringConvertible {
    var open: Bool
    var offline: Bool
    var vrn: VRN?
    var arrivedAt: Int64?
    var unladen: Bool?
    var shown: RecoveredLane.ShownDecision?
    var lastRequestID: UInt64
    var helpCallID: UInt64?

    init(_ m: LaneStateMachine, arrivedAt: Date?) {
        open = m.isOpen
        offline = m.isOffline
        vrn = m.currentVRN
        self.arrivedAt = vrn == nil ? nil : arrivedAt.map(JournalTime.micros)
        unladen = vrn == nil ? nil : m.board.unladenAcknowledged
        if vrn != nil, m.phaseName == "decided", let last = m.lastDecision {
            shown = RecoveredLane.ShownDecision(
                requestID: last.requestID, decisionID: last.decisionID, decision: last.decision)
        }
        lastRequestID = m.lastRequestID
        helpCallID = m.helpCallID
    }

    init(_ r: RecoveredLane) {
        open = r.open
        offline = r.offline
        vrn = r.vehicle?.vrn
        arrivedAt = r.vehicle.map { JournalTime.micros($0.arrivedAt) }
        unladen = r.vehicle?.unladenPressed
        shown = r.vehicle?.shown
        lastRequestID = r.lastRequestID
        helpCallID = r.helpCallID
    }

    var description: String {
        "open=\(open) offline=\(offline) vrn=\(vrn.map(\.value) ?? "-") arrived=\(arrivedAt.map(String.init) ?? "-") "
            + "unladen=\(unladen.map(String.init) ?? "-") shown=\(shown.map { "\($0.requestID)/\($0.decisionID)/\($0.decision.reason)" } ?? "-") "
            + "lastRequest=\(lastRequestID) help=\(helpCallID.map(String.init) ?? "-")"
    }
}

/// Drives a real ``LaneStateMachine`` with seeded random inputs, in odd
/// orders too, the way a lane's shell would: one input, its actions, its
/// journal entries appended in one transaction.
struct LaneScript {
    var machine: LaneStateMachine
    var now: Date
    var rng: SeededGenerator
    var kernel: UInt64 = 1_000_000
    /// When the vehicle now at the lane arrived (the machine keeps it private).
    var arrivedAt: Date?

    init(seed: UInt64, start: Date = morning) {
        machine = LaneStateMachine(settings: settings, open: false)
        now = start
        rng = SeededGenerator(seed: seed)
    }

    static let plates = ["AB1234", "CD5678", "FU123", "XY9"].map(vrn)

    static func decisions(at now: Date) -> [Decision] {
        [
            Decision(instruction: .cleared, reason: .bundleOK, ubr: UBR(payload: 12_345_678)),
            Decision(
                instruction: .inspect, reason: .earlyCrossing, ubr: UBR(payload: 22_222_222),
                earliestCrossing: now.addingTimeInterval(600.25)),
            Decision(instruction: .inspect, reason: .noBundle),
            Decision(instruction: .dropManifest, reason: .paperManifest),
            Decision(instruction: .cleared, reason: .unladen),
            Decision(
                instruction: .inspect, reason: .ccrnExpired, notes: [.offline], ubr: UBR(payload: 33_333_333),
                ccrns: [CCRN(payload: 44_444_444)]),
        ]
    }

    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &rng)] }

    /// The next input, weighted toward a lane's ordinary traffic.
    mutating func nextInput() -> LaneInput {
        let roll = Int.random(in: 0..<100, using: &rng)
        kernel += 1000
        switch roll {
        case 0..<6: return .open(officer: "chan")
        case 6..<9: return .close(officer: "chan")
        case 9..<24: return .vehicleArrived(pick(Self.plates), source: pick([.central, .reader, .simulated]))
        case 24..<34: return .vehicleLeft
        case 34..<42: return .buttonPressed(.unladen, kernelNanoseconds: kernel)
        case 42..<46: return .buttonPressed(.help, kernelNanoseconds: kernel)
        case 46..<48: return .buttonReleased(pick([.unladen, .help]), kernelNanoseconds: kernel)
        case 48..<64:
            let id = machine.pendingRequestID ?? machine.currentRequestID ?? 1
            return .decisionReceived(
                requestID: id, decisionID: UInt64.random(in: 1...1_000_000, using: &rng),
                decision: pick(Self.decisions(at: now)))
        case 64..<66:
            return .decisionReceived(
                requestID: UInt64.max - 3, decisionID: 9, decision: pick(Self.decisions(at: now)))
        case 66..<74: return .timerFired(pick([.decisionTimeout, .unladenGrace]))
        case 74..<78:
            let (i, r) = pick([
                (Instruction.cleared, Reason.officerRelease), (.inspect, .officerDivert), (.cleared, .random),
            ])
            return .override(
                requestID: machine.currentRequestID ?? 5, instruction: i, reason: r, officer: "wong",
                text: "seen")
        case 78..<82: return .offlineMode(on: Bool.random(using: &rng), officer: "lee")
        case 82..<85: return .linkChanged(up: Bool.random(using: &rng))
        case 85..<88: return .helpAnswered(callID: machine.helpCallID ?? 77, officer: "ho")
        case 88..<90: return .helpHeld(callID: machine.helpCallID ?? 77)
        case 90..<94: return .helpEnded(callID: pick([machine.helpCallID ?? 77, 78]))
        case 94..<96: return .officerMessage(callID: machine.helpCallID ?? 77, phraseID: 3, text: "請稍候 wait")
        case 96..<98: return .languageSelected(pick([.english, .simplifiedChinese, .traditionalChinese]))
        default:
            return Bool.random(using: &rng)
                ? .fault(code: "gpio", text: "chip gone") : .faultCleared(code: "gpio")
        }
    }

    /// Handles one input at a clock moved on by 0 to 3 s; returns its journal entries.
    mutating func step() -> [JournalEntry] {
        now = now.addingTimeInterval(Double(Int.random(in: 0...3000, using: &rng)) / 1000)
        let input = nextInput()
        let actions = machine.handle(input, now: now)
        return record(actions)
    }

    /// Restarts the lane from what `journal` recovers, as laned does.
    mutating func restart(from recovered: RecoveredLane) -> [JournalEntry] {
        let (m, actions) = LaneStateMachine.recovering(settings: settings, from: recovered, now: now)
        machine = m
        arrivedAt = recovered.vehicle?.arrivedAt
        return record(actions)
    }

    private mutating func record(_ actions: [LaneAction]) -> [JournalEntry] {
        var entries: [JournalEntry] = []
        for action in actions {
            guard case .journal(let e) = action else { continue }
            if e.kind == .arrival { arrivedAt = now }
            entries.append(e)
        }
        if machine.currentVRN == nil { arrivedAt = nil }
        return entries
    }

    var snapshot: Snapshot { Snapshot(machine, arrivedAt: arrivedAt) }
}

/// The synchronous GRDB calls, by a name an async test function cannot
/// resolve to the async overload: tests set up and inspect files directly
/// (`scripts/check-blocking.sh` checks `Sources`, not tests).
extension DatabaseWriter {
    func writeNow<T>(_ updates: (Database) throws -> T) throws -> T { try write(updates) }
    func readNow<T>(_ value: (Database) throws -> T) throws -> T { try read(value) }
    func writeWithoutTransactionNow<T>(_ updates: (Database) throws -> T) rethrows -> T {
        try writeWithoutTransaction(updates)
    }
}
