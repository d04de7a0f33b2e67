import BoardLayout
import Central
import Foundation
import LaneRuntime
import LinkTestSupport
import RoadCargo
import TestKit

/// Traffic mode: vehicles arrive at random (a Poisson process) across N
/// lanes, with a mix of bundled, unladen, early, targeted and unbundled
/// trucks; the simulated clock follows real time. Measures arrival to the
/// decision on the boards per vehicle.
public struct Traffic: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case bundled, unladen, early, targeted, unbundled
    }

    public struct Settings: Sendable {
        public var lanes = 2
        /// Arrivals per second over all lanes.
        public var rate = 2.0
        public var duration: Duration = .seconds(30)
        /// Shares of each kind (need not add up to 1).
        public var mix: [Kind: Double] = [
            .bundled: 0.5, .unladen: 0.15, .early: 0.1, .targeted: 0.05, .unbundled: 0.2,
        ]
        public var seed: UInt64 = 1
        /// Short, so that an unbundled truck does not hold its lane for 20 s.
        public var unladenGrace: Duration = .seconds(1)
        /// Rule 4's wait for central (tests on a loaded machine give it more).
        public var decisionTimeout: Duration = .seconds(2)

        public init() {}
    }

    /// One vehicle's passage.
    public struct Passage: Sendable {
        public var number: Int
        public var lane: LaneID
        public var vrn: VRN
        public var kind: Kind
        public var instruction: String
        public var reason: String
        /// Arrival handed to the lane → STOP on the boards.
        public var toStop: Duration
        /// Arrival handed to the lane → the decision (or rule 4's STOP) on the boards.
        public var toDecision: Duration
        /// Waited for a free lane.
        public var queued: Duration
    }

    public struct Report: Sendable {
        public var passages: [Passage]
        public var seconds: Double
        public var toDecision: LatencyRecorder
        public var toStop: LatencyRecorder

        public var decisionsPerSecond: Double { Double(passages.count) / max(seconds, 0.001) }

        /// The CSV the traffic mode writes: one row per vehicle.
        public var csv: String {
            var out =
                "number,lane,vrn,kind,instruction,reason,arrival_to_stop_ms,arrival_to_decision_ms,queued_ms\n"
            for p in passages {
                out +=
                    "\(p.number),\(p.lane.value),\(p.vrn.value),\(p.kind.rawValue),\(p.instruction),\(p.reason),"
                out += String(format: "%.3f,%.3f,%.3f\n", p.toStop.ms, p.toDecision.ms, p.queued.ms)
            }
            return out
        }
    }

    public var settings: Settings

    public init(settings: Settings) { self.settings = settings }

    public func run(progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> Report {
        let start = try HongKongTime.parse("2026-11-26T08:00:00+08:00")
        let lanes = try Simulation.lokMaChauLanes(settings.lanes)
        var simSettings = Simulation.Settings(start: start, lanes: lanes)
        simSettings.unladenGrace = settings.unladenGrace
        simSettings.decisionTimeout = settings.decisionTimeout
        let simulation = try await Simulation(settings: simSettings)
        defer { Task { await simulation.shutdown() } }
        for lane in lanes {
            try await simulation.startLane(lane.id)
            try await simulation.command(LaneCommand.open, lane: lane.id, officer: "traffic")
        }
        for lane in lanes {
            while await (try simulation.lane(lane.id)).status().open == false {
                try await Task.sleep(for: .milliseconds(10))
            }
        }

        // Cargo first, half an hour before the traffic, so that bundles may cross.
        var random = SeededGenerator(seed: settings.seed)
        let expected = Int((settings.rate * settings.duration.seconds * 1.5).rounded(.up)) + 10
        let kinds = Self.draw(expected, mix: settings.mix, using: &random)
        var vrns: [VRN] = []
        for (n, kind) in kinds.enumerated() {
            let vrn = try VRN(String(format: "TR%05d", n + 1))
            vrns.append(vrn)
            let lane = lanes[n % lanes.count]
            switch kind {
            case .bundled, .targeted:
                let c = try await simulation.submit(direction: lane.direction)
                _ = try await simulation.bundle(vrn: vrn, direction: lane.direction, ccrns: [c.ccrn])
                if kind == .targeted { try await simulation.watch(WatchTarget.vrn(vrn)) }
            case .unladen, .early, .unbundled:
                break
            }
        }
        progress("traffic: \(expected) vehicles prepared for \(lanes.count) lanes")
        try await simulation.advance(by: 31 * 60)
        for (n, kind) in kinds.enumerated() where kind == .early {
            let lane = lanes[n % lanes.count]
            let c = try await simulation.submit(direction: lane.direction)
            _ = try await simulation.bundle(vrn: vrns[n], direction: lane.direction, ccrns: [c.ccrn])
        }

        // The simulated clock follows real time from here on, firing the lanes' timers.
        let ticker = Task {
            var last = ContinuousClock.now
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(5))
                let now = ContinuousClock.now
                try? await simulation.advance(by: (now - last).seconds)
                last = now
            }
        }
        defer { ticker.cancel() }

        // Arrival times: one Poisson process over all lanes.
        var arrivals: [Duration] = []
        var t = 0.0
        while true {
            t += -log(1 - Double.random(in: 0..<1, using: &random)) / settings.rate
            guard t < settings.duration.seconds, arrivals.count < kinds.count else { break }
            arrivals.append(.milliseconds(Int64(t * 1000)))
        }
        let began = ContinuousClock.now
        let vehicles = vrns
        let vehicleKinds = kinds
        let schedule = arrivals
        let laneList = lanes
        let collected = try await withThrowingTaskGroup(of: [Passage].self) { group in
            for (index, lane) in laneList.enumerated() {
                group.addTask {
                    let mine = schedule.enumerated().filter { $0.offset % laneList.count == index }
                    let simLane = try simulation.lane(lane.id)
                    let boards = await simLane.controller.drawnBoards()
                    var iterator = boards.makeAsyncIterator()
                    var done: [Passage] = []
                    for (n, at) in mine {
                        let due = began + at
                        if ContinuousClock.now < due { try await Task.sleep(until: due) }
                        let queued = ContinuousClock.now - due
                        var passage = try await Self.pass(
                            number: n + 1, vrn: vehicles[n], kind: vehicleKinds[n], lane: simLane,
                            boards: &iterator)
                        passage.queued = queued
                        done.append(passage)
                    }
                    return done
                }
            }
            var all: [Passage] = []
            for try await part in group { all += part }
            return all
        }
        let seconds = (ContinuousClock.now - began).seconds
        let all = collected.sorted { $0.number < $1.number }
        var toDecision = LatencyRecorder()
        var toStop = LatencyRecorder()
        for p in all {
            toDecision.record(p.toDecision)
            toStop.record(p.toStop)
        }
        return Report(passages: all, seconds: seconds, toDecision: toDecision, toStop: toStop)
    }

    /// One vehicle through one lane: arrive, wait for its answer on the boards, leave.
    static func pass(
        number: Int, vrn: VRN, kind: Kind, lane: SimLane, boards: inout AsyncStream<BoardState>.Iterator
    ) async throws -> Passage {
        if kind == .unladen {
            lane.click(.unladen)
            // The press is an edge the lane takes a moment later; the arrival must find it.
            while await !lane.status().board.unladenAcknowledged {
                try await Task.sleep(for: .milliseconds(1))
            }
        }
        let started = ContinuousClock.now
        try await lane.arrive(vrn)
        let toStop = ContinuousClock.now - started
        var shown: BoardState?
        while let board = await boards.next() {
            guard board.vrn == vrn else { continue }
            if case .decided = board.phase { shown = board; break }
            if case .systemUnavailable = board.phase { shown = board; break }
        }
        let toDecision = ContinuousClock.now - started
        try await lane.leave()
        var reason = "none"
        if case .decided(_, let r, _)? = shown?.phase { reason = r.rawValue }
        if case .systemUnavailable? = shown?.phase { reason = Reason.systemUnavailable.rawValue }
        return Passage(
            number: number, lane: lane.lane.id, vrn: vrn, kind: kind,
            instruction: shown?.xdbInstruction.rawValue ?? "none", reason: reason, toStop: toStop,
            toDecision: toDecision, queued: .zero)
    }

    static func draw(_ count: Int, mix: [Kind: Double], using random: inout SeededGenerator) -> [Kind] {
        let total = mix.values.reduce(0, +)
        return (0..<count).map { _ in
            var pick = Double.random(in: 0..<max(total, 1e-9), using: &random)
            for kind in Kind.allCases {
                pick -= mix[kind] ?? 0
                if pick < 0 { return kind }
            }
            return .unbundled
        }
    }
}

extension Duration {
    var ms: Double { seconds * 1000 }
}
