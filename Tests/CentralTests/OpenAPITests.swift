import AnyJSON
import CargoStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RoadCargo
import Synchronization
import Testing

@testable import Central

/// Keeps `docs/openapi.yaml` true: the served and documented routes are the
/// same set, and a walk that calls every documented operation gets only
/// documented statuses, content types and body shapes.
@Suite struct OpenAPITests {
    @Test func everyServedRouteIsDocumentedAndEveryDocumentedRouteIsServed() async throws {
        let doc = try OpenAPIDocument.load()
        let h = try await Harness()
        let served = Set(h.central.buildRouter().routes.map { "\($0.method.rawValue) \($0.path)" })
        #expect(served.count == 27)
        #expect(served.subtracting(doc.operations).sorted() == [], "served but not documented")
        #expect(doc.operations.subtracting(served).sorted() == [], "documented but not served")
    }

    @Test func everyOperationDocumentsItsFailures() throws {
        let doc = try OpenAPIDocument.load()
        for op in doc.operations {
            let parts = op.split(separator: " ")
            let operation = doc.operation(String(parts[0]), String(parts[1]))!
            let statuses = Set((operation["responses"] as? [String: Any] ?? [:]).keys)
            let open = (operation["security"] as? [Any])?.isEmpty == true
            if !open { #expect(statuses.contains("401"), "\(op) must document 401") }
            if operation["requestBody"] != nil {
                for s in ["400", "413", "415", "422"] {
                    #expect(statuses.contains(s), "\(op) must document \(s)")
                }
            }
            if parts[1].contains("{") {
                #expect(
                    statuses.contains("422") && statuses.contains("404")
                        || parts[1].hasPrefix("/v1/lanes/") && parts[0] == "PUT",
                    "\(op) must document 404 and 422")
            }
        }
    }

    @Test func theCheckerCatchesAMismatch() throws {
        let doc = try OpenAPIDocument.load()
        let schema = ["$ref": "#/components/schemas/Clock"]
        let good = JSONValue.object(["now": .string("2026-11-26T09:00:00+08:00"), "simulated": .bool(true)])
        #expect(doc.violations(of: good, against: schema) == [])
        let extra = JSONValue.object([
            "now": .string("2026-11-26T09:00:00Z"), "simulated": .integer(1), "x": .null,
        ])
        #expect(doc.violations(of: extra, against: schema).count == 3)
    }

