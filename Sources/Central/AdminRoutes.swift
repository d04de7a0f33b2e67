import CargoStore
import ClearanceCore
import Foundation
import Hummingbird
import RoadCargo

extension CentralApp {
    /// The officers' watch list: list, add, remove. Entries are not edited in
    /// place; removing and adding keeps who-added-what honest.
    func addWatchListRoutes(to router: Router<CentralContext>) {
        router.get("/v1/watchlist") { request, _ in
            let account = try await auth.account(for: request)
            try account.require([.officer], to: "read the watch list")
            let entries = try await repository.watchEntries()
            return try JSONBody.response(ListBody(items: entries.map(WatchEntryBody.init)))
        }

        router.post("/v1/watchlist") { request, _ in
            let account = try await auth.account(for: request)
            try account.require([.officer], to: "change the watch list")
            let body = try await JSONBody.decode(WatchRequestBody.self, from: request, limit: limits.jsonBody)
            let target = try watchTarget(body)
            let entry = try await repository.addWatch(
                target, note: body.note ?? "", by: account, at: clock.now())
            var response = try JSONBody.response(WatchEntryBody(entry), status: .created)
            response.headers[.location] = "/v1/watchlist/\(entry.id)"
            return response
        }

        router.delete("/v1/watchlist/{id}") { request, context in
            let account = try await auth.account(for: request)
            try account.require([.officer], to: "change the watch list")
            let id = try context.parameters.positiveID("id", "a watch-list id")
            guard try await repository.removeWatch(id: id) else {
                throw Problem(.notFound, "watch-list entry \(id) does not exist")
            }
            return Response(status: .noContent)
        }
    }

    func watchTarget(_ body: WatchRequestBody) throws(ValidationFailure) -> WatchTarget {
        var f = FieldChecks()
        f.text("value", body.value, max: 140)
        f.text("note", body.note, min: 0, max: 500)
        try f.throwIfAny()
        switch body.kind {
        case "vrn":
            return .vrn(try parsing("value") { () throws(ValidationFailure) in try APIParse.vrn(body.value) })
        case "ccrn":
            return .ccrn(
                try parsing("value") { () throws(ValidationFailure) in
                    try APIParse.reference(CCRN.self, body.value)
                })
        case "consignee": return .consignee(WatchTarget.normaliseName(body.value))
        default:
            throw ValidationFailure(field: "kind", rule: "enum", detail: "kind is vrn, ccrn or consignee")
        }
    }

    /// Lanes central knows. Anyone signed in may read them (a driver may want
    /// to know a lane's direction); only officers change them, and an officer
    /// limited to one control point only there.
    func addLaneRoutes(to router: Router<CentralContext>) {
        router.get("/v1/lanes") { request, _ in
            _ = try await auth.account(for: request)
            return try JSONBody.response(ListBody(items: try await repository.lanes().map(LaneBody.init)))
        }

        router.get("/v1/lanes/{laneId}") { request, context in
            _ = try await auth.account(for: request)
            let id = try context.parameters.parsed("laneId") { raw throws(ValidationFailure) in
                try LaneID(raw)
            }
            guard let lane = try await repository.lane(id) else {
                throw Problem(.notFound, "lane \(id) is not known")
            }
            return try JSONBody.response(LaneBody(lane))
        }

        router.put("/v1/lanes/{laneId}") { request, context in
            let account = try await auth.account(for: request)
            try account.require([.officer], to: "change lanes")
            let id = try context.parameters.parsed("laneId") { raw throws(ValidationFailure) in
                try LaneID(raw)
            }
            let body = try await JSONBody.decode(LanePutBody.self, from: request, limit: limits.jsonBody)
            var f = FieldChecks()
            let lane = LaneBody(id: id.value, controlPoint: body.controlPoint, direction: body.direction)
                .domain(&f, at: "")
            try f.throwIfAny()
            guard let lane else { throw ValidationFailure(field: "", rule: "invalid", detail: "unreadable") }
            try account.requireControlPoint(lane.controlPoint)
            let existing = try await repository.lane(id)
            if let existing { try account.requireControlPoint(existing.controlPoint) }
            try await repository.putLane(lane)
            return try JSONBody.response(LaneBody(lane), status: existing == nil ? .created : .ok)
        }

        router.delete("/v1/lanes/{laneId}") { request, context in
            let account = try await auth.account(for: request)
            try account.require([.officer], to: "change lanes")
            let id = try context.parameters.parsed("laneId") { raw throws(ValidationFailure) in
                try LaneID(raw)
            }
            guard let lane = try await repository.lane(id) else {
                throw Problem(.notFound, "lane \(id) is not known")
            }
            try account.requireControlPoint(lane.controlPoint)
            _ = try await repository.removeLane(id)
            return Response(status: .noContent)
        }
    }
}

extension LaneBody {
    init(id: String, controlPoint: String, direction: String) {
        self.id = id
        self.controlPoint = controlPoint
        self.direction = direction
    }
}

extension Account {
    /// An officer limited to one control point administers only that one.
    func requireControlPoint(_ cp: ControlPoint) throws {
        if let own = controlPoint, own != cp {
            throw Problem(.forbidden, "\(name) administers \(own) only, not \(cp)")
        }
    }
}
