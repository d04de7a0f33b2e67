import BoardLayout
import CargoStore
import Foundation
import HTTPTypes
import Hummingbird
import LinkCore
import RoadCargo

/// Bodies the console's page sends.
struct ConsoleLoginBody: Decodable, Sendable {
    var name: String
    var password: String
}

struct ConsoleMessageBody: Decodable, Sendable {
    var phraseId: Int
    var text: String?
}

struct ConsoleOverrideBody: Decodable, Sendable {
    var decision: String
    var reason: String
}

struct ConsoleOfflineBody: Decodable, Sendable {
    var on: Bool
}

/// Who is logged in, for the page.
struct ConsoleMeBody: Encodable, Sendable {
    var officer: String
    var controlPoint: String?
    var csrf: String
    var expiresAt: String
    var idleMinutes: Int

    init(_ o: ConsoleSessions.Officer, idle: Duration) {
        officer = o.account.name
        controlPoint = o.account.controlPoint?.rawValue
        csrf = o.session.csrf
        expiresAt = HongKongTime.iso8601(o.session.expiresAt)
        idleMinutes = Int(idle.components.seconds / 60)
    }
}

/// A crossing as the console lists it: the instruction that stood, which is
/// an officer's override when there was one (central's own decision beside it).
struct ConsoleCrossingBody: Encodable, Sendable {
    var id: Int64
    var lane: String
    var vrn: String
    var ubr: String?
    var ccrns: [String]
    var instruction: String
    var reason: String
    var officer: String?
    var decidedInstruction: String
    var decidedReason: String
    var decidedAt: String

    init(_ s: CrossingSummary, override: OfficerActionRecord?) {
        id = s.crossing.id
        lane = s.crossing.lane.value
        vrn = s.crossing.vrn.value
        ubr = s.crossing.decision.ubr?.value
        ccrns = s.ccrns.map(\.value)
        decidedInstruction = s.crossing.decision.instruction.rawValue
        decidedReason = s.crossing.decision.reason.rawValue
        instruction = override?.details["instruction"] ?? decidedInstruction
        reason = override?.details["reason"] ?? decidedReason
        officer = override?.officer
        decidedAt = HongKongTime.iso8601(s.crossing.decidedAt)
    }
}

extension CentralApp {
    /// The officers' console under `/console`: the page, its JSON API and
    /// (through ``buildApplication(configuration:onServerRunning:)``) its live socket.
    func addConsoleRoutes(to router: Router<CentralContext>, _ console: OfficersConsole) {
        router.get("/console") { _, _ in try Self.serve(console.files, "index.html") }
        for name in ConsoleFiles.names.keys where name != "index.html" {
            router.get(RouterPath("/console/\(name)")) { _, _ in try Self.serve(console.files, name) }
        }

        router.post("/console/api/login") { request, context in
            try ConsoleSessions.requireSameOrigin(
                request.headers, authority: request.head.authority, csrf: nil)
            let body = try await JSONBody.decode(ConsoleLoginBody.self, from: request, limit: 4096)
            let (officer, token, device) = try await console.sessions.logIn(
                name: body.name, password: body.password, address: context.peer,
                device: ConsoleSessions.cookie(LoginGate.deviceCookieName, in: request.headers))
            var response = try JSONBody.response(ConsoleMeBody(officer, idle: console.sessions.settings.idle))
            response.headers[.setCookie] = ConsoleSessions.setCookie(token)
            response.headers.append(HTTPField(name: .setCookie, value: LoginGate.setDeviceCookie(device)))
            response.headers[.cacheControl] = "no-store"
            return response
        }

        router.get("/console/api/me") { request, _ in
            let officer = try await console.sessions.officer(for: request.headers)
            var response = try JSONBody.response(ConsoleMeBody(officer, idle: console.sessions.settings.idle))
            response.headers[.cacheControl] = "no-store"
            return response
        }

        router.post("/console/api/logout") { request, _ in
            let officer = try await changing(request, console)
            try await console.sessions.logOut(officer)
            console.bus.changed()
            return Response(status: .noContent, headers: [.setCookie: ConsoleSessions.setCookie(nil)])
        }

        router.get("/console/api/snapshot") { request, _ in
            let officer = try await console.sessions.officer(for: request.headers)
            return try JSONBody.response(try await snapshot(for: officer.account, help: console.helpDesk))
        }

        addConsoleCallRoutes(to: router, console)
        addConsoleLaneRoutes(to: router, console)
        addConsoleWatchRoutes(to: router, console)
        addConsoleReconciliationRoutes(to: router, console)

        router.get("/console/api/crossings") { request, _ in
            let officer = try await console.sessions.officer(for: request.headers)
            let raw = (request.uri.queryParameters.get("q") ?? "").trimmingCharacters(in: .whitespaces)
            let queries = try Self.crossingQueries(raw)
            var found: [CrossingSummary] = []
            for query in queries { found += try await repository.searchCrossings(query, limit: 50) }
            let allowed = Set(
                try await repository.lanes().filter {
                    officer.account.controlPoint == nil || officer.account.controlPoint == $0.controlPoint
                }.map(\.id))
            let items = found.filter { allowed.contains($0.crossing.lane) }
                .sorted { $0.crossing.id > $1.crossing.id }.prefix(50)
            var overrides: [LaneID: [OfficerActionRecord]] = [:]
            for lane in Set(items.map(\.crossing.lane)) {
                overrides[lane] = try await repository.officerActions(lane: lane, limit: 500)
                    .filter { $0.command == .override }
            }
            return try JSONBody.response(
                ListBody(
                    items: items.map { item in
                        let request = LaneView.laneRequestID(item.requestID, lane: item.crossing.lane)
                        let override = overrides[item.crossing.lane]?.first {
                            request != nil && $0.details["requestId"] == "\(request!)"
                        }
                        return ConsoleCrossingBody(item, override: override)
                    }))
        }
    }

