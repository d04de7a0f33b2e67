import CentralCluster
import ClearanceCore
import Foundation
import Hummingbird
import RoadCargo

extension CentralApp {
    /// The server clock. Reading it helps callers reason about validity
    /// windows; moving it is for simulations and tests, by officers, and only
    /// when the server runs on a simulated clock.
    func addClockRoutes(to router: Router<CentralContext>) {
        router.get("/v1/clock") { request, _ in
            _ = try await auth.account(for: request)
            return try JSONBody.response(clockBody())
        }

        router.put("/v1/clock") { request, _ in
            let account = try await auth.account(for: request)
            try account.require([.officer], to: "set the clock")
            let simulated = try requireSimulatedClock()
            let body = try await JSONBody.decode(ClockSetBody.self, from: request, limit: limits.jsonBody)
            let target = try parsing("now") { () throws(ValidationFailure) in try APIParse.time(body.now) }
            // Time never runs backwards: stored completion times would then lie
            // in the future and a test could pass that production cannot.
            guard target >= simulated.now() else {
                throw RuleConflict(
                    field: "now", rule: "clock.backwards",
                    detail:
                        "the clock stands at \(HongKongTime.iso8601(simulated.now())); it only moves forward")
            }
            simulated.set(target)
            if let cluster = lanes?.cluster {
                // Every node's clock follows the cluster's row.
                let at = try await cluster.tables.setClock(target)
                if at > simulated.now() { simulated.set(at) }
            }
            return try JSONBody.response(clockBody())
        }

        router.post("/v1/clock/advance") { request, _ in
            let account = try await auth.account(for: request)
            try account.require([.officer], to: "advance the clock")
            let simulated = try requireSimulatedClock()
            let body = try await JSONBody.decode(ClockAdvanceBody.self, from: request, limit: limits.jsonBody)
            guard (0...Self.maximumAdvance).contains(body.seconds) else {
                throw Problem.invalid(
                    "seconds", "number.range",
                    "must lie between 0 and \(Int(Self.maximumAdvance)) (ten years)")
            }
            guard simulated.now().addingTimeInterval(body.seconds) <= APIParse.timeRange.upperBound else {
                throw Problem.invalid("seconds", "time.range", "the clock would pass the end of 2999")
            }
            if let cluster = lanes?.cluster {
                // Advanced in the row, so advances on two nodes both count.
                let at = try await cluster.tables.advanceClock(by: body.seconds, local: simulated.now())
                if at > simulated.now() { simulated.set(at) }
            } else {
                simulated.advance(by: body.seconds)
            }
            return try JSONBody.response(clockBody())
        }
    }

    static let maximumAdvance: Double = 10 * 365 * 86_400

    private func clockBody() -> ClockBody {
        ClockBody(now: HongKongTime.iso8601(clock.now()), simulated: simulatedClock != nil)
    }

    private func requireSimulatedClock() throws -> SimulatedWallClock {
        guard let simulatedClock else {
            throw RuleConflict(
                field: "", rule: "clock.not-simulated",
                detail: "this server runs on the system clock; start it with --simulated-clock to move time")
        }
        return simulatedClock
    }
}
