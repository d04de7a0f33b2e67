import ClearanceCore
import Foundation
import RoadCargo
import Testing

@testable import CargoStore

/// A help call's step is written only onto the call it was judged on: two
/// officers on two central nodes answering one call must not both succeed.
@Suite struct HelpCallUpdateTests {
    static let rang = Fixture.t0

    func ringing(_ store: any CargoRepository) async throws -> HelpCallRecord {
        try await store.insertHelpCall(
            HelpCallRecord(
                lane: Fixture.inboundLane.id, controlPoint: .lokMaChau, laneCallID: 7, vrn: Fixture.vrn,
                rangAt: Self.rang),
            step: HelpCallStep(step: "ring", actor: "lane", at: Self.rang)
        ).call
    }

    func answered(_ call: HelpCallRecord, by officer: String) -> HelpCallRecord {
        var call = call
        call.state = .answered
        call.officer = officer
        call.answeredAt = Self.rang.addingTimeInterval(4)
        return call
    }

    @Test(arguments: StoreBackend.all)
    func aSecondAnswerOnTheSameReadIsRefused(backend: StoreBackend) async throws {
        let (first, openSecond) = try await backend.makeShared()
        let second = try await openSecond()
        let call = try await ringing(first)
        // Both nodes read the call ringing; node one's officer answers first.
        try await first.updateHelpCall(
            answered(call, by: "officer-chan"), from: call,
            step: HelpCallStep(step: "answer", actor: "officer-chan", at: Self.rang))
        await #expect(throws: HelpCallChanged(callID: call.id)) {
            try await second.updateHelpCall(
                answered(call, by: "officer-lee"), from: call,
                step: HelpCallStep(step: "answer", actor: "officer-lee", at: Self.rang))
        }
        let stored = try #require(try await second.helpCall(id: call.id))
        #expect(stored.officer == "officer-chan")
        #expect(try await second.helpCallSteps(callID: call.id).map(\.step) == ["ring", "answer"])
    }

    @Test(arguments: StoreBackend.all)
    func anUnknownCallIsNotFound(backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        var ghost = HelpCallRecord(
            lane: Fixture.inboundLane.id, controlPoint: .lokMaChau, laneCallID: 1, vrn: nil, rangAt: Self.rang
        )
        ghost.id = 999
        await #expect(throws: StoreError.notFound("help call 999")) {
            try await store.updateHelpCall(
                answered(ghost, by: "officer-chan"), from: ghost,
                step: HelpCallStep(step: "answer", actor: "officer-chan", at: Self.rang))
        }
    }
}