    private func addConsoleCallRoutes(to router: Router<CentralContext>, _ console: OfficersConsole) {
        @Sendable func step(
            _ request: Request, _ context: CentralContext, _ name: String,
            _ input: @escaping @Sendable (Account, Request) async throws -> HelpCallInput
        ) async throws -> Response {
            let officer = try await changing(request, console)
            let id = try context.parameters.positiveID("id", "a call id")
            let account = officer.account
            do {
                let call = try await console.helpDesk.act(try await input(account, request), onCall: id)
                try await journal(console, account, name, "call \(id)", .done)
                return try JSONBody.response(ConsoleSnapshot.Call(call, viewer: account.name))
            } catch let refusal as HelpCallRefusal {
                try await journal(console, account, name, "call \(id)", .refused, ["why": refusal.detail])
                switch refusal.kind {
                case .conflict: throw Problem(.conflict, refusal.detail)
                case .forbidden: throw Problem(.forbidden, refusal.detail)
                case .invalid: throw Problem(.validation, refusal.detail)
                }
            }
        }
        router.post("/console/api/calls/{id}/answer") { request, context in
            try await step(request, context, "help_answer") { account, _ in .answer(by: account) }
        }
        router.post("/console/api/calls/{id}/message") { request, context in
            try await step(request, context, "help_message") { account, request in
                let body = try await JSONBody.decode(ConsoleMessageBody.self, from: request, limit: 4096)
                guard let phrase = UInt16(exactly: body.phraseId) else {
                    throw Problem.invalid("phraseId", "range", "phraseId is a phrase list id")
                }
                return .message(by: account, phraseID: phrase, text: body.text ?? "")
            }
        }
        router.post("/console/api/calls/{id}/end") { request, context in
            try await step(request, context, "help_end") { account, _ in .end(by: account) }
        }
    }

