import CargoStore
import Dispatch
import LaneLink
import LinkCore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import ServiceSupport
import UnixSignals

/// The lane link as a Service: listens for lanes over TCP and serial ports
/// and answers them through the server's handler (``LaneHub``), until
/// graceful shutdown or cancellation.
public struct LaneLinkService: Service {
    /// Where lanes reach central over TCP.
    public enum TCP: Sendable {
        /// Bind when the service starts (clearanced: `--link-host`, `--link-port`; 0 picks a free port).
        case bind(host: String, port: Int)
        /// A listener already bound (tests and the simulator need its port
        /// before anything runs); the service closes it when it stops.
        case bound(TCPLinkListener)
    }

    public let server: LaneLinkServer
    public let tcp: TCP?
    public let serial: [String]
    public let serialRetry: Duration
    public let logger: Logger
    let onListening: @Sendable (_ address: String) -> Void

    /// - Parameters:
    ///   - serialRetry: how long to wait before opening a serial port again
    ///     after it failed or its line dropped.
    ///   - onListening: called once the TCP listener is bound, with its "HOST:PORT".
    public init(
        server: LaneLinkServer, tcp: TCP?, serial: [String] = [], serialRetry: Duration = .seconds(1),
        logger: Logger, onListening: @escaping @Sendable (_ address: String) -> Void = { _ in }
    ) {
        self.server = server
        self.tcp = tcp
        self.serial = serial
        self.serialRetry = serialRetry
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let listener: TCPLinkListener?
        switch tcp {
        case .bind(let host, let port):
            let bound = try await TCPLinkListener(host: host, port: port)
            onListening(bound.address)
            listener = bound
        case .bound(let bound):
            onListening(bound.address)
            listener = bound
        case nil:
            listener = nil
        }
        logger.info(
            "lane link started", metadata: ["tcp": "\(listener?.address ?? "-")", "serial": "\(serial)"])
        // Cancellation on graceful shutdown ends serveSerial's retry loop;
        // closing the listener finishes its connection stream.
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                if let listener {
                    group.addTask { await server.serve(listener) }
                    group.addTask {
                        // Sleeps until cancelled, then closes the listener, so
                        // serve(listener) returns.
                        try? await Task.sleep(for: .seconds(1_000_000_000))
                        await listener.close()
                    }
                }
                for path in serial {
                    group.addTask { await server.serveSerial(path: path, retry: serialRetry) }
                }
            }
        }
        logger.info("lane link stopped")
    }
}

/// SIGHUP (`systemctl reload clearanced`): reads the key directory again and
/// installs it, so `clearanced lane rotate-key`, `lane key --replace` and a
/// withdrawn key take effect without a restart that would cut every lane.
/// A directory that no longer loads changes nothing: the keys in force stay.
public struct LinkKeyReloader: Service {
    public let server: LaneLinkServer?
    public let directory: String?
    public let logger: Logger

    public init(server: LaneLinkServer?, directory: String?, logger: Logger) {
        self.server = server
        self.directory = directory
        self.logger = logger
    }

    public func run() async throws {
        // Trapped even without a link, so that a reload never kills the
        // server (SIGHUP's default action).
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in signals { await reload() }
        }
    }

    /// Loads the directory and installs its keys, or logs why not.
    public func reload() async {
        guard let server, let directory else {
            logger.notice("SIGHUP: no lane link runs, so there are no keys to reload")
            return
        }
        let keys: LinkKeyring
        do {
            // Reading the files is blocking I/O: off the cooperative pool.
            keys = try await Blocking.run { try LinkKeyring.load(directory: directory) }
        } catch {
            logger.error(
                "SIGHUP: lane keys not reloaded; the keys in force stay",
                metadata: ["directory": "\(directory)", "error": "\(error)"])
            return
        }
        let report = server.reloadKeys(keys)
        logger.notice(
            "SIGHUP: lane keys reloaded",
            metadata: [
                "directory": "\(directory)", "lanes": "\(keys.count)",
                "added": "\(report.added.map(\.value))", "rotated": "\(report.changed.map(\.value))",
                "removed": "\(report.removed.map(\.value))",
            ])
    }
}

/// Keeps connected lanes' bundle caches current: polls the store's cache
/// feed and queues numbered deltas, until graceful shutdown.
public struct CacheFeedService: Service {
    public let dispatcher: LaneDispatcher
    public let interval: Duration

    public init(dispatcher: LaneDispatcher, interval: Duration = .milliseconds(250)) {
        self.dispatcher = dispatcher
        self.interval = interval
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await dispatcher.runCacheFeed(every: interval) }
    }
}

/// Escalates unanswered help calls while central runs.
public struct EscalationService: Service {
    public let desk: HelpDesk

    public init(desk: HelpDesk) { self.desk = desk }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await desk.runEscalations()
        }
    }
}

/// clearanced and systemd (`Type=notify`, `WatchdogSec=` in
/// `systemd/clearanced.service`): `READY=1` once the HTTP API listens, then
/// `WATCHDOG=1` every half `WATCHDOG_USEC`, but only after a round in which
/// the event loops, the store and the link server all answered (see
/// ``Watchdog`` and `docs/threads.md`). A clearanced that hangs stops
/// pinging, and systemd restarts it.
public enum CentralWatchdog {
    static let notifier = SystemdNotifier()

    /// Tells systemd the server is up (called once the HTTP API listens).
    public static func listening(at address: String) {
        notifier.ready(status: "serving on \(address)")
    }

    /// The watchdog's service, or none when systemd set no watchdog.
    public static func services(
        store: any CargoRepository, link: LaneLinkServer?, logger: Logger
    ) -> [any Service] {
        guard let interval = notifier.watchdogInterval else { return [] }
        logger.info("systemd watchdog", metadata: ["every": "\(interval)"])
        let watchdog = Watchdog(
            probes: probes(store: store, link: link), interval: interval,
            send: { message in
                if message.hasPrefix("STATUS=") {
                    logger.error(
                        "withholding the watchdog ping", metadata: ["why": "\(message.dropFirst(7))"])
                }
                notifier.send(message)
            })
        return [WatchdogService(watchdog: watchdog)]
    }

    /// One probe through each part that must make progress.
    public static func probes(
        store: any CargoRepository, link: LaneLinkServer?,
        loops: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) -> [LivenessProbe] {
        var probes = [
            // HTTP and the lane link run on NIO's singleton group: a task
            // on every loop shows none is blocked.
            LivenessProbe("event loops") {
                for loop in loops.makeIterator() { try await loop.submit {}.get() }
            },
            // Through the store's own async path, as every request's reads
            // go (GRDB's reader connection, or a pooled PostgreSQL one).
            LivenessProbe("store") { try await store.ping() },
        ]
        if let link {
            // The server's status takes its locks synchronously; on a queue
            // of its own, so a lock held for good holds only that queue.
            probes.append(
                LivenessProbe("link server") {
                    _ = try await Blocking.run(on: linkProbeQueue) { link.connectedLanes.count }
                })
        }
        return probes
    }

    private static let linkProbeQueue = DispatchQueue(label: "clearanced.watchdog.link")
}

/// The watchdog's rounds as a Service, until graceful shutdown.
struct WatchdogService: Service {
    let watchdog: Watchdog

    func run() async {
        await cancelWhenGracefulShutdown { await watchdog.run() }
        CentralWatchdog.notifier.stopping()
    }
}
