import CargoStore
import ClearanceCore
import Foundation
import RoadCargo

/// A driver's bundle request.
public struct BundleRequestBody: Codable, Sendable, Hashable {
    public var driverName: String
    public var vrn: String
    public var direction: String
    public var expectedControlPoint: String?
    public var ccrns: [String]

    public func domain() throws(ValidationFailure) -> BundleRequest {
        var f = FieldChecks()
        f.text("driverName", driverName, max: 70)
        let v = f.parse("vrn") { () throws(ValidationFailure) in try APIParse.vrn(vrn) }
        let d = f.parse("direction") { () throws(ValidationFailure) in try APIParse.direction(direction) }
        let cp = expectedControlPoint.flatMap { raw in
            f.parse("expectedControlPoint") { () throws(ValidationFailure) in try APIParse.controlPoint(raw) }
        }
        f.count("ccrns", ccrns.count, min: 1, max: BundlingRules.maximumCCRNs)
        // Every CCRN is checked, so one response names every mistyped one.
        let parsed = ccrns.enumerated().compactMap { i, raw in
            f.parse("ccrns[\(i)]") { () throws(ValidationFailure) in try APIParse.reference(CCRN.self, raw) }
        }
        try f.throwIfAny()
        guard let v, let d else { throw ValidationFailure(field: "", rule: "invalid", detail: "unreadable") }
        return BundleRequest(
            driverName: driverName, vrn: v, direction: d, expectedControlPoint: cp, ccrns: parsed)
    }
}

/// A completed bundle as the API returns it.
public struct BundleBody: Codable, Sendable, Hashable {
    public var ubr: String
    public var driverName: String
    public var driverAccount: String
    public var vrn: String
    public var direction: String
    public var expectedControlPoint: String?
    public var ccrns: [String]
    public var completedAt: String
    /// completedAt + 30 minutes: the first instant a lane clears it.
    public var earliestCrossing: String
    public var status: String
    public var endedAt: String?

    public init(_ b: CargoBundle) {
        ubr = b.ubr.value
        driverName = b.driverName
        driverAccount = b.driverAccount
        vrn = b.vrn.value
        direction = b.direction.rawValue
        expectedControlPoint = b.expectedControlPoint?.rawValue
        ccrns = b.ccrns.map(\.value)
        completedAt = HongKongTime.iso8601(b.completedAt)
        // The second the rules compare with (a whole second since schema v4).
        earliestCrossing = HongKongTime.iso8601(BundlingRules.wholeSecondUp(b.earliestCrossing))
        status = b.status.rawValue
        endedAt = b.endedAt.map(HongKongTime.iso8601)
    }
}

/// A lane as central knows it.
public struct LaneBody: Codable, Sendable, Hashable {
    public var id: String
    public var controlPoint: String
    public var direction: String

    public init(_ l: Lane) {
        id = l.id.value
        controlPoint = l.controlPoint.rawValue
        direction = l.direction.rawValue
    }

    func domain(_ f: inout FieldChecks, at prefix: String) -> Lane? {
        let p = prefix.isEmpty ? "" : "\(prefix)."
        let i = f.parse("\(p)id") { () throws(ValidationFailure) in try LaneID(id) }
        let cp = f.parse("\(p)controlPoint") { () throws(ValidationFailure) in
            try APIParse.controlPoint(controlPoint)
        }
        let d = f.parse("\(p)direction") { () throws(ValidationFailure) in try APIParse.direction(direction) }
        guard let i, let cp, let d else { return nil }
        return Lane(id: i, controlPoint: cp, direction: d)
    }
}

/// PUT /v1/lanes/{laneId}: the id comes from the path.
public struct LanePutBody: Codable, Sendable, Hashable {
    public var controlPoint: String
    public var direction: String
}

/// A dry-run decision request: what a lane would ask.
public struct DryRunBody: Codable, Sendable, Hashable {
    /// A lane central knows; or give `lane` instead.
    public var laneId: String?
    /// A lane described inline, which need not be stored.
    public var lane: LaneBody?
    public var vrn: String
    public var unladen: Bool
    /// Defaults to the server clock's now.
    public var arrivedAt: String?
}

/// The decision a lane would get, with the question it answers.
public struct DecisionBody: Codable, Sendable, Hashable {
    public var instruction: String
    public var reason: String
    public var notes: [String]
    public var ubr: String?
    public var earliestCrossing: String?
    public var ccrns: [String]
    public var lane: LaneBody
    public var vrn: String
    public var unladen: Bool
    public var arrivedAt: String

    init(_ d: Decision, request r: DecisionRequest) {
        instruction = d.instruction.rawValue
        reason = d.reason.rawValue
        notes = d.notes.map(\.rawValue)
        ubr = d.ubr?.value
        earliestCrossing = d.earliestCrossing.map(HongKongTime.iso8601)
        ccrns = d.ccrns.map(\.value)
        lane = LaneBody(r.lane)
        vrn = r.vrn.value
        unladen = r.unladenPressed
        arrivedAt = HongKongTime.iso8601(r.arrivedAt)
    }
}

/// POST /v1/watchlist.
public struct WatchRequestBody: Codable, Sendable, Hashable {
    public var kind: String
    public var value: String
    public var note: String?
}

/// A watch-list entry as the API returns it.
public struct WatchEntryBody: Codable, Sendable, Hashable {
    public var id: Int64
    public var kind: String
    public var value: String
    public var note: String
    public var addedBy: String
    public var addedAt: String

    public init(_ e: WatchEntry) {
        id = e.id
        kind = e.target.kind
        value = e.target.value
        note = e.note
        addedBy = e.addedBy
        addedAt = HongKongTime.iso8601(e.addedAt)
    }
}

/// The server clock.
public struct ClockBody: Codable, Sendable, Hashable {
    public var now: String
    /// True when started with --simulated-clock: officers may set and advance it.
    public var simulated: Bool
}

/// PUT /v1/clock.
public struct ClockSetBody: Codable, Sendable, Hashable {
    public var now: String
}

/// POST /v1/clock/advance.
public struct ClockAdvanceBody: Codable, Sendable, Hashable {
    public var seconds: Double
}

/// GET /v1/health.
public struct HealthBody: Codable, Sendable, Hashable {
    public var status: String
}

/// One record's outcome in a batch upload.
public struct BatchRecordBody: Codable, Sendable, Hashable {
    /// 1-based position of the record in the file.
    public var index: Int
    public var senderReference: String?
    /// `accepted` or `refused`.
    public var outcome: String
    public var ccrn: String?
    public var validUntil: String?
    public var errors: [IssueBody]
}

/// The result of a batch upload: one entry per record, in file order.
public struct BatchResultBody: Codable, Sendable, Hashable {
    public var accepted: Int
    public var refused: Int
    public var records: [BatchRecordBody]
}
