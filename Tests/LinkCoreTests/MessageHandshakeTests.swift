import Foundation
import RoadCargo
import Testing

@testable import LinkCore

/// The session layer's handshake values through this codec's layouts.
@Suite("Handshake coding for the session")
struct MessageHandshakeTests {
    let coding = SessionHandshakeCoding.wire(clock: SimulatedWallClock(Fixture.now))

    @Test("hello, welcome and refusal round trip; the welcome carries central's clock")
    func roundTrip() throws {
        let hello = SessionHello(
            versions: [1, 2], laneID: Fixture.laneA, capabilities: ["offline-cache", "help-call"])
        #expect(coding.decodeHello(coding.encodeHello(hello)) == hello)
        let welcome = SessionWelcome(version: 1, capabilities: ["help-call"])
        let bytes = coding.encodeWelcome(welcome)
        #expect(coding.decodeWelcome(bytes) == welcome)
        guard case .welcome(let w) = try LaneMessage(kind: .welcome, payload: bytes) else {
            Issue.record("not a welcome")
            return
        }
        #expect(w.centralTime == Fixture.now)
        let refusal = SessionRefusal(.noCommonVersion, detail: "lane speaks 7 only")
        #expect(coding.decodeRefusal(coding.encodeRefusal(refusal)) == refusal)
    }

    @Test("malformed handshake payloads decode to nil")
    func malformed() {
        #expect(coding.decodeHello([1]) == nil)
        #expect(coding.decodeWelcome([]) == nil)
        #expect(coding.decodeRefusal([99, 0, 0]) == nil)
    }

    @Test("capability names without a bit cannot travel and are left out")
    func unknownNames() {
        let hello = SessionHello(
            versions: [1], laneID: Fixture.laneA, capabilities: ["time-sync", "teleport"])
        #expect(coding.decodeHello(coding.encodeHello(hello))?.capabilities == ["time-sync"])
    }
}