    private func addConsoleLaneRoutes(to router: Router<CentralContext>, _ console: OfficersConsole) {
        @Sendable func command(
            _ request: Request, _ context: CentralContext, _ name: String,
            _ make: @escaping @Sendable (Lane, Request) async throws -> LaneCommand
        ) async throws -> Response {
            let officer = try await changing(request, console)
            let id = try context.parameters.parsed("laneId") { raw throws(ValidationFailure) in
                try LaneID(raw)
            }
            let lane = try await consoleLane(id, officer, console, name)
            let sent = try await sendCommand(try await make(lane, request), to: lane, officer, console, name)
            return try JSONBody.response(sent, status: .accepted)
        }
        router.post("/console/api/lanes/{laneId}/override") { request, context in
            try await command(request, context, "override") { lane, request in
                let body = try await JSONBody.decode(ConsoleOverrideBody.self, from: request, limit: 4096)
                let reason = body.reason.trimmingCharacters(in: .whitespacesAndNewlines)
                let limit = TextLimit(characters: 200)
                guard !reason.isEmpty, limit.allows(reason) else {
                    throw Problem.invalid(
                        "reason", "length",
                        "say why, in 1 to 200 characters and \(limit.bytes) bytes of UTF-8; the reason \(limit.measured(reason))"
                    )
                }
                let (instruction, code): (Instruction, Reason)
                switch body.decision {
                case "release": (instruction, code) = (.cleared, .officerRelease)
                case "divert": (instruction, code) = (.inspect, .officerDivert)
                default: throw Problem.invalid("decision", "enum", "decision is release or divert")
                }
                let view = try await laneView(lane)
                guard let vehicle = view.vehicle, let requestID = vehicle.requestId else {
                    throw Problem(
                        .conflict, "no vehicle with a decision stands in lane \(lane.id) to override")
                }
                return .override(requestID: requestID, instruction: instruction, reason: code, text: reason)
            }
        }
        router.post("/console/api/lanes/{laneId}/open") { request, context in
            try await command(request, context, "open") { _, _ in .open }
        }
        router.post("/console/api/lanes/{laneId}/close") { request, context in
            try await command(request, context, "close") { _, _ in .close }
        }
        router.post("/console/api/lanes/{laneId}/offline") { request, context in
            try await command(request, context, "offline") { _, request in
                .offline(try await JSONBody.decode(ConsoleOfflineBody.self, from: request, limit: 1024).on)
            }
        }
        router.post("/console/api/control-points/{cp}/offline") { request, context in
            let officer = try await changing(request, console)
            let cp = try context.parameters.parsed("cp") { raw throws(ValidationFailure) in
                try ControlPoint(raw)
            }
            let on = try await JSONBody.decode(ConsoleOfflineBody.self, from: request, limit: 1024).on
            if let own = officer.account.controlPoint, own != cp {
                let why = "\(officer.account.name) acts at \(own) only, not \(cp)"
                try await journal(console, officer.account, "offline", "\(cp)", .refused, ["why": why])
                throw Problem(.forbidden, why)
            }
            var sent: [CommandAcceptedBody] = []
            for lane in try await repository.lanes() where lane.controlPoint == cp {
                sent.append(try await sendCommand(.offline(on), to: lane, officer, console, "offline"))
            }
            return try JSONBody.response(ListBody(items: sent), status: .accepted)
        }
    }

    private func addConsoleWatchRoutes(to router: Router<CentralContext>, _ console: OfficersConsole) {
        router.get("/console/api/watchlist") { request, _ in
            _ = try await console.sessions.officer(for: request.headers)
            return try JSONBody.response(
                ListBody(items: try await repository.watchEntries().map(WatchEntryBody.init)))
        }
        router.post("/console/api/watchlist") { request, _ in
            let officer = try await changing(request, console)
            let body = try await JSONBody.decode(WatchRequestBody.self, from: request, limit: 4096)
            let entry = try await repository.addWatch(
                try watchTarget(body), note: body.note ?? "", by: officer.account, at: clock.now())
            try await journal(
                console, officer.account, "watch_add", "watch \(entry.id)", .done,
                ["kind": entry.target.kind, "value": entry.target.value])
            console.bus.changed()
            return try JSONBody.response(WatchEntryBody(entry), status: .created)
        }
        router.delete("/console/api/watchlist/{id}") { request, context in
            let officer = try await changing(request, console)
            let id = try context.parameters.positiveID("id", "a watch-list id")
            guard try await repository.removeWatch(id: id) else {
                throw Problem(.notFound, "watch-list entry \(id) does not exist")
            }
            try await journal(console, officer.account, "watch_remove", "watch \(id)", .done)
            console.bus.changed()
            return Response(status: .noContent)
        }
    }

    // MARK: Helpers

