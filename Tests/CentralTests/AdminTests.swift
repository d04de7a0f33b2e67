import CargoStore
import Central
import Foundation
import Hummingbird
import HummingbirdTesting
import RoadCargo
import Testing

/// Watch list, lanes and batch upload through the API.
@Suite struct AdminTests {
    @Test func watchListTargetsABundle() async throws {
        let h = try await Harness()
        let c = try await h.store.submitConsignment(
            try SubmissionBodyFixture.submission(h), by: Account(name: "shipper", role: .shipper),
            at: h.clock.now())
        _ = try await h.store.createBundle(
            BundleRequest(driverName: "Ho", vrn: try VRN("AB1"), direction: .inbound, ccrns: [c.ccrn]),
            by: Account(name: "driver", role: .driver), at: h.clock.now())
        h.clock.advance(by: 3600)
        try await h.app().test(.router) { client in
            let id = try await client.execute(
                uri: "/v1/watchlist", method: .post, headers: h.auth("officer"),
                body: buffer(["kind": "consignee", "value": "winning  co ltd", "note": "tip-off"])
            ) { r throws in
                #expect(r.status == .created)
                let o = try object(r)
                #expect(o["value"] as? String == "WINNING CO LTD")
                return o["id"] as! Int
            }
            let lane: [String: Any] = ["id": "SBC-IN-09", "controlPoint": "SBC", "direction": "import"]
            try await client.execute(
                uri: "/v1/decisions/dry-run", method: .post, headers: h.auth("officer"),
                body: buffer(["lane": lane, "vrn": "AB1", "unladen": false])
            ) { r throws in
                let o = try object(r)
                #expect(o["reason"] as? String == "TARGETED")
                #expect(o["ccrns"] as? [String] == [c.ccrn.value])
            }
            try await client.execute(uri: "/v1/watchlist/\(id)", method: .delete, headers: h.auth("officer"))
            { r throws in
                #expect(r.status == .noContent)
            }
            try await client.execute(uri: "/v1/watchlist/\(id)", method: .delete, headers: h.auth("officer"))
            { r throws in
                #expect(r.status == .notFound)
            }
            try await client.execute(
                uri: "/v1/watchlist", method: .post, headers: h.auth("officer"),
                body: buffer(["kind": "ccrn", "value": "1234567890"])
            ) { r throws in
                #expect(r.status == .unprocessableContent)
                #expect(try issues(r).map(\.field) == ["value"])
            }
            try await client.execute(
                uri: "/v1/decisions/dry-run", method: .post, headers: h.auth("officer"),
                body: buffer(["laneId": "NOPE", "vrn": "AB1", "unladen": false])
            ) { r throws in
                #expect(try issues(r).map(\.rule) == ["lane.unknown"])
            }
        }
    }

    @Test func lanesCRUD() async throws {
        let h = try await Harness()
        try await h.app().test(.router) { client in
            let body = buffer(["controlPoint": "MKT", "direction": "export"])
            try await client.execute(
                uri: "/v1/lanes/MKT-OUT-1", method: .put, headers: h.auth("officer"), body: body
            ) { r throws in
                #expect(r.status == .created)
            }
            try await client.execute(
                uri: "/v1/lanes/MKT-OUT-1", method: .put, headers: h.auth("officer"), body: body
            ) { r throws in
                #expect(r.status == .ok)
            }
            try await client.execute(uri: "/v1/lanes", method: .get, headers: h.auth("driver")) { r throws in
                #expect(try (object(r)["items"] as? [Any])?.count == 2)
            }
            try await client.execute(uri: "/v1/lanes/MKT-OUT-1", method: .delete, headers: h.auth("officer"))
            { r throws in
                #expect(r.status == .noContent)
            }
            try await client.execute(uri: "/v1/lanes/MKT-OUT-1", method: .get, headers: h.auth("officer")) {
                r throws in
                #expect(r.status == .notFound)
            }
        }
    }

    @Test func batchUploadReportsEveryRecord() async throws {
        let h = try await Harness()
        let good = try SubmissionBodyFixture.submission(h)
        var late = good
        late.expectedDate = late.expectedDate.advanced(by: 30)
        late.senderReference = "LATE"
        let xml = BatchXML.document([good, late, good])
        try await h.app().test(.router) { client in
            var headers = h.auth("shipper", json: false)
            headers[.contentType] = "application/xml"
            try await client.execute(
                uri: "/v1/consignments/batch", method: .post, headers: headers, body: ByteBuffer(bytes: xml)
            ) { r throws in
                #expect(r.status == .ok)
                let o = try object(r)
                #expect(o["accepted"] as? Int == 2)
                #expect(o["refused"] as? Int == 1)
                let records = o["records"] as! [[String: Any]]
                #expect(records.map { $0["outcome"] as? String } == ["accepted", "refused", "accepted"])
                #expect(records[1]["senderReference"] as? String == "LATE")
                #expect(
                    (records[1]["errors"] as? [[String: Any]])?.first?["field"] as? String == "expectedDate")
            }
            let thousand = BatchXML.document(Array(repeating: good, count: 1000))
            try await client.execute(
                uri: "/v1/consignments/batch", method: .post, headers: headers,
                body: ByteBuffer(bytes: thousand)
            ) { r throws in
                #expect(r.status == .unprocessableContent)
                #expect(try issues(r).map(\.rule) == ["batch.too-many"])
            }
            try await client.execute(
                uri: "/v1/consignments/batch", method: .post, headers: headers,
                body: buffer("<consignmentBatch")
            ) { r throws in
                #expect(r.status == .unprocessableContent)
            }
        }
    }
}
