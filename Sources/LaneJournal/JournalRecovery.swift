import Foundation
import GRDB
import LaneCore
import RoadCargo

/// The lane's state as the journal tells it, folded entry by entry.
///
/// Which kinds move which part (everything else moves nothing):
///
/// | part | set by | cleared by |
/// | --- | --- | --- |
/// | open | `lane_opened` | `lane_closed` |
/// | offline | `offline_mode` with `on=true` | `offline_mode` with `on=false` |
/// | vehicle | `arrival` (its VRN, the entry's time, its `passage`; Unladen taken if its detail has `unladen`) | `vehicle_left`, `lane_closed` |
/// | vehicle's Unladen press | `button_pressed` with `button=unladen`, a `taken` detail and the vehicle's VRN | a new `arrival` |
/// | vehicle's shown decision | `instruction_shown` with the vehicle's VRN, its request id and decision | a later `decision_requested` for the vehicle, a new `arrival` |
/// | last request id | `decision_requested` (the highest id) | never |
/// | help call | `help_ring` | `help_ended` with the same call id |
///
/// Only `decision_requested` counts for the last request id: those are the
/// ids this lane issued. Other entries may carry an id central sent (a late
/// or stray answer), which could be anything, up to 2^64 - 1.
///
/// `recovered` entries move nothing: what a restart changed is journaled by
/// the entries after it (`help_ended`, `vehicle_left`, `decision_requested`).
struct JournalRecovery: Sendable, Hashable, Codable {
    struct Vehicle: Sendable, Hashable, Codable {
        var vrn: VRN
        var arrivedAt: Date
        var unladenPressed: Bool
        var shown: Shown?
        /// From the arrival's `passage` detail; nil in journals written
        /// before lanes had passage ids (and in their checkpoints).
        var passageID: UInt64?
    }

    struct Shown: Sendable, Hashable, Codable {
        var requestID: UInt64
        var decisionID: UInt64
        var decision: Decision
    }

    var open = false
    var offline = false
    var vehicle: Vehicle?
    var lastRequestID: UInt64 = 0
    var helpCallID: UInt64?

    mutating func apply(_ record: JournalRecord) {
        guard let e = record.entry else { return }
        switch e.kind {
        case .laneOpened:
            open = true
        case .laneClosed:
            open = false
            vehicle = nil
        case .offlineMode:
            switch DetailText.value("on", in: e.detail) {
            case "true": offline = true
            case "false": offline = false
            default: break
            }
        case .arrival:
            guard let vrn = e.vrn else { return }
            let carried = DetailText.value("unladen", in: e.detail) != nil
            vehicle = Vehicle(
                vrn: vrn, arrivedAt: record.at, unladenPressed: carried, shown: nil,
                passageID: DetailText.value("passage", in: e.detail).flatMap { UInt64($0) })
        case .vehicleLeft:
            vehicle = nil
        case .buttonPressed:
            guard DetailText.value("button", in: e.detail) == LaneButton.unladen.rawValue,
                DetailText.value("taken", in: e.detail) != nil, e.vrn != nil, e.vrn == vehicle?.vrn
            else { return }
            vehicle?.unladenPressed = true
        case .instructionShown:
            guard let requestID = e.requestID, let decision = e.decision, e.vrn != nil, e.vrn == vehicle?.vrn
            else { return }
            vehicle?.shown = Shown(requestID: requestID, decisionID: e.decisionID ?? 0, decision: decision)
        case .decisionRequested:
            guard let requestID = e.requestID else { return }
            lastRequestID = max(lastRequestID, requestID)
            if e.vrn != nil, e.vrn == vehicle?.vrn, let shown = vehicle?.shown, requestID > shown.requestID {
                vehicle?.shown = nil
            }
        case .helpRing:
            if let id = e.callID { helpCallID = id }
        case .helpEnded:
            if e.callID == helpCallID { helpCallID = nil }
        case .arrivalIgnored, .buttonReleased, .buttonIgnored, .decisionReceived, .decisionLate,
            .decisionTimeout,
            .override, .linkUp, .linkDown, .helpAnswered, .helpHeld, .officerMessage, .languageSelected,
            .fault,
            .faultCleared, .recovered, .inputIgnored, .unladenGraceEnded, .clockStepped:
            break
        }
    }

    var recovered: RecoveredLane {
        RecoveredLane(
            open: open, offline: offline,
            vehicle: vehicle.map { v in
                RecoveredLane.Vehicle(
                    vrn: v.vrn, arrivedAt: v.arrivedAt, unladenPressed: v.unladenPressed,
                    shown: v.shown.map {
                        RecoveredLane.ShownDecision(
                            requestID: $0.requestID, decisionID: $0.decisionID, decision: $0.decision)
                    }, passageID: v.passageID)
            },
            lastRequestID: lastRequestID, helpCallID: helpCallID)
    }

    /// The retention checkpoint (the fold of every deleted entry) and the
    /// sequence number it covers, or an empty state and 0.
    static func checkpoint(_ db: Database) throws -> (state: JournalRecovery, through: Int64) {
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT through_seq, state FROM journal_checkpoint WHERE id = 1")
        else { return (JournalRecovery(), 0) }
        let text: String = row["state"]
        guard let state = try? JournalSchema.decode(JournalRecovery.self, text) else {
            throw JournalError.corruptRow(table: "journal_checkpoint", key: "1", column: "state", value: text)
        }
        return (state, row["through_seq"])
    }

    /// The checkpoint, then every entry after it.
    static func load(_ db: Database) throws -> JournalRecovery {
        var (state, through) = try checkpoint(db)
        let rows = try Row.fetchCursor(
            db, sql: "SELECT \(JournalRecord.columns) FROM journal WHERE seq > ? ORDER BY seq",
            arguments: [through])
        while let row = try rows.next() { state.apply(try JournalRecord(row: row)) }
        return state
    }
}

/// Reads the `key=value` text of a journal entry's `detail`, as LaneCore
/// writes it: pairs separated by spaces; a value with a space, quote, `=`
/// or backslash, or an empty one, in double quotes with `\"` and `\\`.
public enum DetailText {
    /// The pairs in the order written. Text that is not in this form yields
    /// the pairs before the first thing that does not fit.
    public static func pairs(_ text: String) -> [(key: String, value: String)] {
        var out: [(key: String, value: String)] = []
        var i = text.startIndex
        while i < text.endIndex {
            while i < text.endIndex, text[i] == " " { i = text.index(after: i) }
            guard i < text.endIndex else { break }
            guard let eq = text[i...].firstIndex(of: "="), !text[i..<eq].contains(" ") else { break }
            let key = String(text[i..<eq])
            i = text.index(after: eq)
            var value = ""
            if i < text.endIndex, text[i] == "\"" {
                i = text.index(after: i)
                var closed = false
                while i < text.endIndex {
                    let c = text[i]
                    i = text.index(after: i)
                    if c == "\"" {
                        closed = true
                        break
                    }
                    if c == "\\", i < text.endIndex {
                        value.append(text[i])
                        i = text.index(after: i)
                    } else {
                        value.append(c)
                    }
                }
                guard closed else { break }
            } else {
                let end = text[i...].firstIndex(of: " ") ?? text.endIndex
                value = String(text[i..<end])
                i = end
            }
            out.append((key: key, value: value))
        }
        return out
    }

    /// The first value of `key`, or nil.
    public static func value(_ key: String, in text: String) -> String? {
        pairs(text).first { $0.key == key }?.value
    }
}
