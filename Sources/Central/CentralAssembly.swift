import CargoStore
import CentralCluster
import ClearanceCore
import Foundation
import Hummingbird
import LaneLink
import LinkCore
import Logging
import RoadCargo
import ServiceLifecycle
import ServiceSupport
import UnixSignals

/// What central is built from. clearanced fills it from its command line;
/// the simulator and the test rigs from their settings (ports 0, a
/// simulated clock, no HTTP listener of their own).
public struct CentralOptions: Sendable {
    /// The lane link: keys, where it listens, and how lanes' caches follow central.
    public struct Link: Sendable {
        public var keys: LinkKeyring
        /// Where the keys came from; SIGHUP reloads it (with ``CentralOptions/daemon``).
        public var keysDirectory: String?
        public var configuration = LaneLinkServer.Configuration()
        /// The clock the link signs and checks frames with: the real one even
        /// when the business clock is simulated, since lanes sign with theirs
        /// and a simulated date would put every frame outside the window.
        public var wallClock: any WallClock = SystemWallClock()
        public var tcp: LaneLinkService.TCP?
        /// Serial ports on which central serves one lane each.
        public var serial: [String] = []
        public var serialRetry: Duration = .seconds(1)
        /// The cache chunk limit; smaller only in tests that want many chunks.
        public var maxPayload = FrameFormat.maxPayload
        /// How often the cache feed polls the store for deltas to queue; nil
        /// runs no feed (tests that poll it themselves).
        public var cacheFeed: Duration? = .milliseconds(250)
        /// Called with "HOST:PORT" once the TCP listener is bound.
        public var onListening: @Sendable (_ address: String) -> Void = { _ in }
        /// A node-local SQLite file for the link's applied log, hello
        /// counters and reply outboxes. nil keeps them in the store's own
        /// SQLite file; a store that is not SQLite (PostgreSQL) needs one.
        public var statePath: String?

        public init(keys: LinkKeyring, tcp: LaneLinkService.TCP?) {
            self.keys = keys
            self.tcp = tcp
        }
    }

    /// The officers' console: its page and its sessions.
    public struct Console: Sendable {
        public var files: ConsoleFiles
        public var settings: ConsoleSessions.Settings
        /// Sessions run on the system clock even when the business clock is
        /// simulated: advancing a simulation must not log officers out.
        public var sessionClock: any WallClock = SystemWallClock()
        public var gate: LoginGate
        /// How often a live console re-checks what it shows.
        public var refresh: Duration = .seconds(2)

        public init(files: ConsoleFiles, settings: ConsoleSessions.Settings, gate: LoginGate = LoginGate()) {
            self.files = files
            self.settings = settings
            self.gate = gate
        }
    }

    /// The HTTP API's listener.
    public struct HTTP: Sendable {
        public var host: String
        /// 0 picks a free port.
        public var port: Int
        public var limits = HTTPLimits()
        public var serverName = "clearanced"
        /// Called with "HOST:PORT" (an IPv6 host in brackets) once the API accepts connections.
        public var onListening: @Sendable (_ address: String) -> Void = { _ in }

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    /// The store: ``SQLiteCargoStore`` or ``PostgresCargoStore``.
    public var store: any CargoRepository
    /// The business clock: decisions, bundles, help calls.
    public var clock: any WallClock
    public var policy: DecisionPolicy
    public var logger: Logger
    /// How long a help call may ring unanswered before it escalates.
    public var escalateAfter: Duration = .seconds(30)
    /// Whether a service escalates due calls every second; the simulator
    /// escalates as its clock advances instead.
    public var runsEscalations = true
    /// nil runs central without the lane link (the routes that send to lanes answer 409).
    public var link: Link?
    /// nil serves the API without the officers' console.
    public var console: Console?
    /// nil builds the API without serving it (tests serve ``CentralAssembly/app`` themselves).
    public var http: HTTP?
    /// Central is the process's daemon: it tells systemd when it is ready,
    /// runs systemd's watchdog, and reloads lane keys on SIGHUP.
    public var daemon = false
    /// This process is one node of a cluster on a PostgreSQL database
    /// (ClusterLink.swift); needs ``link``.
    public var cluster: ClusterNode?

    public init(store: any CargoRepository, clock: any WallClock, policy: DecisionPolicy, logger: Logger) {
        self.store = store
        self.clock = clock
        self.policy = policy
        self.logger = logger
    }
}

/// Central, built in one place: help desk, then the lane link (``LaneHub``
/// answering through ``LaneLinkServer``, ``LaneDispatcher`` pushing caches
/// and answering resyncs, the desk attached to the server), then the
/// console and the HTTP app, and the services that run them. clearanced,
/// the simulator and the tests' rigs all assemble central here, so what
/// they test is what runs.
public final class CentralAssembly: Sendable {
    /// The lane link's parts, when it runs.
    public struct LinkParts: Sendable {
        public let hub: LaneHub
        public let server: LaneLinkServer
        public let dispatcher: LaneDispatcher
        public let service: LaneLinkService
    }

    public let options: CentralOptions
    public let bus: ConsoleBus
    public let helpDesk: HelpDesk
    public let link: LinkParts?
    /// The HTTP API (routes over the parts above).
    public let app: CentralApp
    /// What runs central, in start order (a group stops them in reverse).
    public let services: [any Service]