    /// The officer of a request that changes something: a live session, the
    /// same origin, and the session's CSRF token.
    func changing(_ request: Request, _ console: OfficersConsole) async throws
        -> ConsoleSessions.Officer
    {
        let officer = try await console.sessions.officer(for: request.headers)
        try ConsoleSessions.requireSameOrigin(
            request.headers, authority: request.head.authority, csrf: officer.session.csrf)
        return officer
    }

    private func consoleLane(
        _ id: LaneID, _ officer: ConsoleSessions.Officer, _ console: OfficersConsole, _ action: String
    ) async throws -> Lane {
        guard let lane = try await repository.lane(id) else {
            throw Problem(.notFound, "lane \(id) is not known")
        }
        if let own = officer.account.controlPoint, own != lane.controlPoint {
            let why =
                "\(officer.account.name) acts on lanes at \(own) only; lane \(id) is at \(lane.controlPoint)"
            try await journal(console, officer.account, action, "lane \(id)", .refused, ["why": why])
            throw Problem(.forbidden, why)
        }
        return lane
    }

    private func sendCommand(
        _ command: LaneCommand, to lane: Lane, _ officer: ConsoleSessions.Officer, _ console: OfficersConsole,
        _ action: String
    ) async throws -> CommandAcceptedBody {
        guard let lanes else {
            throw Problem(
                .conflict, "clearanced runs without the lane link, so nothing can reach lane \(lane.id)")
        }
        let sent = try await lanes.send(command, to: lane, by: officer.account)
        try await journal(
            console, officer.account, action, "lane \(lane.id)", .done,
            command.details.merging(["action": "\(sent.action.id)"]) { a, _ in a })
        console.bus.changed()
        var accepted = CommandAcceptedBody(
            actionId: sent.action.id, messageId: sent.messageID, lane: lane.id.value, command: action,
            officer: officer.account.name, requestedAt: HongKongTime.iso8601(sent.action.requestedAt),
            laneConnected: lanes.isConnected(lane.id), cacheGeneration: sent.cache?.record.generation)
        accepted.describe(sent.delivery)
        return accepted
    }

    func laneView(_ lane: Lane) async throws -> LaneView {
        LaneView.derive(
            lane: lane, connected: await lanes?.linkedLanes()[lane.id] != nil,
            events: try await repository.laneEvents(lane: lane.id, limit: 200),
            crossings: try await repository.crossings(lane: lane.id, limit: 1),
            actions: try await repository.officerActions(lane: lane.id, limit: 50), call: nil)
    }

    func journal(
        _ console: OfficersConsole, _ officer: Account, _ action: String, _ target: String,
        _ outcome: ConsoleJournalEntry.Outcome, _ details: [String: String] = [:]
    ) async throws {
        try await repository.journal(
            ConsoleJournalEntry(
                officer: officer.name, action: action, target: target, outcome: outcome, details: details,
                at: console.sessions.clock.now()))
    }

    static func serve(_ files: ConsoleFiles, _ name: String) throws -> Response {
        guard let file = files.files[name] else { throw Problem(.routeNotFound, "no such console file") }
        return Response(
            status: .ok,
            headers: [
                .contentType: file.contentType, .cacheControl: "no-cache",
                .contentSecurityPolicy:
                    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
                HTTPField.Name("X-Content-Type-Options")!: "nosniff",
                HTTPField.Name("Referrer-Policy")!: "no-referrer",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: file.bytes)))
    }

    /// A search is a VRN, or 10 digits that may be a UBR or a CCRN; empty
    /// lists the latest crossings.
    static func crossingQueries(_ raw: String) throws -> [CrossingQuery] {
        if raw.isEmpty { return [.latest] }
        guard raw.count <= 20 else {
            throw Problem.invalid("q", "length", "search by a VRN, a UBR or a CCRN")
        }
        if raw.utf8.count == 10, raw.utf8.allSatisfy({ (48...57).contains($0) }) {
            var queries: [CrossingQuery] = []
            if let ubr = try? UBR(raw) { queries.append(.ubr(ubr)) }
            if let ccrn = try? CCRN(raw) { queries.append(.ccrn(ccrn)) }
            if !queries.isEmpty { return queries }
        }
        do {
            return [.vrn(try APIParse.vrn(raw.uppercased()))]
        } catch {
            throw Problem.invalid("q", "format", "\"\(raw)\" is not a VRN, a UBR or a CCRN")
        }
    }
}
