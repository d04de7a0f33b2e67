import CargoStore
import Foundation
import Hummingbird
import LinkCore
import RoadCargo

extension CentralApp {
    /// What central sends lanes over the link (arrivals, officers' commands,
    /// offline caches) and what lanes have reported. Sending answers 202: the
    /// message is in the lane's durable outbox, not yet on the lane's boards.
    func addLaneLinkRoutes(to router: Router<CentralContext>) {
        router.post("/v1/lanes/{laneId}/arrivals") { request, context in
            let account = try await auth.account(for: request)
            try account.require([.officer, .immigration], to: "report vehicle arrivals")
            let id = try context.parameters.parsed("laneId") { raw throws(ValidationFailure) in
                try LaneID(raw)
            }
            let body = try await JSONBody.decode(
                ArrivalRequestBody.self, from: request, limit: limits.jsonBody)
            let vrn = try parsing("vrn") { () throws(ValidationFailure) in try APIParse.vrn(body.vrn) }
            let lane = try await laneToAct(on: id, as: account)
            let link = try linked(lane)
            let sent = try await link.sendArrival(vrn, to: lane)
            return try JSONBody.response(
                ArrivalAcceptedBody(
                    messageId: sent.messageID, lane: lane.id.value, vrn: vrn.value,
                    arrivedAt: HongKongTime.iso8601(sent.arrivedAt), laneConnected: link.isConnected(lane.id)),
                status: .accepted)
        }

        router.post("/v1/lanes/{laneId}/commands") { request, context in
            let account = try await auth.account(for: request)
            try account.require([.officer], to: "command lanes")
            let id = try context.parameters.parsed("laneId") { raw throws(ValidationFailure) in
                try LaneID(raw)
            }
            let body = try await JSONBody.decode(
                CommandRequestBody.self, from: request, limit: limits.jsonBody)
            let command = try Self.laneCommand(body)
            let lane = try await laneToAct(on: id, as: account)
            let link = try linked(lane)
            let sent = try await link.send(command, to: lane, by: account)
            var accepted = CommandAcceptedBody(
                actionId: sent.action.id, messageId: sent.messageID, lane: lane.id.value,
                command: body.command,
                officer: account.name, requestedAt: HongKongTime.iso8601(sent.action.requestedAt),
                laneConnected: link.isConnected(lane.id), cacheGeneration: sent.cache?.record.generation)
            accepted.describe(sent.delivery)
            return try JSONBody.response(accepted, status: .accepted)
        }

        router.post("/v1/lanes/{laneId}/bundle-cache") { request, context in
            let account = try await auth.account(for: request)
            try account.require([.officer], to: "push bundle caches to lanes")
            let id = try context.parameters.parsed("laneId") { raw throws(ValidationFailure) in
                try LaneID(raw)
            }
            let lane = try await laneToAct(on: id, as: account)
            let link = try linked(lane)
            let push = try await link.pushCache(to: lane, cause: .officer, by: account.name)
            return try JSONBody.response(
                CachePushBody(
                    lane: lane.id.value, generation: push.record.generation,
                    pushedAt: HongKongTime.iso8601(push.record.pushedAt), bundles: push.record.bundles,
                    watchTargets: push.record.watchTargets, omitted: push.omitted.map(\.value),
                    messageIds: push.messageIDs, laneConnected: link.isConnected(lane.id)),
                status: .accepted)
        }

        router.get("/v1/lanes/{laneId}/events") { request, context in
            let account = try await auth.account(for: request)
            try account.require([.officer], to: "read lane events")
            let id = try context.parameters.parsed("laneId") { raw throws(ValidationFailure) in
                try LaneID(raw)
            }
            let limit = try Self.listLimit(request.uri.queryParameters.get("limit"))
            guard try await repository.lane(id) != nil else {
                throw Problem(.notFound, "lane \(id) is not known")
            }
            let events = try await repository.laneEvents(lane: id, limit: limit)
            return try JSONBody.response(ListBody(items: events.map(LaneEventBody.init)))
        }
    }

    /// Lane events listed: 100 unless `?limit=` says otherwise, at most 1000.
    static let defaultEventLimit = 100
    static let maximumEventLimit = 1000

    static func listLimit(_ raw: String?) throws(ValidationFailure) -> Int {
        guard let raw else { return defaultEventLimit }
        guard raw.utf8.count <= 4, raw.utf8.allSatisfy({ (48...57).contains($0) }), let n = Int(raw),
            (1...maximumEventLimit).contains(n)
        else {
            throw ValidationFailure(
                field: "limit", rule: "query.range",
                detail: "limit is a whole number from 1 to \(maximumEventLimit); got \"\(raw)\"")
        }
        return n
    }

