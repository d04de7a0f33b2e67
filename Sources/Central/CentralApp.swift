import CargoStore
import ClearanceCore
import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import RoadCargo

/// The request context every route uses.
public typealias CentralContext = CentralRequestContext

/// Hummingbird's basic context plus the peer's address, which the log-in
/// throttle counts by.
public struct CentralRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's IP address, or "unknown" (in-process tests have none).
    public let peer: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peer = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }
}

/// clearanced's HTTP API: the briefing's system-to-system channel for
/// shippers, agents and drivers, plus the officers' administration.
///
/// Everything the API does goes through the injected repository, clock and
/// policy, so tests run it in-process over a temporary store and a
/// simulated clock, exactly as production runs it over SQLite and the
/// system clock.
public struct CentralApp: Sendable {
    /// Body size limits. JSON requests are small forms; a batch file is
    /// capped where ``BatchXML`` caps it.
    public struct Limits: Sendable, Hashable {
        public var jsonBody: Int
        public var batchBody: Int

        public init(jsonBody: Int = 1 << 20, batchBody: Int = BatchXML.maximumBytes) {
            self.jsonBody = jsonBody
            self.batchBody = batchBody
        }
    }

    public let repository: any CargoRepository
    public let clock: any WallClock
    public let policy: DecisionPolicy
    public let logger: Logger
    public let limits: Limits
    /// Central's messages to lanes; nil when clearanced runs without the
    /// lane link, and then the routes that send answer 409.
    public let lanes: LaneDispatcher?
    /// The officers' console and help desk; nil serves the API only.
    public let console: OfficersConsole?

    let auth: Authenticator

    /// - Parameters:
    ///   - clock: a ``SimulatedWallClock`` makes the clock endpoints writable
    ///     by officers; any other clock makes them answer 409.
    public init(
        repository: any CargoRepository, clock: any WallClock, policy: DecisionPolicy, logger: Logger,
        limits: Limits = Limits(), lanes: LaneDispatcher? = nil, console: OfficersConsole? = nil
    ) {
        self.repository = repository
        self.clock = clock
        self.policy = policy
        self.logger = logger
        self.limits = limits
        self.lanes = lanes
        self.console = console
        self.auth = Authenticator(repository: repository)
    }

    var simulatedClock: SimulatedWallClock? { clock as? SimulatedWallClock }

    /// The router with every `/v1` route. Its `routes` list is what the
    /// OpenAPI test compares with `docs/openapi.yaml`.
    public func buildRouter() -> Router<CentralContext> {
        let router = Router(context: CentralContext.self)
        // First, so it also wraps the "no route" responder and every handler.
        router.add(middleware: ProblemMiddleware(logger: logger))
        router.get("/v1/health") { _, _ in try JSONBody.response(HealthBody(status: "ok")) }
        addConsignmentRoutes(to: router)
        addBundleRoutes(to: router)
        addDecisionRoutes(to: router)
        addWatchListRoutes(to: router)
        addLaneRoutes(to: router)
        addLaneLinkRoutes(to: router)
        addReconciliationRoutes(to: router)
        addClockRoutes(to: router)
        if let console { addConsoleRoutes(to: router, console) }
        return router
    }

    /// The application serving ``buildRouter()`` under the default
    /// ``HTTPLimits``; run it as a Service.
    ///
    /// - Parameter onServerRunning: called once the socket is bound, with the
    ///   bound address and port (useful with port 0, which picks a free one).
    public func buildApplication(
        configuration: ApplicationConfiguration,
        onServerRunning: @escaping @Sendable (_ host: String, _ port: Int) async -> Void = { _, _ in }
    ) -> some ApplicationProtocol {
        buildApplication(
            configuration: configuration, counter: ConnectionCounter(limits: HTTPLimits()),
            onServerRunning: onServerRunning)
    }
}

extension Parameters {
    /// A path parameter that is a record id: a positive whole number, else
    /// a 422 naming what kind of id (`"a watch-list id"`).
    func positiveID(_ name: String, _ what: String) throws -> Int64 {
        try parsed(name) { raw throws(ValidationFailure) in
            guard let id = Int64(raw), id > 0 else {
                throw ValidationFailure(
                    field: "", rule: "id.format", detail: "\(what) is a positive whole number")
            }
            return id
        }
    }

    /// A path parameter parsed with a domain parser; a bad value is a 422
    /// naming the parameter.
    func parsed<T>(_ name: String, _ parse: (String) throws(ValidationFailure) -> T) throws -> T {
        let raw = get(name) ?? ""
        do {
            return try parse(raw)
        } catch {
            throw ValidationFailure(error.issues.map { $0.nested(under: name) })
        }
    }
}
