import BoardLayout
import CargoStore
import CentralCluster
import Foundation
import Logging
import RoadCargo

/// The officers' console: its page, its sessions, the help desk it drives,
/// and the snapshots it shows. ``CentralApp`` serves it under `/console`.
public struct OfficersConsole: Sendable {
    public let sessions: ConsoleSessions
    public let helpDesk: HelpDesk
    public let bus: ConsoleBus
    public let files: ConsoleFiles
    /// How often a live console re-checks what it shows even without a
    /// change notice (link health has none).
    public let refresh: Duration

    public init(
        sessions: ConsoleSessions, helpDesk: HelpDesk, bus: ConsoleBus, files: ConsoleFiles,
        refresh: Duration = .seconds(2)
    ) {
        self.sessions = sessions
        self.helpDesk = helpDesk
        self.bus = bus
        self.files = files
        self.refresh = refresh
    }
}

/// Everything one officer's console shows at one moment.
public struct ConsoleSnapshot: Sendable, Hashable, Encodable {
    public struct Officer: Sendable, Hashable, Encodable {
        public var name: String
        public var controlPoint: String?
    }

    public struct ControlPointView: Sendable, Hashable, Encodable {
        public var id: String
        public var offline: Bool
        public var lanes: Int
    }

    public struct Call: Sendable, Hashable, Encodable {
        public struct Message: Sendable, Hashable, Encodable {
            public var phraseId: UInt16
            public var text: String
            public var at: String
            public var officer: String
        }

        public var id: Int64
        public var lane: String
        public var controlPoint: String
        public var state: String
        public var officer: String?
        public var mine: Bool
        public var escalated: Bool
        public var rangAt: String
        public var answeredAt: String?
        public var endedAt: String?
        public var endedBy: String?
        public var vrn: String?
        public var messages: [Message]

        public init(_ c: HelpCallRecord, viewer: String) {
            id = c.id
            lane = c.lane.value
            controlPoint = c.controlPoint.rawValue
            state = c.state.rawValue
            officer = c.officer
            mine = c.officer?.lowercased() == viewer.lowercased()
            escalated = c.escalatedAt != nil
            rangAt = HongKongTime.iso8601(c.rangAt)
            answeredAt = c.answeredAt.map(HongKongTime.iso8601)
            endedAt = c.endedAt.map(HongKongTime.iso8601)
            endedBy = c.endedBy
            vrn = c.vrn?.value
            messages = c.messages.map {
                Message(
                    phraseId: $0.phraseID, text: $0.text, at: HongKongTime.iso8601($0.at), officer: $0.officer
                )
            }
        }
    }

    public struct Phrase: Sendable, Hashable, Encodable {
        public var id: UInt16
        public var en: String
        public var zhHant: String
        public var zhHans: String
    }

    public var now: String
    public var officer: Officer
    public var controlPoints: [ControlPointView]
    public var lanes: [LaneView]
    public var calls: [Call]
    public var recentCalls: [Call]
    /// Offline crossings that conflicted with central's bundles and that no
    /// officer has acknowledged (clearance rule 4: raised to officers),
    /// newest first, at most ``CentralApp/consoleConflictLimit``.
    public var conflicts: [OfflineCrossingBody]
    /// In a cluster: the newest commands that went through the command
    /// table to lanes shown here (queued, delivered, or expired unsent).
    public var clusterCommands: [ClusterCommand]
    public var phrases: [Phrase]

    public struct ClusterCommand: Sendable, Hashable, Encodable {
        public var id: Int64
        public var lane: String
        public var kind: String
        public var officer: String
        public var requestedAt: String
        public var queuedBy: String
        public var queuedFor: String?
        public var state: String
        public var settledBy: String?
        public var settledAt: String?

        init(_ c: QueuedCommand) {
            id = c.id
            lane = c.lane.value
            kind = c.kind
            officer = c.officer
            requestedAt = HongKongTime.iso8601(c.requestedAt)
            queuedBy = c.queuedBy.value
            queuedFor = c.queuedFor?.value
            state = c.state.rawValue
            settledBy = c.settledBy?.value
            settledAt = c.settledAt.map(HongKongTime.iso8601)
        }
    }
}

extension CentralApp {
    /// Open conflicts the console lists; the rest are in `GET /v1/reconciliation`.
    static let consoleConflictLimit = 50

