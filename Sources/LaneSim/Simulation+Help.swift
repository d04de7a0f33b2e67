import CargoStore
import Central
import Foundation
import RoadCargo

// Help calls at the embedded central's help desk, as officers take them.
extension Simulation {
    /// An officer's step on the help call ringing or connected at lane `id`,
    /// as the console takes it (the embedded central only: an external one
    /// takes officers' steps through its console's log-in).
    @discardableResult
    public func help(lane id: LaneID, officer name: String, _ step: (Account) -> HelpCallInput) async throws
        -> HelpCallRecord
    {
        let store = try embedded("a help-call step")
        guard let desk = central.withLock({ $0?.helpDesk }) else { throw SimulationError.centralDown }
        guard let call = try await store.openHelpCalls().last(where: { $0.lane == id }) else {
            throw SimulationError.noHelpCall(id)
        }
        return try await desk.act(step(Account(name: name, role: .officer)), onCall: call.id)
    }

    /// Help calls central holds for lane `id`, the latest first, with their steps.
    public func helpCalls(lane id: LaneID) async throws -> [(call: HelpCallRecord, steps: [HelpCallStep])] {
        let store = try embedded("help calls")
        var calls = try await store.openHelpCalls() + store.endedHelpCalls(limit: 1000)
        calls = calls.filter { $0.lane == id }.sorted { $0.id > $1.id }
        var result: [(HelpCallRecord, [HelpCallStep])] = []
        for call in calls { result.append((call, try await store.helpCallSteps(callID: call.id))) }
        return result
    }
}
