import AnyJSON
import Foundation
import LaneControl

/// The human forms of clearanced's answers (schemas in docs/openapi.yaml).
enum CentralTables {
    static func time(_ value: JSONValue?) -> String {
        value?.string.map(LaneTables.shownTime) ?? "-"
    }

    private static func party(_ value: JSONValue?) -> String {
        guard let value, let name = value["name"]?.string else { return "-" }
        return value["countryCode"]?.string.map { "\(name) (\($0))" } ?? name
    }

    static func consignment(_ consignment: JSONValue) -> String {
        let submission = consignment["submission"]
        var direction = submission?["direction"]?.text ?? "-"
        if let date = submission?["expectedDate"]?.string { direction += ", expected \(date)" }
        if let point = submission?["expectedControlPoint"]?.string { direction += " at \(point)" }
        let items = submission?["goodsItems"]?.array ?? []
        var goods = items.count == 1 ? "1 item" : "\(items.count) items"
        let descriptions = items.compactMap { $0["description"]?.string }
        if !descriptions.isEmpty {
            goods +=
                ": " + descriptions.prefix(3).joined(separator: "; ")
                + (descriptions.count > 3 ? "; ..." : "")
        }
        var submitted = time(consignment["submittedAt"])
        if let by = consignment["submittedBy"]?.string { submitted += " by \(by)" }
        var rows: [[String]] = [
            ["CCRN", consignment["ccrn"]?.text ?? "-"],
            ["status", consignment["status"]?.text ?? "-"],
            ["valid until", consignment["validUntil"]?.text ?? "-"],
            ["direction", direction],
            ["consignor", party(submission?["consignor"])],
            ["consignee", party(submission?["consignee"])],
            ["goods", goods],
            ["submitted", submitted],
        ]
        if consignment["amendedAt"] != nil { rows.append(["amended", time(consignment["amendedAt"])]) }
        if let ubr = consignment["bundledIn"]?.string { rows.append(["bundled in", "UBR \(ubr)"]) }
        return LaneTables.table(rows)
    }

    static func bundle(_ bundle: JSONValue) -> String {
        var vehicle = [bundle["vrn"]?.text, bundle["direction"]?.text].compactMap { $0 }.joined(
            separator: ", ")
        if let point = bundle["expectedControlPoint"]?.string { vehicle += " at \(point)" }
        var driver = bundle["driverName"]?.text ?? "-"
        if let account = bundle["driverAccount"]?.string { driver += " (account \(account))" }
        let ccrns = bundle["ccrns"]?.array?.map(\.text) ?? []
        var rows: [[String]] = [
            ["UBR", bundle["ubr"]?.text ?? "-"],
            ["status", bundle["status"]?.text ?? "-"],
            ["vehicle", vehicle.isEmpty ? "-" : vehicle],
            ["driver", driver],
            ["CCRNs", ccrns.isEmpty ? "-" : ccrns.joined(separator: " ")],
            ["completed", time(bundle["completedAt"])],
            ["may cross from", time(bundle["earliestCrossing"])],
        ]
        if bundle["endedAt"] != nil { rows.append(["ended", time(bundle["endedAt"])]) }
        return LaneTables.table(rows)
    }

    static func bundles(_ list: JSONValue, vrn: String) -> String {
        let items = list["items"]?.array ?? []
        guard !items.isEmpty else { return "no bundles for \(vrn)" }
        let rows =
            [["UBR", "STATUS", "DIRECTION", "COMPLETED", "MAY CROSS FROM", "CCRNS"]]
            + items.map { bundle in
                [
                    bundle["ubr"]?.text ?? "-", bundle["status"]?.text ?? "-",
                    bundle["direction"]?.text ?? "-",
                    time(bundle["completedAt"]), time(bundle["earliestCrossing"]),
                    (bundle["ccrns"]?.array ?? []).map(\.text).joined(separator: " "),
                ]
            }
        return LaneTables.table(rows)
    }

