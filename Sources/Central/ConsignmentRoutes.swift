import CargoStore
import ClearanceCore
import Foundation
import Hummingbird
import RoadCargo

extension CentralApp {
    /// Shippers and agents submit, amend and withdraw; officers may amend and
    /// withdraw any (the store checks ownership).
    func addConsignmentRoutes(to router: Router<CentralContext>) {
        router.post("/v1/consignments") { request, _ in
            let account = try await auth.account(for: request)
            try account.require([.shipper, .agent], to: "submit consignments")
            let body = try await JSONBody.decode(SubmissionBody.self, from: request, limit: limits.jsonBody)
            let submission = try body.domain()
            let stored = try await repository.submitConsignment(submission, by: account, at: clock.now())
            var response = try JSONBody.response(ConsignmentBody(stored), status: .created)
            response.headers[.location] = "/v1/consignments/\(stored.ccrn.value)"
            return response
        }

        router.post("/v1/consignments/batch") { request, _ in
            let account = try await auth.account(for: request)
            try account.require([.shipper, .agent], to: "submit consignments")
            return try JSONBody.response(try await submitBatch(request, by: account))
        }

        router.get("/v1/consignments/{ccrn}") { request, context in
            let account = try await auth.account(for: request)
            let ccrn = try context.parameters.parsed("ccrn") { raw throws(ValidationFailure) in
                try APIParse.reference(CCRN.self, raw)
            }
            let found = try await existing(ccrn)
            guard account.isOfficer || found.submittedBy == account.name else {
                throw Problem(.forbidden, "CCRN \(ccrn) was submitted by another account")
            }
            return try JSONBody.response(ConsignmentBody(found))
        }

        router.put("/v1/consignments/{ccrn}") { request, context in
            let account = try await auth.account(for: request)
            try account.require([.shipper, .agent, .officer], to: "amend consignments")
            let ccrn = try context.parameters.parsed("ccrn") { raw throws(ValidationFailure) in
                try APIParse.reference(CCRN.self, raw)
            }
            let body = try await JSONBody.decode(SubmissionBody.self, from: request, limit: limits.jsonBody)
            let submission = try body.domain()
            _ = try await existing(ccrn)
            let amended = try await repository.amendConsignment(
                ccrn, to: submission, by: account, at: clock.now())
            return try JSONBody.response(ConsignmentBody(amended))
        }

        router.post("/v1/consignments/{ccrn}/withdraw") { request, context in
            let account = try await auth.account(for: request)
            try account.require([.shipper, .agent, .officer], to: "withdraw consignments")
            let ccrn = try context.parameters.parsed("ccrn") { raw throws(ValidationFailure) in
                try APIParse.reference(CCRN.self, raw)
            }
            _ = try await existing(ccrn)
            let withdrawn = try await repository.withdrawConsignment(ccrn, by: account, at: clock.now())
            return try JSONBody.response(ConsignmentBody(withdrawn))
        }
    }

    /// The consignment, or 404 naming the `ccrn` field.
    func existing(_ ccrn: CCRN) async throws -> Consignment {
        guard let found = try await repository.consignment(ccrn) else {
            throw Problem(
                .notFound, "CCRN \(ccrn) does not exist",
                issues: [
                    ValidationIssue(
                        field: "ccrn", rule: "ccrn.unknown", detail: "CCRN \(ccrn) does not exist")
                ])
        }
        return found
    }

    /// Parses the XML file (refused whole when malformed or over 999
    /// records), stores the well-formed records through the store's batch
    /// call (each accepted or refused on its own), and reports every record
    /// in file order.
    func submitBatch(_ request: Request, by account: Account) async throws -> BatchResultBody {
        try JSONBody.requireMediaType(request, accepted: ["application/xml", "text/xml"], suffix: "+xml")
        let buffer = try await JSONBody.collect(request, limit: limits.batchBody)
        guard buffer.readableBytes > 0 else {
            throw Problem(.malformed, "the request body is empty; send a batch XML file")
        }
        let records = try BatchXML.parse(Data(buffer.readableBytesView))
        let parsed = records.compactMap { record -> ConsignmentSubmission? in
            if case .success(let s) = record.result { return s }
            return nil
        }
        let stored = try await repository.submitBatch(parsed, by: account, at: clock.now())
        guard stored.count == parsed.count else {
            throw StoreError.incompatible(
                "the store answered \(stored.count) results for \(parsed.count) records")
        }
        var next = stored.makeIterator()
        var out: [BatchRecordBody] = []
        for record in records {
            var entry = BatchRecordBody(
                index: record.index, senderReference: record.senderReference, outcome: "refused", errors: [])
            switch record.result {
            case .failure(let failure):
                entry.errors = failure.issues.map(IssueBody.init)
            case .success:
                switch next.next()! {
                case .accepted(let c):
                    entry.outcome = "accepted"
                    entry.ccrn = c.ccrn.value
                    entry.validUntil = c.validUntil.description
                case .refused(let issues):
                    entry.errors = issues.map(IssueBody.init)
                }
            }
            out.append(entry)
        }
        let accepted = out.filter { $0.outcome == "accepted" }.count
        return BatchResultBody(accepted: accepted, refused: out.count - accepted, records: out)
    }
}
