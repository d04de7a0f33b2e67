import ArgumentParser
import CargoStore
import Central
import ClearanceCore
import Foundation
import GRDB
import LaneLink
import LinkCore
import Logging
import PostgresSupport
import RoadCargo

/// Decisions per second through CargoStore and ClearanceCore beside raw
/// indexed SQLite lookups on the same data, in the same run (issue 2, item 9).
///
/// The data: `--bundles` bundles over a tenth as many vehicles, each vehicle
/// with a history of used bundles in both directions and one active bundle
/// per direction, one consignment per bundle. Every lookup and decision asks
/// about a random vehicle that has an active bundle, so every decision takes
/// the longest path (bundle, consignments, watch list, selection hash).
@main
struct ClearanceBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clearance-bench",
        abstract: "Decisions per second through the store beside raw indexed SQLite lookups.")

    @Option(help: "Bundles to store (and as many consignments).")
    var bundles = 1_000_000

    @Option(help: "Timed lookups, and as many timed decisions.")
    var lookups = 200_000

    @Option(help: "Store file; reused when it already holds --bundles bundles. Default: a temporary file.")
    var db: String?

    @Option(help: "Lanes linked to central over TCP loopback for the end-to-end decisions (0: skip them).")
    var lanes = 200

    @Option(name: .customLong("per-lane"), help: "Decisions each linked lane asks for, one truck at a time.")
    var perLane = 25

    @Option(
        help: """
            After the SQLite runs, copy the store into a new database on this PostgreSQL server \
            (postgres://USER@HOST:PORT/DATABASE; the role needs CREATEDB) and run them there too, \
            with one and with two nodes.
            """)
    var postgres: String?

    @Option(
        name: .customLong("password-file"), help: "With --postgres: a file whose first line is the password.")
    var passwordFile: String?

    @Option(
        name: .customLong("cache-wait"),
        help: "Seconds to wait for every linked lane to receive its cache before the run is abandoned.")
    var cacheWait = 1800

    @Option(
        help: """
            The data's time (ISO 8601): active bundles were completed an hour or two before it. \
            Default: a fixed time, so a reused file decides the same on every run.
            """)
    var now: String?

    @Option(
        name: .customLong("early-every"),
        help: """
            Every Kth vehicle's active import bundle is completed an hour after --now, so a truck \
            arriving at --now is early (EARLY_CROSSING): scripts/bench-laned.py's mixed workload.
            """)
    var earlyEvery: Int?

    @Flag(
        name: .customLong("populate-only"),
        help: "Populate --db and stop: the data for a benchmark that runs clearanced itself.")
    var populateOnly = false

    @Option(
        name: .customLong("postgres-decisions"),
        help: "With --postgres: timed store-level decisions there (each is several round trips).")
    var postgresDecisions = 20_000

    func validate() throws {
        guard bundles >= 10 else { throw ValidationError("--bundles must be at least 10") }
        guard bundles <= 40_000_000 else {
            throw ValidationError("--bundles is at most 40000000 (there are not more distinct plates here)")
        }
        guard lookups >= 1 else { throw ValidationError("--lookups must be at least 1") }
        guard (0...1000).contains(lanes) else { throw ValidationError("--lanes is 0 to 1000") }
        guard cacheWait >= 1 else { throw ValidationError("--cache-wait must be at least 1 second") }
        guard perLane >= 1 else { throw ValidationError("--per-lane must be at least 1") }
        // Each linked run (SQLite; PostgreSQL with one node, with two)
        // claims bundles of vehicles of its own.
        let runs = postgres == nil ? 1 : 3
        guard populateOnly || lanes * perLane * runs <= bundles / 10 else {
            throw ValidationError(
                "--lanes × --per-lane × \(runs) linked runs (\(lanes * perLane * runs)) is more than the \(bundles / 10) vehicles; each decision needs its own"
            )
        }
        if passwordFile != nil && postgres == nil {
            throw ValidationError("--password-file goes with --postgres")
        }
        if let postgres {
            do { _ = try PostgresLocation(url: postgres) } catch {
                throw ValidationError("--postgres: \(error)")
            }
        }
        guard postgresDecisions >= 1 else { throw ValidationError("--postgres-decisions must be at least 1") }
        if let now, (try? HongKongTime.parse(now)) == nil {
            throw ValidationError("--now \(now): give an ISO 8601 time, e.g. 2026-12-07T10:00:00+08:00")
        }
        if let earlyEvery, earlyEvery < 2 {
            throw ValidationError(
                "--early-every \(earlyEvery): give 2 or more (every vehicle early leaves none on time)")
        }
        if populateOnly && db == nil {
            throw ValidationError("--populate-only needs --db: the populated file is what it makes")
        }
    }

    func run() async throws {
        let path =
            db
            ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("clearance-bench-\(getpid()).sqlite").path
        defer {
            if db == nil {
                for suffix in ["", "-wal", "-shm"] {
                    try? FileManager.default.removeItem(atPath: path + suffix)
                }
            }
        }
        let data = Dataset(
            bundles: bundles, now: try now.map(HongKongTime.parse) ?? Dataset.fixedNow, earlyEvery: earlyEvery
        )
        let store = try await SQLiteCargoStore.open(path: path)
        let stored = try await store.writer.read {
            try Int.fetchOne($0, sql: "SELECT count(*) FROM bundles")!
        }
        let populate: String
        if stored == bundles {
            populate = "reused"
        } else if stored == 0 {
            let start = ContinuousClock.now
            try await data.populate(store)
            populate = "populated in \(format(ContinuousClock.now - start))"
        } else {
            throw ValidationError(
                "\(path) holds \(stored) bundles, not \(bundles); pass --bundles \(stored) or remove it")
        }
        let size = ["", "-wal"].reduce(0) { sum, suffix in
            sum + ((try? FileManager.default.attributesOfItem(atPath: path + suffix)[.size] as? Int) ?? 0)
        }

        if populateOnly {
            print("clearance-bench: \(path) holds \(bundles) bundles (\(populate))")
            return
        }
        print("clearance-bench")
        print(
            "  data      \(bundles) bundles (\(data.vehicles * 2) active) over \(data.vehicles) vehicles, \(bundles) consignments"
        )
        print("  file      \(path), \(String(format: "%.1f", Double(size) / 1_048_576)) MiB, \(populate)")

        let keys = data.randomKeys(lookups)
        // The store's own probe (Schema.activeBundleSQL): since schema v4 a
        // claimed bundle is still the plate's open one, and only this form
        // of the condition lets SQLite use the partial unique index.
        let sql = "SELECT * FROM bundles WHERE vrn = ? AND direction = ? AND status IN ('active', 'claimed')"
        let plan = try await store.writer.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: ["X", "import"])
                .map { $0["detail"] as String }.joined(separator: "; ")
        }
        print("  plan      \(plan)")

        // (a) The baseline: the same point lookup, straight through a cached
        // statement on one connection, no rules, no hops between threads.
        let raw = try await store.writer.read { db in
            let stmt = try db.cachedStatement(sql: sql)
            for key in keys.prefix(10_000) {
                _ = try Row.fetchOne(stmt, arguments: [key.vrn.value, key.direction.rawValue])
            }
            var samples = [Duration]()
            samples.reserveCapacity(keys.count)
            var found = 0
            let start = ContinuousClock.now
            for key in keys {
                let t = ContinuousClock.now
                if try Row.fetchOne(stmt, arguments: [key.vrn.value, key.direction.rawValue]) != nil {
                    found += 1
                }
                samples.append(ContinuousClock.now - t)
            }
            return Measurement(samples: samples, total: ContinuousClock.now - start, found: found)
        }

        // (b) What a lane's question costs: load the case through the store's
        // public API (one read transaction on a pooled reader), then decide.
        let policy = DecisionPolicy(
            phase: .full,
            selection: SelectionSettings(
                key: Data("clearance-bench-selection-key".utf8), ladenRate: 0.05, unladenRate: 0.02))
        let arrivedAt = data.now
        func request(_ key: Dataset.Key) -> DecisionRequest {
            DecisionRequest(
                lane: key.direction == .inbound ? data.inbound : data.outbound, vrn: key.vrn,
                arrivedAt: arrivedAt, unladenPressed: false)
        }
        let (full, outcomes) = try await Self.storeDecisions(
            store, keys: keys[...], warmUp: 2_000, policy: policy, request: request)

        print("  (a) raw indexed lookups  \(raw.summary)   [\(sql)]")
        print("  (b) full decisions       \(full.summary)   [decisionCase(for:) + DecisionCore.decide]")
        print("  ratio (a)/(b)            \(String(format: "%.1f", raw.perSecond / full.perSecond))x")
        print("  decisions  " + describe(outcomes))
        if raw.found != keys.count {
            print("  warning: only \(raw.found) of \(keys.count) lookups found an active bundle")
        }
        var results: [Figure] = [
            Figure(store: "SQLite", run: "(a) raw point lookups", measurement: raw, baseline: raw),
            Figure(store: "SQLite", run: "(b) store decisions", measurement: full, baseline: raw),
        ]

        // Each linked run asks about vehicles of its own, so that a run on
        // PostgreSQL finds the bundles of its vehicles unclaimed.
        var vehicles = Array(0..<data.vehicles)
        vehicles.shuffle()
        let slices = (0..<3).map { n in
            Array(vehicles[(n * lanes * perLane)..<min(vehicles.count, (n + 1) * lanes * perLane)])
        }

        if lanes > 0 {
            // (c) On a copy: the decisions claim their bundles, and a reused
            // --db file must stay as populated.
            let copy = path + ".linked-\(getpid())"
            try await offPool { try FileManager.default.copyItem(atPath: path, toPath: copy) }
            defer {
                for suffix in ["", "-wal", "-shm"] {
                    try? FileManager.default.removeItem(atPath: copy + suffix)
                }
            }
            let linkedStore = try await SQLiteCargoStore.open(path: copy)
            for lane in linkedLanes() { try await linkedStore.putLane(lane) }
            let (linked, linkedOutcomes) = try await linkedDecisions(
                data: data, vehicles: slices[0], nodes: 1
            ) { _, keys, listener, logger in
                try await CentralAssembly(
                    Self.nodeOptions(
                        store: linkedStore, statePath: nil, data: data, policy: policy, keys: keys,
                        listener: listener, logger: logger))
            }
            print(
                "  (c) linked lanes         \(linked.summary)   [\(lanes) LaneLinkClients over TCP → clearanced's LaneHub → store; one node]"
            )
            print("  ratio (a)/(c)            \(String(format: "%.1f", raw.perSecond / linked.perSecond))x")
            print("  decisions  " + describe(linkedOutcomes))
            results.append(
                Figure(
                    store: "SQLite", run: "(c) \(lanes) linked lanes, 1 node", measurement: linked,
                    baseline: raw))
        }

        var server: String?
        if let postgres {
            let figures: [Figure]
            (figures, server) = try await PostgresRuns(
                bench: self, location: try PostgresLocation(url: postgres),
                password: passwordFile.map { .file($0) } ?? .none, data: data, policy: policy,
                keys: keys, vehicles: (slices[1], slices[2])
            ).run(source: store)
            results += figures
        }

        print("")
        print("  machine   \(await Machine.describe(server: server))")
        print("")
        printTable(results)
    }

    func describe(_ outcomes: [String: Int]) -> String {
        outcomes.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }

    /// (b) What a lane's question costs in the store: load the case through
    /// the public API (one read transaction each), then decide; `warmUp`
    /// untimed first. Returns the timings and the outcomes by instruction
    /// and reason.
    static func storeDecisions(
        _ store: any CargoRepository, keys: ArraySlice<Dataset.Key>, warmUp: Int, policy: DecisionPolicy,
        request: (Dataset.Key) -> DecisionRequest
    ) async throws -> (Measurement, [String: Int]) {
        for key in keys.prefix(warmUp) {
            _ = DecisionCore.decide(try await store.decisionCase(for: request(key)), policy: policy)
        }
        var samples = [Duration]()
        samples.reserveCapacity(keys.count)
        var outcomes: [String: Int] = [:]
        let start = ContinuousClock.now
        for key in keys {
            let t = ContinuousClock.now
            let decision = DecisionCore.decide(
                try await store.decisionCase(for: request(key)), policy: policy)
            samples.append(ContinuousClock.now - t)
            outcomes["\(decision.instruction.rawValue) \(decision.reason.rawValue)", default: 0] += 1
        }
        let measurement = Measurement(
            samples: samples, total: ContinuousClock.now - start,
            found: outcomes["CLEARED BUNDLE_OK", default: 0])
        return (measurement, outcomes)
    }

    /// The linked lanes: half inbound, half outbound at Lok Ma Chau, each
    /// asking about vehicles of its own from `vehicles` (every vehicle has
    /// an active bundle in both directions), so no two decisions race for
    /// one bundle; lanes are spread round-robin over `nodes` nodes.
    func linkedDecisions(
        data: Dataset, vehicles: [Int], nodes: Int, run: Int = 0, makeNode: @escaping LinkedLanes.MakeNode
    )
        async throws -> (Measurement, [String: Int])
    {
        let laneList = linkedLanes()
        var requests: [LaneID: [VRN]] = [:]
        for (n, lane) in laneList.enumerated() {
            requests[lane.id] = vehicles[(n * perLane)..<((n + 1) * perLane)].map(data.vrn)
        }
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("clearance-bench-lanes-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
            .path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return try await LinkedLanes(
            lanes: laneList, nodes: nodes, directory: directory, run: run, cacheWait: .seconds(cacheWait)
        ).run(
            requests: requests, arrivedAt: data.now, makeNode: makeNode)
    }

    func linkedLanes() -> [Lane] {
        (0..<lanes).map { n in
            let direction: Direction = n % 2 == 0 ? .inbound : .outbound
            let tag = direction == .inbound ? "IN" : "OUT"
            return Lane(
                id: try! LaneID("LMC-\(tag)-\(String(n / 2 + 1))"), controlPoint: .lokMaChau,
                direction: direction)
        }
    }

    /// Central as `clearanced serve` assembles it, without HTTP, on the
    /// bench's fixed business clock.
    static func nodeOptions(
        store: any CargoRepository, statePath: String?, data: Dataset, policy: DecisionPolicy,
        keys: LinkKeyring,
        listener: TCPLinkListener, logger: Logger
    ) async throws -> CentralOptions {
        var options = CentralOptions(
            store: store, clock: SimulatedWallClock(data.now), policy: policy, logger: logger)
        options.runsEscalations = false
        var link = CentralOptions.Link(keys: keys, tcp: .bound(listener))
        link.configuration.session.handshakeTimeout = .seconds(120)
        link.cacheFeed = nil
        link.statePath = statePath
        options.link = link
        return options
    }
}

/// Timings of one run of lookups or decisions.
struct Measurement: Sendable {
    var samples: [Duration]
    var total: Duration
    var found: Int

    var perSecond: Double { Double(samples.count) / seconds(total) }

    func percentile(_ p: Double) -> Duration {
        let sorted = samples.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    var summary: String {
        let rate = String(format: "%9.0f/s", perSecond)
        return "\(rate)  p50 \(micro(percentile(0.50)))  p99 \(micro(percentile(0.99)))"
    }
}

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

func micro(_ d: Duration) -> String { String(format: "%6.1f µs", seconds(d) * 1e6) }

func format(_ d: Duration) -> String { String(format: "%.1f s", seconds(d)) }
