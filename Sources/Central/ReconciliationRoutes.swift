import AnyJSON
import CargoStore
import ClearanceCore
import Foundation
import Hummingbird
import RoadCargo

extension CentralApp {
    /// Offline crossings and their reconciliation (clearance rule 4): the
    /// conflicts raised to officers, and acknowledging them. Officers only;
    /// an officer limited to a control point sees and acknowledges its
    /// lanes' crossings only.
    func addReconciliationRoutes(to router: Router<CentralContext>) {
        router.get("/v1/reconciliation") { request, _ in
            let account = try await auth.account(for: request)
            try account.require([.officer], to: "read offline crossings")
            let query = request.uri.queryParameters
            let limit = try Self.listLimit(query.get("limit"))
            let all = try Self.flag("all", query.get("all"))
            let lane = try query.get("lane").map { raw in
                try parsing("lane") { () throws(ValidationFailure) in try LaneID(raw) }
            }
            let lanes = try await repository.lanes()
            if let lane, !lanes.contains(where: { $0.id == lane }) {
                throw Problem(.notFound, "lane \(lane) is not known")
            }
            let visible = Self.visibleLanes(lanes, to: account)
            if let lane, !visible.contains(lane) {
                throw Problem(
                    .forbidden, "\(account.name) sees lanes at \(account.controlPoint!.rawValue) only")
            }
            let filter = OfflineCrossingFilter(lane: lane, openConflictsOnly: !all)
            // For an officer of one control point other lanes' records are
            // cut after reading, so up to the maximum is read and then cut
            // to the limit.
            var items = try await repository.offlineCrossings(
                filter, limit: account.controlPoint == nil || lane != nil ? limit : Self.maximumEventLimit)
            items = Array(items.filter { visible.contains($0.lane) }.prefix(limit))
            let counts = try await repository.offlineCrossingCounts()
            let perLane = lanes.filter { visible.contains($0.id) && (lane == nil || $0.id == lane) }
                .sorted { $0.id.value < $1.id.value }
                .map { ReconciliationLaneBody(lane: $0.id, counts: counts[$0.id] ?? OfflineCrossingCounts()) }
            return try JSONBody.response(
                ReconciliationListBody(items: items.map(OfflineCrossingBody.init), lanes: perLane))
        }

        router.post("/v1/reconciliation/{id}/acknowledge") { request, context in
            let account = try await auth.account(for: request)
            try account.require([.officer], to: "acknowledge reconciliation conflicts")
            let id = try context.parameters.positiveID("id", "an offline crossing id")
            let body = try await Self.optionalBody(
                AcknowledgeRequestBody.self, request, limit: limits.jsonBody)
            var f = FieldChecks()
            f.text("note", body?.note, min: 0, max: 500)
            try f.throwIfAny()
            let acknowledged = try await acknowledge(id: id, by: account, note: body?.note)
            return try JSONBody.response(OfflineCrossingBody(acknowledged))
        }
    }

    /// The console's acknowledge button: the same as the API's, behind the
    /// console's session and CSRF check, and journaled, refusals included.
    func addConsoleReconciliationRoutes(to router: Router<CentralContext>, _ console: OfficersConsole) {
        router.post("/console/api/reconciliation/{id}/acknowledge") { request, context in
            let officer = try await changing(request, console)
            let id = try context.parameters.positiveID("id", "an offline crossing id")
            let body = try await Self.optionalBody(AcknowledgeRequestBody.self, request, limit: 4096)
            var f = FieldChecks()
            f.text("note", body?.note, min: 0, max: 500)
            try f.throwIfAny()
            do {
                let acknowledged = try await acknowledge(id: id, by: officer.account, note: body?.note)
                try await journal(
                    console, officer.account, "reconciliation_acknowledge", "offline crossing \(id)", .done,
                    acknowledged.acknowledgedNote.map { ["note": $0] } ?? [:])
                return try JSONBody.response(OfflineCrossingBody(acknowledged))
            } catch {
                try await journal(
                    console, officer.account, "reconciliation_acknowledge", "offline crossing \(id)",
                    .refused,
                    ["why": Problem.from(error).detail])
                throw error
            }
        }
    }

