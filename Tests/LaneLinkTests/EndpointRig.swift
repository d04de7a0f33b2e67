import Foundation
import LinkCore
import RoadCargo
import Synchronization
import TestKit
import Testing

@testable import LaneLink

/// A central and lanes wired through the real link: keys in a temporary
/// directory, a `LaneLinkServer` answering decision requests, and lane
/// clients with their own outbox files.
final class LinkRig: Sendable {
    let directory: String
    let keys: [LaneID: LinkKey]
    let server: LaneLinkServer
    /// How often central's handler ran per (lane, request id).
    let applications = Tally()
    /// Decisions the lanes received, per (lane, request id).
    let decisions = Tally()

    static let laneA = try! LaneID("LMC-IN-01")
    static let laneB = try! LaneID("LMC-IN-02")

    init(
        session: (inout LinkSession.Configuration) -> Void = { _ in },
        limits: (inout LinkLimits) -> Void = { _ in }
    ) throws {
        directory =
            FileManager.default.temporaryDirectory.appendingPathComponent("link-rig-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let a = LinkKey.generate(for: Self.laneA)
        let b = LinkKey.generate(for: Self.laneB)
        keys = [Self.laneA: a, Self.laneB: b]
        var configuration = LaneLinkServer.Configuration()
        // A busy test machine can stall the cooperative pool for seconds;
        // the handshake's deadline is tested where a test sets it short.
        configuration.session.handshakeTimeout = .seconds(60)
        session(&configuration.session)
        limits(&configuration.limits)
        serverConfiguration = configuration
        server = try Self.makeServer(
            keys: LinkKeyring([a, b]), path: directory + "/central.sqlite", configuration: configuration,
            applications: applications)
    }

    /// The configuration every server of this rig runs with.
    let serverConfiguration: LaneLinkServer.Configuration

    /// Another central node with the rig's keys and its own database,
    /// counting what it applies in `applications` (failover tests).
    func anotherServer(_ name: String, applications: Tally) throws -> LaneLinkServer {
        try Self.makeServer(
            keys: LinkKeyring(Array(keys.values)), path: "\(directory)/central-\(name).sqlite",
            configuration: serverConfiguration, applications: applications)
    }

    private static func makeServer(
        keys: LinkKeyring, path: String, configuration: LaneLinkServer.Configuration, applications: Tally
    ) throws -> LaneLinkServer {
        try LaneLinkServer(keys: keys, path: path, configuration: configuration) { lane, message in
            guard case .decisionRequest(let request) = message else { return [] }
            applications.withLock { $0["\(lane)/\(request.request.requestID)", default: 0] += 1 }
            return [.decision(Self.decision(for: request))]
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    static func decision(for message: DecisionRequestMessage) -> DecisionMessage {
        DecisionMessage(
            requestID: message.request.requestID, decisionID: message.request.requestID + 1_000_000,
            decision: Decision(
                instruction: Instruction.allCases[0], reason: Reason.allCases[0], notes: [], ubr: nil,
                earliestCrossing: Date(timeIntervalSince1970: 1_800_000_000), ccrns: []))
    }

    static func request(_ id: UInt64, lane: LaneID = laneA) -> LaneMessage {
        .decisionRequest(
            DecisionRequestMessage(
                requestID: id, passageID: id, lane: lane, vrn: try! VRN("AB\(id % 10000)"),
                arrivedAt: Date(timeIntervalSince1970: 1_790_000_000), unladenPressed: id % 2 == 0))
    }

    /// Serves TCP on an ephemeral loopback port (or `port`) until the returned task is cancelled.
    func listen(
        _ server: LaneLinkServer? = nil, port: Int = 0
    ) async throws -> (port: Int, task: Task<Void, Never>, listener: TCPLinkListener) {
        let listener = try await TCPLinkListener(host: "127.0.0.1", port: port)
        let task = Task { [server = server ?? self.server] in await server.serve(listener) }
        return (listener.port, task, listener)
    }

    /// A lane client on `line` with the outbox file `outbox` (its own by default).
    func client(
        _ lane: LaneID = laneA, line: LaneLinkClient.Line, outbox: String? = nil,
        appliedLog: (any AppliedLog)? = nil,
        session: (inout LinkSession.Configuration) -> Void = { _ in }
    ) throws -> LaneLinkClient {
        var configuration = LaneLinkClient.Configuration(key: keys[lane]!, line: line)
        configuration.backoff.base = .milliseconds(50)
        configuration.backoff.cap = .milliseconds(500)
        session(&configuration.session)
        let outbox = try SQLiteOutbox(
            path: outbox ?? "\(directory)/outbox-\(lane)-\(UUID().uuidString).sqlite")
        let decisions = self.decisions
        return LaneLinkClient(configuration: configuration, outbox: outbox, appliedLog: appliedLog) {
            message in
            switch message {
            case .decision(let decision):
                decisions.withLock { $0["\(lane)/\(decision.requestID)", default: 0] += 1 }
            case .officerCommand(.openLane(let officer)):
                decisions.withLock { $0["\(lane)/open-\(officer)", default: 0] += 1 }
            default:
                break
            }
        }
    }

    func decisionCount(_ lane: LaneID = laneA) -> Int {
        decisions.withLock { $0.keys.count { $0.hasPrefix("\(lane)/") } }
    }

    /// Every request applied exactly once and every decision received at
    /// least once (the lane handler may see a resend after a reconnect).
    func expectExactlyOnce(
        _ ids: some Sequence<UInt64>, lane: LaneID = laneA, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let applied = applications.withLock { $0 }
        let received = decisions.withLock { $0 }
        for id in ids {
            #expect(
                applied["\(lane)/\(id)"] == 1, "request \(id) applied \(applied["\(lane)/\(id)"] ?? 0) times",
                sourceLocation: sourceLocation)
            #expect(
                received["\(lane)/\(id)", default: 0] >= 1, "no decision for \(id)",
                sourceLocation: sourceLocation)
        }
    }
}

/// Counts by key, shared between a handler and the test.
final class Tally: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    func withLock<R: Sendable>(_ body: (inout [String: Int]) -> R) -> R { counts.withLock { body(&$0) } }
}
