import ArgumentParser
import CargoStore
import Central
import Foundation
import LaneLink
import Logging
import RoadCargo
import ServiceLifecycle
import ServiceSupport
import UnixSignals

/// Options of `serve` that start the lane link beside the HTTP API.
struct LinkOptions: ParsableArguments {
    @Option(
        name: .customLong("link-port"),
        help: """
            TCP port for lanes; 0 picks a free one and prints "link listening on HOST:PORT". \
            Without it and without --link-serial the link does not run.
            """)
    var linkPort: Int?

    @Option(name: .customLong("link-host"), help: "Address the lane link listens on.")
    var linkHost = "127.0.0.1"

    @Option(
        name: .customLong("link-serial"),
        help: "A serial port on which central serves one lane (repeatable), e.g. /dev/ttyS1.")
    var linkSerial: [String] = []

    @Option(
        name: .customLong("link-keys"),
        help: "Directory of lane key files, one LANE-ID.key per lane (clearanced lane add --keys-dir).")
    var linkKeys: String?

    /// Whether any link transport was asked for.
    var enabled: Bool { linkPort != nil || !linkSerial.isEmpty }

    func validate() throws {
        if let linkPort, !(0...65_535).contains(linkPort) {
            throw ValidationError("--link-port \(linkPort): use 0 to 65535 (0 picks a free port)")
        }
        if enabled, linkKeys == nil {
            throw ValidationError(
                "--link-port and --link-serial need --link-keys DIR: every lane frame is checked against its lane's key"
            )
        }
        if !enabled, linkKeys != nil {
            throw ValidationError("--link-keys without --link-port or --link-serial starts no link; add one")
        }
    }
}

/// The lane link as a Service: listens for lanes over TCP and serial ports
/// and answers them through ``LaneHub``, until graceful shutdown.
struct LinkService: Service {
    let server: LaneLinkServer
    let options: LinkOptions
    let logger: Logger

    /// Loads the keys and builds the server over the store's database, so the
    /// applied log and the reply outboxes sit in the same SQLite file as the
    /// crossings they answer for.
    ///
    /// The link signs and checks frames on the real clock even when the
    /// business clock (`--simulated-clock`) is simulated: lanes sign with
    /// theirs, and a simulated date would put every frame outside the window.
    static func makeServer(
        options: LinkOptions, store: SQLiteCargoStore, hub: LaneHub, logger: Logger
    ) throws -> LaneLinkServer {
        let directory = options.linkKeys ?? "."
        let keys: LinkKeyring
        do {
            keys = try LinkKeyring.load(directory: directory)
        } catch {
            printError("clearanced: cannot load the lane keys in \(directory): \(error)")
            throw exitConfig
        }
        if keys.count == 0 {
            logger.warning("no lane keys in \(directory): every lane will be refused until one is added")
        }
        return try LaneLinkServer(
            keys: keys, database: store.writer, wallClock: SystemWallClock(), logger: logger
        ) { lane, message in
            try await hub.handle(lane: lane, message: message)
        }
    }

    func run() async throws {
        let listener: TCPLinkListener?
        if let port = options.linkPort {
            let bound = try await TCPLinkListener(host: options.linkHost, port: port)
            // Parsed by scripts: keep the wording.
            printNow("link listening on \(bound.address)")
            listener = bound
        } else {
            listener = nil
        }
        logger.info(
            "lane link started",
            metadata: ["tcp": "\(listener?.address ?? "-")", "serial": "\(options.linkSerial)"])
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
                for path in options.linkSerial {
                    group.addTask { await server.serveSerial(path: path) }
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
struct LinkKeyReloader: Service {
    let server: LaneLinkServer?
    let directory: String?
    let logger: Logger

    func run() async throws {
        // Trapped even without a link, so that a reload never kills the
        // server (SIGHUP's default action).
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in signals { await reload() }
        }
    }

    func reload() async {
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
/// feed (every 250 ms) and queues numbered deltas, until graceful shutdown.
struct CacheFeedService: Service {
    let dispatcher: LaneDispatcher

    func run() async throws {
        await cancelWhenGracefulShutdown { await dispatcher.runCacheFeed() }
    }
}
