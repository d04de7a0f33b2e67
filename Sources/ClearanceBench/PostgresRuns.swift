import CargoStore
import Central
import ClearanceCore
import Foundation
import Logging
import PostgresNIO
import PostgresSupport
import RoadCargo

/// The bench's runs on PostgreSQL (issue 16, part 6): the populated SQLite
/// store copied into a new database with ``StoreCopy``, then the same raw
/// point lookup, the same store-level decisions, and linked lanes on one
/// node and on two nodes (each its own `PostgresCargoStore` and pool, on
/// the one database, the lanes spread over both).
struct PostgresRuns {
    var bench: ClearanceBench
    var location: PostgresLocation
    var password: PostgresPasswordSource
    var data: Dataset
    var policy: DecisionPolicy
    var keys: [Dataset.Key]
    /// Vehicles for the one-node run and for the two-node run: disjoint,
    /// so the first run's claims leave the second its bundles.
    var vehicles: ([Int], [Int])

    /// Runs everything in a database of its own, dropped at the end.
    /// - Returns: the figures, and the server's version.
    func run(source: SQLiteCargoStore) async throws -> (figures: [Figure], server: String) {
        var logger = Logger(label: "clearance-bench.postgres")
        logger.logLevel = .error
        let admin = try await PostgresPool.open(
            location, password: password, maximumConnections: 2, logger: logger)
        let name = "clearance_bench_\(getpid())"
        let server = try await admin.client.withConnection { connection in
            var version = "?"
            for try await value in try await connection.query("SHOW server_version", logger: logger).decode(
                String.self)
            {
                version = value
            }
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
            return version
        }
        let target = location.database(name)
        let stateDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("clearance-bench-state-\(getpid())").path
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        var stores: [PostgresCargoStore] = []
        do {
            stores.append(try await PostgresCargoStore.open(target, password: password, logger: logger))
            let figures = try await measure(source: source, target: target, &stores, stateDirectory, logger)
            for store in stores { await store.close() }
            try await drop(name, admin, logger)
            await admin.close()
            try? FileManager.default.removeItem(atPath: stateDirectory)
            return (figures, server)
        } catch {
            for store in stores { await store.close() }
            try? await drop(name, admin, logger)
            await admin.close()
            try? FileManager.default.removeItem(atPath: stateDirectory)
            throw error
        }
    }

    private func drop(_ name: String, _ admin: PostgresPool, _ logger: Logger) async throws {
        try await admin.client.query(
            PostgresQuery(unsafeSQL: "DROP DATABASE \(name) WITH (FORCE)"), logger: logger)
    }

