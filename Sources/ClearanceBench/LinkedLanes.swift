import CargoStore
import Central
import ClearanceCore
import Foundation
import LaneLink
import LinkCore
import Logging
import RoadCargo
import Synchronization

/// Decisions as lanes get them: `lanes` real `LaneLinkClient`s over TCP
/// loopback, spread round-robin over one or more central nodes (each a
/// ``CentralAssembly`` with its own link listener), each lane asking about
/// one truck at a time (a lane serves one truck at a time) and timing each
/// answer from the moment the request entered its outbox to the moment the
/// decision reached its handler.
struct LinkedLanes {
    /// Builds node `node` (from 0) of central around its bound link listener.
    typealias MakeNode =
        @Sendable (_ node: Int, _ keys: LinkKeyring, _ listener: TCPLinkListener, _ logger: Logger)
        async throws
        -> CentralAssembly

    var lanes: [Lane]
    var nodes: Int
    var directory: String
    /// Which run on one store this is: request ids differ between runs, or
    /// central would take a later run's request for a resend of an earlier
    /// one's (same lane, same id, another truck) and refuse it.
    var run: Int = 0
    /// How long every lane may take to receive its cache before the run is
    /// abandoned, naming how many did: a lane that never gets one would
    /// otherwise hold the bench for ever.
    var cacheWait: Duration = .seconds(1800)

    /// Runs the traffic: each lane asks about its own list of vehicles in turn.
    /// - Returns: the latencies, the outcomes by instruction and reason.
    func run(requests: [LaneID: [VRN]], arrivedAt: Date, makeNode: MakeNode) async throws
        -> (Measurement, [String: Int])
    {
        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        let keys = Dictionary(uniqueKeysWithValues: lanes.map { ($0.id, LinkKey.generate(for: $0.id)) })
        let keyring = LinkKeyring(Array(keys.values))
        var listeners: [TCPLinkListener] = []
        var running: [Task<Void, Never>] = []
        for n in 0..<nodes {
            let listener = try await TCPLinkListener(host: "127.0.0.1", port: 0)
            let node = try await makeNode(n, keyring, listener, logger)
            listeners.append(listener)
            running.append(Task { _ = try? await node.run() })
        }
        defer { for task in running { task.cancel() } }

        let answers = Answers()
        let cached = Arrivals()
        var clients: [(Lane, LaneLinkClient, Task<Void, any Error>)] = []
        for (index, lane) in lanes.enumerated() {
            let port = listeners[index % nodes].port
            var configuration = LaneLinkClient.Configuration(
                key: keys[lane.id]!, line: .tcp(TCPLinkConnector(host: "127.0.0.1", port: port)))
            configuration.backoff.base = .milliseconds(50)
            configuration.backoff.cap = .milliseconds(500)
            // A bench machine at full load stalls handshakes for seconds.
            configuration.session.handshakeTimeout = .seconds(120)
            let path = "\(directory)/\(lane.id)-outbox.sqlite"
            let outbox = try await offPool { try SQLiteOutbox(path: path) }
            let client = LaneLinkClient(configuration: configuration, outbox: outbox, logger: logger) {
                message in
                switch message {
                case .decision(let decision): answers.answer(decision)
                case .bundleCache(let chunk) where chunk.index + 1 == chunk.count: cached.arrived(lane.id)
                default: break
                }
            }
            clients.append((lane, client, Task { try await client.run() }))
        }
        defer { for (_, _, task) in clients { task.cancel() } }

        // Central pushes every lane its whole cache when its session starts;
        // the decisions are timed once every lane has it, as in a day's
        // steady running, not while 200 sessions start at once.
        let connecting = ContinuousClock.now
        while cached.count < lanes.count {
            guard ContinuousClock.now - connecting < cacheWait else {
                throw CachesNotPushed(had: cached.count, lanes: lanes.count, waited: cacheWait)
            }
            // Polled: a figure in seconds needs no event, and a deadline
            // around a continuation would need cancellation handling besides.
            try await Task.sleep(for: .milliseconds(100))
        }
        print(
            "  link      \(lanes.count) lanes linked and sent their caches in \(format(ContinuousClock.now - connecting))"
        )

        let tally = Tally()
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, (lane, client, _)) in clients.enumerated() {
                let vehicles = requests[lane.id] ?? []
                let laneID = lane.id
                group.addTask {
                    for (n, vrn) in vehicles.enumerated() {
                        let id = UInt64(run) << 40 + UInt64(index * 1_000_000 + n + 1)
                        let request = DecisionRequestMessage(
                            requestID: id, passageID: id, lane: laneID, vrn: vrn, arrivedAt: arrivedAt,
                            unladenPressed: false)
                        let t = ContinuousClock.now
                        async let answer = answers.wait(for: id)
                        try await client.send(.decisionRequest(request))
                        let decision = await answer
                        let took = ContinuousClock.now - t
                        tally.add(
                            took,
                            "\(decision.decision.instruction.rawValue) \(decision.decision.reason.rawValue)")
                    }
                }
            }
            try await group.waitForAll()
        }
        let total = ContinuousClock.now - start
        let (samples, outcomes) = tally.result
        return (Measurement(samples: samples, total: total, found: samples.count), outcomes)
    }
}

/// Latencies and outcomes from every lane's task.
final class Tally: Sendable {
    private let state = Mutex<([Duration], [String: Int])>(([], [:]))

    func add(_ latency: Duration, _ outcome: String) {
        state.withLock {
            $0.0.append(latency)
            $0.1[outcome, default: 0] += 1
        }
    }

    var result: ([Duration], [String: Int]) { state.withLock { $0 } }
}

/// Which lanes have received the whole of a cache push.
final class Arrivals: Sendable {
    private let lanes = Mutex<Set<LaneID>>([])

    func arrived(_ lane: LaneID) {
        _ = lanes.withLock { $0.insert(lane) }
    }

    var count: Int { lanes.withLock { $0.count } }
}

/// Some linked lanes never received their cache within `--cache-wait`.
struct CachesNotPushed: Error, CustomStringConvertible {
    var had: Int
    var lanes: Int
    var waited: Duration
    var description: String {
        "only \(had) of \(lanes) lanes had received their whole cache after \(waited); raise --cache-wait, or look at central"
    }
}

/// Decisions by request id, handed to whoever waits for them.
final class Answers: Sendable {
    private struct State {
        var waiting: [UInt64: CheckedContinuation<DecisionMessage, Never>] = [:]
        var early: [UInt64: DecisionMessage] = [:]
    }
    private let state = Mutex(State())

    func answer(_ decision: DecisionMessage) {
        let waiter = state.withLock { s -> CheckedContinuation<DecisionMessage, Never>? in
            if let waiter = s.waiting.removeValue(forKey: decision.requestID) { return waiter }
            s.early[decision.requestID] = decision
            return nil
        }
        waiter?.resume(returning: decision)
    }

    func wait(for id: UInt64) async -> DecisionMessage {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { s -> DecisionMessage? in
                if let early = s.early.removeValue(forKey: id) { return early }
                s.waiting[id] = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}

/// Runs blocking set-up (SQLite files) on a plain thread, not the cooperative pool.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}
