import AnyJSON
import ArgumentParser
import Foundation
import LaneControl

/// Import into Hong Kong or export out of it.
enum DirectionName: String, CaseIterable, ExpressibleByArgument {
    case `import`, export
}

/// The boundary control points, as the API spells them.
enum ControlPointName: String, CaseIterable, ExpressibleByArgument {
    case LMC, MKT, STK, SBC, HYW, HZM
}

/// A CCRN or UBR: ten digits. The check digit is clearanced's to judge, so
/// its answer names the rule; this only keeps a mistyped argument from
/// becoming a different URL.
func checkReference(_ value: String, _ name: String) throws {
    guard value.count == 10, value.allSatisfy({ $0.isASCII && $0.isNumber }) else {
        throw ValidationError("\(name) \(value): a \(name) is 10 digits, e.g. 2914973512")
    }
}

struct Submit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Submit a consignment (JSON) or a batch file (XML) as a shipper or agent.",
        discussion: """
            A JSON file holds one consignment in the API's Submission form (docs/openapi.yaml); \
            an XML file is a batch of 1 to 999 (docs/batch/). Which one is told from the \
            first character. A batch prints a line per record and exits 1 if any was refused.
            """)

    @Argument(
        help: "The consignment (.json) or batch (.xml) file.", completion: .file(extensions: ["json", "xml"]))
    var file: String

    @OptionGroup var central: CentralOptions

    func run() async throws {
        guard let data = FileManager.default.contents(atPath: file) else {
            let missing = !FileManager.default.fileExists(atPath: file)
            throw Failure(.noInput, "cannot read \(file): \(missing ? "no such file" : "permission denied")")
        }
        let first = data.first { ![0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains($0) }
        let client = try central.client()
        switch first {
        case UInt8(ascii: "<"):
            let result = try await client.send(
                "POST", "/v1/consignments/batch", body: .init(data: data, contentType: "application/xml"))
            central.show(result, CentralTables.batch)
            let refused = result["refused"]?.integer ?? 0
            if refused > 0 {
                let total = result["records"]?.array?.count ?? 0
                throw Failure(.refused, "\(refused) of \(total) records in \(file) refused")
            }
        case UInt8(ascii: "{"):
            guard let submission = JSONValue.parse(data) else {
                throw Failure(.dataError, "\(file) is not valid JSON: \(Self.jsonError(data))")
            }
            let result = try await client.send("POST", "/v1/consignments", body: .json(submission))
            central.show(result, CentralTables.consignment)
        default:
            throw Failure(
                .dataError, "\(file) is neither a JSON consignment ('{' first) nor an XML batch ('<' first)")
        }
    }

    static func jsonError(_ data: Data) -> String {
        do {
            _ = try JSONSerialization.jsonObject(with: data)
            return "unknown reason"
        } catch {
            return (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
        }
    }
}

struct BundleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle",
        abstract:
            "Bundle consignments with a vehicle as its driver; prints the UBR and the earliest crossing.")

    @Option(help: "The vehicle's registration, e.g. 'VRN 0912'.")
    var vrn: String

    @Option(help: "import or export.")
    var direction: DirectionName

    @Option(help: "The driver's name as on the licence.")
    var driver: String

    @Option(help: "The control point the vehicle will cross at (LMC, MKT, STK, SBC, HYW, HZM).")
    var controlPoint: ControlPointName?

    @Argument(help: "The consignments' CCRNs.")
    var ccrns: [String]

    @OptionGroup var central: CentralOptions

    func validate() throws {
        guard !ccrns.isEmpty else { throw ValidationError("give at least one CCRN to bundle") }
        for ccrn in ccrns { try checkReference(ccrn, "CCRN") }
    }

    func run() async throws {
        var request: [String: JSONValue] = [
            "driverName": .string(driver), "vrn": .string(vrn), "direction": .string(direction.rawValue),
            "ccrns": .array(ccrns.map { .string($0) }),
        ]
        if let controlPoint { request["expectedControlPoint"] = .string(controlPoint.rawValue) }
        let bundle = try await central.client().send("POST", "/v1/bundles", body: .json(.object(request)))
        central.show(bundle, CentralTables.bundle)
    }
}

struct Debundle: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "End an active, unused bundle and free its consignments.")

    @Argument(help: "The bundle's UBR.")
    var ubr: String

    @OptionGroup var central: CentralOptions

    func validate() throws { try checkReference(ubr, "UBR") }

    func run() async throws {
        let bundle = try await central.client().send("POST", "/v1/bundles/\(ubr)/debundle")
        central.show(bundle, CentralTables.bundle)
    }
}

struct Enquire: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Look up a consignment by CCRN, a bundle by UBR, or a vehicle's bundles by VRN.")

    /// What the value names.
    enum Kind: String, CaseIterable, ExpressibleByArgument {
        case ccrn, ubr, vrn
    }

    @Argument(help: "ccrn, ubr or vrn.")
    var kind: Kind

    @Argument(help: "The CCRN, UBR or VRN.")
    var value: String

    @OptionGroup var central: CentralOptions

    func validate() throws {
        switch kind {
        case .ccrn: try checkReference(value, "CCRN")
        case .ubr: try checkReference(value, "UBR")
        case .vrn:
            if value.trimmingCharacters(in: .whitespaces).isEmpty {
                throw ValidationError("the VRN is empty; give the plate, e.g. 'VRN 0912'")
            }
        }
    }

    func run() async throws {
        let client = try central.client()
        switch kind {
        case .ccrn:
            central.show(try await client.send("GET", "/v1/consignments/\(value)"), CentralTables.consignment)
        case .ubr:
            central.show(try await client.send("GET", "/v1/bundles/\(value)"), CentralTables.bundle)
        case .vrn:
            let list = try await client.send(
                "GET", "/v1/bundles", query: [URLQueryItem(name: "vrn", value: value)])
            central.show(list) { CentralTables.bundles($0, vrn: value) }
        }
    }
}