    private func measure(
        source: SQLiteCargoStore, target: PostgresLocation, _ stores: inout [PostgresCargoStore],
        _ stateDirectory: String, _ logger: Logger
    ) async throws -> [Figure] {
        let store = stores[0]
        let start = ContinuousClock.now
        let counts = try await StoreCopy.copy(from: source, to: store)
        let copied = counts.first { $0.table == "bundles" }?.rows ?? 0
        for lane in bench.linkedLanes() { try await store.putLane(lane) }
        // Fresh statistics, as autovacuum would give a long-running database.
        try await store.database.client.query("ANALYZE", logger: logger)
        print("")
        print(
            "  postgres  \(target), \(copied) bundles copied with StoreCopy in \(format(ContinuousClock.now - start))"
        )

        func probe(_ key: Dataset.Key) -> PostgresQuery {
            // The store's own probe (PGRows.activeBundleRow), the partial index's literals.
            """
            SELECT * FROM bundles WHERE vrn = \(key.vrn.value) AND direction = \(key.direction.rawValue)
                AND status IN ('active', 'claimed')
            """
        }
        let keys = self.keys
        let plan = try await store.database.client.withConnection { connection in
            var lines: [String] = []
            var explain = probe(keys[0])
            explain.sql = "EXPLAIN " + explain.sql
            for try await line in try await connection.query(explain, logger: logger).decode(String.self) {
                lines.append(line.trimmingCharacters(in: .whitespaces))
            }
            return lines.joined(separator: "; ")
        }
        print("  plan      \(plan)")

        // (a) The same point lookup on one pooled connection: one round trip each.
        let raw = try await store.database.client.withConnection { connection in
            for key in keys.prefix(2_000) {
                for try await _ in try await connection.query(probe(key), logger: logger) {}
            }
            var samples = [Duration]()
            samples.reserveCapacity(keys.count)
            var found = 0
            let start = ContinuousClock.now
            for key in keys {
                let t = ContinuousClock.now
                var hit = false
                for try await _ in try await connection.query(probe(key), logger: logger) { hit = true }
                samples.append(ContinuousClock.now - t)
                if hit { found += 1 }
            }
            return Measurement(samples: samples, total: ContinuousClock.now - start, found: found)
        }
        print("  (a) raw indexed lookups  \(raw.summary)   [\(keys.count) lookups, one connection]")
        if raw.found != keys.count {
            print("  warning: only \(raw.found) of \(keys.count) lookups found an active bundle")
        }

        // (b) The store's decisionCase(for:), one read snapshot each.
        let decisionKeys = keys.prefix(bench.postgresDecisions)
        let (full, outcomes) = try await ClearanceBench.storeDecisions(
            store, keys: decisionKeys, warmUp: 500, policy: policy, request: request)
        print("  (b) full decisions       \(full.summary)   [\(decisionKeys.count) decisions]")
        print("  decisions  " + bench.describe(outcomes))
        var figures = [
            Figure(store: "PostgreSQL", run: "(a) raw point lookups", measurement: raw, baseline: raw),
            Figure(store: "PostgreSQL", run: "(b) store decisions", measurement: full, baseline: raw),
        ]
        guard bench.lanes > 0 else { return figures }

        // (c) One node.
        let data = self.data
        let policy = self.policy
        let (one, oneOutcomes) = try await bench.linkedDecisions(data: data, vehicles: vehicles.0, nodes: 1) {
            n, keys, listener, logger in
            try await CentralAssembly(
                ClearanceBench.nodeOptions(
                    store: store, statePath: "\(stateDirectory)/one-node-\(n).sqlite", data: data,
                    policy: policy,
                    keys: keys, listener: listener, logger: logger))
        }
        print("  (c) linked lanes         \(one.summary)   [\(bench.lanes) lanes, one node]")
        print("  decisions  " + bench.describe(oneOutcomes))
        figures.append(
            Figure(
                store: "PostgreSQL", run: "(c) \(bench.lanes) linked lanes, 1 node", measurement: one,
                baseline: raw))

        // (d) Two nodes, each with its own store and pool, as two clearanced processes.
        let second = try await PostgresCargoStore.open(target, password: password, logger: logger)
        stores.append(second)
        let pair = [store, second]
        let (two, twoOutcomes) = try await bench.linkedDecisions(
            data: data, vehicles: vehicles.1, nodes: 2, run: 1
        ) {
            n, keys, listener, logger in
            try await CentralAssembly(
                ClearanceBench.nodeOptions(
                    store: pair[n], statePath: "\(stateDirectory)/two-nodes-\(n).sqlite", data: data,
                    policy: policy, keys: keys, listener: listener, logger: logger))
        }
        print("  (d) linked lanes         \(two.summary)   [\(bench.lanes) lanes over two nodes]")
        print("  decisions  " + bench.describe(twoOutcomes))
        figures.append(
            Figure(
                store: "PostgreSQL", run: "(d) \(bench.lanes) linked lanes, 2 nodes", measurement: two,
                baseline: raw))
        return figures
    }

    private func request(_ key: Dataset.Key) -> DecisionRequest {
        DecisionRequest(
            lane: key.direction == .inbound ? data.inbound : data.outbound, vrn: key.vrn, arrivedAt: data.now,
            unladenPressed: false)
    }
}

/// One line of the closing table: a run's figures beside its database's raw lookups.
struct Figure: Sendable {
    var store: String
    var run: String
    var measurement: Measurement
    var baseline: Measurement
}

/// The closing table, one line per store and run.
func printTable(_ figures: [Figure]) {
    func pad(_ s: String, _ n: Int) -> String {
        s.padding(toLength: max(n, s.count), withPad: " ", startingAt: 0)
    }
    func left(_ s: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - s.count)) + s }
    print(
        "  " + pad("store", 11) + pad("run", 30) + left("per second", 11) + left("p50", 12) + left("p99", 12)
            + left("raw ÷ run", 11))
    for f in figures {
        let m = f.measurement
        print(
            "  " + pad(f.store, 11) + pad(f.run, 30) + left(String(format: "%.0f", m.perSecond), 11)
                + left(latency(m.percentile(0.50)), 12) + left(latency(m.percentile(0.99)), 12)
                + left(String(format: "%.1f", f.baseline.perSecond / m.perSecond), 11))
    }
}

/// µs below 10 ms, ms above: the table's columns stay aligned.
func latency(_ d: Duration) -> String {
    let s = seconds(d)
    return s < 0.01 ? String(format: "%.1f µs", s * 1e6) : String(format: "%.1f ms", s * 1e3)
}

/// What the figures were measured on.
enum Machine {
    static func describe(server: String?) async -> String {
        var name = utsname()
        uname(&name)
        let kernel = withUnsafeBytes(of: &name.release) {
            String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
        }
        let model =
            (try? await offPool {
                try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8).split(separator: "\n")
                    .first { $0.hasPrefix("model name") }.map {
                        String($0.split(separator: ":")[1]).trimmingCharacters(in: .whitespaces)
                    }
            }) ?? nil
        #if DEBUG
            let build = "debug build"
        #else
            let build = "release build"
        #endif
        let memory = Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824
        return "\(ProcessInfo.processInfo.activeProcessorCount) cores (\(model ?? "?")), "
            + String(format: "%.0f GiB", memory) + ", Linux \(kernel), "
            + (server.map { "PostgreSQL \($0), " } ?? "") + build
    }
}
