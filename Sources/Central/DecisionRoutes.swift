import CargoStore
import ClearanceCore
import Foundation
import Hummingbird
import RoadCargo

extension CentralApp {
    /// The dry-run decision: what a lane would be told, recording and
    /// claiming nothing.
    ///
    /// Officers only: the answer reveals whether random selection would pick
    /// a bundle, and a driver who could ask would debundle and bundle again
    /// until the keyed hash let them through.
    func addDecisionRoutes(to router: Router<CentralContext>) {
        router.post("/v1/decisions/dry-run") { request, _ in
            let account = try await auth.account(for: request)
            try account.require([.officer], to: "ask for dry-run decisions")
            let body = try await JSONBody.decode(DryRunBody.self, from: request, limit: limits.jsonBody)
            let question = try await decisionRequest(body)
            // The store's own read of the case, as a lane's request gets it
            // (a claimed bundle is nobody else's), without the claim.
            let decision = try await repository.dryRunDecision(for: question, policy: policy, at: clock.now())
            return try JSONBody.response(DecisionBody(decision, request: question))
        }
    }

    func decisionRequest(_ body: DryRunBody) async throws -> DecisionRequest {
        var f = FieldChecks()
        let vrn = f.parse("vrn") { () throws(ValidationFailure) in try APIParse.vrn(body.vrn) }
        let arrivedAt = body.arrivedAt.flatMap { raw in
            f.parse("arrivedAt") { () throws(ValidationFailure) in try APIParse.time(raw) }
        }
        var lane: Lane?
        switch (body.laneId, body.lane) {
        case (let id?, nil):
            if let laneID = f.parse("laneId", { () throws(ValidationFailure) in try LaneID(id) }) {
                lane = try await repository.lane(laneID)
                if lane == nil {
                    f.add("laneId", "lane.unknown", "no lane \(laneID) is known; add it under /v1/lanes")
                }
            }
        case (nil, let inline?):
            lane = inline.domain(&f, at: "lane")
        default:
            f.add("laneId", "dry-run.lane", "give exactly one of laneId and lane")
        }
        try f.throwIfAny()
        guard let vrn, let lane else {
            throw ValidationFailure(field: "", rule: "invalid", detail: "unreadable")
        }
        return DecisionRequest(
            lane: lane, vrn: vrn, arrivedAt: arrivedAt ?? clock.now(), unladenPressed: body.unladen)
    }
}
