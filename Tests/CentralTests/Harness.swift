import CargoStore
import Central
import ClearanceCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import RoadCargo
import Testing

/// One in-process clearanced over an in-memory SQLite store and a simulated
/// clock, with an account per role.
struct Harness {
    /// 2026-11-26 09:00:00 Hong Kong.
    static let start = try! HongKongTime.parse("2026-11-26T09:00:00+08:00")

    let store: SQLiteCargoStore
    let clock: SimulatedWallClock
    let central: CentralApp
    var tokens: [String: String] = [:]

    init(clock: (any WallClock)? = nil, ladenRate: Double = 0) async throws {
        store = try SQLiteCargoStore.inMemory()
        let simulated = SimulatedWallClock(Self.start)
        self.clock = simulated
        let selection = SelectionSettings(
            key: Data(repeating: 7, count: 32), ladenRate: ladenRate, unladenRate: 0)
        var logger = Logger(label: "CentralTests")
        logger.logLevel = .critical
        central = CentralApp(
            repository: store, clock: clock ?? simulated,
            policy: DecisionPolicy(phase: .full, selection: selection), logger: logger)
        for (name, role) in [
            ("shipper", AccountRole.shipper), ("agent", .agent), ("driver", .driver), ("driver2", .driver),
            ("officer", .officer), ("shipper2", .shipper),
        ] {
            tokens[name] = try await store.addAccount(Account(name: name, role: role))
        }
        try await store.putLane(
            Lane(id: try LaneID("LMC-IN-01"), controlPoint: .lokMaChau, direction: .inbound))
    }

    func app() -> some ApplicationProtocol {
        central.buildApplication(configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    func auth(_ who: String, json: Bool = true) -> HTTPFields {
        var h: HTTPFields = [.authorization: "Bearer \(tokens[who]!)"]
        if json { h[.contentType] = "application/json" }
        return h
    }

    /// Submits a consignment and bundles it for `vrn` (import) through the
    /// API; the bundle as the API printed it.
    func bundle(_ client: some TestClientProtocol, vrn: String) async throws -> [String: Any] {
        let ccrn = try await client.execute(
            uri: "/v1/consignments", method: .post, headers: auth("shipper"), body: buffer(submission())
        ) { r throws in try object(r)["ccrn"] as! String }
        return try await client.execute(
            uri: "/v1/bundles", method: .post, headers: auth("driver"),
            body: buffer(["driverName": "Ho Kin", "vrn": vrn, "direction": "import", "ccrns": [ccrn]])
        ) { r throws in
            #expect(r.status == .created)
            return try object(r)
        }
    }

    /// A submission body that every rule accepts, expected `daysAhead` after the clock's day.
    func submission(daysAhead: Int = 2, direction: String = "import", extra: [String: Any] = [:]) -> [String:
        Any]
    {
        let day = CalendarDay(containing: clock.now()).advanced(by: daysAhead)
        var body: [String: Any] = [
            "direction": direction,
            "expectedDate": day.description,
            "consignor": [
                "name": "Shenzhen Widgets Ltd", "countryCode": "CN",
                "addressLines": ["1 Shennan Road", "Shenzhen"],
            ],
            "consignee": [
                "name": "Winning Co Ltd", "countryCode": "HK", "addressLines": ["2 Nathan Road", "Kowloon"],
            ],
            "goodsItems": [
                [
                    "description": "plastic widgets", "packaging": ["count": 10, "kind": "CT"],
                    "grossWeight": ["value": 550, "unit": "KGM"],
                ]
            ],
            "senderReference": "REF-1",
        ]
        for (k, v) in extra { body[k] = v }
        return body
    }
}

func buffer(_ object: Any) -> ByteBuffer {
    ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object))
}

func buffer(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

/// The response body as a JSON object.
func object(_ response: TestResponse) throws -> [String: Any] {
    let data = Data(response.body.readableBytesView)
    guard let o = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
        throw CocoaError(.coderReadCorrupt)
    }
    return o
}

/// The `errors` of a problem body as (field, rule) pairs.
func issues(_ response: TestResponse) throws -> [(field: String, rule: String)] {
    let o = try object(response)
    let errors = o["errors"] as? [[String: Any]] ?? []
    return errors.map { ($0["field"] as? String ?? "?", $0["rule"] as? String ?? "?") }
}
