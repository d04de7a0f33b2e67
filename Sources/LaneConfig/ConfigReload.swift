import BoardLayout
import Foundation
import RoadCargo

extension LaneConfiguration {
    /// Keys SIGHUP applies to a running lane; every other key needs a restart.
    /// They are read afresh where they are used: the state machine's timings,
    /// the log level, the retention run, the AIOP's default language and the
    /// control socket's check.
    public static let reloadableKeys: Set<String> = [
        "decision.timeout", "decision.unladen_grace", "log.level", "journal.retention_days",
        "displays.default_language", "control.allow_virtual_inputs",
    ]

    /// What a reload from this config to `new` changes: the keys SIGHUP
    /// applies, and the keys that differ but only take effect after a
    /// restart (laned logs those and keeps running on the old values).
    public func reloadable(from new: LaneConfiguration) -> (changed: [String], needsRestart: [String]) {
        let old = Dictionary(uniqueKeysWithValues: flattened)
        var changed: [String] = []
        var needsRestart: [String] = []
        for (key, value) in new.flattened where old[key] != value {
            if Self.reloadableKeys.contains(key) { changed.append(key) } else { needsRestart.append(key) }
        }
        // A key only one side has (an optional one added or removed).
        for (key, _) in flattened where !new.flattened.contains(where: { $0.key == key }) {
            needsRestart.append(key)
        }
        return (changed, needsRestart)
    }

    /// Every key with its value as a config file writes it, in file order,
    /// defaults included: for comparing configs and for logging the one in use.
    public var flattened: [(key: String, value: String)] {
        var out: [(key: String, value: String)] = []
        func add(_ key: String, _ value: (any CustomStringConvertible)?) {
            if let value { out.append((key, "\(value)")) }
        }
        func duration(_ d: Duration?) -> String? { d.map(ConfigDuration.format) }
        func serial(_ prefix: String, _ s: SerialLine) {
            add("\(prefix).device", s.device)
            add("\(prefix).baud", s.baud)
            add("\(prefix).parity", s.parity.rawValue)
            add("\(prefix).data_bits", s.dataBits)
            add("\(prefix).stop_bits", s.stopBits)
            add("\(prefix).flow", s.flow.rawValue)
        }
        func geometry(_ prefix: String, _ g: BoardGeometry) {
            add("\(prefix).width_px", g.width)
            add("\(prefix).height_px", g.height)
            add("\(prefix).width_cm", g.physicalWidthMillimetres / 10)
            add("\(prefix).height_cm", g.physicalHeightMillimetres / 10)
            add("\(prefix).viewing_distance_m", g.viewingDistanceMetres)
        }
        add("lane.id", lane.id)
        add("lane.control_point", lane.controlPoint.rawValue)
        add("lane.direction", lane.direction.rawValue)
        add("decision.timeout", duration(decision.timeout))
        add("decision.unladen_grace", duration(decision.unladenGrace))
        add("offline.phase", offline.phase.rawValue)
        add("offline.laden_rate", offline.ladenRate)
        add("offline.unladen_rate", offline.unladenRate)
        add("offline.selection_key_file", offline.selectionKeyFile)
        switch link.transport {
        case .tcp(let host, let port):
            add("link.tcp.host", host)
            add("link.tcp.port", port)
        case .serial(let s):
            serial("link.serial", s)
        }
        add("link.key_file", link.keyFile)
        add("link.heartbeat", duration(link.heartbeat))
        add("link.dead_after", duration(link.deadAfter))
        add("gpio.backend", gpio.backend.rawValue)
        add("gpio.chip", gpio.chip)
        add("gpio.lines.unladen", gpio.unladen)
        add("gpio.lines.help", gpio.help)
        add("gpio.lines.exit_loop", gpio.exitLoop)
        add("gpio.bias", gpio.bias.rawValue)
        add("gpio.active_low", gpio.activeLow)
        add("gpio.debounce", duration(gpio.debounce))
        add("gpio.stuck_after", duration(gpio.stuckAfter))
        add("gpio.lamps.unladen", gpio.unladenLamp)
        add("gpio.lamps.help", gpio.helpLamp)
        switch reader {
        case nil: break
        case .serial(let s): serial("reader.serial", s)
        case .tcpListen(let host, let port):
            add("reader.tcp.listen.host", host)
            add("reader.tcp.listen.port", port)
        case .tcpConnect(let host, let port):
            add("reader.tcp.connect.host", host)
            add("reader.tcp.connect.port", port)
        }
        if let intercom {
            // As a YAML flow list, the form the file gives it in.
            func list(_ items: [String]) -> String { "[\(items.joined(separator: ", "))]" }
            switch intercom.voice {
            case .command(let command):
                add("intercom.command", list(command))
            case .sip(let uri, let client):
                add("intercom.sip_uri", uri)
                add("intercom.sip_client", list(client))
            }
            add("intercom.timeout", duration(intercom.timeout))
        }
        add("displays.backend", displays.backend.rawValue)
        geometry("displays.xdb", displays.xdb)
        geometry("displays.aiop", displays.aiop)
        add("displays.font", displays.font)
        add("displays.output_dir", displays.outputDirectory)
        add("displays.default_language", displays.defaultLanguage.rawValue)
        add("journal.path", journal.path)
        add("journal.retention_days", journal.retentionDays)
        add("control.socket", control.socket)
        add("control.allow_virtual_inputs", control.allowVirtualInputs)
        add("watchdog.enabled", watchdog.enabled)
        add("watchdog.interval", duration(watchdog.interval))
        add("log.level", log.level.rawValue)
        return out
    }
}