    /// One call per documented operation (and a few failures), each response
    /// checked against the document.
    @Test func aWalkThroughEveryOperationMatchesTheDocument() async throws {
        let doc = try OpenAPIDocument.load()
        let h = try await Harness()
        let seeded = try await h.store.submitConsignment(
            try SubmissionBodyFixture.submission(h), by: Account(name: "shipper", role: .shipper),
            at: h.clock.now())
        let batch = BatchXML.document([try SubmissionBodyFixture.submission(h)])
        let walk = Walk(doc: doc)
        try await h.app().test(.router) { client in
            func call(
                _ method: HTTPRequest.Method, _ template: String, _ uri: String, as who: String?,
                body: ByteBuffer? = nil, contentType: String = "application/json"
            ) async throws -> JSONValue? {
                var headers: HTTPFields = [:]
                if let who { headers[.authorization] = "Bearer \(h.tokens[who]!)" }
                if body != nil { headers[.contentType] = contentType }
                let r = try await client.execute(uri: uri, method: method, headers: headers, body: body)
                return walk.check(method.rawValue, template, r)
            }
            let ccrn = "/v1/consignments/{ccrn}"
            _ = try await call(.get, "/v1/health", "/v1/health", as: nil)
            let created = try await call(
                .post, "/v1/consignments", "/v1/consignments", as: "shipper", body: buffer(h.submission()))
            guard case .object(let c)? = created, case .string(let newCCRN)? = c["ccrn"] else {
                Issue.record("no CCRN")
                return
            }
            _ = try await call(
                .post, "/v1/consignments", "/v1/consignments", as: "shipper", body: buffer("{"))
            _ = try await call(
                .post, "/v1/consignments", "/v1/consignments", as: "shipper", body: buffer(["x": 1]))
            _ = try await call(
                .post, "/v1/consignments", "/v1/consignments", as: "driver", body: buffer(h.submission()))
            _ = try await call(
                .post, "/v1/consignments", "/v1/consignments", as: nil, body: buffer(h.submission()))
            _ = try await call(
                .post, "/v1/consignments/batch", "/v1/consignments/batch", as: "shipper",
                body: ByteBuffer(bytes: batch),
                contentType: "application/xml")
            _ = try await call(.get, ccrn, "/v1/consignments/\(newCCRN)", as: "shipper")
            _ = try await call(.get, ccrn, "/v1/consignments/1234567890", as: "shipper")
            _ = try await call(.get, ccrn, "/v1/consignments/\(CCRN(payload: 9).value)", as: "shipper")
            _ = try await call(
                .put, ccrn, "/v1/consignments/\(newCCRN)", as: "shipper",
                body: buffer(h.submission(daysAhead: 4)))
            _ = try await call(
                .post, "\(ccrn)/withdraw", "/v1/consignments/\(newCCRN)/withdraw", as: "shipper")
            _ = try await call(
                .post, "\(ccrn)/withdraw", "/v1/consignments/\(newCCRN)/withdraw", as: "shipper")

            let bundleBody = buffer([
                "driverName": "Ho", "vrn": "AB12", "direction": "import", "ccrns": [seeded.ccrn.value],
            ])
            let bundle = try await call(.post, "/v1/bundles", "/v1/bundles", as: "driver", body: bundleBody)
            guard case .object(let b)? = bundle, case .string(let ubr)? = b["ubr"] else {
                Issue.record("no UBR")
                return
            }
            _ = try await call(.post, "/v1/bundles", "/v1/bundles", as: "driver", body: bundleBody)
            _ = try await call(.get, "/v1/bundles", "/v1/bundles?vrn=AB12", as: "driver")
            _ = try await call(.get, "/v1/bundles", "/v1/bundles", as: "driver")
            _ = try await call(.get, "/v1/bundles/{ubr}", "/v1/bundles/\(ubr)", as: "officer")
            _ = try await call(
                .post, "/v1/decisions/dry-run", "/v1/decisions/dry-run", as: "officer",
                body: buffer(["laneId": "LMC-IN-01", "vrn": "AB12", "unladen": false]))
            _ = try await call(
                .post, "/v1/bundles/{ubr}/debundle", "/v1/bundles/\(ubr)/debundle", as: "driver2")
            _ = try await call(
                .post, "/v1/bundles/{ubr}/debundle", "/v1/bundles/\(ubr)/debundle", as: "driver")
            _ = try await call(
                .post, "/v1/bundles/{ubr}/debundle", "/v1/bundles/\(ubr)/debundle", as: "driver")

            _ = try await call(.get, "/v1/watchlist", "/v1/watchlist", as: "officer")
            let watch = try await call(
                .post, "/v1/watchlist", "/v1/watchlist", as: "officer",
                body: buffer(["kind": "vrn", "value": "AB12"]))
            guard case .object(let w)? = watch, case .integer(let id)? = w["id"] else {
                Issue.record("no watch id")
                return
            }
            _ = try await call(.delete, "/v1/watchlist/{id}", "/v1/watchlist/\(id)", as: "officer")
            _ = try await call(.delete, "/v1/watchlist/{id}", "/v1/watchlist/x", as: "officer")

            _ = try await call(.get, "/v1/lanes", "/v1/lanes", as: "driver")
            _ = try await call(
                .put, "/v1/lanes/{laneId}", "/v1/lanes/T-1", as: "officer",
                body: buffer(["controlPoint": "STK", "direction": "export"]))
            _ = try await call(.get, "/v1/lanes/{laneId}", "/v1/lanes/T-1", as: "driver")
            // Without the lane link the sending routes answer 409;
            // LaneLinkRouteTests walks their 202s with a link.
            _ = try await call(
                .post, "/v1/lanes/{laneId}/arrivals", "/v1/lanes/T-1/arrivals", as: "officer",
                body: buffer(["vrn": "AB12"]))
            _ = try await call(
                .post, "/v1/lanes/{laneId}/commands", "/v1/lanes/T-1/commands", as: "officer",
                body: buffer(["command": "open"]))
            _ = try await call(
                .post, "/v1/lanes/{laneId}/bundle-cache", "/v1/lanes/T-1/bundle-cache", as: "officer")
            _ = try await call(
                .get, "/v1/lanes/{laneId}/events", "/v1/lanes/T-1/events?limit=5", as: "officer")
            _ = try await call(.delete, "/v1/lanes/{laneId}", "/v1/lanes/T-1", as: "officer")
            _ = try await call(.get, "/v1/lanes/{laneId}", "/v1/lanes/T-1", as: "driver")

            let conflict = try await h.store.applyOfflineCrossing(
                OfflineCrossing(
                    passageID: 1, requestID: 1, vrn: try VRN("AB12"), arrivedAt: h.clock.now(),
                    unladenPressed: false, decidedAt: h.clock.now(),
                    decision: Decision(
                        instruction: .cleared, reason: .bundleOK, notes: [.offline], ubr: UBR(payload: 5)),
                    cacheVersion: CacheVersion(generation: 1, sequence: 0)),
                lane: Lane(id: try LaneID("LMC-IN-01"), controlPoint: .lokMaChau, direction: .inbound),
                claimant: "passage:LMC-IN-01:1", receivedAt: h.clock.now())
            let reconciliation = "/v1/reconciliation"
            let acknowledge = "/v1/reconciliation/{id}/acknowledge"
            _ = try await call(.get, reconciliation, "/v1/reconciliation", as: "officer")
            _ = try await call(
                .get, reconciliation, "/v1/reconciliation?all=true&lane=LMC-IN-01", as: "officer")
            _ = try await call(.get, reconciliation, "/v1/reconciliation?limit=0", as: "officer")
            _ = try await call(.get, reconciliation, "/v1/reconciliation?lane=LMC-IN-09", as: "officer")
            _ = try await call(.get, reconciliation, "/v1/reconciliation", as: "driver")
            _ = try await call(
                .post, acknowledge, "/v1/reconciliation/\(conflict.id)/acknowledge", as: "officer",
                body: buffer(["note": "seen"]))
            _ = try await call(
                .post, acknowledge, "/v1/reconciliation/\(conflict.id)/acknowledge", as: "officer")
            _ = try await call(.post, acknowledge, "/v1/reconciliation/77/acknowledge", as: "officer")
            _ = try await call(
                .post, acknowledge, "/v1/reconciliation/x/acknowledge", as: "officer", body: buffer("{"))

            _ = try await call(.get, "/v1/clock", "/v1/clock", as: "agent")
            _ = try await call(
                .put, "/v1/clock", "/v1/clock", as: "officer",
                body: buffer(["now": "2026-11-27T00:00:00+08:00"]))
            _ = try await call(
                .post, "/v1/clock/advance", "/v1/clock/advance", as: "officer", body: buffer(["seconds": 60]))
            _ = try await call(
                .post, "/v1/clock/advance", "/v1/clock/advance", as: "officer",
                body: buffer(["seconds": 1e12]))
        }
        #expect(walk.violations.withLock { $0 } == [])
        let covered = walk.covered.withLock { $0 }
        #expect(doc.operations.subtracting(covered).sorted() == [], "operations the walk never called")
    }
}