    /// Builds every part; nothing listens or runs until ``run(gracefulShutdownSignals:)``
    /// (or the caller's own group over ``services``).
    public init(_ options: CentralOptions) async throws {
        self.options = options
        let store = options.store
        let logger = options.logger
        let bus = ConsoleBus()
        let desk = HelpDesk(
            repository: store, clock: options.clock, bus: bus, escalateAfter: options.escalateAfter,
            logger: logger)
        self.bus = bus
        helpDesk = desk

        // The link's server comes first: the HTTP routes that send to lanes
        // queue through it.
        var link: LinkParts?
        if let options = options.link {
            let hub = LaneHub(
                repository: store, clock: self.options.clock, policy: self.options.policy, logger: logger,
                helpDesk: desk, bus: bus)
            let handler: LaneLinkServer.Handler = { lane, message in
                try await hub.handle(lane: lane, message: message)
            }
            let server: LaneLinkServer
            if let path = options.statePath {
                // A file of this node's own (several nodes share a
                // PostgreSQL store): a message a lane resends to another
                // node is deduplicated by the store's own keys instead.
                server = try await Blocking.run {
                    try LaneLinkServer(
                        keys: options.keys, path: path, configuration: options.configuration,
                        wallClock: options.wallClock, logger: logger, handler: handler)
                }
            } else if let sqlite = store as? SQLiteCargoStore {
                // The applied log and the reply outboxes sit in the store's
                // SQLite file, beside the crossings they answer for.
                server = try LaneLinkServer(
                    keys: options.keys, database: sqlite.writer, configuration: options.configuration,
                    wallClock: options.wallClock, logger: logger, handler: handler)
            } else {
                throw CentralConfigurationError(
                    "the lane link needs a SQLite file for its state (--link-state) when the store is not SQLite"
                )
            }
            let dispatcher = LaneDispatcher(
                server: server, repository: store, clock: self.options.clock, logger: logger,
                maxPayload: options.maxPayload)
            dispatcher.pushCacheOnEverySession()
            dispatcher.answerCacheResyncs(from: hub)
            await desk.attach(server)
            if let cluster = self.options.cluster {
                await dispatcher.join(
                    cluster, desk: desk, bus: bus, clock: self.options.clock, logger: logger)
                try await Self.syncClock(self.options.clock, cluster)
            }
            let service = LaneLinkService(
                server: server, tcp: options.tcp, serial: options.serial, serialRetry: options.serialRetry,
                logger: logger, onListening: options.onListening)
            link = LinkParts(hub: hub, server: server, dispatcher: dispatcher, service: service)
        }
        self.link = link

        let console = options.console.map { console in
            OfficersConsole(
                sessions: ConsoleSessions(
                    repository: store, clock: console.sessionClock, settings: console.settings,
                    gate: console.gate),
                helpDesk: desk, bus: bus, files: console.files, refresh: console.refresh)
        }
        let app = CentralApp(
            repository: store, clock: options.clock, policy: options.policy, logger: logger,
            lanes: link?.dispatcher, console: console)
        self.app = app

        var services: [any Service] = []
        if let http = options.http {
            let daemon = options.daemon
            services.append(
                app.buildApplication(
                    configuration: ApplicationConfiguration(
                        address: .hostname(http.host, port: http.port), serverName: http.serverName),
                    counter: ConnectionCounter(limits: http.limits)
                ) { boundHost, boundPort in
                    let shown = boundHost.contains(":") ? "[\(boundHost)]" : boundHost
                    http.onListening("\(shown):\(boundPort)")
                    if daemon { CentralWatchdog.listening(at: "\(shown):\(boundPort)") }
                })
        }
        if options.runsEscalations { services.append(EscalationService(desk: desk)) }
        if let link {
            services.append(link.service)
            if let cluster = options.cluster { services.append(cluster) }
            if let every = options.link?.cacheFeed {
                services.append(CacheFeedService(dispatcher: link.dispatcher, interval: every))
            }
        }
        if options.daemon {
            services.append(
                LinkKeyReloader(server: link?.server, directory: options.link?.keysDirectory, logger: logger))
            services += CentralWatchdog.services(store: store, link: link?.server, logger: logger)
        }
        self.services = services
    }

    /// A simulated clock joins the cluster's: the later of the two wins.
    static func syncClock(_ clock: any WallClock, _ cluster: ClusterNode) async throws {
        guard let simulated = clock as? SimulatedWallClock else { return }
        let at = try await cluster.tables.setClock(simulated.now())
        if at > simulated.now() { simulated.set(at) }
    }

    /// Runs ``services`` as one group until a signal among
    /// `gracefulShutdownSignals` asks for a graceful shutdown, or the
    /// calling task is cancelled (a crash, as far as lanes can tell).
    public func run(gracefulShutdownSignals: [UnixSignal] = []) async throws {
        guard !services.isEmpty else { return }
        let group = ServiceGroup(
            configuration: .init(
                services: services, gracefulShutdownSignals: gracefulShutdownSignals, logger: options.logger))
        try await group.run()
    }
}

/// Central's options do not fit together; the sentence says what to change.
public struct CentralConfigurationError: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
