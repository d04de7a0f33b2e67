import AnyJSON
import Foundation
import LaneControl

/// The human forms of laned's answers. Members a table does not know are
/// left out (`--json` shows them); members it knows but finds missing show
/// as `-`, so a partial answer still prints.
enum LaneTables {
    static func status(_ status: JSONValue) -> String {
        func field(_ key: String) -> String {
            let text = status[key]?.text ?? ""
            return text.isEmpty ? "-" : text
        }
        var lane = field("lane")
        let place = [status["control_point"]?.text, status["direction"]?.text].compactMap { $0 }
            .filter { !$0.isEmpty }
        if !place.isEmpty { lane += " (\(place.joined(separator: ", ")))" }

        var state: [String] = []
        if let open = status["open"]?.bool { state.append(open ? "open" : "closed") }
        if let offline = status["offline"]?.bool {
            state.append(offline ? "OFFLINE (deciding from the bundle cache)" : "online")
        }
        if let link = status["link"]?.text, !link.isEmpty { state.append("link \(link)") }

        var vehicle = "none"
        if let vrn = status["vrn"]?.text, !vrn.isEmpty {
            vehicle = vrn
            if let request = status["pending_request_id"]?.text, !request.isEmpty {
                vehicle += ", waiting for decision (request \(request))"
            }
        }

        var decision = "none"
        if let last = status["last_decision"], last.object != nil {
            decision = [last["instruction"]?.text, last["reason"]?.text].compactMap { $0 }
                .filter { !$0.isEmpty }.joined(separator: " ")
            var about: [String] = []
            if let id = last["decision_id"]?.text, !id.isEmpty { about.append("decision \(id)") }
            if let at = last["at"]?.string { about.append(shownTime(at)) }
            if !about.isEmpty { decision += " (\(about.joined(separator: ", ")))" }
        }

        let faults = status["faults"]?.array ?? []
        let outbox = status["outbox_pending"]?.integer.map { "\($0) waiting for central" } ?? "-"
        var rows: [[String]] = [
            ["lane", lane],
            ["state", state.isEmpty ? "-" : state.joined(separator: ", ")],
        ]
        // The node the link is up to; absent while it is down, and from
        // laned before issue 16.
        if let central = status["central"]?.text, !central.isEmpty { rows.append(["central", central]) }
        rows += [
            ["boards", "XDB \(field("xdb")), AIOP \(field("aiop"))"],
            ["phase", field("phase")],
            ["vehicle", vehicle],
            ["decision", decision],
            ["help", field("help")],
            ["faults", faults.isEmpty ? "none" : faultText(faults[0])],
        ]
        rows += faults.dropFirst().map { ["", faultText($0)] }
        rows.append(["outbox", outbox])
        // Offline decisions central has not yet acknowledged: until it has,
        // their bundles are not used at central (docs/store.md, "Offline
        // crossings and reconciliation"). Older laned versions omit it.
        if let unreconciled = status["offline_unreconciled"]?.integer {
            rows.append([
                "offline",
                unreconciled == 1
                    ? "1 offline crossing not yet reconciled by central"
                    : "\(unreconciled) offline crossings not yet reconciled by central",
            ])
        }
        rows.append(["now", status["now"]?.string.map(shownTime) ?? "-"])
        return table(rows)
    }

    /// A fault as laned describes it: a sentence, or an object whose
    /// `message` (or `detail`) is the sentence.
    static func faultText(_ fault: JSONValue) -> String {
        fault["message"]?.string ?? fault["detail"]?.string ?? fault.text
    }

    /// Fixed widths, so rows printed later by --follow line up with the header.
    static let journalWidths = [7, 24, 20, 9]

    static var journalHeader: String {
        row(["SEQ", "TIME", "KIND", "VRN", "WHAT"], widths: journalWidths)
    }

    static func journalRow(_ entry: JSONValue) -> String {
        var what: [String] = []
        let instruction = [entry["instruction"]?.text, entry["reason"]?.text].compactMap { $0 }
            .filter { !$0.isEmpty }.joined(separator: " ")
        if !instruction.isEmpty { what.append(instruction) }
        if let id = entry["decision_id"]?.text, !id.isEmpty { what.append("decision \(id)") }
        if let id = entry["request_id"]?.text, !id.isEmpty { what.append("request \(id)") }
        if let officer = entry["officer"]?.text, !officer.isEmpty { what.append("officer \(officer)") }
        if let detail = entry["detail"]?.text, !detail.isEmpty { what.append(detail) }
        return row(
            [
                entry["seq"]?.text ?? "-", entry["at"]?.string.map(shownTime) ?? "-",
                entry["kind"]?.text ?? "-",
                entry["vrn"]?.text ?? "", what.joined(separator: ", "),
            ], widths: journalWidths)
    }

    /// Hong Kong times as people read them at the lane: the `+08:00` every
    /// time carries goes, the `T` becomes a space. Any other offset stays, so
    /// a lane with a wrong clock zone shows it.
    static func shownTime(_ iso: String) -> String {
        guard iso.hasSuffix("+08:00") else { return iso }
        return String(iso.dropLast(6)).replacingOccurrences(of: "T", with: " ")
    }

    /// Columns sized to their widest cell, two spaces apart; the last column is not padded.
    static func table(_ rows: [[String]]) -> String {
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<max(columns - 1, 0)).map { column in
            rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0
        }
        return rows.map { row($0, widths: widths.map { $0 + 2 }) }.joined(separator: "\n")
    }

    static func row(_ cells: [String], widths: [Int]) -> String {
        var line = ""
        for (index, cell) in cells.enumerated() {
            if index < widths.count && index < cells.count - 1 {
                let width = max(widths[index], cell.count + 1)
                line += cell.padding(toLength: width, withPad: " ", startingAt: 0)
            } else {
                line += cell
            }
        }
        while line.hasSuffix(" ") { line.removeLast() }
        return line
    }
}
