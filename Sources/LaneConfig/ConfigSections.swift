import BoardLayout
import Foundation
import RoadCargo
import Yams

// How each section's keys combine. The keys themselves, their kinds,
// defaults and ranges, are in the descriptor table (ConfigKeys.swift); a
// reader returns nil for a section with a problem; the problems themselves
// are collected in `problems`.
extension ConfigReader {
    typealias K = ConfigKeys
    static var sections: [String] { ConfigKeys.sections }

    mutating func read(_ text: String) -> LaneConfiguration? {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                problem(
                    "", at: nil,
                    "the file is empty; expected the sections \(Self.sections.joined(separator: ", "))")
                return nil
            }
            root = node
        } catch let error as YamlError {
            yamlProblem(error)
            return nil
        } catch {
            problem("", at: nil, "not valid YAML (\(error))")
            return nil
        }
        guard var top = table(root, path: "") else { return nil }
        let lane = readLane(&top)
        let decision = readDecision(&top)
        let offline = readOffline(&top)
        let link = readLink(&top)
        let gpio = readGPIO(&top)
        let hasReader = top.has("reader")
        let reader = readReader(&top)
        let hasIntercom = top.has("intercom")
        let intercom = readIntercom(&top)
        let displays = readDisplays(&top)
        let journal = readJournal(&top, lane: lane?.id)
        let control = readControl(&top, lane: lane?.id)
        let watchdog = readWatchdog(&top)
        let log = readLog(&top)
        finish(top)

        if case .serial(let linkLine)? = link?.transport, case .serial(let readerLine)? = reader,
            linkLine.device == readerLine.device
        {
            problem(
                "reader.serial.device", at: nil,
                "\(readerLine.device) is also link.serial.device; expected the reader on a port of its own")
        }
        guard let lane, let decision, let offline, let link, let gpio, hasReader == (reader != nil),
            hasIntercom == (intercom != nil), let displays,
            let journal,
            let control, let watchdog, let log
        else { return nil }
        return LaneConfiguration(
            file: file, lane: lane, decision: decision, offline: offline, link: link, gpio: gpio,
            reader: reader, intercom: intercom,
            displays: displays,
            journal: journal, control: control, watchdog: watchdog, log: log)
    }

    private mutating func yamlProblem(_ error: YamlError) {
        let (problemText, mark): (String, Mark?)
        switch error {
        case .scanner(_, let p, let m, _), .parser(_, let p, let m, _), .composer(_, let p, let m, _):
            (problemText, mark) = (p, m)
        default:
            (problemText, mark) = ("\(error)", nil)
        }
        problems.append(
            .init(
                file: file, line: mark?.line, column: mark?.column, key: "",
                message: "not valid YAML: \(problemText); expected `key: value` lines, indented by section"))
    }

    /// The section at `key`; an empty one when absent, so that its keys take
    /// their defaults (or are reported missing); nil when it is not a mapping.
    mutating func section(_ parent: inout Table, _ key: String) -> Table? {
        guard let node = parent.take(key) else {
            return Table(path: parent.path(key), node: parent.node, entries: [])
        }
        return table(node, path: parent.path(key))
    }

    func node(_ t: Table, _ key: String) -> Node? { t.entries.first { $0.key == key }?.value }

    func node<T>(_ t: Table, _ key: ConfigKey<T>) -> Node? {
        node(t, String(key.name.split(separator: ".").last ?? ""))
    }

    // MARK: lane

    mutating func readLane(_ top: inout Table) -> LaneConfiguration.LaneSection? {
        guard var t = section(&top, "lane") else { return nil }
        let id = value(&t, K.laneID)
        let cp = value(&t, K.controlPoint)
        let direction = value(&t, K.direction)
        finish(t)
        guard let id, let cp, let direction else { return nil }

        // Ids that follow the convention CP-IN-NN / CP-OUT-NN must agree with the keys beside them.
        let parts = id.value.uppercased().split(separator: "-")
        var agrees = true
        if parts.count >= 2, let named = ControlPoint(rawValue: String(parts[0])),
            ["IN", "OUT"].contains(parts[1])
        {
            if named != cp {
                problem(
                    "lane.id", at: node(t, "id"),
                    "\(id) names control point \(named.rawValue) but lane.control_point is \(cp.rawValue); "
                        + "expected the id to agree")
                agrees = false
            }
            let idDirection: Direction = parts[1] == "IN" ? .inbound : .outbound
            if idDirection != direction {
                problem(
                    "lane.id", at: node(t, "id"),
                    "\(id) names an \(idDirection == .inbound ? "inbound (IN)" : "outbound (OUT)") lane but "
                        + "lane.direction is \(direction.rawValue); expected the id to agree")
                agrees = false
            }
        }
        return agrees ? LaneConfiguration.LaneSection(id: id, controlPoint: cp, direction: direction) : nil
    }

    // MARK: decision

    mutating func readDecision(_ top: inout Table) -> LaneConfiguration.DecisionSection? {
        guard var t = section(&top, "decision") else { return nil }
        let timeout = value(&t, K.decisionTimeout)
        let grace = value(&t, K.unladenGrace)
        finish(t)
        guard let timeout, let grace else { return nil }
        return .init(timeout: timeout, unladenGrace: grace)
    }

    // MARK: offline

    mutating func readOffline(_ top: inout Table) -> LaneConfiguration.OfflineSection? {
        guard var t = section(&top, "offline") else { return nil }
        let phase = value(&t, K.offlinePhase)
        let laden = value(&t, K.ladenRate)
        let unladen = value(&t, K.unladenRate)
        let keyFile = value(&t, K.selectionKeyFile)
        finish(t)
        guard let phase, let laden, let unladen, !t.has("selection_key_file") || keyFile != nil else {
            return nil
        }
        return .init(phase: phase, ladenRate: laden, unladenRate: unladen, selectionKeyFile: keyFile)
    }

    // MARK: link

    mutating func readLink(_ top: inout Table) -> LaneConfiguration.LinkSection? {
        guard var t = section(&top, "link") else { return nil }
        let transport = readTransport(&t)
        let keyFile = value(&t, K.linkKeyFile)
        let heartbeat = value(&t, K.heartbeat)
        let deadAfter = value(&t, K.deadAfter)
        finish(t)
        if let heartbeat, let deadAfter, deadAfter <= heartbeat {
            problem(
                "link.dead_after", at: node(t, "dead_after") ?? t.node,
                "expected more than link.heartbeat (\(ConfigDuration.format(heartbeat))): a peer is dead only "
                    + "after it missed heartbeats; got \(ConfigDuration.format(deadAfter))")
            return nil
        }
        guard let transport, let keyFile, let heartbeat, let deadAfter else { return nil }
        return .init(transport: transport, keyFile: keyFile, heartbeat: heartbeat, deadAfter: deadAfter)
    }

    private mutating func readTransport(_ t: inout Table) -> LaneConfiguration.LinkSection.Transport? {
        switch (t.has("tcp"), t.has("serial")) {
        case (true, true):
            problem("link", at: t.node, "both link.tcp and link.serial are given; expected exactly one")
            return nil
        case (false, false):
            problem(
                "link", at: t.node,
                "no transport; expected link.tcp (host, port) or link.serial (device, baud, ...)")
            return nil
        case (true, false):
            guard var tcp = section(&t, "tcp") else { return nil }
            let hasList = tcp.has("endpoints")
            let hasSingle = tcp.has("host") || tcp.has("port")
            let endpoints = tcpEndpoints(&tcp)
            let host = hasList ? optional(&tcp, K.linkTCPHost) : value(&tcp, K.linkTCPHost)
            let port = hasList ? optional(&tcp, K.linkTCPPort) : value(&tcp, K.linkTCPPort)
            finish(tcp)
            if hasList, hasSingle {
                problem(
                    "link.tcp", at: tcp.node,
                    "both link.tcp.endpoints and link.tcp.host/port are given; expected one of them: endpoints "
                        + "(central's nodes in order) or host and port (one node)")
                return nil
            }
            if hasList { return endpoints.map { .tcp($0) } }
            guard let host, let port else { return nil }
            return .tcp(host: host, port: port)
        case (false, true):
            guard var serial = section(&t, "serial") else { return nil }
            return serialLine(&serial, K.linkSerial, forLink: true).map { .serial($0) }
        }
    }

    mutating func serialLine(_ t: inout Table, _ keys: SerialKeys, forLink: Bool) -> LaneConfiguration
        .SerialLine?
    {
        let device = value(&t, keys.device)
        let baud = value(&t, keys.baud)
        let parity = value(&t, keys.parity)
        let dataBits = value(&t, keys.dataBits)
        let stopBits = value(&t, keys.stopBits)
        let flow = value(&t, keys.flow)
        finish(t)
        if forLink, flow == .xonXoff {
            problem(
                t.path("flow"), at: node(t, "flow"),
                "expected none or rtscts: the link's frames are binary and may hold the XON and XOFF bytes; "
                    + "got \"xonxoff\"")
            return nil
        }
        guard let device, let baud, let parity, let dataBits, let stopBits, let flow else { return nil }
        return .init(
            device: device, baud: baud, parity: parity, dataBits: dataBits, stopBits: stopBits, flow: flow)
    }

    // MARK: gpio

    mutating func readGPIO(_ top: inout Table) -> LaneConfiguration.GPIOSection? {
        typealias G = LaneConfiguration.GPIOSection
        guard var t = section(&top, "gpio") else { return nil }
        let backend = value(&t, K.gpioBackend)
        let hardware = backend == .libgpiod
        let chip = optional(&t, K.gpioChip)
        if hardware, !t.has("chip") {
            problem(
                "gpio.chip", at: t.node,
                "missing; expected the GPIO chip for the libgpiod backend: a label (best: it survives kernel "
                    + "updates), a name such as gpiochip0, or a path")
        }
        // Every line given, inputs and lamps, to check that none is used twice.
        var lines: [String: G.Line] = [:]
        var given: [(key: String, line: G.Line, node: Node?)] = []
        var linesRead = false
        if var l = section(&t, "lines") {
            for (key, required) in [(K.unladenLine, true), (K.helpLine, true), (K.exitLoopLine, false)] {
                let v = required && hardware ? value(&l, key) : optional(&l, key)
                if let v { given.append((key.name, v, node(l, key))) }
            }
            finish(l)
            linesRead = true
        }
        let bias = value(&t, K.bias)
        let activeLow = value(&t, K.activeLow)
        let debounce = value(&t, K.debounce)
        let stuckAfter = value(&t, K.stuckAfter)
        var lampsRead = false
        if var l = section(&t, "lamps") {
            for key in [K.unladenLamp, K.helpLamp] {
                if let v = optional(&l, key) { given.append((key.name, v, node(l, key))) }
            }
            finish(l)
            lampsRead = true
        }
        finish(t)

        var firstUse: [G.Line: String] = [:]
        for entry in given {
            if let other = firstUse[entry.line] {
                problem(
                    entry.key, at: entry.node, "line \(entry.line) is also \(other); expected every line once"
                )
            } else {
                firstUse[entry.line] = entry.key
                lines[entry.key] = entry.line
            }
        }
        guard firstUse.count == given.count, linesRead, lampsRead, let backend, let bias, let activeLow,
            let debounce,
            let stuckAfter
        else { return nil }
        if hardware, chip == nil || lines["gpio.lines.unladen"] == nil || lines["gpio.lines.help"] == nil {
            return nil
        }
        return G(
            backend: backend, chip: chip, unladen: lines["gpio.lines.unladen"],
            help: lines["gpio.lines.help"],
            exitLoop: lines["gpio.lines.exit_loop"], bias: bias, activeLow: activeLow, debounce: debounce,
            stuckAfter: stuckAfter, unladenLamp: lines["gpio.lamps.unladen"],
            helpLamp: lines["gpio.lamps.help"])
    }

    // MARK: reader

    mutating func readReader(_ top: inout Table) -> LaneConfiguration.ReaderSection? {
        guard top.has("reader") else { return nil }
        guard var t = section(&top, "reader") else { return nil }
        defer { finish(t) }
        switch (t.has("tcp"), t.has("serial")) {
        case (true, true):
            problem("reader", at: t.node, "both reader.tcp and reader.serial are given; expected exactly one")
            return nil
        case (false, false):
            problem(
                "reader", at: t.node,
                "no feed; expected reader.serial (device, baud, ...) or reader.tcp (listen or connect); "
                    + "leave reader out for a lane without one")
            return nil
        case (false, true):
            guard var serial = section(&t, "serial") else { return nil }
            return serialLine(&serial, K.readerSerial, forLink: false).map { .serial($0) }
        case (true, false):
            guard var tcp = section(&t, "tcp") else { return nil }
            defer { finish(tcp) }
            switch (tcp.has("listen"), tcp.has("connect")) {
            case (true, false):
                guard var l = section(&tcp, "listen") else { return nil }
                let host = value(&l, K.readerListenHost)
                let p = value(&l, K.readerListenPort)
                finish(l)
                guard let host, let p else { return nil }
                return .tcpListen(host: host, port: p)
            case (false, true):
                guard var c = section(&tcp, "connect") else { return nil }
                let host = value(&c, K.readerConnectHost)
                let p = value(&c, K.readerConnectPort)
                finish(c)
                guard let host, let p else { return nil }
                return .tcpConnect(host: host, port: p)
            default:
                problem(
                    "reader.tcp", at: tcp.node,
                    "expected exactly one of reader.tcp.listen (host, port) or reader.tcp.connect (host, port)"
                )
                return nil
            }
        }
    }

    // MARK: displays

    mutating func readDisplays(_ top: inout Table) -> LaneConfiguration.DisplaysSection? {
        typealias D = LaneConfiguration.DisplaysSection
        guard var t = section(&top, "displays") else { return nil }
        let backend = value(&t, K.displaysBackend)
        let xdb = geometry(&t, "xdb", K.xdb)
        let aiop = geometry(&t, "aiop", K.aiop)
        let font = value(&t, K.font)
        let output = value(&t, K.outputDirectory)
        let language = value(&t, K.defaultLanguage)
        finish(t)
        guard let backend, let xdb, let aiop, let language else { return nil }
        if t.has("font"), font == nil { return nil }
        if t.has("output_dir"), output == nil { return nil }
        return D(
            backend: backend, xdb: xdb, aiop: aiop, font: font, outputDirectory: output,
            defaultLanguage: language)
    }

    private mutating func geometry(_ parent: inout Table, _ key: String, _ keys: GeometryKeys)
        -> BoardGeometry?
    {
        guard var t = section(&parent, key) else { return nil }
        let width = value(&t, keys.width)
        let height = value(&t, keys.height)
        let widthCM = value(&t, keys.widthCM)
        let heightCM = value(&t, keys.heightCM)
        let distance = value(&t, keys.distance)
        finish(t)
        guard let width, let height, let widthCM, let heightCM, let distance else { return nil }
        do {
            return try BoardGeometry(
                width: width, height: height, physicalWidthMillimetres: widthCM * 10,
                physicalHeightMillimetres: heightCM * 10, viewingDistanceMetres: distance)
        } catch {
            problem(t.path, at: t.node, "\(error)")
            return nil
        }
    }

    // MARK: journal, control, watchdog, log

    mutating func readJournal(_ top: inout Table, lane: LaneID?) -> LaneConfiguration.JournalSection? {
        guard var t = section(&top, "journal") else { return nil }
        let file = value(&t, K.journalPath, lane: lane)
        let days = value(&t, K.retentionDays)
        finish(t)
        guard let file, let days else { return nil }
        return .init(path: file, retentionDays: days)
    }

    mutating func readControl(_ top: inout Table, lane: LaneID?) -> LaneConfiguration.ControlSection? {
        guard var t = section(&top, "control") else { return nil }
        let socket = value(&t, K.controlSocket, lane: lane)
        let allow = value(&t, K.allowVirtualInputs)
        finish(t)
        guard let socket, let allow else { return nil }
        return .init(socket: socket, allowVirtualInputs: allow)
    }

    mutating func readWatchdog(_ top: inout Table) -> LaneConfiguration.WatchdogSection? {
        guard var t = section(&top, "watchdog") else { return nil }
        let enabled = value(&t, K.watchdogEnabled)
        let interval = value(&t, K.watchdogInterval)
        finish(t)
        guard let enabled, !t.has("interval") || interval != nil else { return nil }
        return .init(enabled: enabled, interval: interval)
    }

    mutating func readLog(_ top: inout Table) -> LaneConfiguration.LogSection? {
        guard var t = section(&top, "log") else { return nil }
        let level = value(&t, K.logLevel)
        finish(t)
        return level.map { .init(level: $0) }
    }
}