    /// What `officer` sees now: the lanes and calls of their control point
    /// (all of them for an officer not limited to one).
    func snapshot(for officer: Account, help: HelpDesk) async throws -> ConsoleSnapshot {
        // In a cluster, lanes linked to any live node (the lane-session table).
        let linked = await lanes?.linkedLanes() ?? [:]
        let visible = try await repository.lanes().filter {
            officer.controlPoint == nil || officer.controlPoint == $0.controlPoint
        }.sorted { $0.id.value < $1.id.value }
        let open = try await repository.openHelpCalls().filter { $0.isVisible(to: officer) }
        let offline = try await repository.offlineCrossingCounts()
        var views: [LaneView] = []
        for lane in visible {
            var view = LaneView.derive(
                lane: lane, connected: linked[lane.id] != nil,
                events: try await repository.laneEvents(lane: lane.id, limit: 200),
                crossings: try await repository.crossings(lane: lane.id, limit: 1),
                actions: try await repository.officerActions(lane: lane.id, limit: 50),
                call: open.last { $0.lane == lane.id })
            view.offlineReceived = offline[lane.id]?.received ?? 0
            view.conflictsOpen = offline[lane.id]?.openConflicts ?? 0
            view.node = linked[lane.id] ?? nil
            views.append(view)
        }
        let seen = Set(visible.map(\.id))
        let conflicts =
            views.contains { $0.conflictsOpen > 0 }
            ? try await repository.offlineCrossings(OfflineCrossingFilter(), limit: Self.maximumEventLimit)
                .filter { seen.contains($0.lane) }.prefix(Self.consoleConflictLimit).map(
                    OfflineCrossingBody.init)
            : []
        let points = Dictionary(grouping: views, by: \.controlPoint).map { id, lanes in
            ConsoleSnapshot.ControlPointView(id: id, offline: lanes.allSatisfy(\.offline), lanes: lanes.count)
        }.sorted { $0.id < $1.id }
        let ended = try await repository.endedHelpCalls(limit: 50).filter { $0.isVisible(to: officer) }
            .prefix(10)
        let commands = try await lanes?.clusterCommands(lanes: visible.map(\.id), limit: 20) ?? []
        return ConsoleSnapshot(
            now: HongKongTime.iso8601(clock.now()),
            officer: .init(name: officer.name, controlPoint: officer.controlPoint?.rawValue),
            controlPoints: points, lanes: views,
            calls: open.map { .init($0, viewer: officer.name) },
            recentCalls: ended.map { .init($0, viewer: officer.name) }, conflicts: conflicts,
            clusterCommands: commands.map(ConsoleSnapshot.ClusterCommand.init),
            phrases: OfficerPhrase.all.map {
                .init(
                    id: $0.id, en: $0.text.english, zhHant: $0.text.traditionalChinese,
                    zhHans: $0.text.simplifiedChinese)
            })
    }
}

/// The console's page: a few static files, read once at start and served
/// with a strict Content-Security-Policy (no inline script or style).
public struct ConsoleFiles: Sendable {
    public struct File: Sendable, Hashable {
        public var contentType: String
        public var bytes: [UInt8]
    }

    /// The files the page consists of; nothing else under the directory is served.
    public static let names: [String: String] = [
        "index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8",
        "i18n.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8",
    ]

    public let files: [String: File]

    /// Reads the page from `directory`.
    /// - Throws: ``ConsoleFilesError`` naming the first file that is missing.
    public init(directory: URL) throws {
        var files: [String: File] = [:]
        for (name, type) in Self.names {
            let url = directory.appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw ConsoleFilesError.missing(url.path)
            }
            files[name] = File(contentType: type, bytes: Array(data))
        }
        self.files = files
    }

    /// Where the page is when none is named: beside the executable (as
    /// `swift build` leaves it), then where the install guide puts it.
    public static func defaultDirectory() -> URL? {
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        let candidates = [
            executable.deletingLastPathComponent().appendingPathComponent(
                "LaneKiosk_Central.resources/Console"),
            URL(fileURLWithPath: "/usr/share/lanekiosk/console"),
        ]
        return candidates.first {
            FileManager.default.fileExists(atPath: $0.appendingPathComponent("index.html").path)
        }
    }
}

public enum ConsoleFilesError: Error, CustomStringConvertible {
    case missing(String)

    public var description: String {
        switch self {
        case .missing(let path): "the officers' console page file \(path) is missing"
        }
    }
}
