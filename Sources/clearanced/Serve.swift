import ArgumentParser
import Central
import ClearanceCore
import Foundation
import Logging
import RoadCargo
import UnixSignals

/// `clearanced serve`: the HTTP API under service lifecycle (SIGTERM and
/// SIGINT finish in-flight requests, then exit 0).
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the HTTP API.",
        discussion: """
            With --port 0 a free port is chosen; the bound address is printed on \
            stdout as "listening on HOST:PORT" once the server accepts connections.
            """)

    @OptionGroup var store: StoreOptions

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free one.")
    var port = 8080

    @Flag(
        name: .customLong("simulated-clock"),
        help: "Start a clock that officers set and advance through /v1/clock (simulations and tests).")
    var simulatedClock = false

    @Option(help: "With --simulated-clock: its start, ISO 8601 with offset, e.g. 2026-11-26T09:00:00+08:00.")
    var start: String?

    @Option(help: "transitional (paper manifests still accepted) or full (submission mandatory).")
    var phase: ImplementationPhase = .full

    @Option(
        name: .customLong("selection-key-file"),
        help:
            "File holding at least 16 secret bytes that key random selection; without it a per-run key is used."
    )
    var selectionKeyFile: String?

    @Option(
        name: .customLong("laden-rate"),
        help: "Random inspection rate for laden vehicles on a bundle, 0 to 1.")
    var ladenRate = 0.05

    @Option(
        name: .customLong("unladen-rate"),
        help: "Random inspection rate for unladen and paper-manifest vehicles, 0 to 1.")
    var unladenRate = 0.05

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    @OptionGroup(title: "Lane link") var link: LinkOptions

    @OptionGroup(title: "Help calls and the officers' console") var console: ConsoleOptions

    @OptionGroup(title: "Limits at the HTTP door") var http: HTTPOptions

    @OptionGroup(title: "Several nodes on one database") var cluster: ClusterOptions

    func validate() throws {
        guard (0...65_535).contains(port) else {
            throw ValidationError("--port \(port): use 0 to 65535 (0 picks a free port)")
        }
        if start != nil, !simulatedClock {
            throw ValidationError("--start sets the simulated clock; add --simulated-clock or drop --start")
        }
        if let start {
            do { _ = try HongKongTime.parse(start) } catch {
                throw ValidationError("--start \(start): \(error.issues[0].detail)")
            }
        }
        if store.isPostgres, link.enabled, link.linkState == nil {
            throw ValidationError(
                "--store postgres://... with the lane link needs --link-state FILE: a SQLite file of this node's own for the link's state"
            )
        }
        if cluster.url != nil, !link.enabled {
            throw ValidationError("--cluster needs the lane link: a node without lanes has nothing to share")
        }
        if cluster.nodeID != nil, cluster.url == nil, !(store.isPostgres && link.enabled) {
            throw ValidationError(
                "--node-id names a node of a cluster: give --store postgres://... (with the lane link) or --cluster URL"
            )
        }
        for (name, rate) in [("--laden-rate", ladenRate), ("--unladen-rate", unladenRate)]
        where !(0...1).contains(rate) {
            throw ValidationError(
                "\(name) \(rate): a rate is a fraction from 0 (never) to 1 (always), e.g. 0.05")
        }
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = logLevel
            return handler
        }
        let logger = Logger(label: "clearanced")

        let key = try selectionKey(logger: logger)
        let selection: SelectionSettings
        do {
            selection = try SelectionSettings(key: key, ladenRate: ladenRate, unladenRate: unladenRate)
                .validated()
        } catch {
            printError("clearanced: \(error)")
            throw exitConfig
        }
        let clock: any WallClock =
            simulatedClock
            ? SimulatedWallClock(try start.map(HongKongTime.parse) ?? Date()) : SystemWallClock()
        let repository = try await store.open(logger: logger)
        var options = CentralOptions(
            store: repository, clock: clock, policy: DecisionPolicy(phase: phase, selection: selection),
            logger: logger)
        options.escalateAfter = ConsoleOptions.duration(console.escalateAfter)!
        options.console = CentralOptions.Console(
            files: try console.files(), settings: console.settings,
            gate: http.loginGate(selectionKey: key))
        if link.enabled { options.link = try link.centralOptions(logger: logger) }
        if link.enabled {
            options.cluster = try await cluster.open(store: store, clock: clock, logger: logger)
        }
        var listener = CentralOptions.HTTP(host: host, port: port)
        listener.limits = http.limits
        listener.onListening = { address in printNow("listening on \(address)") }
        options.http = listener
        options.daemon = true
        let central = try await CentralAssembly(options)
        http.raiseOpenFileLimit(logger: logger)
        logger.info(
            "starting",
            metadata: [
                "store": "\(store.described)", "phase": "\(phase.rawValue)",
                "clock":
                    "\(simulatedClock ? "simulated from \(HongKongTime.iso8601(clock.now()))" : "system")",
            ])
        try await central.run(gracefulShutdownSignals: [.sigterm, .sigint])
        logger.info("stopped")
    }

    /// The configured key, or a random one for this run only (then random
    /// selection cannot be replayed after a restart; fine for demos, not for
    /// audits, hence the warning).
    private func selectionKey(logger: Logger) throws -> Data {
        guard let selectionKeyFile else {
            logger.warning(
                "no --selection-key-file: random selection uses a key that lasts for this run only")
            var bytes = [UInt8](repeating: 0, count: 32)
            var rng = SystemRandomNumberGenerator()
            for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
            return Data(bytes)
        }
        guard let data = FileManager.default.contents(atPath: selectionKeyFile) else {
            printError("clearanced: cannot read the selection key file \(selectionKeyFile)")
            throw exitConfig
        }
        guard data.count >= 16 else {
            printError(
                "clearanced: \(selectionKeyFile) holds \(data.count) bytes; a selection key needs at least 16 (head -c 32 /dev/urandom > \(selectionKeyFile))"
            )
            throw exitConfig
        }
        return data
    }
}

extension ImplementationPhase: ExpressibleByArgument {}
extension Logger.Level: @retroactive ExpressibleByArgument {}
