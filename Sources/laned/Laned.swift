import ArgumentParser
import Foundation
import LaneConfig
import LaneRuntime
import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals

/// laned: one lane's daemon (docs/laned.md).
@main
struct Laned: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "laned",
        abstract: "Runs one customs lane: buttons, boards, journal and the link to central.",
        discussion: """
            Exit status: 0 after SIGTERM or SIGINT; 78 (EX_CONFIG) when the config, or a file it \
            names, is wrong; 1 when a part of the lane fails (systemd restarts it).
            SIGHUP rereads the config: the keys docs/lane-config.md marks reloadable apply at once, \
            other changes are logged and wait for a restart.
            """)

    @Option(help: "The lane's YAML config (docs/lane-config.md).")
    var config: String

    @Flag(
        help:
            "Print the config in use (defaults included), check the ground it names (link key, selection key, intercom program; the GPIO chip and lines, opened and released; the display backend started; every font face loaded and its glyphs for the boards' texts), and exit: 0 when all is well, 78 when not."
    )
    var check = false

    mutating func run() async throws {
        let loaded: LaneConfiguration
        do { loaded = try LaneConfiguration.load(path: config) } catch {
            printError("laned: \(error)")
            throw ExitCode(error.exitCode)
        }
        if check {
            for (key, value) in loaded.flattened { print("\(key): \(value)") }
            let problems = await LaneDaemon.checkGround(loaded)
            for problem in problems { printError("laned: \(loaded.file): \(problem)") }
            if !problems.isEmpty { throw ExitCode(exConfig) }
            return
        }
        LoggingSystem.bootstrap { label in ReloadableLevelHandler(label: label) }
        ReloadableLevelHandler.level.withLock { $0 = Logger.Level(loaded.log.level) }
        let logger = Logger(label: "laned")
        let notifier = SystemdNotifier()
        notifier.status("starting")

        let daemon: LaneDaemon
        do {
            daemon = try await LaneDaemon(configuration: loaded, environment: .init(logger: logger))
        } catch {
            printError("laned: \(loaded.file): \(error)")
            throw ExitCode(error.isConfiguration ? exConfig : 1)
        }
        let lane = loaded.lane.id.value
        logger.info(
            "lane running",
            metadata: [
                "lane": "\(lane)", "config": "\(loaded.file)", "socket": "\(loaded.control.socket)",
                "journal": "\(loaded.journal.path)",
            ])
        notifier.ready(status: "lane \(lane) running")

        let reloader = SignalReloader(config: loaded.file, daemon: daemon, notifier: notifier, logger: logger)
        // The lane's parts, then SIGHUP's reloader: stopped first, since it
        // feeds the lane like any other input.
        let heartbeat = Self.watchdog(
            notifier, enabled: loaded.watchdog.enabled, every: loaded.watchdog.interval)
        let group = ServiceGroup(
            configuration: .init(
                services: daemon.services(heartbeat: heartbeat) + [
                    .init(
                        service: reloader, successTerminationBehavior: .gracefullyShutdownGroup,
                        failureTerminationBehavior: .gracefullyShutdownGroup)
                ],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            logger.critical("lane stopped on a failure", metadata: ["error": "\(error)"])
            notifier.stopping()
            throw ExitCode(1)
        }
        notifier.stopping()
        logger.info("lane stopped")
    }

    /// Feeds systemd's watchdog from the lane's main loop, at most once per
    /// interval: a loop that hangs stops feeding it and systemd restarts laned.
    static func watchdog(_ notifier: SystemdNotifier, enabled: Bool, every configured: Duration?)
        -> @Sendable () -> Void
    {
        guard enabled, let interval = configured ?? notifier.watchdogInterval else { return {} }
        let last = Mutex<ContinuousClock.Instant?>(nil)
        return {
            let now = ContinuousClock.now
            let due = last.withLock { last -> Bool in
                if let previous = last, now - previous < interval { return false }
                last = now
                return true
            }
            if due { notifier.watchdog() }
        }
    }
}

/// SIGHUP: reread the config and apply what may change while running.
struct SignalReloader: Service {
    let config: String
    let daemon: LaneDaemon
    let notifier: SystemdNotifier
    let logger: Logger

    /// Reloads on every SIGHUP until graceful shutdown or cancellation.
    func run() async throws {
        await cancelWhenGracefulShutdown { await serve() }
    }

    private func serve() async {
        var failing = false
        for await _ in await UnixSignalsSequence(trapping: .sighup) {
            let reloaded = await reload()
            if reloaded, failing {
                daemon.controller.post(.faultCleared(code: LaneFaultCode.configNotReloaded.name))
            }
            failing = !reloaded
        }
    }

    /// Returns whether the config was reloaded.
    private func reload() async -> Bool {
        notifier.reloading()
        let lane = daemon.configuration.lane.id.value
        let new: LaneConfiguration
        do { new = try LaneConfiguration.load(path: config) } catch {
            // A broken edit must not take a running lane down: keep the old
            // config, and say so where the technician looks (journalctl,
            // systemctl status, lanectl status, the officers' console).
            let why = error.problems.first.map(\.description) ?? "\(error)"
            logger.error(
                "config not reloaded; the lane keeps running on the old one", metadata: ["error": "\(error)"])
            notifier.ready(status: "lane \(lane) running on its old config; not reloaded: \(why)")
            daemon.controller.post(
                .fault(code: LaneFaultCode.configNotReloaded.name, text: why))
            return false
        }
        defer { notifier.ready(status: "lane \(lane) running") }
        let (changed, needsRestart) = await daemon.reload(new)
        ReloadableLevelHandler.level.withLock { $0 = Logger.Level(new.log.level) }
        logger.notice(
            "config reloaded",
            metadata: [
                "applied": "\(changed.isEmpty ? "nothing changed" : changed.joined(separator: ", "))",
                "needs_restart": "\(needsRestart.joined(separator: ", "))",
            ])
        return true
    }
}

/// swift-log's stream handler on standard error, with one process-wide level
/// that SIGHUP can change (every logger already made follows it).
struct ReloadableLevelHandler: LogHandler {
    static let level = Mutex<Logger.Level>(.info)
    private var inner: StreamLogHandler

    init(label: String) { inner = StreamLogHandler.standardError(label: label) }

    var logLevel: Logger.Level {
        get { Self.level.withLock { $0 } }
        set { Self.level.withLock { $0 = newValue } }
    }

    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        guard event.level >= logLevel else { return }
        inner.log(event: event)
    }
}

extension Logger.Level {
    init(_ level: LaneConfiguration.LogLevel) {
        self = Logger.Level(rawValue: level.rawValue) ?? .info
    }
}

/// sysexits.h's EX_CONFIG, as for a bad config file.
let exConfig: Int32 = 78

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
