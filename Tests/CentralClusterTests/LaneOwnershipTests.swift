import CentralCluster
import Foundation
import RoadCargo
import Testing

/// The ownership rules as a table: events in, actions out, no database.
@Suite struct LaneOwnershipTests {
    static let a = try! NodeID("node-a")
    static let b = try! NodeID("node-b")
    static let lane = try! LaneID("LMC-IN-01")

    static func claim(_ node: NodeID?, _ epoch: Int64) -> LaneClaim {
        LaneClaim(lane: lane, node: node, epoch: epoch, linkedAt: nil)
    }

    typealias E = LaneOwnership.Event
    typealias A = LaneOwnership.Action

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var steps: [(E, [A])]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "a session is claimed, then its commands delivered",
            steps: [
                (.sessionEstablished(lane), [.claim(lane)]),
                (.claimed(lane, epoch: 3), [.deliverPending(lane)]),
            ]),
        Case(
            name: "a session that ends is released under its own epoch",
            steps: [
                (.sessionEstablished(lane), [.claim(lane)]),
                (.claimed(lane, epoch: 3), [.deliverPending(lane)]),
                (.sessionEnded(lane), [.release(lane, epoch: 3)]),
            ]),
        Case(
            name: "a session that ends while its claim is written is released when the claim returns",
            steps: [
                (.sessionEstablished(lane), [.claim(lane)]),
                (.sessionEnded(lane), []),
                (.claimed(lane, epoch: 4), [.release(lane, epoch: 4)]),
            ]),
        Case(
            name: "split brain: a newer claim by another node closes this node's session",
            steps: [
                (.sessionEstablished(lane), [.claim(lane)]),
                (.claimed(lane, epoch: 3), [.deliverPending(lane)]),
                (.observed(claim(b, 4)), [.closeSession(lane, winner: claim(b, 4))]),
                // Its end then releases nothing: the row is the winner's.
                (.sessionEnded(lane), []),
            ]),
        Case(
            name: "split brain: an older claim by another node changes nothing",
            steps: [
                (.sessionEstablished(lane), [.claim(lane)]),
                (.claimed(lane, epoch: 5), [.deliverPending(lane)]),
                (.observed(claim(b, 4)), []),
                (.observed(claim(nil, 6)), []),
            ]),
        Case(
            name: "split brain: the rival's claim heard before ours returned, and newer, wins",
            steps: [
                (.sessionEstablished(lane), [.claim(lane)]),
                (.observed(claim(b, 7)), []),
                (.claimed(lane, epoch: 6), [.closeSession(lane, winner: claim(b, 7))]),
            ]),
        Case(
            name: "split brain: the rival's claim heard before ours returned, but older, loses",
            steps: [
                (.sessionEstablished(lane), [.claim(lane)]),
                (.observed(claim(b, 5)), []),
                (.claimed(lane, epoch: 6), [.deliverPending(lane)]),
            ]),
        Case(
            name: "queued commands are delivered only by the holder",
            steps: [
                (.commandsQueued(lane), []),
                (.sessionEstablished(lane), [.claim(lane)]),
                (.commandsQueued(lane), []),
                (.claimed(lane, epoch: 1), [.deliverPending(lane)]),
                (.commandsQueued(lane), [.deliverPending(lane)]),
            ]),
        Case(
            name: "a sweep finds our row: deliver what a missed notification announced",
            steps: [
                (.sessionEstablished(lane), [.claim(lane)]),
                (.claimed(lane, epoch: 2), [.deliverPending(lane)]),
                (.sweep(rows: [claim(a, 2)]), [.deliverPending(lane)]),
            ]),
        Case(
            name: "a sweep finds a newer claim of another node: close (a missed notification)",
            steps: [
                (.sessionEstablished(lane), [.claim(lane)]),
                (.claimed(lane, epoch: 2), [.deliverPending(lane)]),
                (.sweep(rows: [claim(b, 3)]), [.closeSession(lane, winner: claim(b, 3))]),
            ]),
        Case(
            name: "a sweep finds our row gone or released: claim again",
            steps: [
                (.sessionEstablished(lane), [.claim(lane)]),
                (.claimed(lane, epoch: 2), [.deliverPending(lane)]),
                (.sweep(rows: []), [.claim(lane)]),
                (.claimed(lane, epoch: 3), [.deliverPending(lane)]),
                (.sweep(rows: [claim(nil, 3)]), [.claim(lane)]),
            ]),
        Case(
            name: "a sweep that read the row before our newer claim committed changes nothing",
            steps: [
                (.sessionEstablished(lane), [.claim(lane)]),
                (.claimed(lane, epoch: 5), [.deliverPending(lane)]),
                (.sweep(rows: [claim(a, 4)]), []),
                (.sweep(rows: [claim(b, 4)]), []),
            ]),
        Case(
            name: "a reconnect to the same node claims again, and its old epoch is never released",
            steps: [
                (.sessionEstablished(lane), [.claim(lane)]),
                (.claimed(lane, epoch: 2), [.deliverPending(lane)]),
                (.sessionEstablished(lane), [.claim(lane)]),
                (.claimed(lane, epoch: 3), [.deliverPending(lane)]),
                (.sessionEnded(lane), [.release(lane, epoch: 3)]),
            ]),
        Case(
            name: "claims for lanes without a session here are ignored",
            steps: [
                (.observed(claim(b, 9)), []),
                (.sessionEnded(lane), []),
            ]),
    ]

    @Test(arguments: cases)
    func table(_ c: Case) {
        var ownership = LaneOwnership(node: Self.a)
        for (i, (event, expected)) in c.steps.enumerated() {
            let actions = ownership.handle(event)
            #expect(actions == expected, "step \(i + 1): \(event)")
        }
    }

    @Test func heldListsOnlyCommittedClaims() {
        var ownership = LaneOwnership(node: Self.a)
        let other = try! LaneID("LMC-IN-02")
        _ = ownership.handle(.sessionEstablished(Self.lane))
        _ = ownership.handle(.sessionEstablished(other))
        _ = ownership.handle(.claimed(Self.lane, epoch: 8))
        #expect(ownership.held == [Self.lane: 8])
        #expect(ownership.hasSession(other))
    }
}

