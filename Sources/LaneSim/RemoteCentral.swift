import Central
import Foundation
import RoadCargo

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A clearanced that already runs elsewhere, driven through its HTTP API as
/// shippers, drivers and officers drive it. It must run with
/// `--simulated-clock` (the scenario sets and moves its clock), know the
/// scenario's lanes (`clearanced lane add`), and serve the lane link.
public struct RemoteCentral: Sendable {
    /// Where it is and who the simulation acts as.
    public struct Options: Sendable {
        /// The API, such as `http://127.0.0.1:8080`.
        public var api: URL
        /// Its lane link listener.
        public var linkHost: String
        public var linkPort: Int
        /// The lanes' key files, `LANE.key` (as `clearanced lane add --keys-dir` wrote them).
        public var keysDirectory: String
        /// Bearer tokens (from `clearanced account add`) by role: shipper, driver, officer.
        public var tokens: [String: String]

        public init(
            api: URL, linkHost: String, linkPort: Int, keysDirectory: String, tokens: [String: String]
        ) {
            self.api = api
            self.linkHost = linkHost
            self.linkPort = linkPort
            self.keysDirectory = keysDirectory
            self.tokens = tokens
        }

        /// Reads `role: token` lines (a YAML mapping) from a file.
        public static func tokens(fromFile path: String) throws -> [String: String] {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw RemoteCentralError("cannot read the tokens file \(path)")
            }
            var tokens: [String: String] = [:]
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                let parts = line.split(separator: ":", maxSplits: 1).map {
                    $0.trimmingCharacters(in: .whitespaces)
                }
                if parts.count == 2, !parts[1].isEmpty { tokens[parts[0]] = parts[1] }
            }
            for role in ["shipper", "driver", "officer"] where tokens[role] == nil {
                throw RemoteCentralError("\(path) has no \(role) token; expected lines `\(role): TOKEN`")
            }
            return tokens
        }
    }

    public let options: Options

    public init(options: Options) { self.options = options }

    // MARK: The API

    func call(_ method: String, _ path: String, as role: String, body: [String: Any]? = nil) async throws
        -> [String: Any]
    {
        var request = URLRequest(url: options.api.appendingPathComponent(path))
        request.httpMethod = method
        request.setValue("Bearer \(options.tokens[role] ?? "")", forHTTPHeaderField: "Authorization")
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        guard (200..<300).contains(status) else {
            // RFC 9457 problems say what was wrong.
            let detail =
                object["detail"] as? String ?? object["title"] as? String
                ?? String(decoding: data, as: UTF8.self)
            throw RemoteCentralError("\(method) \(path): \(status) \(detail)")
        }
        return object
    }

    func submission(direction: Direction, day: CalendarDay, consignee: String) -> [String: Any] {
        [
            "direction": direction.rawValue, "expectedDate": day.description,
            "consignor": [
                "name": "Shenzhen Winning Co", "countryCode": "CN", "addressLines": ["1 Shennan Road"],
            ],
            "consignee": ["name": consignee, "countryCode": "HK", "addressLines": ["2 Castle Peak Road"]],
            "goodsItems": [
                [
                    "description": "Plastic toys", "packaging": ["count": 10, "kind": "CT"],
                    "grossWeight": ["value": 550, "unit": "KGM"],
                ]
            ],
        ]
    }

    func submit(direction: Direction, day: CalendarDay, consignee: String) async throws -> Submitted {
        let reply = try await call(
            "POST", "v1/consignments", as: "shipper",
            body: submission(direction: direction, day: day, consignee: consignee))
        guard let ccrn = reply["ccrn"] as? String, let valid = reply["validUntil"] as? String else {
            throw RemoteCentralError("POST v1/consignments: no ccrn or validUntil in the answer")
        }
        return Submitted(ccrn: try CCRN(ccrn), validUntil: valid)
    }

    func amend(_ ccrn: CCRN, direction: Direction, day: CalendarDay, consignee: String) async throws {
        _ = try await call(
            "PUT", "v1/consignments/\(ccrn)", as: "shipper",
            body: submission(direction: direction, day: day, consignee: consignee))
    }

    func consignment(_ ccrn: CCRN) async throws -> [String: Any] {
        try await call("GET", "v1/consignments/\(ccrn)", as: "shipper")
    }

    func bundle(vrn: VRN, direction: Direction, ccrns: [CCRN], controlPoint: ControlPoint?) async throws
        -> Bundled
    {
        var body: [String: Any] = [
            "driverName": "Ho Wa Ping", "vrn": vrn.value, "direction": direction.rawValue,
            "ccrns": ccrns.map(\.description),
        ]
        if let controlPoint { body["expectedControlPoint"] = controlPoint.rawValue }
        let reply = try await call("POST", "v1/bundles", as: "driver", body: body)
        guard let ubr = reply["ubr"] as? String, let earliest = reply["earliestCrossing"] as? String else {
            throw RemoteCentralError("POST v1/bundles: no ubr or earliestCrossing in the answer")
        }
        return Bundled(ubr: try UBR(ubr), earliestCrossing: try HongKongTime.parse(earliest))
    }

    func debundle(_ ubr: UBR) async throws {
        _ = try await call("POST", "v1/bundles/\(ubr)/debundle", as: "driver")
    }

    func watch(_ target: WatchTarget) async throws {
        let (kind, value): (String, String) =
            switch target {
            case .vrn(let v): ("vrn", v.value)
            case .ccrn(let c): ("ccrn", c.description)
            case .consignee(let n): ("consignee", n)
            }
        _ = try await call(
            "POST", "v1/watchlist", as: "officer", body: ["kind": kind, "value": value, "note": "lanesim"])
    }

    func command(_ command: LaneCommand, lane: LaneID) async throws {
        let body: [String: Any] =
            switch command {
            case .open: ["command": "open"]
            case .close: ["command": "close"]
            case .offline(let on): ["command": "offline", "on": on]
            case .override(let requestID, let instruction, let reason, let text):
                [
                    "command": "override", "requestId": String(requestID),
                    "instruction": instruction.rawValue,
                    "reason": reason.rawValue, "text": text,
                ]
            }
        _ = try await call("POST", "v1/lanes/\(lane.value)/commands", as: "officer", body: body)
    }

    func arrival(_ vrn: VRN, lane: LaneID) async throws {
        _ = try await call("POST", "v1/lanes/\(lane.value)/arrivals", as: "officer", body: ["vrn": vrn.value])
    }

    /// Moves central's simulated clock to `date` (never back).
    func setClock(_ date: Date) async throws {
        _ = try await call("PUT", "v1/clock", as: "officer", body: ["now": HongKongTime.iso8601(date)])
    }

    func clock() async throws -> Date {
        let reply = try await call("GET", "v1/clock", as: "officer")
        guard let now = reply["now"] as? String else { throw RemoteCentralError("GET v1/clock: no time") }
        return try HongKongTime.parse(now)
    }
}

/// What central said when a consignment was submitted.
public struct Submitted: Sendable {
    public var ccrn: CCRN
    /// The last Hong Kong day it may cross, as `YYYY-MM-DD`.
    public var validUntil: String
}

/// What central said when a bundle was made.
public struct Bundled: Sendable {
    public var ubr: UBR
    public var earliestCrossing: Date
}

struct RemoteCentralError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = "central: \(description)" }
}