    /// The stored lane, if the account may act on it: an account limited to
    /// a control point acts on that control point's lanes only.
    private func laneToAct(on id: LaneID, as account: Account) async throws -> Lane {
        guard let lane = try await repository.lane(id) else {
            throw Problem(.notFound, "lane \(id) is not known")
        }
        if let own = account.controlPoint, own != lane.controlPoint {
            throw Problem(
                .forbidden,
                "\(account.name) acts on lanes at \(own) only; lane \(id) is at \(lane.controlPoint)")
        }
        return lane
    }

    private func linked(_ lane: Lane) throws -> LaneDispatcher {
        guard let lanes else {
            throw Problem(
                .conflict,
                "clearanced runs without the lane link, so nothing can reach lane \(lane.id); start it with --link-port or --link-serial and --link-keys"
            )
        }
        return lanes
    }

    /// The command a request body asks for; a member the command does not
    /// take is refused, as an unknown member is everywhere else.
    static func laneCommand(_ body: CommandRequestBody) throws(ValidationFailure) -> LaneCommand {
        let takes: [String: Set<String>] = [
            "open": [], "close": [], "offline": ["on"],
            "override": ["requestId", "instruction", "reason", "text"],
        ]
        guard let allowed = takes[body.command] else {
            throw ValidationFailure(
                field: "command", rule: "enum",
                detail: "command is open, close, offline or override; got \"\(body.command)\"")
        }
        var f = FieldChecks()
        let present: [(String, Bool)] = [
            ("on", body.on != nil), ("requestId", body.requestId != nil),
            ("instruction", body.instruction != nil),
            ("reason", body.reason != nil), ("text", body.text != nil),
        ]
        for (name, given) in present where given && !allowed.contains(name) {
            f.add(name, "command.member", "command \(body.command) takes no \(name)")
        }
        switch body.command {
        case "open":
            try f.throwIfAny()
            return .open
        case "close":
            try f.throwIfAny()
            return .close
        case "offline":
            if body.on == nil { f.add("on", "json.required", "offline needs on: true or false") }
            try f.throwIfAny()
            return .offline(body.on!)
        default:
            return try overrideCommand(body, &f)
        }
    }

    private static func overrideCommand(_ body: CommandRequestBody, _ f: inout FieldChecks)
        throws(ValidationFailure)
        -> LaneCommand
    {
        var requestID: UInt64?
        if let raw = body.requestId {
            // Digits only: UInt64("+1") would pass.
            requestID = raw.utf8.allSatisfy({ (48...57).contains($0) }) ? UInt64(raw) : nil
            if requestID == nil {
                f.add(
                    "requestId", "request-id.format",
                    "the lane's request id is a whole number from 0 to \(UInt64.max), as a string of digits")
            }
        } else {
            f.add("requestId", "json.required", "override needs the lane's requestId")
        }
        let instruction = body.instruction.flatMap { raw -> Instruction? in
            let i = Instruction(rawValue: raw)
            guard let i, i == .cleared || i == .inspect else {
                f.add("instruction", "enum", "an override is CLEARED or INSPECT; got \"\(raw)\"")
                return nil
            }
            return i
        }
        if body.instruction == nil {
            f.add("instruction", "json.required", "override needs CLEARED or INSPECT")
        }
        let reason = body.reason.flatMap { raw -> Reason? in
            let r = Reason(rawValue: raw)
            guard let r, r == .officerRelease || r == .officerDivert else {
                f.add(
                    "reason", "enum",
                    "an override's reason is OFFICER_RELEASE or OFFICER_DIVERT; got \"\(raw)\"")
                return nil
            }
            return r
        }
        if body.reason == nil {
            f.add("reason", "json.required", "override needs OFFICER_RELEASE or OFFICER_DIVERT")
        }
        if let instruction, let reason, (instruction == .cleared) != (reason == .officerRelease) {
            f.add(
                "reason", "override.reason",
                "CLEARED goes with OFFICER_RELEASE and INSPECT with OFFICER_DIVERT; got \(instruction.rawValue) with \(reason.rawValue)"
            )
        }
        f.text("text", body.text, min: 0, max: 280)
        try f.throwIfAny()
        guard let requestID, let instruction, let reason else {
            throw ValidationFailure(field: "", rule: "invalid", detail: "unreadable")
        }
        return .override(
            requestID: requestID, instruction: instruction, reason: reason, text: body.text ?? "")
    }
}