@Suite struct CommandRulesTests {
    static let a = try! NodeID("node-a")
    static let b = try! NodeID("node-b")
    static let lane = try! LaneID("LMC-IN-01")

    @Test(
        arguments: [
            // (local session, holder in the table, holder alive, expected)
            (true, "node-b", true, CommandRoute.here),
            (false, "node-b", true, .queue(holder: b)),
            (false, "node-b", false, .queue(holder: nil)),
            (false, nil, false, .queue(holder: nil)),
            // The table says this node but it has no session: stale, nobody holds it.
            (false, "node-a", true, .queue(holder: nil)),
        ] as [(Bool, String?, Bool, CommandRoute)])
    func routes(local: Bool, holder: String?, alive: Bool, expected: CommandRoute) throws {
        let claim = try holder.map {
            LaneClaim(lane: Self.lane, node: try NodeID($0), epoch: 1, linkedAt: nil)
        }
        let live: Set<NodeID> = alive ? [Self.a, Self.b] : [Self.a]
        #expect(CommandRoute.decide(localSession: local, claim: claim, alive: live, me: Self.a) == expected)
    }

    @Test(arguments: [
        (0.0, CommandReplay.deliver),
        (60.0, .deliver),
        (60.5, .expire(ageSeconds: 60)),
        (3600.0, .expire(ageSeconds: 3600)),
        (-30.0, .deliver),
    ])
    func replaysOnlyFreshCommands(age: Double, expected: CommandReplay) {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(CommandReplay.decide(requestedAt: now.addingTimeInterval(-age), now: now) == expected)
    }

    @Test func nodesSilentPastTheLimitAreDead() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let alive = NodeLiveness.alive(
            heartbeats: [(Self.a, now.addingTimeInterval(-1)), (Self.b, now.addingTimeInterval(-6.5))],
            now: now,
            deadAfter: 6)
        #expect(alive == [Self.a])
    }

    @Test(arguments: ["", "node a", String(repeating: "x", count: 65), "nöde", "a/b"])
    func badNodeIDsAreRefusedByName(raw: String) {
        #expect {
            try NodeID(raw)
        } throws: { error in
            "\(error)".contains("node id")
        }
    }
}