    /// Acknowledges conflict `id` for `account`: an officer limited to a
    /// control point acknowledges its lanes' conflicts only.
    func acknowledge(id: Int64, by account: Account, note: String?) async throws -> OfflineCrossingRecord {
        guard let record = try await repository.offlineCrossing(id: id) else {
            throw Problem(.notFound, "offline crossing \(id) is not known")
        }
        if let own = account.controlPoint, let lane = try await repository.lane(record.lane),
            lane.controlPoint != own
        {
            throw Problem(
                .forbidden,
                "\(account.name) acts on lanes at \(own) only; offline crossing \(id) is from lane \(record.lane) at \(lane.controlPoint)"
            )
        }
        let acknowledged = try await repository.acknowledgeConflict(
            id: id, officer: account.name, at: clock.now(), note: note.flatMap { $0.isEmpty ? nil : $0 })
        logger.notice(
            "reconciliation conflict acknowledged",
            metadata: [
                "record": "\(id)", "lane": "\(record.lane)", "officer": "\(account.name)",
                "conflict": "\(record.conflict ?? "-")",
            ])
        console?.bus.changed()
        return acknowledged
    }

    /// The lanes `account` may see: all of them, or its control point's.
    static func visibleLanes(_ lanes: [Lane], to account: Account) -> Set<LaneID> {
        Set(lanes.filter { account.controlPoint == nil || account.controlPoint == $0.controlPoint }.map(\.id))
    }

    /// A yes/no query parameter: `true` or `false`, false when left out.
    static func flag(_ name: String, _ raw: String?) throws(ValidationFailure) -> Bool {
        switch raw {
        case nil, "false": return false
        case "true": return true
        case let raw?:
            throw ValidationFailure(
                field: name, rule: "query.boolean", detail: "\(name) is true or false; got \"\(raw)\"")
        }
    }

    /// A JSON body that may be left out altogether (nil), read as strictly
    /// as every other body when it is sent.
    static func optionalBody<T: Decodable>(_ type: T.Type, _ request: Request, limit: Int) async throws -> T?
    {
        try JSONBody.requireMediaType(request, accepted: ["application/json"], suffix: "+json")
        let buffer = try await JSONBody.collect(request, limit: limit)
        guard buffer.readableBytes > 0 else { return nil }
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(buffer.readableBytesView))
        } catch {
            throw Problem(.malformed, "the request body is not valid JSON; send a JSON object or nothing")
        }
        return try StrictJSONDecoder.decode(type, from: value)
    }
}

/// POST /v1/reconciliation/{id}/acknowledge: what the officer noted (optional).
public struct AcknowledgeRequestBody: Codable, Sendable, Hashable {
    public var note: String?
}

/// An offline crossing as the API shows it; times in Hong Kong time, whole seconds.
public struct OfflineCrossingBody: Codable, Sendable, Hashable {
    public var id: Int64
    public var lane: String
    public var passageId: UInt64
    public var requestId: UInt64
    public var vrn: String
    public var unladen: Bool
    public var arrivedAt: String
    public var decidedAt: String
    public var receivedAt: String
    public var instruction: String
    public var reason: String
    public var notes: [String]
    public var ubr: String?
    /// `generation.sequence` of the cache the lane decided with.
    public var cacheVersion: String?
    /// applied, no_bundle or conflict.
    public var outcome: String
    public var conflict: String?
    public var acknowledgedBy: String?
    public var acknowledgedAt: String?
    public var acknowledgedNote: String?

    init(_ r: OfflineCrossingRecord) {
        id = r.id
        lane = r.lane.value
        passageId = r.passageID
        requestId = r.requestID
        vrn = r.vrn.value
        unladen = r.unladenPressed
        arrivedAt = HongKongTime.iso8601(r.arrivedAt)
        decidedAt = HongKongTime.iso8601(r.decidedAt)
        receivedAt = HongKongTime.iso8601(r.receivedAt)
        instruction = r.decision.instruction.rawValue
        reason = r.decision.reason.rawValue
        notes = r.decision.notes.map(\.rawValue)
        ubr = r.decision.ubr?.value
        cacheVersion = r.cacheVersion?.description
        outcome = r.outcome.rawValue
        conflict = r.conflict
        acknowledgedBy = r.acknowledgedBy
        acknowledgedAt = r.acknowledgedAt.map(HongKongTime.iso8601)
        acknowledgedNote = r.acknowledgedNote
    }
}

/// One lane's offline crossings counted.
public struct ReconciliationLaneBody: Codable, Sendable, Hashable {
    public var lane: String
    public var received: Int
    public var applied: Int
    public var noBundle: Int
    public var conflicts: Int
    public var openConflicts: Int

    init(lane: LaneID, counts: OfflineCrossingCounts) {
        self.lane = lane.value
        received = counts.received
        applied = counts.applied
        noBundle = counts.noBundle
        conflicts = counts.conflicts
        openConflicts = counts.openConflicts
    }
}

/// GET /v1/reconciliation: the crossings asked for, and every visible lane's counts.
public struct ReconciliationListBody: Codable, Sendable, Hashable {
    public var items: [OfflineCrossingBody]
    public var lanes: [ReconciliationLaneBody]
}