/// Collects what the walk saw.
final class Walk: Sendable {
    let doc: OpenAPIDocumentBox
    let violations = Mutex<[String]>([])
    let covered = Mutex<Set<String>>([])

    init(doc: OpenAPIDocument) { self.doc = OpenAPIDocumentBox(doc) }

    func check(_ method: String, _ template: String, _ r: TestResponse) -> JSONValue? {
        let doc = doc.value
        let op = "\(method) \(template)"
        let status = Int(r.status.code)
        covered.withLock { _ = $0.insert(op) }
        func fail(_ what: String) { violations.withLock { $0.append("\(op) -> \(status): \(what)") } }
        guard let documented = doc.response(method, template, status: status) else {
            fail("status not documented")
            return nil
        }
        let body = Data(r.body.readableBytesView)
        guard let content = documented["content"] as? [String: Any] else {
            if !body.isEmpty { fail("undocumented body") }
            return nil
        }
        let type = r.headers[.contentType] ?? ""
        guard let media = content[type] as? [String: Any], let schema = media["schema"] as? [String: Any]
        else {
            fail("content type \(type) not documented")
            return nil
        }
        for (name, header) in documented["headers"] as? [String: Any] ?? [:] {
            let h = doc.resolve(header as? [String: Any] ?? [:])
            if h["required"] as? Bool == true, r.headers[HTTPField.Name(name)!] == nil {
                fail("header \(name) missing")
            }
        }
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: body) else {
            fail("body is not JSON")
            return nil
        }
        for v in doc.violations(of: value, against: schema) { fail(v) }
        return value
    }
}

/// The parsed YAML is plain values never mutated after loading.
struct OpenAPIDocumentBox: @unchecked Sendable {
    let value: OpenAPIDocument
    init(_ value: OpenAPIDocument) { self.value = value }
}