    static func batch(_ result: JSONValue) -> String {
        let records = result["records"]?.array ?? []
        var rows = [["#", "REFERENCE", "OUTCOME", "CCRN", "VALID UNTIL"]]
        var lines: [String] = []
        for record in records {
            rows.append([
                record["index"]?.text ?? "-", record["senderReference"]?.text ?? "",
                record["outcome"]?.text ?? "-",
                record["ccrn"]?.text ?? "", record["validUntil"]?.text ?? "",
            ])
        }
        let table = LaneTables.table(rows).split(separator: "\n", omittingEmptySubsequences: false).map(
            String.init)
        // Each refused record's issues go under its row, indented, so the
        // reasons stay beside the record they belong to.
        for (index, line) in table.enumerated() {
            lines.append(line)
            guard index > 0 else { continue }
            for issue in records[index - 1]["errors"]?.array ?? [] {
                let field = issue["field"]?.text ?? ""
                let rule = issue["rule"]?.text ?? ""
                lines.append(
                    "    " + (field.isEmpty ? "" : "\(field): ") + (issue["detail"]?.text ?? "")
                        + (rule.isEmpty ? "" : " [\(rule)]"))
            }
        }
        let accepted = result["accepted"]?.text ?? "?"
        let refused = result["refused"]?.text ?? "?"
        lines.append("\(records.count) records: \(accepted) accepted, \(refused) refused")
        return lines.joined(separator: "\n")
    }
}

extension CentralTables {
    /// `GET /v1/reconciliation`: a row per crossing, a conflict's sentence
    /// under its row, then each lane's counts.
    static func reconciliation(_ list: JSONValue, all: Bool) -> String {
        let items = list["items"]?.array ?? []
        var lines: [String] = []
        if items.isEmpty {
            lines.append(all ? "no offline crossings" : "no open reconciliation conflicts")
        } else {
            let rows =
                [["ID", "LANE", "PASSAGE", "DECIDED", "VRN", "UBR", "DECISION", "OUTCOME"]]
                + items.map { item in
                    [
                        item["id"]?.text ?? "-", item["lane"]?.text ?? "-", item["passageId"]?.text ?? "-",
                        time(item["decidedAt"]), item["vrn"]?.text ?? "-", item["ubr"]?.string ?? "-",
                        [item["instruction"]?.text, item["reason"]?.text].compactMap { $0 }.joined(
                            separator: " "),
                        outcome(item),
                    ]
                }
            let table = LaneTables.table(rows).split(separator: "\n", omittingEmptySubsequences: false)
            for (index, line) in table.enumerated() {
                lines.append(String(line))
                if index > 0, let why = items[index - 1]["conflict"]?.string { lines.append("    \(why)") }
            }
        }
        let lanes = list["lanes"]?.array ?? []
        if !lanes.isEmpty {
            lines.append("")
            lines.append(
                LaneTables.table(
                    [["LANE", "RECEIVED", "APPLIED", "NO BUNDLE", "CONFLICTS", "OPEN"]]
                        + lanes.map { lane in
                            ["lane", "received", "applied", "noBundle", "conflicts", "openConflicts"].map {
                                lane[$0]?.text ?? "-"
                            }
                        }))
        }
        return lines.joined(separator: "\n")
    }

    /// One offline crossing, as `acknowledge` prints it.
    static func offlineCrossing(_ item: JSONValue) -> String {
        var rows: [[String]] = [
            ["id", item["id"]?.text ?? "-"],
            ["lane", item["lane"]?.text ?? "-"],
            ["passage", item["passageId"]?.text ?? "-"],
            ["vehicle", item["vrn"]?.text ?? "-"],
            [
                "decision",
                [item["instruction"]?.text, item["reason"]?.text].compactMap { $0 }.joined(separator: " ")
                    + (item["ubr"]?.string.map { " on UBR \($0)" } ?? ""),
            ],
            ["decided", time(item["decidedAt"])],
            ["received", time(item["receivedAt"])],
            ["outcome", item["outcome"]?.text ?? "-"],
        ]
        if let why = item["conflict"]?.string { rows.append(["conflict", why]) }
        if let by = item["acknowledgedBy"]?.string {
            rows.append(["acknowledged", "\(time(item["acknowledgedAt"])) by \(by)"])
        }
        if let note = item["acknowledgedNote"]?.string { rows.append(["note", note]) }
        return LaneTables.table(rows)
    }

    private static func outcome(_ item: JSONValue) -> String {
        let outcome = item["outcome"]?.text ?? "-"
        guard outcome == "conflict" else { return outcome }
        return item["acknowledgedBy"]?.string.map { "conflict (acknowledged by \($0))" } ?? "CONFLICT (open)"
    }
}
